"""A poll batch into the store: read what it touches, plan it (`ingest_plan`), write the plan.

Also the channels' cursors, and the text of posts deleted on their platform, forgotten in time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta

import aiosqlite

from ecoinbox.model import (
    Author,
    Message,
)
from ecoinbox.store.base import Change, ChangeKind, IngestResult
from ecoinbox.store.contacts import ContactsStore
from ecoinbox.store.ingest_plan import (
    MESSAGE_COLUMNS,
    Holdings,
    Inbound,
    IngestPlan,
    KnownMessage,
    Summary,
    plan_ingest,
)
from ecoinbox.store.screening import ScreeningBatch, ScreeningPlan, ScreeningStore
from ecoinbox.store.search import SearchStore
from ecoinbox.store.sql import execute_many, fetch_all, fetch_one
from ecoinbox.store.times import to_ms

LATE_MESSAGES = (
    "WITH batch AS (SELECT id, created_at, created_at / 86400000 AS day, max(min(created_at / 86400000, ?2))"
    " OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM messages WHERE id >= ?1),"
    " newest AS (SELECT coalesce(max(day), 0) AS day FROM message_days WHERE day <= ?2)"
    " INSERT INTO late_messages (id, created_at) SELECT b.id, b.created_at FROM batch b, newest n"
    " WHERE b.day < max(n.day, coalesce(b.before, 0)) - 1"
)
"""The messages of one ingest (ids from ?1) a day older than the newest day but one, in id order
(an old parent fetched today): kept apart from the day bounds of migration 15, whose day they
would raise to the newest ids. ?2: tomorrow's day, past which a date is a clock gone wrong."""
DAY_BOUNDS = (
    "INSERT INTO message_days (day, max_id) SELECT created_at / 86400000, max(id) FROM messages"
    " WHERE id >= ?1 AND id NOT IN (SELECT id FROM late_messages WHERE id >= ?1) GROUP BY created_at / 86400000"
    " ON CONFLICT (day) DO UPDATE SET max_id = max(max_id, excluded.max_id)"
)
"""The other messages of one ingest raise their day's newest id."""


