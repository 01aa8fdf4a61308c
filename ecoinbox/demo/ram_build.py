"""A generated store built in RAM, then copied to the disk once (issue 16, goal 7).

A generated store can be made again from its seed, so it needs none of the live store's
durability while it is built. Built in place, SQLite's WAL writes every page at least twice and
each commit of a batch rewrites the pages it touches: 12 times the store's size at 100k messages,
28 at a million. Built in /dev/shm (when it has room) and copied once, synced, the disk gets the
store's own size. Used by `ecoinbox demo --messages N` and bench/generate.py.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from ecoinbox.demo.generate import BATCH, DEFAULT_END, Made, generate, manifest

__all__ = ["RAM", "build_store", "copy_synced", "ram_dir"]

RAM = Path("/dev/shm")
BYTES_PER_MESSAGE = 700  # a generated store holds about 480 B a message at 1M: room to spare
WAL_ROOM = 128 * 2**20  # the WAL between checkpoints and what a checkpoint keeps


def ram_dir(messages: int) -> Path | None:
    """A RAM-backed folder with room for a store of this size, or None."""
    ram = RAM
    if not ram.is_dir() or not os.access(ram, os.W_OK):
        return None
    needed = messages * BYTES_PER_MESSAGE + WAL_ROOM
    return ram if shutil.disk_usage(ram).free > 2 * needed else None


def copy_synced(source: Path, target: Path) -> None:
    """`source` to `target` in one pass, on the disk before it takes its name."""
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    shutil.copymode(source, partial)  # the store's own 0600: it holds people's messages
    with partial.open("rb") as copied:
        os.fsync(copied.fileno())
    partial.replace(target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


async def build_store(
    out: Path,
    messages: int,
    seed: int,
    *,
    end: datetime = DEFAULT_END,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    in_place: bool = False,
) -> tuple[Made, str]:
    """Generate the store at `out` (it must not exist) with its manifest beside it, in RAM when
    there is room (unless `in_place`); the second value says where it was built: "ram" or "place"."""
    if out.exists():
        raise SystemExit(f"{out} exists: generate writes a new store only")
    scratch = None if in_place else ram_dir(messages)
    if scratch is None:
        return await generate(out, messages, seed, end=end, batch=batch, progress=progress), "place"
    with tempfile.TemporaryDirectory(dir=scratch, prefix="ecoinbox-build-") as folder:
        built = Path(folder) / out.name
        made = await generate(built, messages, seed, end=end, batch=batch, progress=progress)
        if any(Path(f"{built}{suffix}").exists() for suffix in ("-wal", "-journal")):
            raise SystemExit(f"{built} kept a journal after it was closed: not copied")
        copy_synced(built, out)
    made.path = str(out)
    manifest(out).write_text(json.dumps(asdict(made), indent=2) + "\n", encoding="utf-8")
    return made, "ram"
