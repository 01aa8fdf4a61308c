"""The Bluesky channel (AT Protocol, over XRPC), signed in with an app password.

Listens on the brand's notifications (mentions, replies and quotes) and on `searchPosts` for
words and hashtags; fetches threads with `getPostThread`; replies with `createRecord`, with both
`root` and `parent` strong refs and mention/link/tag facets at UTF-8 byte offsets.

Session: the app password is exchanged for access and refresh JWTs, kept in memory only and
renewed without a sign-in loop (see `xrpc`); a new password comes through `set_token`.

Sign-in takes app passwords only: the account's main password also opens a session, but one
scoped `com.atproto.access` (full access: it can change the password or delete the account)
where an app password's is `com.atproto.appPass`; the scope is read from the access JWT and a
main-password session is ended and refused, in words.

Idempotency: the record key of a reply is a TID computed from the outbox's idempotency key, so
a resend after an uncertain send names the same record: the PDS refuses a second record under
that key (400, 409, or the 500 InternalServerError the real PDS answers), and the reply is then
read back with `getRecord` instead of posted twice.

Before sending, the parent is read with `getPosts`: a post whose thread is closed by a threadgate
(`viewer.replyDisabled`; the PDS would take the reply and the AppView show it to nobody) or that
is gone is refused in words. The reply's `langs` is detected from its own text.

Deleted posts: Bluesky announces no deletion, so the channel notes one when it meets it, and the
next polls hand the stored post back with `deleted=True`. Signals: `getPosts` leaves the parent
of a reply out and `getRecord` cannot locate it; `createRecord` refuses a reply because it
"Could not locate record" of the parent; `getPostThread` answers NotFound for the parent while an
uncertain send is checked (`find_sent`). `find_deleted` checks stored posts on demand (getPosts,
then getRecord), for whoever can list the open conversations.

Cursors: each source keeps a high-water mark, and a long walk goes on over the next polls
without gaps or repeats (see `reader`). Posts become Messages in `posts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
)
from ecoinbox.channels.bluesky.deletions import Deletions
from ecoinbox.channels.bluesky.posting import Poster
from ecoinbox.channels.bluesky.posts import (
    collect_replies,
    is_thread_post,
    post_text,
    post_url,
    to_message,
)
from ecoinbox.channels.bluesky.reader import NOTIFICATIONS_KEY, REASONS, Mark, SourceReader
from ecoinbox.channels.bluesky.text import MAX_GRAPHEMES, bluesky_length
from ecoinbox.channels.bluesky.xrpc import (
    MAIN_PASSWORD_SCOPE,
    XrpcRefusal,
    XrpcSession,
    session_scope,
)
from ecoinbox.channels.http import UNREADABLE, channel_logger, one_line, skipped_unreadable, utc_now
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.model import Message, Origin

log = channel_logger(__name__)

THREAD_DEPTH = 6
THREAD_PARENT_HEIGHT = 80
# A resend under the same record key cannot make a second post; past this, the thread is read.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
SAFEGUARDS = (
    (
        "the PDS answers a reused record key with an error (500 on the real PDS), not the post: "
        "every attempt at a reply uses the same record key and the record is read back before "
        "anything is resent, so a reply is published once"
    ),
    (
        "the PDS takes a reply under a threadgate that nobody will see: ecoinbox refuses it before "
        "sending (viewer.replyDisabled)"
    ),
    (
        "the account's main password signs in like an app password: ecoinbox tells them apart by "
        "the session's scope and refuses the main password"
    ),
    (
        "Bluesky announces no deletion: ecoinbox asks after the newest posts of open conversations every "
        "15 minutes, and a reply or a thread read that finds a post gone marks it deleted"
    ),
)


# ---------------------------------------------------------------------------------------------
# The channel


class BlueskyChannel(NamedChannel):
    """One brand account on Bluesky (or another atproto PDS), signed in with an app password.

    `poll` cursors are a dict of sub-cursors, each a small JSON object (see `reader.Mark`):
    "notifications", "search:<words>" and "tag:<tag>". The app password and the session's
    JWTs live only in memory: never in `repr`, `str`, an error or a log line.
    """

    kind = "bluesky"
    reply_visibilities = ("public",)
    """Every Bluesky post is public: the reply box says so, with nothing to choose."""

    def __init__(
        self,
        name: str,
        base_url: str,
        app_password: str,
        *,
        handle: str | None,
        search_terms: Sequence[str] = (),
        hashtags: Sequence[str] = (),
        timeout: float = 20.0,
        clock: Callable[[], datetime] = utc_now,
        account_password: bool = False,
    ) -> None:
        """`account_password`: accept a session opened with the account's main password (full
        access), for a PDS that has no app passwords; otherwise such a session is refused."""
        app_password = app_password.strip()  # a token_cmd's trailing newline is not part of it
        if not app_password:
            raise AuthError(f"no app password for channel {name}: run `ecoinbox auth {name}`")
        if not handle or not handle.strip().lstrip("@"):
            raise AuthError(f'channel {name} has no account: set account = "your.handle" in the config')
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.handle = handle.strip().lstrip("@")
        self.search_terms = tuple(term.strip() for term in search_terms if term.strip())
        self.hashtags = tuple(tag.lstrip("#＃") for tag in hashtags if tag.lstrip("#＃"))
        self._clock = clock
        self._xrpc = XrpcSession(
            name,
            self.base_url,
            self.handle,
            app_password,
            timeout=timeout,
            clock=clock,
            account_password=account_password,
        )
        self._reader = SourceReader(self._xrpc, self.search_terms, self.hashtags)
        self._deletions = Deletions(self._xrpc)
        self._poster = Poster(self._xrpc, self._deletions, clock)

    def __repr__(self) -> str:
        return f"BlueskyChannel(name={self.name!r}, base_url={self.base_url!r}, handle={self.handle!r})"

    __str__ = __repr__

    async def aclose(self) -> None:
        """Close the channel's HTTP client (the session just ends; nothing is stored)."""
        await self._xrpc.aclose()

    def set_token(self, token: str) -> bool:
        """Use a new app password from now on; False when it is empty or the one in use."""
        token = token.strip()
        return bool(token) and self._xrpc.set_password(token)

    # -- what it can do ----------------------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """300 graphemes (and 3000 bytes); the record key makes resends safe; no network."""
        return Capabilities(
            reply=True,
            search=bool(self.search_terms or self.hashtags),
            stream=False,
            max_length=MAX_GRAPHEMES,
            length_counting="graphemes",
            idempotency_window=IDEMPOTENCY_WINDOW,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    def length(self, text: str) -> int:
        """`text` measured against the 300 graphemes (and 3000 bytes) of a post."""
        return bluesky_length(text)

    async def check(self) -> str:
        """Sign in (or reuse the session) and ask who we are: "@handle on host (did)"."""
        data = as_dict((await self._xrpc.call("GET", "com.atproto.server.getSession")).json())
        handle, did = str(data.get("handle") or ""), str(data.get("did") or "")
        if not did:
            raise TransientError(f"channel {self.name}: malformed response from {self.host} (getSession)")
        if self.handle.casefold() not in (handle.casefold(), did.casefold()):
            raise PermanentError(
                f"the app password for channel {self.name} signs in as @{one_line(handle)}, not "
                f"@{self.handle}: fix `account` in the config or run `ecoinbox auth {self.name}`"
            )
        said = f"@{one_line(handle)} on {self.host} ({one_line(did)})"
        session = self._xrpc.session
        if session is not None and session_scope(session.access) == MAIN_PASSWORD_SCOPE:
            said += (
                "\nsigned in with the account's main password (full access), as "
                'auth = "account_password" allows: use an app password where the server has them'
            )
        return said

    # -- polling -------------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mentions, replies, quotes, search and hashtag hits since `cursor`, oldest first.

        A search that fails after the notifications succeeded keeps its own cursor and the poll
        returns what it has; if nothing was collected, the first error is raised.
        """
        own = await self._xrpc.current()
        next_cursor = dict(cursor)
        deleted = self._deletions.to_hand_back()
        found: dict[str, Message] = dict(deleted)
        first_error: ChannelError | None = None
        for source in self._reader.sources():
            try:
                items, mark = await self._reader.walk(source, Mark.load(cursor.get(source.key)))
            except AuthError:
                raise
            except PermanentError as exc:
                if source.key == NOTIFICATIONS_KEY:
                    raise
                self._reader.leave_out(source)
                log.warning("channel %s: %s is refused, skipped: %s", self.name, source.key, exc)
                continue
            except TransientError as exc:
                first_error = exc
                break
            notifications = source.key == NOTIFICATIONS_KEY
            for message in self._messages_of(items, source.origin, own.did, notifications=notifications):
                found.setdefault(message.remote_id, message)  # notifications come first and win
            if mark is not None:
                next_cursor[source.key] = mark.dump()
        if first_error is not None and len(found) == len(deleted):
            raise first_error
        if first_error is not None:
            log.warning("channel %s: poll stopped early: %s", self.name, first_error)
        self._deletions.handed_back(list(deleted))
        messages = sorted(found.values(), key=lambda m: (m.created_at, m.remote_id))
        return PollResult(messages=messages, cursor=next_cursor)

    def _messages_of(
        self, items: Iterable[dict[str, Any]], origin: Origin, own_did: str, *, notifications: bool = False
    ) -> list[Message]:
        messages = []
        for item in items:
            if notifications and item.get("reason") not in REASONS:
                continue  # a server that ignores `reasons` (likes, follows...)
            try:
                messages.append(to_message(self.name, item, origin, own_did))
            except UNREADABLE as exc:
                skipped_unreadable(log, self.name, "post", item.get("uri", "?"), exc)
        return messages

    # -- threads -------------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The post with its ancestors and its replies, oldest first ([] if it is gone)."""
        own = await self._xrpc.current()
        thread = await self._thread(remote_id, depth=THREAD_DEPTH, parent_height=THREAD_PARENT_HEIGHT)
        if thread is None:
            return []
        ancestors: list[dict[str, Any]] = []
        parent = as_dict(thread.get("parent"))
        while is_thread_post(parent) and len(ancestors) < THREAD_PARENT_HEIGHT:
            ancestors.append(parent["post"])
            parent = as_dict(parent.get("parent"))
        descendants: list[dict[str, Any]] = []
        collect_replies(thread, descendants, THREAD_DEPTH)
        try:
            itself = to_message(self.name, thread["post"], Origin.CONTEXT, own.did)
        except (KeyError, TypeError, ValueError):
            raise TransientError(f"channel {self.name}: malformed thread from {self.host}") from None
        before = self._messages_of(reversed(ancestors), Origin.CONTEXT, own.did)
        after = self._messages_of(descendants, Origin.CONTEXT, own.did)
        after.sort(key=lambda m: (m.created_at, m.remote_id))
        return [*before, itself, *after]

    async def _thread(
        self, uri: str, *, depth: int, parent_height: int, gone: Callable[[], None] | None = None
    ) -> dict[str, Any] | None:
        """The `#threadViewPost` of `uri`, or None when the post is gone or blocked; `gone` is
        called when the AppView says it is not found (NotFound, or a `#notFoundPost` thread)."""
        params = {"uri": uri, "depth": str(depth), "parentHeight": str(parent_height)}
        try:
            response = await self._xrpc.call("GET", "app.bsky.feed.getPostThread", params=params)
        except XrpcRefusal as exc:
            if exc.error not in ("NotFound", "BlockedActor", "BlockedByActor"):
                raise
            if exc.error == "NotFound" and gone is not None:
                gone()
            return None
        thread = as_dict(as_dict(response.json()).get("thread"))
        if thread.get("$type") == "app.bsky.feed.defs#notFoundPost" and gone is not None:
            gone()
        return thread if is_thread_post(thread) else None

    # -- replying ------------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: a Bluesky reply reaches its parent's author through its reply refs."""
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """Publish `text` under the parent with a record key made from `idempotency_key`: a
        resend names the same record and is read back, never posted twice (see `posting`)."""
        return await self._poster.reply(parent, text, idempotency_key)

    async def find_deleted(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` (stored posts of this channel) that are gone from Bluesky, marked
        `deleted=True`: Bluesky announces no deletion, so an open conversation is checked so."""
        return await self._deletions.find(messages)

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply with this text under `parent`, published since `since`, if the thread has
        it: reconciles an uncertain send past the record key's window."""
        if parent is None:
            return None
        own = await self._xrpc.current()
        thread = await self._thread(
            parent.remote_id, depth=1, parent_height=0, gone=lambda: self._deletions.found(parent)
        )
        if thread is None:
            return None
        cutoff = since - timedelta(minutes=1)  # clocks of servers and ours disagree a little
        for reply in objects(thread.get("replies")):
            post = as_dict(reply.get("post"))
            author = as_dict(post.get("author"))
            record = as_dict(post.get("record"))
            if author.get("did") != own.did or record.get("text") != text:
                continue
            try:
                message = to_message(self.name, post, Origin.OURS, own.did)
            except (KeyError, TypeError, ValueError):
                continue
            if message.created_at >= cutoff:
                return message
        return None


# ---------------------------------------------------------------------------------------------
# `ecoinbox auth`: check an app password before it is stored


async def verify_app_password(
    name: str,
    base_url: str,
    handle: str,
    app_password: str,
    *,
    timeout: float = 20.0,
    account_password: bool = False,
) -> str:
    """Sign channel `name` in once with `app_password`; return "@handle on host (did)".

    Raises AuthError if Bluesky refuses it (or it is the account's main password, unless
    `account_password`), another ChannelError if it cannot be reached."""
    channel = BlueskyChannel(
        name, base_url, app_password, handle=handle, timeout=timeout, account_password=account_password
    )
    try:
        return await channel.check()
    finally:
        await channel.aclose()


__all__ = [
    "BlueskyChannel",
    "XrpcRefusal",
    "post_text",
    "post_url",
    "session_scope",
    "verify_app_password",
]  # the last four stay importable from here, where they were