class IngestStore(SearchStore, ContactsStore, ScreeningStore):
    """Poll batches, cursors, deleted posts' text; mixed into `SQLiteStore`."""

    async def known_remote_ids(self, channel: str, remote_ids: Iterable[str]) -> set[str]:
        """Which of these remote ids the store already holds (threading asks before fetching)."""
        ids = list(dict.fromkeys(remote_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            fetched = await fetch_all(
                self._read(),
                f"SELECT remote_id FROM messages WHERE channel = ? AND remote_id IN ({marks})",
                (channel, *chunk),
            )
            found.update(row[0] for row in fetched)
        return found

    async def ingest(
        self,
        messages: Sequence[Message],
        *,
        cursor: tuple[str, dict[str, str]] | None = None,
    ) -> IngestResult:
        """Store a poll batch (parents before children) and the channel's new cursor, atomically.

        Idempotent: a message seen before updates in place (edits, deletions), never duplicates.
        """
        result = IngestResult()
        plan = await self._screening_plan(messages)  # off the event loop, before the write
        async with self._write() as db:
            await self._ingest_batch(db, messages, result, plan)
            if cursor is not None:
                channel, value = cursor
                await db.execute(
                    "INSERT INTO cursors (channel, value) VALUES (?, ?) "
                    "ON CONFLICT (channel) DO UPDATE SET value = excluded.value",
                    (channel, json.dumps(value, sort_keys=True)),
                )
        if result.conversation_ids:
            self._notify(Change(ChangeKind.INGEST, frozenset(result.conversation_ids)))
        if result.urgent:
            self._notify(Change(ChangeKind.URGENT, frozenset(result.urgent)))
        return result

    async def _ingest_batch(
        self,
        db: aiosqlite.Connection,
        messages: Sequence[Message],
        result: IngestResult,
        screening_plan: ScreeningPlan | None = None,
    ) -> None:
        """Store `messages` as if one by one, in a fixed number of statements per batch.

        Every await is a hop to the connection's thread (about 0.1-0.2 ms here): five per
        message capped ingest near 1,000 messages a second. So the rows a batch touches are
        read in a few queries (`_holdings`), each message is applied in order to those rows in
        memory (`plan_ingest`: threading, edits, summaries, reopening), and the plan is written
        with one `executemany` per kind of row (`_write_plan`).
        """
        if not messages:
            return
        holdings = await self._holdings(db, messages)
        screening = ScreeningBatch(started=to_ms(self._clock())) if screening_plan is not None else None
        judge = None
        if screening is not None and screening_plan is not None:
            batch, verdicts = screening, screening_plan

            def judge(inbound: Inbound) -> None:
                self._screen_message(
                    batch, inbound.message, inbound.author_id, inbound.conversation_id, inbound.summary,
                    new_conversation=inbound.starts, verdict=verdicts.verdict(inbound.message),
                    newest=inbound.newest, answered=inbound.answered,
                )  # fmt: skip

        plan = plan_ingest(messages, holdings, self._clock, judge)
        await self._write_plan(db, plan)
        result.new += plan.new
        result.updated += plan.updated
        result.conversation_ids |= plan.conversation_ids
        result.reopened |= plan.reopened
        if screening is not None:
            await self._screening_finish(db, screening)
            result.urgent |= screening.urgent
            result.spam |= screening.spam

    async def _holdings(self, db: aiosqlite.Connection, messages: Sequence[Message]) -> Holdings:
        """What the store holds that the batch touches (its authors are written first: the plan
        needs their ids)."""
        author_ids = await self._upsert_authors(db, messages)
        keys = {(m.channel, m.remote_id) for m in messages}
        keys |= {(m.channel, m.in_reply_to) for m in messages if m.in_reply_to}
        known = await self._known_messages(db, keys)
        summaries = await self._summaries(db, {row.conversation_id for row in known.values()})
        top = await fetch_one(
            db, "SELECT (SELECT max(id) FROM messages), (SELECT max(id) FROM conversations)"
        )
        last_message, last_conversation = (top[0] or 0, top[1] or 0) if top is not None else (0, 0)
        return Holdings(author_ids, known, summaries, last_message + 1, last_conversation + 1)

    async def _write_plan(self, db: aiosqlite.Connection, plan: IngestPlan) -> None:
        columns = Summary.COLUMNS
        await execute_many(
            db,
            f"INSERT INTO conversations (id, channel, root_remote_id, {', '.join(columns)})"
            f" VALUES (?, ?, ?, {', '.join('?' * len(columns))})",
            plan.conversation_inserts(),
        )
        marks = ",".join("?" * len(MESSAGE_COLUMNS))
        await execute_many(
            db, f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({marks})", plan.messages
        )
        reindexed = plan.reindexed()
        await self._unindex(db, reindexed)
        await execute_many(
            db,
            "UPDATE messages SET text = ?, spoiler = ?, links = ?, edited_at = ?, hidden_characters = ?"
            " WHERE id = ?",
            plan.edits,
        )
        if plan.first_new_id is not None:
            await db.execute(
                "INSERT INTO messages_fts (rowid, text, title) SELECT id, text, title FROM messages WHERE id >= ?",
                (plan.first_new_id,),
            )
            # The day bounds a before: search starts from (schema migration 15).
            tomorrow = int(time.time()) // 86400 + 1  # not the store clock: no tick of it spent
            await db.execute(LATE_MESSAGES, (plan.first_new_id, tomorrow))
            await db.execute(DAY_BOUNDS, (plan.first_new_id,))
        await self._index(db, reindexed)
        await execute_many(db, "UPDATE messages SET deleted = 1 WHERE id = ?", plan.deletions)
        await execute_many(db, "UPDATE messages SET held = ? WHERE id = ?", plan.held_changes)
        await execute_many(
            db,
            f"UPDATE conversations SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            plan.conversation_updates(),
        )
        await execute_many(
            db,
            "INSERT INTO history (conversation_id, at, actor, action, old_value, new_value)"
            " VALUES (?,?,?,?,?,?)",
            plan.history,
        )

    async def _upsert_authors(
        self, db: aiosqlite.Connection, messages: Sequence[Message]
    ) -> dict[tuple[str, str], int]:
        """Insert or update each author once (as the last message of the batch has them, new ones
        in order of first appearance, as one by one would), and return their ids."""
        latest: dict[tuple[str, str], Author] = {}
        for message in messages:
            author = message.author
            latest[(author.channel, author.remote_id)] = author
        await db.executemany(
            "INSERT INTO authors (channel, remote_id, handle, display_name, url) VALUES (?,?,?,?,?)"
            " ON CONFLICT (channel, remote_id) DO UPDATE SET handle = excluded.handle,"
            " display_name = excluded.display_name, url = excluded.url",
            [(a.channel, a.remote_id, a.handle, a.display_name, a.url) for a in latest.values()],
        )
        rows = await self._by_key(db, "authors", "id", latest)
        ids = {(row[0], row[1]): int(row[2]) for row in rows}
        await self._link_proven(db, latest, ids)
        return ids

    async def _known_messages(
        self, db: aiosqlite.Connection, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], KnownMessage]:
        rows = await self._by_key(
            db,
            "messages",
            "id, t.conversation_id, t.text, t.edited_at, t.deleted, t.held, t.created_at",
            keys,
        )
        return {(r[0], r[1]): KnownMessage(r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows}

    async def _by_key(
        self, db: aiosqlite.Connection, table: str, columns: str, keys: Iterable[tuple[str, str]]
    ) -> list[sqlite3.Row]:
        """(channel, remote_id, `columns`...) of the rows of `table` (UNIQUE (channel, remote_id))
        with these keys, in a few queries."""
        pairs = list(keys)
        rows: list[sqlite3.Row] = []
        for start in range(0, len(pairs), 400):
            chunk = pairs[start : start + 400]
            values = ",".join("(?, ?)" for _ in chunk)
            # A join from the keys, so each is one index lookup: `(channel, remote_id) IN (VALUES ...)`
            # scans the whole index instead.
            rows += await fetch_all(
                db,
                f"SELECT t.channel, t.remote_id, t.{columns} FROM (VALUES {values}) AS k"
                f" CROSS JOIN {table} t ON t.channel = k.column1 AND t.remote_id = k.column2",
                [part for pair in chunk for part in pair],
            )
        return rows

    async def _summaries(self, db: aiosqlite.Connection, ids: set[int]) -> dict[int, Summary]:
        found: dict[int, Summary] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = await fetch_all(
                db,
                f"SELECT id, channel, root_remote_id, {', '.join(Summary.COLUMNS)} FROM conversations"
                f" WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row["id"]] = Summary.from_row(row)
        return found

    async def cursor(self, channel: str) -> dict[str, str]:
        """The channel's stored poll cursor ({} before the first poll)."""
        row = await fetch_one(self._read(), "SELECT value FROM cursors WHERE channel = ?", (channel,))
        return {} if row is None else dict(json.loads(row[0]))

    async def purge_deleted(self, after: timedelta) -> int:
        """Forget the text of posts seen deleted on their platform `after` ago or more; start the
        clock for those newly seen deleted. Returns how many were purged."""
        now = to_ms(self._clock())
        async with self._write() as db:
            await db.execute(
                "UPDATE messages SET deleted_at = ? WHERE deleted = 1 AND deleted_at IS NULL", (now,)
            )
            due = [int(r[0]) for r in await fetch_all(
                db, "SELECT id FROM messages WHERE deleted = 1 AND deleted_at <= ? AND text != ''",
                (now - int(after.total_seconds() * 1000),),
            )]  # fmt: skip
            await self._unindex(db, due)
            await execute_many(
                db,
                "UPDATE messages SET text = '', spoiler = '', links = '' WHERE id = ?",
                [(i,) for i in due],
            )
            await self._index(db, due)
        return len(due)
