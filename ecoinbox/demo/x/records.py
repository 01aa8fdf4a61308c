"""The local X's records (accounts, posts) and how API v2 writes them as JSON."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecoinbox.demo.loopback import iso_millis

__all__ = ["DmEvent", "Post", "User", "dm_json", "post_json", "user_json", "wrap_links"]

_URL = re.compile(r"https?://[^\s]+")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")


@dataclass(slots=True)
class User:
    id: str
    username: str
    name: str


@dataclass(slots=True)
class Post:
    """A post as X keeps it: `text` with its links already wrapped in t.co (as X stores them)."""

    id: str
    author: User
    text: str
    created_at: datetime
    conversation_id: str
    reply_to: Post | None = None
    lang: str = "en"
    urls: list[tuple[str, str]] = field(default_factory=list)  # (t.co link, the address it stands for)
    deleted: bool = False
    broken: bool = False  # served without author_id and created_at: a client must skip it, not stop

    @property
    def mentions(self) -> list[str]:
        return _MENTION.findall(self.text)


@dataclass(slots=True)
class DmEvent:
    """One message of a one-to-one DM conversation ("smaller id-larger id")."""

    id: str
    conversation_id: str
    sender: User
    text: str
    created_at: datetime


def dm_json(event: DmEvent) -> dict[str, Any]:
    return {
        "id": event.id, "event_type": "MessageCreate", "text": html.escape(event.text, quote=False),
        "sender_id": event.sender.id, "dm_conversation_id": event.conversation_id,
        "created_at": iso_millis(event.created_at), "participant_ids": event.conversation_id.split("-"),
    }  # fmt: skip


def wrap_links(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Every address in `text` as a t.co link (23 characters, as X counts it), and the pairs."""
    pairs: list[tuple[str, str]] = []

    def wrap(match: re.Match[str]) -> str:
        long = match.group()
        short = "https://t.co/" + hashlib.sha256(long.encode()).hexdigest()[:10]
        pairs.append((short, long))
        return short

    return _URL.sub(wrap, text), pairs


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "name": user.name}


def post_json(post: Post) -> dict[str, Any]:
    """A post with the fields ecoinbox asks for (`tweet.fields`); `text` escaped as X does."""
    entities: dict[str, Any] = {}
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)} for m in _MENTION.finditer(post.text)
    ]
    if mentions:
        entities["mentions"] = mentions
    tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(post.text)]
    if tags:
        entities["hashtags"] = tags
    if post.urls:
        entities["urls"] = [
            {"start": post.text.find(short), "end": post.text.find(short) + len(short), "url": short,
             "expanded_url": long, "display_url": long.split("://", 1)[-1][:30]}
            for short, long in post.urls
        ]  # fmt: skip
    body: dict[str, Any] = {
        "id": post.id,
        "text": html.escape(post.text, quote=False),
        "edit_history_tweet_ids": [post.id],
        "conversation_id": post.conversation_id,
        "lang": post.lang,
    }
    if not post.broken:
        body["author_id"] = post.author.id
        body["created_at"] = iso_millis(post.created_at)
    if entities:
        body["entities"] = entities
    if post.reply_to is not None:
        body["in_reply_to_user_id"] = post.reply_to.author.id
        body["referenced_tweets"] = [{"type": "replied_to", "id": post.reply_to.id}]
    return body
