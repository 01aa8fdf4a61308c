"""Drafts in the store: what the manager is typing, kept as it is typed.

A mixin of `SQLiteStore`. One draft per conversation and kind of box (reply, redirect, note,
topic); each save is a synced commit, so a draft survives `kill -9` and a power cut. Two inboxes
on one store may save the same draft: the last write wins. Only a draft appearing or going away
moves the content version (other inboxes then redraw the row's mark); typing into one that
exists does not make them reload every second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.model import Draft, DraftKind
from ecoinbox.store.base import Change, ChangeKind
from ecoinbox.store.connection import SQLiteBase
from ecoinbox.store.sql import fetch_one
from ecoinbox.store.times import from_ms, to_ms

if TYPE_CHECKING:
    import aiosqlite


class DraftsStore(SQLiteBase):
    """save_draft, draft, delete_draft; mixed into `SQLiteStore`."""

    async def save_draft(
        self, conversation_id: int, kind: DraftKind, text: str, *, parent_remote_id: str | None = None
    ) -> None:
        """Keep `text` as the conversation's draft of this kind (replacing the one before)."""
        at = to_ms(self._clock())
        exists = await self.draft(conversation_id, kind) is not None
        async with self._write(durable=True, quiet=exists) as db:
            await db.execute(
                "INSERT INTO drafts (conversation_id, kind, text, parent_remote_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id, kind) DO UPDATE SET"
                " text = excluded.text, parent_remote_id = excluded.parent_remote_id,"
                " updated_at = excluded.updated_at",
                (conversation_id, kind.value, text, parent_remote_id, at),
            )
        if not exists:
            self._notify(Change(ChangeKind.DRAFT, frozenset({conversation_id})))

    async def draft(self, conversation_id: int, kind: DraftKind) -> Draft | None:
        """The conversation's draft of this kind, if the manager left one."""
        row = await fetch_one(
            self._read(),
            "SELECT text, parent_remote_id, updated_at FROM drafts WHERE conversation_id = ? AND kind = ?",
            (conversation_id, kind.value),
        )
        if row is None:
            return None
        at = from_ms(row["updated_at"])
        assert at is not None
        return Draft(conversation_id, kind, row["text"], row["parent_remote_id"], at)

    async def delete_draft(self, conversation_id: int, kind: DraftKind) -> None:
        """Throw the draft away (the manager discarded it, or it was sent)."""
        async with self._write(durable=True) as db:
            deleted = await delete_draft_in(db, conversation_id, kind)
        if deleted:
            self._notify(Change(ChangeKind.DRAFT, frozenset({conversation_id})))


async def delete_draft_in(db: aiosqlite.Connection, conversation_id: int, kind: DraftKind) -> bool:
    """Inside one of the store's write transactions: queueing a reply drops its draft in the
    same commit. True if there was one."""
    cursor = await db.execute(
        "DELETE FROM drafts WHERE conversation_id = ? AND kind = ?", (conversation_id, kind.value)
    )
    return cursor.rowcount > 0
