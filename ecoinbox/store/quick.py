"""`ecoinbox list` and `show` read on the standard sqlite3 module: no event loop, no model objects.

The store itself (aiosqlite, the model's dataclasses, the write path) was most of these commands'
0.17 s, for 13 ms of reading. This reads the common case, a sound store of the current schema,
with the store's own statements (`search_sql` is the store's, from `store.search_sql`; tests/test_quick_reads.py
checks it, and that both ways print the same bytes) and hands rows out as dicts of their columns.
Anything else (a damaged, older, newer, missing or unwritable file) raises `NotQuick`: the caller
goes the full way, which migrates, opens read-only with a notice, or says what is wrong.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecoinbox.store.schema import APPLICATION_ID, SCHEMA_VERSION  # the migrations' text only: 2 ms
from ecoinbox.store.search_sql import search_sql  # pure: no aiosqlite

if TYPE_CHECKING:
    from ecoinbox.query import Query

__all__ = [
    "VIEW_STATES",
    "NotQuick",
    "QuickReader",
    "quick_reader",
    "search_sql",
]

# What the store knows of its rows (store/sqlite.py, store/ingest_plan.py, store/search.py,
# model.View); a file of another schema version is the full store's to migrate.
BUSY_TIMEOUT_S = 5.0
SNIPPET_CHARS = 300
SNIPPET_LEAD = 24

VIEW_STATES = {
    "inbox": ("open",), "pending": ("pending",), "snoozed": ("snoozed",), "done": ("done",),
    "spam": ("spam",), "mine": ("open", "pending"),
}  # fmt: skip
"""Each view of `list --state` and the conversation states it lists (`model.View.states`)."""

# The store's statements (store/rows.py, store/convert.py), as they are there.
ROW_SQL = (
    "SELECT c.id, c.channel, c.state, c.needs_reply, c.last_activity, c.snippet,"
    " c.message_count, c.origin, c.language, c.reason, c.priority, c.priority_reason, c.muted,"
    " a.display_name, a.handle, c.snoozed_until, c.assignee, c.tags,"
    " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.visibility = 'direct')"
    " AS direct,"
    " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.held = 1) AS held,"
    " EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = c.id) AS draft,"
    " c.subject"
    " FROM conversations c LEFT JOIN authors a ON a.id = c.author_id"
)
DESC = " ORDER BY c.needs_reply DESC, c.priority DESC, c.last_activity DESC, c.id DESC"
KEY = "(c.needs_reply, c.priority, c.last_activity, c.id)"
MESSAGE_SQL = (
    "SELECT m.*, a.remote_id AS author_remote_id, a.handle, a.display_name, a.url AS author_url"
    " FROM messages m JOIN authors a ON a.id = m.author_id"
)
SENT_OR_DISCARDED = ("sent", "discarded")


class NotQuick(Exception):
    """A store this reader leaves to the full store (which says what is wrong, or mends it)."""


Row = dict[str, Any]
"""A row's columns by name: a conversation row, a message with its author, an outbox item."""


@contextlib.contextmanager
def quick_reader(path: Path) -> Iterator[QuickReader]:
    """The store at `path` read-only, when the full store would open it read-write without a word."""
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
        raise NotQuick  # missing (to create), or opened read-only there with a notice
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        raise NotQuick from None
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA query_only = ON")
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID or version != SCHEMA_VERSION:
            raise NotQuick  # another file, or one to migrate (or too new)
        yield QuickReader(db)
    except (sqlite3.Error, UnicodeDecodeError):
        raise NotQuick from None  # e.g. damaged: the full store opens it read-only and says so
    finally:
        db.close()


