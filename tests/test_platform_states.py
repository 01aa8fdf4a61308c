"""What real servers say of a post beyond its text, kept and shown: who else it addresses,
held for moderation, deleted (its text hidden, then purged), direct messages and visibility."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock
from stack import FIXED_NOW, running_stack, wait_until
from textual.widgets import TextArea

from ecoinbox.channels.wordpress import WordPressChannel
from ecoinbox.cli import main
from ecoinbox.config import parse_config
from ecoinbox.demo.wordpress.server import WordPressServer
from ecoinbox.engine import Engine
from ecoinbox.model import Author, Message, OutboxState, View
from ecoinbox.query import parse_query
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ZOE = Author("mastodon", "1", "zoe@remote.example", "Zoé")
BRAND = '[brand]\nname = "Acme"\n'


def post(remote_id: str, text: str = "@acme my order never came", **extra) -> Message:
    return Message(channel="mastodon", remote_id=remote_id, author=ZOE, text=text, created_at=T0, **extra)


@pytest.fixture
def clock():
    return Clock(T0 + timedelta(hours=1))


async def test_who_a_post_addresses_is_kept_for_a_reply_after_a_restart(tmp_path):
    path = tmp_path / "inbox.db"
    first = await open_store(path)
    await first.ingest([post("1", mentions=("marcus@other.example", "ann@remote.example"))])
    await first.close()
    again = await open_store(path)
    try:
        stored = await again.message("mastodon", "1")
        assert stored.mentions == ("marcus@other.example", "ann@remote.example")
    finally:
        await again.close()


async def test_a_held_comment_is_marked_on_its_row_until_a_poll_sees_it_approved(store):
    result = await store.ingest([post("1", held=True)])
    (conversation,) = result.conversation_ids
    (row,) = await store.conversation_page(View.INBOX)
    assert row.held and (await store.message("mastodon", "1")).held
    again = await store.ingest([post("1", held=False)])
    assert again.updated == 1 and conversation in again.conversation_ids
    (row,) = await store.conversation_page(View.INBOX)
    assert not row.held and not (await store.message("mastodon", "1")).held


async def test_a_direct_message_is_marked_on_its_row(store):
    await store.ingest(
        [post("1", visibility="direct"), post("2", text="@acme public hello", visibility="public")]
    )
    rows = {r.snippet: r for r in await store.conversation_page(View.INBOX)}
    assert rows["@acme my order never came"].direct
    assert not rows["@acme public hello"].direct


async def test_a_deleted_posts_text_is_purged_after_the_configured_time(store, clock):
    await store.ingest(
        [post("1", text="@acme call me on 555 0100, my card is 4970"), post("2", text="@acme stays")]
    )
    await store.ingest([post("1", text="@acme call me on 555 0100, my card is 4970", deleted=True)])
    assert await store.purge_deleted(timedelta(days=30)) == 0  # seen deleted now: the clock starts
    clock.advance(days=29)
    assert await store.purge_deleted(timedelta(days=30)) == 0
    assert (await store.message("mastodon", "1")).text.startswith("@acme call me")
    clock.advance(days=2)
    assert await store.purge_deleted(timedelta(days=30)) == 1
    gone = await store.message("mastodon", "1")
    assert gone.deleted and gone.text == ""
    rows, _ = await store.search(parse_query("card"))
    assert rows == []  # the search index forgot its words too
    assert (await store.message("mastodon", "2")).text == "@acme stays"


def test_purge_deleted_after_is_a_setting():
    def purge(value: str) -> float | None:
        return parse_config(f'{BRAND}[store]\npurge_deleted_after = "{value}"\n').store.purge_deleted_after

    assert parse_config(BRAND).store.purge_deleted_after == 30 * 86400
    assert purge("7d") == 7 * 86400 and purge("never") is None
    with pytest.raises(Exception, match="purge_deleted_after"):
        purge("soon")


# ---- in the inbox ------------------------------------------------------------------------------


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


def thread_text(app) -> str:
    return app.inbox.thread.content.plain


def inbound(remote_id: str, text: str, **extra) -> Message:
    return Message(channel="mastodon", remote_id=remote_id, author=ZOE, text=text,
                   created_at=FIXED_NOW - timedelta(hours=1), **extra)  # fmt: skip


async def test_the_thread_shows_visibility_held_and_hides_a_deleted_posts_text(tmp_path):
    async with running_stack(tmp_path) as stack:
        await stack.store.ingest(
            [inbound("1", "@acme psst, my address is 12 rue des Lilas", visibility="direct")]
        )
        await stack.store.ingest([inbound("1", "@acme psst, my address is 12 rue des Lilas",
                                          visibility="direct", deleted=True)])  # fmt: skip
        app = app_for(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: "direct message" in thread_text(app), pilot=pilot)
            assert "rue des Lilas" not in thread_text(app)
            assert "deleted on the platform; its text is hidden: m shows it" in thread_text(app)
            assert app.inbox.conversations.selected_row.direct
            await pilot.press("m")
            await wait_until(lambda: "rue des Lilas" in thread_text(app), pilot=pilot)


WP_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"


async def test_r_on_a_held_comment_approves_it_then_replies_on_the_site(tmp_path, monkeypatch):
    """The manager presses r on a comment WordPress holds: asked first; y, text, ctrl+s; the
    outbox approves the comment, then the reply goes under it, once."""
    monkeypatch.setenv("WP_TOKEN", WP_PASSWORD)
    async with WordPressServer(seed=None, app_password=WP_PASSWORD) as site:
        post_id = site.add_post("launch", "Launch day", FIXED_NOW - timedelta(days=1))
        held = site.add_comment(post=post_id, author="Zoé", text="<p>Is this shop legit?</p>", status="hold",
                                created_at=FIXED_NOW - timedelta(hours=1))  # fmt: skip
        settings = parse_config(f"""
