"""The SQLite store: the only place in ecoinbox that speaks SQL.

One writer connection and one reader connection per process (aiosqlite runs each on its own
thread). Every read-modify-write is a `BEGIN IMMEDIATE` transaction, so a second process can
never make it fail half-way with "database is locked"; the outbox's commits are synced
(`synchronous=FULL`) because a lost "sent" mark would mean a reply sent twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AsyncIterator

import aiosqlite

from ecoinbox.model import (
    Author,
    Conversation,
    ConversationRow,
    Message,
    Origin,
    OutboxItem,
    OutboxState,
    State,
    StoredMessage,
    View,
)
from ecoinbox.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

SNIPPET_CHARS = 300
BUSY_TIMEOUT_S = 10.0
# The strongest reason wins when messages of one conversation arrived by different routes.
_ORIGIN_RANK = {Origin.MENTION: 4, Origin.HASHTAG: 3, Origin.SEARCH: 2, Origin.CONTEXT: 1, Origin.OURS: 0}

SortKey = tuple[int, int, int]
_MESSAGE_SQL = (
    "SELECT m.*, a.remote_id AS author_remote_id, a.handle, a.display_name, a.url AS author_url"
    " FROM messages m JOIN authors a ON a.id = m.author_id"
)


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row, with the statement closed: an open one would pin a stale read snapshot."""
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


class StoreError(Exception):
    """The store cannot be used; the message says why and what to do."""


class StoreTooNew(StoreError):
    """The database was written by a newer ecoinbox: it is refused, not touched."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a committed write touched, for listeners (the inbox redraws, the sender wakes)."""

    kind: str  # "ingest", "state", "outbox"
    conversation_ids: frozenset[int] = frozenset()


