"""What the manager asked a platform to do with a message beyond answering it: hide it from the
public (the hide key), hide it as spam (the spam key), show it again (undo, or "not spam").

A mixin of `SQLiteStore`. Each request is a row of `platform_actions`, written in the same
transaction as the state change that asks for it, so a crash between the key and the request
loses nothing; the engine carries the rows out in order per message (`claim_moderation`), under
a lease, like the outbox. Carrying one out twice is harmless: hiding a hidden message is a no-op
on every platform. The store does not know which platforms can hide: the engine skips the rows
of the channels that cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from ecoinbox.model import State
from ecoinbox.store.base import Change, ChangeKind
from ecoinbox.store.connection import SQLiteBase
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.times import from_ms, to_ms

if TYPE_CHECKING:
    from collections.abc import Collection

    import aiosqlite

__all__ = ["HIDE", "SPAM", "UNHIDE", "ModerationStore", "PlatformAction"]

HIDE: Final = "hide"
SPAM: Final = "spam"
UNHIDE: Final = "unhide"
_AUTOMATIC = ("spam filter", "rule:")  # their verdicts stay in ecoinbox: only the manager's hand acts


@dataclass(frozen=True, slots=True)
class PlatformAction:
    """One request to a platform about one of its messages."""

    id: int
    conversation_id: int
    channel: str
    remote_id: str
    action: str  # HIDE, SPAM or UNHIDE
    attempts: int


class ModerationStore(SQLiteBase):
    """Requests to hide, or show again, messages on their platform; mixed into `SQLiteStore`."""

    async def _queue_moderation(
        self, db: aiosqlite.Connection, conversation_id: int, old: State, new: State, actor: str
    ) -> None:
        """The manager moved a conversation into Spam (hide its first message from outside, as
        spam) or out of it (show it again): asked in the same transaction as the move."""
        if (old is State.SPAM) == (new is State.SPAM) or actor.startswith(_AUTOMATIC):
            return
        row = await fetch_one(
            db,
            "SELECT channel, remote_id FROM messages WHERE conversation_id = ? AND origin != 'ours'"
            " ORDER BY created_at, id LIMIT 1",
            (conversation_id,),
        )
        if row is not None:
            action = SPAM if new is State.SPAM else UNHIDE
            await self._queue_action(db, conversation_id, row["channel"], row["remote_id"], action, actor)

    async def _queue_action(
        self, db: aiosqlite.Connection, conversation_id: int, channel: str, remote_id: str, action: str,
        actor: str,
    ) -> int | None:  # fmt: skip
        """Add one request, unless it changes nothing: showing again a message whose hiding has
        not started yet only drops that request (the platform never saw it)."""
        if action == UNHIDE:
            dropped = await db.execute(
                "UPDATE platform_actions SET state = 'cancelled' WHERE channel = ? AND remote_id = ?"
                " AND state = 'queued' AND action != 'unhide'",
                (channel, remote_id),
            )
            if dropped.rowcount:
                return None
        last = await fetch_one(
            db,
            "SELECT action FROM platform_actions WHERE channel = ? AND remote_id = ?"
            " AND state IN ('queued', 'running', 'done') ORDER BY id DESC LIMIT 1",
            (channel, remote_id),
        )
        current = last["action"] if last is not None else UNHIDE
        if action == current or (action == HIDE and current == SPAM):
            return None  # already as asked (a spam mark on a hidden message still rejects it)
        now = to_ms(self._clock())
        cursor = await db.execute(
            "INSERT INTO platform_actions (conversation_id, channel, remote_id, action, state, attempts,"
            " next_at, created_at, actor) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
            (conversation_id, channel, remote_id, action, now, now, actor),
        )
        return cursor.lastrowid  # the history says it once done: most platforms cannot hide

    async def hide_message(
        self,
        conversation_id: int,
        channel: str,
        remote_id: str,
        *,
        show: bool = False,
        actor: str = "manager",
    ) -> bool:
        """Ask the platform to hide one message from the public (or, `show`, to show it again);
        False when nothing needed asking (already hidden, or shown)."""
        async with self._write(durable=True) as db:
            queued = await self._queue_action(
                db, conversation_id, channel, remote_id, UNHIDE if show else HIDE, actor
            )
        self._notify(Change(ChangeKind.STATE, frozenset({conversation_id})))
        return queued is not None or show

    async def claim_moderation(
        self, channels: Collection[str], *, lease: timedelta = timedelta(minutes=2)
    ) -> PlatformAction | None:
        """The oldest request due on one of `channels`, whose message has no earlier request
        unfinished, claimed for `lease` (a crash leaves it to be claimed again)."""
        if not channels:
            return None
        now = to_ms(self._clock())
        marks = ",".join("?" * len(channels))
        due = (
            f"SELECT * FROM platform_actions a WHERE a.channel IN ({marks})"
            " AND a.state IN ('queued', 'running') AND a.next_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM platform_actions b WHERE b.channel = a.channel"
            " AND b.remote_id = a.remote_id AND b.id < a.id AND b.state IN ('queued', 'running'))"
            " ORDER BY a.id LIMIT 1"
        )
        if await fetch_one(self._read(), due, (*channels, now)) is None:
            return None  # nothing due: no write (other inboxes watch the store's writes)
        async with self._write() as db:
            row = await fetch_one(db, due, (*channels, now))
            if row is None:
                return None
            await db.execute(
                "UPDATE platform_actions SET state = 'running', attempts = attempts + 1, next_at = ?"
                " WHERE id = ?",
                (now + int(lease.total_seconds() * 1000), row["id"]),
            )
        return PlatformAction(
            row["id"], row["conversation_id"], row["channel"], row["remote_id"], row["action"],
            row["attempts"] + 1,
        )  # fmt: skip

    async def finish_moderation(
        self, action: PlatformAction, *, error: str = "", retry_at: datetime | None = None
    ) -> None:
        """Done (no error), to try again at `retry_at`, or refused for good (an error, no retry):
        the conversation's history says which."""
        async with self._write(durable=True) as db:
            if retry_at is not None:
                await db.execute(
                    "UPDATE platform_actions SET state = 'queued', next_at = ?, error = ? WHERE id = ?",
                    (to_ms(retry_at), error, action.id),
                )
                return
            state = "failed" if error else "done"
            await db.execute(
                "UPDATE platform_actions SET state = ?, error = ? WHERE id = ?", (state, error, action.id)
            )
            said = (
                f"{action.action} failed on {action.channel}: {error}"
                if error
                else f"{action.action} done on {action.channel}"
            )
            await self._record(db, action.conversation_id, "engine", "platform", None, said)
        self._notify(Change(ChangeKind.STATE, frozenset({action.conversation_id})))

    async def skip_moderation(self, channels: Collection[str]) -> int:
        """Drop the waiting requests of `channels` (their platforms cannot hide); how many."""
        if not channels:
            return 0
        marks = ",".join("?" * len(channels))
        async with self._write(quiet=True) as db:
            cursor = await db.execute(
                f"UPDATE platform_actions SET state = 'skipped' WHERE state = 'queued' AND channel IN ({marks})",
                tuple(channels),
            )
            return cursor.rowcount

    async def next_moderation_due(self, channels: Collection[str]) -> datetime | None:
        if not channels:
            return None
        marks = ",".join("?" * len(channels))
        row = await fetch_one(
            self._read(),
            f"SELECT min(next_at) FROM platform_actions WHERE state IN ('queued', 'running')"
            f" AND channel IN ({marks})",
            tuple(channels),
        )
        return from_ms(row[0]) if row is not None and row[0] is not None else None

    async def platform_actions(self, conversation_id: int) -> list[tuple[str, str, str, str]]:
        """(remote id, action, state, error) of a conversation's requests, oldest first."""
        rows = await fetch_all(
            self._read(),
            "SELECT remote_id, action, state, error FROM platform_actions WHERE conversation_id = ?"
            " ORDER BY id",
            (conversation_id,),
        )
        return [(r["remote_id"], r["action"], r["state"], r["error"] or "") for r in rows]
