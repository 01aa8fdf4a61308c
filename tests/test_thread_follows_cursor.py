"""The thread beside the list follows the cursor, but not row by row while a key is held.

Drawing a thread costs far more than moving the cursor (kilobytes over SSH against ~830 B), so
moves that come faster than `InboxScreen.THREAD_DELAY` apart load no thread until the cursor
rests; a move after a rest shows its thread at once. The screen's clock is replaced here so
that "fast" and "after a rest" do not depend on how fast this machine runs the test.
"""

from __future__ import annotations

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
from ecoinbox.tui.widgets.thread_view import BODY_DISPLAY_CHARS


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
    """The conversations the app reads whole from the store (to show a thread), in order."""
    calls: list[int] = []
    original = store.conversation

    async def conversation(conversation_id: int, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(conversation_id)
        return await original(conversation_id, **kwargs)

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


async def test_quick_moves_load_no_thread_until_the_cursor_rests(store, reads, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(InboxScreen, "THREAD_DELAY", 60.0)  # the rest never comes by itself here
    rows = [row.id for row in await store.conversation_page(View.INBOX)]
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.inbox
        await wait_until(lambda: shown_id(app) == rows[0], pilot=pilot)
        assert reads == [rows[0]]

        clock.now += 120  # the manager read it (longer than THREAD_DELAY): this move comes after a rest
        await pilot.press("j")
        await wait_until(lambda: shown_id(app) == rows[1], pilot=pilot)
        assert reads == [rows[0], rows[1]]

        await pilot.press("j", "j", "j")  # quick moves: the clock does not move between them
        await pilot.pause()
        assert screen.conversations.selected_id == rows[4]
        assert reads == [rows[0], rows[1]] and shown_id(app) == rows[1]  # no thread read meanwhile

        await pilot.press("enter")  # opening it does not wait for the rest
        await wait_until(lambda: shown_id(app) == rows[4], pilot=pilot)
        assert reads == [rows[0], rows[1], rows[4]]
        assert screen.thread.has_focus


async def test_the_thread_comes_once_the_cursor_rests(store, reads, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(InboxScreen, "THREAD_DELAY", 0.05)
    rows = [row.id for row in await store.conversation_page(View.INBOX)]
    app = app_for(store, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: shown_id(app) == rows[0], pilot=pilot)
        await pilot.press("j", "j", "j")  # all "fast": the clock is frozen
        assert app.inbox.conversations.selected_id == rows[3]
        await wait_until(lambda: shown_id(app) == rows[3], pilot=pilot)  # no key: the rest brought it
        assert reads[-1] == rows[3]
        assert len(reads) <= 1 + 3  # never more than one read per move, whatever this machine's speed


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
