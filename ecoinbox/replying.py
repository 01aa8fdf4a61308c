"""How a reply starts on its channel: the prefix, the limit, the canned replies, who sees it.

Headless (no Textual): the reply box (ecoinbox.tui.screens.compose) shows a `ReplyDraft`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ecoinbox.channels.base import MailHeaders
from ecoinbox.model import Message, OutboxItem
from ecoinbox.replies import CannedReply


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """What the compose box needs to know about where the reply goes."""

    parent: Message
    channel_label: str
    prefix: str  # e.g. the @mention the platform needs
    max_length: int
    count: Callable[[str], int] = len  # how the platform counts (URLs, mentions, graphemes)
    canned: tuple[CannedReply, ...] = ()  # what ctrl+t offers
    values: Mapping[str, str] = field(default_factory=dict)  # what fills canned variables
    language: str | None = None  # the person's language: its canned variants come first
    body: str = ""  # text to start with after the prefix (a redirect's canned reply)
    used: tuple[str, ...] = ()  # canned replies already in `body`
    link: str | None = None  # the canned link already in `body`
    restored: str | None = None  # the draft kept from before: the box starts with it instead
    visibility: str | None = None  # who sees the reply by default (the parent's), where the platform says
    visibilities: tuple[str, ...] = ()  # what the manager may choose instead, the most public first
    headers: MailHeaders | None = None  # a mail reply's To, Cc and Subject by default
    all_headers: MailHeaders | None = None  # the same, replying to all
    start_visibility: str | None = None  # what the box starts with instead (a reply taken back)
    start_headers: MailHeaders | None = None

    def as_sent(self, item: OutboxItem) -> ReplyDraft:
        """This draft for editing `item`'s text alone: it shows who sees it, nothing to change."""
        visibility = item.visibility or self.visibility
        return replace(self, visibility=visibility if self.visibilities else None,
                       visibilities=(visibility,) if self.visibilities and visibility else (),
                       headers=None, all_headers=None)  # fmt: skip

    def taken_back(self, item: OutboxItem) -> ReplyDraft:
        """This draft starting with the visibility and headers `item` was queued with."""
        headers = None
        if item.to or item.cc or item.subject:
            headers = MailHeaders(item.to, item.cc, item.subject or "")
        return replace(self, start_visibility=item.visibility, start_headers=headers)
