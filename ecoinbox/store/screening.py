"""The store's side of automatic screening: spam, priority and rules at ingest; marks that teach.

A mixin of `SQLiteStore` (it uses its transactions and helpers). The store stays SQL-only: the
judging is done by a `Screener` object (pure Python, built from the config) handed to
`attach_screener`. Ingest is a plan and a short write: what screening needs is read first (known
authors, the texts answered, the learned marks), the new messages from outside are judged in a
worker thread, off the event loop and before the write transaction, and the write applies the
verdicts, with who decided them in the history. A message whose screening runs over its budget
(`SCREENING_BUDGET_S`) or is longer than `MAX_SCREENING_CHARS` is stored unscreened, in the inbox, with
"screening skipped: too long" in its notes and history.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from ecoinbox.model import Message, State, normalize_tag
from ecoinbox.store.base import Change, ChangeKind
from ecoinbox.store.convert import MESSAGE_SQL as _MESSAGE_SQL
from ecoinbox.store.convert import to_message as _message
from ecoinbox.store.errors import StoreError
from ecoinbox.store.ingest_plan import Summary as _Summary
from ecoinbox.store.moderation import ModerationStore
from ecoinbox.store.sql import execute_many as _many
from ecoinbox.store.sql import fetch_all as _all
from ecoinbox.store.sql import fetch_one as _one
from ecoinbox.store.times import from_ms, to_ms

if TYPE_CHECKING:
    from ecoinbox.screening.inbound import Assessment, Screener

log = logging.getLogger(__name__)

SPAM_ACTOR = "spam filter"
MUTE_ACTOR = "manager"
SCREENING_ACTOR = "screening"
SCREENING_BUDGET_S: Final = 0.2
"""Seconds of screening a message may take (a batch: this many per message, plus `SCREENING_GRACE_S`);
beyond, the batch is stored without waiting and what was not judged yet is marked skipped."""
SCREENING_GRACE_S: Final = 1.0
MAX_SCREENING_CHARS: Final = 1_000_000
"""A longer text is not screened at all (screening reads the start of a text; this is a sanity cap)."""
TOO_LONG: Final = "too long"

MessageKey = tuple[str, str]  # (channel, remote id)


@dataclass(slots=True)
class ScreeningPlan:
    """Screening decided before the write: an assessment per new message from outside, or the reason
    it was skipped (`TOO_LONG`), or None when screening failed on it (it stays in the inbox)."""

    verdicts: dict[MessageKey, Assessment | str | None] = field(default_factory=dict)

    def verdict(self, message: Message) -> Assessment | str | None:
        return self.verdicts.get((message.channel, message.remote_id))


@dataclass(frozen=True, slots=True)
class _Item:
    key: MessageKey
    message: Message
    post: str | None
    known_author: bool
    engine_signals: tuple[Any, ...] = ()  # what the spam engines said (`Engines.consult`)


@dataclass(frozen=True, slots=True)
class RuleNote:
    """Something a rule did or suggested that has no column of its own (tag, assign, snooze,
    canned), as the thread header shows it."""

    rule: str
    action: str
    value: str
    at: datetime


@dataclass(slots=True)
class ScreeningBatch:
    """What screening decided during one ingest batch, written before the batch commits."""

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


class ScreeningStore(ModerationStore):
    """Spam, priority and rules at ingest, the spam filter's learned marks, and muting."""

    _screener: Screener | None = None
    _marks_version: int = -1
    _screening_pool: ThreadPoolExecutor | None = None  # one thread: Screener's state is never shared
    _plan_lock: asyncio.Lock | None = None
    # The manager's spam marks made while a screener is on its way (the inbox builds it after
    # its first rows): taught to it once attached, not lost. None: no screener is expected.
    _lessons_waiting: list[tuple[int, State, State, str]] | None = None

    def expect_screener(self) -> None:
        """A screener will be attached soon: keep the lessons of the marks made until then."""
        if self._screener is None and self._lessons_waiting is None:
            self._lessons_waiting = []

    async def attach_screener(self, screener: Screener | None) -> None:
        """From now on, new messages from outside are screened by `screener` as they are stored."""
        self._screener = screener
        self._marks_version = -1
        if screener is not None and self._screening_pool is None:
            self._screening_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoinbox-screening")
            self._plan_lock = asyncio.Lock()
        if screener is not None and self._reader is not None:
            await self._load_marks(self._read())
        waiting, self._lessons_waiting = self._lessons_waiting, None
        if screener is not None and waiting:
            try:
                async with self._write() as db:
                    for conversation_id, old, new, actor in waiting:
                        await self._learn_from_state(db, conversation_id, old, new, actor)
            except StoreError:  # a full disk: those lessons are lost, the screening goes on
                log.warning("%d spam mark(s) made at start could not be learned", len(waiting), exc_info=True)

    def _stop_screening(self) -> None:
        """At close: the worker takes no more work (one still running finishes on its own)."""
        if self._screening_pool is not None:
            self._screening_pool.shutdown(wait=False, cancel_futures=True)
            self._screening_pool = None

    async def _in_worker(self, call: Any, *args: Any) -> Any:
        """Run `call(*args)` on the screener's own thread (its state is touched by that thread only)."""
        if self._screening_pool is None:
            return call(*args)
        return await asyncio.get_running_loop().run_in_executor(self._screening_pool, call, *args)

    @property
    def screener(self) -> Screener | None:
        return self._screener

    async def _load_marks(self, db: aiosqlite.Connection) -> None:
        """Read the learned marks if another process (or this one, before) changed them."""
        assert self._screener is not None
        row = await _one(db, "SELECT version, data FROM spam_marks WHERE id = 1")
        version = int(row["version"]) if row else 0
        if version != self._marks_version:
            await self._in_worker(self._screener.restore_marks, bytes(row["data"]) if row else None)
            self._marks_version = version

    async def _save_marks(self, db: aiosqlite.Connection) -> None:
        assert self._screener is not None
        row = await _one(
            db,
            "INSERT INTO spam_marks (id, version, data) VALUES (1, 1, ?) ON CONFLICT (id) DO UPDATE"
            " SET version = version + 1, data = excluded.data RETURNING version",
            (await self._in_worker(self._screener.marks_bytes),),
        )
        self._marks_version = int(row[0]) if row else self._marks_version

    # ---- at ingest -------------------------------------------------------------------------

    async def _screening_plan(self, messages: Sequence[Message]) -> ScreeningPlan | None:
        """Judge the batch's new messages from outside before the write transaction: what they
        need is read first, the judging runs in the screener's thread (the event loop stays free)."""
        if self._screener is None or self._plan_lock is None or all(m.is_ours for m in messages):
            return None
        if self._refusal is not None:  # read-only: the write refuses anyway, judge nothing
            return None
        async with self._plan_lock:  # one plan at a time: the recent-text memory is in order
            db = self._read()
            await self._load_marks(db)
            items = await self._plan_items(db, messages)
            if items and self._screener.engines:  # asked in their own thread, each within its timeout
                said = await self._screener.engines.consult([item.message for item in items])
                items = [replace(item, engine_signals=s) for item, s in zip(items, said, strict=True)]
            return ScreeningPlan(await self._judge(items))

    async def _plan_items(self, db: aiosqlite.Connection, messages: Sequence[Message]) -> list[_Item]:
        """The new messages from outside, each with the text it answers and whether its author is
        known (wrote before in a conversation that is not spam)."""
        keys = {(m.channel, m.remote_id) for m in messages}
        keys |= {(m.channel, m.in_reply_to) for m in messages if m.in_reply_to}
        stored: dict[MessageKey, str] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 400):
            chunk = ordered[start : start + 400]
            where = " OR ".join("(channel = ? AND remote_id = ?)" for _ in chunk)
            rows = await _all(db, f"SELECT channel, remote_id, text FROM messages WHERE {where}",
                              [value for key in chunk for value in key])  # fmt: skip
            stored.update({(row[0], row[1]): row[2] for row in rows})
        people = sorted({(m.channel, m.author.remote_id) for m in messages if not m.is_ours})
        known: set[tuple[str, str]] = set()
        for start in range(0, len(people), 400):
            chunk = people[start : start + 400]
            where = " OR ".join("(channel = ? AND remote_id = ?)" for _ in chunk)
            rows = await _all(db, f"SELECT channel, remote_id FROM authors WHERE known = 1 AND ({where})",
                              [value for key in chunk for value in key])  # fmt: skip
            known.update((row[0], row[1]) for row in rows)
        texts = dict(stored)
        items: list[_Item] = []
        for message in messages:
            key = (message.channel, message.remote_id)
            if key in texts:
                continue  # stored before (an edit), or twice in the batch: judged once, when new
            texts[key] = message.text
            if message.is_ours:
                continue
            post = texts.get((message.channel, message.in_reply_to)) if message.in_reply_to else None
            items.append(_Item(key, message, post, (message.channel, message.author.remote_id) in known))
        return items

    async def _judge(self, items: list[_Item]) -> dict[MessageKey, Assessment | str | None]:
        """Each item's assessment, from the screener's thread; what is not judged within the budget is
        `TOO_LONG` (the thread stops after the message it is on)."""
        if not items:
            return {}
        assert self._screener is not None and self._screening_pool is not None
        verdicts: dict[MessageKey, Assessment | str | None] = {}
        lock, stop = threading.Lock(), threading.Event()
        work = asyncio.get_running_loop().run_in_executor(
            self._screening_pool, _judge_items, self._screener, items, verdicts, lock, stop
        )
        try:
            await asyncio.wait_for(asyncio.shield(work), SCREENING_BUDGET_S * len(items) + SCREENING_GRACE_S)
        except TimeoutError:
            stop.set()
            work.add_done_callback(_log_failure)
        with lock:
            done = dict(verdicts)
        late = [item for item in items if item.key not in done]
        if late:
            log.warning("screening ran over its time on %d message(s) of %s; they wait in the inbox"
                        " unscreened", len(late), late[0].message.channel)  # fmt: skip
        return {item.key: done.get(item.key, TOO_LONG) for item in items}

    def _screen_message(
        self,
        batch: ScreeningBatch,
        message: Message,
        author_id: int,
        conversation_id: int,
        summary: Any,
        *,
        new_conversation: bool,
        verdict: Assessment | str | None,
        newest: bool = True,
        answered: bool = True,
    ) -> None:
        """Screen one new message from outside, in memory: its conversation's summary row
        (state, reason, priority) is changed in place, history and notes wait in `batch`.

        Priority follows what the person says now: a message after the brand's answer sets it
        afresh ("thanks, it arrived" calms a complaint), one more while they wait can only raise
        it, and an older message fetched late (context) leaves it as it is.

        `verdict` is what the plan decided (`_screening_plan`): an assessment, the reason screening was
        skipped (the message stays in the inbox, and its notes say so), or None (screening failed)."""
        if verdict is None:
            return
        at = to_ms(self._clock())
        if isinstance(verdict, str):
            batch.notes.append((conversation_id, "", "skipped", verdict, at))
            batch.history.append(
                (conversation_id, at, SCREENING_ACTOR, "screening", None, f"skipped: {verdict}")
            )
            batch.known_authors.discard(author_id)
            return
        assessment = verdict
        if not new_conversation and assessment.verdict.is_spam:
            # A spam reply in someone's thread goes to Spam alone (`_split_out`, before the batch
            # commits): its words set no priority and the conversation stays where it was.
            batch.spam_replies.append((message.channel, message.remote_id, str(assessment.verdict)))
            return
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

    async def _screening_finish(self, db: aiosqlite.Connection, batch: ScreeningBatch) -> None:
        for channel, remote_id, reason in batch.spam_replies:
            row = await _one(
                db, "SELECT id FROM messages WHERE channel = ? AND remote_id = ?", (channel, remote_id)
            )
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
        if (old is State.SPAM) == (new is State.SPAM) or actor == SPAM_ACTOR or actor.startswith("rule:"):
            return
        if self._screener is None:
            if self._lessons_waiting is not None:
                self._lessons_waiting.append((conversation_id, old, new, actor))
            return
        first = await self._first_inbound(db, conversation_id)
        if first is None:
            return
        message, author_id, post = first
        await self._load_marks(db)
        if actor.endswith("(undo)"):
            # Undoing "spam" takes back a spam mark; undoing "not spam" takes back that one.
            await self._in_worker(
                functools.partial(self._screener.forget, message, new is not State.SPAM, post=post)
            )
        else:
            await self._in_worker(
                functools.partial(self._screener.learn, message, new is State.SPAM, post=post)
            )
            await db.execute(
                "UPDATE authors SET known = ? WHERE id = ?", (int(new is not State.SPAM), author_id)
            )
        await self._save_marks(db)

    async def _first_inbound(
        self, db: aiosqlite.Connection, conversation_id: int
    ) -> tuple[Message, int, str | None] | None:
        """The conversation's first message from outside (the one its verdict was about), its
        author's id, and the text it answered."""
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
        async with self._write() as db:
            moved = await self._split_out(db, message_id, actor, "marked spam")
            if moved is not None:  # hidden on its platform too, where it can be (see store.moderation)
                await self._queue_moderation(db, moved[1], State.OPEN, State.SPAM, actor)
            if moved is not None and self._screener is not None:
                first = await self._first_inbound(db, moved[1])
                if first is not None:
                    await self._load_marks(db)
                    self._screener.learn(first[0], True, post=first[2])
                    await db.execute("UPDATE authors SET known = 0 WHERE id = ?", (first[1],))
                    await self._save_marks(db)
        if moved is not None:
            self._notify(Change(ChangeKind.STATE, frozenset(moved)))
        return moved

    async def _split_out(
        self, db: aiosqlite.Connection, message_id: int, actor: str, reason: str
    ) -> tuple[int, int] | None:
        """Move `message_id` and its descendants to a new conversation in Spam and recount the
        conversation they leave (its state, priority and the manager's fields stay)."""
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
        # that stay; what the manager or screening decided (state, priority, notes) stays as it was.
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
        if (
            row["needs_reply"]
            and before is not None
            and before[0] is not None
            and row["last_activity"] > before[0]
        ):
            return  # someone real wrote since: it stays open
        old = str(reopened["old_value"])
        if old not in (State.DONE.value, State.PENDING.value):
            return  # a snooze lost its wake-up time when it was reopened: open is the safe side
        await db.execute(
            "UPDATE conversations SET state = ?, reason = '', state_changed_at = ? WHERE id = ?",
            (old, to_ms(self._clock()), conversation_id),
        )
        await self._record(
            db, conversation_id, SPAM_ACTOR, "state", State.OPEN.value, f"{old} (reopened by spam)"
        )

    # ---- reading and muting ----------------------------------------------------------------

    async def rule_notes(self, conversation_id: int) -> list[RuleNote]:
        """What rules did or suggest to this conversation (tags, assignment, snooze, canned)."""
        rows = await _all(
            self._read(),
            "SELECT rule, action, value, at FROM rule_actions WHERE conversation_id = ? ORDER BY at, id",
            (conversation_id,),
        )
        return [RuleNote(r["rule"], r["action"], r["value"], from_ms(r["at"])) for r in rows]  # type: ignore[arg-type]

    async def _screening_notes(self, conversation_id: int) -> list[str]:
        """What rules did or suggest to it, one line each, for the thread header."""
        words = {
            "tag": "tagged",
            "assign": "assigned to",
            "snooze": "snoozed for",
            "canned": "suggests canned reply",
        }
        return [
            f"rule:{n.rule}: {words.get(n.action, n.action)} {n.value}"
            if n.rule
            else f"screening {n.action}: {n.value}"
            for n in await self.rule_notes(conversation_id)
        ]

    async def set_muted(
        self, conversation_ids: Sequence[int], muted: bool, *, actor: str = MUTE_ACTOR
    ) -> list[int]:
        """Mute (no notification, new activity does not reopen it once done) or unmute; returns
        the conversations that changed."""
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
            self._notify(Change(ChangeKind.STATE, frozenset(changed)))
        return changed


