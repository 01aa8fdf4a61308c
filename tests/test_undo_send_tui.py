"""Undo send, key by key: ctrl+s holds the reply `[ui] send_delay` seconds, the status line
counts down, and `u` in that time brings it back into its box; nothing reaches the (local)
Mastodon server unless the hold ran out, and then exactly once. The history names `[team] me`."""

from __future__ import annotations

import asyncio

import pytest
from stack import FIXED_NOW, running_stack, settings_for, wait_until
from test_inbox_flows import seed_three
from textual.widgets import TextArea

from ecoinbox.model import OutboxState, State
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen

TEXT = "Sorry! DM us your order number."


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.posts = seed_three(stack.server)
        await stack.engine.poll_all_once()
        stack.db = tmp_path / "inbox.db"
        yield stack


def app_for(stack, send_delay: float) -> tuple[EcoInboxApp, list[str]]:
    """The app with `send_delay` and `[team] me = "Marie"`, and the notices it shows."""
    settings = settings_for(stack.server.base_url, stack.db, f"send_delay = {send_delay}",
                            extra='[team]\nme = "Marie"\n')  # fmt: skip
    app = EcoInboxApp(settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    notices: list[str] = []
    show = app.notify

    def notify(message, **options):  # type: ignore[no-untyped-def]
        notices.append(str(message))
        return show(message, **options)

    app.notify = notify  # type: ignore[method-assign]
    return app, notices


def status(app: EcoInboxApp) -> str:
    return str(app.inbox.query_one("#status").render())


async def history(stack, conversation_id: int) -> list[tuple[str, str]]:
    return [(who, what) for _, who, what, _, _ in await stack.store.history(conversation_id)]


async def test_u_within_the_hold_brings_the_reply_back_into_its_box_and_nothing_is_sent(stack):
    await stack.engine.start()
    app, notices = app_for(stack, send_delay=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")  # Zoé
        zoe = app.inbox.conversations.selected_id
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        (item,) = await stack.store.outbox_items()
        assert item.state is OutboxState.QUEUED
        assert "Reply to Zoé goes out in 3 s — u takes it back" in status(app)
        await pilot.press("u")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert app.screen.query_one(TextArea).text == f"@zoe@remote.example {TEXT}"
        assert any("Taken back: the reply to Zoé was not sent." in n for n in notices)
        assert "goes out" not in status(app)
        (item,) = await stack.store.outbox_items()
        assert item.state is OutboxState.DISCARDED
        await asyncio.sleep(3.2)  # past the hold: the sender had its chance
        await stack.engine.send_once()
        assert stack.server.posted == []
        assert app.screen.query_one(TextArea).text == f"@zoe@remote.example {TEXT}"  # still there
    assert await history(stack, zoe) == [("Marie", "reply queued"), ("Marie", "reply taken back")]
    assert stack.server.posted == []


async def test_after_the_hold_the_reply_goes_out_exactly_once_and_u_is_too_late(stack):
    await stack.engine.start()
    app, notices = app_for(stack, send_delay=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        zoe = app.inbox.conversations.selected_id
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert "goes out in 1 s" in status(app)
        assert stack.server.posted == []  # held
        await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
        await wait_until(lambda: "goes out" not in status(app), pilot=pilot)  # the countdown is over
        await wait_until(lambda: _sent(stack.store), pilot=pilot)
        await pilot.press("u")
        await wait_until(lambda: any("Too late: the reply to Zoé" in n for n in notices), pilot=pilot)
        assert not isinstance(app.screen, ComposeScreen)
        await stack.engine.send_once()
        await pilot.pause(0.2)
    (posted,) = stack.server.posted
    assert posted.text == f"@zoe@remote.example {TEXT}"
    assert ("Marie", "reply queued") in await history(stack, zoe)


async def _sent(store) -> bool:
    items = await store.outbox_items()
    return bool(items) and all(i.state is OutboxState.SENT for i in items)


async def test_send_delay_0_sends_at_once_with_nothing_to_take_back(stack):
    await stack.engine.start()
    app, notices = app_for(stack, send_delay=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G", "r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        (item,) = await stack.store.outbox_items()
        assert item.next_attempt_at == item.created_at  # due at once
        assert "goes out" not in status(app)
        await wait_until(lambda: len(stack.server.posted) == 1, timeout=5, pilot=pilot)
        await pilot.press("u")
        assert any("Nothing to undo." in n for n in notices)
        assert not isinstance(app.screen, ComposeScreen)


async def test_u_undoes_the_newest_action_first_then_takes_the_held_reply_back(stack):
    await stack.engine.start()
    app, _ = app_for(stack, send_delay=30)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await pilot.press("G")
        zoe = screen.conversations.selected_id
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press("g")  # Cam
        cam = screen.conversations.selected_id
        await pilot.press("e")
        await wait_until(lambda: _state(stack.store, cam, State.DONE), pilot=pilot)
        # `u` now undoes the done: the countdown no longer offers it for the reply.
        await wait_until(
            lambda: "goes out in" in status(app) and "takes it back" not in status(app), pilot=pilot
        )
        await pilot.press("u")
        await wait_until(lambda: _state(stack.store, cam, State.OPEN), pilot=pilot)
        assert not isinstance(app.screen, ComposeScreen)
        assert (await stack.store.outbox_items())[0].state is OutboxState.QUEUED
        assert "u takes it back" in status(app)
        await pilot.press("u")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert app.screen.query_one(TextArea).text == f"@zoe@remote.example {TEXT}"
        assert screen.conversations.selected_id == zoe  # the box is hers, and so is the cursor
        assert (await stack.store.outbox_items())[0].state is OutboxState.DISCARDED
    assert stack.server.posted == []


async def _state(store, conversation_id: int, state: State) -> bool:
    return (await store.conversation_row(conversation_id)).state is state


async def test_the_history_of_a_reply_and_a_mute_names_team_me(stack):
    app, _ = app_for(stack, send_delay=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        zoe = app.inbox.conversations.selected_id
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press("M")
        await wait_until(lambda: _muted(stack.store, zoe), pilot=pilot)
    said = await history(stack, zoe)
    assert ("Marie", "reply queued") in said and ("Marie", "muted") in said
    assert not [who for who, _ in said if who == "manager"]


async def _muted(store, conversation_id: int) -> bool:
    return (await store.conversation_row(conversation_id)).muted


async def test_q_during_the_hold_asks_and_y_sends_it_before_quitting(stack):
    await stack.engine.start()
    app, _ = app_for(stack, send_delay=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")  # Zoé
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press("q")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        assert app.is_running and stack.server.posted == []
        await pilot.press("y")
        await wait_until(lambda: not app.is_running, timeout=15, pilot=pilot)
    assert [p.text for p in stack.server.posted] == [f"@zoe@remote.example {TEXT}"]
    assert app.farewell == "Sent before quitting: the reply to Zoé."


async def test_q_twice_during_the_hold_quits_and_says_the_reply_waits_in_the_outbox(stack):
    await stack.engine.start()
    app, _ = app_for(stack, send_delay=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press("q", "q")
        await wait_until(lambda: not app.is_running, pilot=pilot)
    assert stack.server.posted == []
    (item,) = await stack.store.outbox_items()
    assert item.state is OutboxState.QUEUED
    assert app.farewell.startswith("Not sent yet: the reply to Zoé. It stays in the outbox")


async def test_n_on_the_quit_question_stays_and_u_still_takes_the_reply_back(stack):
    app, _ = app_for(stack, send_delay=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press("q")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("n")
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        assert app.is_running
        await pilot.press("u")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
    (item,) = await stack.store.outbox_items()
    assert item.state is OutboxState.DISCARDED


async def test_the_thread_shows_a_held_reply_as_held_until_its_time(stack):
    app, _ = app_for(stack, send_delay=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")
        await pilot.press("r", *TEXT, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        (item,) = await stack.store.outbox_items()
        until = item.next_attempt_at.astimezone().strftime("%H:%M:%S")
        await wait_until(
            lambda: f"You  reply held until {until}" in app.inbox.thread.content.plain, pilot=pilot
        )
        assert "undo takes it back into its box" in app.inbox.thread.content.plain
