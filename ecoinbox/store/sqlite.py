"""The SQLite store: the only place in ecoinbox that speaks SQL.

One writer connection and one reader connection per process (aiosqlite runs each on its own
thread). Every read-modify-write is a `BEGIN IMMEDIATE` transaction, so a second process can
never make it fail half-way with "database is locked"; the outbox's commits are synced
(`synchronous=FULL`) because a lost "sent" mark would mean a reply sent twice.

What the environment does to the file (a full disk, a read-only folder, a damaged page) comes
out of every public method as a `StoreError` subclass worded for the manager, never as a raw
`sqlite3` error: see `connection.errors_in_words`.

This module holds the store's lifetime (open, migrate, check, close); what the store does is
split by concern into the modules its class is made of (listed in `ecoinbox.store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

import aiosqlite

from ecoinbox import __version__
from ecoinbox.store.base import Change, ChangeKind, IngestResult, StateChange, Store
from ecoinbox.store.connection import (
    BUSY_TIMEOUT_S,
    READONLY_DIRECTORY,
    errors_in_words,
    in_words,
    undecodable,
)
from ecoinbox.store.drafts import DraftsStore
from ecoinbox.store.errors import StoreDamaged, StoreError, StoreReadOnly, StoreTooNew
from ecoinbox.store.ingest_plan import DELETED_SNIPPET, SNIPPET_CHARS  # noqa: F401 (tests read it from here)
from ecoinbox.store.ingest_plan import ORIGIN_RANK as _ORIGIN_RANK  # noqa: F401 (tests read it from here)
from ecoinbox.store.leases import LeasesStore
from ecoinbox.store.outbox import OutboxStore
from ecoinbox.store.outbox_view import OutboxViewStore
from ecoinbox.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from ecoinbox.store.search_sql import search_sql as _search_sql  # noqa: F401 (tests read it from here)
from ecoinbox.store.sql import fetch_all as _all  # by this name: a test slows the integrity check through it
from ecoinbox.store.sql import fetch_one as _one
from ecoinbox.store.sql import split_sql
from ecoinbox.store.threads import ThreadsStore
from ecoinbox.store.times import to_ms  # noqa: F401 (tests read it from here)

__all__ = ["Change", "IngestResult", "SQLiteStore", "StateChange", "open_store"]

log = logging.getLogger(__name__)

WAL_CHECKPOINT_PAGES = 8000  # of 4 KiB: 32 MB of WAL between checkpoints
WAL_KEEP_BYTES = 64 * 2**20  # the WAL file is cut back to this after a checkpoint


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


@errors_in_words
class SQLiteStore(ThreadsStore, OutboxStore, OutboxViewStore, DraftsStore, LeasesStore):
    """Conversations, messages, authors, cursors, outbox and history in one SQLite file.

    `read_only=True` opens an existing store without ever writing to it (not even its journal
    mode): for a damaged file or a read-only folder, so the manager can still read. Every write
    then raises StoreReadOnly, as it does after `refuse_writes`.
    """

    # ---- lifetime -------------------------------------------------------------------------

    async def open(self) -> Self:
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

    async def _open_read_only(self) -> Self:
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
            if code != READONLY_DIRECTORY or _has_wal(self.path) or "immutable" in uri:
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
        app_id = (await _one(db, "PRAGMA application_id") or (0,))[0]
        version = (await _one(db, "PRAGMA user_version") or (0,))[0]
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
        self._stop_screening()
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
            error = in_words(exc, self.path)
            if isinstance(error, StoreDamaged):  # so damaged the check itself could not go on
                return [error.detail]
            raise
        except UnicodeDecodeError as exc:
            return [undecodable(exc, self.path).detail]
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
        self._notify(Change(ChangeKind.READ_ONLY))

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _has_wal(path: Path) -> bool:
    """Whether changes not yet copied into the file itself wait in its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def needs_upgrade(path: Path) -> bool:
    """Whether the store at `path` was written by an older ecoinbox (some migrations not run
    yet); read without opening it for writing, so the file is left as it was."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0]) < SCHEMA_VERSION


async def open_store(
    path: Path, *, clock: Callable[[], datetime] | None = None, read_only: bool = False
) -> SQLiteStore:
    """Open (creating and migrating as needed) the store at `path`; `read_only`: see SQLiteStore."""
    return await SQLiteStore(path, clock=clock, read_only=read_only).open()


if TYPE_CHECKING:
    _IMPLEMENTS: type[Store] = SQLiteStore  # the type checker proves SQLiteStore is a Store
