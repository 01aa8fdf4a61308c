"""How `ecoinbox demo` starts quickly (issue 16, goal 8): its store from a generated one without
a copy at launch, its token commands side by side. The times are bench/demo_start.py's."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from stack import wait_until

from ecoinbox.config import load_config
from ecoinbox.demo import clone
from ecoinbox.demo.clone import Cloned, SpareMaker, clone_store, spare_path
from ecoinbox.demo.runner import Demo, demo_tokens
from ecoinbox.demo.site import DemoContext, all_tokens, channel_block


def generated(path: Path, rows: int = 2000) -> Path:
    """A stand-in for a generated store: a SQLite file of a few pages."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT)")
        db.executemany("INSERT INTO messages (text) VALUES (?)", [(f"message {n}",) for n in range(rows)])
    return path


def count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])


@pytest.fixture
def no_reflink(monkeypatch: pytest.MonkeyPatch) -> None:
    """The filesystem of most machines (ext4): no copy-on-write clone."""
    monkeypatch.setattr(clone, "reflink", lambda source, target: False)


def test_a_demo_takes_the_spare_copy_and_the_generated_store_stays_as_made(
    tmp_path: Path, no_reflink: None
) -> None:
    base, spares = generated(tmp_path / "1m.db"), tmp_path / "spares"
    assert clone_store(base, tmp_path / "first.db", spares) is Cloned.COPY  # nothing ahead yet
    assert SpareMaker(base, spares).make_now() == spare_path(base, spares)
    assert clone_store(base, tmp_path / "second.db", spares) is Cloned.SPARE
    assert not spare_path(base, spares).exists()  # taken: a second demo cannot take it too
    with sqlite3.connect(tmp_path / "second.db") as db:
        db.execute("DELETE FROM messages")
    assert count(tmp_path / "second.db") == 0 and count(base) == 2000


def test_a_spare_of_an_older_version_of_the_store_is_never_taken(tmp_path: Path, no_reflink: None) -> None:
    base, spares = generated(tmp_path / "1m.db"), tmp_path / "spares"
    SpareMaker(base, spares).make_now()
    with sqlite3.connect(base) as db:  # generated again, or written to
        db.execute("INSERT INTO messages (text) VALUES ('one more')")
    assert clone_store(base, tmp_path / "demo.db", spares) is Cloned.COPY
    assert count(tmp_path / "demo.db") == 2001


def test_a_spare_stopped_halfway_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, spares = generated(tmp_path / "1m.db", rows=20_000), tmp_path / "spares"
    maker = SpareMaker(base, spares)
    monkeypatch.setattr(clone, "SPARE_STEP", 4096)  # many steps: the stop is seen between two
    real_step = clone._copy_step

    def step_then_stop(*args: int) -> int:
        maker.stop()  # the demo ends while its spare is being copied
        return real_step(*args)

    monkeypatch.setattr(clone, "_copy_step", step_then_stop)
    assert maker.make_now() is None
    assert list(spares.iterdir()) == []


async def test_the_next_demo_starts_on_the_spare_the_last_one_made(
    tmp_path: Path, no_reflink: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clone, "SPARE_DELAY_S", 0)
    base, spares = generated(tmp_path / "1m.db"), tmp_path / "spares"
    async with Demo(data_dir=tmp_path / "one", traffic=False, generated=base, spares=spares) as demo:
        assert demo.cloned is Cloned.COPY
        await wait_until(spare_path(base, spares).exists)
    async with Demo(data_dir=tmp_path / "two", traffic=False, generated=base, spares=spares) as demo:
        assert demo.cloned is Cloned.SPARE
        assert count(demo.data_dir / "ecoinbox.db") == 2000
    assert count(base) == 2000


BARRIER = """
import pathlib, sys, time
here = pathlib.Path(sys.argv[1])
(here / sys.argv[2]).touch()
deadline = time.monotonic() + 8
while len(list(here.iterdir())) < int(sys.argv[3]):
    if time.monotonic() > deadline:
        sys.exit("the other token commands never started")
    time.sleep(0.01)
print("token-" + sys.argv[2])
"""


