"""Undo send in the store: a held reply waits for its time, and is taken back only if no sender
touched it, in one statement that can never race the sender's claim."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock

from ecoinbox.model import Author, Message, Origin, OutboxState
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")


def zoe_said(remote_id: str = "1") -> Message:
    return Message(channel="m", remote_id=remote_id, author=ZOE, text="my order never arrived",
                   created_at=T0, origin=Origin.MENTION)  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(hours=1))


@pytest.fixture
async def store(store):
    """The shared empty store, with Zoé's message in it."""
    await store.ingest([zoe_said()])
    return store


async def test_a_held_reply_is_not_claimed_before_its_hold_ends(store, clock):
    item = await store.queue_reply(1, zoe_said(), "@zoe sorry", hold=10)
    assert item.next_attempt_at == clock() + timedelta(seconds=10)
    assert await store.claim_next_reply("sender") is None
    assert await store.next_reply_due() == clock() + timedelta(seconds=10)  # the sender wakes then
    clock.advance(seconds=9.9)
    assert await store.claim_next_reply("sender") is None
    clock.advance(seconds=0.1)
    claimed = await store.claim_next_reply("sender")
    assert claimed is not None and claimed.id == item.id


async def test_a_reply_taken_back_in_its_hold_is_never_sent_and_the_history_says_who(store):
    item = await store.queue_reply(1, zoe_said(), "@zoe sorry", canned=("sorry",), link="https://x.example",
                                   actor="Marie", hold=10)  # fmt: skip
    taken = await store.withdraw_reply(item.id, actor="Marie")
    assert taken is not None and taken.text == "@zoe sorry" and taken.canned == ("sorry",)
    assert taken.link == "https://x.example"
    assert await store.withdraw_reply(item.id, actor="Marie") is None  # once
    (kept,) = await store.outbox_items()
    assert kept.state is OutboxState.DISCARDED
    assert (await store.conversation(1)).outbox == []  # the thread no longer shows it
    store._clock = lambda: T0 + timedelta(days=1)
    assert await store.claim_next_reply("sender") is None
    assert [(h[1], h[2]) for h in await store.history(1)] == [
        ("Marie", "reply queued"), ("Marie", "reply taken back"),
    ]  # fmt: skip


async def test_a_reply_a_sender_touched_cannot_be_taken_back(store, clock):
    item = await store.queue_reply(1, zoe_said(), "@zoe sorry")
    claimed = await store.claim_next_reply("sender")
    assert await store.withdraw_reply(item.id) is None  # being sent
    await store.reply_retry(claimed, "503", clock())
    assert await store.withdraw_reply(item.id) is None  # queued again, but it was attempted
    (again,) = await store.outbox_items()
    assert again.state is OutboxState.QUEUED


async def test_withdrawing_races_the_senders_claim_and_exactly_one_wins(tmp_path):
    """The inbox and a daemon are two connections to one file: whichever comes first wins, and
    the loser learns it; never both (sent and shown as taken back) nor neither."""
    path = tmp_path / "inbox.db"
    inbox = await open_store(path)
    daemon = await open_store(path)
    try:
        await inbox.ingest([zoe_said()])
        outcomes = set()
        for n in range(40):
            item = await inbox.queue_reply(1, zoe_said(), f"@zoe reply {n}")
            claim = daemon.claim_next_reply("daemon")
            withdraw = inbox.withdraw_reply(item.id)
            pair = (claim, withdraw) if n % 2 else (withdraw, claim)
            first, second = await asyncio.gather(*pair)
            claimed, taken = (first, second) if n % 2 else (second, first)
            assert (claimed is None) != (taken is None), n
            outcomes.add("claimed" if claimed else "taken back")
            state = (await inbox.outbox_items())[-1].state
            assert state is (OutboxState.SENDING if claimed else OutboxState.DISCARDED)
            if claimed:
                await daemon.reply_failed(claimed, "test: settled")  # out of the next round's way
        assert outcomes == {"claimed", "taken back"}  # the race was run both ways
    finally:
        await inbox.close()
        await daemon.close()


async def test_a_held_forum_topic_is_taken_back_with_the_reply_that_waits_for_it(store, clock):
    topic, reply = await store.queue_redirect_topic(
        1, forum_channel="forum", title="Lost parcels", body="[quote]never arrived[/quote]", category=None,
        parent=zoe_said(), reply_text="@zoe here: {topic_url}", actor="Marie", hold=10,
    )  # fmt: skip
    assert await store.claim_next_reply("sender") is None  # the topic is held, the reply waits for it
    assert await store.withdraw_reply(reply.id) is None  # only with its topic
    taken = await store.withdraw_reply(topic.id, actor="Marie")
    assert taken is not None and taken.title == "Lost parcels"
    assert [i.state for i in await store.outbox_items()] == [OutboxState.DISCARDED] * 2
    clock.advance(seconds=60)
    assert await store.claim_next_reply("sender") is None
    assert ("Marie", "topic taken back") in [(h[1], h[2]) for h in await store.history(1)]
