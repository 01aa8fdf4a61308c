"""How many conversations get priority's `!` (issue 15, item 5): at most about 15%.

Priority's `!` means "a manager handles this first" (money, access, safety, an outage, waiting
long: `ecoinbox/screening/priority.py`). This prints `!` against the labelled examples' `kind`
(tests/data/screening, train and test split) and the share of conversations marked on the demo's
seeded traffic and on the client turns of ../shared/data/cdp/dev.json. `bench/screening.py` prints
the same at its end.

    python bench/priority_share.py
    ECOINBOX_CDP_DATA=DIR python bench/priority_share.py   # ../shared/data/cdp is elsewhere
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.screening.priority import score_priority

DATA = ROOT / "tests" / "data" / "screening"
# Where ../shared/data/cdp is, when the repository is not next to it (a git worktree elsewhere).
CDP_DEV = Path(os.environ.get("ECOINBOX_CDP_DATA", ROOT.parent / "shared" / "data" / "cdp")) / "dev.json"
HIGH_SHARE = 0.15
"""About this many conversations at most may get `!`: a queue where everything is first has none."""


async def demo_priority_share() -> tuple[int, int]:
    """(conversations with `!`, conversations) once the demo's seeded traffic is polled with the
    demo's config and screening, as `ecoinbox demo` shows it. Every conversation counts, Spam's too:
    the share must not depend on what the spam filter hides."""
    import sqlite3
    import tempfile

    from ecoinbox.cli import attach_screener, build_engine, resolve_tokens
    from ecoinbox.config import load_config
    from ecoinbox.demo.runner import Demo
    from ecoinbox.store import open_store

    with tempfile.TemporaryDirectory(prefix="ecoinbox-priority-") as folder:
        async with Demo(data_dir=Path(folder), traffic=False) as demo:
            settings = load_config(demo.config_path)
            store = await open_store(settings.data_path)
            await attach_screener(store, settings)
            engine = build_engine(settings, await asyncio.to_thread(resolve_tokens, settings), store)
            try:
                await engine.poll_all_once()
            finally:
                await engine.stop()
                await store.close()
        with contextlib.closing(sqlite3.connect(settings.data_path)) as db:
            rows = db.execute("SELECT priority > 0 FROM conversations").fetchall()
    return sum(high for (high,) in rows), len(rows)


def conversation_is_high(turns: list[dict[str, str]]) -> bool:
    """`!` on a CDP conversation as the store sets it: the client's first message decides, one
    after the brand's answer decides afresh, one more while they wait can only raise it."""
    high: bool | None = None
    answered = False
    for turn in turns:
        if "client" not in turn:
            answered = high is not None
            continue
        urgent = score_priority(turn["message"]).urgent
        high = urgent if high is None or answered else high or urgent
        answered = False
    return bool(high)


def cdp_priority_share(path: Path = CDP_DEV) -> dict[str, tuple[int, int]]:
    """Per brand, (conversations with `!`, conversations) on the client turns of CDP's dev split."""
    shares: dict[str, tuple[int, int]] = {}
    for item in json.loads(path.read_text(encoding="utf-8")):
        brand = item["dialogHeader"]["company"]
        high, total = shares.get(brand, (0, 0))
        shares[brand] = (high + conversation_is_high(item["dialogContent"]), total + 1)
    return shares


@dataclass(frozen=True, slots=True)
class Counts:
    """`!` against a truth: true positives, false positives, false negatives."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def kind_scores(split: str) -> Counts:
    """`!` against the labelled examples' `kind` (money, access, safety, outage, waiting): what a
    manager handles first, a narrower question than their `label` (see tests/data/screening)."""
    pairs = []
    for line in (DATA / f"priority.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        pairs.append((bool(record.get("kind")), score_priority(record["text"]).urgent))
    return Counts(
        sum(t and p for t, p in pairs), sum(p and not t for t, p in pairs), sum(t and not p for t, p in pairs)
    )


def print_priority_share() -> None:
    """The share of conversations with `!` on the demo and on CDP's dev split (at most ~15%)."""
    for split in ("train", "test"):
        kinds = kind_scores(split)
        print(
            f"    priority `!` against `kind` on the {split} split: precision {kinds.precision:.3f}, "
            f"recall {kinds.recall:.3f} (TP {kinds.tp}, FP {kinds.fp}, FN {kinds.fn})"
        )
    high, total = asyncio.run(demo_priority_share())
    share = f"{high} of {total} conversations ({high / total:.1%})"
    print(f"\n    priority `!` on the demo: {share}")
    if not CDP_DEV.exists():
        print(f"    priority on CDP dev: {CDP_DEV} not found")
        return
    shares = cdp_priority_share()
    high = sum(h for h, _ in shares.values())
    total = sum(t for _, t in shares.values())
    print(f"    priority `!` on CDP dev (client turns): {high} of {total} conversations ({high / total:.1%})")
    busiest = sorted(shares.items(), key=lambda item: -item[1][0] / item[1][1])[:5]
    print("      most marked brands: " + ", ".join(f"{b} {h}/{t}" for b, (h, t) in busiest))


if __name__ == "__main__":
    print_priority_share()
