"""A manager's flows, pressed key by key, checked in the store and on the (local) platform."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from textual.widgets import TextArea

from ecoinbox.model import OutboxState, State, View
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.contact import AccountPicker, ContactNoteScreen, ContactScreen
from ecoinbox.tui.screens.help import HelpScreen
from ecoinbox.tui.screens.inbox import InboxScreen
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen
from ecoinbox.tui.screens.triage import AssignScreen, NoteScreen, SnoozeScreen, TagPrompt
from ecoinbox.tui.widgets.conversation_list import ConversationList
from ecoinbox.tui.widgets.search_bar import SearchBar
from ecoinbox.tui.widgets.thread_view import ThreadView


def seed_three(server) -> dict[str, dict]:
    """Three people writing to the brand, oldest first."""
    t = FIXED_NOW - timedelta(hours=3)
    return {
        "zoe": server.add_status(author="zoe@remote.example", display_name="Zoé",
                                 text="@acme my order never arrived", created_at=t),
        "bob": server.add_status(author="bob", display_name="Bob",
                                 text="@acme how do I export my data?", created_at=t + timedelta(hours=1)),
        "cam": server.add_status(author="cam@other.example", display_name="Cam",
                                 text="@acme love the new release", created_at=t + timedelta(hours=2)),
    }  # fmt: skip


async def inbox_ids(store, view=View.INBOX) -> list[int]:
    return [row.id for row in await store.conversation_page(view)]


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.posts = seed_three(stack.server)
        await stack.engine.poll_all_once()
        yield stack


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


async def test_moving_shows_the_selected_thread(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        first = screen.conversations.selected_row
        assert first.author_label == "Cam"  # newest need first
        await pilot.press("j")
        await wait_until(lambda: screen.thread.conversation is not None
                         and screen.thread.conversation.row.author_label == "Bob", pilot=pilot)  # fmt: skip
        await pilot.press("k")
        await wait_until(lambda: screen.thread.conversation.row.id == first.id, pilot=pilot)
        await pilot.press("G")
        assert screen.conversations.selected_row.author_label == "Zoé"
        await pilot.press("enter")
        assert screen.thread.has_focus
        await pilot.press("escape")
        assert screen.conversations.has_focus


async def test_reply_reaches_the_platform_once_and_comes_back_as_sent(stack):
    await stack.engine.start()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("G")  # Zoé
        conversation_id = screen.conversations.selected_id
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "@zoe@remote.example "
        await pilot.press(*"Sorry! DM us your order number.")
        await pilot.press("ctrl+s")  # the box closes once the reply is safely in the outbox
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
        await wait_until(lambda: _sent(stack.store, conversation_id), pilot=pilot)
        await pilot.pause(0.2)
    (posted,) = stack.server.posted
    assert posted.in_reply_to_id == stack.posts["zoe"]["id"]
    assert posted.text == "@zoe@remote.example Sorry! DM us your order number."
    assert posted.visibility == "public" and posted.idempotency_key
    thread = await stack.store.conversation(conversation_id)
    assert thread.messages[-1].message.is_ours
    assert thread.messages[-1].message.remote_id == posted.id
    assert thread.outbox == [] and not thread.row.needs_reply


async def _sent(store, conversation_id) -> bool:
    items = [i for i in await store.outbox_items() if i.conversation_id == conversation_id]
    return bool(items) and items[0].state is OutboxState.SENT


async def test_done_leaves_the_inbox_and_a_new_message_reopens_it(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        cam = screen.conversations.selected_id
        await pilot.press("e")
        await wait_until(lambda: screen.conversations.selected_id != cam, pilot=pilot)
        assert cam not in await inbox_ids(stack.store)
        assert cam in await inbox_ids(stack.store, View.DONE)
        await pilot.press("tab", "tab", "tab")  # Pending, Snoozed, Done
        assert screen.view is View.DONE and screen.conversations.selected_id == cam
        await pilot.press("tab", "tab", "tab")  # Spam, Mine, Inbox
        assert screen.view is View.INBOX
        # Cam writes again: the conversation is open again, at the top of the inbox.
        stack.server.add_status(author="cam@other.example", text="@acme one more thing",
                                in_reply_to_id=stack.posts["cam"]["id"])  # fmt: skip
        await stack.engine.poll_all_once()
        await wait_until(lambda: screen.conversations.total == 3, pilot=pilot)
        assert (await stack.store.conversation_row(cam)).state is State.OPEN
        assert (await inbox_ids(stack.store))[0] == cam
        await pilot.press("g")
        assert screen.conversations.selected_id == cam


async def test_spam_and_undo(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        target = screen.conversations.selected_id
        await pilot.press("exclamation_mark")
        await wait_until(lambda: screen.conversations.selected_id != target, pilot=pilot)
        assert (await stack.store.conversation_row(target)).state is State.SPAM
        await pilot.press("u")
        await wait_until(lambda: screen.conversations.selected_id == target, pilot=pilot)
        assert (await stack.store.conversation_row(target)).state is State.OPEN
        await pilot.press("u")  # nothing left to undo: nothing changes
        assert (await stack.store.conversation_row(target)).state is State.OPEN


async def test_cancelling_a_typed_reply_asks_first_and_sends_nothing(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r", *"half a thought", "escape")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.query("#confirm-box Static").first()
        assert question.region.width >= len("Discard this reply?")  # visible, not squeezed to nothing
        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("escape", "y")
        assert app.screen is app.inbox
    assert await stack.store.outbox_items() == []
    assert stack.server.posted == []


async def test_too_long_reply_is_refused_before_the_outbox(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        app.screen.query_one(TextArea).insert("x" * 600)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ComposeScreen)
        assert "/500" in str(app.screen.query_one("#compose-count").render())
    assert await stack.store.outbox_items() == []


async def test_help_lists_every_binding_with_remapped_keys(tmp_path):
    async with running_stack(tmp_path, extra_ui='[ui.keys]\n"inbox.reply" = "ctrl+r"') as stack:
        seed_three(stack.server)
        await stack.engine.poll_all_once()
        app = app_for(stack)
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = str(app.screen.query_one("Static").render())
            every_binding = [
                *app.BINDINGS, *InboxScreen.BINDINGS, *ConversationList.BINDINGS,
                *ThreadView.BINDINGS, *ComposeScreen.BINDINGS, *ConfirmScreen.BINDINGS,
                *HelpScreen.BINDINGS, *CannedPicker.BINDINGS, *ValuePrompt.BINDINGS,
                *RedirectScreen.BINDINGS, *NewTopicScreen.BINDINGS,
                *ContactScreen.BINDINGS, *AccountPicker.BINDINGS, *ContactNoteScreen.BINDINGS,
                *SearchBar.BINDINGS, *SnoozeScreen.BINDINGS, *TagPrompt.BINDINGS, *NoteScreen.BINDINGS,
                *AssignScreen.BINDINGS,
            ]  # fmt: skip
            assert every_binding and all(b.id for b in every_binding)
            for binding in every_binding:
                assert binding.id in text, binding.id
            assert "ctrl+r" in text
            scroller = app.screen.query_one("#help-box")
            await pilot.press("pagedown")
            assert scroller.scroll_offset.y > 0
            await pilot.press("escape")
            await pilot.press("r")  # remapped away: r does nothing now
            assert app.screen is app.inbox
            await pilot.press("ctrl+r")
            assert isinstance(app.screen, ComposeScreen)


async def test_quit_key_exits(stack):
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_conversations_polled_in_the_background_appear_without_a_key(stack):
    await stack.engine.start()  # its tasks run outside the app's context, as in `ecoinbox demo`
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        assert screen.conversations.total == 3
        stack.server.add_status(author="dee@remote.example", display_name="Dee", text="@acme hello?")
        stack.engine.poll_now()
        await wait_until(lambda: screen.conversations.total == 4, pilot=pilot)
        # The tab's count follows the list (the counts are read after the rows).
        await wait_until(lambda: "Inbox 4" in str(screen.query_one("#tabs").render()), pilot=pilot)


async def test_the_thread_says_when_a_reply_will_be_retried_and_when_it_was_refused(stack):
    await stack.engine.start()
    stack.server.inject("/api/v1/statuses", status=503, body='{"error":"busy"}', times=1)
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("r", *"On it!", "ctrl+s")
        await wait_until(lambda: "Will retry" in _thread_text(screen), pilot=pilot)
        assert "queued" in _thread_text(screen) and "On it!" in _thread_text(screen)
        # A reply the platform refuses for good says so, and is not retried.
        stack.server.inject("/api/v1/statuses", status=422,
                            body='{"error":"Validation failed: Text contains a forbidden word"}', times=5)  # fmt: skip
        await pilot.press("j", "r", *"second", "ctrl+s")
        await wait_until(lambda: "not sent" in _thread_text(screen), timeout=20, pilot=pilot)
        assert "forbidden word" in _thread_text(screen)
        assert "will not be retried" in _thread_text(screen)


def _thread_text(screen) -> str:
    return screen.thread.content.plain


async def test_after_answering_the_top_conversation_the_cursor_stays_on_the_next_need(tmp_path):
    async with running_stack(tmp_path) as stack:
        for n in range(30):
            stack.server.add_status(author=f"p{n}", text=f"@acme question {n}",
                                    created_at=FIXED_NOW - timedelta(minutes=30 - n))  # fmt: skip
        await stack.engine.poll_all_once()
        await stack.engine.start()
        app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.inbox
            await wait_until(lambda: screen.conversations.selected_row is not None, pilot=pilot)
            answered = screen.conversations.selected_id
            await pilot.press("r")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            await pilot.press(*"thanks", "ctrl+s")
            await wait_until(lambda: stack.server.posted, pilot=pilot)
            # Answered, it sinks below the conversations still waiting; the cursor stays on top.
            await wait_until(lambda: screen.conversations.selected_id not in (None, answered), pilot=pilot)
            assert screen.conversations.cursor_index == 0
