"""The Bluesky channel (AT Protocol, over XRPC), signed in with an app password.

Listens on the brand's notifications (mentions, replies and quotes) and on `searchPosts` for
words and hashtags; fetches threads with `getPostThread`; replies with `createRecord`, with both
`root` and `parent` strong refs and mention/link/tag facets at UTF-8 byte offsets.

Session: the app password is exchanged once for access and refresh JWTs (`createSession`, which
the PDS allows 30 times in 5 minutes), kept in memory only. An expired access token (400
ExpiredToken) is renewed with `refreshSession`; only when the refresh token is refused is a new
session created, at most once per request, never in a loop, and never again with a password the
server refused until the token source gives another one (`set_token`).

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

Cursors: the notification list and search results come newest first and only page backwards,
so each source keeps a high-water mark (its newest `indexedAt`, with the URIs seen at exactly
that instant). A poll reads from the top down to the mark; a walk longer than MAX_PAGES is
finished on the next polls from where it stopped (the API cursor is kept), before the mark
moves: no gaps and no repeats across restarts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from ecoinbox.channels.bluesky.text import (
    MAX_GRAPHEMES,
    bluesky_length,
    byte_index,
    find_facets,
    record_key,
    rkey_of,
)
from ecoinbox.channels.http import (
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
    redact,
    register_secret,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.language import detect_language
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

POST = "app.bsky.feed.post"
WEB_APP = "https://bsky.app"  # where a post's page is (the AppView's web client)
REASONS = ("mention", "reply", "quote")
NOTIFICATIONS_PAGE = 100  # the API maximum
GET_POSTS_LIMIT = 25  # uris per getPosts, the API maximum
SEARCH_PAGE = 50
FIRST_RUN_NOTIFICATIONS = 200  # a first run imports this many recent notifications
FIRST_RUN_SEARCH = 25  # and one page of each search
MAX_PAGES = 10  # per source and poll; a longer walk goes on next poll from where it stopped
THREAD_DEPTH = 6
THREAD_PARENT_HEIGHT = 80
# createSession is limited to 30 per 5 minutes per account: we allow ourselves a third of it.
SESSION_BUDGET = 10
SESSION_WINDOW = timedelta(minutes=5)
# A resend under the same record key cannot make a second post; past this, the thread is read.
IDEMPOTENCY_WINDOW = timedelta(hours=24)

NOTIFICATIONS_KEY = "notifications"
SEARCH_PREFIX = "search:"
TAG_PREFIX = "tag:"

# Errors that mean "this access token no longer works" (renew and try once more).
_STALE_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
# The access JWT's `scope` claim of a session opened with the account's main password (an app
# password's is "com.atproto.appPass" or "com.atproto.appPassPrivileged"): atproto's PDS,
# packages/pds/src/auth-scope.ts.
MAIN_PASSWORD_SCOPE = "com.atproto.access"
# How many polls hand a post found deleted back to the store.
DELETION_POLLS = 3
# How a PDS says a record is not there: the lexicon's name, or older PDSes' InvalidRequest.
_NOT_FOUND_MESSAGE = "Could not locate record"
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
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class XrpcRefusal(PermanentError):
    """A 400 answer: the request was refused for good; `error` is the lexicon's error name
    ("RecordNotFound", "NotFound", "InvalidRequest"...)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


# ---------------------------------------------------------------------------------------------
# Cursors


