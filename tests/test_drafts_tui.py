"""Drafts in the inbox: what is typed in a box reaches the store within a second, comes back when
the box opens again (after ctrl+q too), marks the row, and goes when the reply is queued or the
text is discarded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, settings_for, wait_until
from test_redirect_flows import french_complaint, two_channels
from textual.widgets import Input, OptionList, TextArea

from ecoinbox.model import DraftKind
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen, TopicDraft
from ecoinbox.tui.screens.triage import NoteScreen
from ecoinbox.tui.widgets.conversation_list import triage_prefix

ZOE = "@zoe@remote.example "


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        t = FIXED_NOW - timedelta(hours=3)
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé",
                                text="@acme my order never arrived", created_at=t)  # fmt: skip
        stack.server.add_status(author="bob", display_name="Bob", text="@acme how do I export my data?",
                                created_at=t + timedelta(hours=1))  # fmt: skip
        await stack.engine.poll_all_once()
        yield stack


DRAFT_WAIT = 0.8
SAVED_WITHIN = 2.0  # saves come every half second; the slack is for a loaded CI machine


async def saved_soon(store, conversation_id, kind, until: Callable[[str], bool] | None = None) -> None:
    """Wait (without a key pressed) until the box's draft is in the store: a second, give or take;
    with `until`, until its saved text says so (the last keystrokes' save has run: on a loaded
    machine that can come after the first save by more than a fixed pause)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while (draft := await store.draft(conversation_id, kind)) is None or (until and not until(draft.text)):
        waited = loop.time() - start
        assert draft is not None or waited < SAVED_WITHIN, f"no {kind} draft saved"
        if waited > 2 * SAVED_WITHIN + DRAFT_WAIT:
            return  # the caller's assertion says what the draft holds instead
        await asyncio.sleep(0.05)
    if until is None:
        await asyncio.sleep(DRAFT_WAIT)  # and the last keystrokes' save has run too


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


async def test_a_reply_being_typed_is_in_the_store_within_a_second_and_back_after_ctrl_q(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")  # Zoé
        zoe = app.inbox.conversations.selected_id
        await pilot.press("r", *"we are checking with the carrier")
        assert isinstance(app.screen, ComposeScreen)
        await saved_soon(stack.store, zoe, DraftKind.REPLY, until=lambda text: text.endswith("carrier"))
        draft = await stack.store.draft(zoe, DraftKind.REPLY)
        assert draft is not None and draft.text == ZOE + "we are checking with the carrier"
        await pilot.press(*" today")  # typed after the last save: ctrl+q saves it on the way out
        await pilot.press("ctrl+q")
        await wait_until(lambda: app.return_code is not None, pilot=pilot)
    assert app.farewell and "reply to Zoé" in app.farewell
    kept = await stack.store.draft(zoe, DraftKind.REPLY)
    assert kept is not None and kept.text == ZOE + "we are checking with the carrier today"
    assert await stack.store.outbox_items() == []

    again = app_for(stack)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.press("G", "r")
        assert isinstance(again.screen, ComposeScreen)
        area = again.screen.query_one(TextArea)
        assert area.text == ZOE + "we are checking with the carrier today"
        await pilot.press(*" and will write back")  # the cursor is at the end of the draft
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(again.screen, ComposeScreen), pilot=pilot)
        (queued,) = await stack.store.outbox_items()
        assert queued.text == ZOE + "we are checking with the carrier today and will write back"
        assert await stack.store.draft(zoe, DraftKind.REPLY) is None  # queued: the draft is gone
        await pilot.pause(DRAFT_WAIT)  # no late save brings it back
        assert await stack.store.draft(zoe, DraftKind.REPLY) is None


