"""The SQLite store: the only place in ecoinbox that speaks SQL.

One writer connection and one reader connection per process (aiosqlite runs each on its own
thread). Every read-modify-write is a `BEGIN IMMEDIATE` transaction, so a second process can
never make it fail half-way with "database is locked"; the outbox's commits are synced
(`synchronous=FULL`) because a lost "sent" mark would mean a reply sent twice.

What the environment does to the file (a full disk, a read-only folder, a damaged page) comes
out of every public method as a `StoreError` subclass worded for the manager, never as a raw
`sqlite3` error: see `_errors_in_words`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import os
import shlex
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from ecoinbox import __version__
from ecoinbox.model import (
    Author,
    ConcurrentReply,
    Conversation,
    ConversationRow,
    DraftKind,
    Lease,
    LinkUse,
    Message,
    Origin,
    OutboxItem,
    OutboxState,
    ReplyDecision,
    ReplyMark,
    State,
    StoredMessage,
    View,
)
from ecoinbox.query import Query, fts_phrase
from ecoinbox.store.contacts import ContactsMixin
from ecoinbox.store.drafts import DraftsStore, delete_draft_in
from ecoinbox.store.outbox_view import OutboxViewStore
from ecoinbox.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from ecoinbox.store.states import StatesStore
from ecoinbox.store.triage import TriageBatch, TriagePlan, TriageStore

log = logging.getLogger(__name__)

SNIPPET_CHARS = 300
DELETED_SNIPPET = "(deleted on the platform)"
"""A row's snippet when the message it showed was deleted: its words are not shown by default."""
TOPIC_REASON = "forum topic made by a redirect"  # the state reason of a topic `f` opened
SUBJECT_CHARS = 300
CONTEXT_CHARS = 2000  # of what the person said, kept with each canned link sent
BUSY_TIMEOUT_S = 10.0
WAL_CHECKPOINT_PAGES = 8000  # of 4 KiB: 32 MB of WAL between checkpoints
WAL_KEEP_BYTES = 64 * 2**20  # the WAL file is cut back to this after a checkpoint
# The strongest reason wins when messages of one conversation arrived by different routes.
_ORIGIN_RANK = {Origin.MENTION: 4, Origin.HASHTAG: 3, Origin.SEARCH: 2, Origin.CONTEXT: 1, Origin.OURS: 0}

# An outbox row is not held back by an earlier reply of its conversation that is still on its way.
_NOT_BEHIND_AN_EARLIER_REPLY = (
    "NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.conversation_id = outbox.conversation_id"
    " AND earlier.id < outbox.id AND earlier.kind = 'reply' AND outbox.kind = 'reply'"
    " AND earlier.state IN ('queued', 'sending', 'unknown'))"
)

SortKey = tuple[int, ...]
_MESSAGE_SQL = (
    "SELECT m.*, a.remote_id AS author_remote_id, a.handle, a.display_name, a.url AS author_url"
    " FROM messages m JOIN authors a ON a.id = m.author_id"
)


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of a query of one row at most (see `_all`)."""
    rows = await _all(db, sql, params)
    return rows[0] if rows else None


async def _all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row, in one hop to the connection's thread (execute, fetch and close were three),
    with the statement run to its end: an open one would pin a stale read snapshot."""
    return list(await db.execute_fetchall(sql, params))


async def _many(db: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`executemany`, skipped when there is nothing to write (each call is a hop to the thread)."""
    if rows:
        await db.executemany(sql, rows)


class StoreError(Exception):
    """The store cannot be used; the message says why and what to do."""


class StoreTooNew(StoreError):
    """The database was written by a newer ecoinbox: it is refused, not touched."""


class StoreDamaged(StoreError):
    """The file is damaged (truncated, a broken page, not a database at all).

    ecoinbox never writes to it, never deletes it: the message says how to recover it.
    """

    def __init__(self, path: Path, detail: str, *, not_sqlite: bool = False) -> None:
        self.path = path
        self.detail = detail
        super().__init__(damaged_message(path, detail, not_sqlite=not_sqlite))


class StoreNotWritable(StoreError):
    """A change could not be saved. What was saved before is intact; this change is not in it."""


class StoreFull(StoreNotWritable):
    """No room to write: a full disk, a quota, a file size limit (or a failing disk: SQLite's
    write errors do not tell them apart)."""


class StoreReadOnly(StoreNotWritable):
    """The file or its folder cannot be written, or the store was opened read-only on purpose."""


def damaged_message(path: Path, detail: str, *, not_sqlite: bool = False) -> str:
    """What a damaged store means and how to get its contents back, in one paragraph."""
    quoted = shlex.quote(str(path))
    restored = shlex.quote(str(path.with_name(f"{path.stem}-restored{path.suffix}")))
    what = (
        f"is not a SQLite database ({detail}): it is damaged, or [store] path names another program's file"
        if not_sqlite
        else f"is damaged ({detail})"
    )
    return (
        f"The store {path} {what}. ecoinbox will not write to it and never deletes "
        f'it. To recover what it holds, close every ecoinbox and run: sqlite3 {quoted} ".recover" '
        f"| sqlite3 {restored} then set [store] path to the restored file (or move the damaged one "
        f"aside and the restored one into its place). ecoinbox keeps no backups of its own: if you "
        f"copy this file elsewhere (a backup tool, a snapshot), restoring that copy works too."
    )


# SQLite's primary result codes (the low byte of `sqlite_errorcode`) that the environment causes.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_IOERR_READ, _IOERR_SHORT_READ, _READONLY_DIRECTORY = 266, 522, 1544


def _in_words(exc: sqlite3.Error, path: Path) -> StoreError | None:
    """The StoreError a manager can act on for what SQLite said, or None for our own bugs."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary in (_CORRUPT, _NOTADB) or code == _IOERR_SHORT_READ:
        return StoreDamaged(path, str(exc), not_sqlite=primary == _NOTADB)
    if primary == _FULL or (primary == _IOERR and code != _IOERR_READ):
        return StoreFull(
            f"Could not save to {path}: the disk is full, or a quota or file size limit was reached, "
            f"or the disk is failing ({exc}). Free some space and check the disk; everything saved "
            f"before is intact, only the last change was not saved."
        )
    if primary == _READONLY:
        where = f"the folder {path.parent}" if code == _READONLY_DIRECTORY else f"the file {path}"
        return StoreReadOnly(
            f"Could not save to {path}: {where} is read-only ({exc}). ecoinbox needs to write the "
            f"store and its journal files ({path.name}-wal, {path.name}-shm) there: make it "
            f"writable (chmod u+w), or set [store] path in the config to a writable place."
        )
    if primary == _CANTOPEN:
        return StoreReadOnly(
            f"Cannot open {path} ({exc}): check that {path.parent} exists and that you may read and "
            f"write in it, or set [store] path in the config to another place."
        )
    if primary in (_BUSY, _LOCKED):
        return StoreError(
            f"The store {path} stayed busy for more than {BUSY_TIMEOUT_S:.0f} s: another program "
            f"holds it ({exc}). Try again; if it lasts, look for a stuck process using it."
        )
    if primary == _IOERR:
        return StoreError(
            f"Could not read {path} ({exc}): the disk may be failing. Copy the file somewhere safe "
            f"before anything else."
        )
    return None


def _undecodable(exc: UnicodeDecodeError, path: Path) -> StoreDamaged:
    """What SQLite read was not UTF-8: ecoinbox writes only UTF-8, so a page of the file is
    broken (sqlite3 fails to decode the text, or its own error quoting a broken schema page)."""
    said = bytes(exc.object[:200]) if isinstance(exc.object, bytes | bytearray) else b""
    what = (
        "the list of its tables (its schema) is unreadable"
        if said.startswith(b"malformed database schema")
        else "some of its text is not UTF-8"
    )
    return StoreDamaged(path, f"{what}: {said.decode('utf-8', 'replace')!r}" if said else what)


def _errors_in_words(cls: type) -> type:
    """Make every public coroutine of `cls` raise StoreError subclasses instead of sqlite3's.

    One place instead of a try in each method (and methods added later get it too).
    """
    for name in dir(cls):  # its mixins' methods too
        member = inspect.getattr_static(cls, name)
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translating(member))
    return cls


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def translated(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = _in_words(exc, self.path)
            if error is None:
                raise
            raise error from exc
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, self.path) from exc

    return translated


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
    urgent: set[int] = field(default_factory=set)  # new high-priority conversations (not muted, not spam)
    spam: set[int] = field(default_factory=set)  # conversations that triage sent to Spam


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise StoreReadOnly(
            f"Cannot create the store {path}: {exc.strerror}. Make {path.parent} writable, or set "
            f"[store] path in the config to a place where you may write."
        ) from exc
    os.close(fd)


