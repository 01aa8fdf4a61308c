"""Filtered searches read an index of their filter, not every message (issue 16, goal 5).

At a million messages a filter that SQLite checks message by message costs 30-110 ms when few
or no messages match (`refund lang:fr`, `lang:nl channel:blog`, `after:3d` on a store with
nothing recent). The plans are checked here at a small size; bench/scale.py times them at 1M.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ecoinbox.model import Author, Message, Origin
from ecoinbox.query import parse_query
from ecoinbox.store import SQLiteStore, open_store
from ecoinbox.store.search_sql import search_sql

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=40)
ZOE = Author("mastodon", "1", "zoe@remote.example", "Zoé")
MARC = Author("blog", "2", "marc_d", "Marc Dupont")


def msg(n: int, text: str, *, author: Author = ZOE, days: float, language: str = "en") -> Message:
    return Message(
        channel=author.channel, remote_id=str(n), author=author, text=text, language=language,
        created_at=T0 + timedelta(days=days), origin=Origin.MENTION,
    )  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    await store.ingest([
        msg(1, "I want a refund", days=1),
        msg(2, "Je veux un remboursement", author=MARC, days=2, language="fr"),
        msg(3, "Bestelling kwijt", author=MARC, days=3, language="nl"),
        msg(4, "Where is my refund?", days=39),
    ])  # fmt: skip
    # A backlog polled late: old messages with the newest ids, as a first poll of a channel makes.
    await store.ingest([msg(10 + n, f"old post {n}", days=0.5 + n / 100) for n in range(5)])
    yield store
    await store.close()


async def plan(store: SQLiteStore, text: str) -> str:
    sql, params = search_sql(parse_query(text, now=NOW))
    db = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", (*params, 2**62, 50)))
    finally:
        db.close()


@pytest.mark.parametrize(("text", "reads"), [
    # each match of the word is checked in the language's index, never read from the table
    ("refund lang:fr", "USING INDEX messages_by_language (language=? AND rowid=?)"),
    ("lang:nl channel:blog", "messages_by_language_channel (language=? AND channel=? AND rowid<?)"),
    ("channel:blog", "USING INDEX messages_by_channel (channel=? AND rowid<?)"),
    ("refund channel:blog", "USING INDEX messages_by_channel (channel=? AND rowid=?)"),
    # a date range bounds the ids the walk reads, from the date index
    ("after:3d", "SEARCH m USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
    ("after:3d", "COVERING INDEX messages_by_created (created_at>?)"),
    ("lang:fr after:3d", "USING INDEX messages_by_language (language=? AND rowid>? AND rowid<?)"),
])  # fmt: skip
async def test_a_filter_reads_its_index(store: SQLiteStore, text: str, reads: str) -> None:
    found = await plan(store, text)
    assert reads in found, found
    assert "TEMP B-TREE" not in found, found  # no statement sorts its matches


async def snippets(store: SQLiteStore, text: str, now: datetime = NOW) -> list[str]:
    rows, _ = await store.search(parse_query(text, now=now), limit=100)
    return sorted(row.snippet for row in rows)


async def test_date_bounds_find_exactly_the_range_whatever_the_ids(store: SQLiteStore) -> None:
    assert await snippets(store, "after:3d") == ["Where is my refund?"]
    assert await snippets(store, "after:3d", now=NOW + timedelta(days=30)) == []  # nothing recent
    assert await snippets(store, "before:38d") == sorted(
        ["I want a refund", *(f"old post {n}" for n in range(5))]
    )
    assert await snippets(store, "before:38d old") == [f"old post {n}" for n in range(5)]
    assert await snippets(store, "before:50d") == []
    assert await snippets(store, "-after:3d channel:blog") == ["Bestelling kwijt", "Je veux un remboursement"]
    assert await snippets(store, "lang:fr after:39d") == ["Je veux un remboursement"]


async def test_a_wide_date_range_is_found_whole(tmp_path: Path) -> None:
    """Over 5,000 messages in the range the ids are not bounded: the walk finds them all."""
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    try:
        wide = [msg(n, f"post {n}", days=10 + n / 1000) for n in range(5100)]
        await store.ingest([msg(9999, "the oldest", days=1), *wide, msg(9998, "backlog", days=2)])
        rows, _ = await store.search(parse_query("after:35d", now=NOW), limit=50)
        assert len(rows) == 50 and rows[0].snippet == "post 5099"  # a page, newest first
        rows, _ = await store.search(parse_query("before:35d", now=NOW), limit=50)
        assert rows[0].snippet == "backlog"
    finally:
        await store.close()


async def test_a_before_search_starts_below_every_newer_message(tmp_path: Path) -> None:
    """`before:` walks down from the newest id created before its date (per-day bounds kept by
    the store), not from the newest message: at 1M, before:300d read 820k messages to reach its
    range. A backlog polled late (old dates, new ids) is found all the same."""
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    try:
        await store.ingest([msg(n, f"old {n}", days=1 + n / 100) for n in range(20)])
        await store.ingest([msg(100 + n, f"new {n}", days=30 + n / 1000) for n in range(3000)])
        await store.ingest([msg(9000, "backlog polled late", days=1.5)])
        steps: list[int] = []  # one per 100 steps of SQLite's machine on the reading connection
        await store._read().set_progress_handler(lambda: steps.append(1), 100)
        rows, _ = await store.search(parse_query("before:35d", now=NOW), limit=50)
        snippets_found = sorted(row.snippet for row in rows)
        assert snippets_found == sorted(["backlog polled late", *(f"old {n}" for n in range(20))])
        assert len(steps) < 40, len(steps)  # ~13; reading the 3,000 newer messages: ~100
        await store._read().set_progress_handler(None, 100)
        assert await snippets(store, "before:60d") == []  # nothing that old
        assert "new 2999" in await snippets(store, "before:1d")
    finally:
        await store.close()


async def test_the_migration_finds_the_late_messages_the_triggers_would(tmp_path: Path) -> None:
    """A store of the previous schema gets the same day bounds and late messages, made from its
    messages in id order, as a store that had them from the start."""
    path = tmp_path / "inbox.db"
    store = await open_store(path, clock=lambda: NOW)
    await store.ingest([msg(n, f"old {n}", days=1 + n / 10) for n in range(30)])
    await store.ingest([msg(100, "backlog", days=0.2), msg(101, "now", days=39)])
    await store.ingest([msg(102, "late parent", days=2.5), msg(103, "same day as the newest", days=38.5)])
    await store.close()
    tables = "SELECT * FROM message_days ORDER BY day", "SELECT * FROM late_messages ORDER BY id"
    with sqlite3.connect(path) as db:
        kept = [db.execute(sql).fetchall() for sql in tables]
        for name in ("TABLE late_messages", "TABLE message_days"):
            db.execute(f"DROP {name}")
        db.execute("PRAGMA user_version = 14")
    assert [row[1] for row in kept[1]] and len(kept[1]) == 2  # the backlog and the late parent
    migrated = await open_store(path, clock=lambda: NOW)
    try:
        with sqlite3.connect(path) as db:
            assert [db.execute(sql).fetchall() for sql in tables] == kept
        assert await snippets(migrated, "before:37d") == sorted(
            ["backlog", "late parent", *(f"old {n}" for n in range(20))]  # days 1.0-2.9
        )
    finally:
        await migrated.close()
