"""`ecoinbox list` and `show` read on the standard sqlite3 module: no event loop, no model objects.

The store itself (aiosqlite, the model's dataclasses, the write path) was most of these commands'
0.17 s, for 13 ms of reading. This reads the common case, a sound store of the current schema,
with the store's own statements (`search_sql` is `search.search_sql`'s text; tests/test_quick_reads.py
checks it, and that both ways print the same bytes) and hands rows out as dicts of their columns.
Anything else (a damaged, older, newer, missing or unwritable file) raises `NotQuick`: the caller
goes the full way, which migrates, opens read-only with a notice, or says what is wrong.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecoinbox.store.schema import APPLICATION_ID, SCHEMA_VERSION  # the migrations' text only: 2 ms

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


def search_sql(query: Query) -> tuple[str, list[Any]]:
    """The store's statement for `query` (ecoinbox/store/search.py's `search_sql`, the same text)."""
    from ecoinbox.query import fts_phrase

    where, params = search_conditions(query)
    fts = " ".join(fts_phrase(t) for t in query.terms if not t.negated)
    joins = ""
    if any(f.field == "is" for f in query.filters):
        joins += " JOIN conversations c ON c.id = m.conversation_id"
    if any(f.field == "from" for f in query.filters):
        joins += " JOIN authors a ON a.id = m.author_id"
    conditions = "".join(f" AND {condition}" for condition in where)
    language = any(f.field == "lang" and not f.negated for f in query.filters)
    channel = any(f.field == "channel" and not f.negated for f in query.filters)
    index = {
        (True, True): "messages_by_language_channel",
        (True, False): "messages_by_language",
        (False, True): "messages_by_channel",
    }.get((language, channel))
    source = f"messages m INDEXED BY {index}" if index else "messages m NOT INDEXED"
    if fts:
        sql = (
            "SELECT m.id, m.conversation_id, m.text FROM messages_fts f"
            f" CROSS JOIN {source} ON m.id = f.rowid{joins} WHERE messages_fts MATCH ?{conditions}"
            " AND f.rowid < ? ORDER BY f.rowid DESC LIMIT ?"
        )
        return sql, [fts, *params]
    sql = (
        f"SELECT m.id, m.conversation_id, m.text FROM {source}{joins}"
        f" WHERE 1{conditions} AND m.id < ? ORDER BY m.id DESC LIMIT ?"
    )
    return sql, params


def search_conditions(query: Query) -> tuple[list[str], list[Any]]:
    from ecoinbox.query import fts_phrase

    where: list[str] = []
    params: list[Any] = []
    for term in query.terms:
        if term.negated:
            where.append("m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            params.append(fts_phrase(term))
    for f in query.filters:
        values: list[Any]
        if f.field == "from":
            like = str(f.value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            condition = "(a.handle LIKE ? ESCAPE '\\' OR a.display_name LIKE ? ESCAPE '\\')"
            values = [like, like]
        elif f.field == "channel":
            condition, values = "m.channel = ?", [f.value]
        elif f.field == "is" and f.value == "unanswered":
            condition, values = "c.needs_reply = 1 AND c.state = 'open'", []
        elif f.field == "is":
            condition, values = "c.state = ?", [f.value]
        elif f.field == "lang":
            condition, values = "m.language = ?", [f.value]
        elif f.field == "before":
            condition, values = "m.created_at < ?", [to_ms(f.value)]
        elif f.field == "after":
            condition = f"m.created_at >= ? AND m.id >= {IDS_AFTER}"
            values = [to_ms(f.value)] * 2
        else:  # has:link
            condition, values = "m.links != ''", []
        where.append(f"NOT ({condition})" if f.negated else condition)
        params.extend(values)
    return where, params


IDS_AFTER = (
    f"(SELECT CASE WHEN count(*) < 5000 THEN coalesce(min(id), {1 << 62}) ELSE 0 END FROM"
    " (SELECT rowid AS id FROM messages INDEXED BY messages_by_created WHERE created_at >= ? LIMIT 5000))"
)


def to_ms(moment: object) -> int:
    assert isinstance(moment, datetime)  # before: and after: hold a moment (ecoinbox.query)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def snippet_around(text: str, spans: Callable[[str], list[tuple[int, int]]]) -> str:
    flat = " ".join(text.split())
    found = spans(flat[: SNIPPET_CHARS * 20])
    if not found or found[0][0] < SNIPPET_LEAD * 2:
        return flat[:SNIPPET_CHARS]
    start = flat.rfind(" ", 0, found[0][0] - SNIPPET_LEAD) + 1 or found[0][0] - SNIPPET_LEAD
    return "…" + flat[start : start + SNIPPET_CHARS - 1]
