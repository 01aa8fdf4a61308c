"""A mail reply's To, Cc and Subject in the reply box: shown, edited, reply-all, and what the local
SMTP server received; left as they are, the channel's own choice (a list mail goes to the list)."""

from __future__ import annotations

import email
import email.policy
from contextlib import asynccontextmanager
from datetime import timedelta

from stack import FIXED_NOW, settings_for, wait_until
from test_channel_email import NOW, Mail, needs_dovecot
from test_channel_email import mail as mail  # noqa: PLC0414 - the Dovecot and SMTP fixture, shared
from textual.widgets import Input, TextArea

from ecoinbox.demo.email.seed import BRAND, LIST_ADDRESS, LIST_FOLDER
from ecoinbox.engine import Engine
from ecoinbox.model import OutboxState
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen


@asynccontextmanager
async def inbox_on(tmp_path, mail: Mail):
    channel = mail.channel()
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"email": channel}, poll_intervals={"email": 3600}, leased=False)
    try:
        await engine.poll_all_once()
        settings = settings_for("http://127.0.0.1:9", tmp_path / "inbox.db")
        yield channel, store, engine, EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
    finally:
        await engine.stop()
        await store.close()
        await channel.aclose()


async def _all_sent(store) -> bool:
    items = await store.outbox_items()
    return bool(items) and all(item.state is OutboxState.SENT for item in items)


def _value(app, field: str) -> str:
    return app.screen.query_one(f"#compose-{field}", Input).value


@needs_dovecot
async def test_the_edited_to_cc_and_subject_reach_the_smtp_server(mail: Mail, tmp_path):
    await mail.deliver(subject="Order 4411", body="It never came.", message_id="order@mail.example",
                       to=f"{BRAND}, Max <max@mail.example>",
                       extra={"Cc": "Léa <lea@mail.example>"})  # fmt: skip
    typed = "We are sending a new one today."
    async with inbox_on(tmp_path, mail) as (channel, store, engine, app):
        await engine.start()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
            assert "Order 4411" in app.inbox.thread.content.plain  # the subject heads the thread
            row = app.inbox.conversations.render_line(0).text
            assert "Order 4411 · It never came." in row  # and the list row, before the newest words
            await pilot.press("r")
            assert isinstance(app.screen, ComposeScreen)
            assert (_value(app, "to"), _value(app, "cc"), _value(app, "subject")) == (
                "zoe@mail.example", "", "Re: Order 4411")  # fmt: skip
            await pilot.press("ctrl+r")  # reply to all: the others in Cc, our own address aside
            assert _value(app, "cc") == "max@mail.example, lea@mail.example"
            await pilot.press("shift+tab", "ctrl+u", *"Your new parcel", "tab")  # the subject, edited
            assert isinstance(app.screen.focused, TextArea)
            await pilot.press(*typed, "ctrl+s")
            await wait_until(lambda: len(mail.smtp.received) == 1, pilot=pilot)
            await wait_until(lambda: _all_sent(store), pilot=pilot)  # its copy is filed in Sent by then
        (received,) = mail.smtp.received
        assert sorted(received.recipients) == ["lea@mail.example", "max@mail.example", "zoe@mail.example"]
        sent = email.message_from_bytes(received.raw, policy=email.policy.default)
        assert (sent["To"], sent["Cc"], sent["Subject"]) == (
            "zoe@mail.example", "max@mail.example, lea@mail.example", "Your new parcel")  # fmt: skip
        assert sent["In-Reply-To"] == "<order@mail.example>"
        (item,) = await store.outbox_items()
        assert item.subject == "Your new parcel" and item.cc == ("max@mail.example", "lea@mail.example")
        # The read-back of an uncertain send still finds it (in Sent), by its Message-ID.
        parent = await store.message("email", "order@mail.example")
        found = await channel.find_sent(parent, typed, "", NOW - timedelta(days=1))
        assert found is not None and f"<{found.remote_id}>" == sent["Message-ID"]


@needs_dovecot
async def test_headers_left_as_they_are_let_a_list_mail_go_to_the_list(mail: Mail, tmp_path):
    await mail.deliver(LIST_FOLDER, subject="[entraide] Export CSV ?", body="Comment ?", message_id="csv@x.example",
                       to=LIST_ADDRESS, extra={"List-Post": f"<mailto:{LIST_ADDRESS}>"})  # fmt: skip
    async with inbox_on(tmp_path, mail) as (_channel, store, engine, app):
        await engine.start()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
            await pilot.press("r", *"Dans Réglages > Données.", "ctrl+s")
            await wait_until(lambda: len(mail.smtp.received) == 1, pilot=pilot)
        assert mail.smtp.received[0].recipients == (LIST_ADDRESS,)
        (item,) = await store.outbox_items()
        assert (item.to, item.cc, item.subject) == ((), (), None)


@needs_dovecot
async def test_a_reply_to_nobody_is_refused_in_the_box(mail: Mail, tmp_path):
    await mail.deliver(subject="Hello", body="Hi", message_id="hello@mail.example")
    async with inbox_on(tmp_path, mail) as (_channel, store, _engine, app):
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
            await pilot.press("r")
            app.screen.query_one("#compose-to", Input).value = "not an address"
            await pilot.press(*"hi", "ctrl+s")
            assert isinstance(app.screen, ComposeScreen)
        assert await store.outbox_items() == []
