"""The Reddit channel: the brand's Reddit account through the OAuth API of an installed app.

The manager brings a client id that Reddit approved (new apps need Reddit's approval since
November 2025); `ecoinbox auth NAME` runs the code flow with a loopback redirect and stores the
refresh token as the channel's secret. The channel trades it for one-hour access tokens on the
token host (`auth_url`, www.reddit.com) and calls the API host (`base_url`, oauth.reddit.com),
renewing the access token before it expires and once more when the API answers 401.

Listens on username mentions (/message/mentions), replies to the brand's comments
(/message/comments) and to its posts (/message/selfreply), and, when configured, on a search of
posts (`search` words, in `subreddits` or site-wide) or on every new post of `subreddits`.
Threads come from /comments/{article}; replies go to /api/comment with `thing_id`.

Cursors: per source, the fullname of the newest item seen and its `created_utc`. A poll first
reads the top few items of each listing (one request per source when nothing is new); when the
newest is newer than the cursor, the poll walks the listing `before` the cursor's fullname up to
it. Reddit answers that with an empty listing when the cursor's item was deleted: the listing is
then read from the top down to a known fullname or an older `created_utc`. Reddit cuts a page
before it drops deleted items, so a page may be short and its `after` null mid-listing: neither
is taken for the end.

Reddit has no idempotency key: a lost answer to a reply raises `UncertainSend`, and
`find_sent` reads the parent's replies for ours before anything is sent again. Rate limits
come as `X-Ratelimit-*` headers (reset in seconds) on every answer, and as a RATELIMIT error
inside a 200 on writes. Remote ids are fullnames ("t1_abc", "t3_xyz"), never cast.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoinbox import __version__
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
    Clock,
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
    register_secret,
    renewed_token,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, json_or_none
from ecoinbox.channels.reddit.cursors import Mark, Source
from ecoinbox.channels.reddit.listings import (
    FULLNAME,
    children_of,
    client_auth,
    created_time,
    id36,
    is_usable,
    path_to,
    same_author,
    same_text,
    search_term,
    subreddit_name,
)
from ecoinbox.channels.reddit.messages import to_message
from ecoinbox.channels.reddit.oauth import refresh_access_token
from ecoinbox.channels.reddit.unit import REDDIT_API_URL, REDDIT_AUTH_URL, REDDIT_REDIRECT_URI
from ecoinbox.channels.reddit.writes import write_result
from ecoinbox.model import Message, Origin

log = channel_logger(__name__)

DEFAULT_API_URL = REDDIT_API_URL
DEFAULT_AUTH_URL = REDDIT_AUTH_URL
DEFAULT_REDIRECT_URI = REDDIT_REDIRECT_URI

MAX_COMMENT_LENGTH = 10_000
PAGE = 100  # the API maximum for a listing
FIRST_RUN_INBOX = 100  # a first run imports this many recent mentions/replies per source
FIRST_RUN_LISTENING = 25  # and this many search hits
MAX_PAGES = 10  # per source and poll; the next poll goes on from the cursor
TOP_LOOK = 5  # items a steady poll reads at the top of each listing
TOKEN_MARGIN = timedelta(minutes=2)  # renew an access token this long before it expires
CONTEXT_LEVELS = 8  # ancestors per /comments request (`context`)
MAX_CONTEXT_HOPS = 12  # how many such requests a very deep chain may take
MAX_MORE_EXPANSIONS = 5  # `more` stubs `find_sent` expands before it says "cannot tell yet"
MORE_CHILDREN = 100  # ids per /api/morechildren request
RECONCILE_SLACK = timedelta(minutes=2)  # our clock and Reddit's may disagree
# Reddit serves threads from a copy up to about 30 s old: a reply sent more recently may not
# show yet, so its absence proves nothing before then.
LISTING_CACHE = timedelta(seconds=30)
ARTICLE_CACHE = 8192

MENTIONS_KEY, COMMENTS_KEY, SELFREPLY_KEY = "mentions", "comments", "selfreply"

SAFEGUARDS = (
    (
        "no idempotency key: an uncertain reply is looked up among the parent's replies before any "
        "resend, once Reddit's copy of the thread (cached about 30 s) is newer than the send"
    ),
    (
        "write limits come as RATELIMIT inside a 200 (json or jquery form): the reply waits as long as "
        "Reddit says and is never counted as sent or failed"
    ),
    (
        "listings drop deleted items after paging (short pages, after null mid-listing): ecoinbox reads "
        "on down to the last item it knows, so none in between is skipped"
    ),
    "a deleted comment leaves its thread: ecoinbox asks /api/info and marks it deleted",
)


def user_agent(account: str | None) -> str:
    """The unique, descriptive User-Agent Reddit asks for: `linux:ecoinbox:0.1 (by /u/brand)`."""
    platform = re.sub(r"[^a-z0-9]+", "", sys.platform.lower()) or "unknown"
    by = f" (by /u/{account})" if account else ""
    return f"{platform}:ecoinbox:{__version__}{by}"


class RedditChannel(NamedChannel):
    """The brand's account on Reddit (an installed app's OAuth, refresh token as the secret).

    `base_url` is the API host (https://oauth.reddit.com), `auth_url` the token host
    (https://www.reddit.com). `poll` cursors are a dict: "<source>" (newest fullname seen) and
    "<source>_utc" (its created_utc) for "mentions", "comments", "selfreply" and the listening
    source. The refresh and access tokens live only in HTTP headers and form bodies: never in
    `repr`, `str` or an error.
    """

    kind = "reddit"

    def __init__(
        self,
        name: str,
        base_url: str,
        refresh_token: str,
        *,
        client_id: str,
        account: str,
        auth_url: str = DEFAULT_AUTH_URL,
        subreddits: Sequence[str] = (),
        search_terms: Sequence[str] = (),
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        refresh_token = refresh_token.strip()  # a token_cmd's trailing newline is not part of it
        if not refresh_token:
            raise AuthError(f"no refresh token for channel {name}: run `ecoinbox auth {name}`")
        if not client_id.strip():
            raise AuthError(f"channel {name}: no client_id (the Reddit app's id) in the config")
        register_secret(refresh_token)
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id.strip()
        self.account = account.strip().removeprefix("/").removeprefix("u/")
        self.subreddits = tuple(subreddit_name(s) for s in subreddits if subreddit_name(s))
        self.search_terms = tuple(term.strip() for term in search_terms if term.strip())
        self._clock = clock
        headers = {"User-Agent": user_agent(self.account)}
        self._http = HttpClient(name, self.base_url, headers=headers, timeout=timeout, clock=clock)
        self._token_http = HttpClient(
            name, self.auth_url, headers=headers, auth_headers=client_auth(self.client_id), timeout=timeout,
            clock=clock,
        )  # fmt: skip
        self._refresh_token = refresh_token
        self._access_expires: datetime | None = None
        self._generation = 0  # counts access tokens, so concurrent 401s renew only once
        self._token_lock = asyncio.Lock()
        self._articles: OrderedDict[str, str] = OrderedDict()  # comment fullname -> t3_ fullname
        self._replied_at: OrderedDict[str, datetime] = OrderedDict()  # parent -> our last send to it

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self._http.aclose()
        await self._token_http.aclose()

    def set_token(self, token: str) -> bool:
        """Use a renewed refresh token from now on; False when it is empty or the one in use."""
        renewed = renewed_token(token, self._refresh_token)
        if renewed is None:
            return False
        self._refresh_token = renewed
        self._access_expires = None
        self._http.set_auth_headers({})
        return True

    # -- tokens --------------------------------------------------------------------------

    async def _ensure_access(self, refused: int | None = None) -> int:
        """An access token valid for a while yet, and its generation. `refused` (the generation
        the API just refused) renews even an unexpired one, unless another call already did."""
        async with self._token_lock:
            expires = self._access_expires
            fresh = expires is not None and expires - TOKEN_MARGIN > self._clock()
            if fresh and refused != self._generation:
                return self._generation
            token, lifetime = await refresh_access_token(self._token_http, self.name, self._refresh_token)
            self._http.set_auth_headers({"Authorization": f"bearer {token}"})
            self._access_expires = self._clock() + lifetime
            self._generation += 1
            return self._generation

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> HttpResponse:
        """One API call with a valid access token, renewed once if the API refuses it."""
        params = {**(params or {}), "raw_json": "1"}  # bodies without &amp; &lt; &gt; escapes
        generation = await self._ensure_access()
        response = await self._http.request(method, path, params=params, data=data, check=False)
        if response.status == 401:
            await self._ensure_access(refused=generation)
            response = await self._http.request(method, path, params=params, data=data, check=False)
        self._raise_for(response)
        return response

    def _raise_for(self, response: HttpResponse) -> None:
        if response.status == 401:
            raise AuthError(
                f"channel {self.name}: {response.where} refused a fresh access token (401): "
                f"run `ecoinbox auth {self.name}`",
                status=401,
            )
        body = json_or_none(response.content)
        reason = as_dict(body).get("reason")
        if response.status in (403, 404) and isinstance(reason, str):
            # A private, banned or quarantined subreddit: the place refuses, not the token.
            raise PermanentError(
                f"channel {self.name}: {response.where} refused ({response.status}: {one_line(reason)})"
            )
        if response.status == 403 and "insufficient_scope" in response.headers.get("www-authenticate", ""):
            raise AuthError(
                f"channel {self.name}: the token lacks a permission {response.where} needs: "
                f"run `ecoinbox auth {self.name}` again",
                status=403,
            )
        self._http.raise_for_status(response)

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = await self._request("GET", path, params=params)
        return response.json()

    # -- identity and capabilities -------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """Replies always (10,000 characters of Markdown), no idempotency key, reconcilable."""
        return Capabilities(
            reply=True,
            search=bool(self.search_terms or self.subreddits),
            stream=False,
            max_length=MAX_COMMENT_LENGTH,
            length_counting="characters",
            idempotency_window=None,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Renew the access token and ask who we are: "u/name on host (Reddit)"."""
        self._access_expires = None
        me = as_dict(await self._get("/api/v1/me"))
        name = me.get("name")
        if not isinstance(name, str) or not name:
            raise TransientError(f"channel {self.name}: malformed response from {self.host}/api/v1/me")
        if name.casefold() != self.account.casefold():
            raise PermanentError(
                f"the token for channel {self.name} belongs to u/{one_line(name)}, "
                f"not u/{one_line(self.account)}: run `ecoinbox auth {self.name}`"
            )
        return f"u/{one_line(name)} on {self.host} (Reddit)"

    # -- polling -------------------------------------------------------------------------

    def _sources(self) -> list[Source]:
        inbox_params = (("mark", "false"),)  # reading here must not mark the brand's inbox read
        sources = [
            Source(MENTIONS_KEY, "/message/mentions", inbox_params, Origin.MENTION, FIRST_RUN_INBOX, True),
            Source(COMMENTS_KEY, "/message/comments", inbox_params, Origin.MENTION, FIRST_RUN_INBOX, True),
            Source(SELFREPLY_KEY, "/message/selfreply", inbox_params, Origin.MENTION, FIRST_RUN_INBOX, True),
        ]
        listening = self._listening_source()
        if listening is not None:
            sources.append(listening)
        return sources

    def _listening_source(self) -> Source | None:
        """The search of posts: the words in the subreddits (one multireddit request), the words
        site-wide, or every new post of the subreddits when no words are set."""
        where = "/r/" + "+".join(self.subreddits) if self.subreddits else ""
        if self.search_terms:
            query = " OR ".join(search_term(term) for term in self.search_terms)
            params: tuple[tuple[str, str], ...] = (("q", query), ("sort", "new"), ("type", "link"))
            if where:
                params += (("restrict_sr", "1"),)
            key = f"search:{where or 'all'}:{query}"
            return Source(key, f"{where}/search", params, Origin.SEARCH, FIRST_RUN_LISTENING, False)
        if where:
            return Source(f"new:{where}", f"{where}/new", (), Origin.SEARCH, FIRST_RUN_LISTENING, False)
        return None

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mentions, replies and listening hits since `cursor`, oldest first.

        A source that fails after others succeeded keeps its own cursor and the poll returns
        what it has; if nothing was collected, the first error is raised. A listening source
        Reddit refuses for good (a private subreddit) is skipped with a warning.
        """
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        first_error: ChannelError | None = None
        for source in self._sources():
            try:
                items, mark = await self._fetch_source(source, Mark.load(cursor, source.key))
            except AuthError:
                raise
            except PermanentError as exc:
                if source.inbox:
                    raise
                log.warning("channel %s: listening skipped this poll: %s", self.name, exc)
                continue
            except TransientError as exc:
                first_error = first_error or exc
                continue
            for item in items:
                message = self._convert(item, source.origin)
                if message is not None:
                    found.setdefault(message.remote_id, message)  # mentions come first and win
            if mark is not None:
                mark.store(next_cursor, source.key)
        if first_error is not None and not found:
            raise first_error
        if first_error is not None:
            log.warning("channel %s: poll stopped early: %s", self.name, first_error)
        messages = sorted(found.values(), key=lambda m: (m.created_at, m.remote_id))
        return PollResult(messages=messages, cursor=next_cursor)

    async def _fetch_source(
        self, source: Source, since: Mark | None
    ) -> tuple[list[dict[str, Any]], Mark | None]:
        """Items newer than `since` (the newest `first_run_limit` on a first run), newest first,
        and the mark to store after them."""
        if since is None:
            items, _ = await self._from_top(source, None, source.first_run_limit)
            return items, (Mark.of(items[0]) if items else None)
        # A few items, not one: Reddit drops deleted ones after cutting the page, and a deleted
        # newest item must not hide a new one below it.
        top, _ = await self._listing(source, limit=TOP_LOOK)
        if top and not since.newer(top[0]):
            # Nothing new: the top is the cursor's item (or older, when that item was deleted).
            return [], since
        items = await self._before(source, since, str(top[0]["name"]) if top else None)
        if not items:
            # The cursor's item is gone from the listing: read from the top down to what we know.
            items, reached = await self._from_top(source, since, MAX_PAGES * PAGE)
            if not reached:
                log.warning(
                    "channel %s: %s had more than %d new items; older ones were skipped",
                    self.name, source.path, MAX_PAGES * PAGE,
                )  # fmt: skip
        return items, (Mark.of(items[0]) if items else since)

    async def _before(self, source: Source, since: Mark, top: str | None) -> list[dict[str, Any]]:
        """Walk newer from the cursor's item with `before` up to `top` (the newest item, when
        known), newest first. Empty when the cursor's item is gone from the listing (Reddit then
        answers with an empty listing). A short page is no end: Reddit drops [deleted] items after
        cutting."""
        collected: list[dict[str, Any]] = []
        anchor = since.name
        for _ in range(MAX_PAGES):
            page, _ = await self._listing(source, before=anchor, limit=PAGE)
            if not page:
                break
            collected[:0] = page  # each page is newer than the one before: keep newest first
            anchor = str(page[0]["name"])
            if any(item.get("name") == top for item in page):
                break
        return collected

    async def _from_top(
        self, source: Source, stop: Mark | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """The listing from its newest item down, up to `limit` items or to `stop` (a known
        fullname, or anything older than its time); also whether `stop` or the end was reached."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            page, next_after = await self._listing(source, after=after, limit=min(PAGE, limit - len(items)))
            for item in page:
                if stop is not None and not stop.newer(item):
                    return items, True
                items.append(item)
            if len(items) >= limit:
                return items, False
            # Reddit sets `after` to null when items vanished from the page, whether older ones
            # follow or not: down to a known item (not a first run's history) only an empty page
            # ends the listing.
            after = next_after or (str(page[-1]["name"]) if page and stop is not None else None)
            if after is None:
                return items, True
        return items, False

    async def _listing(
        self, source: Source, *, before: str | None = None, after: str | None = None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a listing: its usable items (newest first) and its `after` fullname."""
        params = dict(source.params)
        params["limit"] = str(max(1, min(limit, PAGE)))
        if before:
            params["before"] = before
        if after:
            params["after"] = after
        data = await self._get(source.path, params)
        listing = as_dict(as_dict(data).get("data"))
        children = listing.get("children")
        if as_dict(data).get("kind") != "Listing" or not isinstance(children, list):
            raise TransientError(f"channel {self.name}: malformed listing from {self.host}{source.path}")
        items = [as_dict(child).get("data") for child in children]
        usable = [item for item in items if isinstance(item, dict) and is_usable(item)]
        if len(usable) < len(items):
            log.info("channel %s: %d malformed items skipped in %s", self.name, len(items) - len(usable),
                     source.path)  # fmt: skip
        next_after = listing.get("after")
        return usable, (next_after if isinstance(next_after, str) and FULLNAME.match(next_after) else None)

    # -- threads -------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The post, the comment's ancestors and the comment itself, oldest first."""
        if remote_id.startswith("t3_"):
            post = await self._info(remote_id)
            return [self._convert(post, Origin.CONTEXT)] if post else []
        article = await self._article_of(remote_id, None)
        chain: list[dict[str, Any]] = []
        post: dict[str, Any] | None = None
        focus = remote_id
        for _ in range(MAX_CONTEXT_HOPS):
            params = {"comment": id36(focus), "context": str(CONTEXT_LEVELS), "limit": "50"}
            post, comments = await self._thread(article, params)
            path = path_to(comments, focus)
            if not path and not chain:
                # Reddit leaves a deleted comment out of its thread; /api/info still says
                # "[deleted]", which is how the inbox learns it is gone.
                gone = await self._info(focus)
                path = [gone] if gone else []
            if not path:
                break
            chain[:0] = path
            parent = str(path[0].get("parent_id") or "")
            if not parent.startswith("t1_"):
                break
            focus = parent
        messages = [self._convert(item, Origin.CONTEXT) for item in ([post] if post else []) + chain]
        return [message for message in messages if message is not None]

    async def _thread(
        self, article: str, params: dict[str, str]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """GET /comments/{article}: the post's data and the top of the comment tree (things)."""
        data = await self._get(f"/comments/{id36(article)}", params)
        if not isinstance(data, list) or len(data) != 2:
            raise TransientError(f"channel {self.name}: malformed thread from {self.host}")
        posts = children_of(data[0])
        post = posts[0].get("data") if posts and isinstance(posts[0].get("data"), dict) else None
        return post, children_of(data[1])

    async def _info(self, fullname: str) -> dict[str, Any] | None:
        data = await self._get("/api/info", {"id": fullname})
        for child in children_of(data):
            item = child.get("data")
            if isinstance(item, dict) and item.get("name") == fullname and is_usable(item):
                return item
        return None

    async def _article_of(self, remote_id: str, thread_ref: str | None) -> str:
        """The t3_ fullname of the post a comment belongs to (asked once if not known)."""
        if remote_id.startswith("t3_"):
            return remote_id
        if thread_ref and thread_ref.startswith("t3_"):
            return thread_ref
        known = self._articles.get(remote_id)
        if known:
            return known
        item = await self._info(remote_id)
        link = as_dict(item).get("link_id")
        if not isinstance(link, str) or not link.startswith("t3_"):
            raise PermanentError(f"channel {self.name}: {self.host} does not know comment {remote_id}")
        self._remember_article(remote_id, link)
        return link

    def _remember_article(self, comment: str, article: str) -> None:
        self._articles[comment] = article
        self._articles.move_to_end(comment)
        while len(self._articles) > ARTICLE_CACHE:
            self._articles.popitem(last=False)

    # -- replying ------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: a Reddit reply is threaded under its parent, no u/mention is needed."""
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """POST /api/comment with `thing_id` = the parent's fullname; the text is Markdown.

        No idempotency key exists: a lost answer raises `UncertainSend` (see `find_sent`).
        A RATELIMIT error inside the 200 raises `RateLimited` with the wait Reddit asks for.
        A comment made but not described (the jquery format) is read back from the thread.
        """
        if not parent.remote_id.startswith(("t1_", "t3_")):
            raise PermanentError(f"channel {self.name}: cannot reply to {one_line(parent.remote_id)}")
        asked = self._clock()
        self._note_reply(parent.remote_id, asked)
        response = await self._request(
            "POST", "/api/comment", data={"thing_id": parent.remote_id, "text": text, "api_type": "json"}
        )
        try:
            things = self._write_result(response)
        except UncertainSend as uncertain:
            found = await self._read_back(parent, text, asked)
            if found is None:
                raise uncertain from None
            return found
        created = next((t.get("data") for t in things if t.get("kind") == "t1"), None)
        message = self._convert(created, Origin.OURS) if isinstance(created, dict) else None
        if message is None:
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} described it oddly")
        return message

    def _note_reply(self, parent: str, at: datetime) -> None:
        self._replied_at[parent] = at
        self._replied_at.move_to_end(parent)
        while len(self._replied_at) > ARTICLE_CACHE:
            self._replied_at.popitem(last=False)

    async def _read_back(self, parent: Message, text: str, since: datetime) -> Message | None:
        """Our reply found in the thread right after an answer that did not describe it; None
        when it is not there yet or the thread cannot be read (it stays uncertain: never a
        reason to send again)."""
        try:
            return await self.find_sent(parent, text, "", since)
        except ChannelError as exc:
            log.info("channel %s: reading the reply back failed: %s", self.name, exc)
            return None

    def _write_result(self, response: HttpResponse) -> list[dict[str, Any]]:
        """The `things` of a write answered with api_type=json, or its refusal raised."""
        return write_result(response, self.name, self.host, self._clock)

    # -- reconciling an uncertain send ---------------------------------------------------

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, published since `since`, read back from the
        parent's replies (newest first, `more` stubs expanded) without posting anything.

        None only when every reply since then was read and Reddit's copy of the thread is
        newer than our last send to it; a parent too busy to read back that far, or a send too
        recent to show yet, raises TransientError (checked again later).
        """
        if parent is None:
            return None  # Reddit channels open no topics
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        cutoff = since - RECONCILE_SLACK
        found = await self._find_reply(parent, text, cutoff)
        last_send = max(since, self._replied_at.get(parent.remote_id, since))
        if found is None and self._clock() - last_send < LISTING_CACHE:
            raise TransientError(
                f"channel {self.name}: Reddit may still show a copy of the thread from before the "
                "reply; it is checked again in a moment"
            )
        return found

    async def _find_reply(self, parent: Message, text: str, cutoff: datetime) -> Message | None:
        """Our reply to `parent` with this text among its replies newer than `cutoff`."""
        article = await self._article_of(parent.remote_id, parent.thread_ref)
        params = {"sort": "new", "limit": "100", "depth": "1"}
        if parent.remote_id.startswith("t1_"):
            params.update(comment=id36(parent.remote_id), depth="2")
        _, tree = await self._thread(article, params)
        if parent.remote_id.startswith("t1_"):
            focal = next(
                (
                    as_dict(t.get("data"))
                    for t in tree
                    if as_dict(t.get("data")).get("name") == parent.remote_id
                ),
                {},
            )
            replies = children_of(focal.get("replies"))
        else:
            replies = tree
        pending = list(replies)
        expansions = 0
        while pending:
            thing = pending.pop(0)
            data = as_dict(thing.get("data"))
            if thing.get("kind") == "more":
                ids = [str(c) for c in data.get("children") or [] if isinstance(c, str)]
                if not ids:
                    continue
                if expansions >= MAX_MORE_EXPANSIONS:
                    raise TransientError(
                        f"channel {self.name}: too many replies under {parent.remote_id} to tell yet "
                        "whether ours was published"
                    )
                expansions += 1
                pending[:0] = await self._more_children(article, ids, parent.remote_id)
                continue
            if thing.get("kind") != "t1" or data.get("parent_id") != parent.remote_id:
                continue
            if created_time(data) < cutoff:
                return None  # sorted newest first: everything after this is older still
            if same_author(data, self.account) and same_text(data.get("body"), text):
                return self._convert(data, Origin.OURS)
        return None

    async def _more_children(self, article: str, ids: list[str], parent: str) -> list[dict[str, Any]]:
        """Expand a `more` stub: the direct replies to `parent` (and further stubs) it hid."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), MORE_CHILDREN):
            params = {
                "link_id": article, "children": ",".join(ids[start : start + MORE_CHILDREN]),
                "api_type": "json", "sort": "new", "limit_children": "false",
            }  # fmt: skip
            response = await self._request("GET", "/api/morechildren", params=params)
            things = self._write_result(response)
            found.extend(t for t in things if as_dict(t.get("data")).get("parent_id") == parent)
        return found

    # -- JSON -> model -------------------------------------------------------------------

    def _convert(self, item: dict[str, Any] | None, origin: Origin) -> Message | None:
        """A comment (t1) or post (t3) as a Message; None for what is neither or is malformed."""
        if not isinstance(item, dict):
            return None
        try:
            message = to_message(item, origin, self.name, self.account)
        except (KeyError, TypeError, ValueError) as exc:
            log.info("channel %s: skipped a malformed item (%s)", self.name, type(exc).__name__)
            return None
        if message is not None and message.remote_id.startswith("t1_") and message.thread_ref:
            self._remember_article(message.remote_id, message.thread_ref)  # saves a request per thread
        return message


__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_AUTH_URL",
    "DEFAULT_REDIRECT_URI",
    "RedditChannel",
    "client_auth",
    "user_agent",
]
