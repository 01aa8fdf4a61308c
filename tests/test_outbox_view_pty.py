"""The Outbox view in the real `ecoinbox`, in a pty, its keys typed in one write as a network
delivers them: `w` (open it), `D` (cancel the reply under the cursor), `y` (yes)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import Terminal, mastodon_in_a_thread, write_config
from test_terminal_pty import TOKEN

import ecoinbox
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import OutboxState, View
from ecoinbox.store import open_store

TEXT = "@zoe@remote.example sorry, we are on it"


async def seed_stuck_reply(db: Path, server: MastodonServer) -> int:
    """Zoé's mention, and our reply to it that met a server that was down: next try in an hour."""
    server.add_status(author="zoe@remote.example", display_name="Zoé", text="@acme my order never arrived")
    store = await open_store(db)
    try:
        channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
        engine = Engine(store, {"mastodon": channel})
        await engine.poll_all_once()
        await engine.stop()
        (row,) = await store.conversation_page(View.INBOX)
        parent = (await store.conversation(row.id)).messages[-1].message
        item = await store.queue_reply(row.id, parent, TEXT)
        claimed = await store.claim_next_reply("a sender")
        await store.reply_retry(claimed, "503 Service Unavailable", store.now() + timedelta(hours=1))
        return item.id
    finally:
        await store.close()


async def stored(db: Path, item_id: int):
    store = await open_store(db)
    try:
        item = next(i for i in await store.outbox_items() if i.id == item_id)
        return item, await store.history(item.conversation_id)
    finally:
        await store.close()


@pytest.mark.slow
def test_open_the_outbox_and_cancel_a_stuck_reply_in_one_write(tmp_path):
    db = tmp_path / "inbox.db"
    with mastodon_in_a_thread(TOKEN) as server:
        item_id = asyncio.run(seed_stuck_reply(db, server))
        config = write_config(tmp_path, server.base_url)
        config.write_text(config.read_text() + '[team]\nme = "ana"\n')
        code = str(Path(ecoinbox.__file__).parents[1])
        env = {**os.environ, "TERM": "xterm-256color", "ECOINBOX_PTY_TOKEN": TOKEN,
               "PYTHONPATH": os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))}  # fmt: skip
        for variable in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL"):
            env.pop(variable, None)
        terminal = Terminal([sys.executable, "-m", "ecoinbox.cli", "--config", str(config)], env)
        try:
            terminal.wait_for(b"Inbox 1/1", what="the inbox")
            terminal.wait_for(b"Outbox 1", what="the Outbox tab")
            mark = terminal.send("wDy")
            terminal.wait_for(b"Cancelled", after=mark, what="the cancel notice")
            terminal.send("q")
            assert terminal.wait_exit() == 0, terminal.tail()
        finally:
            terminal.kill()
        posted = list(server.posted)
    item, history = asyncio.run(stored(db, item_id))
    assert item.state is OutboxState.DISCARDED and item.text == TEXT
    assert ("ana", "reply discarded") in [(actor, action) for _, actor, action, _, _ in history]
    assert posted == []


@pytest.mark.slow
def test_text_typed_with_edit_never_reaches_the_list(tmp_path):
    """E, then text holding S and D (the list's send-now and cancel keys), then ctrl+s, in one
    write: the compose box is up before the text is read, so no letter of it sends the reply
    now or cancels it. (Whether the box keeps every key of such a burst is part 1 of issue 13.)"""
    db = tmp_path / "inbox.db"
    with mastodon_in_a_thread(TOKEN) as server:
        item_id = asyncio.run(seed_stuck_reply(db, server))
        config = write_config(tmp_path, server.base_url)
        code = str(Path(ecoinbox.__file__).parents[1])
        env = {**os.environ, "TERM": "xterm-256color", "ECOINBOX_PTY_TOKEN": TOKEN,
               "PYTHONPATH": os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))}  # fmt: skip
        for variable in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL"):
            env.pop(variable, None)
        terminal = Terminal([sys.executable, "-m", "ecoinbox.cli", "--config", str(config)], env)
        try:
            terminal.wait_for(b"Outbox 1", what="the Outbox tab")
            mark = terminal.send("w")
            terminal.wait_for(b"S sends now", after=mark, what="the Outbox view")
            mark = terminal.send("E" + " DM us. Sorry!" + "\x13")  # ctrl+s
            # The box may open and close between two frames: what it saved is what the view shows.
            terminal.wait_for(b"on it DM us. Sorry!", after=mark, what="the edited reply in the Outbox view")
            time.sleep(1.5)  # what a stray S or D would do is done by now (a due reply goes in ms)
            item, _ = asyncio.run(stored(db, item_id))
            posted = list(server.posted)
        finally:
            terminal.kill()
    assert item.state is OutboxState.QUEUED and item.text.endswith("on it DM us. Sorry!")
    assert item.next_attempt_at > datetime.now(UTC) + timedelta(minutes=30)  # S did not make it due
    assert posted == []
