"""The thread beside the list follows the cursor, but not row by row while a key is held.

Drawing a thread costs far more than moving the cursor (kilobytes over SSH against ~830 B), so
moves that come faster than `InboxScreen.THREAD_DELAY` apart load no thread until the cursor
rests; a move after a rest shows its thread at once, from the threads of the rows beside it
read ahead. The screen's clock is replaced here so that "fast" and "after a rest" do not depend
on how fast this machine runs the test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from stack import FIXED_NOW, wait_until

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens import inbox
from ecoinbox.tui.screens.inbox import InboxScreen
from ecoinbox.tui.widgets.thread_view import BODY_DISPLAY_CHARS, ThreadView


class FrozenClock:
    """`monotonic()` for the screen: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    messages = [
        Message("mastodon", str(n), Author("mastodon", str(n), f"p{n}@remote.example", f"Person {n}"),
                f"question number {n}", FIXED_NOW - timedelta(minutes=n))
        for n in range(8)
    ]  # fmt: skip
    long = "".join(f"word{i:05d} " for i in range(1000))  # cut for display
    assert len(long) > BODY_DISPLAY_CHARS
    messages.append(Message("mastodon", "long", Author("mastodon", "9", "long@remote.example", "Long"), long,
                            FIXED_NOW - timedelta(minutes=30)))  # fmt: skip
    await store.ingest(messages)
    yield store
    await store.close()


@pytest.fixture
def reads(store, monkeypatch) -> list[int]:
    """The conversations the app has read whole from the store (to show a thread), in order."""
    calls: list[int] = []
    original = store.conversation

    async def conversation(conversation_id: int, **kwargs):  # type: ignore[no-untyped-def]
        read = await original(conversation_id, **kwargs)
        calls.append(conversation_id)  # once read: the app holds it from the same step on
        return read

    monkeypatch.setattr(store, "conversation", conversation)
    return calls


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(inbox, "monotonic", frozen)
    return frozen


def app_for(store, tmp_path: Path) -> EcoInboxApp:
    settings = parse_config(
        f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "inbox.db"}"\n', Path("t.toml")
    )
    return EcoInboxApp(settings, store, None, now=lambda: FIXED_NOW)


def shown_id(app: EcoInboxApp) -> int | None:
    conversation = app.inbox.thread.conversation
    return None if conversation is None else conversation.row.id


