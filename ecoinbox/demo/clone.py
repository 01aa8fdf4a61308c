"""The demo's own store from a generated one, in well under a second, leaving the generated one as made.

A generated store is 40 MB at 100k messages and 480 MB at a million: copying it at each launch
took seconds. `clone_store` takes, in this order:

1. a copy-on-write clone (the FICLONE ioctl, what `cp --reflink` does) where the filesystem has
   one (Btrfs, XFS, bcachefs, ZFS 2.2): instant, and only the pages the demo writes take room;
2. a spare copy made ahead (ext4 and the rest have no clone): the last demo left one in the
   cache directory, and taking it is a rename;
3. a plain copy, the first time.

After 2 or 3, `SpareMaker` copies the next spare beside the running demo, once its first rows
are on screen; a demo quit during that copy finishes it first (a second or so at a million
messages). A copy stopped halfway is deleted, never taken.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import shutil
import threading
from enum import Enum
from pathlib import Path

FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h: clone a whole file
SPARE_STEP = 16 * 2**20  # bytes copied between two looks at the stop flag
SPARE_DELAY_S = 3.0  # the spare waits for the demo's first rows: the start has the disk to itself


class Cloned(Enum):
    """How the demo's store was made from the generated one."""

    REFLINK = "a copy-on-write clone"
    SPARE = "the spare copy made by the last demo"
    COPY = "a full copy"


def spare_path(base: Path, spares: Path) -> Path:
    """Where the spare copy of `base` lives: named after the file and the version of it (size and
    time of its last change), so a regenerated or edited store never gets an old spare."""
    stat = base.stat()
    key = f"{base.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return spares / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.db"


def reflink(source: Path, target: Path) -> bool:
    """Clone `source` into a new `target` (copy-on-write); False where the filesystem cannot."""
    with open(source, "rb") as src, open(target, "xb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return True
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS):
                target.unlink(missing_ok=True)
                return False
            raise


def clone_store(base: Path, target: Path, spares: Path) -> Cloned:
    """Make `target` (which must not exist) a private, writable copy of the store at `base`."""
    if reflink(base, target):
        return Cloned.REFLINK
    spare = spare_path(base, spares)
    try:
        os.replace(spare, target)  # one rename: two demos started together cannot both take it
        return Cloned.SPARE
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # the demo's directory on another filesystem: copy instead
            raise
    shutil.copyfile(base, target)
    return Cloned.COPY


class SpareMaker:
    """Copies the next spare of `base` in a thread, stoppable between steps."""

    def __init__(self, base: Path, spares: Path, *, delay: float | None = None) -> None:
        self.base = base
        self.spares = spares
        self.delay = SPARE_DELAY_S if delay is None else delay
        self.copying = False
        self._stop = threading.Event()

    async def run(self) -> Path | None:
        """The spare once made; None if stopped first (or a spare is already there). Cancelled
        while it copies, the copy stops at its next step."""
        await asyncio.sleep(self.delay)
        self.copying = True
        try:
            return await asyncio.to_thread(self._make)
        finally:
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()

    def make_now(self) -> Path | None:
        """Copy the spare in this thread (after generating a store: the first demo starts at once)."""
        return self._make()

    def _make(self) -> Path | None:
        self.spares.mkdir(parents=True, exist_ok=True, mode=0o700)
        spare = spare_path(self.base, self.spares)
        if spare.exists():
            return None
        partial = spare.with_name(f"{spare.stem}.{os.getpid()}.partial")
        try:
            if not self._copy(partial):
                return None
            os.chmod(partial, 0o600)
            os.replace(partial, spare)
            return spare
        finally:
            partial.unlink(missing_ok=True)

    def _copy(self, partial: Path) -> bool:
        with open(self.base, "rb") as src, open(partial, "wb") as dst:
            size = os.fstat(src.fileno()).st_size
            done = 0
            while done < size:
                if self._stop.is_set():
                    return False
                done += _copy_step(src.fileno(), dst.fileno(), done, min(SPARE_STEP, size - done))
            return True


def _copy_step(src: int, dst: int, offset: int, count: int) -> int:
    """Copy `count` bytes at `offset` in the kernel (no trip through Python's memory)."""
    try:
        copied = os.copy_file_range(src, dst, count, offset, offset)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        os.lseek(dst, offset, os.SEEK_SET)  # an older kernel, or two filesystems: sendfile does it
        copied = os.sendfile(dst, src, offset, count)
    if copied == 0:
        raise OSError(errno.EIO, "the generated store got shorter while it was copied")
    return copied
