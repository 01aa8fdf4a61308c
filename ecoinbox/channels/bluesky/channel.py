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

import asyncio
import dataclasses
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
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.bluesky.posts import (
    POST,
    StrongRef,
    collect_replies,
    is_thread_post,
    iso,
    own_message,
    post_text,
    post_url,
    strong_ref,
    to_message,
)
from ecoinbox.channels.bluesky.reader import NOTIFICATIONS_KEY, REASONS, Mark, SourceReader
from ecoinbox.channels.bluesky.text import MAX_GRAPHEMES, bluesky_length, byte_index, find_facets, record_key
from ecoinbox.channels.bluesky.xrpc import (
    MAIN_PASSWORD_SCOPE,
    Session,
    XrpcRefusal,
    XrpcSession,
    parent_missing,
    record_not_found,
    session_scope,
)
from ecoinbox.channels.http import channel_logger, one_line, utc_now
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.language import detect_language
from ecoinbox.model import Message, Origin

log = channel_logger(__name__)

GET_POSTS_LIMIT = 25  # uris per getPosts, the API maximum
THREAD_DEPTH = 6
THREAD_PARENT_HEIGHT = 80
# A resend under the same record key cannot make a second post; past this, the thread is read.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


# How many polls hand a post found deleted back to the store.
DELETION_POLLS = 3
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
        # Stored posts found deleted, handed back marked so by the next DELETION_POLLS polls (a
        # store that failed to save one poll gets it again; marking twice changes nothing).
        self._deleted: dict[str, tuple[Message, int]] = {}

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
        deleted = {uri: marked for uri, (marked, _) in self._deleted.items()}
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
        for uri in deleted:  # a post found deleted during this poll waits for the next
            marked, left = self._deleted[uri]
            if left > 1:
                self._deleted[uri] = (marked, left - 1)
            else:
                del self._deleted[uri]
        messages = sorted(found.values(), key=lambda m: (m.created_at, m.remote_id))
        return PollResult(messages=messages, cursor=next_cursor)

    def _found_deleted(self, message: Message) -> None:
        """`message` (stored) is gone from Bluesky: the next polls hand it back marked deleted."""
        if not message.deleted:
            self._deleted[message.remote_id] = (dataclasses.replace(message, deleted=True), DELETION_POLLS)

    def _messages_of(
        self, items: Iterable[dict[str, Any]], origin: Origin, own_did: str, *, notifications: bool = False
    ) -> list[Message]:
        messages = []
        for item in items:
            if notifications and item.get("reason") not in REASONS:
                continue  # a server that ignores `reasons` (likes, follows...)
            try:
                messages.append(to_message(self.name, item, origin, own_did))
            except (KeyError, TypeError, ValueError) as exc:
                # One broken post must not block the inbox: skip it, say so.
                log.warning(
                    "channel %s: skipped an unreadable post %s (%s)",
                    self.name,
                    one_line(str(item.get("uri", "?")), 80),
                    type(exc).__name__,
                )
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
        """Publish `text` under the parent with a record key made from `idempotency_key`.

        A resend names the same record: if an earlier attempt landed, whatever its answer said,
        the PDS refuses the taken key and the post is read back (`getRecord`) and returned, so
        a resend never makes a second post. Any refusal or error after sending is checked so.
        A parent that is gone, or whose thread is closed to replies, is refused before sending
        (unless an earlier attempt already landed: then that is the reply).
        """
        own = await self._xrpc.current()
        rkey = record_key(idempotency_key, parent.remote_id)
        target = await self._reply_target(parent)
        if isinstance(target, str):  # why it must not be sent, unless an earlier attempt landed
            landed = await self._sent_before(own, rkey, parent)
            if landed is not None:
                return landed
            raise PermanentError(target)
        parent_ref, root_ref = target
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso(self._clock()),
            "reply": {"root": root_ref.json(), "parent": parent_ref.json()},
        }
        facets = await self._facets(text)
        if facets:
            record["facets"] = facets
        # The reply's own language, not its parent's: a French answer to an English post is French.
        language = await asyncio.to_thread(detect_language, text)
        if language:
            record["langs"] = [language]
        body = {"repo": own.did, "collection": POST, "rkey": rkey, "record": record}
        try:
            response = await self._xrpc.call("POST", "com.atproto.repo.createRecord", body=body)
        except (UncertainSend, PermanentError) as exc:
            if isinstance(exc, AuthError):
                raise
            # A refusal may mean the key is taken (an earlier attempt landed); an error after
            # sending may hide a post that exists: look before anyone resends.
            try:
                landed = await self._sent_before(own, rkey, parent)
            except TransientError:
                raise UncertainSend(
                    f"{exc}; whether an earlier attempt landed could not be checked yet"
                ) from None
            if landed is not None:
                return landed
            if parent_missing(exc, parent.remote_id):
                self._found_deleted(parent)
                raise PermanentError(self._gone_words(parent)) from None
            raise
        created = as_dict(response.json())
        uri, cid = created.get("uri"), created.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} described it oddly")
        return own_message(self.name, own, uri, record, parent.remote_id, self._clock())

    async def _sent_before(self, own: Session, rkey: str, parent: Message) -> Message | None:
        """Our reply under record key `rkey`, if it exists (an earlier attempt landed)."""
        params = {"repo": own.did, "collection": POST, "rkey": rkey}
        try:
            response = await self._xrpc.call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if not record_not_found(exc):
                raise
            return None
        data = as_dict(response.json())
        record = as_dict(data.get("value"))
        uri = data.get("uri")
        replied_to = as_dict(as_dict(record.get("reply")).get("parent")).get("uri")
        if not isinstance(uri, str) or replied_to != parent.remote_id:
            raise PermanentError(
                f"channel {self.name}: record key {rkey} holds another post; the reply was not sent"
            )
        return own_message(self.name, own, uri, record, parent.remote_id, self._clock())

    async def _reply_target(self, parent: Message) -> tuple[StrongRef, StrongRef] | str:
        """Strong refs to the parent and to its thread's root (the parent's own root if it is
        itself a reply), read from the AppView (the store keeps no CIDs), or why not to reply."""
        uris = [parent.remote_id]
        if (
            parent.thread_ref
            and parent.thread_ref != parent.remote_id
            and parent.thread_ref.startswith("at://")
        ):
            uris.append(parent.thread_ref)  # the root: whose threadgate it is
        response = await self._xrpc.call(
            "GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in uris]
        )
        views = {str(post.get("uri")): post for post in objects(as_dict(response.json()).get("posts"))}
        post = views.get(parent.remote_id)
        if post is None:
            return await self._missing_parent(parent)
        parent_ref = strong_ref(post)
        if parent_ref is None:
            raise TransientError(f"channel {self.name}: malformed post from {self.host} (getPosts)")
        root_ref = (
            strong_ref(as_dict(as_dict(as_dict(post.get("record")).get("reply")).get("root"))) or parent_ref
        )
        if as_dict(post.get("viewer")).get("replyDisabled") is True:
            root_view = post if root_ref.uri == parent_ref.uri else views.get(root_ref.uri, {})
            who = str(as_dict(root_view.get("author")).get("handle") or "")
            owner = (
                f"@{one_line(who, 80)}" if who and who != "handle.invalid" else "the author of this thread"
            )
            return f"{owner} turned replies off on this post: not sent"
        return parent_ref, root_ref

    async def _missing_parent(self, parent: Message) -> str:
        """Why `getPosts` left the parent out, in words; a deletion the PDS confirms is noted."""
        try:
            gone = await self._record_gone(parent.remote_id)
        except RateLimited:
            raise
        except TransientError as exc:  # tell them apart on the next attempt
            raise TransientError(f"{exc} (checking whether the post this replies to was deleted)") from None
        if gone:
            self._found_deleted(parent)
            return self._gone_words(parent)
        if gone is False:
            return (
                f"channel {self.name}: Bluesky hides the post this replies to from the brand's "
                f"account (its author blocks it, or the post was taken down): not sent"
            )
        return f"channel {self.name}: the post this replies to was deleted or is hidden: not sent"

    def _gone_words(self, parent: Message) -> str:
        who = f"@{one_line(parent.author.handle, 80)}" if parent.author.handle else "its author"
        return f"channel {self.name}: {who} deleted the post this replies to: not sent"

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        """Facets for the mentions (resolved to DIDs), links and hashtags in `text`.

        A handle that does not resolve stays plain text, as in the Bluesky app."""
        facets: list[dict[str, Any]] = []
        resolved: dict[str, str | None] = {}
        for span in find_facets(text):
            if span.kind == "mention":
                key = span.value.casefold()
                if key not in resolved:
                    resolved[key] = await self._resolve_handle(span.value)
                did = resolved[key]
                if did is None:
                    continue
                feature: dict[str, str] = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            elif span.kind == "link":
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
            else:
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
            facets.append({"index": byte_index(text, span.start, span.end), "features": [feature]})
        return facets

    async def _resolve_handle(self, handle: str) -> str | None:
        try:
            response = await self._xrpc.call(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle.lower()}
            )
        except XrpcRefusal:
            return None  # not a handle anyone has: the mention stays plain text
        did = as_dict(response.json()).get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def find_deleted(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` (stored posts of this channel) that are gone from Bluesky, marked
        `deleted=True`: Bluesky announces no deletion, so an open conversation is checked so.

        One `getPosts` per 25 posts; a post it leaves out counts as deleted only when the PDS
        cannot locate its record either (else it is hidden from the brand: blocked, taken down)."""
        gone: list[Message] = []
        wanted = [m for m in messages if not m.deleted and m.remote_id.startswith("at://")]
        for start in range(0, len(wanted), GET_POSTS_LIMIT):
            batch = wanted[start : start + GET_POSTS_LIMIT]
            response = await self._xrpc.call(
                "GET", "app.bsky.feed.getPosts", params=[("uris", m.remote_id) for m in batch]
            )
            seen = {str(post.get("uri")) for post in objects(as_dict(response.json()).get("posts"))}
            for message in batch:
                if message.remote_id not in seen and await self._record_gone(message.remote_id) is True:
                    gone.append(dataclasses.replace(message, deleted=True))
        return gone

    async def _record_gone(self, uri: str) -> bool | None:
        """Whether the PDS cannot locate the record at `uri` (True) or has it (False); None when
        it refuses to say. Transient errors are raised."""
        authority, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        params = {"repo": authority, "collection": collection, "rkey": rkey}
        try:
            await self._xrpc.call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if record_not_found(exc):
                return True
            log.info("channel %s: could not tell a deleted post from a hidden one: %s", self.name, exc)
            return None
        return False

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply with this text under `parent`, published since `since`, if the thread has
        it: reconciles an uncertain send past the record key's window."""
        if parent is None:
            return None
        own = await self._xrpc.current()
        thread = await self._thread(
            parent.remote_id, depth=1, parent_height=0, gone=lambda: self._found_deleted(parent)
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