@dataclass(frozen=True, slots=True)
class _Mark:
    """A source's high-water mark, and the unfinished walk toward it, if any."""

    at: datetime
    seen: frozenset[str]  # URIs at exactly `at`, already taken
    resume: str | None = None  # the API cursor where an unfinished walk stopped
    top_at: datetime | None = None  # where the mark goes once that walk is done
    top_seen: frozenset[str] = frozenset()

    @classmethod
    def load(cls, raw: str | None) -> _Mark | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            top = data.get("top")
            return cls(
                at=_timestamp(data["at"]),
                seen=frozenset(str(uri) for uri in data.get("seen", ())),
                resume=str(data["resume"]) if data.get("resume") else None,
                top_at=_timestamp(top["at"]) if top else None,
                top_seen=frozenset(str(uri) for uri in (top or {}).get("seen", ())),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("unreadable Bluesky cursor; starting that source afresh")
            return None

    def dump(self) -> str:
        data: dict[str, Any] = {"at": _iso(self.at), "seen": sorted(self.seen)}
        if self.resume is not None and self.top_at is not None:
            data["resume"] = self.resume
            data["top"] = {"at": _iso(self.top_at), "seen": sorted(self.top_seen)}
        return json.dumps(data, separators=(",", ":"))

    def taken(self, at: datetime, uri: str) -> bool:
        return at < self.at or (at == self.at and uri in self.seen)


@dataclass(frozen=True, slots=True)
class _Source:
    """One thing the channel listens on: its cursor key, endpoint and how to read a page."""

    key: str
    nsid: str
    params: tuple[tuple[str, str], ...]
    origin: Origin
    page_limit: int
    first_run_limit: int
    items_key: str  # "notifications" or "posts"
    time_of: Callable[[dict[str, Any]], datetime]
    since: bool  # the endpoint takes `since` (searchPosts)


@dataclass(slots=True)
class _Newest:
    at: datetime | None = None
    seen: set[str] | None = None

    def note(self, at: datetime, uri: str) -> None:
        if self.at is None or at > self.at:
            self.at, self.seen = at, {uri}
        elif at == self.at and self.seen is not None:
            self.seen.add(uri)


@dataclass(frozen=True, slots=True)
class _Session:
    access: str
    refresh: str
    did: str
    handle: str


@dataclass(frozen=True, slots=True)
class _StrongRef:
    uri: str
    cid: str

    def json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


# ---------------------------------------------------------------------------------------------
# The channel


class BlueskyChannel(NamedChannel):
    """One brand account on Bluesky (or another atproto PDS), signed in with an app password.

    `poll` cursors are a dict of sub-cursors, each a small JSON object (see `_Mark`):
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
        self._password = app_password
        self._account_password = account_password
        register_secret(app_password)
        self._http = HttpClient(name, self.base_url, timeout=timeout, clock=clock)
        self._session: _Session | None = None
        self._session_lock = asyncio.Lock()
        self._password_refused: AuthError | None = None
        self._session_attempts: list[datetime] = []
        self._unsupported_searches: set[str] = set()
        # Stored posts found deleted, handed back marked so by the next DELETION_POLLS polls (a
        # store that failed to save one poll gets it again; marking twice changes nothing).
        self._deleted: dict[str, tuple[Message, int]] = {}

    def __repr__(self) -> str:
        return f"BlueskyChannel(name={self.name!r}, base_url={self.base_url!r}, handle={self.handle!r})"

    __str__ = __repr__

    async def aclose(self) -> None:
        """Close the channel's HTTP client (the session just ends; nothing is stored)."""
        await self._http.aclose()

    def set_token(self, token: str) -> bool:
        """Use a new app password from now on; False when it is empty or the one in use."""
        token = token.strip()
        if not token or token == self._password:
            return False
        register_secret(token)
        self._password = token
        self._password_refused = None
        self._session = None  # the new password may belong to another account: sign in again
        return True

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
        data = as_dict((await self._call("GET", "com.atproto.server.getSession")).json())
        handle, did = str(data.get("handle") or ""), str(data.get("did") or "")
        if not did:
            raise TransientError(f"channel {self.name}: malformed response from {self.host} (getSession)")
        if self.handle.casefold() not in (handle.casefold(), did.casefold()):
            raise PermanentError(
                f"the app password for channel {self.name} signs in as @{one_line(handle)}, not "
                f"@{self.handle}: fix `account` in the config or run `ecoinbox auth {self.name}`"
            )
        said = f"@{one_line(handle)} on {self.host} ({one_line(did)})"
        session = self._session
        if session is not None and session_scope(session.access) == MAIN_PASSWORD_SCOPE:
            said += (
                "\nsigned in with the account's main password (full access), as "
                'auth = "account_password" allows: use an app password where the server has them'
            )
        return said

    # -- session -----------------------------------------------------------------------------

    async def _call(self, method: str, nsid: str, *, params: Any = None, body: Any = None) -> HttpResponse:
        """One XRPC call with the session's access token; a stale token is renewed once."""
        session = await self._current_session()
        response = await self._send(method, nsid, session.access, params=params, body=body)
        if _stale_token(response):
            session = await self._renew(session)
            response = await self._send(method, nsid, session.access, params=params, body=body)
            if _stale_token(response):  # a fresh token refused at once: clocks disagree, or worse
                raise TransientError(
                    f"channel {self.name}: {response.where} refused a fresh session "
                    f"({_error_text(response)}); trying again later"
                )
        self._raise_for(response)
        return response

    async def _send(
        self, method: str, nsid: str, token: str | None, *, params: Any = None, body: Any = None
    ) -> HttpResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return await self._http.request(
            method, "/xrpc/" + nsid, params=params, json=body, headers=headers, check=False
        )

    async def _current_session(self) -> _Session:
        if self._session is not None:
            return self._session
        async with self._session_lock:
            if self._session is None:
                self._session = await self._create_session()
            return self._session

    async def _renew(self, stale: _Session) -> _Session:
        """A session whose access token works: another task's renewal, a refreshed one, or, if
        the refresh token is refused, a new one (one createSession, no more)."""
        async with self._session_lock:
            if self._session is not None and self._session is not stale:
                return self._session  # renewed meanwhile by another request
            response = await self._send("POST", "com.atproto.server.refreshSession", stale.refresh)
            if 200 <= response.status < 300:
                self._session = self._parse_session(response, fallback=stale)
                return self._session
            if response.status not in (400, 401):
                self._raise_for(response)  # 429, 5xx: try again later with the same session
            log.info(
                "channel %s: the refresh token was refused (%s); signing in again",
                self.name,
                _error_name(response) or response.status,
            )
            self._session = None
            self._session = await self._create_session()
            return self._session

    async def _create_session(self) -> _Session:
        if self._password_refused is not None:
            raise self._password_refused  # no request: the same password would be refused again
        now = self._clock()
        self._session_attempts = [at for at in self._session_attempts if now - at < SESSION_WINDOW]
        if len(self._session_attempts) >= SESSION_BUDGET:
            retry_at = self._session_attempts[0] + SESSION_WINDOW
            raise RateLimited(
                f"channel {self.name}: signed in {SESSION_BUDGET} times in 5 minutes; the next "
                f"sign-in waits until {retry_at.astimezone(UTC):%H:%M:%S} UTC",
                retry_at,
            )
        self._session_attempts.append(now)
        response = await self._send(
            "POST",
            "com.atproto.server.createSession",
            None,
            body={"identifier": self.handle, "password": self._password},
        )
        if response.status == 401 or (response.status == 400 and _error_name(response) in _SIGN_IN_REFUSALS):
            self._password_refused = self._sign_in_refused(response)
            raise self._password_refused
        self._raise_for(response)
        session = self._parse_session(response)
        if session_scope(session.access) == MAIN_PASSWORD_SCOPE and not self._account_password:
            await self._end_session(session)
            self._password_refused = self._main_password_refused()
            raise self._password_refused
        return session

    def _main_password_refused(self) -> AuthError:
        return AuthError(
            f"channel {self.name}: this is the main password of @{self.handle}, not an app "
            f"password; ecoinbox does not use it (it could change the account's password or "
            f"delete the account). Create an app password in Bluesky's Settings > Privacy and "
            f"security > App passwords, then run `ecoinbox auth {self.name}`. (A PDS without app "
            f'passwords: set auth = "account_password" for this channel to accept it.)'
        )

    async def _end_session(self, session: _Session) -> None:
        """Sign a session out (best effort): a full-access session must not linger unused."""
        try:
            await self._send("POST", "com.atproto.server.deleteSession", session.refresh)
        except ChannelError as exc:
            log.info("channel %s: could not end the refused session: %s", self.name, exc)

    def _sign_in_refused(self, response: HttpResponse) -> AuthError:
        error = _error_name(response)
        why = _SIGN_IN_REFUSALS.get(error, "the handle or the app password is wrong")
        return AuthError(
            f"{self.host} refused to sign channel {self.name} in as @{self.handle} ({why}): create "
            f"an app password in Bluesky's Settings > Privacy and security > App passwords, then "
            f"run `ecoinbox auth {self.name}`",
            status=response.status,
        )

    def _parse_session(self, response: HttpResponse, fallback: _Session | None = None) -> _Session:
        data = as_dict(response.json())
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        did = data.get("did") or (fallback.did if fallback else None)
        handle = data.get("handle") or (fallback.handle if fallback else self.handle)
        if not all(isinstance(value, str) and value for value in (access, refresh, did)):
            raise TransientError(f"channel {self.name}: malformed session from {self.host}")
        register_secret(access)
        register_secret(refresh)
        return _Session(access=access, refresh=refresh, did=did, handle=str(handle))

    def _raise_for(self, response: HttpResponse) -> None:
        """Map an XRPC error answer: 400s carry the lexicon's error name and message."""
        if 200 <= response.status < 300:
            return
        if response.status == 400:
            said = _error_text(response)
            raise XrpcRefusal(
                f"channel {self.name}: {response.where} refused the request ({said or 400})",
                _error_name(response),
            )
        if response.status == 401:
            said = _error_text(response)
            raise AuthError(
                f"channel {self.name}: {response.where} refused the session ({said or 401}): "
                f"run `ecoinbox auth {self.name}` if it happens again",
                status=401,
            )
        self._http.raise_for_status(response)

    # -- polling -------------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mentions, replies, quotes, search and hashtag hits since `cursor`, oldest first.

        A search that fails after the notifications succeeded keeps its own cursor and the poll
        returns what it has; if nothing was collected, the first error is raised.
        """
        own = await self._current_session()
        next_cursor = dict(cursor)
        deleted = {uri: marked for uri, (marked, _) in self._deleted.items()}
        found: dict[str, Message] = dict(deleted)
        first_error: ChannelError | None = None
        for source in self._sources():
            try:
                items, mark = await self._walk(source, _Mark.load(cursor.get(source.key)))
            except AuthError:
                raise
            except PermanentError as exc:
                if source.key == NOTIFICATIONS_KEY:
                    raise
                self._unsupported_searches.add(source.key)
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

    def _sources(self) -> list[_Source]:
        sources = [
            _Source(
                key=NOTIFICATIONS_KEY,
                nsid="app.bsky.notification.listNotifications",
                params=tuple(("reasons", reason) for reason in REASONS),
                origin=Origin.MENTION,
                page_limit=NOTIFICATIONS_PAGE,
                first_run_limit=FIRST_RUN_NOTIFICATIONS,
                items_key="notifications",
                time_of=_notification_time,
                since=False,
            )
        ]
        for term in self.search_terms:
            sources.append(self._search_source(SEARCH_PREFIX + term, (("q", term),), Origin.SEARCH))
        for tag in self.hashtags:
            params = (("q", f"#{tag}"), ("tag", tag))
            sources.append(self._search_source(TAG_PREFIX + tag.lower(), params, Origin.HASHTAG))
        return [source for source in sources if source.key not in self._unsupported_searches]

    @staticmethod
    def _search_source(key: str, params: tuple[tuple[str, str], ...], origin: Origin) -> _Source:
        return _Source(
            key=key,
            nsid="app.bsky.feed.searchPosts",
            params=(*params, ("sort", "latest")),
            origin=origin,
            page_limit=SEARCH_PAGE,
            first_run_limit=FIRST_RUN_SEARCH,
            items_key="posts",
            time_of=_post_time_of_view,
            since=True,
        )

    async def _walk(self, source: _Source, mark: _Mark | None) -> tuple[list[dict[str, Any]], _Mark | None]:
        """Items above `mark` (newest first), and the mark to store after them."""
        if mark is None:
            return await self._first_run(source)
        resuming = mark.resume is not None and mark.top_at is not None
        api_cursor = mark.resume if resuming else None
        fresh: list[dict[str, Any]] = []
        newest = _Newest()
        for _ in range(MAX_PAGES):
            params = [*source.params, ("limit", str(source.page_limit))]
            if source.since:
                params.append(("since", _iso(mark.at)))
            if api_cursor:
                params.append(("cursor", api_cursor))
            page, api_cursor = await self._page(source, params)
            reached = not page or not api_cursor
            for item, at in page:
                uri = str(item["uri"])
                if at < mark.at:
                    reached = True
                    break
                if not mark.taken(at, uri):
                    fresh.append(item)
                    newest.note(at, uri)
            if reached:
                if resuming:
                    return fresh, _Mark(mark.top_at, mark.top_seen)  # type: ignore[arg-type]
                return fresh, self._moved(mark, newest)
        # Out of pages before the mark: go on from here next poll, keep the mark till then.
        if resuming:
            return fresh, _Mark(mark.at, mark.seen, api_cursor, mark.top_at, mark.top_seen)
        top = self._moved(mark, newest)
        log.info("channel %s: %s has more than %d pages; the rest comes next poll",
                 self.name, source.key, MAX_PAGES)  # fmt: skip
        return fresh, _Mark(mark.at, mark.seen, api_cursor, top.at, top.seen)

    @staticmethod
    def _moved(mark: _Mark, newest: _Newest) -> _Mark:
        if newest.at is None or newest.seen is None or newest.at < mark.at:
            return mark
        seen = set(newest.seen) | (set(mark.seen) if newest.at == mark.at else set())
        return _Mark(newest.at, frozenset(seen))

    async def _first_run(self, source: _Source) -> tuple[list[dict[str, Any]], _Mark | None]:
        """The newest `first_run_limit` items; the mark goes to the newest of them."""
        items: list[dict[str, Any]] = []
        newest = _Newest()
        api_cursor: str | None = None
        while len(items) < source.first_run_limit:
            limit = min(source.page_limit, source.first_run_limit - len(items))
            params = [*source.params, ("limit", str(limit))]
            if api_cursor:
                params.append(("cursor", api_cursor))
            page, api_cursor = await self._page(source, params)
            for item, at in page:
                items.append(item)
                newest.note(at, str(item["uri"]))
            if not page or not api_cursor:
                break
        if newest.at is None or newest.seen is None:
            # Nothing there yet: whatever comes later is new.
            return items, _Mark(_EPOCH, frozenset())
        return items, _Mark(newest.at, frozenset(newest.seen))

    async def _page(
        self, source: _Source, params: list[tuple[str, str]]
    ) -> tuple[list[tuple[dict[str, Any], datetime]], str | None]:
        """One page: its readable items with their times, and the API cursor to the next."""
        response = await self._call("GET", source.nsid, params=params)
        data = response.json()
        raw = as_dict(data).get(source.items_key)
        if not isinstance(raw, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        page: list[tuple[dict[str, Any], datetime]] = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
                continue
            try:
                page.append((item, source.time_of(item)))
            except (KeyError, TypeError, ValueError):
                log.warning(
                    "channel %s: skipped an item without a readable time in %s", self.name, source.key
                )
        next_cursor = as_dict(data).get("cursor")
        return page, next_cursor if isinstance(next_cursor, str) and next_cursor else None

    def _messages_of(
        self, items: Iterable[dict[str, Any]], origin: Origin, own_did: str, *, notifications: bool = False
    ) -> list[Message]:
        messages = []
        for item in items:
            if notifications and item.get("reason") not in REASONS:
                continue  # a server that ignores `reasons` (likes, follows...)
            try:
                messages.append(self._to_message(item, origin, own_did))
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
        own = await self._current_session()
        thread = await self._thread(remote_id, depth=THREAD_DEPTH, parent_height=THREAD_PARENT_HEIGHT)
        if thread is None:
            return []
        ancestors: list[dict[str, Any]] = []
        parent = as_dict(thread.get("parent"))
        while _is_thread_post(parent) and len(ancestors) < THREAD_PARENT_HEIGHT:
            ancestors.append(parent["post"])
            parent = as_dict(parent.get("parent"))
        descendants: list[dict[str, Any]] = []
        _collect_replies(thread, descendants, THREAD_DEPTH)
        try:
            itself = self._to_message(thread["post"], Origin.CONTEXT, own.did)
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
            response = await self._call("GET", "app.bsky.feed.getPostThread", params=params)
        except XrpcRefusal as exc:
            if exc.error not in ("NotFound", "BlockedActor", "BlockedByActor"):
                raise
            if exc.error == "NotFound" and gone is not None:
                gone()
            return None
        thread = as_dict(as_dict(response.json()).get("thread"))
        if thread.get("$type") == "app.bsky.feed.defs#notFoundPost" and gone is not None:
            gone()
        return thread if _is_thread_post(thread) else None

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
        own = await self._current_session()
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
            "createdAt": _iso(self._clock()),
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
            response = await self._call("POST", "com.atproto.repo.createRecord", body=body)
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
            if _parent_missing(exc, parent.remote_id):
                self._found_deleted(parent)
                raise PermanentError(self._gone_words(parent)) from None
            raise
        created = as_dict(response.json())
        uri, cid = created.get("uri"), created.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} described it oddly")
        return self._own_message(own, uri, record, parent.remote_id)

    async def _sent_before(self, own: _Session, rkey: str, parent: Message) -> Message | None:
        """Our reply under record key `rkey`, if it exists (an earlier attempt landed)."""
        params = {"repo": own.did, "collection": POST, "rkey": rkey}
        try:
            response = await self._call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if not _record_not_found(exc):
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
        return self._own_message(own, uri, record, parent.remote_id)

    async def _reply_target(self, parent: Message) -> tuple[_StrongRef, _StrongRef] | str:
        """Strong refs to the parent and to its thread's root (the parent's own root if it is
        itself a reply), read from the AppView (the store keeps no CIDs), or why not to reply."""
        uris = [parent.remote_id]
        if (
            parent.thread_ref
            and parent.thread_ref != parent.remote_id
            and parent.thread_ref.startswith("at://")
        ):
            uris.append(parent.thread_ref)  # the root: whose threadgate it is
        response = await self._call("GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in uris])
        views = {str(post.get("uri")): post for post in objects(as_dict(response.json()).get("posts"))}
        post = views.get(parent.remote_id)
        if post is None:
            return await self._missing_parent(parent)
        parent_ref = _strong_ref(post)
        if parent_ref is None:
            raise TransientError(f"channel {self.name}: malformed post from {self.host} (getPosts)")
        root_ref = (
            _strong_ref(as_dict(as_dict(as_dict(post.get("record")).get("reply")).get("root"))) or parent_ref
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
            response = await self._call(
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
            response = await self._call(
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
            await self._call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if _record_not_found(exc):
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
        own = await self._current_session()
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
                message = self._to_message(post, Origin.OURS, own.did)
            except (KeyError, TypeError, ValueError):
                continue
            if message.created_at >= cutoff:
                return message
        return None

    # -- JSON -> model -----------------------------------------------------------------------

    def _to_message(self, item: dict[str, Any], origin: Origin, own_did: str) -> Message:
        """A notification or a post view as a Message (ValueError/KeyError/TypeError if broken)."""
        uri = item["uri"]
        if not isinstance(uri, str) or not uri.startswith("at://") or f"/{POST}/" not in uri:
            raise ValueError("not a post URI")
        record = item["record"]
        if not isinstance(record, dict) or not isinstance(record.get("text", ""), str):
            raise TypeError("no post record")
        author_json = as_dict(item["author"])
        did = author_json["did"]
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError("no author DID")
        handle = str(author_json.get("handle") or "")
        if not handle or handle == "handle.invalid":
            handle = did
        author = Author(
            channel=self.name,
            remote_id=did,
            handle=handle,
            display_name=str(author_json.get("displayName") or ""),
            url=f"{WEB_APP}/profile/{quote(handle, safe=':.')}",
            # A handle is a domain the account proved it controls (DNS or /.well-known).
            proofs=(f"{WEB_APP}/profile/{quote(handle, safe=':.')}", f"https://{handle}")
            if "." in handle and ":" not in handle
            else (),
        )
        text, links, hidden = post_text(record)
        reply = as_dict(record.get("reply"))
        parent_uri = as_dict(reply.get("parent")).get("uri")
        root_uri = as_dict(reply.get("root")).get("uri")
        langs = record.get("langs")
        language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        return Message(
            channel=self.name,
            remote_id=uri,
            author=author,
            text=text,
            created_at=_post_time(record, item.get("indexedAt")),
            in_reply_to=parent_uri if isinstance(parent_uri, str) and parent_uri else None,
            url=post_url(uri, handle),
            language=language,
            origin=Origin.OURS if did == own_did else origin,
            links=links,
            hidden_characters=hidden,
            thread_ref=root_uri if isinstance(root_uri, str) and root_uri else uri,
        )

    def _own_message(self, own: _Session, uri: str, record: dict[str, Any], parent_uri: str) -> Message:
        text, links, hidden = post_text(record)
        return Message(
            channel=self.name,
            remote_id=uri,
            author=Author(
                channel=self.name,
                remote_id=own.did,
                handle=own.handle,
                url=f"{WEB_APP}/profile/{quote(own.handle, safe=':.')}",
            ),
            text=text,
            created_at=_post_time(record, None, fallback=self._clock()),
            in_reply_to=parent_uri,
            url=post_url(uri, own.handle),
            language=(record.get("langs") or [None])[0],
            origin=Origin.OURS,
            links=links,
            hidden_characters=hidden,
            thread_ref=as_dict(as_dict(record.get("reply")).get("root")).get("uri") or uri,
        )


_SIGN_IN_REFUSALS = {
    "AuthenticationRequired": "the handle or the app password is wrong",
    "AuthFactorTokenRequired": "the account password needs an email code: use an app password",
    "AccountTakedown": "the account was taken down",
    "AccountDeactivated": "the account is deactivated",
    "InvalidRequest": "the handle or the app password is wrong",
}


# ---------------------------------------------------------------------------------------------
# Helpers (pure)


def post_text(record: dict[str, Any]) -> tuple[str, tuple[str, ...], bool]:
    """A post record's text, sanitized, with its real link targets and what its embeds hold.

    Link facets whose visible text does not name their target get the target written after
    them ("my shop (https://elsewhere.example)"), as HTML links do; embeds add a line such as
    "[image: receipt]" or "[quoting: https://bsky.app/...]".
    """
    from ecoinbox.htmltext import plain_to_text, same_target
    from ecoinbox.sanitize import safe_url

    raw = str(record.get("text") or "")
    shown, targets = _with_link_targets(raw, record.get("facets"), same_target, safe_url)
    plain = plain_to_text(shown)
    links = list(dict.fromkeys([*targets, *plain.links]))
    hidden = plain.hidden
    notes: list[str] = []
    for note, url in _embed_notes(as_dict(record.get("embed"))):
        cleaned = plain_to_text(note)
        hidden = hidden or cleaned.hidden
        notes.append(cleaned.text)
        safe = safe_url(url) if url else None
        if safe and safe not in links:
            links.append(safe)
    text = plain.text
    if notes:
        text = (text + "\n" if text else "") + " ".join(notes)
    return text, tuple(links), hidden


def _with_link_targets(
    raw: str, facets: Any, same_target: Callable[[str, str], bool], safe_url: Callable[[str], str | None]
) -> tuple[str, list[str]]:
    """`raw` with the target of each misleading link facet written after its label, and the
    targets of all link facets. Offsets are UTF-8 bytes; broken or overlapping facets are skipped."""
    data = raw.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in objects(facets):
        index = as_dict(facet.get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        for feature in objects(facet.get("features")):
            uri = feature.get("uri")
            if feature.get("$type") == "app.bsky.richtext.facet#link" and isinstance(uri, str):
                target = safe_url(uri.strip())
                if target is not None:
                    spans.append((start, end, target))
    spans.sort()
    pieces: list[bytes] = []
    targets: list[str] = []
    position = 0
    for start, end, target in spans:
        if start < position:
            continue  # overlaps the one before
        label = data[start:end].decode("utf-8", errors="replace")
        targets.append(target)
        pieces.append(data[position:end])
        if not same_target(label, target):
            pieces.append(f" ({target})".encode())
        position = end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8", errors="replace"), targets


def _embed_notes(embed: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(note, link) for what a post embeds: images, video, a link card, a quoted post."""
    kind = str(embed.get("$type") or "")
    notes: list[tuple[str, str | None]] = []
    if kind == "app.bsky.embed.images":
        for image in objects(embed.get("images"))[:4]:
            alt = " ".join(str(image.get("alt") or "").split())
            notes.append((f"[image: {alt}]" if alt else "[image]", None))
    elif kind == "app.bsky.embed.video":
        alt = " ".join(str(embed.get("alt") or "").split())
        notes.append((f"[video: {alt}]" if alt else "[video]", None))
    elif kind == "app.bsky.embed.external":
        external = as_dict(embed.get("external"))
        title = " ".join(str(external.get("title") or "").split())
        uri = external.get("uri")
        notes.append((f"[link: {title}]" if title else "[link]", uri if isinstance(uri, str) else None))
    elif kind == "app.bsky.embed.record":
        uri = as_dict(embed.get("record")).get("uri")
        if isinstance(uri, str) and f"/{POST}/" in uri:
            url = post_url(uri)
            notes.append((f"[quoting: {url}]", url))
        elif isinstance(uri, str):
            notes.append(("[quoting a record]", None))
    elif kind == "app.bsky.embed.recordWithMedia":
        notes.extend(_embed_notes(as_dict(embed.get("record"))))
        notes.extend(_embed_notes(as_dict(embed.get("media"))))
    return notes


