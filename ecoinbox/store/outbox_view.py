"""What the Outbox view asks of the store: every reply not sent yet, and the manager's hand on it.

A mixin of `SQLiteStore`. Each change is one conditional UPDATE: it applies only while the
sender has not claimed the reply (no lease), so a reply being sent is never changed under the
sender, and a reply cancelled here is never claimed afterwards. The history says who did it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ecoinbox.model import OutboxItem, OutboxState, UnsentReply
from ecoinbox.store.base import Change, ChangeKind
from ecoinbox.store.connection import SQLiteBase
from ecoinbox.store.convert import MESSAGE_SQL, to_message, to_outbox_item
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.times import to_ms

if TYPE_CHECKING:
    import aiosqlite

_UNSENT = tuple(state.value for state in OutboxState if state.unsent)
_DECIDE = (OutboxState.FAILED.value, OutboxState.UNKNOWN.value)
CANCELLABLE = (OutboxState.QUEUED, OutboxState.FAILED, OutboxState.UNKNOWN)
"""What the manager can still take back: anything the platform does not have for sure, and
that no sender holds right now."""
_CANCELLABLE = tuple(state.value for state in CANCELLABLE)


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


class OutboxViewStore(SQLiteBase):
    """The Outbox view's reads and writes; mixed into `SQLiteStore`."""

    async def unsent_replies(self) -> list[UnsentReply]:
        """Every reply and forum topic neither sent nor discarded, across conversations, with
        whom it answers: those waiting on the manager first (refused, perhaps published), then
        those retrying after an error, then the rest; newest first within each."""
        db = self._read()
        rows = await fetch_all(
            db,
            f"SELECT * FROM outbox WHERE state IN ({_marks(_UNSENT)})"
            f" ORDER BY CASE WHEN state IN ({_marks(_DECIDE)}) THEN 0 WHEN error != '' THEN 1 ELSE 2 END,"
            " created_at DESC, id DESC",
            (*_UNSENT, *_DECIDE),
        )
        parents = await fetch_all(
            db,
            MESSAGE_SQL + " WHERE m.id IN (SELECT p.id FROM outbox o JOIN messages p"
            " ON p.channel = o.channel AND p.remote_id = o.parent_remote_id"
            f" WHERE o.kind = 'reply' AND o.state IN ({_marks(_UNSENT)}))",
            _UNSENT,
        )
        by_key = {(row["channel"], row["remote_id"]): to_message(row) for row in parents}
        items = [to_outbox_item(row) for row in rows]
        return [UnsentReply(item, by_key.get((item.channel, item.parent_remote_id))) for item in items]

    async def send_reply_now(self, item_id: int, *, actor: str = "manager") -> OutboxItem | None:
        """A queued reply waiting for its retry time is due now; None if it is not queued any
        more (sent, being sent, settled or discarded meanwhile)."""
        now = to_ms(self._clock())
        return await self._change_unsent(
            item_id, "send now", "next_attempt_at = ?", [now], (OutboxState.QUEUED.value,), actor=actor
        )

    async def cancel_reply(self, item_id: int, *, actor: str = "manager") -> OutboxItem | None:
        """Discard a reply that is not sent (queued, retrying, refused or uncertain) and not held
        by a sender this instant, and the reply waiting for it if it is a forum topic; None if it
        is not cancellable any more. A discarded reply is never claimed: claims need 'queued'."""
        return await self._change_unsent(
            item_id, "discarded", "state = ?", [OutboxState.DISCARDED.value],
            _CANCELLABLE, actor=actor, drop_dependents=True,
        )  # fmt: skip

    async def edit_reply(self, item_id: int, text: str, *, actor: str = "manager") -> OutboxItem | None:
        """Replace the text of a reply not sent (and not held by a sender); None if it was sent,
        is being sent or was discarded meanwhile. A new text is a new request: it gets a new
        idempotency key. A refused or uncertain reply (the manager decided it is not on the
        platform) is queued again, due now; a queued one keeps its time."""
        now = to_ms(self._clock())
        changes = (
            "text = ?, idempotency_key = ?, error = '',"
            " next_attempt_at = CASE WHEN state = ? THEN next_attempt_at ELSE ? END, state = ?"
        )
        params = [text, uuid.uuid4().hex, OutboxState.QUEUED.value, now, OutboxState.QUEUED.value]
        return await self._change_unsent(
            item_id, "edited", changes, params, _CANCELLABLE, actor=actor, reply_only=True
        )

    async def _change_unsent(
        self, item_id: int, what: str, changes: str, params: list[Any], states: tuple[str, ...], *,
        actor: str, drop_dependents: bool = False, reply_only: bool = False,
    ) -> OutboxItem | None:  # fmt: skip
        where = f"id = ? AND state IN ({_marks(states)}) AND lease_owner IS NULL"
        if reply_only:
            where += " AND kind = 'reply'"
        async with self._write(durable=True) as db:
            before = await fetch_one(db, "SELECT state FROM outbox WHERE id = ?", (item_id,))
            row = await fetch_one(
                db, f"UPDATE outbox SET {changes} WHERE {where} RETURNING *", (*params, item_id, *states)
            )
            if row is None or before is None:
                return None
            item = to_outbox_item(row)
            if drop_dependents:
                await self._drop_dependents(db, item_id)
            action = f"{item.kind} {what}"
            await self._record(db, item.conversation_id, actor, action, before["state"], str(item_id))
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id})))
        return item

    async def _drop_dependents(self, db: aiosqlite.Connection, item_id: int) -> None:
        """The reply that was to carry a discarded topic's address goes with it."""
        await db.execute(
            f"UPDATE outbox SET state = ? WHERE depends_on = ? AND state IN ({_marks(_CANCELLABLE)})"
            " AND lease_owner IS NULL",
            (OutboxState.DISCARDED.value, item_id, *_CANCELLABLE),
        )
