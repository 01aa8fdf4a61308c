"""Messenger for a Page: its conversations, the Send API, and the 24-hour window.

Meta lets a Page answer a person within 24 hours of that person's last message; later, only
with the HUMAN_AGENT tag (7 days), which Meta grants to an app on request. A reply past the
window is refused here, in words, before anything is sent: `window_refusal` says why, for the
channel and for the reply box alike (it needs nothing but the stored message).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import ReplyLimit, utf8_length
from ecoinbox.model import Message

__all__ = [
    "HUMAN_AGENT_WINDOW",
    "INSTAGRAM_LIMIT",
    "MAX_MESSAGE_LENGTH",
    "MESSENGER_LIMIT",
    "STANDARD_WINDOW",
    "recipient_of",
    "send_body",
    "window_refusal",
]

STANDARD_WINDOW: Final = timedelta(hours=24)
HUMAN_AGENT_WINDOW: Final = timedelta(days=7)
MAX_MESSAGE_LENGTH: Final = 2000  # the Send API's limit for a text message
MESSENGER_LIMIT: Final = ReplyLimit(MAX_MESSAGE_LENGTH)
# Instagram's messages through the same API: "UTF-8 and 1000 bytes or less" (Send a Message)
INSTAGRAM_LIMIT: Final = ReplyLimit(1000, utf8_length, "bytes")


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hours ago" if hours < 48 else f"{hours // 24} days ago"


def window_refusal(
    parent: Message, now: datetime, *, human_agent: bool, platform: str = "Messenger"
) -> str | None:
    """Why `platform` (Messenger, Instagram) would refuse a reply to `parent` now, in words; None
    while it is allowed. Counted from the person's message (ours open no new window)."""
    if parent.visibility != "direct" or parent.is_ours:
        return None
    waited = now - parent.created_at
    if waited <= STANDARD_WINDOW:
        return None
    who = parent.author.label
    if human_agent and waited <= HUMAN_AGENT_WINDOW:
        return None
    if human_agent:
        return (
            f"{who} wrote {_ago(waited)}: {platform} allows a business to answer within 24 hours, or 7 days "
            "for a person answering (the human agent tag). Both have passed: write to them elsewhere."
        )
    return (
        f"{who} wrote {_ago(waited)}: {platform} allows a business to answer within 24 hours of the person's "
        "last message, so it would refuse this reply. If Meta granted your app the human agent "
        "permission, set human_agent = true for this channel to answer within 7 days."
    )


def recipient_of(parent: Message) -> str | None:
    """The person's Page-scoped id (PSID) a reply to `parent` goes to."""
    if not parent.is_ours:
        return parent.author.remote_id
    return parent.mentions[0] if parent.mentions else None


def send_body(recipient: str, text: str, *, tagged: bool) -> dict[str, Any]:
    """The Send API's JSON: a RESPONSE in the window, a HUMAN_AGENT tagged message after it."""
    body: dict[str, Any] = {"recipient": {"id": recipient}, "message": {"text": text}}
    if tagged:
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    return body
