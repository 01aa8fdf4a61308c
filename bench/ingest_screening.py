"""Where ingest with screening spends its time (issue 15, item 7): CPU per message, part by part.

    python bench/ingest_screening.py                 # 20k of the demo's generated messages
    python bench/ingest_screening.py --messages 100000 --repeat 3

The messages are bench/scale.py's (the demo's generator, seed 1, poll batches of 200) and the
screening the demo's (spam, priority, its rules). Each part runs alone over all the messages, in
the order ingest runs them, and is timed in CPU seconds of this process (`time.process_time`,
every thread counted): wall-clock rates on a shared 2-core machine say more about the
neighbours than about the code. Parts:
- language detection (`engine.with_languages`, messages from outside only);
- screening (`Screener.assess_batch` over each batch, as the store's judging thread calls it), and
  inside it, each check alone: fold + MinHash, the repeat memory, spam, priority, rules;
- the whole ingest as bench/scale.py's row does it (language detection, then
  `SQLiteStore.ingest` with screening attached, into a fresh store), and the store alone (the
  same ingest without screening nor language detection): CPU and wall clock.
The best of `--repeat` runs is printed for each part.

    python bench/ingest_screening.py --overlap [--messages 20000]   # do 2 cores gain?

runs the whole ingest twice over the same polls, taking turns: as today (language detection, then
the store's ingest with screening attached: each poll judged, then written), and overlapped (a
worker process detects the languages of poll N+1 and screens it, its own `Screener` keeping the
repeat memory in order, while this process writes poll N with the store alone; the assessments
come back pickled). The overlapped write does not store the verdicts (the store takes no
assessments from outside): it is the bound two processes could reach, not a working ingest.

    python bench/ingest_screening.py --verdicts FILE     # every verdict and language, for `cmp`

writes, one JSON line a message, what screening and language detection answered (spam or not, score,
reasons, signals, priority, rule actions, language) on the train/dev sources of the protocol in
bench/README.md (the project's train and test splits, the four training videos, CDP dev's client
turns; never the untouched video) and on `--messages` of the demo's traffic: run it before and
after a change and compare the files (a speed-up must leave them byte for byte the same).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.config import Settings, parse_config
from ecoinbox.demo.generate import BATCH, DEFAULT_END, batches, make_plan
from ecoinbox.demo.generate import messages as generated
from ecoinbox.demo.runner import DEMO_CANNED, DEMO_RULES
from ecoinbox.engine.engine import with_languages
from ecoinbox.language import detect_language
from ecoinbox.model import Message
from ecoinbox.screening._text import fold_text, minhash, minhashes
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.priority import score_priority
from ecoinbox.store import open_store

DEMO_KINDS = {"mastodon": "mastodon", "bluesky": "bluesky", "forum": "discourse", "email": "email",
              "reddit": "reddit", "blog": "wordpress"}  # fmt: skip
"""The kind of each of the demo's channels (its generated messages carry the channel's name)."""
TARGET = 20_000  # messages a second: the budget for the whole ingest


def demo_settings() -> Settings:
    return parse_config(f'[brand]\nname = "Acme"\nkeywords = ["acme"]\n{DEMO_RULES}\n{DEMO_CANNED}')


def cpu(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def parts(polls: Sequence[list[Message]], settings: Settings) -> dict[str, float]:
    """CPU seconds of each part over all the messages."""
    inbound = [m for poll in polls for m in poll if not m.is_ours]
    out: dict[str, float] = {}
    out["language detection"] = cpu(lambda: [with_languages(poll) for poll in polls])
    screener = Screener.from_settings(settings)
    out["screening (assess_batch)"] = cpu(
        lambda: [list(screener.assess_batch([m for m in poll if not m.is_ours])) for poll in polls]
    )
    folded = [fold_text(m.text) for m in inbound]
    texts = [m.text for m in inbound]
    out["  fold + MinHash (a poll at once)"] = cpu(
        lambda: [minhashes(texts[i : i + BATCH], list(map(fold_text, texts[i : i + BATCH])))
                 for i in range(0, len(texts), BATCH)]
    )  # fmt: skip
    signatures = [minhash(m.text, folded=f) for m, f in zip(inbound, folded, strict=True)]
    fresh = Screener.from_settings(settings)
    out["  repeat memory"] = cpu(
        lambda: [fresh.context(m, signature=s) for m, s in zip(inbound, signatures, strict=True)]
    )
    spam = Screener.from_settings(settings).spam_filter
    out["  spam"] = cpu(
        lambda: [spam.check(m, signature=s) for m, s in zip(inbound, signatures, strict=True)]
    )
    out["  priority"] = cpu(lambda: [score_priority(m.text) for m in inbound])
    rules = screener.rules
    out["  rules"] = cpu(lambda: [[rule.matches(m) for rule in rules] for m in inbound])
    return out


def whole_ingest(polls: Sequence[list[Message]], settings: Settings | None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of bench/scale.py's ingest row over `polls`; without screening
    nor language detection when `settings` is None (the store alone)."""

    async def run(path: Path) -> tuple[float, float]:
        store = await open_store(path, clock=lambda: DEFAULT_END)
        if settings is not None:
            await store.attach_screener(Screener.from_settings(settings))
        spent_cpu = spent_wall = 0.0
        try:
            for poll in polls:
                wall, started = time.perf_counter(), time.process_time()
                await store.ingest(with_languages(poll) if settings is not None else poll)
                spent_cpu += time.process_time() - started
                spent_wall += time.perf_counter() - wall
        finally:
            await store.close()
        return spent_cpu, spent_wall

    with tempfile.TemporaryDirectory(prefix="ecoinbox-ingest-screening-") as where:
        return asyncio.run(run(Path(where) / "inbox.db"))