async def test_the_demo_runs_its_token_commands_side_by_side(tmp_path: Path) -> None:
    # Each command waits until every one has started: one after another, the first never ends.
    started, names = tmp_path / "started", ["one", "two", "three", "four"]
    started.mkdir()
    channels = "".join(
        f'[[channels]]\nkind = "mastodon"\nname = "{name}"\nbase_url = "https://{name}.example"\n'
        f'account = "acme"\nkeyring = false\n'
        f"token_cmd = {json.dumps([sys.executable, '-c', BARRIER, str(started), name, str(len(names))])}\n"
        for name in names
    )
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\n{channels}', encoding="utf-8")
    tokens = await demo_tokens(load_config(config))
    assert {name: tokens[name].reveal() for name in names} == {name: f"token-{name}" for name in names}


async def test_a_server_that_cannot_start_leaves_none_of_the_others_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = Demo(data_dir=tmp_path / "demo", traffic=False)

    async def refuse(*args: object, **kwargs: object) -> str:
        raise OSError("the port is taken")

    monkeypatch.setattr(demo.site("bluesky"), "start", refuse)
    with pytest.raises(OSError, match="the port is taken"):
        await demo.start()
    assert demo.site("mastodon").base_url  # it started beside the one that failed...
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):  # ...and was stopped
            await client.get(f"{demo.site('mastodon').base_url}/api/v1/instance")


async def test_the_demo_reads_its_own_public_tokens_without_starting_a_python_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_command(*args: object, **kwargs: object) -> None:
        raise AssertionError("a token command was started")

    public = all_tokens()
    context = DemoContext(seed=1, python=sys.executable)
    channels = "".join(
        channel_block("mastodon", name, f"https://{name}.example", {"account": "acme"}, context)
        for name in public
    )
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\n{channels}', encoding="utf-8")
    monkeypatch.setattr(subprocess, "run", no_command)
    tokens = await demo_tokens(load_config(config))
    assert {name: token.reveal() for name, token in tokens.items()} == public


def test_a_store_generated_by_an_older_version_is_upgraded_once_not_in_each_demo(tmp_path: Path) -> None:
    import asyncio
    import io

    from ecoinbox.demo import runner
    from ecoinbox.demo.generate import GENERATOR_VERSION, manifest
    from ecoinbox.store import open_store
    from ecoinbox.store.schema import SCHEMA_VERSION

    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache / f"300-seed1-v{GENERATOR_VERSION}.db"

    async def make() -> None:
        await (await open_store(path)).close()

    asyncio.run(make())
    manifest(path).write_text("{}", encoding="utf-8")
    with sqlite3.connect(path) as db:  # as the previous schema left it
        db.execute("PRAGMA user_version = 14")  # before the day bounds (15)
        for name in ("TABLE late_messages", "TABLE message_days"):
            db.execute(f"DROP {name}")
    said = io.StringIO()
    assert runner.generated_store(300, cache=cache, out=said) == path
    assert "Upgrading the demo store" in said.getvalue()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert spare_path(path, cache / "spares").exists()  # the next demo takes a current copy
    again = io.StringIO()
    runner.generated_store(300, cache=cache, out=again)
    assert again.getvalue() == ""


def servers_pid(log: Path) -> int | None:
    """The servers' process the demo's log names, once it does."""
    said = log.read_text(encoding="utf-8") if log.exists() else ""
    found = re.search(r"the demo's servers run in process (\d+)", said)
    return int(found[1]) if found else None


