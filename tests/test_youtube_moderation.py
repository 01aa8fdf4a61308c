"""The inbox's moderation on a platform that hides messages (YouTube): the spam key, `H` and undo
reach the local YouTube server once, durably, and never delete; a held comment is published
from the inbox. Pilot tests over the whole stack, and the store's requests on their own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from stack import FIXED_NOW, wait_until
from textual.widgets import TextArea

from ecoinbox.channels.youtube import YouTubeChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.youtube.server import API, BRAND_CHANNEL, DEMO_CLIENT_ID, YouTubeServer
from ecoinbox.engine import Engine
from ecoinbox.model import State, View
from ecoinbox.store import Store, open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen

SECRET = json.dumps(
    {"client_secret": "demo-youtube-client-secret", "refresh_token": "demo-youtube-refresh-token"}
)


@dataclass
class YouTubeStack:
    server: YouTubeServer
    store: Store
    engine: Engine
    settings: object
    ids: dict[str, str]


def settings_for(server: YouTubeServer, db: Path) -> object:
    return parse_config(
        f"""
[brand]
name = "Acme"
[ui]
send_delay = 0
[store]
path = "{db}"
[[channels]]
kind = "youtube"
name = "youtube"
base_url = "{server.base_url}{API}"
token_url = "{server.base_url}/token"
channel_id = "{BRAND_CHANNEL}"
client_id = "{DEMO_CLIENT_ID}"
poll_interval = 3600
keyring = false
token_env = "UNUSED"
""",
        Path("test.toml"),
    )


@pytest.fixture
async def yt(tmp_path: Path) -> AsyncIterator[YouTubeStack]:
    clock = lambda: FIXED_NOW + timedelta(hours=1)
    server = YouTubeServer(seed=None, now=clock)
    await server.start()
    t = FIXED_NOW - timedelta(hours=3)
    ids = {
        "held": server.add_comment(author="tom", text="Charged twice for order 7781!", at=t,
                                   status="heldForReview"),
        "spam": server.add_comment(author="gains", text="I made $5,000 a week, DM me", at=t + timedelta(hours=1)),
        "rude": server.add_comment(author="dan", text="Refund 10 days late, useless", at=t + timedelta(hours=2)),
    }  # fmt: skip
    store = await open_store(tmp_path / "inbox.db")
    channel = YouTubeChannel("youtube", server.base_url + API, SECRET, channel_id=BRAND_CHANNEL,
                             client_id=DEMO_CLIENT_ID, token_url=server.base_url + "/token", clock=clock)  # fmt: skip
    engine = Engine(store, {"youtube": channel}, poll_intervals={"youtube": 3600})
    await engine.poll_all_once()
    try:
        yield YouTubeStack(server, store, engine, settings_for(server, tmp_path / "inbox.db"), ids)
    finally:
        await engine.stop()
        await store.close()
        await server.stop()


def app_for(yt: YouTubeStack) -> EcoInboxApp:
    return EcoInboxApp(yt.settings, yt.store, yt.engine, now=lambda: FIXED_NOW)


async def select(app: EcoInboxApp, pilot, text: str) -> int:
    """Move the cursor to the conversation whose row shows `text`; its id."""
    screen = app.inbox
    for _ in range(10):
        row = screen.conversations.selected_row
        if row is not None and text in row.snippet:
            return row.id
        await pilot.press("j")
    raise AssertionError(f"no row shows {text!r}")


async def test_the_spam_key_hides_on_youtube_once_and_undo_shows_it_again(yt: YouTubeStack) -> None:
    await yt.engine.start()
    app = app_for(yt)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation = await select(app, pilot, "I made $5,000")
        await pilot.press("exclamation_mark")
        await wait_until(lambda: yt.server.status_of(yt.ids["spam"]) == "rejected", pilot=pilot)
        assert (await yt.store.conversation_row(conversation)).state is State.SPAM
        await pilot.press("u")
        await wait_until(lambda: yt.server.status_of(yt.ids["spam"]) == "published", pilot=pilot)
        await pilot.pause(0.2)
    assert yt.server.moderated == [(yt.ids["spam"], "rejected"), (yt.ids["spam"], "published")]
    assert yt.server.deleted == []  # hidden, never deleted


async def test_hide_key_holds_the_comment_for_review_and_undo_publishes_it(yt: YouTubeStack) -> None:
    await yt.engine.start()
    app = app_for(yt)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation = await select(app, pilot, "Refund 10 days")
        await pilot.press("H")
        await wait_until(lambda: yt.server.status_of(yt.ids["rude"]) == "heldForReview", pilot=pilot)
        assert (await yt.store.conversation_row(conversation)).state is State.OPEN  # still to answer
        await pilot.press("H")  # already hidden: nothing more is asked
        await pilot.press("u")
        await wait_until(lambda: yt.server.status_of(yt.ids["rude"]) == "published", pilot=pilot)
        await pilot.pause(0.2)
    assert yt.server.moderated == [(yt.ids["rude"], "heldForReview"), (yt.ids["rude"], "published")]
    assert yt.server.deleted == []


async def test_a_held_comment_is_published_from_the_inbox_then_answered_once(yt: YouTubeStack) -> None:
    await yt.engine.start()
    app = app_for(yt)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation = await select(app, pilot, "Charged twice")
        assert (await yt.store.conversation_row(conversation)).held
        await pilot.press("r")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("y")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert app.screen.query_one(TextArea).text == ""
        await pilot.press(*"Sorry Tom, we refund it today.")
        await pilot.press("ctrl+s")
        await wait_until(lambda: len(yt.server.posted) == 1, pilot=pilot)
        await pilot.pause(0.3)
    assert yt.server.status_of(yt.ids["held"]) == "published"
    assert yt.server.moderated == [(yt.ids["held"], "published")]
    (reply,) = yt.server.posted
    assert yt.server.replies_to(yt.ids["held"]) == [reply]
    assert yt.server.text_of(reply) == "Sorry Tom, we refund it today."


async def test_a_spam_mark_is_asked_in_its_own_transaction_and_survives_a_crash(yt: YouTubeStack) -> None:
    rows = await yt.store.conversation_page(View.INBOX)
    spam = next(r.id for r in rows if "$5,000" in r.snippet)
    await yt.store.apply_triage([spam], state=State.SPAM, actor="sam")
    assert await yt.store.platform_actions(spam) == [(yt.ids["spam"], "spam", "queued", "")]
    # The process dies holding the request: its claim lapses and another run carries it out.
    claimed = await yt.store.claim_moderation(["youtube"], lease=timedelta(seconds=-1))
    assert claimed is not None and claimed.action == "spam"
    assert await yt.engine.moderation.run_due() == 1
    assert yt.server.moderated == [(yt.ids["spam"], "rejected")]
    assert await yt.engine.moderation.run_due() == 0  # done: never asked again


async def test_undo_before_the_request_left_asks_the_platform_nothing(yt: YouTubeStack) -> None:
    rows = await yt.store.conversation_page(View.INBOX)
    spam = next(r.id for r in rows if "$5,000" in r.snippet)
    before = await yt.store.apply_triage([spam], state=State.SPAM, actor="sam")
    await yt.store.restore_triage(before, actor="sam (undo)")
    assert await yt.engine.moderation.run_due() == 0
    assert yt.server.moderated == []
    assert [a[2] for a in await yt.store.platform_actions(spam)] == ["cancelled"]


async def test_the_spam_filters_verdict_asks_nothing_the_managers_mark_does(yt: YouTubeStack) -> None:
    rows = await yt.store.conversation_page(View.INBOX)
    spam = next(r.id for r in rows if "$5,000" in r.snippet)
    await yt.store.set_state([spam], State.SPAM, actor="spam filter")
    assert await yt.store.platform_actions(spam) == []
    await yt.store.set_state([spam], State.OPEN, actor="sam")  # "not spam": nothing was hidden
    await yt.store.set_state([spam], State.SPAM, actor="sam")  # the manager's own mark asks
    assert await yt.store.platform_actions(spam) == [(yt.ids["spam"], "spam", "queued", "")]


async def test_a_spam_reply_sent_alone_to_spam_is_rejected_on_youtube(yt: YouTubeStack) -> None:
    top = yt.ids["rude"]
    reply = yt.server.add_reply(parent=top, author="bot", text="FREE gift cards >>> giftz.example",
                                at=FIXED_NOW + timedelta(minutes=30))  # fmt: skip
    await yt.engine.poll_all_once()
    rows = await yt.store.conversation_page(View.INBOX)
    conversation = next(r.id for r in rows if "gift cards" in r.snippet)
    thread = await yt.store.conversation(conversation, with_linked=False)
    (spam,) = [m for m in thread.messages if m.message.remote_id == reply]
    moved = await yt.store.split_spam(spam.id, actor="sam")
    assert moved is not None
    assert await yt.engine.moderation.run_due() == 1
    assert yt.server.moderated == [(reply, "rejected")] and yt.server.status_of(top) == "published"


async def test_a_refused_hide_is_recorded_and_said_not_retried(yt: YouTubeStack) -> None:
    rows = await yt.store.conversation_page(View.INBOX)
    conversation = next(r.id for r in rows if "Refund 10 days" in r.snippet)
    assert await yt.store.hide_message(conversation, "youtube", "UgzGoneGoneGone", actor="sam")
    assert await yt.engine.moderation.run_due() == 1
    ((channel, said),) = yt.engine.moderation.take_refusals()
    assert channel == "youtube" and "could not hide a message there" in said
    assert "no longer on YouTube" in said
    assert await yt.store.platform_actions(conversation) == [
        ("UgzGoneGoneGone", "hide", "failed", said.split(": ", 1)[1])
    ]
    assert await yt.engine.moderation.run_due() == 0  # refused for good: not asked again
