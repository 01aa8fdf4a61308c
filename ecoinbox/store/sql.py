"""Small SQLite helpers shared by the store's modules."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite


async def fetch_one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of a query of one row at most (see `fetch_all`)."""
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def fetch_all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row, in one hop to the connection's thread (execute, fetch and close were three),
    with the statement run to its end: an open one would pin a stale read snapshot."""
    return list(await db.execute_fetchall(sql, params))


async def execute_many(db: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`executemany`, skipped when there is nothing to write (each call is a hop to the thread)."""
    if rows:
        await db.executemany(sql, rows)


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
