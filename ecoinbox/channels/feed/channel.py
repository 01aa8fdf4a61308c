"""The feed channel: any blog or site's comments through RSS 2.0 or Atom feeds, read-only.

One channel reads several feed URLs (a WordPress site's `/comments/feed/`, per-post feeds, any
forum or blog that publishes its comments). Each poll asks each feed with `If-None-Match` and
`If-Modified-Since` (a 304 costs nothing), parses it with feedparser (which also sanitizes its
HTML) and keeps the entries whose id it has not seen. A malformed feed is read as far as
feedparser can; one that is not a feed at all is skipped for that poll with a warning.

Cursor, per feed ("feed:<url>"): JSON {"etag", "modified", "seen": {entry-id hash: epoch},
"floor": epoch}. Entry ids are stable where dates are not, so ids decide what is new; the seen
set keeps the newest `SEEN_CAP` ids, and `floor` (the newest date it forgot) stops an entry
older than that from coming back as new.

Where no feed is configured, the site's comments feed is looked for once per process: the home
page's `<link rel="alternate">` (or a `Link` header) naming it, else WordPress's
`?feed=comments-rss2`, which answers with plain permalinks too; else "/comments/feed/".

A feed holds only its newest entries (WordPress: 10). When a poll finds none it saw before,
more comments arrived than the feed holds and the ones in between are lost to it: the poll says
so (`PollResult.warnings`). Comments signed with the brand's own names are ours (Origin.OURS).

Threads: an Atom entry's `thr:in-reply-to` names its parent; a WordPress RSS comment feed says
"In reply to <a href=...#comment-N>" and its guids end in "#comment-N", from which the parent's
guid follows. A feed cannot be answered: `Capabilities(reply=False)`, and `reply` says why and
where the page is.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import html
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    PermanentError,
    PollResult,
    TransientError,
)
from ecoinbox.channels.http import (
    UNREADABLE,
    HttpClient,
    HttpResponse,
    channel_logger,
    link_header_entries,
    one_line,
    register_secret,
    skipped_unreadable,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict
from ecoinbox.channels.wpsite import api_root_from_link, author_name, comments_feed
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

DEFAULT_FEED = "/comments/feed/"
PLAIN_PERMALINK_FEED = "/?feed=comments-rss2"  # WordPress's comments feed, whatever its permalinks
FEED_TYPES = ("application/rss+xml", "application/atom+xml")
PAGE_MAX_BYTES = 2 * 1024 * 1024
FULL_FEED_HINT = 5  # a feed holding fewer entries than this is taken for one that is not full
SAFEGUARDS = (
    (
        "a feed holds only its newest comments: when more arrive between two polls than it holds, "
        "the ones in between are missed; ecoinbox says so in the status line and `check` says how close it is"
    ),
    (
        "a feed does not prove who wrote a comment: one signed with the brand's name or handle is "
        "taken as the brand's own and does not wait for a reply"
    ),
)
FEED_MAX_BYTES = 4 * 1024 * 1024
FIRST_RUN = 50  # a first poll imports at most this many entries per feed, the newest
SEEN_CAP = 1000  # entry ids remembered per feed (a feed shows 10 to 50 entries at a time)
MAX_ID_LENGTH = 1000
ACCEPT = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
CURSOR_PREFIX = "feed:"

_WP_COMMENT_ID = re.compile(r"#comment-(\d+)$")
# Possessive spaces: two runs side by side would share a long run of blanks in n² ways.
_WP_IN_REPLY_TO = re.compile(r"^\s*+(?:<p>)?\s*+In reply to\s*+<a\s[^>]*href=\"([^\"]+)\"", re.IGNORECASE)
_WP_REPLY_LINE = re.compile(
    r"^\s*+(?:<p>)?\s*+In reply to\s*+<a\s[^>]*>.*?</a>\.\s*(?:</p>)?", re.IGNORECASE | re.DOTALL
)
_WP_TITLE = re.compile(r"^Comment on (?P<post>.+) by (?P<author>.+)$", re.DOTALL)


@dataclass(slots=True)
class _FeedState:
    """What the cursor keeps of one feed."""

    etag: str | None = None
    modified: str | None = None
    seen: dict[str, int] | None = None  # hash of the entry id -> its epoch seconds
    floor: int | None = None
    size: int | None = None  # entries the feed held last time: one holding fewer is not full

    @classmethod
    def load(cls, value: str | None) -> _FeedState:
        if not value:
            return cls()
        try:
            data = json.loads(value)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        seen = data.get("seen")
        floor = data.get("floor")
        size = data.get("size")
        return cls(
            etag=data["etag"] if isinstance(data.get("etag"), str) else None,
            modified=data["modified"] if isinstance(data.get("modified"), str) else None,
            seen={k: int(v) for k, v in seen.items() if isinstance(k, str) and isinstance(v, int)}
            if isinstance(seen, dict)
            else None,
            floor=floor if isinstance(floor, int) else None,
            size=size if isinstance(size, int) else None,
        )

    def dump(self) -> str:
        fields = {"etag": self.etag, "modified": self.modified, "seen": self.seen or {}, "floor": self.floor}
        return json.dumps({**fields, "size": self.size}, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Entry:
    message: Message
    key: str  # hash of the entry id
    epoch: int


class FeedChannel:
    """Comments from RSS/Atom feeds, read-only. `account` + `password` (auth = "basic") are sent
    as HTTP Basic to base_url's origin only, never to a feed on another host."""

    kind = "feed"

    def __init__(
        self,
        name: str,
        base_url: str,
        password: str = "",
        *,
        feeds: Sequence[str] = (),
        account: str | None = None,
        own_names: Sequence[str] = (),
        timeout: float = 20.0,
        clock: Any = utc_now,
    ) -> None:
        """`own_names`: the brand's names and handles; a comment signed with one is ours."""
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.feeds = tuple(dict.fromkeys(_absolute(self.base_url, url) for url in (feeds or (DEFAULT_FEED,))))
        self._discover = not feeds  # the site's own comments feed, looked for at the first request
        self._own = frozenset(key for name in own_names for key in _name_keys(name))
        auth: dict[str, str] = {}
        if account and password.strip():
            register_secret(password.strip())
            pair = f"{account}:{password.strip()}".encode()
            auth = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        self._authenticated = bool(auth)
        self._clock = clock
        self._http = HttpClient(
            name, self.base_url, auth_headers=auth, timeout=timeout, max_bytes=FEED_MAX_BYTES
        )

    def __repr__(self) -> str:
        return f"FeedChannel(name={self.name!r}, base_url={self.base_url!r}, feeds={len(self.feeds)})"

    __str__ = __repr__

    async def aclose(self) -> None:
        """Close the channel's HTTP client."""
        await self._http.aclose()

    async def capabilities(self) -> Capabilities:
        """Read-only: a feed has no way to answer."""
        return Capabilities(
            reply=False,
            search=False,
            max_length=0,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Fetch every feed once; say what they are, and how close they come to losing comments."""
        await self._find_feed()
        described, warnings = [], []
        for url in self.feeds:
            response = await self._fetch(url, _FeedState())
            parsed = await _parse(response.content)
            if not _is_feed(parsed):
                raise PermanentError(f"channel {self.name}: {response.where} is not an RSS or Atom feed")
            title = one_line(str(parsed.feed.get("title") or "untitled"), 60)
            described.append(f"{title!r} ({_format_name(parsed)}, {len(parsed.entries)} entries)")
            if warning := self._capacity_warning(response, self._entries(parsed, response)):
                warnings.append(warning)
        return "\n".join([f"{len(self.feeds)} feed(s), read-only: " + "; ".join(described), *warnings])

    def _capacity_warning(self, response: HttpResponse, entries: list[_Entry]) -> str | None:
        """A full feed whose entries all came in the last hour: a busy hour fills it between polls."""
        if len(entries) < FULL_FEED_HINT:
            return None
        span = max(e.epoch for e in entries) - min(e.epoch for e in entries)
        if span >= 3600:
            return None
        return (
            f"{response.where} holds only its newest {len(entries)} comments and they all came within "
            f"{max(1, span // 60)} min: if more arrive between two polls, some are missed. Poll more often "
            f"(poll_interval), or raise the number of items feeds show (WordPress: Settings > Reading)"
        )

    # -- polling ---------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New entries of every feed, oldest first. A feed that fails keeps its cursor and is
        tried again next poll; the poll fails only if every feed did."""
        await self._find_feed()
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        errors: list[ChannelError] = []
        warnings: list[str] = []
        for url in self.feeds:
            key = CURSOR_PREFIX + url
            state = _FeedState.load(cursor.get(key))
            try:
                entries, state, gap = await self._poll_feed(url, state)
            except AuthError:
                raise
            except ChannelError as exc:
                errors.append(exc)
                log.warning("channel %s: feed skipped this poll: %s", self.name, exc)
                continue
            for entry in entries:
                found.setdefault(entry.message.remote_id, entry.message)
            next_cursor[key] = state.dump()
            if gap:
                log.warning("channel %s: %s", self.name, gap)
                warnings.append(gap)
        if errors and len(errors) == len(self.feeds):
            raise errors[0]
        messages = sorted(found.values(), key=lambda m: (m.created_at, m.remote_id))
        return PollResult(messages=messages, cursor=next_cursor, warnings=tuple(warnings))

    async def _poll_feed(self, url: str, state: _FeedState) -> tuple[list[_Entry], _FeedState, str | None]:
        """The feed's new entries, its next state, and what may have been lost before them."""
        response = await self._fetch(url, state)
        if response.status == 304:
            return [], state, None
        parsed = await _parse(response.content)
        if not _is_feed(parsed):
            raise TransientError(f"channel {self.name}: {response.where} is not an RSS or Atom feed")
        if parsed.get("bozo"):
            log.info("channel %s: %s is malformed; read what could be read", self.name, response.where)
        entries = self._entries(parsed, response)
        first_run = state.seen is None
        seen = dict(state.seen or {})
        floor = state.floor
        fresh = [e for e in entries if e.key not in seen and (floor is None or e.epoch > floor)]
        gap = None
        # Nothing of what we knew is left in it, and it is no shorter than before (comments
        # deleted or unapproved make it shorter; comments pushing the old ones out do not).
        if seen and entries and len(fresh) == len(entries) and len(entries) >= (state.size or 0):
            oldest = datetime.fromtimestamp(min(e.epoch for e in entries), UTC)
            gap = (
                f"{response.where} holds {len(entries)} comments, all new since the last poll: comments "
                f"written before {oldest:%Y-%m-%d %H:%M} UTC may be missing from the inbox; read them on "
                f"the site, and poll more often (poll_interval) or raise the number of items feeds show"
            )
        if first_run and len(fresh) > FIRST_RUN:
            fresh = sorted(fresh, key=lambda e: e.epoch)[-FIRST_RUN:]
        for entry in entries:
            seen[entry.key] = entry.epoch
        if len(seen) > SEEN_CAP:
            keep = sorted(seen.items(), key=lambda pair: pair[1])
            forgotten, kept = keep[: len(keep) - SEEN_CAP], keep[len(keep) - SEEN_CAP :]
            floor = max([floor or 0, *(epoch for _, epoch in forgotten)])
            seen = dict(kept)
        etag = response.headers.get("etag")
        modified = response.headers.get("last-modified")
        state = _FeedState(etag=etag, modified=modified, seen=seen, floor=floor, size=len(entries))
        return fresh, state, gap

    async def _find_feed(self) -> None:
        """Where no feed is configured: the site's comments feed, once it has answered."""
        if not self._discover:
            return
        response = await self._http.request(
            "GET", self.base_url + "/", headers={"Accept": "text/html, */*;q=0.1"}, check=False
        )
        if response.status == 429 or response.status >= 500:
            return  # asked again at the next request
        self._discover = False
        found = _comments_feed_of(response) if 200 <= response.status < 300 else None
        if found is not None and found != self.feeds[0]:
            log.info("channel %s: the site names its comments feed %s", self.name, found)
            self.feeds = (found,)

    async def _fetch(self, url: str, state: _FeedState) -> HttpResponse:
        headers = {"Accept": ACCEPT}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        response = await self._http.request("GET", url, headers=headers, check=False)
        if response.status in (200, 203, 304) or 200 <= response.status < 300:
            return response
        if response.status in (401, 403):
            if self._authenticated and _same_origin(url, self.base_url):
                raise AuthError(
                    f"the password for channel {self.name} was refused by {response.where} "
                    f"({response.status}): run `ecoinbox auth {self.name}`",
                    status=response.status,
                )
            raise PermanentError(
                f"channel {self.name}: {response.where} refuses to be read ({response.status})"
            )
        if response.status in (404, 410):
            hint = (
                f"; a WordPress site with plain permalinks has it at {PLAIN_PERMALINK_FEED}: set feeds to "
                f"that, or leave feeds out and ecoinbox asks the site"
            ) if url.endswith(DEFAULT_FEED) else ""  # fmt: skip
            raise PermanentError(
                f"channel {self.name}: no feed at {response.where} ({response.status}){hint}"
            )
        self._http.raise_for_status(response)  # 429/503 + Retry-After, 5xx, redirects
        raise TransientError(f"channel {self.name}: {response.where} answered {response.status}")

    def _entries(self, parsed: Any, response: HttpResponse) -> list[_Entry]:
        ids = {_entry_id(raw) for raw in parsed.entries}
        entries = []
        now = self._clock()
        for raw in parsed.entries:
            try:
                entries.append(self._to_entry(raw, ids, now))
            except UNREADABLE as exc:
                skipped_unreadable(log, self.name, "entry of", response.where, exc)
        return entries

    def _to_entry(self, raw: Any, ids: set[str | None], now: datetime) -> _Entry:
        from ecoinbox.htmltext import html_to_text, plain_to_text
        from ecoinbox.sanitize import safe_url

        entry_id = _entry_id(raw)
        if entry_id is None:
            raise ValueError("entry without id, link or content")
        moment = _entry_time(raw) or now
        body = _body(raw)
        parent = _parent_of(raw, entry_id, body, ids)
        if parent is not None:  # the thread shows the parent: WordPress's "In reply to X." goes
            body = _WP_REPLY_LINE.sub("", body, count=1)
        text = html_to_text(body)
        # WordPress stores names HTML-escaped ("Ben &amp; Jerry's") and its RSS feed quotes them so.
        name = plain_to_text(
            author_name(str(raw.get("author") or as_dict(raw.get("author_detail")).get("name") or ""))
        ).text.strip()
        name = name or "Anonymous"
        author_url = safe_url(str(as_dict(raw.get("author_detail")).get("href") or "")) or None
        link = safe_url(str(raw.get("link") or "")) or None
        links = list(text.links)
        if link and link not in links:
            links.append(link)
        title = plain_to_text(html.unescape(str(raw.get("title") or ""))).text.strip()
        if match := _WP_TITLE.match(title):
            title = match.group("post").strip()
        message = Message(
            channel=self.name,
            remote_id=entry_id,
            author=Author(
                channel=self.name,
                remote_id=f"{name}|{author_url or ''}",
                handle=name,
                display_name=name,
                url=author_url,
            ),
            text=text.text,
            created_at=moment,
            in_reply_to=parent,
            url=link,
            origin=Origin.OURS if self._own.intersection(_name_keys(name)) else Origin.MENTION,
            links=tuple(links),
            title=title,
            hidden_characters=text.hidden,
        )
        return _Entry(message, _key(entry_id), int(moment.timestamp()))

    # -- threads and replies ----------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """Nothing more than the polls bring: a feed cannot be asked for one entry's thread."""
        return []

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """Refused: a feed is read-only. The page itself is where a reply goes."""
        where = f": reply on the page itself, {parent.url}" if parent.url else ""
        raise PermanentError(f"channel {self.name} is a read-only feed, ecoinbox cannot reply there{where}")


# ---------------------------------------------------------------------------------------------
# Helpers


async def _parse(content: bytes) -> Any:
    """feedparser on the bytes we fetched, in a thread. Given as a stream: feedparser opens a
    `str` or `bytes` that looks like a path or URL, and a hostile body could name a local file."""
    import feedparser

    stream = io.BytesIO(content)
    return await asyncio.to_thread(feedparser.parse, stream, sanitize_html=True, resolve_relative_uris=True)


def _is_feed(parsed: Any) -> bool:
    return bool(parsed.get("version")) or bool(parsed.entries)


def _format_name(parsed: Any) -> str:
    version = str(parsed.get("version") or "")
    return "Atom" if version.startswith("atom") else "RSS" if version.startswith("rss") else version or "feed"


def _entry_id(raw: Any) -> str | None:
    for value in (raw.get("id"), raw.get("link")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_ID_LENGTH]
    body = _body(raw)
    if body or raw.get("title"):
        digest = hashlib.sha256(f"{raw.get('title')}\0{raw.get('published')}\0{body}".encode()).hexdigest()
        return "sha256:" + digest[:32]
    return None


def _key(entry_id: str) -> str:
    return hashlib.sha256(entry_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _entry_time(raw: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(name)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _body(raw: Any) -> str:
    """The entry's fullest HTML: content (content:encoded, Atom content), else the summary."""
    for content in raw.get("content") or ():
        value = as_dict(content).get("value")
        if isinstance(value, str) and value.strip():
            return value
    summary = raw.get("summary")
    return summary if isinstance(summary, str) else ""


def _parent_of(raw: Any, entry_id: str, body: str, ids: set[str | None]) -> str | None:
    """The entry this one answers, when the feed says so in a way we can follow."""
    thread = raw.get("thr_in-reply-to")
    ref = as_dict(thread).get("ref") if thread else None
    if isinstance(ref, str) and ref.strip():
        ref = ref.strip()
        # WordPress points top-level comments at the post, which is no entry of a comment feed.
        return ref if ref in ids or _WP_COMMENT_ID.search(ref) else None
    own = _WP_COMMENT_ID.search(entry_id)
    reply = _WP_IN_REPLY_TO.match(body)
    if own and reply and (parent := _WP_COMMENT_ID.search(reply.group(1))):
        return entry_id[: own.start()] + "#comment-" + parent.group(1)
    return None


def _name_keys(name: str) -> set[str]:
    """How a name or handle is compared: case-folded, without "@", and a handle's user part."""
    key = " ".join(name.split()).casefold().lstrip("@")
    return {key, key.split("@")[0]} - {""}


def _comments_feed_of(response: HttpResponse) -> str | None:
    """The comments feed a site's home page names: its `Link` header or `<link rel=alternate>`
    tags, the one about comments; else WordPress's own, where its API root says it is."""
    from selectolax.lexbor import LexborHTMLParser

    base = str(response.url)
    alternates = [
        (url, params.get("title", ""))
        for url, params in link_header_entries(response.headers.get("link"), base)
        if "alternate" in params.get("rel", "").lower().split() and params.get("type", "").lower() in FEED_TYPES
    ]  # fmt: skip
    page = response.content[:PAGE_MAX_BYTES].decode("utf-8", "replace")
    for tag in LexborHTMLParser(page).css("link[href]"):
        attributes = tag.attributes
        rel = (attributes.get("rel") or "").lower().split()
        if "alternate" in rel and (attributes.get("type") or "").lower() in FEED_TYPES:
            alternates.append((urljoin(base, attributes.get("href") or ""), attributes.get("title") or ""))
    for url, title in alternates:
        if url.startswith(("http://", "https://")) and (
            "comment" in url.lower() or "comment" in title.lower()
        ):
            return url
    # WordPress names its REST API's root, which says whether its permalinks are plain.
    if (root := api_root_from_link(response.headers.get("link"))) is not None:
        return _absolute(base.rstrip("/"), comments_feed(root))
    return _absolute(base.rstrip("/"), PLAIN_PERMALINK_FEED) if "/wp-content/" in page else None


def _absolute(base_url: str, url: str) -> str:
    return base_url + url if url.startswith("/") else url


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


__all__ = ["FeedChannel"]
