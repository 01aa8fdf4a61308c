"""Undo send: a reply waits `[ui] send_delay` seconds in the outbox before the sender may take it,
and `u` in that time brings it back into the reply box, unsent.

The hold lives in the store (the outbox item's next attempt time), so a reply never depends on
this window staying open; the store's `withdraw_reply` decides atomically whether it was still
untouched. What is here is what the inbox remembers to take it back, and the status line's words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual.content import Content

from ecoinbox.model import Message
from ecoinbox.tui.screens.redirect import TopicDraft
from ecoinbox.tui.targets import person


@dataclass(frozen=True, slots=True)
class HeldReply:
    """A reply queued with a hold: what `u` needs to take it back and open its box again."""

    item_id: int
    conversation_id: int
    parent: Message
    language: str | None
    until: float
    """When the hold ends, on `time.monotonic`'s clock."""
    redirect: bool = False
    approve_parent: bool = False
    topic: TopicDraft | None = None
    """A new forum topic redirect: `item_id` is the topic's (its reply is taken back with it)."""

    def seconds_left(self, now: float) -> int:
        """Whole seconds until it may go out, rounded up (0 once the hold is over)."""
        return max(0, math.ceil(self.until - now))

    def whom(self) -> str:
        """The person it answers, sanitized (shown as plain text, never markup)."""
        return person(self.parent.author.label)


def hold_notice(held: HeldReply, now: float, undo_key: str | None) -> Content:
    """ "Reply to Zoé goes out in 7 s — u takes it back" (without the key when `u` would undo
    something done after it)."""
    what, go = ("Forum topic and reply to ", "go") if held.topic is not None else ("Reply to ", "goes")
    parts: list[Content | tuple[str, str] | str] = [
        (what, "$warning"), (held.whom(), "bold $warning"),
        (f" {go} out in {held.seconds_left(now)} s", "$warning"),
    ]  # fmt: skip
    if undo_key:
        parts.append((f" — {undo_key} takes it back", "bold $warning"))
    return Content.assemble(*parts)
