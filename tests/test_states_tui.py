"""Triage from the keyboard: snooze, tags, notes, assignment, bulk selection and undo, waiting ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import Clock
from stack import wait_until

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, Origin, State, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.triage import (
    BULK_LIMIT,
    AssignScreen,
    NoteScreen,
    SnoozeScreen,
    TagPrompt,
    parse_tag_edit,
)
from ecoinbox.tui.widgets.conversation_list import waiting_level

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
PEOPLE = [Author("mastodon", str(n), f"p{n}", name) for n, name in enumerate(["Zoé", "Marc", "Ana"])]


def msg(n: int, author: Author, hours: float, text: str) -> Message:
    return Message(
        channel="mastodon", remote_id=str(n), author=author, text=text,
        created_at=NOW - timedelta(hours=hours), origin=Origin.MENTION,
    )  # fmt: skip


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
async def store(store):
    """The shared empty store, with three people's questions in it."""
    await store.ingest([
        msg(1, PEOPLE[0], 6, "my order never arrived"),
        msg(2, PEOPLE[1], 2, "how do I export my data?"),
        msg(3, PEOPLE[2], 0.2, "love the release"),
    ])  # fmt: skip
    return store


def app_for(store, tmp_path: Path) -> EcoInboxApp:
    settings = parse_config(
        f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "inbox.db"}"\n'
        '[ui]\nwaiting_warn = "1h"\nwaiting_alert = "4h"\n'
        '[team]\nme = "ana"\nmembers = ["bob", "chloé"]\n',
        Path("test.toml"),
    )
    return EcoInboxApp(settings, store, None, now=lambda: NOW)


async def row(store, author: str):
    for view in View:
        for found in await store.conversation_page(view):
            if found.author_label == author:
                return found
    raise AssertionError(author)


