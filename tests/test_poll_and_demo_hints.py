"""What the manager is told where they are: the headless poll gives the command to run (there is
no key to press), the demo says inside the inbox that email is left out, and stopping
`demo --servers-only` leaves the store to an inbox still open on it."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from configs import channel_toml, config_file
from pty_terminal import serving_in_a_thread
from stack import recorded_notices

from ecoinbox.credentials import save_credential
from ecoinbox.demo.mastodon.server import MastodonServer


class Running:
    """`ecoinbox ARGS` in a child process, its output read in a thread: a wait for a line fails
    in time instead of hanging on a process that never prints it."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "ecoinbox.cli", *args], text=True, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")  # the end

    def read_until(self, needle: str, timeout: float = 30.0) -> str:
        seen, deadline = "", time.monotonic() + timeout
        while needle not in seen:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {needle!r} within {timeout:g} s; printed:\n{seen}") from None
            if not line:
                raise AssertionError(f"the process ended before {needle!r}; printed:\n{seen}")
            seen += line
        return seen

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> str:
        """Send `signum`, wait for the end; what it printed since the last read."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
        self.reader.join(5)  # a grandchild (Dovecot) may hold the pipe open a little longer
        said: list[str] = []
        while not self.lines.empty():
            said.append(self.lines.get_nowait())
        return "".join(said)


def test_headless_poll_says_which_command_fixes_a_refused_token(tmp_path):
    save_credential("masto", "a-token-the-server-refuses")  # no keyring here: the file has it
    with serving_in_a_thread(MastodonServer(seed=None, token="the-right-token-0123")) as server:
        config = config_file(tmp_path, channel_toml(name="masto", base_url=server.base_url, account="acme"))
        poll = Running("--config", str(config), "poll")
        try:
            said = poll.read_until("resumes by itself")
        finally:
            poll.stop()
    assert "masto: paused (token refused (401): run `ecoinbox auth masto`)" in said
    assert (
        "masto: run `ecoinbox auth masto` in another shell; this poll reads the token again every 60 s"
        in said
    )
    assert "press" not in said and "a-token-the-server-refuses" not in said


def test_the_demo_says_inside_the_inbox_that_email_is_left_out(tmp_path, monkeypatch):
    from ecoinbox.demo.runner import run_demo

    monkeypatch.setattr(
        "ecoinbox.demo.email.server.why_no_dovecot", lambda: "Dovecot is not installed (apt install x)"
    )
    notified: list[str] = []

    async def run_app(app) -> None:  # type: ignore[no-untyped-def]
        nonlocal notified
        notified = recorded_notices(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("q")

    monkeypatch.setattr("ecoinbox.app_start.run_app", run_app)
    assert run_demo(seed=1, servers_only=False, data_dir=tmp_path / "demo", traffic=False) == 0
    assert "The email channel is left out: Dovecot is not installed (apt install x)." in notified


def start_servers_only() -> tuple[Running, Path]:
    demo = Running("demo", "--servers-only", "--quiet-traffic")
    said = demo.read_until("config:")
    return demo, Path(said.rsplit("config:", 1)[1].strip())


@pytest.mark.slow
def test_stopping_servers_only_leaves_the_store_to_an_inbox_still_open_on_it():
    demo, config = start_servers_only()
    try:
        poll = Running("--config", str(config), "poll")  # an engine on the demo's store, as an inbox has
        try:
            poll.read_until("engine: polling and sending")
            said = demo.stop(signal.SIGINT)
            assert "The demo's store stays in" in said and "an inbox is still open on it" in said
            assert (config.parent / "ecoinbox.db").is_file() and poll.process.poll() is None
        finally:
            poll.stop()
    finally:
        demo.stop(signal.SIGINT)
        shutil.rmtree(config.parent, ignore_errors=True)


@pytest.mark.slow
def test_stopping_servers_only_with_no_inbox_open_cleans_up():
    demo, config = start_servers_only()
    said = demo.stop(signal.SIGINT)
    assert "stays in" not in said and not config.parent.exists()
