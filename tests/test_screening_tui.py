"""Screening in the inbox, key by key: a complaint on top with its "▲" and its reason, `!` and `o`
teach the spam filter (what it learned is in the store), `M` mutes, the bell rings for a new
complaint but not for a muted one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, settings_for, wait_until

from ecoinbox.model import State, View
from ecoinbox.screening.inbound import Screener
from ecoinbox.tui.app import EcoInboxApp

SPAM = ("Best casino bonus! free spins https://casino-win.example/bonus https://casino-win.example/a "
        "https://x.example/b https://y.example/c")  # fmt: skip


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.settings = settings_for(stack.server.base_url, tmp_path / "inbox.db", 'notify = "bell"')
        await stack.store.attach_screener(Screener.from_settings(stack.settings))
        t = FIXED_NOW - timedelta(hours=3)
        server = stack.server
        stack.posts = {
            "zoe": server.add_status(author="zoe@remote.example", display_name="Zoé",
                                     text="@acme my order never arrived, 3 weeks now!!", created_at=t),
            "bob": server.add_status(author="bob", display_name="Bob",
                                     text="@acme how do I export my data?", created_at=t + timedelta(hours=1)),
            "spam": server.add_status(author="cheapcasino@spam.example", display_name="cheap casino deals",
                                      text=f"@acme {SPAM}", created_at=t + timedelta(hours=2)),
        }  # fmt: skip
        await stack.engine.poll_all_once()
        yield stack


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


async def test_a_complaint_is_on_top_with_its_marker_and_reason(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
        row = screen.conversations.selected_row
        assert row.author_label == "Zoé" and row.priority == 1  # older than Bob's, still first
        assert screen.conversations.render_line(0).text.startswith(
            "▲"
        )  # the priority mark: "!" is the spam key
        assert "never arrived" in screen.thread.content.plain
        spam = await stack.store.conversation_page(View.SPAM)
        assert [r.author_handle for r in spam] == ["cheapcasino@spam.example"]


async def test_spam_and_not_spam_marks_teach_the_filter_and_are_stored(stack):
    app = app_for(stack)
    store = stack.store
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("j")  # Bob
        bob = screen.conversations.selected_id
        assert screen.conversations.selected_row.author_label == "Bob"
        await pilot.press("exclamation_mark")
        await wait_until(lambda: _state(store, bob, State.SPAM), pilot=pilot)
        assert store.screener.spam_filter.marks.marks == [1, 0]
        await pilot.press("tab", "tab", "tab", "tab")  # past Pending, Snoozed, Done: Spam
        assert screen.view is View.SPAM
        await wait_until(lambda: screen.conversations.total == 2, pilot=pilot)
        spam_id = next(r.id for r in await store.conversation_page(View.SPAM) if r.id != bob)
        while screen.conversations.selected_id != spam_id:
            await pilot.press("j")
        await pilot.press("o")  # not spam after all
        await wait_until(lambda: _state(store, spam_id, State.OPEN), pilot=pilot)
        assert store.screener.spam_filter.marks.marks == [1, 1]
        await pilot.press("u")  # undo takes the lesson back
        await wait_until(lambda: _state(store, spam_id, State.SPAM), pilot=pilot)
        assert store.screener.spam_filter.marks.marks == [1, 0]
    rows = await store._read().execute_fetchall("SELECT data FROM spam_marks")
    assert b'"marks":[1,0]' in bytes(rows[0][0])


async def test_mute_stops_the_bell_and_the_bell_rings_for_a_new_complaint(stack):
    app = app_for(stack)
    bells = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.notifier._bell = lambda: bells.append(1)
        screen = app.inbox
        zoe = screen.conversations.selected_id
        await pilot.press("M")
        await wait_until(lambda: _muted(stack.store, zoe), pilot=pilot)
        assert ("manager", "muted") in {(a, b) for _, a, b, _, _ in await stack.store.history(zoe)}
        # Zoé again on her muted thread: no bell. Someone new with a complaint: the bell.
        stack.server.add_status(author="zoe@remote.example", text="@acme still nothing, I want a refund!!",
                                in_reply_to_id=stack.posts["zoe"]["id"])  # fmt: skip
        await stack.engine.poll_all_once()
        await pilot.pause(0.2)
        assert bells == []
        stack.server.add_status(author="ann@remote.example", text="@acme I was charged twice, refund please!")
        await stack.engine.poll_all_once()
        await wait_until(lambda: bells == [1], pilot=pilot)
        await pilot.press("g")
        while screen.conversations.selected_id != zoe:
            await pilot.press("j")
        await wait_until(lambda: screen.thread.conversation.row.id == zoe
                         and "muted: no notification" in screen.thread.content.plain, pilot=pilot)  # fmt: skip
        await pilot.press("M")  # the key toggles
        await wait_until(lambda: _unmuted(stack.store, zoe), pilot=pilot)


async def _state(store, conversation_id, state) -> bool:
    return (await store.conversation_row(conversation_id)).state is state


async def _muted(store, conversation_id) -> bool:
    return (await store.conversation_row(conversation_id)).muted


async def _unmuted(store, conversation_id) -> bool:
    return not (await store.conversation_row(conversation_id)).muted


async def test_z_sends_the_newest_reply_alone_to_spam(stack):
    store = stack.store
    stack.server.add_status(author="dave@remote.example", display_name="Dave", text="@acme same here, any news?",
                            in_reply_to_id=stack.posts["zoe"]["id"], created_at=FIXED_NOW - timedelta(minutes=5))  # fmt: skip
    await stack.engine.poll_all_once()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.conversations.selected_row is not None, pilot=pilot)
        zoe = screen.conversations.selected_id
        assert (await store.conversation_row(zoe)).message_count == 2
        await pilot.press("Z")
        await wait_until(lambda: _count(store, zoe, 1), pilot=pilot)
        spam = await store.conversation_page(View.SPAM)
        moved = next(r for r in spam if r.author_handle == "dave@remote.example")
        assert moved.message_count == 1 and (await store.conversation_row(zoe)).state is State.OPEN
        assert store.screener.spam_filter.marks.marks == [1, 0]


async def _count(store, conversation_id: int, count: int) -> bool:
    row = await store.conversation_row(conversation_id)
    return row is not None and row.message_count == count


async def test_z_sends_the_reply_picked_with_brackets_and_leaves_the_others(stack):
    store = stack.store
    at = FIXED_NOW - timedelta(minutes=30)
    dave = stack.server.add_status(author="dave@remote.example", display_name="Dave", text="@acme me too",
                                   in_reply_to_id=stack.posts["zoe"]["id"], created_at=at)  # fmt: skip
    stack.server.add_status(author="erin@remote.example", display_name="Erin", text="@acme same, 2 weeks",
                            in_reply_to_id=stack.posts["zoe"]["id"], created_at=at + timedelta(minutes=5))  # fmt: skip
    await stack.engine.poll_all_once()
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.thread.conversation is not None, pilot=pilot)
        zoe = screen.conversations.selected_id
        await pilot.press("left_square_bracket")  # from Erin (the newest) to Dave
        assert screen.thread.chosen == dave["id"]
        await pilot.press("Z")
        await wait_until(lambda: _count(store, zoe, 2), pilot=pilot)
    left = [m.message.author.handle for m in (await store.conversation(zoe)).messages]
    assert "erin@remote.example" in left and "dave@remote.example" not in left
