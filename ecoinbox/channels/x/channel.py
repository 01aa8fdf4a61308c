"""The X channel: the brand's X account through API v2 and an OAuth 2.0 user token.

`ecoinbox auth NAME` runs the authorization code flow with PKCE and stores the refresh token
(`offline.access`) as the channel's secret. X rotates refresh tokens: each renewal of the
two-hour access token hands back a new refresh token and spends the old one, so the channel
saves the new one at once (`save_token`, the keyring) before it uses the access token (`api.py`:
tokens, X's errors, rate limits and the read budget; `direct.py`: direct messages).

Listens on the brand's mentions (`GET /2/users/:id/mentions`) and, when configured, on a recent
search (`GET /2/tweets/search/recent`) of the `search` words and `hashtags`. Authors and the
posts replied to come in the same answer (`expansions`), so a thread's parent costs no request;
threads are walked up through `referenced_tweets` (`GET /2/tweets/:id`). Replies go to
`POST /2/tweets` with `reply.in_reply_to_tweet_id`.

Cursors, per source: the newest id read (`since_id`). A poll reads newest first, page after page
(`pagination_token`); a walk longer than MAX_PAGES keeps its page token and its newest id in the
cursor and goes on at the next poll, so nothing between two polls is skipped.

Reads are billed per post: every post read is counted against the daily budget (`daily_reads`),
and reading stops at the budget until midnight UTC (RateLimited). Rate limits come as
`x-rate-limit-limit/remaining/reset` (epoch seconds) on every answer and 429 past them.

X has no idempotency key: a lost answer to a reply raises `UncertainSend`, and `find_sent` reads
the brand's own recent posts (`GET /2/users/:id/tweets`), then the conversation, before any resend.
"""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from ecoinbox.channels.base import (
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    RateLimited,
    ReplyLimit,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import (
    UNREADABLE,
    Clock,
    channel_logger,
    one_line,
    skipped_unreadable,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, objects, text_or_none
from ecoinbox.channels.x.api import XApi
from ecoinbox.channels.x.budget import ReadBudget, in_words
from ecoinbox.channels.x.direct import DM_LIMIT, THREAD_PREFIX, DirectMessages
from ecoinbox.channels.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from ecoinbox.channels.x.tweets import (
    EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    Page,
    expanded_text,
    newer_id,
    read_page,
    referenced_parent,
    to_message,
)
from ecoinbox.model import Author, Message, Origin

__all__ = ["DEFAULT_API_URL", "DEFAULT_DAILY_READS", "SAFEGUARDS", "XChannel", "search_query"]

log = channel_logger(__name__)

DEFAULT_API_URL: Final = "https://api.x.com"
DEFAULT_DAILY_READS: Final = 1000
PAGE: Final = 100  # the API maximum for a timeline or a search page
MIN_MENTIONS, MIN_SEARCH = 5, 10  # the API minimum of max_results
FIRST_RUN_MENTIONS, FIRST_RUN_SEARCH = 50, 20  # a first run imports this many recent posts
MAX_PAGES: Final = 5  # per source and poll; the next poll goes on from the cursor
MAX_QUERY: Final = 512  # search/recent's query limit (pay-per-use)
MAX_CONTEXT_HOPS: Final = 12
FIND_SENT_PAGES: Final = 5
RECONCILE_SLACK: Final = timedelta(minutes=2)  # our clock and X's may disagree
# X's timelines lag its writes by a few seconds: a reply sent more recently may not show yet,
# so its absence proves nothing before then.
TIMELINE_LAG: Final = timedelta(seconds=30)
KNOWN_POSTS: Final = 4096

MENTIONS_KEY, SEARCH_KEY = "mentions", "search"

SAFEGUARDS: Final = (
    (
        "no idempotency key: an uncertain reply is looked up in the brand's recent posts and the "
        "conversation before any resend, once X's timeline is newer than the send"
    ),
    (
        "reads are billed per post: polling stops at the daily_reads budget until 00:00 UTC; "
        "rate limits are read from x-rate-limit-* headers and 429 waits until their reset"
    ),
    (
        "X lets an app reply only where the person summoned the brand (an @mention, a quote): "
        "search hits that do not mention it can be read, not answered"
    ),
)


@dataclass(frozen=True, slots=True)
class Source:
    """A timeline the poll reads: its cursor key, path, query and why its posts are in the inbox."""

    key: str
    path: str
    params: tuple[tuple[str, str], ...]
    origin: Origin
    first_run: int
    smallest: int  # the API's minimum max_results
    token_param: str  # how the next page is asked for


def search_query(terms: Sequence[str], hashtags: Sequence[str], account: str) -> str:
    """The recent search of the listening words and hashtags, without retweets and the brand's
    own posts: `("word one" OR #tag) -is:retweet -from:brand` (at most 512 characters)."""
    parts = [
        f'"{t.strip().replace(chr(34), "")}"' if " " in t.strip() else t.strip() for t in terms if t.strip()
    ]
    parts += [f"#{tag.strip().lstrip('#')}" for tag in hashtags if tag.strip().lstrip("#")]
    if not parts:
        return ""
    query = f"({' OR '.join(parts)}) -is:retweet -from:{account}"
    if len(query) > MAX_QUERY:
        raise PermanentError(
            f"the X search of {len(parts)} words and hashtags is {len(query)} characters, over X's "
            f"{MAX_QUERY}: keep fewer `search` words or `hashtags` for this channel"
        )
    return query


class XChannel(NamedChannel):
    """The brand's account on X (OAuth 2.0 user context, the rotating refresh token as secret).

    `base_url` is the API host (https://api.x.com), which also renews tokens. `poll` cursors are
    a dict: "<source>" (the newest post id read), "<source>_walk" and "<source>_top" (a walk
    that goes on at the next poll) for "mentions" and "search". The tokens live only in HTTP
    headers and form bodies: never in `repr`, `str` or an error.
    """

    kind = "x"

    def __init__(
        self,
        name: str,
        base_url: str,
        refresh_token: str,
        *,
        client_id: str,
        account: str,
        search_terms: Sequence[str] = (),
        hashtags: Sequence[str] = (),
        daily_reads: int = DEFAULT_DAILY_READS,
        direct_messages: bool = False,
        ledger: Path | None = None,
        save_token: Callable[[str], None] | None = None,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.account = account.strip().lstrip("@")
        self.query = search_query(search_terms, hashtags, self.account)
        self.api = XApi(name, self.base_url, refresh_token, client_id=client_id,
                        budget=ReadBudget(daily_reads, ledger), save_token=save_token, timeout=timeout, clock=clock)  # fmt: skip
        self.dms = DirectMessages(name, self.api.read, self.api.post) if direct_messages else None
        self._clock = clock
        self._known: OrderedDict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = OrderedDict()
        self._replied_at: OrderedDict[str, datetime] = OrderedDict()

    async def aclose(self) -> None:
        await self.api.aclose()

    @property
    def budget(self) -> ReadBudget:
        """Today's reads against `daily_reads`."""
        return self.api.budget

    @property
    def limits(self) -> dict[str, tuple[int, int, datetime | None]]:
        """The rate limits X last said, per endpoint: (remaining, limit, reset)."""
        return self.api.limits

    def set_token(self, token: str) -> bool:
        """Use a renewed refresh token from now on; False when it is empty or the one in use."""
        return self.api.set_token(token)

    def length(self, text: str) -> int:
        """How much of X's 280 `text` takes (the reply box counts with this)."""
        return weighted_length(text)

    def reply_limit(self, parent: Message) -> ReplyLimit | None:
        """A direct message's own limit (10,000 plain characters); None for posts (280 weighted)."""
        return DM_LIMIT if parent.visibility == "direct" else None

    # -- identity and capabilities -------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """Replies of 280 weighted characters (a URL counts 23), no idempotency key, reconcilable."""
        return Capabilities(
            reply=True,
            search=bool(self.query),
            stream=False,
            max_length=MAX_WEIGHTED_LENGTH,
            length_counting="weighted",
            url_length=23,
            idempotency_window=None,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Renew the access token (and keep the rotated refresh token), ask who we are, and say
        what today's reads used: "@acme on api.x.com (X); 412 of 1,000 post reads used today..."."""
        me = await self.api.whoami(renew=True)
        if me.handle.casefold() != self.account.casefold():
            raise PermanentError(
                f"the token for channel {self.name} belongs to @{one_line(me.handle)}, "
                f"not @{one_line(self.account)}: run `ecoinbox auth {self.name}`"
            )
        now = self._clock()
        lines = [f"@{one_line(me.handle)} on {self.host} (X); {in_words(self.budget, now)}"]
        if self.budget.left(now) < self.budget.limit // 5:
            lines.append(
                f"less than a fifth of today's read budget is left: polling stops at {self.budget.limit:,} "
                "posts until 00:00 UTC (raise daily_reads, or poll_interval to read less often)"
            )
        return "\n".join(lines)

    # -- reading -------------------------------------------------------------------------

    async def _read(self, path: str, params: dict[str, str]) -> Page:
        """One billed page of posts; the posts X included are kept for threads."""
        body = await self.api.read(path, params)
        try:
            page = read_page(body)
        except TypeError:
            raise TransientError(f"channel {self.name}: malformed answer from {self.host}{path}") from None
        for tweet in page.included:
            self._remember(tweet, page.users)
        return page

    def _remember(self, tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> None:
        """Keep a post X included (a parent): a thread's context then costs no request."""
        tweet_id = tweet.get("id")
        if isinstance(tweet_id, str):
            self._known[tweet_id] = (tweet, users)
            self._known.move_to_end(tweet_id)
            while len(self._known) > KNOWN_POSTS:
                self._known.popitem(last=False)

    def _fields(self) -> dict[str, str]:
        return {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS}

    def _sources(self, me: Author) -> list[Source]:
        sources = [
            Source(MENTIONS_KEY, f"/2/users/{me.remote_id}/mentions", (), Origin.MENTION,
                   FIRST_RUN_MENTIONS, MIN_MENTIONS, "pagination_token"),
        ]  # fmt: skip
        if self.query:
            sources.append(
                Source(SEARCH_KEY, "/2/tweets/search/recent", (("query", self.query),), Origin.SEARCH,
                       FIRST_RUN_SEARCH, MIN_SEARCH, "next_token")
            )  # fmt: skip
        return sources

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mentions and search hits since `cursor`, oldest first.

        A source that fails after another succeeded keeps its own cursor and the poll returns
        what it has; when nothing was collected, the first error is raised."""
        me = await self.api.whoami()
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        first_error: ChannelError | None = None
        for source in self._sources(me):
            try:
                pages, updates = await self._walk(source, cursor)
            except ChannelError as exc:
                first_error = first_error or exc
                continue
            next_cursor.update(updates)
            for page in pages:
                for tweet in page.tweets:
                    message = self._convert(tweet, page.users, source.origin, me)
                    if message is not None and message.remote_id not in found:
                        found[message.remote_id] = message
        warnings: list[str] = []
        if self.dms is not None:
            try:
                direct, updates = await self.dms.poll(cursor, me)
            except PermanentError as exc:
                warnings.append(f"direct messages are not read: {exc} (set direct_messages = false, or "
                                "check your app's access to them)")  # fmt: skip
            except ChannelError as exc:
                first_error = first_error or exc
            else:
                next_cursor = {k: v for k, v in next_cursor.items() if not k.startswith(THREAD_PREFIX)}
                next_cursor.update(updates)
                found.update((message.remote_id, message) for message in direct)
        if not found and first_error is not None:
            raise first_error
        ordered = sorted(found.values(), key=lambda m: (m.created_at, len(m.remote_id), m.remote_id))
        return PollResult(ordered, next_cursor, tuple(warnings))

    async def _walk(self, source: Source, cursor: dict[str, str]) -> tuple[list[Page], dict[str, str]]:
        """The source's posts newer than its cursor, page after page (newest first), and the
        cursor after them: a walk cut at MAX_PAGES keeps its page token for the next poll."""
        since = cursor.get(source.key) or None
        walk = cursor.get(f"{source.key}_walk") or None
        top = cursor.get(f"{source.key}_top") or None
        params = {**dict(source.params), **self._fields()}
        if since is None:  # a first run: the most recent posts only, not the whole history
            params["max_results"] = str(max(source.smallest, min(PAGE, source.first_run)))
            page = await self._read(source.path, params)
            newest = page.newest_id or _newest(page.tweets)
            return [page], ({source.key: newest} if newest else {})
        params["since_id"] = since
        pages: list[Page] = []
        for _ in range(MAX_PAGES):
            left = self.budget.left(self._clock())
            params["max_results"] = str(max(source.smallest, min(PAGE, left)))
            if walk:
                params[source.token_param] = walk
            try:
                page = await self._read(source.path, params)
            except RateLimited:
                if not pages:
                    raise
                break  # the pages read are kept, and the walk goes on from here once X allows
            except PermanentError:
                if not walk:
                    raise
                # A page token X no longer takes: the walk starts again from the cursor (posts
                # read twice are stored once).
                log.info("channel %s: %s refused its page token; reading again from the cursor",
                         self.name, source.path)  # fmt: skip
                walk = None
                params.pop(source.token_param, None)
                continue
            pages.append(page)
            top = newer_id(top, page.newest_id or _newest(page.tweets))
            walk = page.next_token
            if not walk:
                return pages, {source.key: newer_id(since, top) or since, f"{source.key}_walk": "",
                               f"{source.key}_top": ""}  # fmt: skip
        else:
            log.info("channel %s: more than %d pages new in %s; the next poll goes on from there",
                     self.name, MAX_PAGES, source.path)  # fmt: skip
        return pages, {source.key: since, f"{source.key}_walk": walk or "", f"{source.key}_top": top or ""}

    def _convert(
        self, tweet: Any, users: dict[str, dict[str, Any]], origin: Origin, me: Author | None
    ) -> Message | None:
        try:
            message = to_message(tweet, users, origin, self.name, me.remote_id if me else None)
        except UNREADABLE as exc:
            skipped_unreadable(log, self.name, "post", as_dict(tweet).get("id"), exc)
            return None
        self._remember(tweet, users)
        return message

    # -- threads -------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The post and the posts it replies to, up the chain, oldest first (the parents X
        already included cost no request)."""
        me = await self.api.whoami()
        chain: list[Message] = []
        focus: str | None = remote_id
        for _ in range(MAX_CONTEXT_HOPS):
            if focus is None:
                break
            known = self._known.get(focus) or await self._fetch(focus)
            if known is None:
                break
            message = self._convert(known[0], known[1], Origin.CONTEXT, me)
            if message is None:
                break
            chain.insert(0, message)
            focus = referenced_parent(known[0])
        return chain

    async def _fetch(self, remote_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
        """GET /2/tweets/:id (its parent comes included); None when X says it is gone."""
        if not remote_id.isdigit():
            raise PermanentError(f"channel {self.name}: {one_line(remote_id)} is not an X post id")
        body = as_dict(await self.api.read(f"/2/tweets/{remote_id}", self._fields()))
        tweet = body.get("data")
        includes = as_dict(body.get("includes"))
        users = {str(u["id"]): u for u in objects(includes.get("users")) if "id" in u}
        for parent in objects(includes.get("tweets")):
            self._remember(parent, users)
        return (tweet, users) if isinstance(tweet, dict) else None

    async def find_deleted(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` X no longer has (`GET /2/tweets?ids=`, 100 at a time), marked
        deleted. The posts still there are billed once a UTC day: later rounds cost nothing more."""
        posts = {m.remote_id: m for m in messages if m.remote_id.isdigit() and m.visibility != "direct"}
        ids = list(posts)
        gone: list[Message] = []
        for start in range(0, len(ids), PAGE):
            chunk = ids[start : start + PAGE]
            body = as_dict(await self.api.read("/2/tweets", {"ids": ",".join(chunk)}))
            for error in objects(body.get("errors")):
                missing = str(error.get("resource_id") or error.get("value") or "")
                if "resource-not-found" in str(error.get("type")) and missing in posts:
                    gone.append(replace(posts[missing], deleted=True))
        return gone

    # -- replying ------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: X threads a reply under its parent and names whom it answers itself."""
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """POST /2/tweets with `reply.in_reply_to_tweet_id`. No idempotency key exists: a lost
        answer raises `UncertainSend` (see `find_sent`)."""
        if not parent.remote_id.isdigit():
            raise PermanentError(f"channel {self.name}: cannot reply to {one_line(parent.remote_id)}")
        me = await self.api.whoami()
        self._note_reply(parent.remote_id, self._clock())
        if parent.visibility == "direct":
            if self.dms is None:
                raise PermanentError(
                    f"channel {self.name}: direct messages are off for this channel (direct_messages = false)"
                )
            return await self.dms.reply(parent, text, me, self._clock())
        body = {"text": text, "reply": {"in_reply_to_tweet_id": parent.remote_id}}
        data = as_dict(as_dict(await self.api.post("/2/tweets", body)).get("data"))
        created = text_or_none(data.get("id"))
        if created is None or not created.isdigit():
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} described it oddly")
        from ecoinbox.htmltext import plain_to_text  # imported on first use

        shown = plain_to_text(text)  # X answers with the t.co form: ours names the real addresses
        return Message(
            channel=self.name, remote_id=created, author=me, text=shown.text, created_at=self._clock(),
            in_reply_to=parent.remote_id, url=f"https://x.com/{me.handle}/status/{created}",
            origin=Origin.OURS, links=shown.links, thread_ref=parent.thread_ref or parent.remote_id,
        )  # fmt: skip

    def _note_reply(self, parent: str, at: datetime) -> None:
        self._replied_at[parent] = at
        self._replied_at.move_to_end(parent)
        while len(self._replied_at) > KNOWN_POSTS:
            self._replied_at.popitem(last=False)

    # -- reconciling an uncertain send ---------------------------------------------------

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, posted since `since`, read back from the brand's
        own recent posts (then the conversation) without posting anything.

        None only when every post of ours since then was read and X's timeline is newer than our
        last send; a send too recent to show yet raises TransientError (checked again later)."""
        if parent is None:
            return None  # X channels open no topics
        me = await self.api.whoami()
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        cutoff = since - RECONCILE_SLACK
        if parent.visibility == "direct" and self.dms is not None:
            found_dm = await self.dms.find_sent(parent, text, me, cutoff)
            last = max(since, self._replied_at.get(parent.remote_id, since))
            if found_dm is None and self._clock() - last < TIMELINE_LAG:
                raise TransientError(
                    f"channel {self.name}: X may not show the message yet; checked again soon"
                )
            return found_dm
        params = {
            **self._fields(),
            "max_results": str(PAGE),
            "start_time": _iso(cutoff),
            "exclude": "retweets",
        }
        complete = False
        for _ in range(FIND_SENT_PAGES):
            page = await self._read(f"/2/users/{me.remote_id}/tweets", params)
            found = self._ours_in(page, parent, text, me)
            if found is not None:
                return found
            if page.next_token is None:
                complete = True
                break
            params["pagination_token"] = page.next_token
        if not complete:
            found = await self._in_conversation(parent, text, me)
            if found is not None:
                return found
        last_send = max(since, self._replied_at.get(parent.remote_id, since))
        if self._clock() - last_send < TIMELINE_LAG:
            raise TransientError(
                f"channel {self.name}: X may not show the reply in the brand's posts yet; "
                "it is checked again in a moment"
            )
        return None

    async def _in_conversation(self, parent: Message, text: str, me: Author) -> Message | None:
        """Our reply found by searching the conversation (when our own posts are too many to read
        back that far)."""
        query = f"conversation_id:{parent.thread_ref or parent.remote_id} from:{me.handle}"
        params = {**self._fields(), "query": query, "max_results": str(PAGE)}
        page = await self._read("/2/tweets/search/recent", params)
        found = self._ours_in(page, parent, text, me)
        if found is None and page.next_token is not None:
            raise TransientError(
                f"channel {self.name}: too many posts of the brand to tell yet whether the reply "
                f"to {parent.remote_id} was published"
            )
        return found

    def _ours_in(self, page: Page, parent: Message, text: str, me: Author) -> Message | None:
        for tweet in page.tweets:
            if not isinstance(tweet, dict) or referenced_parent(tweet) != parent.remote_id:
                continue
            if str(tweet.get("author_id")) != me.remote_id:
                continue
            try:
                same = _same_text(expanded_text(tweet), text)
            except UNREADABLE:
                continue
            if same:
                return self._convert(tweet, page.users, Origin.OURS, me)
        return None


def _same_text(posted: str, sent: str) -> bool:
    """Whether X's copy is the text we sent: X normalizes to NFC and may trim spaces."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    return norm(posted) == norm(sent)


def _newest(tweets: list[Any]) -> str | None:
    newest: str | None = None
    for tweet in tweets:
        tweet_id = as_dict(tweet).get("id")
        if isinstance(tweet_id, str) and tweet_id.isdigit():
            newest = newer_id(newest, tweet_id)
    return newest


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
