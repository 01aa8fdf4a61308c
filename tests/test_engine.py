"""The engine against the local Mastodon server: polling, threading, and the outbox's promises."""

from __future__ import annotations

import socket

import pytest
from stack import TOKEN, wait_until

from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import Origin, OutboxState, View


@pytest.fixture
async def server():
    async with MastodonServer(seed=None, token=TOKEN) as server:
        yield server


def make_engine(store, server, clock=None, *, timeout: float = 5.0, leased: bool = False) -> Engine:
    """An engine whose sender the test drives by hand (`leased=True`: as the app runs it)."""
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme", timeout=timeout)
    return Engine(store, {"mastodon": channel}, clock=clock, leased=leased)


async def first_conversation(store):
    (row,) = await store.conversation_page(View.INBOX)
    return row


async def test_polls_resume_from_the_stored_cursor(server, store):
    engine = make_engine(store, server)
    server.add_status(author="zoe@remote.example", text="@acme hello")
    first = await engine.poll_channel("mastodon")
    again = await engine.poll_channel("mastodon")
    server.add_status(author="bob", text="@acme me too")
    later = await engine.poll_channel("mastodon")
    await engine.stop()
    assert (first.new, again.new, later.new) == (1, 0, 1)
    assert await store.count_conversations(View.INBOX) == 2


async def test_reply_to_an_unknown_parent_fetches_the_thread_instead_of_a_stray_conversation(server, store):
    root = server.add_status(
        author="dan@remote.example", text="anyone tried the acme app?", mention_brand=False
    )
    middle = server.add_status(
        author="eve", text="yes, it crashes", in_reply_to_id=root["id"], mention_brand=False
    )
    server.add_status(author="dan@remote.example", text="@acme can you help?", in_reply_to_id=middle["id"])
    engine = make_engine(store, server)
    await engine.poll_channel("mastodon")
    await engine.stop()
    row = await first_conversation(store)
    thread = await store.conversation(row.id)
    texts = [m.message.text for m in thread.messages]
    assert texts == ["anyone tried the acme app?", "yes, it crashes", "@acme can you help?"]
    assert [m.message.origin for m in thread.messages][-1] is Origin.MENTION
    assert thread.messages[1].parent_id == thread.messages[0].id


async def test_one_broken_channel_does_not_stop_the_others(server, store):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    server.add_status(author="zoe@remote.example", text="@acme hi")
    engine = Engine(store, {
        "mastodon": MastodonChannel("mastodon", server.base_url, TOKEN, account="acme"),
        "broken": MastodonChannel("broken", f"http://127.0.0.1:{dead_port}", TOKEN, account="acme", timeout=2),
    })  # fmt: skip
    outcome = await engine.poll_all_once()
    await engine.stop()
    assert outcome["mastodon"].new == 1
    assert "127.0.0.1" in str(outcome["broken"]) and TOKEN not in str(outcome["broken"])


async def test_scheduler_reports_rate_limit_and_keeps_going(server, store):
    server.add_status(author="zoe@remote.example", text="@acme hi")
    engine = make_engine(store, server)
    engine.poll_intervals["mastodon"] = 0.1
    server.exhaust_rate_limit(TOKEN)
    seen = []
    engine.add_status_listener(seen.append)
    await engine.start()
    await wait_until(lambda: any(s.state == "waiting" for s in seen))
    await engine.stop()
    waiting = next(s for s in seen if s.state == "waiting")
    assert "rate" in waiting.detail.lower() or "wait" in waiting.detail.lower()


async def queue_reply_to_first(store, server, engine, text="@zoe@remote.example thanks"):
    server.add_status(author="zoe@remote.example", text="@acme my order never arrived")
    await engine.poll_channel("mastodon")
    row = await first_conversation(store)
    thread = await store.conversation(row.id)
    return await store.queue_reply(row.id, thread.messages[-1].message, text)


async def test_a_lost_answer_is_read_back_and_published_once(server, store, clock):
    engine = make_engine(store, server, clock, timeout=1.0)
    item = await queue_reply_to_first(store, server, engine)
    # The server creates the status but the answer never arrives in time.
    server.inject("/api/v1/statuses", status=502, delay=3.0, after_handling=True)
    await engine.sender.send_due()
    (pending,) = await store.outbox_items()
    # Not resent on the strength of the key (some servers ignore it): read back first.
    assert pending.state is OutboxState.UNKNOWN and pending.attempts == 1
    clock.advance(minutes=10)
    await engine.sender.send_due()
    await engine.stop()
    (sent,) = await store.outbox_items()
    assert sent.state is OutboxState.SENT
    assert len(server.posted) == 1
    assert server.posted[0].idempotency_key == item.idempotency_key
    assert sent.remote_id == server.posted[0].id


async def test_a_crash_mid_send_is_recovered_without_a_double(server, store, clock):
    engine = make_engine(store, server, clock)
    item = await queue_reply_to_first(store, server, engine)
    claimed = await store.claim_next_reply("the process that dies")
    parent = await store.message("mastodon", claimed.parent_remote_id)
    await engine.channels["mastodon"].reply(parent, claimed.text, claimed.idempotency_key)  # then: SIGKILL
    clock.advance(minutes=5)  # the dead sender's lease expires
    fresh = make_engine(store, server, clock)
    await fresh.sender.recover()
    clock.advance(minutes=1)  # the read-back waits for a slow server to finish writing
    await fresh.sender.send_due()
    await fresh.stop()
    await engine.stop()
    (sent,) = await store.outbox_items()
    assert sent.state is OutboxState.SENT and sent.idempotency_key == item.idempotency_key
    assert len(server.posted) == 1


