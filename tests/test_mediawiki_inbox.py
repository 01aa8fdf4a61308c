"""A wiki's talk pages in the whole product: the inbox shows a section as a conversation, a reply
typed there reaches the (local) wiki once, and an uncertain reply is read back, not resent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from fakes import Clock
from stack import wait_until
from textual.widgets import TextArea

from ecoinbox.channels.mediawiki.channel import MediaWikiChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.mediawiki.server import WikiServer
from ecoinbox.engine import Engine
from ecoinbox.model import OutboxState, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen

LOGIN = "Acme@ecoinbox"
PASSWORD = "abcdefghijklmnopqrstuvw012345678"
PAGE = "Talk:Acme X2"


def wiki_config(base_url: str, db: Path) -> str:
    return f"""
[brand]
name = "Acme"
[ui]
send_delay = 0
[store]
path = "{db}"
[[channels]]
kind = "mediawiki"
name = "wiki"
base_url = "{base_url}"
account = "{LOGIN}"
pages = ["{PAGE}"]
poll_interval = 3600
keyring = false
token_env = "UNUSED"
"""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wiki(clock: Clock) -> AsyncIterator[WikiServer]:
    async with WikiServer(bot_logins={LOGIN: PASSWORD}, now=clock) as server:
        server.comment(PAGE, "Zoe", "The battery of my Acme X2 dies in two hours.", section="Battery",
                       at=clock() - timedelta(hours=2))  # fmt: skip
        server.comment(
            PAGE, "Luc", "Same here.", section="Battery", indent=1, at=clock() - timedelta(hours=1)
        )
        yield server


@pytest.fixture
async def running(wiki: WikiServer, clock: Clock, tmp_path: Path) -> AsyncIterator[tuple[Engine, object]]:
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    channel = MediaWikiChannel("wiki", wiki.base_url, PASSWORD, login_name=LOGIN, pages=(PAGE,), timeout=1.0,
                               clock=clock)  # fmt: skip
    engine = Engine(store, {"wiki": channel}, poll_intervals={"wiki": 3600}, clock=clock, leased=False)
    try:
        await engine.poll_channel("wiki")
        yield engine, store
    finally:
        await engine.stop()
        await store.close()
        await channel.aclose()


async def test_the_inbox_shows_the_section_and_a_typed_reply_reaches_the_wiki_once(
    wiki, running, clock, tmp_path
):
    engine, store = running
    settings = parse_config(wiki_config(wiki.base_url, tmp_path / "inbox.db"), Path("test.toml"))
    await engine.start()
    app = EcoInboxApp(settings, store, engine, now=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        row = screen.conversations.selected_row
        assert row.author_label == "Luc" and row.message_count == 2 and row.subject == f"{PAGE}: Battery"
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == ""  # a wiki reply needs no @mention
        await pilot.press(*"Which firmware do you run?")
        await pilot.press("ctrl+s")
        await wait_until(lambda: "Which firmware do you run?" in wiki.text(PAGE), pilot=pilot)
        await wait_until(lambda: _all_sent(store), pilot=pilot)
        await pilot.pause(0.2)
    text = wiki.text(PAGE)
    assert text.count("Which firmware do you run?") == 1
    assert "::Which firmware do you run? [[User:Acme|Acme]]" in text  # under Luc's, one level deeper


async def test_the_outbox_reads_an_uncertain_reply_back_instead_of_sending_it_twice(wiki, running, clock):
    engine, store = running
    (row,) = await store.conversation_page(View.INBOX)
    thread = await store.conversation(row.id)
    await store.queue_reply(row.id, thread.messages[0].message, "We are on it, Zoe.")
    wiki.lose_edit_answers = 1  # saved, then a 504

    await engine.sender.send_due()
    (item,) = await store.outbox_items()
    assert item.state is OutboxState.UNKNOWN
    clock.advance(seconds=31)
    await engine.sender.send_due()

    (item,) = await store.outbox_items()
    assert item.state is OutboxState.SENT
    assert wiki.text(PAGE).count("We are on it, Zoe.") == 1


async def _all_sent(store) -> bool:
    items = await store.outbox_items()
    return bool(items) and all(item.state is OutboxState.SENT for item in items)
