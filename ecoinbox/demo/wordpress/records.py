"""What the local WordPress stores: users, posts and comments, and its REST errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class WpError(Exception):
    """A WordPress REST error: `{"code", "message", "data": {"status"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message, "data": {"status": status}}


@dataclass(slots=True)
class User:
    id: int
    login: str
    name: str
    app_password: str  # without spaces
    moderator: bool  # moderate_comments and edit_posts (an editor or administrator)


@dataclass(slots=True)
class Post:
    id: int
    slug: str
    title: str
    date_gmt: datetime
    comments_open: bool
    text: str = ""  # the post's body (plain paragraphs)


@dataclass(slots=True)
class Comment:
    id: int
    post: int
    parent: int
    user: int  # 0 for a guest
    author_name: str
    author_url: str
    author_email: str
    date_gmt: datetime  # naive UTC, to the second, as WordPress stores it
    raw: str
    status: str  # approved, hold, spam, trash
    author_ip: str = "203.0.113.7"  # what WordPress recorded; shown in edit context only


@dataclass(frozen=True, slots=True)
class CreatedComment:
    """A comment created through the REST API (what a test checks a reply against)."""

    id: int
    post: int
    parent: int
    raw: str