def overlapped(polls: Sequence[list[Message]], settings: Settings) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of the overlapped ingest (see the docstring);
    the worker screens as `demo_settings` says (`settings` is for `sequential`'s signature)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
    ours, theirs = context.Pipe()
    worker = context.Process(target=_screen_polls, args=(theirs,), daemon=True)
    worker.start()
    ours.recv()  # the worker has loaded its models: its start is not counted

    async def run(path: Path) -> tuple[float, float]:
        store = await open_store(path, clock=lambda: DEFAULT_END)
        wall, started = time.perf_counter(), time.process_time()
        try:
            ours.send(polls[0])
            for index, poll in enumerate(polls):
                judged = ours.recv()  # poll `index`, languages and assessments
                if index + 1 < len(polls):
                    ours.send(polls[index + 1])  # judged while this one is written
                await store.ingest(judged[0])
        finally:
            await store.close()
        return time.perf_counter() - wall, time.process_time() - started

    try:
        with tempfile.TemporaryDirectory(prefix="ecoinbox-ingest-overlap-") as where:
            return asyncio.run(run(Path(where) / "inbox.db"))
    finally:
        ours.send(None)
        worker.join()


def _screen_polls(connection: Any) -> None:
    """The worker of `overlapped`: each poll it receives comes back with its languages and
    its inbound messages' assessments, in order (the demo's screening, as `demo_settings`)."""
    settings = demo_settings()
    screener = Screener.from_settings(settings)
    detect_language("the language model loads here, once")
    list(Screener.from_settings(settings).assess_batch([]))
    connection.send("ready")
    while (poll := connection.recv()) is not None:
        found = with_languages(poll)
        connection.send((found, list(screener.assess_batch([m for m in found if not m.is_ours]))))


def sequential(polls: Sequence[list[Message]], settings: Settings) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the ingest as the engine does it today."""
    cpu_s, wall_s = whole_ingest(polls, settings)
    return wall_s, cpu_s


def dev_sources(shared: Path) -> dict[str, list[Message]]:
    """The protocol's train/dev sources (bench/README.md), each in posting order; the untouched
    video is never read."""
    from train_spam import TRAIN_VIDEOS, load_cdp, load_velora, load_youtube

    out = {split: [e.message for e in load_velora(split)] for split in ("train", "test")}
    for video in TRAIN_VIDEOS:
        out[video] = [e.message for e in load_youtube(shared / "spam" / "youtube-spam-collection", video)]
    out["cdp"] = [e.message for e in load_cdp(shared / "cdp" / "dev.json")]
    return out


def verdicts(path: Path, messages: int, seed: int, shared: Path) -> int:
    """Write every assessment and language (see the module's docstring); returns how many."""
    import json

    from train_spam import BRAND, KINDS, OWN_DOMAINS

    from ecoinbox.screening.spam import SpamFilter

    def line(source: str, message: Message, assessment: Any, found: str | None) -> str:
        verdict, priority = assessment.verdict, assessment.priority
        record = [
            source, message.remote_id, verdict.is_spam, repr(verdict.score), list(verdict.reasons),
            [[s.name, repr(s.weight), s.reason] for s in verdict.signals], priority.urgent,
            repr(priority.score), list(priority.reasons), priority.tone,
            [f"{action}|{action.rule}" for action in assessment.actions], found,
        ]  # fmt: skip
        return json.dumps(record, ensure_ascii=False) + "\n"

    count = 0
    with path.open("w", encoding="utf-8") as out:
        for source, texts in dev_sources(shared).items():
            screener = Screener(SpamFilter(brand_names=BRAND, own_domains=OWN_DOMAINS, kinds=KINDS))
            found = with_languages(texts)
            for message, assessment, seen in zip(texts, screener.assess_batch(texts), found, strict=True):
                out.write(line(source, message, assessment, seen.language))
                count += 1
        screener = Screener.from_settings(demo_settings())
        screener.spam_filter.kinds = DEMO_KINDS  # the demo's channels, which demo_settings leaves out
        for poll in batches(generated(make_plan(messages, seed, DEFAULT_END), seed), BATCH):
            theirs = [m for m in with_languages(poll) if not m.is_ours]
            for message, assessment in zip(theirs, screener.assess_batch(theirs), strict=True):
                out.write(line("demo", message, assessment, message.language))
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each part; the best is shown")
    parser.add_argument("--verdicts", type=Path, help="write every verdict and language to this file")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data",
                        help="../shared/data (the YouTube Spam Collection, CDP dev)")  # fmt: skip
    parser.add_argument("--overlap", action="store_true",
                        help="the ingest as today against judging poll N+1 in a worker process")  # fmt: skip
    args = parser.parse_args(argv)
    if args.overlap:
        return overlap_report(args.messages, args.seed, args.repeat)
    if args.verdicts is not None:
        sys.path.insert(0, str(ROOT / "bench"))
        written = verdicts(args.verdicts, args.messages, args.seed, args.shared)
        print(f"{written:,} messages written to {args.verdicts}")
        return 0
    settings = demo_settings()
    polls = list(batches(generated(make_plan(args.messages, args.seed, DEFAULT_END), args.seed), BATCH))
    total = sum(len(poll) for poll in polls)
    inbound = sum(1 for poll in polls for m in poll if not m.is_ours)
    detect_language("the language model loads here, once")
    list(Screener.from_settings(settings).assess_batch(polls[0][:1]))  # the spam model loads here, once
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, seconds in parts(polls, settings).items():
            best[name] = min(best.get(name, seconds), seconds)
    runs = [whole_ingest(polls, settings) for _ in range(args.repeat)]
    alone = [whole_ingest(polls, None) for _ in range(args.repeat)]
    whole_cpu, whole_wall = min(run[0] for run in runs), min(run[1] for run in runs)
    alone_cpu, alone_wall = min(run[0] for run in alone), min(run[1] for run in alone)
    best["the store alone (ingest without screening or language detection)"] = alone_cpu
    best["the whole ingest (scale.py's row)"] = whole_cpu
    print(f"{total:,} messages ({inbound:,} from outside, the ones language detection and screening read)")
    print()
    print("| part | µs CPU per message from outside | µs CPU per message |")
    print("|---|---:|---:|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds / inbound * 1e6:,.1f} | {seconds / total * 1e6:,.1f} |")
    print()
    print(f"whole ingest: {total / whole_cpu:,.0f} messages per CPU second, {total / whole_wall:,.0f} per "
          f"second of wall clock; the store alone: {total / alone_cpu:,.0f} and {total / alone_wall:,.0f} "
          f"(budget {TARGET:,} msg/s: {1e6 / TARGET:.0f} µs of CPU a message for everything)")  # fmt: skip
    print(f"(the machine's load: sum(range(1000)) took {calibration():.1f} µs in this run)")
    return 0


def overlap_report(messages: int, seed: int, repeat: int) -> int:
    settings = demo_settings()
    polls = list(batches(generated(make_plan(messages, seed, DEFAULT_END), seed), BATCH))
    total = sum(len(poll) for poll in polls)
    detect_language("the language model loads here, once")
    list(Screener.from_settings(settings).assess_batch(polls[0][:1]))
    print(f"{total:,} messages; wall msg/s (this process's CPU µs per message), taking turns:")
    for _ in range(repeat):
        for name, run in (("today", sequential), ("overlapped", overlapped)):
            wall, cpu_s = run(polls, settings)
            load = os.getloadavg()[0]
            print(f"  {name}: {total / wall:,.0f} msg/s ({cpu_s / total * 1e6:,.1f} µs CPU), load {load:.1f}")
    return 0


def calibration() -> float:
    """Microseconds for a fixed piece of pure Python: how loaded the machine is right now."""
    start = time.perf_counter()
    for _ in range(200):
        sum(range(1000))
    return (time.perf_counter() - start) / 200 * 1e6


if __name__ == "__main__":
    raise SystemExit(main())