@_errors_in_words
class SQLiteStore(StatesStore, TriageStore, ContactsMixin, OutboxViewStore, DraftsStore):
    """Conversations, messages, authors, cursors, outbox and history in one SQLite file.

    `read_only=True` opens an existing store without ever writing to it (not even its journal
    mode): for a damaged file or a read-only folder, so the manager can still read. Every write
    then raises StoreReadOnly, as it does after `refuse_writes`.
    """

    def __init__(
        self, path: Path, *, clock: Callable[[], datetime] | None = None, read_only: bool = False
    ) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._listeners: list[Callable[[Change], None]] = []
        self._write_lock = asyncio.Lock()
        self._read_only = read_only
        self._refusal: str | None = None
        self._known_version = 0
        self._external_changes = 0

    def now(self) -> datetime:
        """The store's clock (leases and outbox times are measured by it)."""
        return self._clock()

    # ---- lifetime -------------------------------------------------------------------------

    async def open(self) -> SQLiteStore:
        if self._read_only:
            return await self._open_read_only()
        if not self.path.exists():
            _create_private(self.path)
        elif self.path.stat().st_size == 0 and not _has_wal(self.path):
            # SQLite's own reading: an empty file is an empty database. Nothing in it can be lost
            # or recovered, and our own first start leaves one if it is cut short (a full disk).
            log.warning("the store %s was an empty file: starting a new store in it", self.path)
        try:
            self._writer = await self._connect()
            await self._migrate()
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only = ON")
            self._known_version = await self._content_version()
        except BaseException:
            await self.close()
            raise
        return self

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        conn.row_factory = sqlite3.Row
        try:
            # Refuse a foreign or newer file before the journal mode is set: that is a write.
            await self._check_identity(conn)
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoints (each syncs the disk twice) after 32 MB of WAL, not SQLite's 4 MB: ingest
            # at 1M messages spent a third of its time in them. NORMAL may lose the last commits on
            # a power cut either way; a lost ingest loses its cursor with it (the next poll fetches
            # it again), and the outbox's FULL commits sync everything before them.
            await conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            await conn.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
            await conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _open_read_only(self) -> SQLiteStore:
        if not self.path.exists():
            raise StoreError(f"There is no store at {self.path}.")
        conn = await self._connect_read_only(self.path.resolve().as_uri() + "?mode=ro")
        try:
            version = await self._check_identity(conn)
            await _one(conn, "SELECT count(*) FROM sqlite_master")  # no table reads without the schema
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} holds an older ecoinbox store (schema {version}) that must be "
                    f"upgraded before it can be read, and a read-only store cannot be upgraded."
                )
        except BaseException:
            await conn.close()
            raise
        self._reader = conn
        self._refusal = self._refusal or f"the store {self.path} was opened read-only"
        return self

    async def _connect_read_only(self, uri: str) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            await conn.execute("PRAGMA query_only = ON")
            await _one(conn, "PRAGMA schema_version")  # the first read opens the file for real
        except sqlite3.OperationalError as exc:
            await conn.close()
            code = getattr(exc, "sqlite_errorcode", None)
            if code != _READONLY_DIRECTORY or _has_wal(self.path) or "immutable" in uri:
                raise
            # WAL needs its index file beside the store; in a read-only folder with no WAL left
            # to replay, the file alone is the whole database and nobody can be writing to it.
            return await self._connect_read_only(uri + "&immutable=1")
        except BaseException:
            await conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return conn

    async def _check_identity(self, db: aiosqlite.Connection) -> int:
        """The file's schema version, once it is known to be ours and not newer than us."""
        app_id = (await _one(db, "PRAGMA application_id"))[0]
        version = (await _one(db, "PRAGMA user_version"))[0]
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{self.path} is not an ecoinbox database; refusing to touch it")
        if version > SCHEMA_VERSION:
            raise StoreTooNew(
                f"{self.path} was written by a newer ecoinbox (store schema {version}); this is "
                f"ecoinbox {__version__}, which reads schema {SCHEMA_VERSION} at most. Upgrade "
                f"ecoinbox (for example: pip install --upgrade ecoinbox) and start it again. The "
                f"file was not modified."
            )
        return int(version)

    async def _migrate(self) -> None:
        async with self._write(quiet=True) as db:
            # Again inside the transaction: another ecoinbox may have migrated meanwhile.
            version = await self._check_identity(db)
            for script in MIGRATIONS[version:]:
                for statement in split_sql(script):
                    await db.execute(statement)
            if version < SCHEMA_VERSION:
                await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    async def close(self) -> None:
        self._stop_triage()
        # aiosqlite's thread is not a daemon: an unclosed connection hangs interpreter exit.
        for conn in (self._reader, self._writer):
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):  # a full disk can fail the last checkpoint
                    await conn.close()
        self._reader = self._writer = None

    # ---- soundness -------------------------------------------------------------------------

    async def check_integrity(self) -> list[str]:
        """SQLite's quick check of the whole file: what is wrong with it, [] when it is sound.

        It reads every page (measured: 0.1-0.2 s per 100 MB from the page cache, about 2 s per
        100 MB from a cold disk), so the inbox runs it in the background rather than make every
        start wait; it uses a read-only connection of its own so the inbox keeps reading meanwhile.
        Raises StoreTooNew for a store a newer ecoinbox wrote: its pages may be sound, but this
        version cannot read it.
        """
        try:
            checker = await self._connect_read_only(self.path.resolve().as_uri() + "?mode=ro")
            try:
                await self._check_identity(checker)  # a newer ecoinbox's store is not ours to judge
                rows = await _all(checker, "PRAGMA quick_check")
            except asyncio.CancelledError:
                await checker.interrupt()  # the manager quit: the check must not hold up the exit
                raise
            finally:
                await checker.close()
        except sqlite3.DatabaseError as exc:
            error = _in_words(exc, self.path)
            if isinstance(error, StoreDamaged):  # so damaged the check itself could not go on
                return [error.detail]
            raise
        except UnicodeDecodeError as exc:
            return [_undecodable(exc, self.path).detail]
        problems = [str(row[0]) for row in rows]
        return [] if problems == ["ok"] else problems

    @property
    def read_only_reason(self) -> str | None:
        """Why writes are refused (opened read-only, or `refuse_writes`); None if they are not."""
        return self._refusal

    def refuse_writes(self, reason: str) -> None:
        """From now on every write raises StoreReadOnly(reason): e.g. the file proved damaged.

        Listeners hear a "read-only" change, so the inbox can say so at once.
        """
        self._refusal = reason
        self._notify(Change("read-only"))

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

    async def external_version(self) -> int:
        """A number that moves when another process has changed the content: cheap to poll,
        and each caller compares it with the last value it saw. Lease renewals and this
        process's own writes do not move it."""
        version = await self._content_version()
        if version != self._known_version:
            self._known_version = version
            self._external_changes += 1
        return self._external_changes

    async def _content_version(self) -> int:
        row = await _one(self._read(), "SELECT version FROM content_version")
        return int(row[0]) if row else 0

    # ---- transactions ----------------------------------------------------------------------

    def _read(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StoreError("the store is closed")
        return self._reader

    @asynccontextmanager
    async def _write(
        self, *, durable: bool = False, quiet: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction. Unless `quiet` (bookkeeping no reader cares about), it moves
        the content version that other processes' inboxes watch."""
        if self._refusal is not None:
            raise StoreReadOnly(f"Nothing can be changed: {self._refusal}.")
        db = self._writer
        if db is None:
            raise StoreError("the store is closed")
        # One writer connection is shared by the engine's tasks and the TUI: one transaction at a time.
        async with self._write_lock, self._transaction(db, durable=durable) as conn:
            yield conn
            if not quiet:
                row = await _one(
                    conn, "UPDATE content_version SET version = version + 1 RETURNING version"
                )
                version = int(row[0]) if row else 0
                if self._known_version == version - 1:
                    self._known_version = version  # nobody else wrote in between

    @asynccontextmanager
    async def _transaction(
        self, db: aiosqlite.Connection, *, durable: bool
    ) -> AsyncIterator[aiosqlite.Connection]:
        if durable:
            await db.execute("PRAGMA synchronous = FULL")
        try:
            await db.execute("BEGIN IMMEDIATE")
            yield db
            await db.execute("COMMIT")
        except BaseException:
            # Roll back whatever is still open, without asking: after a full disk or an I/O error
            # SQLite may have rolled back already, and a BEGIN whose await was cancelled still
            # runs on the connection's thread (its calls run in order: this comes after it). The
            # first error is the one reported, never "no transaction is active".
            with contextlib.suppress(sqlite3.Error):
                await db.execute("ROLLBACK")
            raise
        finally:
            if durable:
                with contextlib.suppress(sqlite3.Error):  # never in place of the error above
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
        plan = await self._triage_plan(messages)  # off the event loop, before the write
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
            self._notify(Change("ingest", frozenset(result.conversation_ids)))
        if result.urgent:
            self._notify(Change("urgent", frozenset(result.urgent)))
        return result

    async def _ingest_batch(
        self,
        db: aiosqlite.Connection,
        messages: Sequence[Message],
        result: IngestResult,
        plan: TriagePlan | None = None,
    ) -> None:
        """Store `messages` as if one by one, in a fixed number of statements per batch.

        Every await is a hop to the connection's thread (about 0.1-0.2 ms here): five per
        message capped ingest near 1,000 messages a second. So the rows a batch touches are
        read in a few queries, each message is applied in order to those rows in memory (the
        same rules as before: threading, edits, summaries, reopening), and the result is
        written with one `executemany` per kind of row. The rows come out identical, ids
        included: a new row takes max(id) + 1, as SQLite would give it.
        """
        if not messages:
            return
        author_ids = await self._upsert_authors(db, messages)
        triage = TriageBatch(started=to_ms(self._clock())) if plan is not None else None
        fresh_ids: set[int] = set()
        triaged: set[int] = set()
        keys = {(m.channel, m.remote_id) for m in messages}
        keys |= {(m.channel, m.in_reply_to) for m in messages if m.in_reply_to}
        known = await self._known_messages(db, keys)
        summaries = await self._summaries(db, {row.conversation_id for row in known.values()})
        top = await _one(db, "SELECT (SELECT max(id) FROM messages), (SELECT max(id) FROM conversations)")
        next_message, next_conversation = (top[0] or 0) + 1, (top[1] or 0) + 1
        new_conversations: list[int] = []
        inserts: list[tuple[Any, ...]] = []
        edits: list[tuple[Any, ...]] = []
        deletions: list[tuple[int]] = []
        held_changes: list[tuple[int, int]] = []
        reopened: list[tuple[Any, ...]] = []
        for message in messages:
            author_id = author_ids[(message.channel, message.author.remote_id)]
            row = known.get((message.channel, message.remote_id))
            if row is not None:
                if _apply_edit(row, message, edits, deletions, held_changes):
                    result.updated += 1
                    result.conversation_ids.add(row.conversation_id)
                    if message.deleted:
                        summaries[row.conversation_id].withdrawn(row.created_at)
                continue
            parent = known.get((message.channel, message.in_reply_to)) if message.in_reply_to else None
            created = to_ms(message.created_at)
            if parent is not None:
                conversation_id = parent.conversation_id
            else:
                conversation_id, next_conversation = next_conversation, next_conversation + 1
                summaries[conversation_id] = _Summary.new(message, created)
                new_conversations.append(conversation_id)
                fresh_ids.add(conversation_id)
            edited = to_ms(message.edited_at) if message.edited_at else None
            known[(message.channel, message.remote_id)] = _KnownMessage(
                next_message,
                conversation_id,
                message.text,
                edited,
                int(message.deleted),
                int(message.held),
                created,
            )
            inserts.append((
                next_message, message.channel, message.remote_id, conversation_id, message.in_reply_to,
                author_id, message.text, message.spoiler, "\n".join(message.links), created, edited,
                int(message.deleted), message.url, message.visibility, message.language, message.origin.value,
                message.title, message.thread_ref, int(message.hidden_characters),
                "\n".join(message.mentions), int(message.held),
            ))  # fmt: skip
            next_message += 1
            summary = summaries[conversation_id]
            answered = not summary.needs_reply  # the brand spoke last (or nobody yet)
            if (moved := summary.add(message, author_id, created, self._clock)) is not None:
                at = to_ms(self._clock())
                old, new = moved
                if new == State.OPEN.value:
                    reopened.append((conversation_id, at, "system", "reopened", old, new))
                    result.reopened.add(conversation_id)
                else:
                    reopened.append((conversation_id, at, "system", "state", old, f"{new} (we replied)"))
            if triage is not None and plan is not None and not message.is_ours:
                # The first message from outside of a conversation this batch starts (its root may
                # be the brand's own post) decides whether the conversation is spam.
                starts = conversation_id in fresh_ids and conversation_id not in triaged
                triaged.add(conversation_id)
                self._triage_message(
                    triage, message, author_id, conversation_id, summary, new_conversation=starts,
                    verdict=plan.verdict(message), newest=summary.last_activity == created, answered=answered,
                )  # fmt: skip
            result.new += 1
            result.conversation_ids.add(conversation_id)
        columns = _Summary.COLUMNS
        await _many(
            db,
            f"INSERT INTO conversations (id, channel, root_remote_id, {', '.join(columns)})"
            f" VALUES (?, ?, ?, {', '.join('?' * len(columns))})",
            [
                (c, summaries[c].channel, summaries[c].root_remote_id, *summaries[c].values())
                for c in new_conversations
            ],  # fmt: skip
        )
        await _many(
            db,
            "INSERT INTO messages (id, channel, remote_id, conversation_id, parent_remote_id, author_id,"
            " text, spoiler, links, created_at, edited_at, deleted, url, visibility, language, origin,"
            " title, thread_ref, hidden_characters, mentions, held)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            inserts,
        )
        # Rows from before this batch leave the index with their old words, then come back with
        # the new ones; this batch's own rows are indexed once, as they end up.
        first_new = inserts[0][0] if inserts else None
        edited_ids = sorted({edit[-1] for edit in edits if first_new is None or edit[-1] < first_new})
        await self._unindex(db, edited_ids)
        await _many(
            db,
            "UPDATE messages SET text = ?, spoiler = ?, links = ?, edited_at = ?, hidden_characters = ?"
            " WHERE id = ?",
            edits,
        )
        if first_new is not None:
            await db.execute(
                "INSERT INTO messages_fts (rowid, text, title) SELECT id, text, title FROM messages WHERE id >= ?",
                (first_new,),
            )
        await self._index(db, edited_ids)
        await _many(db, "UPDATE messages SET deleted = 1 WHERE id = ?", deletions)
        await _many(db, "UPDATE messages SET held = ? WHERE id = ?", held_changes)
        fresh = set(new_conversations)
        changed = [(*s.values(), c) for c, s in summaries.items() if s.changed and c not in fresh]
        await _many(
            db, f"UPDATE conversations SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", changed
        )
        await _many(
            db,
            "INSERT INTO history (conversation_id, at, actor, action, old_value, new_value)"
            " VALUES (?,?,?,?,?,?)",
            reopened,
        )
        if triage is not None:
            await self._triage_finish(db, triage)
            result.urgent |= triage.urgent
            result.spam |= triage.spam

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
    ) -> dict[tuple[str, str], _KnownMessage]:
        rows = await self._by_key(
            db,
            "messages",
            "id, t.conversation_id, t.text, t.edited_at, t.deleted, t.held, t.created_at",
            keys,
        )
        return {(r[0], r[1]): _KnownMessage(r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows}

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
            rows += await _all(
                db,
                f"SELECT t.channel, t.remote_id, t.{columns} FROM (VALUES {values}) AS k"
                f" CROSS JOIN {table} t ON t.channel = k.column1 AND t.remote_id = k.column2",
                [part for pair in chunk for part in pair],
            )
        return rows

    async def _summaries(self, db: aiosqlite.Connection, ids: set[int]) -> dict[int, _Summary]:
        found: dict[int, _Summary] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = await _all(
                db,
                f"SELECT id, channel, root_remote_id, {', '.join(_Summary.COLUMNS)} FROM conversations"
                f" WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row["id"]] = _Summary.from_row(row)
        return found

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
        " c.message_count, c.origin, c.language, c.reason, c.priority, c.priority_reason, c.muted,"
        " a.display_name, a.handle, c.snoozed_until, c.assignee, c.tags,"
        # Both through small partial indexes: a row costs one probe each, whatever its length.
        " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.visibility = 'direct')"
        " AS direct,"
        " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.held = 1) AS held,"
        # The drafts' primary key starts with the conversation: one probe too.
        " EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = c.id) AS draft,"
        " c.subject"
        " FROM conversations c LEFT JOIN authors a ON a.id = c.author_id"
    )
    _DESC = " ORDER BY c.needs_reply DESC, c.priority DESC, c.last_activity DESC, c.id DESC"
    _ASC = " ORDER BY c.needs_reply ASC, c.priority ASC, c.last_activity ASC, c.id ASC"
    _KEY = "(c.needs_reply, c.priority, c.last_activity, c.id)"

    async def count_conversations(self, view: View) -> int:
        where, params = self._view_where(view)
        row = await _one(self._read(), "SELECT count(*) FROM conversations c WHERE " + where, params)
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
        condition, params = self._view_where(view)
        where = " WHERE " + condition
        if before is not None:
            sql = self._ROW_SQL + where + f" AND {self._KEY} > (?, ?, ?, ?)"
            rows = await self._rows(sql + self._ASC + " LIMIT ?", (*params, *before, limit))
            return rows[::-1]
        if after is not None:
            where += f" AND {self._KEY} < (?, ?, ?, ?)"
            params.extend(after)
        return await self._rows(self._ROW_SQL + where + self._DESC + " LIMIT ?", (*params, limit))

    async def conversation_page_last(self, view: View, limit: int = 100) -> list[ConversationRow]:
        """The last `limit` rows of the view, in display order (for `G`, without a deep OFFSET)."""
        where, params = self._view_where(view)
        sql = self._ROW_SQL + " WHERE " + where + self._ASC + " LIMIT ?"
        return (await self._rows(sql, (*params, limit)))[::-1]

    async def conversation_page_at(self, view: View, offset: int, limit: int = 100) -> list[ConversationRow]:
        """A page by position (OFFSET): only for jumps that no cached neighbour page can anchor."""
        where, params = self._view_where(view)
        sql = self._ROW_SQL + " WHERE " + where + self._DESC + " LIMIT ? OFFSET ?"
        return await self._rows(sql, (*params, limit, offset))

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
        sql, params = _search_sql(query)
        found: dict[int, str] = {}
        cursor = before_message if before_message is not None else 2**62
        # One match per conversation needs `limit` matches; a chatty one needs more: the chunk
        # grows, so a rare filter does not scan for 4x the matches a page needs.
        chunk = limit + 10
        db = self._read()
        skip_spam = not query.includes_spam
        while len(found) < limit:
            hits = await _all(db, sql, (*params, cursor, chunk))
            spam = await self._spam_among({hit["conversation_id"] for hit in hits}) if skip_spam else set()
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
        rows = {r.id: r for r in await self._rows(self._ROW_SQL + f" WHERE c.id IN ({marks})", tuple(found))}
        spans = query.highlighter()
        page = [
            replace(rows[c], snippet=_snippet_around(text, spans)) for c, text in found.items() if c in rows
        ]
        return page, cursor

    async def _spam_among(self, conversation_ids: set[int]) -> set[int]:
        """Which of these conversations are spam (a search leaves them out unless is:spam)."""
        if not conversation_ids:
            return set()
        marks = ",".join("?" * len(conversation_ids))
        rows = await _all(
            self._read(),
            f"SELECT id FROM conversations WHERE state = 'spam' AND id IN ({marks})",
            tuple(conversation_ids),
        )
        return {row["id"] for row in rows}

    async def conversation_row(self, conversation_id: int) -> ConversationRow | None:
        rows = await self._rows(self._ROW_SQL + " WHERE c.id = ?", (conversation_id,))
        return rows[0] if rows else None

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[ConversationRow]:
        fetched = await _all(self._read(), sql, params)
        return [_conversation_row(row) for row in fetched]

    async def conversation(self, conversation_id: int, *, with_linked: bool = True) -> Conversation | None:
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
            "SELECT * FROM outbox WHERE conversation_id = ? AND state NOT IN (?, ?) ORDER BY id",
            (conversation_id, OutboxState.SENT.value, OutboxState.DISCARDED.value),
        )
        linked: list[Conversation] = []
        if with_linked:
            links = await _all(
                self._read(),
                "SELECT linked_id FROM conversation_links WHERE conversation_id = ?"
                " UNION SELECT conversation_id FROM conversation_links WHERE linked_id = ?",
                (conversation_id, conversation_id),
            )
            for link in links:
                other = await self.conversation(link[0], with_linked=False)
                if other is not None:
                    linked.append(other)
        notes = await self.notes(conversation_id)
        rule_notes = await self._triage_notes(conversation_id)
        return Conversation(
            row=row, messages=messages, outbox=outbox, linked=linked, notes=notes, triage_notes=rule_notes
        )

    async def recent_inbound(self, channel: str, since: datetime, limit: int) -> list[Message]:
        """The newest messages people wrote on `channel` since `since`, not known deleted, in
        conversations still being dealt with (open, pending, snoozed): what is worth checking
        for a deletion the platform does not announce."""
        fetched = await _all(
            self._read(),
            _MESSAGE_SQL + " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.channel = ? AND m.created_at >= ? AND m.deleted = 0 AND m.origin != ?"
            " AND c.state IN (?, ?, ?) ORDER BY m.created_at DESC LIMIT ?",
            (channel, to_ms(since), Origin.OURS.value, State.OPEN.value, State.PENDING.value,
             State.SNOOZED.value, limit),
        )  # fmt: skip
        return [_message(r) for r in fetched]

    async def message(self, channel: str, remote_id: str) -> Message | None:
        record = await _one(
            self._read(), _MESSAGE_SQL + " WHERE m.channel = ? AND m.remote_id = ?", (channel, remote_id)
        )
        return None if record is None else _message(record)

    # ---- triage ----------------------------------------------------------------------------

    async def set_state(
        self, conversation_ids: Sequence[int], state: State, *, actor: str = "manager", reason: str = ""
    ) -> list[StateChange]:
        """Move conversations to `state`; returns what changed, so the caller can undo it."""
        async with self._write() as db:
            changes = [
                change
                for conversation_id in conversation_ids
                if (change := await self._set_state(db, conversation_id, state, actor, reason)) is not None
            ]
        if changes:
            self._notify(Change("state", frozenset(c.conversation_id for c in changes)))
        return changes

    async def _set_state(
        self, db: aiosqlite.Connection, conversation_id: int, state: State, actor: str, reason: str
    ) -> StateChange | None:
        row = await _one(db, "SELECT state, reason FROM conversations WHERE id = ?", (conversation_id,))
        if row is None or (row["state"] == state.value and row["reason"] == reason):
            return None
        old = State(row["state"])
        await db.execute(
            "UPDATE conversations SET state = ?, reason = ?, snoozed_until = NULL, state_changed_at = ?"
            " WHERE id = ?",
            (state.value, reason, to_ms(self._clock()), conversation_id),
        )
        label = f"{state.value} ({reason})" if reason else state.value
        await self._record(db, conversation_id, actor, "state", old.value, label)
        await self._learn_from_state(db, conversation_id, old, state, actor)
        return StateChange(conversation_id, old, state)

    async def history(self, conversation_id: int) -> list[tuple[datetime, str, str, str | None, str | None]]:
        fetched = await _all(
            self._read(),
            "SELECT at, actor, action, old_value, new_value FROM history"
            " WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [(from_ms(r[0]), r[1], r[2], r[3], r[4]) for r in fetched]  # type: ignore[misc]

    async def purge_deleted(self, after: timedelta) -> int:
        """Forget the text of posts seen deleted on their platform `after` ago or more; start the
        clock for those newly seen deleted. Returns how many were purged."""
        now = to_ms(self._clock())
        async with self._write() as db:
            await db.execute(
                "UPDATE messages SET deleted_at = ? WHERE deleted = 1 AND deleted_at IS NULL", (now,)
            )
            due = [int(r[0]) for r in await _all(
                db, "SELECT id FROM messages WHERE deleted = 1 AND deleted_at <= ? AND text != ''",
                (now - int(after.total_seconds() * 1000),),
            )]  # fmt: skip
            await self._unindex(db, due)
            await _many(
                db,
                "UPDATE messages SET text = '', spoiler = '', links = '' WHERE id = ?",
                [(i,) for i in due],
            )
            await self._index(db, due)
        return len(due)

    # ---- outbox ----------------------------------------------------------------------------

    async def queue_reply(
        self,
        conversation_id: int,
        parent: Message,
        text: str,
        *,
        visibility: str | None = None,
        language: str | None = None,
        canned: Sequence[str] = (),
        link: str | None = None,
        approve_parent: bool = False,
        actor: str = "manager",
        hold: float = 0.0,
        draft: DraftKind | None = None,
        to: Sequence[str] = (),
        cc: Sequence[str] = (),
        subject: str | None = None,
        wider: bool = False,
    ) -> OutboxItem:
        """Write a reply before the network is touched; the engine's sender takes it from here.

        `approve_parent`: the parent is held for moderation; approve it before replying.
        `actor`: who wrote it, for the history. `hold`: seconds the sender leaves it alone, so
        that the manager can still take it back (`withdraw_reply`). `draft`: the kind of draft
        this reply was typed in, dropped in the same commit. `to`, `cc`, `subject`: a mail's
        headers as the manager set them. `wider`: the manager confirmed `visibility` though it is
        more public than the parent's."""
        if hold < 0:
            raise ValueError("a reply cannot be held for a negative time")
        async with self._write(durable=True) as db:
            record = await self._insert_outbox(
                db, conversation_id, kind="reply", channel=parent.channel, parent_remote_id=parent.remote_id,
                text=text, visibility=visibility, language=language, canned=canned, link=link,
                approve_parent=int(approve_parent), hold_ms=int(hold * 1000), to_addresses="\n".join(to),
                cc_addresses="\n".join(cc), subject=subject, wider=int(wider),
            )  # fmt: skip
            await self._record(db, conversation_id, actor, "reply queued", None, str(record["id"]))
            if draft is not None:
                await delete_draft_in(db, conversation_id, draft)
        self._notify(Change("outbox", frozenset({conversation_id})))
        return _outbox_item(record)

    async def withdraw_reply(self, item_id: int, *, actor: str = "manager") -> OutboxItem | None:
        """Take back a reply no sender has touched (queued, never attempted, under no lease): it is
        discarded, and returned so that its text can be edited again. None when a sender took it
        first (it is being sent, or was): one statement decides, so it never races a claim.

        A forum topic is taken back with the reply waiting for it (which no sender can take
        before the topic is sent), in the same transaction."""
        async with self._write(durable=True) as db:
            row = await _one(
                db,
                "UPDATE outbox SET state = ?, error = 'taken back before it was sent'"
                " WHERE id = ? AND depends_on IS NULL AND state = ? AND attempts = 0 AND lease_owner IS NULL"
                " RETURNING *",
                (OutboxState.DISCARDED.value, item_id, OutboxState.QUEUED.value),
            )
            if row is None:
                return None
            if row["kind"] == "topic":
                await db.execute(
                    "UPDATE outbox SET state = ?, error = 'taken back before it was sent'"
                    " WHERE depends_on = ? AND state = ?",
                    (OutboxState.DISCARDED.value, item_id, OutboxState.QUEUED.value),
                )
            what = f"{row['kind']} taken back"
            await self._record(db, row["conversation_id"], actor, what, None, str(item_id))
        item = _outbox_item(row)
        self._notify(Change("outbox", frozenset({item.conversation_id})))
        return item

    async def queue_redirect_topic(
        self,
        conversation_id: int,
        *,
        forum_channel: str,
        title: str,
        body: str,
        category: str | None,
        parent: Message,
        reply_text: str,
        visibility: str | None = None,
        language: str | None = None,
        canned: Sequence[str] = (),
        actor: str = "manager",
        hold: float = 0.0,
    ) -> tuple[OutboxItem, OutboxItem]:
        """A new forum topic and the reply pointing to it, queued in one commit.

        The reply's text keeps `{topic_url}` (and `{topic_title}`) until the topic exists; it is
        not sent before. The conversation is done, redirected, from now on. `hold`: seconds the
        sender leaves the topic alone (`withdraw_reply` takes both back meanwhile).
        """
        async with self._write(durable=True) as db:
            topic = await self._insert_outbox(
                db, conversation_id, kind="topic", channel=forum_channel, parent_remote_id="",
                text=body, title=title, category=category, language=language, hold_ms=int(hold * 1000),
            )  # fmt: skip
            reply = await self._insert_outbox(
                db, conversation_id, kind="reply", channel=parent.channel, parent_remote_id=parent.remote_id,
                text=reply_text, visibility=visibility, language=language, canned=canned,
                depends_on=topic["id"],
            )  # fmt: skip
            await self._record(db, conversation_id, actor, "forum topic queued", None, title)
            await delete_draft_in(db, conversation_id, DraftKind.TOPIC)
            await self._set_state(db, conversation_id, State.DONE, actor, "redirected")
        self._notify(Change("outbox", frozenset({conversation_id})))
        return _outbox_item(topic), _outbox_item(reply)

    async def _insert_outbox(
        self, db: aiosqlite.Connection, conversation_id: int, **values: Any
    ) -> sqlite3.Row:
        now = to_ms(self._clock())
        values["canned"] = " ".join(values.get("canned") or ())
        hold_ms = values.pop("hold_ms", 0)
        values.update(
            conversation_id=conversation_id, idempotency_key=uuid.uuid4().hex,
            state=OutboxState.QUEUED.value, created_at=now, next_attempt_at=now + hold_ms,
        )  # fmt: skip
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        row = await _one(
            db, f"INSERT INTO outbox ({columns}) VALUES ({marks}) RETURNING *", tuple(values.values())
        )
        assert row is not None
        return row

    async def claim_next_reply(
        self,
        owner: str,
        lease_seconds: float = 120.0,
        *,
        state: OutboxState = OutboxState.QUEUED,
        channels: Sequence[str] | None = None,
        fence: str | None = None,
        exclude: Sequence[str] = (),
    ) -> OutboxItem | None:
        """Take the oldest due item in `state` (of `channels`, if given; never of `exclude`)
        under a lease.

        QUEUED items are taken to be sent; UNKNOWN ones to be reconciled (the sender reads the
        thread before anything is resent). None when nothing is due, or when `fence` names a
        lease that `owner` does not hold (a sender that lost the engine lease sends nothing).
        A reply waits while an earlier one in its conversation is still on its way: replies go
        out in the order they were written, whatever their retry times.
        """
        now = to_ms(self._clock())
        where = "state = ? AND next_attempt_at <= ?"
        params: list[Any] = [state.value, now]
        if state is OutboxState.QUEUED:
            where += f" AND {_NOT_BEHIND_AN_EARLIER_REPLY}"
        if channels is not None:
            where += f" AND channel IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        if fence is not None:
            # Held means named as the owner: past its expiry it is still ours until taken.
            where += " AND EXISTS (SELECT 1 FROM leases WHERE name = ? AND owner = ?)"
            params.extend((fence, owner))
        if exclude:
            where += f" AND channel NOT IN ({','.join('?' * len(exclude))})"
            params.extend(exclude)
        async with self._write(durable=True) as db:
            record = await _one(
                db,
                f"SELECT id FROM outbox WHERE {where}"
                " AND (depends_on IS NULL OR depends_on IN (SELECT id FROM outbox WHERE state = 'sent'))"
                " ORDER BY next_attempt_at, id LIMIT 1",
                params,
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
                    state.value,
                ),
            )
        return None if claimed is None else _outbox_item(claimed)

    async def next_reply_due(
        self, exclude: Sequence[str] = (), read_back: Sequence[str] = ()
    ) -> datetime | None:
        """When the next queued reply (of a channel not in `exclude`), or the next uncertain one
        to read back (of a channel in `read_back`), is due; None if none is. A reply behind an
        earlier one of its conversation is not due."""
        sql = f"SELECT min(next_attempt_at) FROM outbox WHERE ((state = ? AND {_NOT_BEHIND_AN_EARLIER_REPLY})"
        params: list[Any] = [OutboxState.QUEUED.value]
        if read_back:
            sql += f" OR (state = ? AND channel IN ({','.join('?' * len(read_back))}))"
            params.extend((OutboxState.UNKNOWN.value, *read_back))
        sql += ")"
        if exclude:
            sql += f" AND channel NOT IN ({','.join('?' * len(exclude))})"
            params.extend(exclude)
        row = await _one(self._read(), sql, params)
        return from_ms(row[0])

    async def reply_sent(self, item: OutboxItem, sent: Message, *, topic_url: str | None = None) -> None:
        """Mark the item sent and put the platform's copy in its thread, in one commit.

        A sent topic becomes a forum conversation linked to the one it came from, and the reply
        waiting for it gets the topic's address.
        """
        result = IngestResult()
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, remote_id = ?, sent_at = ?, error = '',"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (OutboxState.SENT.value, sent.remote_id, to_ms(self._clock()), item.id),
            )
            await self._ingest_batch(db, [sent], result)
            if item.kind == "topic":
                await self._topic_created(db, item, sent, topic_url or sent.url or "")
            elif item.canned:
                await self._remember_canned_use(db, item)
            what = "forum topic created" if item.kind == "topic" else "reply sent"
            await self._record(db, item.conversation_id, "system", what, None, sent.remote_id)
        self._notify(Change("outbox", frozenset({item.conversation_id, *result.conversation_ids})))

    async def _topic_created(
        self, db: aiosqlite.Connection, item: OutboxItem, first_post: Message, url: str
    ) -> None:
        row = await _one(
            db, "SELECT conversation_id FROM messages WHERE channel = ? AND remote_id = ?",
            (first_post.channel, first_post.remote_id),
        )  # fmt: skip
        assert row is not None
        forum_id = int(row[0])
        await db.execute(
            "INSERT OR IGNORE INTO conversation_links (conversation_id, linked_id, kind, created_at)"
            " VALUES (?, ?, 'redirected', ?)",
            (item.conversation_id, forum_id, to_ms(self._clock())),
        )
        # Our own new topic needs no answer until someone writes in it (which reopens it). Its
        # row says what it is until someone answers: nothing inbound gave it a snippet yet.
        await self._set_state(db, forum_id, State.DONE, "system", TOPIC_REASON)
        await db.execute(
            "UPDATE conversations SET snippet = ? WHERE id = ? AND snippet = ''",
            (item.title[:SNIPPET_CHARS], forum_id),
        )
        for waiting in await _all(db, "SELECT id, text FROM outbox WHERE depends_on = ?", (item.id,)):
            text = waiting["text"].replace("{topic_url}", url).replace("{topic_title}", item.title)
            await db.execute("UPDATE outbox SET text = ?, link = ? WHERE id = ?", (text, url, waiting["id"]))

    async def _remember_canned_use(self, db: aiosqlite.Connection, item: OutboxItem) -> None:
        said = await _all(
            db,
            "SELECT text FROM messages WHERE conversation_id = ? AND origin != 'ours'"
            " ORDER BY created_at DESC LIMIT 20",
            (item.conversation_id,),
        )
        context = " ".join(r["text"] for r in reversed(said))[:CONTEXT_CHARS]
        await db.execute(
            "INSERT INTO canned_uses (conversation_id, canned, link, context, at) VALUES (?,?,?,?,?)",
            (item.conversation_id, item.canned[0], item.link, context, to_ms(self._clock())),
        )

    async def link_uses(self, limit: int = 10_000) -> list[LinkUse]:
        """The most recent canned links sent, with what the person had said (newest first)."""
        rows = await _all(
            self._read(),
            "SELECT context, link, at, canned FROM canned_uses WHERE link IS NOT NULL ORDER BY at DESC LIMIT ?",
            (limit,),
        )
        return [LinkUse(r["context"], r["link"], from_ms(r["at"]), r["canned"]) for r in rows]  # type: ignore[arg-type]

    async def reply_retry(self, item: OutboxItem, error: str, at: datetime) -> None:
        """Put the reply back in the queue for `at`, keeping its idempotency key."""
        await self._outbox_update(item, OutboxState.QUEUED, error, next_attempt_at=to_ms(at))

    async def reply_held(
        self, item: OutboxItem, error: str, *, state: OutboxState = OutboxState.QUEUED
    ) -> None:
        """Give a claimed item back as it was (`state`), this attempt not counted: the platform
        refused the channel's token, so nothing was published and the item waits for a new one."""
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, error = ?, attempts = max(attempts - 1, 0),"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (state.value, error, item.id),
            )
        self._notify(Change("outbox", frozenset({item.conversation_id})))

    async def reply_failed(self, item: OutboxItem, error: str) -> None:
        await self._outbox_update(item, OutboxState.FAILED, error)

    async def reply_unknown(self, item: OutboxItem, error: str, *, check_at: datetime | None = None) -> None:
        """Uncertain: the sender checks again at `check_at` where the channel can reconcile."""
        at = None if check_at is None else to_ms(check_at)
        await self._outbox_update(item, OutboxState.UNKNOWN, error, next_attempt_at=at)

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
                await self._record(db, item.conversation_id, "system", f"{item.kind} {state}", None, error)
            if state is OutboxState.FAILED and item.kind == "topic":
                await db.execute(
                    "UPDATE outbox SET state = ?, error = ? WHERE depends_on = ? AND state = ?",
                    (OutboxState.FAILED.value, "not sent: the forum topic it points to could not be created",
                     item.id, OutboxState.QUEUED.value),
                )  # fmt: skip
        self._notify(Change("outbox", frozenset({item.conversation_id})))

    async def decide_reply(
        self, item_id: int, decision: ReplyDecision, *, actor: str = "manager"
    ) -> OutboxItem | None:
        """Apply the manager's decision to a failed or unknown reply; None if it is no longer
        either (the engine settled it meanwhile). A dropped topic drops the reply waiting for it."""
        now = to_ms(self._clock())
        settled = (OutboxState.FAILED.value, OutboxState.UNKNOWN.value)
        async with self._write(durable=True) as db:
            row = await _one(db, "SELECT * FROM outbox WHERE id = ? AND state IN (?, ?)", (item_id, *settled))
            if row is None:
                return None
            item = _outbox_item(row)
            if decision is ReplyDecision.RESEND:
                # The same idempotency key: if the platform still knows it, it answers with the original.
                await db.execute(
                    "UPDATE outbox SET state = ?, error = '', next_attempt_at = ? WHERE id = ?",
                    (OutboxState.QUEUED.value, now, item_id),
                )
            elif decision is ReplyDecision.MARK_SENT:
                if item.kind == "topic":
                    raise StoreError("a forum topic cannot be marked sent by hand: its address is needed")
                await db.execute(
                    "UPDATE outbox SET state = ?, error = '', sent_at = ? WHERE id = ?",
                    (OutboxState.SENT.value, now, item_id),
                )
            else:
                await db.execute(
                    "UPDATE outbox SET state = ? WHERE id = ? OR (depends_on = ? AND state != ?)",
                    (OutboxState.DISCARDED.value, item_id, item_id, OutboxState.SENT.value),
                )
            what = {ReplyDecision.RESEND: "send again", ReplyDecision.MARK_SENT: "marked sent",
                    ReplyDecision.DISCARD: "discarded"}[decision]  # fmt: skip
            await self._record(db, item.conversation_id, actor, f"{item.kind} {what}", item.state.value, None)
            updated = await _one(db, "SELECT * FROM outbox WHERE id = ?", (item_id,))
        self._notify(Change("outbox", frozenset({item.conversation_id})))
        return None if updated is None else _outbox_item(updated)

    async def orphaned_sends(self, owner: str) -> list[OutboxItem]:
        """Replies left 'sending' by another sender (one that died or lost the engine lease),
        or by `owner` itself past their lease: their outcome is uncertain."""
        return await self._outbox_rows(
            "SELECT * FROM outbox WHERE state = ? AND (lease_owner IS NOT ? OR lease_until < ?) ORDER BY id",
            (OutboxState.SENDING.value, owner, to_ms(self._clock())),
        )

    # ---- collisions: two managers answering the same person ---------------------------------

    async def reply_mark(self, conversation_id: int) -> ReplyMark:
        """Where the conversation's replies are now; `replies_since` compares against it."""
        db = self._read()
        message = await _one(db, "SELECT max(id) FROM messages WHERE conversation_id = ?", (conversation_id,))
        queued = await _one(db, "SELECT max(id) FROM outbox WHERE conversation_id = ?", (conversation_id,))
        return ReplyMark(int(message[0] or 0) if message else 0, int(queued[0] or 0) if queued else 0)

    async def replies_since(self, conversation_id: int, mark: ReplyMark) -> list[ConcurrentReply]:
        """Replies that entered the conversation after `mark`: queued here by another inbox, or
        posted on the platform by the brand's account (a teammate in the web app), oldest first."""
        db = self._read()
        queued = await _all(
            db,
            "SELECT text, created_at FROM outbox WHERE conversation_id = ? AND id > ? AND kind = 'reply'"
            " AND state NOT IN (?, ?)",
            (conversation_id, mark.outbox_id, OutboxState.FAILED.value, OutboxState.DISCARDED.value),
        )
        posted = await _all(
            db,
            "SELECT m.text, m.created_at, a.handle FROM messages m JOIN authors a ON a.id = m.author_id"
            " WHERE m.conversation_id = ? AND m.id > ? AND m.origin = ? AND NOT EXISTS"
            " (SELECT 1 FROM outbox o WHERE o.channel = m.channel AND o.remote_id = m.remote_id)",
            (conversation_id, mark.message_id, Origin.OURS.value),
        )
        replies = [ConcurrentReply(r["text"], from_ms(r["created_at"]), "another ecoinbox") for r in queued]  # type: ignore[arg-type]
        replies += [ConcurrentReply(r["text"], from_ms(r["created_at"]), r["handle"]) for r in posted]  # type: ignore[arg-type]
        return sorted(replies, key=lambda r: r.at)

    # ---- leases: which process polls and sends ---------------------------------------------

    async def lease(self, name: str) -> Lease | None:
        """The current holder of lease `name`, expired or not; None if nobody ever took it."""
        row = await _one(self._read(), "SELECT * FROM leases WHERE name = ?", (name,))
        return None if row is None else _lease(row)

    async def take_lease(
        self, name: str, owner: str, *, host: str, pid: int, seconds: float, replacing: str | None = None
    ) -> Lease:
        """Take or renew lease `name` for `owner` and return the holder afterwards.

        It is taken when free, expired, already `owner`'s, or held by `replacing` (a holder the
        caller has proven dead, e.g. a process of this host that no longer exists). The caller
        holds it when the returned lease's owner is `owner`.
        """
        now = to_ms(self._clock())
        until = now + int(seconds * 1000)
        async with self._write(quiet=True) as db:
            row = await _one(db, "SELECT * FROM leases WHERE name = ?", (name,))
            if row is None:
                await db.execute(
                    "INSERT INTO leases (name, owner, host, pid, acquired_at, expires_at) VALUES (?,?,?,?,?,?)",
                    (name, owner, host, pid, now, until),
                )
            elif row["owner"] == owner:
                await db.execute("UPDATE leases SET expires_at = ? WHERE name = ?", (until, name))
            elif row["expires_at"] < now or (replacing is not None and row["owner"] == replacing):
                await db.execute(
                    "UPDATE leases SET owner = ?, host = ?, pid = ?, acquired_at = ?, expires_at = ?"
                    " WHERE name = ?",
                    (owner, host, pid, now, until, name),
                )
            else:
                return _lease(row)
            row = await _one(db, "SELECT * FROM leases WHERE name = ?", (name,))
        assert row is not None
        return _lease(row)

    async def release_lease(self, name: str, owner: str) -> None:
        """Give lease `name` up at once (a clean exit), if `owner` holds it."""
        async with self._write(quiet=True) as db:
            await db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

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


