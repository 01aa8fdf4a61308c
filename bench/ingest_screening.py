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
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each part; the best is shown")
    args = parser.parse_args(argv)
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


def calibration() -> float:
    """Microseconds for a fixed piece of pure Python: how loaded the machine is right now."""
    start = time.perf_counter()
    for _ in range(200):
        sum(range(1000))
    return (time.perf_counter() - start) / 200 * 1e6


if __name__ == "__main__":
    raise SystemExit(main())
