"""`r` and `f` on a conversation from a read-only channel (a feed): why not, and where to go."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from configs import channel_toml, config_toml
from stack import FIXED_NOW, wait_until

from ecoinbox.channels.feed import FeedChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.wordpress.server import WordPressServer
from ecoinbox.engine import Engine
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen


async def test_reply_on_a_feed_says_why_not_and_copies_the_page_link(tmp_path: Path):
    async with WordPressServer(seed=None, public_url="https://fans.example") as site:
        post = site.add_post("review", "Widget review", FIXED_NOW - timedelta(days=2))
        comment = site.add_comment(post=post, author="Nadia", text="<p>Acme app drops Bluetooth?</p>",
                                   created_at=FIXED_NOW - timedelta(hours=3))  # fmt: skip
        store = await open_store(tmp_path / "inbox.db")
        channel = FeedChannel("fans", site.base_url)
        engine = Engine(store, {"fans": channel}, poll_intervals={"fans": 3600})
        feed = channel_toml(kind="feed", name="fans", base_url=site.base_url, poll_interval=3600)
        forum = channel_toml(kind="discourse", name="forum", base_url="https://forum.example")
        text = config_toml(feed, forum, '[forum]\nchannel = "forum"\n', store=tmp_path / "inbox.db")
        settings = parse_config(text, Path("test.toml"))
        try:
            await engine.start()
            await wait_until(lambda: "fans" in engine.capabilities)
            await wait_until(lambda: _has_conversation(store))
            app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
            notified: list[str] = []
            async with app.run_test(size=(100, 30)) as pilot:
                show = app.notify

                def notify(message: str, **options: object) -> None:
                    notified.append(str(message))
                    show(message, **options)

                app.notify = notify  # type: ignore[method-assign]
                await wait_until(lambda: app.inbox.conversations.selected_id is not None, pilot=pilot)
                await pilot.press("r")
                await pilot.pause(0.1)
                assert not isinstance(app.screen, ComposeScreen)
                url = f"https://fans.example/review/#comment-{comment}"
                assert any("read-only" in n and url in n for n in notified), notified
                assert app.clipboard == url
                notified.clear()
                await pilot.press("f")
                await wait_until(lambda: notified, pilot=pilot)
                assert "read-only" in notified[0]
                assert [i for i in await store.outbox_items()] == []  # nothing queued, nothing to fail
        finally:
            await engine.stop()
            await store.close()
            await channel.aclose()


async def _has_conversation(store) -> bool:
    from ecoinbox.model import View

    return bool(await store.conversation_page(View.INBOX))


async def test_a_feed_is_read_only_before_its_first_poll_too(tmp_path: Path):
    from ecoinbox.model import Author, Message, Origin

    store = await open_store(tmp_path / "inbox.db")
    nadia = Author("fans", "n", "Nadia")
    await store.ingest([Message(channel="fans", remote_id="c1", author=nadia, text="Acme app drops Bluetooth?",
                                created_at=FIXED_NOW - timedelta(hours=3), url="https://fans.example/review/#c1",
                                origin=Origin.MENTION)])  # fmt: skip
    feed = channel_toml(kind="feed", name="fans", base_url="https://fans.example")
    settings = parse_config(config_toml(feed, store=tmp_path / "inbox.db"), Path("test.toml"))
    app = EcoInboxApp(settings, store, None, now=lambda: FIXED_NOW)  # no engine: nothing polled yet
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("r")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ComposeScreen)
            assert app.clipboard == "https://fans.example/review/#c1"
    finally:
        await store.close()
