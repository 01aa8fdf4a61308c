"""Full-text search in the store, and the index that serves it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any

import aiosqlite

from ecoinbox.model import (
    ConversationRow,
)
from ecoinbox.query import Query
from ecoinbox.store.ingest_plan import SNIPPET_CHARS
from ecoinbox.store.rows import RowsStore
from ecoinbox.store.search_sql import search_sql, search_sql_among
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.times import to_ms


class SearchStore(RowsStore):
    """Search and its index; mixed into `SQLiteStore`."""

    async def search(
        self, query: Query, *, before_message: int | None = None, limit: int = 50, seen: Collection[int] = ()
    ) -> tuple[list[ConversationRow], int | None]:
        """Conversations with a message matching `query`, by their newest match first.

        Each row's snippet is that matching message. Returns the rows and the keyset cursor for
        the next page (None at the end); conversations in `seen` (earlier pages) are skipped. Matching messages are read newest first in small
        chunks and folded into conversations, so a common word costs what a page costs, not
        what all its matches cost. Every value is a bound parameter; words reach FTS5 as quoted
        strings only.
        """
        sql, params = search_sql(query)
        found: dict[int, str] = {}
        top = before_message if before_message is not None else 2**62
        cursor: int | None = top
        db = self._read()
        skip_spam = not query.includes_spam
        dated = await _before_range(db, query, top)
        if dated is not None:  # before: the few messages polled late, then the walk from the bound
            late, bound = dated
            if late:
                among, among_params = search_sql_among(query, late)
                last = await self._fold(
                    await fetch_all(db, among, among_params), found, seen, limit, skip_spam
                )
                if len(found) == limit:
                    cursor = last
            if len(found) < limit:
                cursor = min(top, bound)
        # One match per conversation needs `limit` matches; a chatty one needs more: the chunk
        # grows, so a rare filter does not scan for 4x the matches a page needs.
        chunk = limit + 10
        while len(found) < limit and cursor:
            hits = await fetch_all(db, sql, (*params, cursor, chunk))
            cursor = await self._fold(hits, found, seen, limit, skip_spam) or cursor
            if len(hits) < chunk and len(found) < limit:
                cursor = None
                break
            chunk = min(chunk * 4, 2000)
        if not found:
            return [], None
        marks = ",".join("?" * len(found))
        rows = {r.id: r for r in await self._rows(self._ROW_SQL + f" WHERE c.id IN ({marks})", tuple(found))}
        spans = query.highlighter()
        page = [
            replace(rows[c], snippet=_snippet_around(text, spans)) for c, text in found.items() if c in rows
        ]
        return page, cursor

    async def _fold(
        self, hits: list[Any], found: dict[int, str], seen: Collection[int], limit: int, skip_spam: bool
    ) -> int | None:
        """Fold matching messages (newest first) into `found`, one per conversation, until
        `limit`; the id of the last message taken (the next page's cursor), None if none."""
        spam = await self._spam_among({hit["conversation_id"] for hit in hits}) if skip_spam else set()
        last = None
        for hit in hits:
            last = hit["id"]
            if hit["conversation_id"] not in seen and hit["conversation_id"] not in spam:
                found.setdefault(hit["conversation_id"], hit["text"])
            if len(found) == limit:
                break
        return last

    async def _spam_among(self, conversation_ids: set[int]) -> set[int]:
        """Which of these conversations are spam (a search leaves them out unless is:spam)."""
        if not conversation_ids:
            return set()
        marks = ",".join("?" * len(conversation_ids))
        rows = await fetch_all(
            self._read(),
            f"SELECT id FROM conversations WHERE state = 'spam' AND id IN ({marks})",
            tuple(conversation_ids),
        )
        return {row["id"] for row in rows}

    async def _unindex(self, db: aiosqlite.Connection, ids: Sequence[int]) -> None:
        """The index forgets these rows' current words (before their text changes)."""
        await self._feed_index(
            db, ids, "INSERT INTO messages_fts (messages_fts, rowid, text, title) SELECT 'delete',"
        )

    async def _index(self, db: aiosqlite.Connection, ids: Sequence[int]) -> None:
        """The index learns these rows' current words."""
        await self._feed_index(db, ids, "INSERT INTO messages_fts (rowid, text, title) SELECT")

    async def _feed_index(self, db: aiosqlite.Connection, ids: Sequence[int], insert: str) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            await db.execute(f"{insert} id, text, title FROM messages WHERE id IN ({marks})", chunk)


LATE_LIMIT = 500
"""More messages polled late than this in a before: range, and the walk reads from the top."""


async def _before_range(db: aiosqlite.Connection, query: Query, cursor: int) -> tuple[list[int], int] | None:
    """For a query with `before:`: the ids under `cursor` of the messages created before its date
    that were polled late (an old parent fetched today: an old date with a new id, kept apart by
    the store), newest first, and a bound above every other such message: the walk down the ids
    starts there instead of reading every newer message (820k at 1M for before:300d). None
    without `before:` (or with too many late ones). The bound is the newest id of each earlier
    day's messages in time and of the date's own day, read in the date index. (As a condition in
    the SQL, SQLite may take it over the page's cursor and walk from the top at every page.)"""
    dates = [to_ms(f.value) for f in query.filters if f.field == "before" and not f.negated]  # type: ignore[arg-type]
    if not dates or min(dates) <= 0:
        return None
    until = min(dates)
    row = await fetch_one(
        db,
        "SELECT max(coalesce((SELECT max(max_id) FROM message_days WHERE day < ?1 / 86400000), 0),"
        " coalesce((SELECT max(rowid) FROM messages INDEXED BY messages_by_created"
        " WHERE created_at >= (?1 / 86400000) * 86400000 AND created_at < ?1), 0)) AS bound",
        (until,),
    )
    bound = int(row["bound"]) + 1 if row is not None and row["bound"] else 0
    late = await fetch_all(
        db,
        "SELECT id FROM late_messages WHERE created_at < ? AND id >= ? AND id < ? ORDER BY id DESC LIMIT ?",
        (until, bound, cursor, LATE_LIMIT + 1),
    )
    if len(late) > LATE_LIMIT:
        return None
    return [hit["id"] for hit in late], bound


def _snippet(text: str) -> str:
    return " ".join(text.split())[:SNIPPET_CHARS]


SNIPPET_LEAD = 24
"""Characters kept before a search result's first match when the snippet starts later."""


def _snippet_around(text: str, spans: Callable[[str], list[tuple[int, int]]]) -> str:
    """A search result's snippet: from a little before the first matched word, so the word
    shows in the list even when it comes late in a long message."""
    flat = " ".join(text.split())
    found = spans(flat[: SNIPPET_CHARS * 20])
    if not found or found[0][0] < SNIPPET_LEAD * 2:
        return flat[:SNIPPET_CHARS]
    start = flat.rfind(" ", 0, found[0][0] - SNIPPET_LEAD) + 1 or found[0][0] - SNIPPET_LEAD
    return "…" + flat[start : start + SNIPPET_CHARS - 1]
