"""How a reply starts on its channel: the prefix, the limit, the canned replies, who sees it.

Headless (no Textual): the reply box (ecoinbox.tui.screens.compose) shows the `ReplyDraft` that
`reply_draft` makes from the settings and the running channels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ecoinbox.actions import canned_values
from ecoinbox.channels.base import Capabilities, Channel, HeadedChannel, LimitedReplies, MailHeaders
from ecoinbox.config import Settings
from ecoinbox.model import Message, OutboxItem
from ecoinbox.replies import CannedReply

DEFAULT_MAX_LENGTH = 500
"""A reply's limit on a channel that has not said its own yet (Mastodon's default)."""


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """What the compose box needs to know about where the reply goes."""

    parent: Message
    channel_label: str
    prefix: str  # e.g. the @mention the platform needs
    max_length: int
    count: Callable[[str], int] = len  # how the platform counts (URLs, mentions, graphemes)
    unit: str = "characters"  # what `count` counts, as the box says it ("bytes" on WordPress)
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


def reply_draft(
    settings: Settings,
    channels: Mapping[str, Channel],
    capabilities: Mapping[str, Capabilities],
    parent: Message,
    language: str | None = None,
) -> ReplyDraft | None:
    """How a reply to `parent` starts and is measured on its channel, with canned replies;
    None when that channel is not running here."""
    channel = channels.get(parent.channel)
    if channel is None:
        return None
    caps = capabilities.get(parent.channel)
    own = next(iter(settings.brand.handles), None)
    choices = tuple(getattr(channel, "reply_visibilities", ()))
    visibility = parent.visibility or (choices[0] if choices else None)
    if choices and visibility not in choices:
        choices = (visibility,)  # a scope we do not know (Akkoma's "local"): kept, not chosen
    headed = channel if isinstance(channel, HeadedChannel) else None
    own_limit = channel.reply_limit(parent) if isinstance(channel, LimitedReplies) else None
    if own_limit is not None:  # a direct message: the platform's limit for those, not for posts
        max_length, count, unit = own_limit.max_length, own_limit.count, own_limit.unit
    else:
        max_length = caps.max_length if caps else DEFAULT_MAX_LENGTH
        count = getattr(channel, "length", len)
        unit = "bytes" if caps and caps.length_counting == "bytes" else "characters"
    return ReplyDraft(
        parent=parent,
        channel_label=parent.channel,
        prefix=channel.reply_prefix(parent, own),
        max_length=max_length,
        count=count,
        unit=unit,
        canned=settings.canned,
        values=canned_values(settings, parent),
        language=language,
        visibility=visibility if choices else None,
        visibilities=choices,
        headers=headed.reply_headers(parent) if headed else None,
        all_headers=headed.reply_headers(parent, reply_all=True) if headed else None,
    )


def reply_language(parent: Message) -> str | None:
    """The language field of a reply, where the platform has one: the person's."""
    return parent.language


def forum_channel(settings: Settings, channels: Mapping[str, Channel]) -> Channel | None:
    """The forum's channel, when one is configured and running here."""
    return channels.get(settings.forum.channel) if settings.forum else None
