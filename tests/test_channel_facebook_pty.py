"""A Facebook comment answered in the real inbox in a pty, `r`, the text and ctrl+s in ONE write
(as over SSH or a paste): the reply reaches the local Graph server once, with the whole text."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from configs import channel_toml, config_toml
from pty_terminal import Terminal, inbox_argv, inbox_env, serving_in_a_thread

from ecoinbox.channels.facebook.channel import FacebookChannel
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import PAGE_ID, GraphServer
from ecoinbox.engine import Engine
from ecoinbox.store import open_store

pytestmark = pytest.mark.slow

TOKEN = "fb-pty-page-token-0123456789"
ZOE = Person("7100000000000077", "Zoé Lambert", "zoe")


async def first_poll(db: Path, base_url: str) -> None:
    store = await open_store(db)
    try:
        engine = Engine(store, {"facebook": FacebookChannel("facebook", base_url, TOKEN, page_id=PAGE_ID)})
        await engine.poll_all_once()
        await engine.stop()
    finally:
        await store.close()


def test_a_reply_typed_in_one_burst_reaches_the_page_once(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    server = GraphServer(seed=None, page_token=TOKEN)
    post = server.add_post(server.page, "Our new kettle", now - timedelta(hours=2))
    question = server.add_comment(post.id, ZOE, "Does it ship to Canada?", now - timedelta(hours=1))
    with serving_in_a_thread(server):
        db = tmp_path / "inbox.db"
        asyncio.run(first_poll(db, server.base_url))
        entry = channel_toml(kind="facebook", name="facebook", base_url=server.base_url, page_id=PAGE_ID,
                             poll_interval=3600, keyring=False, token_env="ECOINBOX_FB_TOKEN")  # fmt: skip
        config = tmp_path / "config.toml"
        config.write_text(config_toml(entry, store=db) + "[ui]\nsend_delay = 0\n", encoding="utf-8")
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_FB_TOKEN=TOKEN), 80, 24)
        try:
            terminal.wait_for(b"Does it ship to Canada?", what="Zoe's comment")
            terminal.send("rYes, from next month!\x13")
            deadline = time.monotonic() + 15
            while not [w for w in server.sent if "comment" in w] and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # a second send would show by now
            terminal.send("q")
            assert terminal.wait_exit() == 0, terminal.tail()
        finally:
            terminal.kill()
    assert [(w["to"], w["message"]) for w in server.sent if "comment" in w] == [
        (question.id, "Yes, from next month!")
    ]
