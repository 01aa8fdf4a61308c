"""Broken environments made on purpose: damaged store files, a disk that fills up, a terminal."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import resource
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecoinbox.model import Author, Message, View
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def message(i: int, *, text: str | None = None) -> Message:
    author = Author("mastodon", str(i % 7), f"person{i % 7}@remote.example", f"Person {i % 7} Zoé")
    return Message("mastodon", str(1000 + i), author, text or f"@acme message {i} " + "é" * 300,
                   T0 + timedelta(minutes=i))  # fmt: skip


async def fill_store(path: Path, *, conversations: int = 120, cursor: str | None = "before") -> int:
    """A store of some pages with a queued reply (and a cursor); returns the replied conversation."""
    store = await open_store(path)
    try:
        saved = None if cursor is None else ("mastodon", {"since": cursor})
        await store.ingest([message(i) for i in range(conversations)], cursor=saved)
        (row,) = await store.conversation_page(View.INBOX, limit=1)
        thread = await store.conversation(row.id)
        await store.queue_reply(row.id, thread.messages[-1].message, "@person sorry, we are on it")
        return row.id
    finally:
        await store.close()  # the last connection copies the WAL into the file and removes it


def page_of(path: Path, table: str) -> tuple[int, int]:
    """(offset, size) of the b-tree page at the root of `table`."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    return (root - 1) * size, size


def break_page(path: Path, table: str) -> None:
    """Overwrite the header of `table`'s root b-tree page (its page type, cell count...)."""
    offset, _ = page_of(path, table)
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(b"\xff" * 12)


def break_schema(path: Path, table: str) -> None:
    """Overwrite a few bytes of `table`'s CREATE statement in the schema (sqlite_master) with
    bytes that are not UTF-8, as a broken disk sector would."""
    data = bytearray(path.read_bytes())
    at = data.index(f"CREATE TABLE {table}".encode())
    data[at + 7 : at + 12] = b"\xff" * 5
    path.write_bytes(bytes(data))


def truncate_in_the_middle(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def full_disk(limit_bytes: int):  # type: ignore[no-untyped-def]
    """No file of this process may grow past `limit_bytes` from now on: writes fail with EFBIG, as
    on a full disk (SIGXFSZ ignored, so they fail instead of killing it). Works without root; as
    a preexec_fn, leave room for the store's 32 KB shared-memory index."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return limit


def ecoinbox_cli(  # type: ignore[no-untyped-def]
    *args: str, env: dict | None = None, preexec_fn=None, timeout: float = 60
):
    """The real CLI in a child process, its output captured (so: not on a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "ecoinbox.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, preexec_fn=preexec_fn, check=False,
    )  # fmt: skip


_ESCAPES = re.compile(r"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class Terminal:
    """The real CLI on a pseudo-terminal of a given size: what a manager's terminal would show."""

    def __init__(
        self, *args: str, env: dict | None = None, size: tuple[int, int] = (100, 30), code: str | None = None
    ) -> None:
        """`code`: Python to run instead of `-m ecoinbox.cli` (it sees `args` in sys.argv)."""
        master, slave = pty.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, *(["-c", code] if code else ["-m", "ecoinbox.cli"]), *args],
            stdin=slave, stdout=slave, stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", **(env or {})}, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.raw = b""

    def read(self, timeout: float = 0.1) -> None:
        while select.select([self.master], [], [], timeout)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            self.raw += chunk
            timeout = 0.05

    @property
    def text(self) -> str:
        """What was written, escape sequences removed."""
        return _ESCAPES.sub("", self.raw.decode("utf-8", "replace"))

    def wait_for(self, words: str, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read()
            if words in self.text:
                return True
            if self.process.poll() is not None:
                self.read()
                return words in self.text
        return False

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, timeout: float = 20.0) -> int:
        """The exit code, once the child is gone (killed if it does not go)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read()
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        self.read()
        os.close(self.master)
        return code