def _duration_ms(text: str) -> int:
    """A rule's snooze ("30m", "4h", "2d", "1w", checked when the config was read) in ms."""
    from ecoinbox.config import duration_seconds

    return duration_seconds(text) * 1000


def _judge_items(
    screener: Screener,
    items: list[_Item],
    verdicts: dict[MessageKey, Assessment | str | None],
    lock: threading.Lock,
    stop: threading.Event,
) -> None:
    """In the screener's thread: assess each item in order until `stop` (the event loop gave up); the
    items are assessed together (`Screener.assess_batch`: a numpy pass for their MinHashes)."""
    judged = [item for item in items if len(item.message.text) <= MAX_SCREENING_CHARS]
    with lock:
        verdicts.update(
            (item.key, TOO_LONG) for item in items if len(item.message.text) > MAX_SCREENING_CHARS
        )
    done = 0
    while done < len(judged):
        rest = judged[done:]
        assessments = screener.assess_batch(
            [item.message for item in rest],
            posts=[item.post for item in rest],
            known_authors=[item.known_author for item in rest],
            engine_signals=[item.engine_signals for item in rest],
        )
        for item in rest:
            if stop.is_set():
                return
            done += 1
            verdict: Assessment | None
            try:
                verdict = next(assessments)
            except Exception:  # a bug in a rule or the filter must not stop the poll
                # Precision first: a message the filter could not judge stays in the inbox, seen.
                log.exception("screening failed on a message of %s; it stays in the inbox unscreened",
                              item.message.channel)  # fmt: skip
                verdict = None
            with lock:
                verdicts[item.key] = verdict
            if verdict is None:
                break  # the batch's generator is over: the next ones start a new one


def _log_failure(work: asyncio.Future[None]) -> None:
    if not work.cancelled() and work.exception() is not None:
        log.error("the screener's thread failed", exc_info=work.exception())


def _replay(rows: Sequence[Any], clock: Any) -> Any:
    """A conversation's summary rebuilt from its message rows, oldest first."""
    first = _message(rows[0])
    summary = _Summary.new(first, to_ms(first.created_at))
    for row in rows:
        summary.add(_message(row), int(row["author_id"]), int(row["created_at"]), clock)
    return summary
