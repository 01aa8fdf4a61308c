"""Answering one message of a thread, and who sees the reply: pressed key by key, checked on the
local Mastodon server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from textual.widgets import Static, TextArea

from ecoinbox.model import DraftKind
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen, DiscardQuestion
from ecoinbox.tui.widgets.thread_view import CHOSEN_MARK


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


def a_thread_of_three(server, visibility: str = "public") -> dict[str, dict]:
    """Zoé asks, Bob answers her, Cam adds a word: one conversation, three people."""
    t = FIXED_NOW - timedelta(hours=3)
    zoe = server.add_status(
        author="zoe@remote.example",
        display_name="Zoé",
        visibility=visibility,
        text="@acme my order 4411 never arrived, what now?",
        created_at=t,
    )
    bob = server.add_status(
        author="bob",
        display_name="Bob",
        in_reply_to_id=zoe["id"],
        visibility=visibility,
        text="@zoe@remote.example @acme same here with 4412",
        created_at=t + timedelta(hours=1),
    )
    cam = server.add_status(author="cam@other.example", display_name="Cam", in_reply_to_id=bob["id"],
                            visibility=visibility, text="@bob @acme mine came late but fine",
                            created_at=t + timedelta(hours=2))  # fmt: skip
    return {"zoe": zoe, "bob": bob, "cam": cam}


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.posts = a_thread_of_three(stack.server)
        await stack.engine.poll_all_once()
        yield stack


def _box_text(app) -> str:
    return " ".join(str(s.render()) for s in app.screen.query(Static))


async def test_an_older_message_of_another_person_is_answered(stack):
    await stack.engine.start()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
        await pilot.press("left_square_bracket", "left_square_bracket")  # Cam (newest), Bob, then Zoé
        assert screen.thread.chosen == stack.posts["zoe"]["id"]
        marked = [line for line in screen.thread.content.plain.splitlines() if line.startswith(CHOSEN_MARK)]
        assert len(marked) == 1 and "Zoé" in marked[0] and "r answers this" in marked[0]
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        said = _box_text(app)
        assert "Reply to Zoé" in said and "my order 4411 never arrived" in said
        assert app.screen.query_one(TextArea).text == "@zoe@remote.example "
        await pilot.press(*"we are on it", "ctrl+s")
        await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
    (posted,) = stack.server.posted
    assert posted.in_reply_to_id == stack.posts["zoe"]["id"]
    assert posted.text == "@zoe@remote.example we are on it"


async def test_without_a_pick_r_answers_the_newest_and_brackets_come_back(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
        await pilot.press("left_square_bracket", "right_square_bracket", "right_square_bracket")
        assert screen.thread.chosen == stack.posts["cam"]["id"]  # newer than the newest stays there
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.draft.parent.remote_id == stack.posts["cam"]["id"]


async def test_a_kept_draft_answers_the_message_it_was_begun_for(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
        conversation_id = screen.conversations.selected_id
        await pilot.press("left_square_bracket", "r", *"for bob", "escape")
        assert isinstance(app.screen, DiscardQuestion)
        await pilot.press("d")  # close the box, keep the draft
        assert app.screen is app.inbox
        await wait_until(lambda: stack.store.draft(conversation_id, DraftKind.REPLY), pilot=pilot)
        draft = await stack.store.draft(conversation_id, DraftKind.REPLY)
        assert draft.text.endswith("for bob") and draft.parent_remote_id == stack.posts["bob"]["id"]
        # Another conversation and back: the pick is gone, the draft still answers Bob.
        screen.thread.show(None)
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.draft.parent.remote_id == stack.posts["bob"]["id"]
        assert app.screen.query_one(TextArea).text.endswith("for bob")


async def test_esc_can_keep_the_draft_and_says_so(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation_id = app.inbox.conversations.selected_id
        await pilot.press("r", *"half a thought", "escape")
        assert "d: Keep as draft" in _box_text(app)
        await pilot.press("d")
        assert app.screen is app.inbox
        await wait_until(lambda: stack.store.draft(conversation_id, DraftKind.REPLY), pilot=pilot)
        status = str(app.inbox.query_one("#status", Static).render())
        assert "Draft kept (reply to Cam)" in status
    assert await stack.store.outbox_items() == []


async def test_the_reply_box_shows_the_parents_visibility_and_sends_with_it(tmp_path):
    async with running_stack(tmp_path) as stack:
        posts = a_thread_of_three(stack.server, visibility="private")
        await stack.engine.poll_all_once()
        await stack.engine.start()
        app = app_for(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("r")
            assert "Visible to: followers only" in _box_text(app)
            await pilot.press("ctrl+o")  # private -> direct: narrower, no question
            assert "direct" in _box_text(app)
            await pilot.press(*"checking", "ctrl+s")
            assert not isinstance(app.screen, ConfirmScreen)
            await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
        (posted,) = stack.server.posted
        assert posted.in_reply_to_id == posts["cam"]["id"] and posted.visibility == "direct"


async def test_a_reply_more_public_than_its_parent_asks_first(tmp_path):
    async with running_stack(tmp_path) as stack:
        a_thread_of_three(stack.server, visibility="private")
        await stack.engine.poll_all_once()
        await stack.engine.start()
        app = app_for(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("r", "ctrl+o", "ctrl+o")  # private -> direct -> public
            assert "more public than the post it answers" in _box_text(app)
            await pilot.press(*"open to all", "ctrl+s")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")  # keep editing: nothing queued
            assert isinstance(app.screen, ComposeScreen)
            assert await stack.store.outbox_items() == []
            await pilot.press("ctrl+s", "y")
            await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
        (posted,) = stack.server.posted
        assert posted.visibility == "public" and posted.text.endswith("open to all")


async def test_help_names_the_new_keys(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        text = str(app.screen.query_one(Static).render())
    for binding_id in ("inbox.older_message", "inbox.newer_message", "compose.visibility", "compose.reply_all",
                       "confirm.keep_draft"):  # fmt: skip
        assert binding_id in text, binding_id
    assert any(line.strip().startswith("[") and "older message" in line for line in text.splitlines())


async def test_a_reply_taken_back_keeps_the_message_it_answers_and_its_visibility(tmp_path):
    async with running_stack(tmp_path, extra_ui="send_delay = 30") as stack:
        posts = a_thread_of_three(stack.server)
        await stack.engine.poll_all_once()
        app = app_for(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
            await pilot.press("left_square_bracket", "r", "ctrl+o", "ctrl+o", "ctrl+o", *"only you", "ctrl+s")
            await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
            (item,) = await stack.store.outbox_items()
            assert item.visibility == "direct" and item.parent_remote_id == posts["bob"]["id"]
            await pilot.press("u")  # taken back within the hold: the box again, as it was
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            assert app.screen.draft.parent.remote_id == posts["bob"]["id"]
            assert "Visible to: direct" in _box_text(app)