async def test_the_list_marks_a_conversation_that_holds_a_draft(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        zoe = app.inbox.conversations.selected_id
        row = await stack.store.conversation_row(zoe)
        assert "draft" not in triage_prefix(row, FIXED_NOW)
        await pilot.press("r", *"half a thought")
        await wait_until(lambda: _marked(app, zoe), pilot=pilot)  # drawn in the list behind the box
        row = await stack.store.conversation_row(zoe)
        assert row.draft and "✎draft" in triage_prefix(row, FIXED_NOW)
        # esc, then "Discard": the text is thrown away, and so is the draft and its mark.
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(lambda: not _marked(app, zoe), pilot=pilot)
        assert await stack.store.draft(zoe, DraftKind.REPLY) is None
        await pilot.press("r")
        assert app.screen.query_one(TextArea).text == ZOE  # afresh


def _marked(app, conversation_id) -> bool:
    """Whether the cursor's row (the conversation's) is drawn with the mark."""
    conversations = app.inbox.conversations
    assert conversations.selected_id == conversation_id
    line = conversations.render_line(conversations.cursor_index - int(conversations.scroll_offset.y))
    return "✎draft" in line.text


async def test_a_note_being_typed_is_kept_and_goes_once_saved(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        bob = app.inbox.conversations.selected_id
        await pilot.press("n", *"asked twice already")
        assert isinstance(app.screen, NoteScreen)
        await saved_soon(stack.store, bob, DraftKind.NOTE, until=lambda text: text.endswith("already"))
        assert (await stack.store.draft(bob, DraftKind.NOTE)).text == "asked twice already"
        await pilot.press("ctrl+q")
        await wait_until(lambda: app.return_code is not None, pilot=pilot)
    again = app_for(stack)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        assert again.screen.query_one(TextArea).text == "asked twice already"
        await pilot.press(*", call him", "ctrl+s")
        await wait_until(lambda: again.screen is again.inbox, pilot=pilot)
        await pilot.pause(DRAFT_WAIT)
        conversation = await stack.store.conversation(bob)
        assert [note.text for note in conversation.notes] == ["asked twice already, call him"]
        assert await stack.store.draft(bob, DraftKind.NOTE) is None


async def test_a_redirect_and_a_new_topic_being_typed_come_back_and_go_once_queued(tmp_path):
    async with two_channels(tmp_path) as (social, _forum, store, engine, settings):
        french_complaint(social)
        await engine.poll_channel("mastodon")
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            lea = app.inbox.conversations.selected_id
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            await pilot.press("enter")  # the refund canned reply
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            await pilot.press(*" Bonne journée")
            await saved_soon(store, lea, DraftKind.REDIRECT, until=lambda text: text.endswith("journée"))
            redirect = await store.draft(lea, DraftKind.REDIRECT)
            assert redirect is not None and redirect.text.endswith("/t/refunds/1 Bonne journée")
            await pilot.press("ctrl+q")
            await wait_until(lambda: app.return_code is not None, pilot=pilot)
        assert "redirect of Léa" in app.farewell

        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("f")  # straight back to the redirect being written
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            assert app.screen.query_one(TextArea).text == redirect.text
            await pilot.press("escape", "y")  # discarded: f offers the choice again
            await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
            await wait_until(lambda: _no_draft(store, lea, DraftKind.REDIRECT), pilot=pilot)
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1  # "New forum topic…" comes last
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            await pilot.press("end", *" (colis 4411)")  # at the end of the title
            await saved_soon(store, lea, DraftKind.TOPIC, until=lambda text: "(colis 4411)" in text)
            topic = await store.draft(lea, DraftKind.TOPIC)
            assert topic is not None and TopicDraft.from_draft(topic.text).title.endswith(" (colis 4411)")
            await pilot.press("ctrl+q")
            await wait_until(lambda: app.return_code is not None, pilot=pilot)

        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            title = app.screen.query_one("#topic-title", Input).value
            assert title.startswith("Ma commande") and title.endswith(" (colis 4411)")
            await pilot.press("ctrl+s")
            await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
            await pilot.pause(DRAFT_WAIT)
        queued = await store.outbox_items()
        assert [item.title for item in queued if item.title] == [title]
        assert await store.draft(lea, DraftKind.TOPIC) is None
        assert not (await store.conversation_row(lea)).draft


async def _no_draft(store, conversation_id, kind) -> bool:
    return await store.draft(conversation_id, kind) is None


async def test_a_reply_taken_back_with_u_is_a_draft_again(stack):
    settings = settings_for(stack.server.base_url, stack.settings.data_path, "send_delay = 30")
    app = EcoInboxApp(settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        zoe = app.inbox.conversations.selected_id
        await pilot.press("r", *"on its way", "ctrl+s")
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        assert await stack.store.draft(zoe, DraftKind.REPLY) is None  # queued (held): no draft
        await pilot.press("u")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        # Unsent again: kept at once, before any key (a kill -9 now must not lose it).
        await saved_soon(stack.store, zoe, DraftKind.REPLY, until=lambda text: text.endswith("on its way"))
        assert (await stack.store.draft(zoe, DraftKind.REPLY)).text == ZOE + "on its way"
