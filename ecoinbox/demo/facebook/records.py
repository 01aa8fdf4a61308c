"""What the local Graph server holds: a Page, its posts and comments, Messenger, Instagram media.

Ids follow Graph's habits: a Page post is "{page-id}_{post}", a comment "{post}_{comment}",
a Messenger conversation "t_{n}", a message "m_{...}", Instagram ids long digit strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Comment", "Conversation", "DirectMessage", "Media", "Person", "Post", "graph_time_text"]


def graph_time_text(at: datetime) -> str:
    """A time as Graph writes it: 2026-05-01T10:00:00+0000."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass(frozen=True, slots=True)
class Person:
    id: str  # a Page-scoped id (PSID) or an Instagram-scoped id
    name: str
    username: str = ""


@dataclass(slots=True)
class Post:
    id: str
    author: Person
    message: str
    created: datetime
    updated: datetime
    tagged: bool = False  # someone else's post that tags the Page (in /tagged, not in the feed)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "created_time": graph_time_text(self.created),
            "updated_time": graph_time_text(self.updated),
            "from": {"id": self.author.id, "name": self.author.name},
            "permalink_url": f"https://www.facebook.com/{self.id.replace('_', '/posts/')}",
        }


@dataclass(slots=True)
class Comment:
    """A comment on a Facebook post, or on an Instagram media (`instagram`)."""

    id: str
    on: str  # the post's or media's id
    parent: str | None  # the top-level comment a reply is filed under
    author: Person
    message: str
    created: datetime
    instagram: bool = False
    hidden: bool = False
    broken: bool = False  # served with a time no parser reads (a malformed item)

    def json(self, page: Person) -> dict[str, Any]:
        created = "sometime yesterday" if self.broken else graph_time_text(self.created)
        if self.instagram:
            body: dict[str, Any] = {
                "id": self.id, "text": self.message, "timestamp": created, "hidden": self.hidden,
                "username": self.author.username, "from": {"id": self.author.id, "username": self.author.username},
                "media": {"id": self.on},
            }  # fmt: skip
            if self.parent:
                body["parent_id"] = self.parent
            return body
        body = {
            "id": self.id, "message": self.message, "created_time": created, "is_hidden": self.hidden,
            "permalink_url": f"https://www.facebook.com/{self.on.replace('_', '/posts/')}?comment_id={self.id}",
        }  # fmt: skip
        body["from"] = {"id": self.author.id, "name": self.author.name}
        if self.parent:
            body["parent"] = {"id": self.parent}
        return body


@dataclass(slots=True)
class DirectMessage:
    id: str
    author: Person
    to: Person
    text: str
    created: datetime

    def json(self, *, instagram: bool = False) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.text,
            "created_time": graph_time_text(self.created),
            "from": _who(self.author, instagram),
            "to": {"data": [_who(self.to, instagram)]},
        }


def _who(person: Person, instagram: bool) -> dict[str, str]:
    """A participant as the Messenger Platform names one (on Instagram, by username)."""
    return (
        {"id": person.id, "username": person.username}
        if instagram
        else {"id": person.id, "name": person.name}
    )


@dataclass(slots=True)
class Conversation:
    id: str
    person: Person
    messages: list[DirectMessage] = field(default_factory=list)
    platform: str = "messenger"  # or "instagram": direct messages to the Instagram account

    @property
    def updated(self) -> datetime:
        return max(message.created for message in self.messages)

    def last_from_person(self) -> datetime | None:
        times = [m.created for m in self.messages if m.author.id == self.person.id]
        return max(times) if times else None


@dataclass(slots=True)
class Media:
    id: str
    caption: str
    created: datetime
    comments_count: int = 0  # kept by the server as comments are made (replies count too)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "comments_count": self.comments_count,
            "caption": self.caption,
            "timestamp": graph_time_text(self.created),
            "media_type": "IMAGE",
            "permalink": f"https://www.instagram.com/p/{self.id[-8:]}/",
        }
