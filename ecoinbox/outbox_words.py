"""How a queued reply's state reads to the manager: when it goes out, what happens next.

Headless (no Textual): the thread view (ecoinbox.tui.widgets.thread_view) shows these words under
each reply of the outbox.
"""

from __future__ import annotations

from datetime import datetime

from ecoinbox.humanize import age
from ecoinbox.model import OutboxItem, OutboxState

__all__ = ["held_until", "outbox_advice"]


def held_until(item: OutboxItem, now: datetime) -> str:
    """ "17:01:17" while a reply waits out its send hold (never tried yet, due later), else ""."""
    due = item.next_attempt_at
    if item.state is not OutboxState.QUEUED or item.attempts or item.error or due is None:
        return ""
    if due <= item.created_at or due <= now:  # queued without a hold, or its hold is over
        return ""
    return due.astimezone().strftime("%H:%M:%S")


def outbox_advice(item: OutboxItem, now: datetime, decide_key: str) -> str:
    """What happens next to a reply that did not go out, and the key (`decide_key`) to decide it."""
    if item.state is OutboxState.QUEUED and item.next_attempt_at is not None:
        wait = age(item.next_attempt_at, now, future=True)
        when = "in a moment" if wait == "now" else f"in {wait}"
        return f"Will retry {when} (attempt {item.attempts + 1})."
    if item.state is OutboxState.FAILED:
        return f"The platform refused it; it will not be retried. {decide_key}: edit, send again or discard."
    if item.state is OutboxState.UNKNOWN:
        return (
            f"Not resent automatically, so it cannot appear twice. {decide_key}: decide once you have looked."
        )
    return ""
