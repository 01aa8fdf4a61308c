"""What the local forum stores (users, categories, topics, posts, notifications, callers) and
its rate limiters and errors, in Discourse's shapes."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

_H = TypeVar("_H", bound=Callable[..., Any])

Clock = Callable[[], datetime]

VERSION = "3.4.2"
CHUNK_SIZE = 20  # posts in the first chunk of a topic's post_stream
LATEST_POSTS_PAGE = 50
NOTIFICATIONS_PAGE = 60
SEARCH_PAGE = 50
SEARCH_MIN_TERM = 3  # min_search_term_length
MIN_TITLE, MAX_TITLE = 15, 255  # min/max_topic_title_length
MIN_POST, MAX_POST = 20, 32_000  # min_post_length (and min_first_post_length), max_post_length
UNIQUE_POSTS_WINDOW = timedelta(minutes=5)  # unique_posts_mins
USER_KEY_DAILY_LIMIT = 2_880  # max_user_api_reqs_per_day
AUTH_API_VERSION = 4
ALLOWED_SCOPES = frozenset(
    {
        "read",
        "write",
        "message_bus",
        "push",
        "notifications",
        "session_info",
        "one_time_password",
        "bookmarks_calendar",
        "user_status",
    }
)
ALLOWED_AUTH_REDIRECTS = ("https://api.discourse.org/api/auth_redirect", "discourse://auth_redirect")
# `requests` keeps at most this many (a demo left polling all day must not grow without bound).

# Notification.types in Discourse's app/models/notification.rb.
NOTIFICATION_TYPES: dict[str, int] = {
    "mentioned": 1,
    "replied": 2,
    "quoted": 3,
    "edited": 4,
    "liked": 5,
    "private_message": 6,
    "invited_to_private_message": 7,
    "invitee_accepted": 8,
    "posted": 9,
    "moved_post": 10,
    "linked": 11,
    "granted_badge": 12,
    "invited_to_topic": 13,
    "custom": 14,
    "group_mentioned": 15,
    "group_message_summary": 16,
    "watching_first_post": 17,
    "topic_reminder": 18,
    "liked_consolidated": 19,
    "post_approved": 20,
}
MENTIONED, REPLIED, QUOTED = 1, 2, 3
POSTED, WATCHING_FIRST_POST = 9, 17


NOT_FOUND = "The requested URL or resource could not be found."


INVALID_ACCESS = "You are not permitted to view the requested resource."


INVALID_API_CREDENTIALS = f"{INVALID_ACCESS} The API username or key is invalid."


NOT_LOGGED_IN = "You need to be logged in to do that."


TOPIC_NOT_FOUND = (
    "Something has gone wrong. Perhaps this topic was closed or deleted while you were looking at it?"
)


TOO_SIMILAR = "Body is too similar to what you recently posted"


def needs_login(handler: _H) -> _H:
    """Mark a route that refuses anonymous requests (403 not_logged_in)."""
    handler.needs_login = True  # type: ignore[attr-defined]
    return handler


class ApiError(Exception):
    """An error answer in Discourse's shape: usually `{"errors": [...], "error_type": ...}`."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(body.get("errors", body)))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    @classmethod
    def typed(cls, status: int, message: str, error_type: str, **extras: Any) -> ApiError:
        body: dict[str, Any] = {"errors": [message], "error_type": error_type}
        if extras:
            body["extras"] = extras
        return cls(status, body)

    @classmethod
    def not_found(cls) -> ApiError:
        return cls.typed(404, NOT_FOUND, "not_found")

    @classmethod
    def invalid_access(cls, message: str = INVALID_ACCESS) -> ApiError:
        return cls.typed(403, message, "invalid_access")

    @classmethod
    def cannot_post(cls, *messages: str) -> ApiError:
        return cls(422, {"action": "create_post", "errors": list(messages)})


@dataclass(frozen=True, slots=True)
class PostedForumPost:
    """A post created through `POST /posts.json`: a new topic (with `title` and `category`, the
    category's slug) or a reply. Rejected posts are not listed."""

    id: int
    topic_id: int
    post_number: int
    raw: str
    title: str | None
    category: str | None
    reply_to_post_number: int | None
    username: str
    json: dict[str, Any]


@dataclass(slots=True)
class User:
    id: int
    username: str
    name: str
    created_at: datetime
    trust_level: int = 1
    admin: bool = False
    moderator: bool = False
    watched_first_post: set[int] = field(default_factory=set)  # category ids

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator


@dataclass(slots=True)
class Category:
    id: int
    name: str
    slug: str
    color: str
    description: str
    position: int
    language: str


@dataclass(slots=True)
class Topic:
    id: int
    title: str
    slug: str
    category: Category
    user: User
    created_at: datetime
    language: str
    posts: list[Post] = field(default_factory=list)  # by post_number
    watchers: set[int] = field(default_factory=set)  # user ids watching the topic


@dataclass(slots=True)
class Post:
    id: int
    topic: Topic
    user: User
    post_number: int
    raw: str
    cooked: str
    created_at: datetime
    reply_to_post_number: int | None
    words: tuple[str, ...] = ()  # folded words of the topic title and the raw, for search
    version: int = 1
    updated_at: datetime | None = None
    deleted_at: datetime | None = None  # deleted by staff: only staff still see it
    user_deleted: bool = False  # withdrawn by its author: shown as such
    hidden: bool = False  # hidden by flags until edited or approved


@dataclass(slots=True)
class Notification:
    id: int
    user_id: int
    type: int
    post: Post
    created_at: datetime
    read: bool = False


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request acts as, and through which kind of key (None: anonymous)."""

    user: User | None
    via: str | None  # "api_key" | "user_api_key"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[str, ...]
    latest: bool = False
    after: datetime | None = None
    before: datetime | None = None
    username: str | None = None
    category: str | None = None
    first_only: bool = False

    @property
    def filtered(self) -> bool:
        return any((self.after, self.before, self.username, self.category, self.first_only))


class RateLimiter:
    """Discourse's RateLimiter: at most `limit` actions in any `window` seconds (a sliding
    window); a refused attempt is not counted."""

    def __init__(self, limit: int, window: float, error_code: str) -> None:
        self.limit = limit
        self.window = window
        self.error_code = error_code
        self._hits: dict[str, deque[float]] = {}

    def wait(self, key: str, now: datetime) -> int:
        """Seconds until one more action is allowed (0: now)."""
        hits = self._prune(key, now.timestamp())
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[0] + self.window - now.timestamp()))

    def hit(self, key: str, now: datetime) -> None:
        self._prune(key, now.timestamp()).append(now.timestamp())

    def exhaust(self, key: str, now: datetime) -> None:
        hits = self._prune(key, now.timestamp())
        hits.extend([now.timestamp()] * max(0, self.limit - len(hits)))

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits


def visible_post(post: Post, viewer: User | None) -> bool:
    """A post deleted by staff is seen by staff only."""
    return post.deleted_at is None or bool(viewer and viewer.staff)


def ids_of(post: Post) -> dict[str, Any]:
    return {"topic_id": post.topic.id, "post_id": post.id, "post_number": post.post_number}
