"""`[` then `r` answers an older message of another person on Reddit and on a Discourse forum:
pressed key by key, checked on the local servers (which parent the reply went under, and its text).
And a Bluesky reply says it is public."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from stack import FIXED_NOW, settings_for, wait_until
from textual.widgets import TextArea

from ecoinbox.channels.bluesky import BlueskyChannel
from ecoinbox.channels.discourse import DiscourseChannel
from ecoinbox.channels.reddit import RedditChannel
from ecoinbox.demo.bluesky.server import BlueskyServer
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.reddit.server import RedditServer
from ecoinbox.engine import Engine
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen

REFRESH = "reddit-refresh-token-0123456789"
CLIENT_ID = "reddit-client-id"
FORUM_KEY = "forum-test-key-0123456789"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"


@asynccontextmanager
async def inbox_on(tmp_path, name: str, channel):
    """An engine with this one channel, and an app on it (the config's own channel is not run)."""
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {name: channel}, poll_intervals={name: 3600}, leased=False)
    try:
        await engine.poll_all_once()
        settings = settings_for("http://127.0.0.1:9", tmp_path / "inbox.db")
        yield store, engine, EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
    finally:
        await engine.stop()
        await store.close()


async def answer_the_older_message(app, engine, text: str) -> None:
    await engine.start()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None
                         and len(screen.thread.conversation.messages) >= 2, pilot=pilot)  # fmt: skip
        await pilot.press("left_square_bracket", "r")
        assert isinstance(app.screen, ComposeScreen)
        assert "Zoe" in str(app.screen.query_one("#compose-title").render())
        app.screen.query_one(TextArea).insert(text)
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.pause(0.1)


async def test_on_reddit_the_reply_goes_under_the_older_comment(tmp_path):
    async with RedditServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        t = FIXED_NOW - timedelta(hours=2)
        post = server.add_post(author="op_person", subreddit="gadgets", title="Acme kettles?", selftext="?",
                               created_at=t - timedelta(hours=1))  # fmt: skip
        zoe = server.add_comment(author="Zoe", parent=post, body="u/acme my kettle leaks", created_at=t)
        server.add_comment(
            author="bob", parent=zoe, body="u/acme mine too", created_at=t + timedelta(hours=1)
        )
        channel = RedditChannel("reddit", server.base_url, REFRESH, account="acme", client_id=CLIENT_ID,
                                auth_url=server.base_url)  # fmt: skip
        async with inbox_on(tmp_path, "reddit", channel) as (_store, engine, app):
            await answer_the_older_message(app, engine, "Sorry Zoe, which model?")
            await wait_until(lambda: len(server.posted) == 1)
        await channel.aclose()
    (posted,) = server.posted
    assert posted.thing_id == zoe and posted.text == "Sorry Zoe, which model?"


async def test_on_the_forum_the_reply_answers_the_older_post(tmp_path):
    async with DiscourseServer(seed=None, api_key=FORUM_KEY) as forum:
        t = FIXED_NOW - timedelta(hours=2)
        topic = forum.add_topic(author="Zoe", title="Kettle leaks", raw="My kettle leaks @acme_team",
                                created_at=t)  # fmt: skip
        forum.add_post(topic_id=topic["topic_id"], author="bob", raw="@acme_team mine too, since May",
                       reply_to_post_number=1, created_at=t + timedelta(hours=1))  # fmt: skip
        channel = DiscourseChannel("forum", forum.base_url, FORUM_KEY, username="acme_team", auth="api_key")
        async with inbox_on(tmp_path, "forum", channel) as (_store, engine, app):
            await answer_the_older_message(app, engine, "Sorry Zoe, a new one is on its way.")
            await wait_until(lambda: len(forum.posted) == 1)
        await channel.aclose()
    (posted,) = forum.posted
    assert posted.topic_id == topic["topic_id"] and posted.reply_to_post_number == 1
    assert posted.raw == "Sorry Zoe, a new one is on its way."


async def test_on_bluesky_the_box_says_the_reply_is_public_with_nothing_to_choose(tmp_path):
    async with BlueskyServer(brand="acme.bsky.example", seed=None, app_password=BSKY_PASSWORD) as server:
        server.add_post(author="zoe.bsky.example", text="where is my order?", mention_brand=True)
        channel = BlueskyChannel("bsky", server.base_url, BSKY_PASSWORD, handle="acme.bsky.example")
        async with inbox_on(tmp_path, "bsky", channel) as (_store, _engine, app), app.run_test() as pilot:
            await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
            await pilot.press("r")
            assert isinstance(app.screen, ComposeScreen)
            said = str(app.screen.query_one("#compose-visibility").render())
            assert said.startswith("Visible to: public") and "only choice" in said
            await pilot.press("ctrl+o")  # nothing to choose: it stays public
            assert str(app.screen.query_one("#compose-visibility").render()) == said
        await channel.aclose()