@dataclass(slots=True)
class IngestResult:
    """What one batch did to the store."""

    new: int = 0
    updated: int = 0
    conversation_ids: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One conversation's state before and after a change, so the change can be undone."""

    conversation_id: int
    old: State
    new: State


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def split_sql(script: str) -> Iterator[str]:
    """Statements of a script, so DDL can run inside our own transaction (executescript commits)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask: often 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


class SQLiteStore:
    """Conversations, messages, authors, cursors, outbox and history in one SQLite file."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._listeners: list[Callable[[Change], None]] = []

    # ---- lifetime -------------------------------------------------------------------------

    async def open(self) -> SQLiteStore:
        fresh = not self.path.exists()
        if fresh:
            _create_private(self.path)
        try:
            self._writer = await self._connect()
            await self._migrate()
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await self.close()
            raise
        return self

    async def _connect(self) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise StoreError(f"{self.path} is not a usable SQLite database: {exc}") from exc
        return conn

    async def _migrate(self) -> None:
        async with self._write() as db:
            app_id = (await _one(db, "PRAGMA application_id"))[0]
            version = (await _one(db, "PRAGMA user_version"))[0]
            if app_id not in (0, APPLICATION_ID):
                raise StoreError(f"{self.path} is not an ecoinbox database; refusing to touch it")
            if version > SCHEMA_VERSION:
                raise StoreTooNew(
                    f"{self.path} was written by a newer ecoinbox (schema {version}, this program "
                    f"knows {SCHEMA_VERSION}). Upgrade ecoinbox; the database was not modified."
                )
            for script in MIGRATIONS[version:]:
                for statement in split_sql(script):
                    await db.execute(statement)
            if version < SCHEMA_VERSION:
                await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    async def close(self) -> None:
        # aiosqlite's thread is not a daemon: an unclosed connection hangs interpreter exit.
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> SQLiteStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- change notification ---------------------------------------------------------------

    def add_listener(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` after every committed write of this process."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Change], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    async def data_version(self) -> int:
        """Changes whenever another connection (another process) commits: cheap to poll."""
        row = await _one(self._read(), "PRAGMA data_version")
        return int(row[0])

    # ---- transactions ----------------------------------------------------------------------

    def _read(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StoreError("the store is closed")
        return self._reader

    @asynccontextmanager
    async def _write(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        db = self._writer
        if db is None:
            raise StoreError("the store is closed")
        if durable:
            await db.execute("PRAGMA synchronous = FULL")
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
        finally:
            if durable:
                await db.execute("PRAGMA synchronous = NORMAL")

    # ---- ingest ----------------------------------------------------------------------------

    async def known_remote_ids(self, channel: str, remote_ids: Iterable[str]) -> set[str]:
        """Which of these remote ids the store already holds (threading asks before fetching)."""
        ids = list(dict.fromkeys(remote_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            fetched = await _all(
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
        async with self._write() as db:
            for message in messages:
                await self._ingest_one(db, message, result)
            if cursor is not None:
                channel, value = cursor
                await db.execute(
                    "INSERT INTO cursors (channel, value) VALUES (?, ?) "
                    "ON CONFLICT (channel) DO UPDATE SET value = excluded.value",
                    (channel, json.dumps(value, sort_keys=True)),
                )
        if result.conversation_ids:
            self._notify(Change("ingest", frozenset(result.conversation_ids)))
        return result

    async def _ingest_one(self, db: aiosqlite.Connection, message: Message, result: IngestResult) -> None:
        author_id = await self._upsert_author(db, message.author)
        row = await _one(
            db,
            "SELECT id, conversation_id, text, edited_at, deleted FROM messages "
            "WHERE channel = ? AND remote_id = ?",
            (message.channel, message.remote_id),
        )
        if row is not None:
            if await self._update_existing(db, row, message):
                result.updated += 1
                result.conversation_ids.add(row["conversation_id"])
            return
        conversation_id = await self._conversation_for(db, message)
        created = to_ms(message.created_at)
        await db.execute(
            "INSERT INTO messages (channel, remote_id, conversation_id, parent_remote_id, author_id,"
            " text, spoiler, links, created_at, edited_at, deleted, url, visibility, language, origin)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                message.channel, message.remote_id, conversation_id, message.in_reply_to, author_id,
                message.text, message.spoiler, "\n".join(message.links), created,
                to_ms(message.edited_at) if message.edited_at else None, int(message.deleted),
                message.url, message.visibility, message.language, message.origin.value,
            ),
        )  # fmt: skip
        reopened = await self._update_summary(db, conversation_id, message, author_id, created)
        result.new += 1
        result.conversation_ids.add(conversation_id)
        if reopened:
            result.reopened.add(conversation_id)

    async def _upsert_author(self, db: aiosqlite.Connection, author: Author) -> int:
        row = await _one(
            db,
            "INSERT INTO authors (channel, remote_id, handle, display_name, url) VALUES (?,?,?,?,?)"
            " ON CONFLICT (channel, remote_id) DO UPDATE SET handle = excluded.handle,"
            " display_name = excluded.display_name, url = excluded.url RETURNING id",
            (author.channel, author.remote_id, author.handle, author.display_name, author.url),
        )
        return int(row[0])

    async def _update_existing(self, db: aiosqlite.Connection, row: sqlite3.Row, message: Message) -> bool:
        edited = to_ms(message.edited_at) if message.edited_at else None
        if message.deleted:
            if row["deleted"]:
                return False
            await db.execute("UPDATE messages SET deleted = 1 WHERE id = ?", (row["id"],))
            return True
        if row["text"] == message.text and row["edited_at"] == edited:
            return False
        await db.execute(
            "UPDATE messages SET text = ?, spoiler = ?, links = ?, edited_at = ? WHERE id = ?",
            (message.text, message.spoiler, "\n".join(message.links), edited, row["id"]),
        )
        return True

    async def _conversation_for(self, db: aiosqlite.Connection, message: Message) -> int:
        if message.in_reply_to:
            parent = await _one(
                db,
                "SELECT conversation_id FROM messages WHERE channel = ? AND remote_id = ?",
                (message.channel, message.in_reply_to),
            )
            if parent is not None:
                return int(parent[0])
        row = await _one(
            db,
            "INSERT INTO conversations (channel, root_remote_id, last_activity, origin)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (message.channel, message.remote_id, to_ms(message.created_at), message.origin.value),
        )
        return int(row[0])

    async def _update_summary(
        self, db: aiosqlite.Connection, conversation_id: int, message: Message, author_id: int, created: int
    ) -> bool:
        """Keep the conversation's row in step with its newest message; True if it reopened."""
        conv = await _one(
            db,
            "SELECT state, state_changed_at, last_activity, message_count, origin, author_id"
            " FROM conversations WHERE id = ?",
            (conversation_id,),
        )
        newest = conv["message_count"] == 0 or created >= conv["last_activity"]
        origin = conv["origin"]
        if _ORIGIN_RANK[message.origin] > _ORIGIN_RANK[Origin(origin)]:
            origin = message.origin.value
        updates: dict[str, Any] = {"message_count": conv["message_count"] + 1, "origin": origin}
        if conv["author_id"] is None:
            updates["author_id"] = author_id
        if newest:
            updates["last_activity"] = created
            updates["needs_reply"] = int(not message.is_ours)
            if not message.is_ours:
                updates["author_id"] = author_id
                updates["snippet"] = message.text[:SNIPPET_CHARS]
        reopen = not message.is_ours and conv["state"] == State.DONE and created > conv["state_changed_at"]
        if reopen:
            updates["state"] = State.OPEN.value
            updates["state_changed_at"] = to_ms(self._clock())
            await self._record(db, conversation_id, "system", "reopened", State.DONE, State.OPEN)
        assignments = ", ".join(f"{column} = ?" for column in updates)
        await db.execute(
            f"UPDATE conversations SET {assignments} WHERE id = ?", (*updates.values(), conversation_id)
        )
        return reopen

    async def _record(
        self, db: aiosqlite.Connection, conversation_id: int, actor: str, action: str,
        old: str | None, new: str | None,
    ) -> None:  # fmt: skip
        await db.execute(
            "INSERT INTO history (conversation_id, at, actor, action, old_value, new_value)"
            " VALUES (?,?,?,?,?,?)",
            (conversation_id, to_ms(self._clock()), actor, action, old, new),
        )

    async def cursor(self, channel: str) -> dict[str, str]:
        """The channel's stored poll cursor ({} before the first poll)."""
        row = await _one(self._read(), "SELECT value FROM cursors WHERE channel = ?", (channel,))
        return {} if row is None else dict(json.loads(row[0]))

    # ---- the inbox -------------------------------------------------------------------------

    _ROW_SQL = (
        "SELECT c.id, c.channel, c.state, c.needs_reply, c.last_activity, c.snippet,"
        " c.message_count, c.origin, a.display_name, a.handle"
        " FROM conversations c LEFT JOIN authors a ON a.id = c.author_id"
    )
    _DESC = " ORDER BY c.needs_reply DESC, c.last_activity DESC, c.id DESC"
    _ASC = " ORDER BY c.needs_reply ASC, c.last_activity ASC, c.id ASC"

    async def count_conversations(self, view: View) -> int:
        row = await _one(
            self._read(), "SELECT count(*) FROM conversations WHERE state = ?", (view.state.value,)
        )
        return int(row[0])

    async def conversation_page(
        self,
        view: View,
        *,
        after: SortKey | None = None,
        before: SortKey | None = None,
        limit: int = 100,
    ) -> list[ConversationRow]:
        """A page in display order: the top one, the one following `after`, or preceding `before`."""
        where = " WHERE c.state = ?"
        params: list[Any] = [view.state.value]
        if before is not None:
            sql = self._ROW_SQL + where + " AND (c.needs_reply, c.last_activity, c.id) > (?, ?, ?)"
            rows = await self._rows(sql + self._ASC + " LIMIT ?", (*params, *before, limit))
            return rows[::-1]
        if after is not None:
            where += " AND (c.needs_reply, c.last_activity, c.id) < (?, ?, ?)"
            params.extend(after)
        return await self._rows(self._ROW_SQL + where + self._DESC + " LIMIT ?", (*params, limit))

    async def conversation_page_last(self, view: View, limit: int = 100) -> list[ConversationRow]:
        """The last `limit` rows of the view, in display order (for `G`, without a deep OFFSET)."""
        sql = self._ROW_SQL + " WHERE c.state = ?" + self._ASC + " LIMIT ?"
        return (await self._rows(sql, (view.state.value, limit)))[::-1]

    async def conversation_page_at(self, view: View, offset: int, limit: int = 100) -> list[ConversationRow]:
        """A page by position (OFFSET): only for jumps that no cached neighbour page can anchor."""
        sql = self._ROW_SQL + " WHERE c.state = ?" + self._DESC + " LIMIT ? OFFSET ?"
        return await self._rows(sql, (view.state.value, limit, offset))

    async def conversation_row(self, conversation_id: int) -> ConversationRow | None:
        rows = await self._rows(self._ROW_SQL + " WHERE c.id = ?", (conversation_id,))
        return rows[0] if rows else None

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[ConversationRow]:
        fetched = await _all(self._read(), sql, params)
        return [_conversation_row(row) for row in fetched]

    async def conversation(self, conversation_id: int) -> Conversation | None:
        """The whole thread, oldest first, with the replies still on their way out."""
        row = await self.conversation_row(conversation_id)
        if row is None:
            return None
        records = await _all(
            self._read(),
            _MESSAGE_SQL + " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id",
            (conversation_id,),
        )
        ids_by_remote = {r["remote_id"]: r["id"] for r in records}
        messages = [
            StoredMessage(
                id=r["id"],
                conversation_id=conversation_id,
                message=_message(r),
                parent_id=ids_by_remote.get(r["parent_remote_id"]),
            )
            for r in records
        ]
        outbox = await self._outbox_rows(
            "SELECT * FROM outbox WHERE conversation_id = ? AND state != ? ORDER BY id",
            (conversation_id, OutboxState.SENT.value),
        )
        return Conversation(row=row, messages=messages, outbox=outbox)

    async def message(self, channel: str, remote_id: str) -> Message | None:
        record = await _one(
            self._read(), _MESSAGE_SQL + " WHERE m.channel = ? AND m.remote_id = ?", (channel, remote_id)
        )
        return None if record is None else _message(record)

    # ---- triage ----------------------------------------------------------------------------

    async def set_state(
        self, conversation_ids: Sequence[int], state: State, *, actor: str = "manager"
    ) -> list[StateChange]:
        """Move conversations to `state`; returns what changed, so the caller can undo it."""
        changes: list[StateChange] = []
        now = to_ms(self._clock())
        async with self._write() as db:
            for conversation_id in conversation_ids:
                row = await _one(db, "SELECT state FROM conversations WHERE id = ?", (conversation_id,))
                if row is None or row[0] == state.value:
                    continue
                old = State(row[0])
                await db.execute(
                    "UPDATE conversations SET state = ?, state_changed_at = ? WHERE id = ?",
                    (state.value, now, conversation_id),
                )
                await self._record(db, conversation_id, actor, "state", old.value, state.value)
                changes.append(StateChange(conversation_id, old, state))
        if changes:
            self._notify(Change("state", frozenset(c.conversation_id for c in changes)))
        return changes

    async def history(self, conversation_id: int) -> list[tuple[datetime, str, str, str | None, str | None]]:
        fetched = await _all(
            self._read(),
            "SELECT at, actor, action, old_value, new_value FROM history"
            " WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [(from_ms(r[0]), r[1], r[2], r[3], r[4]) for r in fetched]  # type: ignore[misc]

    # ---- outbox ----------------------------------------------------------------------------

    async def queue_reply(
        self, conversation_id: int, parent: Message, text: str, *, visibility: str | None = None
    ) -> OutboxItem:
        """Write a reply before the network is touched; the engine's sender takes it from here."""
        now = to_ms(self._clock())
        async with self._write(durable=True) as db:
            record = await _one(
                db,
                "INSERT INTO outbox (conversation_id, channel, parent_remote_id, text, visibility,"
                " idempotency_key, state, created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?)"
                " RETURNING *",
                (
                    conversation_id, parent.channel, parent.remote_id, text, visibility,
                    uuid.uuid4().hex, OutboxState.QUEUED.value, now, now,
                ),
            )  # fmt: skip
            await self._record(db, conversation_id, "manager", "reply queued", None, str(record["id"]))
        self._notify(Change("outbox", frozenset({conversation_id})))
        return _outbox_item(record)

    async def claim_next_reply(self, owner: str, lease_seconds: float = 120.0) -> OutboxItem | None:
        """Take the oldest due reply for sending, under a lease; None when nothing is due."""
        now = to_ms(self._clock())
        async with self._write(durable=True) as db:
            record = await _one(
                db,
                "SELECT id FROM outbox WHERE state = ? AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT 1",
                (OutboxState.QUEUED.value, now),
            )
            if record is None:
                return None
            claimed = await _one(
                db,
                "UPDATE outbox SET state = ?, lease_owner = ?, lease_until = ?,"
                " attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?)"
                " WHERE id = ? AND state = ? RETURNING *",
                (
                    OutboxState.SENDING.value,
                    owner,
                    now + int(lease_seconds * 1000),
                    now,
                    record["id"],
                    OutboxState.QUEUED.value,
                ),
            )
        return None if claimed is None else _outbox_item(claimed)

    async def next_reply_due(self) -> datetime | None:
        row = await _one(
            self._read(),
            "SELECT min(next_attempt_at) FROM outbox WHERE state = ?",
            (OutboxState.QUEUED.value,),
        )
        return from_ms(row[0])

    async def reply_sent(self, item: OutboxItem, sent: Message) -> None:
        """Mark the reply sent and put the platform's copy of it in the thread, in one commit."""
        result = IngestResult()
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, remote_id = ?, sent_at = ?, error = '',"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (OutboxState.SENT.value, sent.remote_id, to_ms(self._clock()), item.id),
            )
            await self._ingest_one(db, sent, result)
            await self._record(db, item.conversation_id, "system", "reply sent", None, sent.remote_id)
        self._notify(Change("outbox", frozenset({item.conversation_id, *result.conversation_ids})))

    async def reply_retry(self, item: OutboxItem, error: str, at: datetime) -> None:
        """Put the reply back in the queue for `at`, keeping its idempotency key."""
        await self._outbox_update(item, OutboxState.QUEUED, error, next_attempt_at=to_ms(at))

    async def reply_failed(self, item: OutboxItem, error: str) -> None:
        await self._outbox_update(item, OutboxState.FAILED, error)

    async def reply_unknown(self, item: OutboxItem, error: str) -> None:
        await self._outbox_update(item, OutboxState.UNKNOWN, error)

    async def _outbox_update(
        self, item: OutboxItem, state: OutboxState, error: str, *, next_attempt_at: int | None = None
    ) -> None:
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, error = ?, lease_owner = NULL, lease_until = NULL,"
                " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
                (state.value, error, next_attempt_at, item.id),
            )
            if state in (OutboxState.FAILED, OutboxState.UNKNOWN):
                await self._record(db, item.conversation_id, "system", f"reply {state}", None, error)
        self._notify(Change("outbox", frozenset({item.conversation_id})))

    async def expired_reply_leases(self) -> list[OutboxItem]:
        """Replies left 'sending' by a sender that died: their outcome is uncertain."""
        return await self._outbox_rows(
            "SELECT * FROM outbox WHERE state = ? AND lease_until < ? ORDER BY id",
            (OutboxState.SENDING.value, to_ms(self._clock())),
        )

    async def outbox_items(self, states: Sequence[OutboxState] | None = None) -> list[OutboxItem]:
        if not states:
            return await self._outbox_rows("SELECT * FROM outbox ORDER BY id", ())
        marks = ",".join("?" * len(states))
        return await self._outbox_rows(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id", [s.value for s in states]
        )

    async def _outbox_rows(self, sql: str, params: Sequence[Any]) -> list[OutboxItem]:
        fetched = await _all(self._read(), sql, params)
        return [_outbox_item(r) for r in fetched]


# ---- row -> model converters ---------------------------------------------------------------


def _conversation_row(row: sqlite3.Row) -> ConversationRow:
    return ConversationRow(
        id=row["id"],
        channel=row["channel"],
        state=State(row["state"]),
        needs_reply=bool(row["needs_reply"]),
        last_activity=from_ms(row["last_activity"]),  # type: ignore[arg-type]
        author_label=row["display_name"] or row["handle"] or "",
        author_handle=row["handle"] or "",
        snippet=row["snippet"],
        message_count=row["message_count"],
        origin=Origin(row["origin"]),
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        channel=row["channel"],
        remote_id=row["remote_id"],
        author=Author(
            channel=row["channel"],
            remote_id=row["author_remote_id"],
            handle=row["handle"],
            display_name=row["display_name"],
            url=row["author_url"],
        ),
        text=row["text"],
        created_at=from_ms(row["created_at"]),  # type: ignore[arg-type]
        in_reply_to=row["parent_remote_id"],
        url=row["url"],
        visibility=row["visibility"],
        language=row["language"],
        origin=Origin(row["origin"]),
        spoiler=row["spoiler"],
        links=tuple(filter(None, row["links"].split("\n"))),
        edited_at=from_ms(row["edited_at"]),
        deleted=bool(row["deleted"]),
    )


def _outbox_item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        parent_remote_id=row["parent_remote_id"],
        text=row["text"],
        idempotency_key=row["idempotency_key"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        created_at=from_ms(row["created_at"]),  # type: ignore[arg-type]
        next_attempt_at=from_ms(row["next_attempt_at"]),
        error=row["error"],
        remote_id=row["remote_id"],
        visibility=row["visibility"],
        first_attempt_at=from_ms(row["first_attempt_at"]),
    )


async def open_store(path: Path, *, clock: Callable[[], datetime] | None = None) -> SQLiteStore:
    """Open (creating and migrating as needed) the store at `path`."""
    return await SQLiteStore(path, clock=clock).open()
