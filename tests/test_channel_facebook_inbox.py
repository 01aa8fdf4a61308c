"""The inbox on a Facebook Page: a comment's conversation answered from the keys reaches the local
Graph server once, and a Messenger reply past the 24-hour window is refused in words before any box."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from configs import channel_toml, config_toml
from stack import FIXED_NOW, recorded_notices, wait_until
from textual.widgets import TextArea

from ecoinbox.channels.facebook.channel import FacebookChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import PAGE_ID, GraphServer
from ecoinbox.engine import Engine
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen

TOKEN = "fb-inbox-page-token-0123456789"
ZOE = Person("7100000000000042", "Zoé Lambert", "zoe")


@asynccontextmanager
async def inbox_on(
    tmp_path: Path, server: GraphServer
) -> AsyncIterator[tuple[Engine, EcoInboxApp, list[str]]]:
    """An engine on the Page's channel and an app whose config names it; what the app notified."""
    store = await open_store(tmp_path / "inbox.db")
    channel = FacebookChannel("facebook", server.base_url, TOKEN, page_id=PAGE_ID)
    engine = Engine(store, {"facebook": channel}, poll_intervals={"facebook": 3600}, leased=False)
    entry = channel_toml(kind="facebook", name="facebook", base_url=server.base_url, page_id=PAGE_ID,
                         poll_interval=3600, keyring=False, token_env="UNUSED")  # fmt: skip
    settings = parse_config(config_toml(entry, store=tmp_path / "inbox.db") + "[ui]\nsend_delay = 0\n",
                            Path("test.toml"))  # fmt: skip
    try:
        await engine.poll_all_once()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        yield engine, app, recorded_notices(app)
    finally:
        await engine.stop()
        await channel.aclose()
        await store.close()


async def test_a_comment_answered_in_the_inbox_reaches_the_page_once(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    async with GraphServer(seed=None, page_token=TOKEN) as server:
        post = server.add_post(server.page, "Our new kettle", now - timedelta(hours=2))
        question = server.add_comment(post.id, ZOE, "Does it ship to Canada?", now - timedelta(hours=1))
        async with inbox_on(tmp_path, server) as (engine, app, _):
            await engine.start()
            async with app.run_test(size=(100, 30)) as pilot:
                screen = app.inbox
                await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
                assert screen.conversations.selected_row.author_label == "Zoé Lambert"
                await pilot.press("r")
                assert isinstance(app.screen, ComposeScreen)
                app.screen.query_one(TextArea).insert("Yes, from next month!")
                await pilot.press("ctrl+s")
                await wait_until(lambda: [w for w in server.sent if "comment" in w], pilot=pilot)
                await pilot.pause(0.3)
    [sent] = [w for w in server.sent if "comment" in w]
    assert sent["to"] == question.id and sent["message"] == "Yes, from next month!"


async def test_a_messenger_reply_after_24_hours_is_refused_in_words(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    async with GraphServer(seed=None, page_token=TOKEN) as server:
        server.add_message(ZOE, "Where is my refund?", now - timedelta(hours=30))
        async with inbox_on(tmp_path, server) as (_, app, notified), app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.conversations.selected_id is not None, pilot=pilot)
            await pilot.press("r")
            await wait_until(lambda: notified, pilot=pilot)
            assert not isinstance(app.screen, ComposeScreen)
    assert "Zoé Lambert wrote 30 hours ago" in notified[0] and "within 24 hours" in notified[0]
    assert "human_agent = true" in notified[0]
    assert not [r for r in server.requests if r.method == "POST"]


async def test_the_reply_box_counts_a_messenger_message_against_messenger_s_2000_not_a_comment_s_8000(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    async with GraphServer(seed=None, page_token=TOKEN) as server:
        server.add_message(ZOE, "Where is my refund?", now - timedelta(hours=1))
        async with inbox_on(tmp_path, server) as (_, app, notified), app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.conversations.selected_id is not None, pilot=pilot)
            await pilot.press("r")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            box = app.screen
            assert isinstance(box, ComposeScreen) and box.draft.max_length == 2000
            box.query_one(TextArea).insert("x" * 2001)
            await pilot.press("ctrl+s")
            await wait_until(lambda: notified, pilot=pilot)
            assert app.screen is box  # the box stays open with the text: nothing lost
    assert notified == ["Too long for facebook: 2,000 characters at most."]
    assert not [r for r in server.requests if r.method == "POST"]


async def test_the_spam_key_and_h_hide_a_facebook_comment_on_the_page_never_delete_it(tmp_path: Path) -> None:
    """What issue 19 asks of the keys: a spam mark hides the comment on the Page, `H` hides a
    complaint (still to answer), undo shows it again; nothing is ever deleted."""
    now = datetime.now(UTC)
    async with GraphServer(seed=None, page_token=TOKEN) as server:
        post = server.add_post(server.page, "Our new kettle", now - timedelta(hours=3))
        spam = server.add_comment(post.id, Person("7100000000000077", "Crypto Gains", "gains"),
                                  "nice kettle, see my page", now - timedelta(hours=2))  # fmt: skip
        rude = server.add_comment(post.id, ZOE, "Refund 10 days late, useless", now - timedelta(hours=1))
        async with inbox_on(tmp_path, server) as (engine, app, _):
            await engine.start()
            async with app.run_test(size=(100, 30)) as pilot:
                screen = app.inbox
                await wait_until(lambda: screen.conversations.selected_row is not None, pilot=pilot)
                assert "Refund 10 days" in screen.conversations.selected_row.snippet  # newest first
                await pilot.press("H")
                await wait_until(lambda: server.comments[rude.id].hidden, pilot=pilot)
                await pilot.press("u")
                await wait_until(lambda: not server.comments[rude.id].hidden, pilot=pilot)
                await pilot.press("j")
                await wait_until(
                    lambda: "nice kettle" in screen.conversations.selected_row.snippet, pilot=pilot
                )
                await pilot.press("exclamation_mark")
                await wait_until(lambda: server.comments[spam.id].hidden, pilot=pilot)
                await pilot.pause(0.2)
    hides = [(w["hide"], w["hidden"]) for w in server.sent if "hide" in w]
    assert hides == [(rude.id, True), (rude.id, False), (spam.id, True)]
    assert spam.id in server.comments and rude.id in server.comments  # hidden, never deleted
    assert not any("delete" in str(w) for w in server.sent)
