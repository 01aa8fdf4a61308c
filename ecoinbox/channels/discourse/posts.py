"""Discourse posts and notifications, pure: which notifications the inbox wants, whose a post is,
what it answers, its keywords and its flags."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ecoinbox.channels.base import PermanentError
from ecoinbox.channels.http import one_line, redact
from ecoinbox.channels.json_values import as_dict, as_int, as_list, aware_time
from ecoinbox.model import Message, Origin

# Notification.types the inbox wants (app/models/notification.rb).
MENTIONED, REPLIED, QUOTED, PRIVATE_MESSAGE, POSTED = 1, 2, 3, 6, 9
GROUP_MENTIONED, WATCHING_FIRST_POST = 15, 17
WANTED_NOTIFICATIONS = frozenset(
    {MENTIONED, REPLIED, QUOTED, PRIVATE_MESSAGE, POSTED, GROUP_MENTIONED, WATCHING_FIRST_POST}
)
_RANK = {Origin.MENTION: 4, Origin.HASHTAG: 3, Origin.SEARCH: 2, Origin.CONTEXT: 1, Origin.OURS: 0}


POST_URL = re.compile(r"^.*/t/(?P<slug>[^/?#]+)/(?P<topic>\d+)(?:/(?P<number>\d+))?/?$")


_SLUG = re.compile(r"[^A-Za-z0-9_-]")


def wanted_notification(notification: dict[str, Any]) -> bool:
    """A notification the inbox shows: a wanted type, about a post of a topic."""
    return (
        notification.get("notification_type") in WANTED_NOTIFICATIONS
        and as_int(notification.get("topic_id")) is not None
        and as_int(notification.get("post_number")) is not None
    )


def notified_post_id(notification: dict[str, Any]) -> int | None:
    return as_int(as_dict(notification.get("data")).get("original_post_id"))


def keep(found: dict[str, Message], message: Message) -> None:
    """Keep one message per post: a mention beats a keyword hit, which beats context."""
    existing = found.get(message.remote_id)
    if existing is None or _RANK[message.origin] > _RANK[existing.origin]:
        found[message.remote_id] = message


def with_parent(message: Message, parent_id: str) -> Message:
    """A reply we sent answers the message the manager chose, whatever the forum says."""
    return replace(message, in_reply_to=parent_id)


def is_own(post: dict[str, Any], brand: str) -> bool:
    username = post.get("username")
    return isinstance(username, str) and username.casefold() == brand.casefold()


def answers_post(post: dict[str, Any], number: int) -> bool:
    """Whether `post` replies to post `number` (a reply to the first post may say neither)."""
    replying_to = as_int(post.get("reply_to_post_number"))
    return replying_to == number or (number == 1 and replying_to is None)


def fold(text: str) -> str:
    """Lowercase without accents, for comparisons a person would call equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A whole-word (or whole-phrase) match of `keyword` in folded text."""
    words = [re.escape(word) for word in fold(keyword).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def collapse(text: str) -> str:
    return " ".join(text.split())


def loose(title: str) -> str:
    """A title as Discourse may have prettified it: case, spacing and end punctuation aside."""
    return collapse(fold(title)).rstrip(".!?…:; ")


def slug_of(value: Any) -> str:
    return _SLUG.sub("", value)[:200] if isinstance(value, str) else ""


def post_locale(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?", value):
        return value.replace("_", "-")
    return None


def post_edited_at(post: dict[str, Any]) -> datetime | None:
    version = as_int(post.get("version"))
    if version is not None and version > 1 and post.get("updated_at"):
        return aware_time(post["updated_at"])
    return None


def error_words(data: Any) -> str:
    """Discourse's `errors` list as one line ("" if there is none)."""
    errors = as_dict(data).get("errors")
    if isinstance(errors, str):
        errors = [errors]
    said = [one_line(redact(e)) for e in as_list(errors) if isinstance(e, str) and e.strip()]
    return one_line("; ".join(said), limit=400)


def post_id_of(remote_id: str, channel: str) -> int:
    value = as_int(remote_id)
    if value is None:
        raise PermanentError(f"channel {channel}: {one_line(remote_id, 40)!r} is not a post id")
    return value


def aware_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def id_key(remote_id: str) -> tuple[int, str]:
    return (len(remote_id), remote_id)


def required_int(value: Any) -> int:
    number = as_int(value)
    if number is None:
        raise ValueError("not an integer")
    return number


def max_or_none(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def positive(*values: Any) -> int | None:
    for value in values:
        number = as_int(value)
        if number is not None and number > 0:
            return number
    return None


_FLAG_TYPES = frozenset({3, 4, 8})  # post action types: off-topic, inappropriate, spam


def flag_verdict(post: dict[str, Any]) -> str:
    """ "flagged" when readers flagged the post (hidden by flags, or flags counted in its
    `actions_summary`, which staff see), else ""."""
    if post.get("hidden") is True:
        return "flagged"
    for action in post.get("actions_summary") or ():
        if isinstance(action, dict) and action.get("id") in _FLAG_TYPES and as_int(action.get("count")):
            return "flagged"
    return ""


__all__ = [
    "POST_URL",
    "answers_post",
    "aware_utc",
    "collapse",
    "error_words",
    "flag_verdict",
    "fold",
    "id_key",
    "is_own",
    "keep",
    "keyword_pattern",
    "loose",
    "max_or_none",
    "notified_post_id",
    "positive",
    "post_edited_at",
    "post_id_of",
    "post_locale",
    "required_int",
    "slug_of",
    "wanted_notification",
    "with_parent",
]
