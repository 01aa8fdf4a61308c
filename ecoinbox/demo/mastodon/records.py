"""What the local Mastodon stores: accounts, statuses, notifications, OAuth apps and grants, snowflake ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ApiError(Exception):
    """An error answer in Mastodon's shape: `{"error": message}` with an HTTP status."""

    def __init__(self, status: int, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, str] = {"error": message, **extra}


@dataclass(frozen=True, slots=True)
class PostedStatus:
    """A status created through `POST /api/v1/statuses` (idempotent replays are not repeated)."""

    id: str
    text: str
    in_reply_to_id: str | None
    visibility: str
    language: str | None
    idempotency_key: str | None
    json: dict[str, Any]


@dataclass(slots=True)
class Account:
    id: str
    username: str
    host: str  # the account's own instance; equal to the server's domain for local accounts
    local: bool
    display_name: str
    note: str
    created_at: datetime
    statuses_count: int = 0
    last_status_at: datetime | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)  # profile fields, as the API shows them

    @property
    def acct(self) -> str:
        return self.username if self.local else f"{self.username}@{self.host}"

    @property
    def url(self) -> str:
        return f"https://{self.host}/@{self.username}"


@dataclass(slots=True)
class Status:
    id: str
    account: Account
    text: str
    content: str
    created_at: datetime
    parent: Status | None
    visibility: str
    language: str | None
    spoiler_text: str
    mentions: list[Account]
    tags: list[str]
    replies: list[Status] = field(default_factory=list)
    edited_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    created_at: datetime
    account: Account
    status: Status
    filtered: bool
    type: str = "mention"  # or "update": a status the brand interacted with was edited


@dataclass(frozen=True, slots=True)
class App:
    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scopes: str
    website: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    client_id: str
    redirect_uri: str
    scopes: str
    expires_at: datetime
    code_challenge: str | None


class Snowflakes:
    """Mastodon-like ids: milliseconds since the epoch shifted left 16 bits, plus a sequence.

    Zero-padded to 18 digits, so string order, numeric order and creation time agree.
    """

    def __init__(self) -> None:
        self._used: set[int] = set()

    def next(self, at: datetime) -> str:
        value = ((at - _EPOCH) // timedelta(milliseconds=1)) << 16
        while value in self._used:
            value += 1
        self._used.add(value)
        return f"{value:018d}"


def by_id(item: Any) -> int:
    return int(item.id)


def descendants(status: Status) -> list[Status]:
    """Replies in thread order: depth first, siblings oldest first."""
    found: list[Status] = []
    for reply in sorted(status.replies, key=by_id):
        found.append(reply)
        found.extend(descendants(reply))
    return found
