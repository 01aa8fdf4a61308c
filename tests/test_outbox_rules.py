"""The outbox's rules, whatever the platform: an uncertain send is read back before any resend
(even where the platform promises an idempotency key), replies to one conversation go out in
the order they were written, and a reply to a held comment approves it first.

The channel here is a scripted stand-in: these rules are the sender's, not a platform's. Each
platform's own read-back is tested against its local server (and real servers where there are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock

from ecoinbox.channels.base import Capabilities, RateLimited, UncertainSend
from ecoinbox.engine.outbox import OutboxSender
from ecoinbox.model import Author, Message, Origin, OutboxState

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ZOE = Author("c", "1", "zoe@remote.example", "Zoé")
BRAND = Author("c", "99", "acme", "Acme")


@dataclass
class ScriptedChannel:
    """A platform that publishes what it is sent and may lose the answer; it ignores keys."""

    name: str = "c"
    kind: str = "scripted"
    window: timedelta | None = timedelta(hours=24)  # what it promises, not what it does
    published: list[Message] = field(default_factory=list)
    lose_answers: int = 0  # publish, then the answer is lost, this many times
    visible_after: timedelta = timedelta(0)  # a slow server: a post shows in reads this late
    approved: list[str] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)

    async def capabilities(self) -> Capabilities:
        return Capabilities(idempotency_window=self.window, reconcile=True)

    async def reply(self, parent: Message, text: str, idempotency_key: str, visibility=None) -> Message:
        sent = Message(
            channel=self.name, remote_id=f"r{len(self.published) + 1}", author=BRAND, text=text,
            created_at=self.clock(), in_reply_to=parent.remote_id, origin=Origin.OURS,
        )  # fmt: skip
        self.published.append(sent)
        if self.lose_answers:
            self.lose_answers -= 1
            raise UncertainSend("the connection closed before the platform answered")
        return sent

    async def find_sent(self, parent, text, title, since) -> Message | None:
        seen = [m for m in self.published if m.created_at + self.visible_after <= self.clock()]
        return next((m for m in seen if m.text == text and m.created_at >= since), None)

    async def approve(self, remote_id: str) -> None:
        self.approved.append(remote_id)

    def reply_prefix(self, parent, own_handle=None) -> str:
        return ""

    async def context(self, remote_id):
        return []

    async def poll(self, cursor):
        raise AssertionError("the outbox never polls")

    async def check(self) -> str:
        return "scripted"

    async def aclose(self) -> None:
        return None


@pytest.fixture
def clock():
    return Clock(T0)


async def a_parent(store, remote_id: str = "p1", *, held: bool = False) -> tuple[int, Message]:
    """A person's post in a conversation of its own: (the conversation's id, the stored post)."""
    parent = Message(channel="c", remote_id=remote_id, author=ZOE, text="my order never came",
                     created_at=T0 - timedelta(hours=1), held=held)  # fmt: skip
    result = await store.ingest([parent])
    (conversation,) = result.conversation_ids
    return conversation, await store.message("c", remote_id)


def sender(store, channel, clock) -> OutboxSender:
    return OutboxSender(store, {"c": channel}, owner="test", clock=clock)


async def test_an_uncertain_send_is_read_back_before_any_resend_even_with_a_key(store, clock):
    channel = ScriptedChannel(lose_answers=1, clock=clock)
    conversation, parent = await a_parent(store)
    item = await store.queue_reply(conversation, parent, "@zoe we are checking")
    out = sender(store, channel, clock)
    await out.send_due()
    (unsure,) = await store.outbox_items()
    assert unsure.state is OutboxState.UNKNOWN and "checking the thread" in unsure.error
    # Within the platform's idempotency window, yet nothing is resent before the read-back.
    clock.advance(seconds=1)
    await out.send_due()
    assert len(channel.published) == 1
    clock.advance(minutes=2)
    await out.send_due()
    (done,) = await store.outbox_items()
    assert done.state is OutboxState.SENT and done.remote_id == "r1" and done.id == item.id
    assert len(channel.published) == 1


async def test_a_slow_server_is_given_time_before_the_read_back(store, clock):
    # The post becomes visible 20 s after it was made: reading back at once would miss it,
    # and the resend would publish it twice.
    channel = ScriptedChannel(lose_answers=1, visible_after=timedelta(seconds=20), clock=clock)
    conversation, parent = await a_parent(store)
    await store.queue_reply(conversation, parent, "@zoe on its way")
    out = sender(store, channel, clock)
    await out.send_due()
    due = await out.next_due()
    assert due is not None and due - clock() >= timedelta(seconds=20)
    clock.at = due
    await out.send_due()
    (done,) = await store.outbox_items()
    assert done.state is OutboxState.SENT and len(channel.published) == 1


async def test_read_back_and_not_there_is_sent_again_once(store, clock):
    channel = ScriptedChannel(lose_answers=1, clock=clock)
    conversation, parent = await a_parent(store)
    await store.queue_reply(conversation, parent, "@zoe hello")
    out = sender(store, channel, clock)
    await out.send_due()
    channel.published.clear()  # the platform never kept it
    clock.advance(minutes=2)
    await out.send_due()
    (done,) = await store.outbox_items()
    assert done.state is OutboxState.SENT and [m.text for m in channel.published] == ["@zoe hello"]


async def test_replies_to_one_conversation_go_out_in_the_order_they_were_written(store, clock):
    channel = ScriptedChannel(clock=clock)
    conversation, parent = await a_parent(store)
    first = await store.queue_reply(conversation, parent, "@zoe first: sorry for the wait")
    second = await store.queue_reply(conversation, parent, "@zoe second: here is the tracking link")
    # Offline: the first one's retry was jittered later than the second one's.
    await store.reply_retry(first, "offline", T0 + timedelta(minutes=9))
    await store.reply_retry(second, "offline", T0 + timedelta(minutes=3))
    out = sender(store, channel, clock)
    clock.advance(minutes=5)
    assert await out.send_due() == 0  # the second waits for the first
    assert await out.next_due() == T0 + timedelta(minutes=9)
    clock.advance(minutes=5)
    await out.send_due()
    assert [m.text for m in channel.published] == [first.text, second.text]


async def test_other_conversations_do_not_wait_on_each_other(store, clock):
    channel = ScriptedChannel(clock=clock)
    one, parent_one = await a_parent(store, "p1")
    two, parent_two = await a_parent(store, "p2")
    slow = await store.queue_reply(one, parent_one, "@zoe one")
    await store.reply_retry(slow, "offline", T0 + timedelta(hours=1))
    await store.queue_reply(two, parent_two, "@zoe two")
    await sender(store, channel, clock).send_due()
    assert [m.text for m in channel.published] == ["@zoe two"]


async def test_a_reply_to_a_held_comment_approves_it_first(store, clock):
    channel = ScriptedChannel(clock=clock)
    conversation, parent = await a_parent(store, held=True)
    assert parent.held
    await store.queue_reply(conversation, parent, "Thanks Zoé, we sent a new one", approve_parent=True)
    await sender(store, channel, clock).send_due()
    (done,) = await store.outbox_items()
    assert done.state is OutboxState.SENT and done.approve_parent
    assert channel.approved == ["p1"] and len(channel.published) == 1


async def test_a_rate_limited_read_back_waits_for_the_platforms_time(store, clock):
    """A read-back refused with 429 is not tried again before the platform said: retried on the
    backoff alone (seconds), it spent the rate limit the polls need (tests/test_crash.py saw it)."""
    channel = ScriptedChannel(lose_answers=1, clock=clock)
    conversation, parent = await a_parent(store)
    await store.queue_reply(conversation, parent, "@zoe hello")
    out = OutboxSender(store, {"c": channel}, owner="test", clock=clock, retry_max=2)
    await out.send_due()
    reset = clock() + timedelta(minutes=4)

    async def limited(*args) -> Message | None:
        raise RateLimited("the read is rate-limited", reset)

    channel.find_sent = limited  # type: ignore[method-assign]
    clock.at = await out.next_due()
    await out.send_due()
    (waiting,) = await store.outbox_items()
    assert waiting.state is OutboxState.UNKNOWN and "rate-limited" in waiting.error
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at >= reset