async def test_snooze_with_a_preset_and_a_typed_time_then_undo(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        assert screen.conversations.selected_row.author_label == "Ana"
        await pilot.press("s")
        assert isinstance(app.screen, SnoozeScreen)
        await pilot.press("3")  # tomorrow morning
        await wait_until(lambda: screen.conversations.total == 2, pilot=pilot)
        ana = await row(store, "Ana")
        assert ana.state is State.SNOOZED and ana.snoozed_until.astimezone().hour == 9
        # A typed time, for Marc (now under the cursor).
        await pilot.press("s", "tab", *"2d", "enter")
        await wait_until(lambda: screen.conversations.total == 1, pilot=pilot)
        assert (await row(store, "Marc")).snoozed_until == NOW + timedelta(days=2)
        assert await store.count_conversations(View.SNOOZED) == 2
        # A time that cannot be read says what can be typed, and nothing is snoozed.
        await pilot.press("s", "tab", *"soon", "enter")
        assert isinstance(app.screen, SnoozeScreen)
        assert "14:00" in str(app.screen.query_one("#snooze-error").render())
        await pilot.press("escape")
        assert (await row(store, "Zoé")).state is State.OPEN
        await pilot.press("u")
        await wait_until(lambda: screen.conversations.total == 2, pilot=pilot)
        marc = await row(store, "Marc")
        assert marc.state is State.OPEN and marc.snoozed_until is None
        history = await store.history(marc.id)
        assert [h[1] for h in history[-2:]] == ["ana", "ana (undo)"]


async def test_a_snooze_that_ran_out_while_closed_wakes_when_the_inbox_opens(store, tmp_path, clock):
    zoe = await row(store, "Zoé")
    await store.apply_triage([zoe.id], state=State.SNOOZED, snoozed_until=NOW + timedelta(hours=1))
    clock.advance(hours=2)  # ecoinbox was closed meanwhile
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(lambda: app.inbox.conversations.total == 3, pilot=pilot)
        woke = await row(store, "Zoé")
        assert woke.state is State.OPEN and woke.reason == "woke from snooze"
        assert (await store.history(zoe.id))[-1][1] == "snooze"


async def test_tags_with_completion_and_removal(store, tmp_path):
    ana = await row(store, "Ana")
    await store.apply_triage([ana.id], add_tags=["refund"])
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")  # Marc
        await pilot.press("t")
        assert isinstance(app.screen, TagPrompt)
        await pilot.press(*"vip re", "right")  # completes "re" to a tag in use
        assert app.screen.query_one("#tag-input").value == "vip refund"
        await pilot.press("enter")
        await wait_until(lambda: row(store, "Marc"), pilot=pilot)
        await wait_until(lambda: _tags(store, "Marc", ("refund", "vip")), pilot=pilot)
        await pilot.press("t", *"-vip", "enter")
        await wait_until(lambda: _tags(store, "Marc", ("refund",)), pilot=pilot)
        history = [(h[1], h[2], h[3], h[4]) for h in await store.history((await row(store, "Marc")).id)]
        assert ("ana", "untagged", "vip", None) in history


async def _tags(store, author: str, tags: tuple[str, ...]) -> bool:
    return (await row(store, author)).tags == tags


async def test_a_note_is_shown_in_the_thread_and_never_queued(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        conversation_id = screen.conversations.selected_id
        await pilot.press("n")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"Refund approved [b]by phone[/b]", "ctrl+s")
        await wait_until(lambda: _has_note(screen), pilot=pilot)
        lines = [line.plain for line in screen.thread._lines]
        assert any("note by ana" in line for line in lines)
        assert any("Refund approved [b]by phone[/b]" in line for line in lines)  # text, not markup
    notes = (await store.conversation(conversation_id)).notes
    assert [(n.author, n.text) for n in notes] == [("ana", "Refund approved [b]by phone[/b]")]
    assert await store.outbox_items() == []


def _has_note(screen) -> bool:
    shown = screen.thread.conversation
    return shown is not None and bool(shown.notes)


async def test_assignment_and_the_mine_view(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("a")
        assert isinstance(app.screen, AssignScreen)
        await pilot.press("enter")  # me first
        await wait_until(lambda: _assignee(store, "Ana", "ana"), pilot=pilot)
        await pilot.press("j", "a", "down", "enter")  # Marc to bob
        await wait_until(lambda: _assignee(store, "Marc", "bob"), pilot=pilot)
        await pilot.press(*["tab"] * 5)
        assert screen.view is View.MINE
        await wait_until(lambda: screen.conversations.total == 1, pilot=pilot)
        assert screen.conversations.selected_row.author_label == "Ana"
        await pilot.press("a", "down", "down", "down", "enter")  # nobody
        await wait_until(lambda: screen.conversations.total == 0, pilot=pilot)
        assert (await row(store, "Ana")).assignee == ""


async def _assignee(store, author: str, name: str) -> bool:
    return (await row(store, author)).assignee == name


async def test_bulk_select_act_and_undo_in_one_step(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("x", "x")  # Ana and Marc (the cursor moves down)
        assert len(screen.conversations.marked) == 2
        assert "2 selected" in str(screen.query_one("#status").render())
        await pilot.press("e")
        await wait_until(lambda: screen.conversations.total == 1, pilot=pilot)
        assert {r.author_label for r in await store.conversation_page(View.DONE)} == {"Ana", "Marc"}
        assert not screen.conversations.marked
        await pilot.press("u")  # one undo for the whole action
        await wait_until(lambda: screen.conversations.total == 3, pilot=pilot)
        assert await store.count_conversations(View.DONE) == 0
        await pilot.press("X")
        assert len(screen.conversations.marked) == 3
        await pilot.press("t", *"launch", "enter")
        await wait_until(lambda: _tags(store, "Zoé", ("launch",)), pilot=pilot)
        assert (await row(store, "Ana")).tags == ("launch",)
        await pilot.press("X", "escape")  # esc clears the selection first
        assert not screen.conversations.marked


async def test_select_all_is_capped_and_says_so(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    people = [Author("mastodon", str(n), f"u{n}") for n in range(BULK_LIMIT + 5)]
    await store.ingest([msg(n, people[n], 1, "hi") for n in range(BULK_LIMIT + 5)])
    app = app_for(store, tmp_path)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("X")
            assert len(app.inbox.conversations.marked) == BULK_LIMIT
            notices = [n.message for n in app._notifications]
            assert any(f"first {BULK_LIMIT:,} of {BULK_LIMIT + 5:,}" in m for m in notices)
    finally:
        await store.close()


async def test_rows_show_tags_and_assignee_at_80x24_and_ages_are_coloured(store, tmp_path):
    zoe = await row(store, "Zoé")
    await store.apply_triage([zoe.id], add_tags=["refund"], assignee="bob")
    app = app_for(store, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = app.inbox.conversations
        text = "".join(segment.text for segment in rows.render_line(2))
        assert "@bob #refund" in text and "my order" in text
    assert waiting_level(await row(store, "Zoé"), NOW, 3600, 14400) == "alert"  # 6h
    assert waiting_level(await row(store, "Marc"), NOW, 3600, 14400) == "warn"  # 2h
    assert waiting_level(await row(store, "Ana"), NOW, 3600, 14400) == ""  # 12m


def test_tag_edits_read_additions_and_removals():
    assert parse_tag_edit("Refund, #VIP -later  -#old") == (["refund", "vip"], ["later", "old"])
