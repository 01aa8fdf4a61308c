"""The manager's triage in the store: states and snoozes, tags, assignment, notes, bulk undo.

A mixin of `SQLiteStore` (it uses the store's transactions and history). Every change is
written to the history with who did it and when; a bulk action is one transaction, and
returns what each conversation was before it, so one `restore_triage` undoes all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ecoinbox.model import DraftKind, Note, State, Triage, View, normalize_tag
from ecoinbox.store.base import Change, ChangeKind, StateChange
from ecoinbox.store.drafts import delete_draft_in
from ecoinbox.store.rows import RowsStore
from ecoinbox.store.screening import ScreeningStore
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.times import from_ms, to_ms

if TYPE_CHECKING:
    import aiosqlite

WOKE_FROM_SNOOZE = "woke from snooze"
"""The reason a conversation shows once its snooze ran out (and what the history says)."""
_NOTE_HISTORY_CHARS = 80


class StatesStore(RowsStore, ScreeningStore):
    """States, snoozes, tags, assignment and notes; mixed into `SQLiteStore`."""

    async def conversation_ids(self, view: View, *, limit: int = 1000) -> list[int]:
        """The ids of a view's first `limit` conversations, in display order (`X` selects them)."""
        where, params = self._view_where(view)
        rows = await fetch_all(
            self._read(),
            "SELECT c.id FROM conversations c WHERE " + where + self._DESC + " LIMIT ?",
            (*params, limit),
        )
        return [row[0] for row in rows]

    async def triage_of(self, conversation_ids: Iterable[int]) -> list[Triage]:
        """What was decided about these conversations (state, snooze, assignee, tags)."""
        return await self._triage_of(self._read(), list(conversation_ids))

    async def _triage_of(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Triage]:
        found: dict[int, Triage] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await fetch_all(
                db,
                "SELECT id, state, reason, snoozed_until, assignee, tags FROM conversations"
                f" WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row["id"]] = Triage(
                    row["id"], State(row["state"]), row["reason"], from_ms(row["snoozed_until"]),
                    row["assignee"], tuple(row["tags"].split()),
                )  # fmt: skip
        return [found[i] for i in ids if i in found]

    async def apply_triage(
        self,
        conversation_ids: Sequence[int],
        *,
        state: State | None = None,
        snoozed_until: datetime | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        assignee: str | None = None,
        actor: str = "manager",
    ) -> list[Triage]:
        """Apply one triage action to every conversation given, in one transaction.

        `state` SNOOZED needs `snoozed_until`; `assignee` "" unassigns. Returns what each
        conversation that changed was before (for `restore_triage`), in the order given.
        """
        if state is State.SNOOZED and snoozed_until is None:
            raise ValueError("a snooze needs the time it wakes")
        added = sorted({t for t in map(normalize_tag, add_tags) if t})
        removed = {t for t in map(normalize_tag, remove_tags) if t}
        ids = list(dict.fromkeys(conversation_ids))
        changed: list[Triage] = []
        async with self._write() as db:
            for before in await self._triage_of(db, ids):
                after = before
                if state is not None:
                    wake = snoozed_until if state is State.SNOOZED else None
                    after = Triage(before.conversation_id, state, "", wake, after.assignee, after.tags)
                if assignee is not None:
                    after = replace(after, assignee=assignee)
                if added or removed:
                    tags = tuple(sorted((set(after.tags) | set(added)) - removed))
                    after = replace(after, tags=tags)
                if after != before:
                    await self._write_triage(db, before, after, actor)
                    changed.append(before)
        if changed:
            self._notify(Change(ChangeKind.STATE, frozenset(t.conversation_id for t in changed)))
        return changed

    async def restore_triage(self, before: Sequence[Triage], *, actor: str = "manager (undo)") -> int:
        """Put conversations back as `before` says (an undo); how many changed."""
        restored: list[int] = []
        async with self._write() as db:
            now = {
                t.conversation_id: t for t in await self._triage_of(db, [t.conversation_id for t in before])
            }
            for old in before:
                current = now.get(old.conversation_id)
                if current is not None and current != old:
                    await self._write_triage(db, current, old, actor)
                    restored.append(old.conversation_id)
        if restored:
            self._notify(Change(ChangeKind.STATE, frozenset(restored)))
        return len(restored)

    async def _write_triage(
        self, db: aiosqlite.Connection, before: Triage, after: Triage, actor: str
    ) -> None:
        cid = after.conversation_id
        wake = to_ms(after.snoozed_until) if after.snoozed_until is not None else None
        if (before.state, before.reason, before.snoozed_until) != (
            after.state,
            after.reason,
            after.snoozed_until,
        ):
            await db.execute(
                "UPDATE conversations SET state = ?, reason = ?, snoozed_until = ?, state_changed_at = ?"
                " WHERE id = ?",
                (after.state.value, after.reason, wake, to_ms(self._clock()), cid),
            )
            await self._record(db, cid, actor, "state", _state_label(before), _state_label(after))
            # Into or out of Spam by the manager's hand teaches the spam filter (an undo unlearns).
            await self._learn_from_state(db, cid, before.state, after.state, actor)
            await self._queue_moderation(db, cid, before.state, after.state, actor)
        if before.assignee != after.assignee:
            await db.execute("UPDATE conversations SET assignee = ? WHERE id = ?", (after.assignee, cid))
            await self._record(db, cid, actor, "assigned", before.assignee or None, after.assignee or None)
        if before.tags != after.tags:
            await db.execute("UPDATE conversations SET tags = ? WHERE id = ?", (" ".join(after.tags), cid))
            gone, new = set(before.tags) - set(after.tags), set(after.tags) - set(before.tags)
            await db.executemany(
                "DELETE FROM conversation_tags WHERE conversation_id = ? AND tag = ?",
                [(cid, t) for t in gone],
            )
            await db.executemany(
                "INSERT OR IGNORE INTO conversation_tags (conversation_id, tag) VALUES (?, ?)",
                [(cid, t) for t in sorted(new)],
            )
            for tag in sorted(new):
                await self._record(db, cid, actor, "tagged", None, tag)
            for tag in sorted(gone):
                await self._record(db, cid, actor, "untagged", tag, None)

    async def wake_snoozed(self) -> list[int]:
        """Reopen every conversation whose snooze has run out (also those that ran out while
        ecoinbox was closed); the history says it woke from snooze. Returns their ids."""
        now = to_ms(self._clock())
        due = await fetch_all(
            self._read(),
            "SELECT id FROM conversations WHERE state = 'snoozed' AND snoozed_until <= ?",
            (now,),
        )
        if not due:
            return []
        woken: list[int] = []
        async with self._write() as db:
            # Read again inside the write: another process may have woken or changed them.
            rows = await fetch_all(
                db,
                "UPDATE conversations SET state = 'open', reason = ?, snoozed_until = NULL,"
                " state_changed_at = ? WHERE state = 'snoozed' AND snoozed_until <= ? RETURNING id",
                (WOKE_FROM_SNOOZE, now, now),
            )
            for row in rows:
                woken.append(row[0])
                await self._record(db, row[0], "snooze", "state", "snoozed", f"open ({WOKE_FROM_SNOOZE})")
        if woken:
            self._notify(Change(ChangeKind.STATE, frozenset(woken)))
        return woken

    async def next_wake(self) -> datetime | None:
        """When the next snoozed conversation wakes; None if none is snoozed."""
        row = await fetch_one(
            self._read(), "SELECT min(snoozed_until) FROM conversations WHERE state = 'snoozed'"
        )
        return from_ms(row[0]) if row else None

    async def tags_in_use(self, prefix: str = "", limit: int = 50) -> list[str]:
        """Tags already given, most used first (those starting with `prefix`): for completion."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await fetch_all(
            self._read(),
            "SELECT tag FROM conversation_tags WHERE tag LIKE ? ESCAPE '\\'"
            " GROUP BY tag ORDER BY count(*) DESC, tag LIMIT ?",
            (like, limit),
        )
        return [row[0] for row in rows]

    async def add_note(self, conversation_id: int, text: str, *, author: str) -> Note:
        """An internal note in the conversation (never sent); recorded in the history. The note's
        draft goes in the same commit."""
        text = text.strip()
        if not text:
            raise ValueError("an empty note")
        at = to_ms(self._clock())
        async with self._write() as db:
            row = await fetch_one(
                db,
                "INSERT INTO notes (conversation_id, at, author, text) VALUES (?, ?, ?, ?) RETURNING id",
                (conversation_id, at, author, text),
            )
            assert row is not None
            await self._record(db, conversation_id, author, "note", None, text[:_NOTE_HISTORY_CHARS])
            await delete_draft_in(db, conversation_id, DraftKind.NOTE)
        self._notify(Change(ChangeKind.NOTE, frozenset({conversation_id})))
        return Note(int(row[0]), conversation_id, author, text, from_ms(at))  # type: ignore[arg-type]

    async def notes(self, conversation_id: int) -> list[Note]:
        """The conversation's internal notes, oldest first."""
        rows = await fetch_all(
            self._read(),
            "SELECT id, author, text, at FROM notes WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [
            Note(r["id"], conversation_id, r["author"], r["text"], from_ms(r["at"]))  # type: ignore[arg-type]
            for r in rows
        ]

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
            self._notify(Change(ChangeKind.STATE, frozenset(c.conversation_id for c in changes)))
        return changes

    async def _set_state(
        self, db: aiosqlite.Connection, conversation_id: int, state: State, actor: str, reason: str
    ) -> StateChange | None:
        row = await fetch_one(db, "SELECT state, reason FROM conversations WHERE id = ?", (conversation_id,))
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
        await self._queue_moderation(db, conversation_id, old, state, actor)
        return StateChange(conversation_id, old, state)


def _state_label(triage: Triage) -> str:
    if triage.state is State.SNOOZED and triage.snoozed_until is not None:
        return f"snoozed until {triage.snoozed_until.isoformat(timespec='minutes')}"
    return f"{triage.state.value} ({triage.reason})" if triage.reason else triage.state.value
