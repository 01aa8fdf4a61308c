"""A reply being typed survives `kill -9` of the real inbox: run in a pty against the local
Mastodon server, `r`, some text, a pause, SIGKILL; the draft is in the store file, and the next
inbox shows it in the box on `r`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import Terminal, mastodon_in_a_thread, write_config
from test_terminal_pty import TOKEN

import ecoinbox
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.engine import Engine
from ecoinbox.store import open_store

TYPED = "Zyxwv42 the parcel left the depot"


async def seed(db: Path, server) -> None:
    server.add_status(author="zoe@remote.example", display_name="Zoe", text="@acme my order never arrived",
                      created_at=datetime.now(UTC) - timedelta(minutes=5))  # fmt: skip
    store = await open_store(db)
    try:
        channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
        engine = Engine(store, {"mastodon": channel})
        await engine.poll_all_once()
        await engine.stop()
    finally:
        await store.close()


def inbox_argv_env(tmp_path: Path, base_url: str) -> tuple[list[str], dict[str, str]]:
    config = write_config(tmp_path, base_url)
    code = str(Path(ecoinbox.__file__).parents[1])  # the tested tree, not an installed copy
    env = {**os.environ, "TERM": "xterm-256color", "ECOINBOX_PTY_TOKEN": TOKEN,
           "PYTHONPATH": os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))}  # fmt: skip
    for variable in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL"):
        env.pop(variable, None)
    return [sys.executable, "-m", "ecoinbox.cli", "--config", str(config)], env


def drafts_in(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, text FROM drafts").fetchall()


@pytest.mark.slow
def test_a_reply_being_typed_survives_kill_9_and_is_back_on_r(tmp_path):
    db = tmp_path / "inbox.db"
    with mastodon_in_a_thread(TOKEN) as server:
        asyncio.run(seed(db, server))
        argv, env = inbox_argv_env(tmp_path, server.base_url)

        first = Terminal(argv, env)
        try:
            first.wait_for(b"Inbox 1/1", what="the inbox")
            first.wait_for(b"@zoe@remote.example", what="Zoe's thread")
            mark = first.send("r")
            first.wait_for(b"Reply to", after=mark, what="the reply box")
            mark = first.send(" " + TYPED)
            first.wait_for(b"depot", after=mark, what="the typed text")
            time.sleep(1.5)
            os.kill(first.process.pid, signal.SIGKILL)  # no handler, no flush: only what was saved
            assert first.wait_exit() == -signal.SIGKILL
        finally:
            first.kill()
        assert drafts_in(db) == [("reply", f"@zoe@remote.example  {TYPED}")]

        second = Terminal(argv, env)
        try:
            second.wait_for(b"Inbox 1/1", what="the inbox, again")
            second.wait_for(b"\xe2\x9c\x8edraft", what="the draft's mark in the list")  # ✎draft
            mark = second.send("r")
            second.wait_for(b"Reply to", after=mark, what="the reply box, again")
            second.wait_for(b"Zyxwv42 the parcel left the depot", after=mark, what="the draft in the box")
            second.send("\x11")  # ctrl+q: the box is open; the draft stays and the terminal says so
            assert second.wait_exit() == 0, second.tail()
        finally:
            second.kill()
        assert b"ecoinbox kept your draft" in second.snapshot()
        assert drafts_in(db) == [("reply", f"@zoe@remote.example  {TYPED}")]


@contextlib.contextmanager
def zoe_in_a_pty(tmp_path: Path) -> Iterator[tuple[object, Terminal, Path]]:
    """The inbox in a pty on a store holding Zoe's mention, her thread on screen: (the local
    server, the terminal, the store's path); the terminal is killed on the way out."""
    db = tmp_path / "inbox.db"
    with mastodon_in_a_thread(TOKEN) as server:
        asyncio.run(seed(db, server))
        argv, env = inbox_argv_env(tmp_path, server.base_url)
        terminal = Terminal(argv, env)
        try:
            terminal.wait_for(b"@zoe@remote.example", what="Zoe's thread")
            yield server, terminal, db
        finally:
            terminal.kill()


@pytest.mark.slow
def test_a_dropped_connection_sighup_saves_the_open_box_at_once(tmp_path):
    with zoe_in_a_pty(tmp_path) as (_, terminal, db):
        mark = terminal.send("r")
        terminal.wait_for(b"Reply to", after=mark, what="the reply box")
        mark = terminal.send(" " + TYPED)
        terminal.wait_for(b"depot", after=mark, what="the typed text")
        # At once, before the half-second save: the hangup itself must save it.
        os.kill(terminal.process.pid, signal.SIGHUP)
        assert terminal.wait_exit() == 0, terminal.tail()
    assert drafts_in(db) == [("reply", f"@zoe@remote.example  {TYPED}")]


@pytest.mark.slow
def test_sighup_during_a_send_hold_quits_at_once_and_leaves_the_reply_queued(tmp_path):
    with zoe_in_a_pty(tmp_path) as (server, terminal, db):
        mark = terminal.send("r" + " " + TYPED + "\x13")  # ctrl+s in the same burst
        terminal.wait_for(b"goes out in", after=mark, what="the send hold's countdown")
        os.kill(terminal.process.pid, signal.SIGHUP)  # nobody is there to answer a question
        assert terminal.wait_exit() == 0, terminal.tail()
    assert b"Not sent yet: the reply to Zoe" in terminal.snapshot()
    assert server.posted == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT state, text FROM outbox").fetchall() == [
            ("queued", f"@zoe@remote.example  {TYPED}")
        ]
