"""Realistic ecoinbox stores at any scale, deterministic by seed: the command line.

    python bench/generate.py --messages 1000000 --seed 1 --out /tmp/bench/1m.db
    python bench/generate.py --messages 1000000 --out /tmp/bench/1m.db --in-place   # no RAM build

The generator itself is `ecoinbox.demo.generate` (the demo builds its big stores with it):
this file runs it and lets bench/scale.py `import generate` as before.

A benchmark store is a build that can be redone from its seed, so it needs none of the live
store's durability while it is built: it is built in RAM (/dev/shm, when it has room) through the
store's real ingest, WAL and all, then copied to `--out` once and synced. Built in place, the
WAL writes every page at least twice and each commit of 200 messages rewrites the pages it
touches (the unique index's random mail ids, the conversations it updates, the search index's
merges): 12x the store's size at 100k, 28x at 1M. The bytes the builder wrote
(/proc/self/io write_bytes: what reached the disk's queue, the copy included) go in the
manifest, beside the store's size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.demo.generate import (  # noqa: F401
    BATCH,
    BIG_THREAD,
    DEFAULT_END,
    GENERATOR_VERSION,
    Made,
    generate,
    manifest,
)
from ecoinbox.demo.ram_build import RAM, build_store, copy_synced, ram_dir  # noqa: F401


def write_bytes() -> int:
    """Bytes this process has sent towards the disk so far (0 where /proc has no io file)."""
    try:
        lines = Path("/proc/self/io").read_text(encoding="ascii").splitlines()
    except OSError:
        return 0
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    return int(fields.get("write_bytes", "0"))


def build(
    out: Path,
    messages: int,
    seed: int,
    *,
    end: datetime = DEFAULT_END,
    batch: int = BATCH,
    in_place: bool = False,
) -> Made:
    """Generate the store at `out` (it must not exist), in RAM when there is room, and write its
    manifest with what the build wrote."""
    before = write_bytes()
    made, where = asyncio.run(build_store(out, messages, seed, end=end, batch=batch, in_place=in_place))
    record = asdict(made) | {
        "built_in": where,
        "store_bytes": out.stat().st_size,
        "build_write_bytes": write_bytes() - before,
    }
    manifest(out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, required=True, help="how many messages (e.g. 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same store (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="the new store's path (must not exist)")
    parser.add_argument(
        "--end",
        default=DEFAULT_END.isoformat(),
        help="the newest message's day, ISO 8601, or 'now' (default %(default)s)",
    )
    parser.add_argument(
        "--batch", type=int, default=BATCH, help="messages per ingest call (default %(default)s)"
    )
    parser.add_argument("--in-place", action="store_true", help="build at --out itself, not in RAM first")
    args = parser.parse_args(argv)
    end = datetime.now(UTC) if args.end == "now" else datetime.fromisoformat(args.end)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    made = build(args.out, args.messages, args.seed, end=end, batch=args.batch, in_place=args.in_place)
    record = json.loads(manifest(args.out).read_text(encoding="utf-8"))
    size, written = record["store_bytes"], record["build_write_bytes"]
    print(
        f"{made.path}: {made.messages:,} messages in {made.conversations:,} conversations, "
        f"{made.authors:,} authors; ingest {made.ingest_seconds:.1f} s ({made.ingest_rate:,.0f} msg/s), "
        f"triage {made.triage_seconds:.1f} s, total {made.total_seconds:.1f} s; built in "
        f"{record['built_in']}, wrote {written / 1e6:,.1f} MB for {size / 1e6:,.1f} MB "
        f"({written / size:.1f}x its size)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
