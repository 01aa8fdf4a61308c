"""The real `ecoinbox` CLI in a pseudo-terminal, against a local Mastodon server in a thread.

Shared by the tests that need the bytes a terminal gets (test_terminal_pty) or keys in one read,
as a network hands them over (test_key_bursts).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import ecoinbox
from ecoinbox.demo.mastodon.server import MastodonServer

_Server = TypeVar("_Server", bound=Any)


def inbox_argv(config: Path) -> list[str]:
    return [sys.executable, "-m", "ecoinbox.cli", "--config", str(config)]


def inbox_env(**extra: str) -> dict[str, str]:
    """The environment of the app under test: this tree's code, an xterm, no size override."""
    code = str(Path(ecoinbox.__file__).parents[1])  # the tested tree, not an installed copy
    env = {**os.environ, "TERM": "xterm-256color", **extra,
           "PYTHONPATH": os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))}  # fmt: skip
    for variable in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL"):
        env.pop(variable, None)
    return env


@contextlib.contextmanager
def mastodon_in_a_thread(token: str) -> Iterator[MastodonServer]:
    """The local server on its own loop: the app runs in another process and polls it."""
    with serving_in_a_thread(MastodonServer(seed=None, token=token)) as server:
        yield server


@contextlib.contextmanager
def serving_in_a_thread(server: _Server) -> Iterator[_Server]:
    """Any demo server (it has start, stop and base_url) on its own loop, in a thread: the code
    under test runs synchronously here, or in another process."""
    ready, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        await server.start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), f"the local {type(server).__name__} did not start"
    try:
        yield server
    finally:
        stop.set()
        thread.join(10)


class Terminal:
    """The app on the child side of a pty; a thread drains everything it writes."""

    def __init__(self, argv: list[str], env: dict[str, str], columns: int = 100, rows: int = 30) -> None:
        self.fd, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        # subprocess, not pty.fork: the server thread makes a bare fork unsafe.
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env,
                                        start_new_session=True)  # fmt: skip
        os.close(child)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            with self._lock:
                self.output.extend(data)

    def snapshot(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    def send(self, keys: str) -> int:
        """Type `keys`; returns how much output there was before, to wait for what follows."""
        mark = len(self.snapshot())
        os.write(self.fd, keys.encode())
        return mark

    @property
    def status(self) -> int | None:
        return self.process.poll()

    def exited(self) -> bool:
        return self.process.poll() is not None

    def wait_for(self, needle: bytes, *, after: int = 0, timeout: float = 15.0, what: str = "") -> None:
        """Wait until the app writes `needle` (past offset `after`); fail saying what it wrote."""
        deadline = time.monotonic() + timeout
        what = what or repr(needle)
        while needle not in self.snapshot()[after:]:
            if self.exited():
                raise AssertionError(f"the app exited ({self.status}) before {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} on the terminal within {timeout:g} s:\n{self.tail()}")
            time.sleep(0.02)

    def wait_exit(self, timeout: float = 15.0) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        return self.status

    def kill(self) -> None:
        """Always called: a hung app must not outlive the test."""
        if not self.exited():
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def tail(self, size: int = 1500) -> str:
        """The end of the output, escaped: printing it raw would drive the CI's terminal."""
        return repr(self.snapshot()[-size:])


def write_config(
    tmp_path: Path,
    base_url: str,
    *,
    token_env: str = "ECOINBOX_PTY_TOKEN",
    handle: str = "acme@social.example",
    extra_ui: str = "",
) -> Path:
    """The config of an inbox on one local Mastodon server, its store in `tmp_path`; the token
    comes from `token_env` (no keyring in a test)."""
    path = tmp_path / "config.toml"
    path.write_text(f"""
[brand]
name = "Acme"
handles = ["{handle}"]
[ui]
{extra_ui}
[store]
path = "{tmp_path / "inbox.db"}"
[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{base_url}"
account = "acme"
poll_interval = 3600
keyring = false
token_env = "{token_env}"
""", encoding="utf-8")  # fmt: skip
    return path
