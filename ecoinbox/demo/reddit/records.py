"""What the local Reddit stores: users, posts, comments, inbox entries, OAuth grants, and its API errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecoinbox.demo.reddit.markup import slug

MENTION_TYPES = {"username_mention": "username mention", "comment_reply": "comment reply",
                 "post_reply": "post reply"}  # fmt: skip


class ApiError(Exception):
    """An error answer in Reddit's shape: {"message": ..., "error": status}."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "error": status, **extra}


@dataclass(frozen=True, slots=True)
class PostedComment:
    """A comment created through POST /api/comment."""

    name: str
    thing_id: str
    text: str


@dataclass(slots=True)
class User:
    name: str
    fullname: str
    created: float


@dataclass(slots=True)
class Post:
    id: str
    author: User
    subreddit: str
    title: str
    selftext: str
    created: float
    url: str | None = None  # a link post's target; None for a self post
    locked: bool = False
    removed: bool = False
    comments: list[Comment] = field(default_factory=list)  # top level, oldest first

    @property
    def name(self) -> str:
        return f"t3_{self.id}"

    @property
    def permalink(self) -> str:
        return f"/r/{self.subreddit}/comments/{self.id}/{slug(self.title)}/"


@dataclass(slots=True)
class Comment:
    id: str
    author: User
    post: Post
    parent: Comment | None
    body: str
    created: float
    deleted: bool = False
    removed: bool = False
    spam: bool = False  # removed as spam: a moderator still reads it, with "spam": true
    edited: float | None = None
    replies: list[Comment] = field(default_factory=list)  # oldest first

    @property
    def name(self) -> str:
        return f"t1_{self.id}"

    @property
    def parent_name(self) -> str:
        return self.parent.name if self.parent is not None else self.post.name

    @property
    def gone(self) -> bool:
        return self.deleted or self.removed

    @property
    def depth(self) -> int:
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth


@dataclass(slots=True)
class InboxEntry:
    type: str  # username_mention, comment_reply, post_reply
    comment: Comment
    new: bool = True

    @property
    def name(self) -> str:
        return self.comment.name


@dataclass(frozen=True, slots=True)
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    permanent: bool
    expires_at: datetime
