"""A conversation's whole thread, and single messages."""

from __future__ import annotations

from datetime import datetime

from ecoinbox.model import (
    Conversation,
    Message,
    Origin,
    OutboxState,
    State,
    StoredMessage,
)
from ecoinbox.store.convert import MESSAGE_SQL, to_message
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.states import StatesStore
from ecoinbox.store.times import from_ms, to_ms


class ThreadsStore(StatesStore):
    """Whole threads, messages and their history; mixed into `SQLiteStore`."""

    async def conversation(self, conversation_id: int, *, with_linked: bool = True) -> Conversation | None:
        """The whole thread, oldest first, with the replies still on their way out."""
        row = await self.conversation_row(conversation_id)
        if row is None:
            return None
        records = await fetch_all(
            self._read(),
            MESSAGE_SQL + " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id",
            (conversation_id,),
        )
        ids_by_remote = {r["remote_id"]: r["id"] for r in records}
        messages = [
            StoredMessage(
                id=r["id"],
                conversation_id=conversation_id,
                message=to_message(r),
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
            links = await fetch_all(
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
        rule_notes = await self._screening_notes(conversation_id)
        return Conversation(
            row=row, messages=messages, outbox=outbox, linked=linked, notes=notes, screening_notes=rule_notes
        )

    async def recent_inbound(self, channel: str, since: datetime, limit: int) -> list[Message]:
        """The newest messages people wrote on `channel` since `since`, not known deleted, in
        conversations still being dealt with (open, pending, snoozed): what is worth checking
        for a deletion the platform does not announce."""
        fetched = await fetch_all(
            self._read(),
            MESSAGE_SQL + " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.channel = ? AND m.created_at >= ? AND m.deleted = 0 AND m.origin != ?"
            " AND c.state IN (?, ?, ?) ORDER BY m.created_at DESC LIMIT ?",
            (channel, to_ms(since), Origin.OURS.value, State.OPEN.value, State.PENDING.value,
             State.SNOOZED.value, limit),
        )  # fmt: skip
        return [to_message(r) for r in fetched]

    async def message(self, channel: str, remote_id: str) -> Message | None:
        record = await fetch_one(
            self._read(), MESSAGE_SQL + " WHERE m.channel = ? AND m.remote_id = ?", (channel, remote_id)
        )
        return None if record is None else to_message(record)

    async def history(self, conversation_id: int) -> list[tuple[datetime, str, str, str | None, str | None]]:
        fetched = await fetch_all(
            self._read(),
            "SELECT at, actor, action, old_value, new_value FROM history"
            " WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [(from_ms(r[0]), r[1], r[2], r[3], r[4]) for r in fetched]  # type: ignore[misc]
