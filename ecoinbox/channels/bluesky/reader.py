"""What the Bluesky channel listens on, read page by page: the brand's notifications and searches.

The notification list and search results come newest first and only page backwards, so each
source keeps a high-water mark (its newest `indexedAt`, with the URIs seen at exactly that
instant). A poll reads from the top down to the mark; a walk longer than MAX_PAGES is finished
on the next polls from where it stopped (the API cursor is kept), before the mark moves: no gaps
and no repeats across restarts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecoinbox.channels.base import TransientError
from ecoinbox.channels.bluesky.posts import iso, post_time, timestamp
from ecoinbox.channels.http import channel_logger
from ecoinbox.channels.json_values import as_dict
from ecoinbox.model import Origin

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.xrpc import XrpcSession

log = channel_logger(__name__)

REASONS = ("mention", "reply", "quote")
NOTIFICATIONS_PAGE = 100  # the API maximum


SEARCH_PAGE = 50
FIRST_RUN_NOTIFICATIONS = 200  # a first run imports this many recent notifications
FIRST_RUN_SEARCH = 25  # and one page of each search
MAX_PAGES = 10  # per source and poll; a longer walk goes on next poll from where it stopped


NOTIFICATIONS_KEY = "notifications"
SEARCH_PREFIX = "search:"
TAG_PREFIX = "tag:"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Cursors


@dataclass(frozen=True, slots=True)
class Mark:
    """A source's high-water mark, and the unfinished walk toward it, if any (a small JSON object
    in the poll's cursor)."""

    at: datetime
    seen: frozenset[str]  # URIs at exactly `at`, already taken
    resume: str | None = None  # the API cursor where an unfinished walk stopped
    top_at: datetime | None = None  # where the mark goes once that walk is done
    top_seen: frozenset[str] = frozenset()

    @classmethod
    def load(cls, raw: str | None) -> Mark | None:
        """The mark stored in a cursor; None for none, or one that cannot be read."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            top = data.get("top")
            return cls(
                at=timestamp(data["at"]),
                seen=frozenset(str(uri) for uri in data.get("seen", ())),
                resume=str(data["resume"]) if data.get("resume") else None,
                top_at=timestamp(top["at"]) if top else None,
                top_seen=frozenset(str(uri) for uri in (top or {}).get("seen", ())),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("unreadable Bluesky cursor; starting that source afresh")
            return None

    def dump(self) -> str:
        """The mark as the cursor stores it."""
        data: dict[str, Any] = {"at": iso(self.at), "seen": sorted(self.seen)}
        if self.resume is not None and self.top_at is not None:
            data["resume"] = self.resume
            data["top"] = {"at": iso(self.top_at), "seen": sorted(self.top_seen)}
        return json.dumps(data, separators=(",", ":"))

    def taken(self, at: datetime, uri: str) -> bool:
        """Whether the item at `at` with `uri` was read by an earlier poll."""
        return at < self.at or (at == self.at and uri in self.seen)


@dataclass(frozen=True, slots=True)
class Source:
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


class SourceReader:
    """Walks the channel's sources (notifications, then each search and hashtag) down to their
    marks; a search the server refuses for good is left out from then on."""

    def __init__(self, xrpc: XrpcSession, search_terms: Sequence[str], hashtags: Sequence[str]) -> None:
        self.name = xrpc.name
        self._xrpc = xrpc
        self.search_terms = tuple(search_terms)
        self.hashtags = tuple(hashtags)
        self._unsupported_searches: set[str] = set()

    def leave_out(self, source: Source) -> None:
        """Stop reading `source` (the server refuses it for good)."""
        self._unsupported_searches.add(source.key)

    def sources(self) -> list[Source]:
        """The sources to read this poll, notifications first."""
        sources = [
            Source(
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
    def _search_source(key: str, params: tuple[tuple[str, str], ...], origin: Origin) -> Source:
        return Source(
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

    async def walk(self, source: Source, mark: Mark | None) -> tuple[list[dict[str, Any]], Mark | None]:
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
                params.append(("since", iso(mark.at)))
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
                    return fresh, Mark(mark.top_at, mark.top_seen)  # type: ignore[arg-type]
                return fresh, self._moved(mark, newest)
        # Out of pages before the mark: go on from here next poll, keep the mark till then.
        if resuming:
            return fresh, Mark(mark.at, mark.seen, api_cursor, mark.top_at, mark.top_seen)
        top = self._moved(mark, newest)
        log.info("channel %s: %s has more than %d pages; the rest comes next poll",
                 self.name, source.key, MAX_PAGES)  # fmt: skip
        return fresh, Mark(mark.at, mark.seen, api_cursor, top.at, top.seen)

    @staticmethod
    def _moved(mark: Mark, newest: _Newest) -> Mark:
        if newest.at is None or newest.seen is None or newest.at < mark.at:
            return mark
        seen = set(newest.seen) | (set(mark.seen) if newest.at == mark.at else set())
        return Mark(newest.at, frozenset(seen))

    async def _first_run(self, source: Source) -> tuple[list[dict[str, Any]], Mark | None]:
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
            return items, Mark(_EPOCH, frozenset())
        return items, Mark(newest.at, frozenset(newest.seen))

    async def _page(
        self, source: Source, params: list[tuple[str, str]]
    ) -> tuple[list[tuple[dict[str, Any], datetime]], str | None]:
        """One page: its readable items with their times, and the API cursor to the next."""
        response = await self._xrpc.call("GET", source.nsid, params=params)
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


def _notification_time(item: dict[str, Any]) -> datetime:
    return timestamp(item["indexedAt"])


def _post_time_of_view(post: dict[str, Any]) -> datetime:
    """When a post sorts in search results: the earlier of its claimed and indexed times."""
    return post_time(as_dict(post.get("record")), post["indexedAt"])


__all__ = ["NOTIFICATIONS_KEY", "REASONS", "Mark", "Source", "SourceReader"]