@pytest.fixture
def shows(monkeypatch) -> list[int | None]:
    """The conversations the thread view is asked to show (None: nothing selected), in order."""
    calls: list[int | None] = []
    original = ThreadView.show

    def show(self, conversation, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(None if conversation is None else conversation.row.id)
        return original(self, conversation, **kwargs)

    monkeypatch.setattr(ThreadView, "show", show)
    return calls


async def test_quick_moves_load_no_thread_until_the_cursor_rests(
    store, reads, shows, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(InboxScreen, "THREAD_DELAY", 60.0)  # the rest never comes by itself here
    rows = [row.id for row in await store.conversation_page(View.INBOX)]
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.inbox
        await wait_until(lambda: shown_id(app) == rows[0] and rows[1] in reads, pilot=pilot)
        assert shows == [rows[0]]

        clock.now += 120  # the manager read it (longer than THREAD_DELAY): this move comes after a rest
        await pilot.press("j")
        assert shows == [rows[0], rows[1]]  # at once: its thread was read ahead
        assert reads.count(rows[1]) == 1
        await wait_until(lambda: rows[2] in reads, pilot=pilot)  # the next one is read ahead in turn

        before = len(reads)
        await pilot.press("j", "j", "j")  # quick moves: the clock does not move between them
        await pilot.pause()
        assert screen.conversations.selected_id == rows[4]
        # No thread drawn meanwhile, none read for the rows passed or reached (only, maybe, the end
        # of the reading ahead that the last rest started).
        assert shows == [rows[0], rows[1]] and not {rows[3], rows[4]} & set(reads[before:])

        await pilot.press("enter")  # opening it does not wait for the rest
        await wait_until(lambda: shown_id(app) == rows[4], pilot=pilot)
        assert shows == [rows[0], rows[1], rows[4]]
        assert screen.thread.has_focus


async def test_the_thread_comes_once_the_cursor_rests(store, shows, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(InboxScreen, "THREAD_DELAY", 0.05)
    rows = [row.id for row in await store.conversation_page(View.INBOX)]
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: shown_id(app) == rows[0], pilot=pilot)
        await pilot.press("j", "j", "j")  # all "fast": the clock is frozen
        assert app.inbox.conversations.selected_id == rows[3]
        await wait_until(lambda: shown_id(app) == rows[3], pilot=pilot)  # no key: the rest brought it
        assert len(shows) <= 1 + 3  # never more than one thread per move, whatever this machine's speed


async def test_a_thread_read_ahead_is_read_again_once_the_store_changed_it(
    store, reads, tmp_path, monkeypatch
):
    heard: list[object] = []  # the store changes the inbox has handled
    original = InboxScreen.on_store_changed

    async def on_store_changed(self, event):  # type: ignore[no-untyped-def]
        await original(self, event)
        heard.append(event.conversation_ids)

    monkeypatch.setattr(InboxScreen, "on_store_changed", on_store_changed)
    rows = await store.conversation_page(View.INBOX)
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: shown_id(app) == rows[0].id and rows[1].id in reads, pilot=pilot)
        second = (await store.conversation(rows[1].id)).messages[0].message
        await store.ingest([replace(second, text="question number 1, edited", edited_at=FIXED_NOW)])
        edited = "question number 1, edited"
        await wait_until(lambda: heard, pilot=pilot)
        assert [row.id for row in await store.conversation_page(View.INBOX)] == [row.id for row in rows]
        await pilot.press("j")  # to the conversation read ahead before it changed
        await wait_until(lambda: shown_id(app) == rows[1].id and edited in app.inbox.thread.content.plain,
                         pilot=pilot)  # fmt: skip


async def test_m_pressed_before_the_thread_came_applies_to_that_thread(
    store, reads, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(InboxScreen, "THREAD_DELAY", 60.0)
    rows = await store.conversation_page(View.INBOX)
    long = next(row.id for row in rows if row.author_handle == "long@remote.example")
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: shown_id(app) == rows[0].id, pilot=pilot)
        await pilot.press(*["j"] * [row.id for row in rows].index(long))
        assert app.inbox.conversations.selected_id == long and shown_id(app) != long
        await pilot.press("m")
        await wait_until(lambda: shown_id(app) == long and app.inbox.thread.whole, pilot=pilot)
        text = app.inbox.thread.content.plain
        assert "word00999" in text and "more characters" not in text


async def test_the_reader_keeps_their_place_in_the_thread_when_other_conversations_arrive(store, tmp_path):
    first = (await store.conversation_page(View.INBOX))[0]
    root = (await store.conversation(first.id)).messages[0].message
    replies = [
        Message("mastodon", f"r{n}", root.author, f"follow-up number {n}", FIXED_NOW + timedelta(minutes=n),
                in_reply_to=root.remote_id if n == 0 else f"r{n - 1}")
        for n in range(30)
    ]  # fmt: skip
    await store.ingest(replies)
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.inbox
        await wait_until(lambda: shown_id(app) == first.id and "follow-up number 29" in screen.thread.content.plain,
                         pilot=pilot)  # fmt: skip
        await pilot.press("enter", *["k"] * 5)  # reading, five lines up from the end
        place = screen.thread.scroll_y
        assert 0 < place < screen.thread.max_scroll_y
        newcomer = Author("mastodon", "99", "new@remote.example", "Newcomer")
        await store.ingest(
            [Message("mastodon", "new", newcomer, "hello there", FIXED_NOW + timedelta(hours=1))]
        )
        await wait_until(lambda: screen.counts.get(View.INBOX) == 10, pilot=pilot)  # the list was reloaded
        await pilot.pause()
        assert screen.conversations.selected_id == first.id and shown_id(app) == first.id
        assert screen.thread.scroll_y == place  # not thrown back to the end
