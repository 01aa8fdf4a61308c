"""The Outbox view (w, or the last tab while something waits): every reply not sent yet, with
its state, reason and next attempt; enter opens its conversation, S sends now, E edits, D
cancels. Checked in the store, in the history and on the local Mastodon server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import running_stack, settings_for, wait_until
from textual.widgets import DataTable, TextArea

from ecoinbox.model import OutboxState, View
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.inbox import InboxScreen
from ecoinbox.tui.screens.outbox import OutboxDecisionScreen
from ecoinbox.tui.screens.outbox_view import OutboxScreen

DOWN = '{"error": "Service Unavailable: the database is down"}'


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(author="bob", display_name="Bob", text="@acme how do I export my data?")
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé",
                                text="@acme my order never arrived")  # fmt: skip
        await stack.engine.poll_all_once()
        # Who acts is recorded by name: the history must say "ana", not "manager".
        me = '[team]\nme = "ana"'
        stack.settings = settings_for(stack.server.base_url, tmp_path / "inbox.db", extra=me)
        yield stack


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine)


async def item(stack, item_id: int):
    return next(i for i in await stack.store.outbox_items() if i.id == item_id)


async def conversation_of(stack, name: str):
    rows = await stack.store.conversation_page(View.INBOX)
    row = next(r for r in rows if r.author_label == name)
    return row, (await stack.store.conversation(row.id)).messages[-1].message


async def waiting_an_hour(stack, name: str, text: str):
    """A reply whose send hit a server that was down, its next attempt an hour away."""
    row, parent = await conversation_of(stack, name)
    queued = await stack.store.queue_reply(row.id, parent, text)
    claimed = await stack.store.claim_next_reply("a sender")
    await stack.store.reply_retry(claimed, "503 Service Unavailable", stack.store.now() + timedelta(hours=1))
    return row, queued


def table_text(app) -> str:
    table = app.screen.query_one(DataTable)
    return "\n".join(" ".join(str(cell) for cell in table.get_row_at(n)) for n in range(table.row_count))


async def open_outbox(app, pilot) -> None:
    await pilot.press("w")
    await wait_until(lambda: isinstance(app.screen, OutboxScreen), pilot=pilot)


async def history(stack, conversation_id: int) -> list[tuple[str, str]]:
    return [(actor, action) for _, actor, action, _, _ in await stack.store.history(conversation_id)]


async def test_a_reply_stuck_against_a_server_that_is_down_is_cancelled_and_never_sent(stack):
    stack.server.inject("/api/v1/statuses", status=503, body=DOWN, times=100_000)
    await stack.engine.start()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        zoe = app.inbox.conversations.selected_id  # newest first: Zoé
        await pilot.press("r", *"sorry, we are on it", "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        (queued,) = await stack.store.outbox_items()

        async def retrying() -> bool:
            now = await item(stack, queued.id)
            return now.state is OutboxState.QUEUED and now.attempts >= 1 and "database is down" in now.error

        await wait_until(retrying, pilot=pilot)
        await open_outbox(app, pilot)
        await wait_until(lambda: "retrying" in table_text(app), pilot=pilot)
        listed = table_text(app)
        assert "Zoé" in listed and "database is down" in listed and "mastodon" in listed
        await pilot.press("D")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("y")
        await wait_until(lambda: isinstance(app.screen, OutboxScreen), pilot=pilot)

        async def discarded() -> bool:  # written by the screen once the confirmation closes
            return (await item(stack, queued.id)).state is OutboxState.DISCARDED

        await wait_until(discarded, pilot=pilot)
        await wait_until(lambda: app.screen.query_one(DataTable).row_count == 0, pilot=pilot)
        assert ("ana", "reply discarded") in await history(stack, zoe)

        # The server comes back: the sender runs past the time the reply was due, and another
        # reply in the same conversation (which would have waited behind it) goes out alone.
        stack.server.clear_faults()
        due = (await item(stack, queued.id)).next_attempt_at
        await wait_until(lambda: stack.store.now() > due + timedelta(seconds=0.5), pilot=pilot)
    zoe_row = await stack.store.conversation_row(zoe)
    parent = (await stack.store.conversation(zoe)).messages[-1].message
    later = await stack.store.queue_reply(zoe_row.id, parent, "@zoe@remote.example a later reply")
    await wait_until(lambda: stack.server.posted)
    await wait_until(lambda: item_is(stack, later.id, OutboxState.SENT))
    assert [post.text for post in stack.server.posted] == ["@zoe@remote.example a later reply"]
    assert (await item(stack, queued.id)).state is OutboxState.DISCARDED


async def item_is(stack, item_id: int, state: OutboxState) -> bool:
    return (await item(stack, item_id)).state is state


async def test_send_now_sends_a_reply_waiting_for_its_retry_at_once(stack):
    row, queued = await waiting_an_hour(stack, "Bob", "@bob Settings, then Export.")
    await stack.engine.start()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_outbox(app, pilot)
        listed = table_text(app)
        assert "retrying" in listed and "in 59m" in listed and "Bob" in listed and "503" in listed
        await pilot.press("S")
        await wait_until(lambda: stack.server.posted, pilot=pilot)
        await wait_until(lambda: item_is(stack, queued.id, OutboxState.SENT), pilot=pilot)
        await wait_until(lambda: app.screen.query_one(DataTable).row_count == 0, pilot=pilot)
    assert [post.text for post in stack.server.posted] == ["@bob Settings, then Export."]
    assert ("ana", "reply send now") in await history(stack, row.id)


async def test_edit_replaces_the_text_of_a_waiting_reply_and_only_the_new_one_goes_out(stack):
    row, queued = await waiting_an_hour(stack, "Bob", "@bob Settings, then Exprot.")
    await stack.engine.start()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_outbox(app, pilot)
        await pilot.press("E")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        area = app.screen.query_one(TextArea)
        assert area.text == "@bob Settings, then Exprot."
        await pilot.press("end", *["backspace"] * 7, *"Export.", "ctrl+s")
        await wait_until(lambda: isinstance(app.screen, OutboxScreen), pilot=pilot)
        edited = await item(stack, queued.id)
        assert edited.text == "@bob Settings, then Export." and edited.state is OutboxState.QUEUED
        assert edited.idempotency_key != queued.idempotency_key  # another text, another request
        assert stack.server.posted == []  # it keeps its retry time
        await pilot.press("S")
        await wait_until(lambda: item_is(stack, queued.id, OutboxState.SENT), pilot=pilot)
    assert [post.text for post in stack.server.posted] == ["@bob Settings, then Export."]
    assert ("ana", "reply edited") in await history(stack, row.id)


async def test_enter_opens_the_conversation_of_the_reply(stack):
    row, _ = await waiting_an_hour(stack, "Bob", "@bob Settings, then Export.")
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.inbox.conversations.selected_row.author_label == "Zoé"  # not Bob's
        await open_outbox(app, pilot)
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, InboxScreen), pilot=pilot)
        await wait_until(lambda: app.inbox.thread.conversation is not None
                         and app.inbox.thread.conversation.row.id == row.id, pilot=pilot)  # fmt: skip
        assert app.inbox.conversations.selected_id == row.id
        assert app.inbox.thread.has_focus


async def test_the_outbox_is_the_last_tab_while_replies_wait(stack):
    await waiting_an_hour(stack, "Bob", "@bob Settings, then Export.")
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        # the tabs are counted once the first rows are on screen (issue 16, goal 1)
        await wait_until(lambda: "Outbox 1" in str(app.inbox.query_one("#tabs").render()), pilot=pilot)
        await pilot.press("shift+tab")  # from Inbox, back round to the last tab
        await wait_until(lambda: isinstance(app.screen, OutboxScreen), pilot=pilot)
        await pilot.press("tab")  # and on round to Inbox
        await wait_until(lambda: isinstance(app.screen, InboxScreen), pilot=pilot)
        assert app.inbox.tab.title == "Inbox"
        await pilot.press(*["tab"] * 6)  # Pending, Snoozed, Done, Spam, Mine, Outbox
        await wait_until(lambda: isinstance(app.screen, OutboxScreen), pilot=pilot)
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, InboxScreen), pilot=pilot)
        assert app.inbox.view is View.MINE


async def test_a_refused_reply_gets_the_decisions_and_help_lists_the_outbox_keys(stack):
    await stack.engine.start()
    row, parent = await conversation_of(stack, "Zoé")
    too_long = await stack.store.queue_reply(row.id, parent, "@zoe@remote.example sorry" + "!" * 491)
    await wait_until(lambda: item_is(stack, too_long.id, OutboxState.FAILED))
    app = app_for(stack)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_outbox(app, pilot)
        assert "refused" in table_text(app) and "character limit" in table_text(app)
        await pilot.press("question_mark")
        text = str(app.screen.query_one("Static").render())
        for binding in [*OutboxScreen.BINDINGS, *InboxScreen.BINDINGS]:
            assert binding.id in text, binding.id
        await pilot.press("escape")
        await pilot.press("S")  # refused: sent again only after a decision
        await wait_until(lambda: isinstance(app.screen, OutboxDecisionScreen), pilot=pilot)
        await pilot.press("d")
        await wait_until(lambda: item_is(stack, too_long.id, OutboxState.DISCARDED), pilot=pilot)
    assert stack.server.posted == []
    assert ("ana", "reply discarded") in await history(stack, row.id)


async def test_the_store_changes_a_reply_only_while_no_sender_holds_it(stack):
    row, parent = await conversation_of(stack, "Zoé")
    queued = await stack.store.queue_reply(row.id, parent, "@zoe@remote.example first")
    claimed = await stack.store.claim_next_reply("a sender")  # being sent this instant
    assert claimed.state is OutboxState.SENDING
    assert await stack.store.cancel_reply(queued.id, actor="ana") is None
    assert await stack.store.edit_reply(queued.id, "other", actor="ana") is None
    assert await stack.store.send_reply_now(queued.id, actor="ana") is None
    assert (await item(stack, queued.id)).state is OutboxState.SENDING
    await stack.store.reply_retry(claimed, "502 Bad Gateway", stack.store.now() + timedelta(hours=1))
    listed = await stack.store.unsent_replies()
    assert [(r.item.id, r.to) for r in listed] == [(queued.id, "Zoé")]
    assert (await stack.store.cancel_reply(queued.id, actor="ana")).state is OutboxState.DISCARDED
    assert await stack.store.cancel_reply(queued.id, actor="ana") is None  # once
    assert await stack.store.claim_next_reply("a sender") is None  # never claimed again
    assert await stack.store.unsent_replies() == []
    # A forum topic cancelled takes the reply that was to carry its address with it.
    topic, reply = await stack.store.queue_redirect_topic(
        row.id, forum_channel="forum", title="Lost order", body="...", category=None, parent=parent,
        reply_text="@zoe@remote.example see {topic_url}",
    )  # fmt: skip
    assert [r.item.id for r in await stack.store.unsent_replies()] == [reply.id, topic.id]  # newest first
    await stack.store.cancel_reply(topic.id, actor="ana")
    assert (await item(stack, reply.id)).state is OutboxState.DISCARDED