class QuickReader:
    """`SQLiteStore`'s reads for `list` and `show`, on one read-only connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def view_rows(self, view: str, me: str, limit: int) -> list[Row]:
        """The view's first `limit` rows in display order, by pages of 100 as `ecoinbox list` reads them."""
        rows: list[Row] = []
        after: tuple[Any, ...] | None = None
        while len(rows) < limit:
            condition, params = view_where(view, me)
            where = " WHERE " + condition
            if after is not None:
                where += f" AND {KEY} < (?, ?, ?, ?)"
                params.extend(after)
            sql = ROW_SQL + where + DESC + " LIMIT ?"
            page = [dict(r) for r in self.db.execute(sql, (*params, min(100, limit - len(rows))))]
            if not page:
                break
            rows.extend(page)
            last = page[-1]
            after = (last["needs_reply"], last["priority"], last["last_activity"], last["id"])
        return rows

    def search_rows(self, query: Query, limit: int) -> list[Row]:
        """`store.search`'s pages up to `limit` rows: conversations by their newest matching message,
        each row's snippet that message around its first match. A `before:` search is the store's
        (NotQuick): it starts from the days' bounds and the messages polled late, not read here."""
        if any(f.field == "before" and not f.negated for f in query.filters):
            raise NotQuick
        rows: list[Row] = []
        cursor: int | None = None
        while len(rows) < limit:
            page, cursor = self.search_page(
                query, cursor, min(100, limit - len(rows)), {r["id"] for r in rows}
            )
            rows.extend(page)
            if cursor is None or not page:
                break
        return rows

    def search_page(
        self, query: Query, before: int | None, limit: int, seen: set[int]
    ) -> tuple[list[Row], int | None]:
        """One page as `SearchStore.search` reads it: matches newest first, in growing chunks."""
        sql, params = search_sql(query)
        found: dict[int, str] = {}
        cursor: int | None = before if before is not None else 2**62
        chunk = limit + 10
        skip_spam = not query.includes_spam
        while len(found) < limit:
            hits = self.db.execute(sql, (*params, cursor, chunk)).fetchall()
            spam = self.spam_among({hit["conversation_id"] for hit in hits}) if skip_spam else set()
            for hit in hits:
                cursor = hit["id"]
                if hit["conversation_id"] not in seen and hit["conversation_id"] not in spam:
                    found.setdefault(hit["conversation_id"], hit["text"])
                if len(found) == limit:
                    break
            if len(hits) < chunk and len(found) < limit:
                cursor = None
                break
            chunk = min(chunk * 4, 2000)
        if not found:
            return [], None
        marks = ",".join("?" * len(found))
        by_id = {
            r["id"]: dict(r) for r in self.db.execute(ROW_SQL + f" WHERE c.id IN ({marks})", tuple(found))
        }
        spans = query.highlighter()
        page = [
            {**by_id[c], "snippet": snippet_around(text, spans)} for c, text in found.items() if c in by_id
        ]
        return page, cursor

    def spam_among(self, conversation_ids: set[int]) -> set[int]:
        if not conversation_ids:
            return set()
        marks = ",".join("?" * len(conversation_ids))
        sql = f"SELECT id FROM conversations WHERE state = 'spam' AND id IN ({marks})"
        return {row["id"] for row in self.db.execute(sql, tuple(conversation_ids))}

    def thread(self, conversation_id: int) -> tuple[Row, list[Row], list[Row]] | None:
        """A conversation's row, its messages oldest first and the replies still on their way out."""
        row = self.db.execute(ROW_SQL + " WHERE c.id = ?", (conversation_id,)).fetchone()
        if row is None:
            return None
        messages = self.db.execute(
            MESSAGE_SQL + " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id", (conversation_id,)
        )
        outbox = self.db.execute(
            "SELECT * FROM outbox WHERE conversation_id = ? AND state NOT IN (?, ?) ORDER BY id",
            (conversation_id, *SENT_OR_DISCARDED),
        )
        return dict(row), [dict(m) for m in messages], [dict(i) for i in outbox]


def view_where(view: str, me: str) -> tuple[str, list[Any]]:
    states = list(VIEW_STATES[view])
    if view == "mine":
        return "c.assignee = ? AND c.state IN (?, ?)", [me, *states]
    return "c.state = ?", states


def snippet_around(text: str, spans: Callable[[str], list[tuple[int, int]]]) -> str:
    flat = " ".join(text.split())
    found = spans(flat[: SNIPPET_CHARS * 20])
    if not found or found[0][0] < SNIPPET_LEAD * 2:
        return flat[:SNIPPET_CHARS]
    start = flat.rfind(" ", 0, found[0][0] - SNIPPET_LEAD) + 1 or found[0][0] - SNIPPET_LEAD
    return "…" + flat[start : start + SNIPPET_CHARS - 1]
