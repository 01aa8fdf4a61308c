"""The Channel protocol every platform module implements, and the errors they raise.

A channel knows one platform and nothing of SQLite or Textual: it turns the platform's JSON into
`ecoinbox.model` objects and replies back into requests. It never logs or raises its token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from ecoinbox.model import Message


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can do, as the engine and the compose box need to know it."""

    reply: bool = True
    search: bool = False
    stream: bool = False
    max_length: int = 500
    length_counting: str = "characters"  # or "graphemes", "weighted", "bytes"
    url_length: int | None = None  # a URL counts as this many characters (Mastodon: 23)
    # How long the platform says it deduplicates a resend carrying the same idempotency key
    # (None: it has no such key). Only a second safety: some servers ignore the key, so the
    # outbox reads an uncertain send back (`reconcile`) before any resend, whatever this says.
    idempotency_window: timedelta | None = None
    topics: bool = False  # can open a new topic (a forum): the redirect target
    reconcile: bool = False  # can tell, by reading the thread, whether an uncertain send landed
    # What this server does not guarantee and how ecoinbox makes up for it, one sentence each
    # (`ecoinbox check` prints them), e.g. "ignores Idempotency-Key: an uncertain reply is
    # looked up in the thread before any resend".
    safeguards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplyLimit:
    """How long one reply may be where it differs from the channel's (a direct message on a
    platform whose posts have another limit), and how the platform counts it."""

    max_length: int
    count: Callable[[str], int] = len
    unit: str = "characters"  # what `count` counts, as the reply box says it: "characters", "bytes"

    def refusal(self, label: str, text: str) -> str | None:
        """Why `label` would refuse `text` as too long, in words; None when it fits."""
        if self.count(text) <= self.max_length:
            return None
        return f"{label} takes at most {self.max_length:,} {self.unit} in a message"


def utf8_length(text: str) -> int:
    """How many bytes `text` takes in UTF-8 (what Instagram's and WordPress's limits count)."""
    return len(text.encode("utf-8", "surrogatepass"))


@runtime_checkable
class LimitedReplies(Protocol):
    """A channel whose replies to some messages have a limit of their own (direct messages)."""

    def reply_limit(self, parent: Message) -> ReplyLimit | None:
        """The limit of a reply to `parent` when it is not the channel's; pure, from the message."""
        ...


class NamedChannel:
    """What a channel object says of itself: its class, name and server, never its token."""

    name: str
    base_url: str

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    __str__ = __repr__

    @property
    def host(self) -> str:
        """The server's host[:port], as error messages name it."""
        return urlsplit(self.base_url).netloc


@dataclass(frozen=True, slots=True)
class PollResult:
    """New messages since the cursor, oldest first, and the cursor to store after them."""

    messages: list[Message]
    cursor: dict[str, str] = field(default_factory=dict)
    # What went wrong though the poll succeeded, in words for the manager (e.g. a feed that
    # overflowed between two polls); the engine shows it in the channel's status.
    warnings: tuple[str, ...] = ()


class ChannelError(Exception):
    """A channel operation failed. The message is for the manager: no token, no raw body."""

    transient: bool = True


class TransientError(ChannelError):
    """Try again later (5xx, connection refused, a timeout before anything was sent)."""


class RateLimited(TransientError):
    """The platform asked us to wait; `retry_at` is when this host may be called again."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class PermanentError(ChannelError):
    """The platform refused the request for good (validation, gone, forbidden)."""

    transient = False


class AuthError(PermanentError):
    """The token is missing, wrong or revoked. Says how to fix it, never what it was.

    `status` is the HTTP status the platform refused it with (401, 403), when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UncertainSend(TransientError):
    """A send that may have reached the platform (timeout or reset after the request left)."""


@runtime_checkable
class Channel(Protocol):
    """One configured channel (one account on one platform)."""

    name: str
    kind: str

    async def capabilities(self) -> Capabilities:
        """What this channel can do; may ask the server once (e.g. its length limit)."""
        ...

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """Messages newer than `cursor` (empty on first run), oldest first."""
        ...

    async def context(self, remote_id: str) -> list[Message]:
        """The message `remote_id` with its ancestors, oldest first (for threading)."""
        ...

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """What a reply to `parent` must start with on this platform (e.g. the @mention)."""
        ...

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """Publish `text` as a reply to `parent`; return the created message as the platform says."""
        ...

    async def check(self) -> str:
        """Reach the platform with the credentials; return who we are, in words."""
        ...

    async def aclose(self) -> None:
        """Close the channel's HTTP client."""
        ...