def gone(pid: int) -> bool:
    """No such process, or only its exit status left for a parent that is gone too."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def refused(url: str) -> bool:
    try:
        httpx.get(f"{url}/api/v1/instance", timeout=2)
    except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):  # closed, or closing
        return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["q", "SIGTERM", "SIGHUP", "SIGKILL", "servers crash"])
def test_the_servers_run_in_a_process_of_their_own_that_never_outlives_the_demo(
    tmp_path: Path, stop: str
) -> None:
    from pty_terminal import Terminal, inbox_env

    data = tmp_path / "demo"
    argv = [sys.executable, "-m", "ecoinbox.cli", "demo", "--data-dir", str(data), "--quiet-traffic"]
    terminal = Terminal(argv, inbox_env(ECOINBOX_LOG_LEVEL="INFO"), columns=120, rows=40)
    try:
        terminal.wait_for(b"mastodon", timeout=60, what="the inbox's first rows")  # a row's channel
        pid = servers_pid(data / "ecoinbox.log")
        assert pid is not None and pid != terminal.process.pid
        mastodon = next(
            c.base_url for c in load_config(data / "config.toml").channels if c.name == "mastodon"
        )
        assert not refused(mastodon)  # the inbox's servers answer from the other process
        if stop == "q":
            terminal.send("q")
        elif stop == "servers crash":
            os.kill(pid, signal.SIGKILL)
            assert within(10, lambda: refused(mastodon))
            terminal.send("q")  # the inbox still quits as usual
        else:
            terminal.process.send_signal(getattr(signal, stop))
        status = terminal.wait_exit(20)
        assert status == (-signal.SIGKILL if stop == "SIGKILL" else 0), terminal.tail()
        assert within(15, lambda: gone(pid) and refused(mastodon)), f"the servers outlived the demo ({stop})"
    finally:
        terminal.kill()
        pid = servers_pid(data / "ecoinbox.log")
        if pid is not None and not gone(pid):
            os.kill(pid, signal.SIGKILL)


class Recorded:
    """A site that says when it is made and when its start begins."""

    every, handles = (1, 0), ()

    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self.base_url, self.events = name, f"http://{name}.example", events
        events.append(f"made {name}")

    async def start(self) -> None:
        self.events.append(f"starts {self.name}")

    async def stop(self) -> None: ...

    async def tick(self) -> None: ...

    def channel_toml(self) -> str:
        return ""

    def addresses(self) -> list[tuple[str, str]]:
        return []

    def meet(self, others: object) -> None: ...


async def test_a_slow_site_starts_before_the_other_servers_load_and_keeps_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from ecoinbox.demo import runner

    events: list[str] = []

    def module(name: str, first: bool = False) -> SimpleNamespace:
        return SimpleNamespace(
            __name__=name, STARTS_FIRST=first, sites=lambda context: [Recorded(name, events)]
        )

    modules = [module("mastodon"), module("email", first=True), module("x")]
    monkeypatch.setattr(runner, "site_modules", lambda: modules)
    async with Demo(data_dir=tmp_path / "demo", traffic=False) as demo:
        # Dovecot's process is on its way before the next server's module is even imported.
        assert events[:2] == ["made email", "starts email"]
        assert [site.name for site in demo.sites] == ["mastodon", "email", "x"]  # the config's order


INBOX_ONLY = """
import sys
import ecoinbox.app_start as start
from ecoinbox.demo.runner import run_demo

async def inbox(settings, tokens, notices=()):
    demo = [m for m in sys.modules if m.startswith("ecoinbox.demo.") and m.endswith(".server")]
    servers = sorted(demo + [m for m in sys.modules if m == "aiohttp"])
    print("servers' modules here:", servers, "channels:", len(settings.channels), flush=True)
    return 0

start.open_inbox = inbox
sys.exit(run_demo(seed=1, servers_only=False, data_dir=None, traffic=False, apart=True))
"""


def test_the_inbox_process_of_the_demo_loads_no_server_module() -> None:
    # The servers' modules (aiohttp, each platform's server) load in the servers' process only.
    argv = [sys.executable, "-c", INBOX_ONLY]
    ran = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    said = re.search(r"servers' modules here: (.*) channels: (\d+)", ran.stdout)
    assert said is not None, ran.stdout
    assert said[1] == "[]" and int(said[2]) >= 12