[brand]
name = "Acme"
[ui]
send_delay = 0
[store]
path = "{tmp_path / 'inbox.db'}"
[[channels]]
kind = "wordpress"
name = "blog"
base_url = "{site.base_url}"
account = "acme_team"
keyring = false
token_env = "WP_TOKEN"
""")  # fmt: skip
        store = await open_store(tmp_path / "inbox.db")
        channel = WordPressChannel("blog", site.base_url, WP_PASSWORD, account="acme_team")
        engine = Engine(store, {"blog": channel}, poll_intervals={"blog": 3600}, leased=False)
        try:
            await engine.poll_channel("blog")
            app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(lambda: "held for moderation" in thread_text(app), pilot=pilot)
                assert app.inbox.conversations.selected_row.held
                await pilot.press("r")
                await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
                await pilot.press("n")  # not now: nothing queued
                await wait_until(lambda: not isinstance(app.screen, ConfirmScreen), pilot=pilot)
                assert await store.outbox_items() == []
                await pilot.press("r")
                await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
                await pilot.press("y")
                await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
                app.screen.query_one(TextArea).insert("Yes, it is us! Your order is on its way.")
                await pilot.press("ctrl+s")
                await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
            (item,) = await store.outbox_items()
            assert item.approve_parent
            await engine.sender.send_due()
            (sent,) = await store.outbox_items()
            assert sent.state is OutboxState.SENT
        finally:
            await engine.stop()
            await store.close()
        comments = {c["id"]: c for c in site.comments()}
        assert comments[held]["status"] == "approved"
        (reply,) = [c for c in comments.values() if c["parent"] == held]
        assert "Your order is on its way." in reply["content"]["raw"]


async def test_r_on_a_held_message_where_ecoinbox_cannot_approve_says_why(tmp_path):
    async with running_stack(tmp_path) as stack:
        await stack.store.ingest([inbound("1", "@acme hello?", held=True)])
        app = app_for(stack)
        notified: list[str] = []
        async with app.run_test(size=(100, 30)) as pilot:
            show = app.notify

            def notify(message: str, **options: object) -> None:
                notified.append(str(message))
                show(message, **options)

            app.notify = notify  # type: ignore[method-assign]
            await wait_until(lambda: "held for moderation" in thread_text(app), pilot=pilot)
            await pilot.press("r")
            await wait_until(lambda: any("approve it there first" in n for n in notified), pilot=pilot)
            assert not isinstance(app.screen, (ComposeScreen, ConfirmScreen))
        assert await stack.store.outbox_items() == []


def test_show_json_tells_visibility_held_edits_and_who_else_is_addressed(tmp_path, capsys):
    db = tmp_path / "inbox.db"
    edited = T0 + timedelta(minutes=5)

    async def fill() -> int:
        store = await open_store(db)
        await store.ingest(
            [post("1", visibility="direct", held=True, edited_at=edited, mentions=("ann@x.example",))]
        )
        (row,) = await store.conversation_page(View.INBOX)
        await store.close()
        return row.id

    conversation = asyncio.run(fill())
    config = tmp_path / "config.toml"
    config.write_text(f'{BRAND}[store]\npath = "{db}"\n')
    assert main(["--config", str(config), "show", str(conversation), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    (message,) = shown["thread"]
    assert message["visibility"] == "direct" and message["held"] is True
    assert message["edited_at"] == edited.isoformat() and message["mentions"] == ["ann@x.example"]


async def test_a_deleted_post_no_longer_waits_on_us_and_leaves_the_rows_words(store):
    words = "@acme my phone number is 555 0100, call me"
    result = await store.ingest([post("1", text=words)])
    (conversation,) = result.conversation_ids
    await store.ingest([post("1", text=words, deleted=True)])
    row = await store.conversation_row(conversation)
    assert not row.needs_reply and "555" not in row.snippet and "deleted" in row.snippet
    later = Message(channel="mastodon", remote_id="2", author=ZOE, text="@acme sorry, wrong number",
                    created_at=T0 + timedelta(minutes=3), in_reply_to="1")  # fmt: skip
    await store.ingest([later])  # they write again: they wait on us again
    row = await store.conversation_row(conversation)
    assert row.needs_reply and row.snippet == "@acme sorry, wrong number"


async def test_a_post_deleted_on_mastodon_is_noticed_without_an_announcement(tmp_path):
    """Mastodon announces no deletion to the brand: the engine asks after the newest posts of
    open conversations now and then, and a deleted one stops waiting on us."""
    async with running_stack(tmp_path) as stack:
        gone = stack.server.add_status(author="zoe@remote.example", text="@acme my card number is 4970 1234")
        kept = stack.server.add_status(author="bob", text="@acme where is my parcel?")
        await stack.engine.poll_all_once()
        stack.server.delete_status(gone["id"])
        stack.engine.deletion_check = 0.05
        await stack.engine.start()
        await wait_until(lambda: _deleted(stack.store, gone["id"]))
        assert not (await stack.store.message("mastodon", kept["id"])).deleted
        rows = await stack.store.conversation_page(View.INBOX)
        assert [r.snippet for r in rows if r.needs_reply] == ["@acme where is my parcel?"]


async def _deleted(store, remote_id: str) -> bool:
    message = await store.message("mastodon", remote_id)
    return message is not None and message.deleted
