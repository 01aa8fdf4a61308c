"""The Mastodon channel (also GoToSocial and Akkoma/Pleroma, through the Mastodon API).

Listens on mention notifications (including the ones the 4.3 notification policy filters)
and edit (`update`) notifications, on hashtags and on keyword searches, fetches threads, and
replies. With `stream` (the default), new mentions and edits arrive live: the streaming API
wakes the poll (see `ecoinbox.channels.mastodon.stream`); otherwise they wait for the next
poll. Deletions arrive by thread reads and `find_deleted`.

Exactly once: servers of the family do not all honour `Idempotency-Key` (GoToSocial ignores it),
so the key is sent as a second safety only; an uncertain reply is looked up in the parent's
thread and in our own recent statuses (`find_sent`) before anything is sent again.

Nothing lost: servers cap `limit` below what is asked (40 for 80), so a page's size never says
it is the last: pages are followed to an empty one, back to the `backfill` horizon on a first run.

Handles: `Author.handle` is always qualified, `user@domain`. Remote accounts come that way from
the server; local accounts (`acct` without a domain) are qualified with the instance's own domain
(`domain` of /api/v2/instance, the one fediverse handles use; the base URL's host if the server
does not say). `reply_prefix` turns the instance's own domain back into a bare `@user`, like the
Mastodon web client does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import (
    UNREADABLE,
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
    skipped_unreadable,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.channels.mastodon.instance import Instance, fetch_instance, search_warnings
from ecoinbox.channels.mastodon.statuses import (
    DEFAULT_URL_LENGTH,
    VISIBILITY_ORDER,
    addresses,
    bare_handle,
    comparable,
    id_key,
    is_our_reply,
    keep_newest,
    link_param,
    mastodon_length,
    mentions_of,
    newest_id,
    notified_status,
    older_than,
    oldest_id,
    qualified_handle,
    reply_visibility,
    status_itself,
    status_message,
    strict_list_of,
    within_backfill,
)
from ecoinbox.channels.mastodon.stream import NotificationStream
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

"""What `ecoinbox auth` asks for, and no more: notifications (mentions), statuses (threads, hashtags,
our own posts), accounts (who we are), search (keywords), follows (whether someone blocks the
brand, from relationships), and posting replies. No follow, delete, media or profile rights."""

NOTIFICATIONS_PAGE = 80  # the API maximum since 4.1
LISTENING_PAGE = 40
DEFAULT_BACKFILL = timedelta(days=14)  # a first run imports the mentions of this long back
FIRST_RUN_AT_LEAST = 200  # and at least this many, however old (a quiet account is not empty)
FIRST_RUN_LISTENING = 40  # and the newest hashtag or search hits, not their whole history
MAX_PAGES = 50  # per source and poll; the next poll goes on from the cursor, without a gap
OWN_STATUSES_PAGE = 40
# `find_sent` looks this far before the first attempt: the server's clock may run behind ours.
RECONCILE_SLACK = timedelta(minutes=5)
MAX_RECONCILE_PAGES = 10  # of our own statuses; past that it says "cannot tell yet"

SAFEGUARDS = (
    (
        "Idempotency-Key is not relied on: an uncertain reply is looked up in the thread and our "
        "recent posts before any resend"
    ),
    "pages may be shorter than asked: ecoinbox follows Link next to the cursor",
    "a reply to someone who blocks the brand would be published unseen: ecoinbox refuses it first",
    (
        "deletions are not announced: ecoinbox asks after the newest posts of open conversations every "
        "15 minutes, and a 404 when a thread is read marks the post deleted"
    ),
)


NOTIFICATIONS_KEY = "notifications"
TAG_PREFIX = "tag:"
SEARCH_PREFIX = "search:"


@dataclass(frozen=True, slots=True)
class _Source:
    """One thing the channel listens on: its cursor key, endpoint and how to read a page."""

    key: str
    path: str
    params: tuple[tuple[str, str], ...]
    origin: Origin
    page_limit: int
    first_run_limit: int | None  # None: back to the backfill horizon
    items_of: Callable[[Any], list[dict[str, Any]] | None]
    status_of: Callable[[dict[str, Any]], dict[str, Any] | None]


class MastodonChannel(NamedChannel):
    """One brand account on a Mastodon-API server (Mastodon, GoToSocial, Akkoma).

    `poll` cursors are a dict of sub-cursors: "notifications" (last notification id),
    "tag:<name>" and "search:<term>" (last status id). The token lives only in the HTTP
    client's auth header: never in `repr`, `str` or an error.
    """

    kind = "mastodon"
    reply_visibilities = VISIBILITY_ORDER
    """What a reply may be published as, the most public first (the reply box cycles them)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        account: str | None,
        hashtags: Sequence[str] = (),
        search_terms: Sequence[str] = (),
        include_filtered: bool = True,
        timeout: float = 20.0,
        backfill: timedelta = DEFAULT_BACKFILL,
        clock: Callable[[], datetime] = utc_now,
        stream: bool = True,
    ) -> None:
        token = token.strip()  # a token_cmd's trailing newline is not part of it
        if not token:
            raise AuthError(f"no token for channel {name}: run `ecoinbox auth {name}`")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.account = account.lstrip("@") if account else None
        self.hashtags = tuple(tag.lstrip("#") for tag in hashtags if tag.lstrip("#"))
        self.search_terms = tuple(term for term in search_terms if term.strip())
        self.include_filtered = include_filtered
        self.backfill = backfill
        self._clock = clock
        self._http = HttpClient(
            name, self.base_url, auth_headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
        self.stream = stream
        self.notification_stream = NotificationStream(name, self._http)
        self._instance: Instance | None = None
        self._own: dict[str, Any] | None = None
        self._unsupported_searches: set[str] = set()

    async def aclose(self) -> None:
        """Close the channel's HTTP client."""
        await self._http.aclose()

    def set_token(self, token: str) -> bool:
        """Use a renewed token from now on; False when it is empty or the one in use."""
        token = token.strip()
        if not token or not self._http.set_auth_headers({"Authorization": f"Bearer {token}"}):
            return False
        self._own = None  # the new token may belong to another account: ask again
        return True

    # -- instance and account ------------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """Length limits from the instance (asked once); replies always, search if configured."""
        instance = await self._load_instance()
        return Capabilities(
            reply=True,
            search=bool(self.search_terms),
            stream=self.stream,
            max_length=instance.max_characters,
            length_counting="graphemes",
            url_length=instance.url_length,
            # Sent, but not every server of the family honours it: reconciled, never trusted.
            idempotency_window=None,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Verify the token; return "@acct on host (Software version)", then a line for each
        thing that will not work as configured (keyword listening on a server that does not
        index statuses)."""
        own = await self._own_account()
        instance = await self._load_instance()
        acct = str(own.get("acct", ""))
        if self.account and bare_handle(self.account, instance.domain) != bare_handle(acct, instance.domain):
            raise PermanentError(
                f"the token for channel {self.name} belongs to @{one_line(acct)}, "
                f"not @{self.account}: run `ecoinbox auth {self.name}`"
            )
        software = f"{instance.software} {instance.version}".strip()
        lines = [f"@{one_line(acct)} on {self.host} ({one_line(software)})"]
        if self.stream:
            lines[0] += await self._stream_check()
        if self.search_terms:
            lines.extend(await search_warnings(self._http, self.host, instance, str(own["id"])))
        return "\n".join(lines)

    async def _stream_check(self) -> str:
        """What `check` adds to its first line about live mentions: that they stream, or (as
        a line of its own, a warning) why they will wait for the next poll instead."""
        why = await self.notification_stream.probe()
        if why is None:
            return "; new mentions arrive live (streaming)"
        return (
            f"\nstreaming does not work here ({why}): new mentions wait for the next poll "
            + "(poll_interval); set stream = false to stop trying"
        )

    async def watch(self, wake: Callable[[], None]) -> None:
        """Until cancelled, wake the poll as soon as the streaming API says a mention or an
        edit arrived, and on every (re)connection; reconnects with backoff. Returns at once
        with `stream = false`."""
        if self.stream:
            await self.notification_stream.run(wake)

    async def _load_instance(self) -> Instance:
        if self._instance is None:
            self._instance = await fetch_instance(self._http, urlsplit(self.base_url).hostname or self.host)
        return self._instance

    async def _own_account(self) -> dict[str, Any]:
        if self._own is None:
            own = as_dict(await self._http.get_json("/api/v1/accounts/verify_credentials"))
            if not own.get("id"):
                raise TransientError(
                    f"channel {self.name}: malformed response from {self.host}"
                    "/api/v1/accounts/verify_credentials"
                )
            self._own = own
        return self._own

    # -- polling -------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mentions, hashtag and search hits since `cursor`, oldest first.

        A source that fails after others succeeded leaves its own cursor where it was and the
        poll returns what it has; if nothing was collected, the first error is raised.
        """
        await self._load_instance()
        own_id = str((await self._own_account())["id"])
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        first_error: ChannelError | None = None
        for source in self._sources():
            try:
                items, source_cursor = await self._fetch_source(source, cursor.get(source.key))
            except AuthError:
                raise
            except PermanentError as exc:
                if source.key == NOTIFICATIONS_KEY:
                    raise
                self._give_up_on(source, exc)
                continue
            except TransientError as exc:
                first_error = exc
                break
            # Oldest first, so an edit (`update`) comes after the mention it changes.
            for item in sorted(items, key=lambda item: id_key(str(item["id"]))):
                status = source.status_of(item)
                origin = source.origin
                if item.get("type") == "update" and not addresses(status, own_id):
                    origin = Origin.CONTEXT  # an edit of a post we only boosted or favourited
                for message in self._messages_of([status], origin, own_id):
                    keep_newest(found, message)
            if source_cursor is not None:
                next_cursor[source.key] = source_cursor
        if first_error is not None and not found:
            raise first_error
        if first_error is not None:
            log.warning("channel %s: poll stopped early: %s", self.name, first_error)
        messages = sorted(found.values(), key=lambda m: (m.created_at, id_key(m.remote_id)))
        self.notification_stream.token_accepted()  # the stream may (re)connect with it
        return PollResult(messages=messages, cursor=next_cursor)

    def _sources(self) -> list[_Source]:
        sources = [
            _Source(
                key=NOTIFICATIONS_KEY,
                path="/api/v1/notifications",
                params=(
                    ("types[]", "mention"),
                    ("types[]", "update"),  # edits of statuses we were mentioned in or answered
                    ("include_types[]", "mention"),  # Akkoma/Pleroma spelling
                    ("include_types[]", "update"),
                    ("include_filtered", "true" if self.include_filtered else "false"),
                ),
                origin=Origin.MENTION,
                page_limit=NOTIFICATIONS_PAGE,
                first_run_limit=None,
                items_of=strict_list_of,
                status_of=notified_status,
            )
        ]
        for tag in self.hashtags:
            sources.append(
                _Source(
                    key=TAG_PREFIX + tag.lower(),
                    path="/api/v1/timelines/tag/" + quote(tag, safe=""),
                    params=(),
                    origin=Origin.HASHTAG,
                    page_limit=LISTENING_PAGE,
                    first_run_limit=FIRST_RUN_LISTENING,
                    items_of=strict_list_of,
                    status_of=status_itself,
                )
            )
        for term in self.search_terms:
            if term in self._unsupported_searches:
                continue
            sources.append(
                _Source(
                    key=SEARCH_PREFIX + term,
                    path="/api/v2/search",
                    params=(("type", "statuses"), ("q", term), ("resolve", "false")),
                    origin=Origin.SEARCH,
                    page_limit=LISTENING_PAGE,
                    first_run_limit=FIRST_RUN_LISTENING,
                    items_of=lambda data: strict_list_of(as_dict(data).get("statuses")),
                    status_of=status_itself,
                )
            )
        return sources

    def _give_up_on(self, source: _Source, error: ChannelError) -> None:
        """A hashtag or search the server refuses (4xx): stop listening on it, say why once."""
        if source.key.startswith(SEARCH_PREFIX):
            self._unsupported_searches.add(source.key.removeprefix(SEARCH_PREFIX))
            log.warning("channel %s: search not supported here, skipped: %s", self.name, error)
        else:
            log.warning("channel %s: hashtag skipped this poll: %s", self.name, error)

    async def _fetch_source(
        self, source: _Source, since: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Raw items newer than `since` (or the most recent ones) and the cursor after them."""
        if since is None:
            return await self._fetch_recent(source)
        try:
            return await self._fetch_since(source, since)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or source.origin is not Origin.SEARCH:
                raise
            # Some servers refuse min_id on search: take the newest page and filter it here.
            log.info("channel %s: search refused min_id, filtering locally: %s", self.name, exc)
            items, newest = await self._fetch_recent(source)
            fresh = [item for item in items if id_key(str(item["id"])) > id_key(since)]
            return fresh, (newest if fresh else since)

    async def _fetch_since(self, source: _Source, since: str) -> tuple[list[dict[str, Any]], str]:
        """Walk forward from `since` with min_id (Link rel="prev") until an empty page: servers
        cap `limit` (40 for 80 asked), so a short page never says it was the last."""
        items: list[dict[str, Any]] = []
        newest = since
        for _ in range(MAX_PAGES):
            params = [*source.params, ("limit", str(source.page_limit)), ("min_id", newest)]
            response = await self._http.request("GET", source.path, params=params)
            page = self._page(source, response)
            if not page:
                break
            items.extend(page)
            after = link_param(response.links, "prev", "min_id") or newest_id(page)
            if id_key(after) <= id_key(newest):
                break  # no step forward: a server that ignores min_id must not loop us
            newest = after
        return items, newest

    async def _fetch_recent(self, source: _Source) -> tuple[list[dict[str, Any]], str | None]:
        """A first run: back from the newest item along Link rel="next" (max_id) to the backfill
        horizon (mentions: and at least FIRST_RUN_AT_LEAST of them) or `first_run_limit` items
        (listening), or an empty page."""
        horizon = self._clock() - self.backfill
        items: list[dict[str, Any]] = []
        newest: str | None = None
        max_id: str | None = None
        for _ in range(MAX_PAGES):
            limit = source.page_limit
            if source.first_run_limit is not None:
                limit = min(limit, source.first_run_limit - len(items))
            params = [*source.params, ("limit", str(limit))]
            if max_id is not None:
                params.append(("max_id", max_id))
            response = await self._http.request("GET", source.path, params=params)
            page = self._page(source, response)
            if not page:
                break
            if newest is None:
                newest = link_param(response.links, "prev", "min_id") or newest_id(page)
            recent = page
            if source.first_run_limit is None:
                recent = within_backfill(page, horizon, FIRST_RUN_AT_LEAST - len(items))
            items.extend(recent)
            if len(recent) < len(page):
                break  # the page reached back past the horizon
            if source.first_run_limit is not None and len(items) >= source.first_run_limit:
                break
            before = link_param(response.links, "next", "max_id") or oldest_id(page)
            if max_id is not None and id_key(before) >= id_key(max_id):
                break  # no step back: a server that ignores max_id must not loop us
            max_id = before
        else:
            log.warning(
                "channel %s: the first poll of %s stopped after %d items, short of the backfill "
                "horizon: older ones are not imported", self.name, source.key, len(items),
            )  # fmt: skip
        return items, newest

    def _page(self, source: _Source, response: HttpResponse) -> list[dict[str, Any]]:
        """The items of one page, each with an id; a page that is not a list is malformed."""
        items = source.items_of(response.json())
        if items is None:
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        return [item for item in items if isinstance(item.get("id"), str | int) and str(item["id"])]

    def _messages_of(
        self, statuses: Iterable[dict[str, Any] | None], origin: Origin, own_id: str
    ) -> list[Message]:
        messages = []
        for status in statuses:
            if status is None or status.get("reblog"):
                continue
            try:
                messages.append(self._to_message(status, origin, own_id))
            except UNREADABLE as exc:
                skipped_unreadable(log, self.name, "status", status.get("id", "?"), exc)
        return messages

    # -- threads -------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The status with its ancestors and descendants, oldest first (with their `edited_at`).

        A status the server says is gone (404) comes back alone, as a Message with
        `deleted=True` and no text: the store marks a known one deleted.
        """
        await self._load_instance()
        own_id = str((await self._own_account())["id"])
        path = "/api/v1/statuses/" + quote(remote_id, safe="")
        response = await self._http.request("GET", path, check=False)
        if response.status == 404:
            return [self._gone(remote_id)]
        self._http.raise_for_status(response)
        status = as_dict(response.json())
        thread = as_dict(await self._http.get_json(path + "/context"))
        ancestors = self._messages_of(objects(thread.get("ancestors")), Origin.CONTEXT, own_id)
        descendants = self._messages_of(objects(thread.get("descendants")), Origin.CONTEXT, own_id)
        descendants.sort(key=lambda m: (m.created_at, id_key(m.remote_id)))
        try:
            itself = self._to_message(status, Origin.CONTEXT, own_id)
        except (KeyError, TypeError, ValueError):
            raise TransientError(f"channel {self.name}: malformed response from {self.host}{path}") from None
        return [*ancestors, itself, *descendants]

    async def find_deleted(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` (stored statuses of this channel) that the server says are gone
        (404), marked `deleted=True`: the REST API announces no deletion, so an open
        conversation is checked so (one request a status; the caller chooses how many)."""
        gone: list[Message] = []
        for message in messages:
            if message.deleted:
                continue
            path = "/api/v1/statuses/" + quote(message.remote_id, safe="")
            response = await self._http.request("GET", path, check=False)
            if response.status == 404:
                gone.append(replace(message, deleted=True))
            else:
                self._http.raise_for_status(response)
        return gone

    def _gone(self, remote_id: str) -> Message:
        """What a deleted status still is to us: its id, marked deleted."""
        nobody = Author(channel=self.name, remote_id="", handle="")
        return Message(
            channel=self.name, remote_id=remote_id, author=nobody, text="",
            created_at=self._clock(), origin=Origin.CONTEXT, deleted=True,
        )  # fmt: skip

    # -- replying ------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """ "@author " plus the parent's other mentions (`parent.mentions`, stored with it, so
        after a restart too), without the brand, each once.

        Remote accounts are written `@user@domain`; the instance's own accounts `@user`.
        """
        domain = self._local_domain()
        own = (own_handle or (self._own or {}).get("acct") or self.account or "").lstrip("@")
        own_qualified = qualified_handle(own, domain).casefold() if own else ""
        # Until the instance has said its domain (its first answer), the address's host may not
        # be it (a domain served from another host): the brand's user name counts on any host.
        own_user = own.casefold() if own and "@" not in own and self._instance is None else None
        handles = [parent.author.handle, *mentions_of(parent)]
        prefix: list[str] = []
        for handle in handles:
            qualified = qualified_handle(handle.lstrip("@"), domain)
            if not qualified or qualified.casefold() == own_qualified:
                continue
            if own_user is not None and qualified.partition("@")[0].casefold() == own_user:
                continue
            mention = "@" + bare_handle(qualified, domain)
            if mention.casefold() not in (m.casefold() for m in prefix):
                prefix.append(mention)
        return " ".join(prefix) + " " if prefix else ""

    def _local_domain(self) -> str:
        if self._instance is not None:
            return self._instance.domain
        return urlsplit(self.base_url).hostname or self.host

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """POST the reply with the parent's visibility (or a less public one) and language.

        Refused before sending, in words, when the parent's author blocks the brand. The
        `Idempotency-Key` is a second safety: an uncertain send is reconciled (`find_sent`).
        """
        chosen = reply_visibility(parent.visibility, visibility)
        return await self._post_reply(parent, text, idempotency_key, chosen)

    async def reply_wider(self, parent: Message, text: str, idempotency_key: str, visibility: str) -> Message:
        """`reply` with `visibility` as it is, more public than the parent's: the manager confirmed it."""
        if visibility not in VISIBILITY_ORDER:
            said = one_line(visibility)
            raise PermanentError(f"channel {self.name}: {said!r} is not a Mastodon visibility")
        return await self._post_reply(parent, text, idempotency_key, visibility)

    async def _post_reply(
        self, parent: Message, text: str, idempotency_key: str, chosen: str | None
    ) -> Message:
        await self._load_instance()
        own = await self._own_account()
        own_id = str(own["id"])
        await self._refuse_if_blocked(parent, own)
        body: dict[str, Any] = {
            "status": text,
            "in_reply_to_id": parent.remote_id,
        }
        if chosen:
            body["visibility"] = chosen
        if parent.language:
            body["language"] = parent.language
        response = await self._http.request(
            "POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": idempotency_key},
            check=False,
        )  # fmt: skip
        if response.status == 404:
            raise PermanentError(
                f"@{one_line(parent.author.handle)}'s post is gone from {self.host} (deleted): "
                "the reply was not sent"
            )
        self._http.raise_for_status(response)
        created = response.json()
        try:
            return self._to_message(as_dict(created), Origin.OURS, own_id)
        except (KeyError, TypeError, ValueError):
            raise UncertainSend(
                f"channel {self.name}: the reply was sent but {self.host} described it oddly"
            ) from None

    async def _refuse_if_blocked(self, parent: Message, own: dict[str, Any]) -> None:
        """A reply to someone who blocks the brand is published but never seen by them: refuse
        it. A server without the relationships API (4xx) is not asked again this reply."""
        author_id = parent.author.remote_id
        if not author_id or author_id == str(own.get("id")):
            return
        try:
            relations = await self._http.get_json(
                "/api/v1/accounts/relationships", params=[("id[]", author_id)]
            )
        except AuthError:
            raise
        except PermanentError as exc:
            log.info("channel %s: relationships not available, reply sent unchecked: %s", self.name, exc)
            return
        for relation in objects(relations):
            if str(relation.get("id")) == author_id and relation.get("blocked_by") is True:
                raise PermanentError(
                    f"@{one_line(parent.author.handle)} blocks @{one_line(str(own.get('acct') or ''))}: "
                    "the reply cannot be seen by them; not sent"
                )

    # -- reconciling an uncertain send ---------------------------------------------------

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, published since `since`, read back without
        posting: first in our own recent statuses (newest first, back to `since`), then in the
        parent's thread. Texts are compared as the channel renders them (mentions, links and
        spacing aside). None only when both were read; raises ChannelError when it cannot tell.
        """
        if parent is None:
            return None  # Mastodon channels open no topics
        await self._load_instance()
        own_id = str((await self._own_account())["id"])
        cutoff = (since if since.tzinfo else since.replace(tzinfo=UTC)) - RECONCILE_SLACK
        wanted = comparable(text)
        for status in await self._own_statuses_since(own_id, cutoff):
            if is_our_reply(status, own_id, parent.remote_id, cutoff, wanted):
                return self._to_message(status, Origin.OURS, own_id)
        path = "/api/v1/statuses/" + quote(parent.remote_id, safe="")
        response = await self._http.request("GET", path + "/context", check=False)
        if response.status == 404:
            return None  # the parent is gone, and our statuses do not hold the reply
        self._http.raise_for_status(response)
        for status in objects(as_dict(response.json()).get("descendants")):
            if is_our_reply(status, own_id, parent.remote_id, cutoff, wanted):
                return self._to_message(status, Origin.OURS, own_id)
        return None

    async def _own_statuses_since(self, own_id: str, cutoff: datetime) -> list[dict[str, Any]]:
        """Our own statuses created after `cutoff`, newest first, along Link rel="next"."""
        path = f"/api/v1/accounts/{quote(own_id, safe='')}/statuses"
        found: list[dict[str, Any]] = []
        max_id: str | None = None
        for _ in range(MAX_RECONCILE_PAGES):
            params = [("limit", str(OWN_STATUSES_PAGE)), ("exclude_reblogs", "true")]
            if max_id is not None:
                params.append(("max_id", max_id))
            response = await self._http.request("GET", path, params=params)
            page = [s for s in objects(response.json()) if s.get("id")]
            if not page:
                return found
            found.extend(page)
            if any(older_than(status, cutoff) for status in page):
                return found
            max_id = link_param(response.links, "next", "max_id") or oldest_id(page)
        raise TransientError(
            f"channel {self.name}: too many posts of ours since the reply was sent to tell yet "
            "whether it was published"
        )

    def length(self, text: str) -> int:
        """`text` counted like Mastodon: URLs as `url_length`, `@user@domain` as `@user`."""
        url_length = self._instance.url_length if self._instance else DEFAULT_URL_LENGTH
        return mastodon_length(text, url_length)

    # -- JSON -> model -------------------------------------------------------------------

    def _to_message(self, status: dict[str, Any], origin: Origin, own_id: str) -> Message:
        return status_message(status, origin, own_id, self.name, self._local_domain())


__all__ = [
    "MastodonChannel",
]