@runtime_checkable
class RenewableChannel(Channel, Protocol):
    """A channel whose token can be swapped while it runs (after the platform refused the old one)."""

    def set_token(self, token: str) -> bool:
        """Use `token` from now on; False (and nothing changes) when it is the one in use or empty."""
        ...


@runtime_checkable
class ForumChannel(Channel, Protocol):
    """A channel that can open topics (the redirect target): `capabilities().topics`."""

    async def create_topic(
        self, title: str, text: str, category: str | None, idempotency_key: str
    ) -> Message:
        """Open a new topic (forums only, `capabilities().topics`); return its first post."""
        ...


@runtime_checkable
class ReconcilingChannel(Channel, Protocol):
    """A channel without idempotency keys that can read back what was sent: `capabilities().reconcile`."""

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our own message with this text (or new topic with this title when `parent` is None),
        published since `since`, if the platform has it: reconciles an uncertain send without
        posting again (`capabilities().reconcile`)."""
        ...


@dataclass(frozen=True, slots=True)
class MailHeaders:
    """A mail reply's recipients and subject, as the reply box shows them and the manager edits them."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    subject: str = ""


@runtime_checkable
class HeadedChannel(Channel, Protocol):
    """A channel whose replies have recipients and a subject the manager can edit (email)."""

    def reply_headers(self, parent: Message, *, reply_all: bool = False) -> MailHeaders:
        """What a reply to `parent` is addressed to by default (the sender; with `reply_all`, the
        other recipients in Cc, our own addresses aside). Pure: from the stored message only."""
        ...

    async def reply_headed(
        self, parent: Message, text: str, idempotency_key: str, headers: MailHeaders
    ) -> Message:
        """`reply`, to `headers.to` and `headers.cc` under `headers.subject`, as the manager set them."""
        ...


@runtime_checkable
class WideningChannel(Channel, Protocol):
    """A channel whose reply may be more public than its parent once the manager confirmed it
    (Mastodon); `reply` alone never widens."""

    async def reply_wider(self, parent: Message, text: str, idempotency_key: str, visibility: str) -> Message:
        """`reply` with `visibility`, even where it is more public than the parent's."""
        ...


@runtime_checkable
class ModeratedChannel(Channel, Protocol):
    """A channel whose messages can be held for moderation (`Message.held`)."""

    async def approve(self, remote_id: str) -> None:
        """Approve the held message `remote_id` (idempotent: approving an approved one is fine).
        Raises PermanentError, in words, where the account may not moderate."""
        ...


@runtime_checkable
class HidingChannel(Channel, Protocol):
    """A platform where a message can be taken out of public view without deleting it
    (Facebook and Instagram hide a comment; YouTube holds or rejects it): what the inbox does on
    the platform when the manager sends a message to Spam or hides it. Complaints are hidden,
    never deleted."""

    async def hide(self, remote_id: str, *, spam: bool) -> None:
        """Hide `remote_id` from the public (idempotent). `spam`: the manager marked it as spam
        (where the platform takes reports, it is reported too). Raises PermanentError, in words,
        where the account may not moderate."""
        ...

    async def unhide(self, remote_id: str) -> None:
        """Show it again (idempotent): the manager's undo, or a publish."""
        ...


@runtime_checkable
class DeletionCheckingChannel(Channel, Protocol):
    """A platform that announces no deletion, whose posts can be asked after (Mastodon, Bluesky)."""

    async def find_deleted(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` (stored posts of this channel) that are gone, marked deleted."""
        ...


@runtime_checkable
class PushChannel(Channel, Protocol):
    """A channel the platform can nudge (IMAP IDLE, Mastodon streaming, Discourse MessageBus):
    `capabilities().stream`."""

    async def watch(self, wake: Callable[[], None]) -> None:
        """Run until cancelled, calling `wake` when something new may be there (the poll that
        follows reads it: polling stays the one way messages come in). Returns at once when
        the platform cannot push."""
        ...