# ---- a batch being ingested ----------------------------------------------------------------


@dataclass(slots=True)
class _KnownMessage:
    """A stored message as far as ingest cares: where it is threaded and what it says now."""

    id: int
    conversation_id: int
    text: str
    edited_at: int | None
    deleted: int
    held: int = 0
    created_at: int = 0


def _apply_edit(
    row: _KnownMessage,
    message: Message,
    edits: list[tuple[Any, ...]],
    deletions: list[tuple[int]],
    held_changes: list[tuple[int, int]],
) -> bool:
    """A message seen again: note its edit, deletion or approval; False if nothing changed."""
    edited = to_ms(message.edited_at) if message.edited_at else None
    moderated = False
    if row.held != int(message.held) and not message.deleted:
        row.held = int(message.held)
        held_changes.append((row.held, row.id))
        moderated = True
    if message.deleted:
        if row.deleted:
            return False
        row.deleted = 1
        deletions.append((row.id,))
        return True
    if row.text == message.text and row.edited_at == edited:
        return moderated
    row.text, row.edited_at = message.text, edited
    edits.append(
        (
            message.text,
            message.spoiler,
            "\n".join(message.links),
            edited,
            int(message.hidden_characters),
            row.id,
        )
    )
    return True


@dataclass(slots=True)
class _Summary:
    """A conversation's summary row while a batch is applied to it."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "state", "state_changed_at", "needs_reply", "last_activity", "author_id", "snippet",
        "message_count", "origin", "language", "reason", "priority", "priority_reason", "muted",
        "snoozed_until", "assignee", "subject",
    )  # fmt: skip

    channel: str
    root_remote_id: str
    state: str
    state_changed_at: int
    needs_reply: int
    last_activity: int
    author_id: int | None
    snippet: str
    message_count: int
    origin: str
    language: str | None
    reason: str
    priority: int = 0
    priority_reason: str = ""
    muted: int = 0
    snoozed_until: int | None = None
    assignee: str = ""
    subject: str = ""  # the title of its first message (a mail's subject, a topic's title)
    changed: bool = False

    @classmethod
    def new(cls, root: Message, created: int) -> _Summary:
        return cls(root.channel, root.remote_id, State.OPEN.value, 0, 0, created, None, "", 0,
                   root.origin.value, None, "", changed=True)  # fmt: skip

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> _Summary:
        return cls(row["channel"], row["root_remote_id"], *(row[column] for column in cls.COLUMNS))

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, column) for column in self.COLUMNS)

    def withdrawn(self, created: int) -> None:
        """A message of the conversation was deleted on its platform: if it is the one waiting
        on us, nobody is waiting any more, and its words leave the row."""
        if self.needs_reply and created >= self.last_activity:
            self.needs_reply = 0
            self.snippet = DELETED_SNIPPET
            self.changed = True

    def add(
        self, message: Message, author_id: int, created: int, clock: Callable[[], datetime]
    ) -> tuple[str, str] | None:
        """Keep the summary in step with a new message of the conversation; the (old, new)
        state if the message moved it: their message reopens, our reply leaves it pending."""
        newest = self.message_count == 0 or created >= self.last_activity
        if _ORIGIN_RANK[message.origin] > _ORIGIN_RANK[Origin(self.origin)]:
            self.origin = message.origin.value
        self.message_count += 1
        if self.author_id is None:
            self.author_id = author_id
        if message.title and (not self.subject or message.remote_id == self.root_remote_id):
            self.subject = message.title[:SUBJECT_CHARS]  # the root's title wins over a reply's
        if newest:
            self.last_activity = created
            self.needs_reply = int(not message.is_ours)
            if not message.is_ours:
                self.author_id = author_id
                self.snippet = message.text[:SNIPPET_CHARS]
                self.language = message.language
        self.changed = True
        old = self.state
        # Older inbound messages (context fetched late) never reopen a conversation; a muted one
        # stays done (it still leaves Pending or a snooze: they answered).
        reopens = self.state in _REOPENED_BY_ACTIVITY and not (self.muted and self.state == State.DONE.value)
        if not message.is_ours and reopens and created > self.state_changed_at:
            self.state, self.snoozed_until = State.OPEN.value, None
            self.state_changed_at = to_ms(clock())
        elif message.is_ours and newest and self.state == State.OPEN.value:
            self.state = State.PENDING.value
            # From when we answered: their answer, even if it arrives in the same poll, reopens it.
            self.state_changed_at = created
        return None if self.state == old else (old, self.state)


_REOPENED_BY_ACTIVITY = frozenset({State.DONE.value, State.PENDING.value, State.SNOOZED.value})


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
        language=row["language"],
        reason=row["reason"],
        snoozed_until=from_ms(row["snoozed_until"]),
        assignee=row["assignee"],
        tags=tuple(row["tags"].split()),
        priority=row["priority"],
        priority_reason=row["priority_reason"],
        muted=bool(row["muted"]),
        direct=bool(row["direct"]),
        held=bool(row["held"]),
        draft=bool(row["draft"]),
        subject=row["subject"] or "",
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
        title=row["title"],
        thread_ref=row["thread_ref"],
        hidden_characters=bool(row["hidden_characters"]),
        mentions=tuple(filter(None, row["mentions"].split("\n"))),
        held=bool(row["held"]),
    )


def _search_sql(query: Query) -> tuple[str, list[Any]]:
    """The statement reading `query`'s matching messages newest first (then `id < ?`, `LIMIT ?`).

        Each way in keeps the id order, so no statement sorts its matches: FTS5 hands its matches
        out by rowid (its own rowid must carry the bound and the order), a `lang:` filter reads its
        language's index (ids in order within a language), anything else walks the table backwards
        from the newest row. Conversations and authors are joined only when a filter reads them (the
    spam left out of a query without is: is dropped by `search`, a page of conversations at a time).
    """
    where, params = _search_conditions(query)
    fts = " ".join(fts_phrase(t) for t in query.terms if not t.negated)
    joins = ""
    if any(f.field == "is" for f in query.filters):
        joins += " JOIN conversations c ON c.id = m.conversation_id"
    if any(f.field == "from" for f in query.filters):
        joins += " JOIN authors a ON a.id = m.author_id"
    conditions = "".join(f" AND {condition}" for condition in where)
    language = any(f.field == "lang" and not f.negated for f in query.filters)
    channel = any(f.field == "channel" and not f.negated for f in query.filters)
    # Without a hint SQLite reads a channel: filter through UNIQUE (channel, remote_id), whose
    # order is not the ids', and sorts every message of the channel for one page. Under a word,
    # the index answers the filter for each match without reading the message (only hits are).
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


def _search_conditions(query: Query) -> tuple[list[str], list[Any]]:
    """SQL conditions (on m: messages, c: conversations, a: authors) and their parameters."""
    where: list[str] = []
    params: list[Any] = []
    for term in query.terms:
        if term.negated:
            where.append("m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            params.append(fts_phrase(term))
    for f in query.filters:
        if f.field == "from":
            like = _like_prefix(str(f.value))
            condition, values = (
                "(a.handle LIKE ? ESCAPE '\\' OR a.display_name LIKE ? ESCAPE '\\')",
                [like, like],
            )
        elif f.field == "channel":
            condition, values = "m.channel = ?", [f.value]
        elif f.field == "is" and f.value == "unanswered":
            condition, values = "c.needs_reply = 1 AND c.state = 'open'", []
        elif f.field == "is":
            condition, values = "c.state = ?", [f.value]
        elif f.field == "lang":
            condition, values = "m.language = ?", [f.value]
        elif f.field == "before":
            condition, values = "m.created_at < ?", [to_ms(f.value)]  # type: ignore[arg-type]
        elif f.field == "after":
            condition = f"m.created_at >= ? AND m.id >= {_IDS_AFTER}"
            values = [to_ms(f.value)] * 2  # type: ignore[arg-type, list-item]
        else:  # has:link
            condition, values = "m.links != ''", []
        where.append(f"NOT ({condition})" if f.negated else condition)
        params.extend(values)
    return where, params


# The smallest id of an after: range, when it holds few messages (one lookup in messages_by_created
# and at most 5,000 entries read): a search walking the ids down stops there instead of reading every
# message to find the range empty. A wide range bounds nothing (the walk finds its page soon). (A
# before: bound would be a second upper bound on the ids, which SQLite may take over the page's
# cursor: every page after the first would then walk from the newest message again.)
_IDS_AFTER = (
    f"(SELECT CASE WHEN count(*) < 5000 THEN coalesce(min(id), {1 << 62}) ELSE 0 END FROM"
    " (SELECT rowid AS id FROM messages INDEXED BY messages_by_created WHERE created_at >= ? LIMIT 5000))"
)


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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


def _lease(row: sqlite3.Row) -> Lease:
    return Lease(
        name=row["name"], owner=row["owner"], host=row["host"], pid=row["pid"],
        acquired_at=from_ms(row["acquired_at"]), expires_at=from_ms(row["expires_at"]),  # type: ignore[arg-type]
    )  # fmt: skip


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
        kind=row["kind"],
        title=row["title"],
        category=row["category"],
        depends_on=row["depends_on"],
        language=row["language"],
        canned=tuple(row["canned"].split()),
        link=row["link"],
        approve_parent=bool(row["approve_parent"]),
        to=tuple(filter(None, row["to_addresses"].split("\n"))),
        cc=tuple(filter(None, row["cc_addresses"].split("\n"))),
        subject=row["subject"],
        wider=bool(row["wider"]),
    )


def _has_wal(path: Path) -> bool:
    """Whether changes not yet copied into the file itself wait in its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


async def open_store(
    path: Path, *, clock: Callable[[], datetime] | None = None, read_only: bool = False
) -> SQLiteStore:
    """Open (creating and migrating as needed) the store at `path`; `read_only`: see SQLiteStore."""
    return await SQLiteStore(path, clock=clock, read_only=read_only).open()
