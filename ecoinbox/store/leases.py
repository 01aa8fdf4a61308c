"""Leases: which process polls and sends."""

from __future__ import annotations

from ecoinbox.model import (
    Lease,
)
from ecoinbox.store.connection import SQLiteBase
from ecoinbox.store.convert import to_lease
from ecoinbox.store.sql import fetch_one
from ecoinbox.store.times import to_ms


class LeasesStore(SQLiteBase):
    """Named leases with an owner and an expiry; mixed into `SQLiteStore`."""

    async def lease(self, name: str) -> Lease | None:
        """The current holder of lease `name`, expired or not; None if nobody ever took it."""
        row = await fetch_one(self._read(), "SELECT * FROM leases WHERE name = ?", (name,))
        return None if row is None else to_lease(row)

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
            row = await fetch_one(db, "SELECT * FROM leases WHERE name = ?", (name,))
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
                return to_lease(row)
            row = await fetch_one(db, "SELECT * FROM leases WHERE name = ?", (name,))
        assert row is not None
        return to_lease(row)

    async def release_lease(self, name: str, owner: str) -> None:
        """Give lease `name` up at once (a clean exit), if `owner` holds it."""
        async with self._write(quiet=True) as db:
            await db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
