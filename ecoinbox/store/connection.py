"""The SQLite store's connections, transactions and change listeners."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from ecoinbox.store.base import Change
from ecoinbox.store.errors import StoreDamaged, StoreError, StoreFull, StoreReadOnly
from ecoinbox.store.sql import fetch_one
from ecoinbox.store.times import to_ms

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0


# SQLite's primary result codes (the low byte of `sqlite_errorcode`) that the environment causes.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_IOERR_READ, _IOERR_SHORT_READ, READONLY_DIRECTORY = 266, 522, 1544


def in_words(exc: sqlite3.Error, path: Path) -> StoreError | None:
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
        where = f"the folder {path.parent}" if code == READONLY_DIRECTORY else f"the file {path}"
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


def undecodable(exc: UnicodeDecodeError, path: Path) -> StoreDamaged:
    """What SQLite read was not UTF-8: ecoinbox writes only UTF-8, so a page of the file is
    broken (sqlite3 fails to decode the text, or its own error quoting a broken schema page)."""
    said = bytes(exc.object[:200]) if isinstance(exc.object, bytes | bytearray) else b""
    what = (
        "the list of its tables (its schema) is unreadable"
        if said.startswith(b"malformed database schema")
        else "some of its text is not UTF-8"
    )
    return StoreDamaged(path, f"{what}: {said.decode('utf-8', 'replace')!r}" if said else what)


def errors_in_words(cls: type) -> type:
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
    async def translated(self: SQLiteBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = in_words(exc, self.path)
            if error is None:
                raise
            raise error from exc
        except UnicodeDecodeError as exc:
            raise undecodable(exc, self.path) from exc

    return translated


class SQLiteBase:
    """What every part of the SQLite store shares: connections, clock, listeners."""

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
        row = await fetch_one(self._read(), "SELECT version FROM content_version")
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
                row = await fetch_one(
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

    async def _record(
        self, db: aiosqlite.Connection, conversation_id: int, actor: str, action: str,
        old: str | None, new: str | None,
    ) -> None:  # fmt: skip
        await db.execute(
            "INSERT INTO history (conversation_id, at, actor, action, old_value, new_value)"
            " VALUES (?,?,?,?,?,?)",
            (conversation_id, to_ms(self._clock()), actor, action, old, new),
        )