async def test_past_the_idempotency_window_an_uncertain_send_is_read_back_then_sent(server, store, clock):
    engine = make_engine(store, server, clock)
    queued = await queue_reply_to_first(store, server, engine)
    await store.claim_next_reply("the process that dies")  # it died before sending anything
    clock.advance(hours=2)
    await engine.sender.recover()
    (item,) = await store.outbox_items()
    assert item.state is OutboxState.UNKNOWN and "checking the thread" in item.error
    assert await engine.sender.send_due() == 0  # left to settle first
    clock.advance(minutes=1)
    await engine.sender.send_due()  # read back: not there, so sent now
    await engine.stop()
    (item,) = await store.outbox_items()
    assert item.state is OutboxState.SENT
    assert [p.idempotency_key for p in server.posted] == [queued.idempotency_key]


async def test_a_refused_reply_fails_with_the_platform_reason_and_is_not_retried(server, store, clock):
    engine = make_engine(store, server, clock)
    await queue_reply_to_first(store, server, engine, text="x" * 501)
    await engine.sender.send_due()
    clock.advance(hours=1)
    assert await engine.sender.send_due() == 0
    await engine.stop()
    (item,) = await store.outbox_items()
    assert item.state is OutboxState.FAILED and "character limit" in item.error
    assert server.posted == []


async def test_a_server_error_is_retried_later_with_backoff(server, store, clock):
    engine = make_engine(store, server, clock)
    await queue_reply_to_first(store, server, engine)
    server.inject("/api/v1/statuses", status=500, body='{"error":"boom"}')
    await engine.sender.send_due()
    (item,) = await store.outbox_items()
    # A 500 after a POST may hide a published status: read back, later, before any resend.
    assert item.state is OutboxState.UNKNOWN and item.next_attempt_at > clock.at
    assert await engine.sender.send_due() == 0  # not due yet
    clock.advance(minutes=20)
    await engine.sender.send_due()
    await engine.stop()
    (item,) = await store.outbox_items()
    assert item.state is OutboxState.SENT and len(server.posted) == 1


async def test_a_poll_that_cannot_be_saved_is_a_channel_error_and_polling_goes_on(server, store, monkeypatch):
    """A full disk during ingest: the channel's status says so in the store's words (not
    "internal error"), and the poller keeps going. (That the cursor does not move is the store's
    promise: tests/test_store.py fills a real disk.)"""
    from ecoinbox.store import StoreFull

    server.add_status(author="zoe@remote.example", text="@acme hi")
    engine = make_engine(store, server)
    engine.poll_intervals["mastodon"] = 0.05
    attempts = []

    async def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(kwargs.get("cursor"))
        raise StoreFull("Could not save to inbox.db: the disk is full. Free some space.")

    monkeypatch.setattr(store, "ingest", disk_full)
    seen = []
    engine.add_status_listener(seen.append)
    await engine.start()
    await wait_until(lambda: len(attempts) >= 2)  # it polled again: the poller did not die
    await engine.stop()
    failed = next(s for s in seen if s.state == "error")
    assert "the disk is full" in failed.detail and "internal error" not in failed.detail


async def test_a_store_that_cannot_recover_old_sends_does_not_stop_the_start(server, store, monkeypatch):
    from ecoinbox.store import StoreFull

    async def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise StoreFull("Could not save to inbox.db: the disk is full.")

    monkeypatch.setattr(store, "orphaned_sends", disk_full)
    engine = make_engine(store, server)
    await engine.start()
    try:
        tasks = {task.get_name() for task in engine._tasks}
        assert tasks == {
            "poll:mastodon",
            "push:mastodon",
            "language model",
            "deleted:mastodon",
            "outbox",
            "platform moderation",
            "snoozes",
        }
    finally:
        await engine.stop()


async def test_a_spam_mark_on_a_platform_that_cannot_hide_leaves_no_request_waiting(server, store):
    """Mastodon cannot hide a post: the request a manager's spam mark writes is dropped by the
    running engine, not left queued for ever (it was, unless some channel could hide)."""
    from ecoinbox.model import State

    server.add_status(author="zoe@remote.example", text="@acme buy followers here")
    engine = make_engine(store, server)
    await engine.poll_channel("mastodon")
    row = await first_conversation(store)
    await engine.start()
    try:
        await store.apply_triage([row.id], state=State.SPAM, actor="sam")

        async def dropped() -> bool:
            return [action[2] for action in await store.platform_actions(row.id)] == ["skipped"]

        await wait_until(dropped)
    finally:
        await engine.stop()


async def test_stop_ends_a_poll_that_lost_its_cancel(server, store, monkeypatch):
    """A library that swallows the cancel meeting its own timeout (seen on Python 3.11 in a demo
    that never quit on SIGHUP): the engine asks again, and stop() returns."""
    import asyncio

    monkeypatch.setattr("ecoinbox.engine.engine.STOP_AGAIN_S", 0.2)
    engine = make_engine(store, server, leased=True)
    channel = engine.channels["mastodon"]
    real_poll, polling = channel.poll, asyncio.Event()

    async def swallowing_poll(cursor):
        polling.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # lost, as by the library
        return await real_poll(cursor)

    monkeypatch.setattr(channel, "poll", swallowing_poll)
    await engine.start()
    await asyncio.wait_for(polling.wait(), 10)
    await asyncio.wait_for(engine.stop(), 10)  # before: waited for the poll loop for ever
    assert all(task.done() for task in asyncio.all_tasks() if task.get_name().startswith("poll:"))
