"""What an action on a conversation means, for the inbox's keys and the command line alike.

Headless (no Textual): which message a reply answers, how a tag edit reads, what fills canned
reply variables, the reply that carries a new forum topic's address, the topic made from the
person's words. The TUI's screens and `ecoinbox reply/tag/redirect ...` both call these, and
both write through the same store calls, so the outbox, the drafts and the history hold the
same way whichever one acted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from ecoinbox.config import Settings
from ecoinbox.model import Conversation, Message, StoredMessage, normalize_tag

if TYPE_CHECKING:  # replies loads numpy: only the actions that fill canned replies pay for it
    from ecoinbox.replies import CannedReply, LinkRanker, Rendered, Suggestion

MIN_TITLE = 15  # Discourse's default minimum title length
MAX_TITLE = 90

DEFAULT_TOPIC_REPLY = {
    "en": "Thanks {author_name}! I've opened a topic on our forum for this, so our team and the "
    "community can help you there: {topic_url}",
    "fr": "Merci {author_name} ! J'ai ouvert un sujet sur notre forum pour cela, l'équipe et la "
    "communauté pourront vous y aider : {topic_url}",
}
"""Used when no canned reply carries {topic_url}: short, in the person's language."""


def answerable(conversation: Conversation) -> list[StoredMessage]:
    """The messages of `conversation` a reply can answer, oldest first (not the deleted ones)."""
    return [m for m in conversation.messages if not m.message.deleted]


def reply_target(conversation: Conversation) -> Message:
    """The message a reply answers by default: the newest from outside (what the person is
    waiting on), else the newest of all."""
    for stored in reversed(conversation.messages):
        if not stored.message.is_ours and not stored.message.deleted:
            return stored.message
    return conversation.messages[-1].message


def parse_tag_edit(text: str) -> tuple[list[str], list[str]]:
    """Tags to add and to remove from what was typed: "refund -later vip" (commas and "+" work too)."""
    added: list[str] = []
    removed: list[str] = []
    for word in text.replace(",", " ").split():
        target = removed if word.startswith("-") else added
        tag = normalize_tag(word.removeprefix("-").removeprefix("+"))
        if tag:
            target.append(tag)
    return added, removed


def is_feed(settings: Settings, channel: str) -> bool:
    """A read-only channel by its kind (a feed): nothing can be replied there."""
    from ecoinbox.channels.registry import unit

    try:
        return unit(settings.channel(channel).kind).read_only
    except KeyError:
        return False


def reply_refusal(settings: Settings, parent: Message, now: datetime) -> str | None:
    """Why the platform would refuse a reply to `parent` now (a closed Messenger window), in words."""
    from ecoinbox.channels.registry import unit
    from ecoinbox.channels.unit import ReplyRules

    try:
        channel = settings.channel(parent.channel)
        rules = unit(channel.kind)
    except KeyError:
        return None
    return rules.reply_refusal(channel, parent, now) if isinstance(rules, ReplyRules) else None


def canned_values(settings: Settings, parent: Message) -> dict[str, str]:
    """What fills canned reply variables for a reply to `parent` (empty values are left out)."""
    values = {
        "author": f"@{parent.author.handle}",
        "author_name": parent.author.display_name or parent.author.handle,
        "brand": settings.brand.name,
        "channel": parent.channel,
        "agent": settings.replies.agent,
        "forum_url": settings.forum.url if settings.forum else "",
    }
    return {name: value for name, value in values.items() if value}


def fill_canned(
    reply: CannedReply, language: str | None, values: Mapping[str, str]
) -> tuple[str, Rendered, str | None]:
    """The variant for `language` rendered with `values` (and the reply's own link as {link})."""
    from ecoinbox.replies import pick_variant, render

    template, _ = pick_variant(reply, language)
    link = render(reply.link, values).text if reply.link else None
    filled = dict(values)
    if link:
        filled["link"] = link
    return template, render(template, filled), link


def topic_reply_template(settings: Settings, language: str | None) -> str:
    """The reply that carries a new topic's address: a canned one with {topic_url}, else ours."""
    from ecoinbox.replies import pick_variant

    for reply in settings.canned:
        if "{topic_url}" in reply.text or any("{topic_url}" in v for v in reply.variants.values()):
            return pick_variant(reply, language)[0]
    return DEFAULT_TOPIC_REPLY.get(language or "", DEFAULT_TOPIC_REPLY["en"])


def topic_title(text: str, author_label: str) -> str:
    """A title from the person's words: their first sentence without @mentions, cut to fit."""
    words = re.sub(r"(?<!\w)@[\w.@-]+", "", text).split()
    sentence = " ".join(words)
    first = re.split(r"(?<=[.?!])\s", sentence, maxsplit=1)[0].strip() or sentence
    if len(first) > MAX_TITLE:
        first = first[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    if len(first) < MIN_TITLE:
        first = f"Question from {author_label}: {first}".strip().rstrip(":")
    return first[:1].upper() + first[1:]


def topic_body(message: Message, channel_label: str) -> str:
    """The person's words quoted with attribution and a link to where they wrote them (Markdown)."""
    who = f"{message.author.label} (@{message.author.handle})"
    quoted = "\n".join(line for line in message.text.splitlines())
    where = f"[{channel_label}]({message.url})" if message.url else channel_label
    return f'[quote="{who}"]\n{quoted}\n[/quote]\n\nAsked on {where}. Answers welcome here!'


def redirect_suggestions(ranker: LinkRanker, conversation: Conversation, now: datetime) -> list[Suggestion]:
    """Canned replies that bring the person to the forum, ranked for this conversation."""
    said = " ".join(m.message.text for m in conversation.messages if not m.message.is_ours)
    ranked = ranker.rank(said, conversation.row.language, now=now)
    return [s for s in ranked if s.reply.redirect]
