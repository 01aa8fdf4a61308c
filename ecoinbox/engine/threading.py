"""Threading: make every polled message land in the right conversation.

A reply whose parent the store has never seen would start a stray conversation; instead we ask
the channel for the thread around it and store the ancestors first, in one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ecoinbox.channels.base import Channel
from ecoinbox.model import Message
from ecoinbox.store import Store

# A burst of replies to unknown threads must not spend the whole rate-limit budget at once;
# the rest are fetched on the next poll (their cursor has not moved past them).
MAX_CONTEXT_FETCHES = 20


async def complete_threads(store: Store, channel: Channel, polled: Sequence[Message]) -> list[Message]:
    """The polled messages plus the ancestors they need, parents always before children."""
    batch: dict[str, Message] = {m.remote_id: m for m in polled}
    orphans = [m for m in polled if m.in_reply_to and m.in_reply_to not in batch]
    known = await store.known_remote_ids(channel.name, [m.in_reply_to for m in orphans])  # type: ignore[misc]
    fetches = 0
    for message in orphans:
        if message.in_reply_to in known or message.in_reply_to in batch:
            continue
        if fetches == MAX_CONTEXT_FETCHES:
            break
        fetches += 1
        for around in await channel.context(message.remote_id):
            # The polled copy wins: it says why the message is in the inbox (mention, hashtag...).
            batch.setdefault(around.remote_id, around)
    return parents_first(batch.values())


def parents_first(messages: Iterable[Message]) -> list[Message]:
    """Order by time, but never a child before its parent (clocks of servers disagree)."""
    by_id = {m.remote_id: m for m in messages}
    ordered: list[Message] = []
    placed: set[str] = set()
    for message in sorted(by_id.values(), key=lambda m: (m.created_at, m.remote_id)):
        chain: list[Message] = []
        in_chain: set[str] = set()  # guards against reply cycles in hostile data
        current: Message | None = message
        while current is not None and current.remote_id not in placed and current.remote_id not in in_chain:
            chain.append(current)
            in_chain.add(current.remote_id)
            current = by_id.get(current.in_reply_to or "")
        for ancestor in reversed(chain):
            placed.add(ancestor.remote_id)
            ordered.append(ancestor)
    return ordered
