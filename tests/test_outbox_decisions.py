"""A reply the outbox could not settle waits for the manager: O, then send again, mark sent,
edit, or discard. Checked in the store and on the local platform."""

from __future__ import annotations

from dataclasses import replace

import pytest
from stack import running_stack, settings_for, wait_until
from textual.widgets import TextArea

from ecoinbox.channels.base import Capabilities
from ecoinbox.model import OutboxState, View
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.outbox import OutboxDecisionScreen


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        # The manager decides for channels that cannot read a send back; Mastodon can (issue
        # 12), so it pretends it cannot here.
        channel = stack.engine.channels["mastodon"]
        capabilities = channel.capabilities

        async def cannot_read_back() -> Capabilities:
            return replace(await capabilities(), reconcile=False)

        channel.capabilities = cannot_read_back
        stack.server.add_status(
            author="zoe@remote.example", display_name="Zoé", text="@acme my order never arrived"
        )
        await stack.engine.poll_all_once()
        yield stack


async def stuck_reply(stack, text: str = "@zoe@remote.example we are looking into it"):
    """A reply whose send was cut off past the idempotency window: it may be on the platform."""
    (row,) = await stack.store.conversation_page(View.INBOX)
    parent = (await stack.store.conversation(row.id)).messages[-1].message
    item = await stack.store.queue_reply(row.id, parent, text)
    claimed = await stack.store.claim_next_reply("a sender that died an hour ago")
    await stack.store.reply_unknown(claimed, "the connection broke after the reply was sent")
    return item


async def item_state(stack, item_id: int) -> OutboxState:
    return next(i.state for i in await stack.store.outbox_items() if i.id == item_id)


async def is_state(stack, item_id: int, state: OutboxState) -> bool:
    return await item_state(stack, item_id) is state


def thread_text(app) -> str:
    return app.inbox.thread.content.plain


async def open_decision(app, pilot, *, shown: str = "uncertain") -> None:
    """Wait for the stuck reply to show in the thread (`shown`), then press O."""
    await wait_until(lambda: shown in thread_text(app), pilot=pilot)
    await pilot.press("O")
    await wait_until(lambda: isinstance(app.screen, OutboxDecisionScreen), pilot=pilot)


async def test_an_uncertain_reply_not_on_the_platform_is_sent_again_once(stack):
    item = await stuck_reply(stack)
    app = EcoInboxApp(stack.settings, stack.store, stack.engine)
    await stack.engine.start()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_decision(app, pilot, shown="O: decide once you have looked")
        assert "may or may not be on mastodon" in str(app.screen.query_one("Static").render())
        await pilot.press("s")
        await wait_until(lambda: is_state(stack, item.id, OutboxState.SENT), pilot=pilot)
        await wait_until(lambda: stack.server.posted, pilot=pilot)
    assert [p.text for p in stack.server.posted] == [item.text]
    assert stack.server.posted[0].idempotency_key == item.idempotency_key


async def test_an_uncertain_reply_seen_on_the_platform_is_marked_sent_without_a_request(stack):
    item = await stuck_reply(stack)
    app = EcoInboxApp(stack.settings, stack.store, stack.engine)
    await stack.engine.start()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_decision(app, pilot)
        await pilot.press("m")
        await wait_until(lambda: not isinstance(app.screen, OutboxDecisionScreen), pilot=pilot)
        await wait_until(lambda: "uncertain" not in thread_text(app), pilot=pilot)
    assert await item_state(stack, item.id) is OutboxState.SENT
    assert stack.server.posted == []


async def test_a_refused_reply_is_edited_and_sent_and_the_old_one_discarded(stack):
    await stack.engine.start()
    (row,) = await stack.store.conversation_page(View.INBOX)
    parent = (await stack.store.conversation(row.id)).messages[-1].message
    too_long = await stack.store.queue_reply(row.id, parent, "@zoe@remote.example sorry" + "!" * 491)
    await wait_until(lambda: is_state(stack, too_long.id, OutboxState.FAILED))
    app = EcoInboxApp(stack.settings, stack.store, stack.engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_decision(app, pilot, shown="O: edit, send again or discard")
        await pilot.press("m")  # not offered for a refused reply: nothing happens
        assert isinstance(app.screen, OutboxDecisionScreen)
        await pilot.press("e")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press(
            *["backspace"] * 20
        )  # 501 as Mastodon counts (the mention counts as @zoe): 500 is its limit
        await pilot.press("ctrl+s")
        await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
        await wait_until(lambda: "not sent" not in thread_text(app), pilot=pilot)
    assert stack.server.posted[0].text == "@zoe@remote.example sorry" + "!" * 471
    assert await item_state(stack, too_long.id) is OutboxState.DISCARDED
    history = [action for _, _, action, _, _ in await stack.store.history(row.id)]
    assert "reply discarded" in history


async def test_discard_drops_the_reply_and_esc_decides_later(stack):
    item = await stuck_reply(stack)
    app = EcoInboxApp(stack.settings, stack.store, stack.engine)
    await stack.engine.start()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_decision(app, pilot)
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, OutboxDecisionScreen), pilot=pilot)
        assert await item_state(stack, item.id) is OutboxState.UNKNOWN
        await pilot.press("O")
        await wait_until(lambda: isinstance(app.screen, OutboxDecisionScreen), pilot=pilot)
        await pilot.press("d")
        await wait_until(lambda: "uncertain" not in thread_text(app), pilot=pilot)
        await pilot.press("O")  # nothing left to decide
        await pilot.pause(0.1)
        assert not isinstance(app.screen, OutboxDecisionScreen)
    assert await item_state(stack, item.id) is OutboxState.DISCARDED
    assert stack.server.posted == []


async def test_an_edited_refused_reply_is_held_like_any_reply_and_u_takes_it_back(stack, tmp_path):
    await stack.engine.start()
    (row,) = await stack.store.conversation_page(View.INBOX)
    parent = (await stack.store.conversation(row.id)).messages[-1].message
    too_long = await stack.store.queue_reply(row.id, parent, "@zoe@remote.example sorry" + "!" * 491)
    await wait_until(lambda: is_state(stack, too_long.id, OutboxState.FAILED))
    settings = settings_for(stack.server.base_url, tmp_path / "inbox.db", "send_delay = 30")
    app = EcoInboxApp(settings, stack.store, stack.engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_decision(app, pilot, shown="O: edit, send again or discard")
        await pilot.press("e")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        await pilot.press(*["backspace"] * 20, "ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
        await wait_until(
            lambda: "goes out in 30 s" in str(app.inbox.query_one("#status").render()), pilot=pilot
        )
        await stack.engine.send_once()
        assert stack.server.posted == []  # held
        await pilot.press("u")
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert app.screen.query_one(TextArea).text == "@zoe@remote.example sorry" + "!" * 471
    assert stack.server.posted == []
    states = {i.id: i.state for i in await stack.store.outbox_items()}
    assert states[too_long.id] is OutboxState.DISCARDED
    assert sorted(states.values(), key=str) == [OutboxState.DISCARDED, OutboxState.DISCARDED]
