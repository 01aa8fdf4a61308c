"""A search's results as a list the inbox can page through like a view.

The store answers a search a page at a time, newest match first (`SQLiteStore.search`). The
inbox's list pages by keyset over `ConversationRow.sort_key`, which is not the order of search
results, so the results are kept here, in the order found, up to `LIMIT` conversations: the
first page is read at once (what the manager sees first), more by `fill()` in the background
as the manager scrolls towards the end. Each page the list asks for is then a slice of memory, however deep.

The query text is parsed again at each `run()`, so `after:3d` in a saved view means three days
before the moment it is shown, not before the moment the config was read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ecoinbox.model import ConversationRow, View
from ecoinbox.query import Query, Span, parse_query

__all__ = ["FIRST_PAGE", "LIMIT", "SearchResults"]

FIRST_PAGE = 60
"""Conversations read before the results are first shown: a screen and a bit, at 120x40."""
LIMIT = 1000
"""At most this many conversations are listed; the count then reads "1000+"."""
_STEP = 200

SortKey = tuple[int, ...]


class Searchable(Protocol):
    async def search(
        self,
        query: Query,
        *,
        before_message: int | None = None,
        limit: int = 50,
        seen: frozenset[int] | set[int] = ...,
    ) -> tuple[list[ConversationRow], int | None]: ...


class SearchResults:
    """The conversations that match `text`, newest match first: a source for the inbox list."""

    def __init__(self, store: Searchable, text: str, *, now: Callable[[], datetime]) -> None:
        self.store = store
        self.text = text
        self.now = now
        self.query = parse_query(text, now=now())  # raises QueryError: the caller says why
        self.highlight: Callable[[str], list[Span]] = self.query.highlighter()
        self._rows: list[ConversationRow] = []
        self._index: dict[SortKey, int] = {}
        self._cursor: int | None = None
        self._done = False

    def __len__(self) -> int:
        """How many conversations are listed so far."""
        return len(self._rows)

    @property
    def complete(self) -> bool:
        """Every match has been read (or `LIMIT` reached)."""
        return self._done

    @property
    def capped(self) -> bool:
        """More conversations match than are listed."""
        return self._done and self._cursor is not None

    def label(self) -> str:
        """The count as the tab shows it: "12", "60+" while reading on, "1000+" at the cap."""
        count = len(self._rows)
        return f"{count}+" if not self._done or self._cursor is not None else str(count)

    async def run(self, limit: int = FIRST_PAGE) -> None:
        """Read the first `limit` conversations; `fill()` reads on. Once the list shows these
        results, only `fill()` may be called: fresh results are a new `SearchResults`."""
        self.query = parse_query(self.text, now=self.now())
        rows, cursor = await self.store.search(self.query, limit=limit)
        if cursor is None:
            # Every match is here: list them by their conversations' last activity, as the age
            # column reads. (The store finds matches in the order they reached it, which a first
            # poll of a channel's backlog or an import makes different from their dates; further
            # pages keep that order so rows never move under the cursor.)
            rows = sorted(rows, key=lambda row: row.last_activity, reverse=True)
        self._rows, self._index = [], {}
        self._add(rows, cursor)

    async def fill(self, limit: int = LIMIT) -> None:
        """Read on until `limit` conversations are listed (at most `LIMIT`) or every match is."""
        limit = min(limit, LIMIT)
        while not self._done and len(self._rows) < limit:
            step = min(_STEP, limit - len(self._rows))
            rows, cursor = await self.store.search(
                self.query, before_message=self._cursor, limit=step, seen={row.id for row in self._rows}
            )
            self._add(rows, cursor)

    def _add(self, rows: list[ConversationRow], cursor: int | None) -> None:
        for row in rows:
            self._index[row.sort_key] = len(self._rows)
            self._rows.append(row)
        self._cursor = cursor
        self._done = cursor is None or len(self._rows) >= LIMIT

    # -- the list's source (ConversationSource): pages are slices ------------------------

    async def count_conversations(self, view: View) -> int:
        return len(self._rows)

    async def conversation_page(
        self, view: View, *, after: SortKey | None = None, before: SortKey | None = None, limit: int = 100
    ) -> list[ConversationRow]:
        if before is not None:
            end = self._index.get(before, 0)
            return self._rows[max(0, end - limit) : end]
        start = 0 if after is None else self._index.get(after, len(self._rows) - 1) + 1
        return self._rows[start : start + limit]

    async def conversation_page_at(self, view: View, offset: int, limit: int) -> list[ConversationRow]:
        return self._rows[offset : offset + limit]

    async def conversation_page_last(self, view: View, limit: int) -> list[ConversationRow]:
        return self._rows[-limit:] if limit else []