def post_url(uri: str, handle: str | None = None) -> str:
    """The web page of a post: https://bsky.app/profile/<handle or DID>/post/<rkey>."""
    authority = uri.removeprefix("at://").split("/", 1)[0]
    who = handle if handle and handle != authority and "." in handle else authority
    return f"{WEB_APP}/profile/{quote(who, safe=':.')}/post/{quote(rkey_of(uri), safe='')}"


def _strong_ref(value: dict[str, Any]) -> _StrongRef | None:
    uri, cid = value.get("uri"), value.get("cid")
    if isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid:
        return _StrongRef(uri, cid)
    return None


def _is_thread_post(node: dict[str, Any]) -> bool:
    kind = node.get("$type")
    return (kind in (None, "app.bsky.feed.defs#threadViewPost")) and isinstance(node.get("post"), dict)


def _collect_replies(node: dict[str, Any], into: list[dict[str, Any]], depth: int) -> None:
    if depth <= 0:
        return
    for reply in objects(node.get("replies")):
        if _is_thread_post(reply):
            into.append(reply["post"])
            _collect_replies(reply, into, depth - 1)


def _notification_time(item: dict[str, Any]) -> datetime:
    return _timestamp(item["indexedAt"])


def _post_time_of_view(post: dict[str, Any]) -> datetime:
    """When a post sorts in search results: the earlier of its claimed and indexed times."""
    return _post_time(as_dict(post.get("record")), post["indexedAt"])


