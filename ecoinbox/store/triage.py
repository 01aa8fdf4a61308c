"""The store's side of automatic triage: spam, priority and rules at ingest; marks that teach.

A mixin of `SQLiteStore` (it uses its transactions and helpers). The store stays SQL-only: the
judging is done by a `Triage` object (pure Python, built from the config) handed to
`attach_triage`; the store calls it for each new message from outside, inside the ingest's own
transaction, and writes what it decided there too, with who decided it in the history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from ecoinbox.model import Message, State, normalize_tag

if TYPE_CHECKING:
    from ecoinbox.triage.inbound import Triage

log = logging.getLogger(__name__)

SPAM_ACTOR = "spam filter"
MUTE_ACTOR = "manager"


@dataclass(frozen=True, slots=True)
class RuleNote:
    """Something a rule did or suggested that has no column of its own (tag, assign, snooze,
    canned), as the thread header shows it."""

    rule: str
    action: str
    value: str
    at: datetime


@dataclass(slots=True)
class TriageBatch:
    """What triage decided during one ingest batch, written before the batch commits."""

    history: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[tuple[Any, ...]] = field(default_factory=list)
    known_authors: set[int] = field(default_factory=set)
    urgent: set[int] = field(default_factory=set)  # conversations that just became high priority
    spam: set[int] = field(default_factory=set)
    tags: set[tuple[int, str]] = field(default_factory=set)  # (conversation, tag) a rule gave
    # Replies the filter found spam inside a conversation someone else started: (channel, remote
    # id, reason). Each leaves for a conversation of its own, in Spam, before the batch commits.
    spam_replies: list[tuple[str, str, str]] = field(default_factory=list)
    started: int = 0  # when the batch began (ms): what it reopened is in the history after it


class TriageStore:
    """Spam, priority and rules at ingest, the spam filter's learned marks, and muting."""

    _triage: Triage | None = None
    _marks_version: int = -1

    # The host class provides these (SQLiteStore).
    _write: Any
    _read: Any
    _record: Any
    _notify: Any
    _clock: Any

    async def attach_triage(self, triage: Triage | None) -> None:
        """From now on, new messages from outside are triaged by `triage` as they are stored."""
        self._triage = triage
        self._marks_version = -1
        if triage is not None and self._reader is not None:  # type: ignore[attr-defined]
            await self._load_marks(self._read())

    @property
    def triage(self) -> Triage | None:
        return self._triage

    async def _load_marks(self, db: aiosqlite.Connection) -> None:
        """Read the learned marks if another process (or this one, before) changed them."""
        from ecoinbox.store.sqlite import _one

        assert self._triage is not None
        row = await _one(db, "SELECT version, data FROM spam_marks WHERE id = 1")
        version = int(row["version"]) if row else 0
        if version != self._marks_version:
            self._triage.restore_marks(bytes(row["data"]) if row else None)
            self._marks_version = version

    async def _save_marks(self, db: aiosqlite.Connection) -> None:
        from ecoinbox.store.sqlite import _one

        assert self._triage is not None
        row = await _one(
            db,
            "INSERT INTO spam_marks (id, version, data) VALUES (1, 1, ?) ON CONFLICT (id) DO UPDATE"
            " SET version = version + 1, data = excluded.data RETURNING version",
            (self._triage.marks_bytes(),),
        )
        self._marks_version = int(row[0]) if row else self._marks_version

    # ---- at ingest -------------------------------------------------------------------------

    async def _triage_start(
        self, db: aiosqlite.Connection, author_ids: Sequence[int]
    ) -> tuple[TriageBatch, set[int]]:
        """Before a batch: the marks as another process may have left them, and which of the
        batch's authors wrote before in a conversation that is not spam."""
        from ecoinbox.store.sqlite import _all

        await self._load_marks(db)
        ids = sorted(set(author_ids))
        known: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await _all(
                db, f"SELECT id FROM authors WHERE known = 1 AND id IN ({','.join('?' * len(chunk))})", chunk
            )
            known.update(row[0] for row in rows)
        from ecoinbox.store.sqlite import to_ms

        return TriageBatch(started=to_ms(self._clock())), known

    def _triage_message(
        self,
        batch: TriageBatch,
        message: Message,
        author_id: int,
        conversation_id: int,
        summary: Any,
        *,
        new_conversation: bool,
        post: str | None,
        known_author: bool,
        newest: bool = True,
        answered: bool = True,
    ) -> None:
        """Triage one new message from outside, in memory: its conversation's summary row
        (state, reason, priority) is changed in place, history and notes wait in `batch`.

        Priority follows what the person says now: a message after the brand's answer sets it
        afresh ("thanks, it arrived" calms a complaint), one more while they wait can only raise
        it, and an older message fetched late (context) leaves it as it is."""
        assert self._triage is not None
        from ecoinbox.store.sqlite import from_ms, to_ms

        try:
            assessment = self._triage.assess(message, post=post, known_author=known_author)
        except Exception:  # noqa: BLE001 - a bug in a rule or the filter must not stop the poll
            # Precision first: a message the filter could not judge stays in the inbox, seen.
            log.exception("triage failed on a message of %s; it stays in the inbox untriaged", message.channel)
            return
        if not new_conversation and assessment.verdict.is_spam:
            # A spam reply in someone's thread goes to Spam alone (`_split_out`, before the batch
            # commits): its words set no priority and the conversation stays where it was.
            batch.spam_replies.append((message.channel, message.remote_id, str(assessment.verdict)))
            return
        at = to_ms(self._clock())
        old_priority = summary.priority
        level = assessment.level
        if new_conversation or (newest and answered) or newest and level > summary.priority:
            summary.priority, summary.priority_reason = level, assessment.priority_reason
        if summary.priority != old_priority or (new_conversation and level != 0):
            actor = next((a.actor for a in assessment.actions if a.what == "priority"), "priority")
            batch.history.append(
                (conversation_id, at, actor, "priority", str(old_priority), summary.priority_reason)
            )
        if summary.priority > 0 and (new_conversation or old_priority <= 0) and not summary.muted:
            batch.urgent.add(conversation_id)
        snooze: tuple[str, int] | None = None
        for action in assessment.actions:
            if action.what in ("tag", "assign", "snooze", "canned"):
                batch.notes.append((conversation_id, action.rule, action.what, action.value, at))
                batch.history.append((conversation_id, at, action.actor, action.what, None, action.value))
            # Tags, assignment and snooze act on the states/team columns: the views show them.
            if action.what == "tag" and (tag := normalize_tag(action.value)):
                batch.tags.add((conversation_id, tag))
            elif action.what == "assign" and not summary.assignee:  # never takes one from a person
                summary.assignee = action.value
            elif action.what == "snooze":
                snooze = action.actor, at + _duration_ms(action.value)
        # Precision first: only a conversation this message starts can go to Spam, never a
        # thread where someone already spoke. A rule's word beats the filter's.
        target, actor, reason = None, "", ""
        for action in assessment.actions:
            if action.what == "spam" and new_conversation:
                target, actor, reason = State.SPAM, action.actor, f"spam: {action.actor}"
            elif action.what == "done":
                target, actor, reason = State.DONE, action.actor, action.actor
        if target is None and new_conversation and assessment.verdict.is_spam:
            target, actor, reason = State.SPAM, SPAM_ACTOR, str(assessment.verdict)
        if target is not None and summary.state != target.value:
            old = summary.state
            summary.state, summary.reason, summary.state_changed_at = target.value, reason, at
            batch.history.append((conversation_id, at, actor, "state", old, f"{target.value} ({reason})"))
        elif target is None and snooze is not None and summary.state == State.OPEN.value:
            # Until their next message (which reopens it, as any snooze) or the time it wakes.
            actor, wake = snooze
            summary.state, summary.reason, summary.state_changed_at = State.SNOOZED.value, actor, at
            summary.snoozed_until = wake
            until = from_ms(wake).isoformat(timespec="minutes")  # type: ignore[union-attr]
            label = f"snoozed until {until}"
            batch.history.append((conversation_id, at, actor, "state", State.OPEN.value, label))
        if summary.state == State.SPAM.value:
            batch.spam.add(conversation_id)
            batch.urgent.discard(conversation_id)
        else:
            batch.known_authors.add(author_id)

    async def _triage_finish(self, db: aiosqlite.Connection, batch: TriageBatch) -> None:
        from ecoinbox.store.sqlite import _all, _many, _one

        for channel, remote_id, reason in batch.spam_replies:
            row = await _one(db, "SELECT id FROM messages WHERE channel = ? AND remote_id = ?", (channel, remote_id))
            moved = await self._split_out(db, int(row[0]), SPAM_ACTOR, reason) if row else None
            if moved is not None:
                batch.spam.add(moved[1])
                await self._undo_reopen(db, moved[0], batch.started)

        await _many(
            db,
            "INSERT INTO history (conversation_id, at, actor, action, old_value, new_value) VALUES (?,?,?,?,?,?)",
            batch.history,
        )
        await _many(
            db,
            "INSERT INTO rule_actions (conversation_id, rule, action, value, at) VALUES (?,?,?,?,?)",
            batch.notes,
        )
        await _many(
            db,
            "UPDATE authors SET known = 1 WHERE id = ? AND known = 0",
            [(a,) for a in sorted(batch.known_authors)],
        )
        if batch.tags:
            await _many(
                db, "INSERT OR IGNORE INTO conversation_tags (conversation_id, tag) VALUES (?, ?)",
                sorted(batch.tags),
            )  # fmt: skip
            for conversation_id in sorted({c for c, _ in batch.tags}):
                rows = await _all(
                    db, "SELECT tag FROM conversation_tags WHERE conversation_id = ? ORDER BY tag",
                    (conversation_id,),
                )  # fmt: skip
                await db.execute(
                    "UPDATE conversations SET tags = ? WHERE id = ?",
                    (" ".join(row[0] for row in rows), conversation_id),
                )

    # ---- the manager's marks teach ---------------------------------------------------------

    async def _learn_from_state(
        self, db: aiosqlite.Connection, conversation_id: int, old: State, new: State, actor: str
    ) -> None:
        """The manager moved a conversation into or out of Spam: the filter learns from it (an
        undo takes the lesson back), and the learned marks are saved in the same transaction."""
        if self._triage is None or (old is State.SPAM) == (new is State.SPAM):
            return
        if actor == SPAM_ACTOR or actor.startswith("rule:"):
            return
        first = await self._first_inbound(db, conversation_id)
        if first is None:
            return
        message, author_id, post = first
        await self._load_marks(db)
        if actor.endswith("(undo)"):
            # Undoing "spam" takes back a spam mark; undoing "not spam" takes back that one.
            self._triage.forget(message, new is not State.SPAM, post=post)
        else:
            self._triage.learn(message, new is State.SPAM, post=post)
            await db.execute(
                "UPDATE authors SET known = ? WHERE id = ?", (int(new is not State.SPAM), author_id)
            )
        await self._save_marks(db)

    async def _first_inbound(
        self, db: aiosqlite.Connection, conversation_id: int
    ) -> tuple[Message, int, str | None] | None:
        """The conversation's first message from outside (the one its verdict was about), its
        author's id, and the text it answered."""
        from ecoinbox.store.sqlite import _MESSAGE_SQL, _message, _one

        row = await _one(
            db,
            _MESSAGE_SQL
            + " WHERE m.conversation_id = ? AND m.origin != 'ours' ORDER BY m.created_at, m.id LIMIT 1",
            (conversation_id,),
        )
        if row is None:
            return None
        parent = None
        if row["parent_remote_id"]:
            parent = await _one(
                db,
                "SELECT text FROM messages WHERE channel = ? AND remote_id = ?",
                (row["channel"], row["parent_remote_id"]),
            )
        return _message(row), int(row["author_id"]), parent[0] if parent else None

    # ---- a spam reply leaves its conversation ----------------------------------------------------

    async def split_spam(self, message_id: int, *, actor: str = MUTE_ACTOR) -> tuple[int, int] | None:
        """Move one reply (and the replies to it) out of its conversation into a conversation of
        its own, in Spam; the filter learns from it as from any spam mark. Returns (the old
        conversation, the new one), or None when the message starts its conversation (mark the
        whole conversation spam instead) or is not there."""
        from ecoinbox.store.sqlite import Change

        async with self._write() as db:
            moved = await self._split_out(db, message_id, actor, "marked spam")
            if moved is not None and self._triage is not None:
                first = await self._first_inbound(db, moved[1])
                if first is not None:
                    await self._load_marks(db)
                    self._triage.learn(first[0], True, post=first[2])
                    await db.execute("UPDATE authors SET known = 0 WHERE id = ?", (first[1],))
                    await self._save_marks(db)
        if moved is not None:
            self._notify(Change("state", frozenset(moved)))
        return moved

    async def _split_out(
        self, db: aiosqlite.Connection, message_id: int, actor: str, reason: str
    ) -> tuple[int, int] | None:
        """Move `message_id` and its descendants to a new conversation in Spam and recount the
        conversation they leave (its state, priority and the manager's fields stay)."""
        from ecoinbox.store.sqlite import _MESSAGE_SQL, _all, _one, _Summary, to_ms

        row = await _one(db, "SELECT conversation_id, remote_id FROM messages WHERE id = ?", (message_id,))
        if row is None:
            return None
        old_id = int(row["conversation_id"])
        rows = await _all(
            db, _MESSAGE_SQL + " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id", (old_id,)
        )
        if not rows or rows[0]["id"] == message_id:
            return None
        leaving = {row["remote_id"]}
        for other in rows:  # in time order: a reply comes after what it answers
            if other["parent_remote_id"] in leaving:
                leaving.add(other["remote_id"])
        moving = [r for r in rows if r["remote_id"] in leaving]
        staying = [r for r in rows if r["remote_id"] not in leaving]
        top = await _one(db, "SELECT max(id) FROM conversations")
        new_id = int(top[0] or 0) + 1 if top is not None else 1
        now = to_ms(self._clock())
        fresh = _replay(moving, self._clock)
        fresh.state, fresh.state_changed_at, fresh.reason = State.SPAM.value, now, f"spam reply: {reason}"
        columns = _Summary.COLUMNS
        await db.execute(
            f"INSERT INTO conversations (id, channel, root_remote_id, {', '.join(columns)})"
            f" VALUES (?, ?, ?, {', '.join('?' * len(columns))})",
            (new_id, fresh.channel, fresh.root_remote_id, *fresh.values()),
        )
        await db.execute(
            f"UPDATE messages SET conversation_id = ? WHERE id IN ({','.join('?' * len(moving))})",
            (new_id, *(r["id"] for r in moving)),
        )
        # What the row shows (count, snippet, last activity, who waits) follows the messages
        # that stay; what the manager or triage decided (state, priority, notes) stays as it was.
        kept = await _one(db, f"SELECT {', '.join(columns)} FROM conversations WHERE id = ?", (old_id,))
        recount = _replay(staying, self._clock)
        for column in ("state", "state_changed_at", "reason", "priority", "priority_reason", "muted",
                       "snoozed_until", "assignee"):  # fmt: skip
            setattr(recount, column, kept[column])  # type: ignore[index]
        await db.execute(
            f"UPDATE conversations SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            (*recount.values(), old_id),
        )
        await self._record(db, old_id, actor, "split", None, f"a reply moved to Spam (#{new_id})")
        await self._record(db, new_id, actor, "state", None, f"spam (left #{old_id}: {reason})")
        return old_id, new_id

    async def _undo_reopen(self, db: aiosqlite.Connection, conversation_id: int, since: int) -> None:
        """The conversation went back to Open in this batch, and the spam reply that left was what
        reopened it (nothing from outside newer than its last change remains): back as it was."""
        from ecoinbox.store.sqlite import _one, to_ms

        reopened = await _one(
            db, "SELECT old_value FROM history WHERE conversation_id = ? AND actor = 'system'"
            " AND action = 'reopened' AND at >= ? ORDER BY id DESC LIMIT 1", (conversation_id, since),
        )  # fmt: skip
        row = await _one(db, "SELECT state, last_activity, needs_reply FROM conversations WHERE id = ?",
                         (conversation_id,))  # fmt: skip
        if reopened is None or row is None or row["state"] != State.OPEN.value:
            return
        before = await _one(
            db, "SELECT max(at) FROM history WHERE conversation_id = ? AND action = 'state' AND at < ?",
            (conversation_id, since),
        )  # fmt: skip
        if row["needs_reply"] and before is not None and before[0] is not None and row["last_activity"] > before[0]:
            return  # someone real wrote since: it stays open
        old = str(reopened["old_value"])
        if old not in (State.DONE.value, State.PENDING.value):
            return  # a snooze lost its wake-up time when it was reopened: open is the safe side
        await db.execute(
            "UPDATE conversations SET state = ?, reason = '', state_changed_at = ? WHERE id = ?",
            (old, to_ms(self._clock()), conversation_id),
        )
        await self._record(db, conversation_id, SPAM_ACTOR, "state", State.OPEN.value, f"{old} (reopened by spam)")

    # ---- reading and muting ----------------------------------------------------------------

    async def rule_notes(self, conversation_id: int) -> list[RuleNote]:
        """What rules did or suggest to this conversation (tags, assignment, snooze, canned)."""
        from ecoinbox.store.sqlite import _all, from_ms

        rows = await _all(
            self._read(),
            "SELECT rule, action, value, at FROM rule_actions WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [RuleNote(r["rule"], r["action"], r["value"], from_ms(r["at"])) for r in rows]  # type: ignore[arg-type]

    async def _triage_notes(self, conversation_id: int) -> list[str]:
        """What rules did or suggest to it, one line each, for the thread header."""
        words = {
            "tag": "tagged",
            "assign": "assigned to",
            "snooze": "snoozed for",
            "canned": "suggests canned reply",
        }
        return [
            f"rule:{n.rule}: {words.get(n.action, n.action)} {n.value}"
            for n in await self.rule_notes(conversation_id)
        ]

    async def set_muted(
        self, conversation_ids: Sequence[int], muted: bool, *, actor: str = MUTE_ACTOR
    ) -> list[int]:
        """Mute (no notification, new activity does not reopen it once done) or unmute; returns
        the conversations that changed."""
        from ecoinbox.store.sqlite import Change, _one

        changed: list[int] = []
        async with self._write() as db:
            for conversation_id in conversation_ids:
                row = await _one(
                    db, "UPDATE conversations SET muted = ? WHERE id = ? AND muted != ? RETURNING id",
                    (int(muted), conversation_id, int(muted)),
                )  # fmt: skip
                if row is not None:
                    changed.append(conversation_id)
                    await self._record(
                        db, conversation_id, actor, "muted" if muted else "unmuted", None, None
                    )
        if changed:
            self._notify(Change("state", frozenset(changed)))
        return changed


def _duration_ms(text: str) -> int:
    """A rule's snooze ("30m", "4h", "2d", "1w", checked when the config was read) in ms."""
    from ecoinbox.config import duration_seconds

    return duration_seconds(text) * 1000


def _replay(rows: Sequence[Any], clock: Any) -> Any:
    """A conversation's summary rebuilt from its message rows, oldest first."""
    from ecoinbox.store.sqlite import _message, _Summary, to_ms

    first = _message(rows[0])
    summary = _Summary.new(first, to_ms(first.created_at))
    for row in rows:
        summary.add(_message(row), int(row["author_id"]), int(row["created_at"]), clock)
    return summary