def _post_time(record: dict[str, Any], indexed_at: Any, *, fallback: datetime | None = None) -> datetime:
    """A post's time as Bluesky sorts it: `createdAt`, unless it claims to be later than when
    the AppView saw it (a post dated in the future must not stay on top of the inbox)."""
    indexed = _timestamp(indexed_at) if indexed_at else None
    try:
        created = _timestamp(record.get("createdAt"))
    except (TypeError, ValueError):
        created = None
    times = [t for t in (created, indexed) if t is not None]
    if not times:
        if fallback is not None:
            return fallback
        raise ValueError("a post without a time")
    return min(times)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("a time must be a string")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def session_scope(jwt: str) -> str | None:
    """The `scope` claim of a PDS access JWT (its payload is plain base64url JSON; no signature
    check: only the PDS could, and it just made it), or None when the token is not a JWT."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    scope = as_dict(claims).get("scope")
    return scope if isinstance(scope, str) else None


def _record_not_found(exc: XrpcRefusal) -> bool:
    """A `getRecord` refusal that means "no such record" (RecordNotFound, or older PDSes'
    InvalidRequest with the same message)."""
    return exc.error == "RecordNotFound" or (exc.error == "InvalidRequest" and _NOT_FOUND_MESSAGE in str(exc))


def _parent_missing(exc: ChannelError, parent_uri: str) -> bool:
    """A `createRecord` refusal because the reply's parent is not there any more."""
    return isinstance(exc, XrpcRefusal) and _NOT_FOUND_MESSAGE in str(exc) and parent_uri in str(exc)


def _stale_token(response: HttpResponse) -> bool:
    return response.status in (400, 401) and _error_name(response) in _STALE_TOKEN_ERRORS


def _error_json(response: HttpResponse) -> dict[str, Any]:
    try:
        return as_dict(json.loads(response.content))
    except (ValueError, UnicodeDecodeError):
        return {}


def _error_name(response: HttpResponse) -> str:
    name = _error_json(response).get("error")
    return name if isinstance(name, str) else ""


def _error_text(response: HttpResponse) -> str:
    """The "Name: message" of an XRPC error body, as one short, token-free line."""
    data = _error_json(response)
    parts = [str(data[key]) for key in ("error", "message") if isinstance(data.get(key), str) and data[key]]
    return one_line(redact(": ".join(parts)))


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
]
