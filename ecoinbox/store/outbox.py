"""The durable outbox: every reply written before the network is touched."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from ecoinbox.model import (
    ConcurrentReply,
    DraftKind,
    LinkUse,
    Message,
    Origin,
    OutboxItem,
    OutboxState,
    ReplyDecision,
    ReplyMark,
    State,
)
from ecoinbox.store.base import Change, ChangeKind, IngestResult
from ecoinbox.store.convert import to_outbox_item
from ecoinbox.store.drafts import delete_draft_in
from ecoinbox.store.errors import StoreError
from ecoinbox.store.ingest import IngestStore
from ecoinbox.store.ingest_plan import SNIPPET_CHARS
from ecoinbox.store.sql import fetch_all, fetch_one
from ecoinbox.store.states import StatesStore
from ecoinbox.store.times import from_ms, to_ms

TOPIC_REASON = "forum topic made by a redirect"  # the state reason of a topic `f` opened
CONTEXT_CHARS = 2000  # of what the person said, kept with each canned link sent


# An outbox row is not held back by an earlier reply of its conversation that is still on its way.
_NOT_BEHIND_AN_EARLIER_REPLY = (
    "NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.conversation_id = outbox.conversation_id"
    " AND earlier.id < outbox.id AND earlier.kind = 'reply' AND outbox.kind = 'reply'"
    " AND earlier.state IN ('queued', 'sending', 'unknown'))"
)


class OutboxStore(IngestStore, StatesStore):
    """The outbox and the sender's side of it; mixed into `SQLiteStore`."""

    async def queue_reply(
        self,
        conversation_id: int,
        parent: Message,
        text: str,
        *,
        visibility: str | None = None,
        language: str | None = None,
        canned: Sequence[str] = (),
        link: str | None = None,
        approve_parent: bool = False,
        actor: str = "manager",
        hold: float = 0.0,
        draft: DraftKind | None = None,
        to: Sequence[str] = (),
        cc: Sequence[str] = (),
        subject: str | None = None,
        wider: bool = False,
    ) -> OutboxItem:
        """Write a reply before the network is touched; the engine's sender takes it from here.

        `approve_parent`: the parent is held for moderation; approve it before replying.
        `actor`: who wrote it, for the history. `hold`: seconds the sender leaves it alone, so
        that the manager can still take it back (`withdraw_reply`). `draft`: the kind of draft
        this reply was typed in, dropped in the same commit. `to`, `cc`, `subject`: a mail's
        headers as the manager set them. `wider`: the manager confirmed `visibility` though it is
        more public than the parent's."""
        if hold < 0:
            raise ValueError("a reply cannot be held for a negative time")
        async with self._write(durable=True) as db:
            record = await self._insert_outbox(
                db, conversation_id, kind="reply", channel=parent.channel, parent_remote_id=parent.remote_id,
                text=text, visibility=visibility, language=language, canned=canned, link=link,
                approve_parent=int(approve_parent), hold_ms=int(hold * 1000), to_addresses="\n".join(to),
                cc_addresses="\n".join(cc), subject=subject, wider=int(wider),
            )  # fmt: skip
            await self._record(db, conversation_id, actor, "reply queued", None, str(record["id"]))
            if draft is not None:
                await delete_draft_in(db, conversation_id, draft)
        self._notify(Change(ChangeKind.OUTBOX, frozenset({conversation_id})))
        return to_outbox_item(record)

    async def withdraw_reply(self, item_id: int, *, actor: str = "manager") -> OutboxItem | None:
        """Take back a reply no sender has touched (queued, never attempted, under no lease): it is
        discarded, and returned so that its text can be edited again. None when a sender took it
        first (it is being sent, or was): one statement decides, so it never races a claim.

        A forum topic is taken back with the reply waiting for it (which no sender can take
        before the topic is sent), in the same transaction."""
        async with self._write(durable=True) as db:
            row = await fetch_one(
                db,
                "UPDATE outbox SET state = ?, error = 'taken back before it was sent'"
                " WHERE id = ? AND depends_on IS NULL AND state = ? AND attempts = 0 AND lease_owner IS NULL"
                " RETURNING *",
                (OutboxState.DISCARDED.value, item_id, OutboxState.QUEUED.value),
            )
            if row is None:
                return None
            if row["kind"] == "topic":
                await db.execute(
                    "UPDATE outbox SET state = ?, error = 'taken back before it was sent'"
                    " WHERE depends_on = ? AND state = ?",
                    (OutboxState.DISCARDED.value, item_id, OutboxState.QUEUED.value),
                )
            what = f"{row['kind']} taken back"
            await self._record(db, row["conversation_id"], actor, what, None, str(item_id))
        item = to_outbox_item(row)
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id})))
        return item

    async def queue_redirect_topic(
        self,
        conversation_id: int,
        *,
        forum_channel: str,
        title: str,
        body: str,
        category: str | None,
        parent: Message,
        reply_text: str,
        visibility: str | None = None,
        language: str | None = None,
        canned: Sequence[str] = (),
        actor: str = "manager",
        hold: float = 0.0,
    ) -> tuple[OutboxItem, OutboxItem]:
        """A new forum topic and the reply pointing to it, queued in one commit.

        The reply's text keeps `{topic_url}` (and `{topic_title}`) until the topic exists; it is
        not sent before. The conversation is done, redirected, from now on. `hold`: seconds the
        sender leaves the topic alone (`withdraw_reply` takes both back meanwhile).
        """
        async with self._write(durable=True) as db:
            topic = await self._insert_outbox(
                db, conversation_id, kind="topic", channel=forum_channel, parent_remote_id="",
                text=body, title=title, category=category, language=language, hold_ms=int(hold * 1000),
            )  # fmt: skip
            reply = await self._insert_outbox(
                db, conversation_id, kind="reply", channel=parent.channel, parent_remote_id=parent.remote_id,
                text=reply_text, visibility=visibility, language=language, canned=canned,
                depends_on=topic["id"],
            )  # fmt: skip
            await self._record(db, conversation_id, actor, "forum topic queued", None, title)
            await delete_draft_in(db, conversation_id, DraftKind.TOPIC)
            await self._set_state(db, conversation_id, State.DONE, actor, "redirected")
        self._notify(Change(ChangeKind.OUTBOX, frozenset({conversation_id})))
        return to_outbox_item(topic), to_outbox_item(reply)

    async def _insert_outbox(
        self, db: aiosqlite.Connection, conversation_id: int, **values: Any
    ) -> sqlite3.Row:
        now = to_ms(self._clock())
        values["canned"] = " ".join(values.get("canned") or ())
        hold_ms = values.pop("hold_ms", 0)
        values.update(
            conversation_id=conversation_id, idempotency_key=uuid.uuid4().hex,
            state=OutboxState.QUEUED.value, created_at=now, next_attempt_at=now + hold_ms,
        )  # fmt: skip
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        row = await fetch_one(
            db, f"INSERT INTO outbox ({columns}) VALUES ({marks}) RETURNING *", tuple(values.values())
        )
        assert row is not None
        return row

    async def claim_next_reply(
        self,
        owner: str,
        lease_seconds: float = 120.0,
        *,
        state: OutboxState = OutboxState.QUEUED,
        channels: Sequence[str] | None = None,
        fence: str | None = None,
        exclude: Sequence[str] = (),
    ) -> OutboxItem | None:
        """Take the oldest due item in `state` (of `channels`, if given; never of `exclude`)
        under a lease.

        QUEUED items are taken to be sent; UNKNOWN ones to be reconciled (the sender reads the
        thread before anything is resent). None when nothing is due, or when `fence` names a
        lease that `owner` does not hold (a sender that lost the engine lease sends nothing).
        A reply waits while an earlier one in its conversation is still on its way: replies go
        out in the order they were written, whatever their retry times.
        """
        now = to_ms(self._clock())
        where = "state = ? AND next_attempt_at <= ?"
        params: list[Any] = [state.value, now]
        if state is OutboxState.QUEUED:
            where += f" AND {_NOT_BEHIND_AN_EARLIER_REPLY}"
        if channels is not None:
            where += f" AND channel IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        if fence is not None:
            # Held means named as the owner: past its expiry it is still ours until taken.
            where += " AND EXISTS (SELECT 1 FROM leases WHERE name = ? AND owner = ?)"
            params.extend((fence, owner))
        if exclude:
            where += f" AND channel NOT IN ({','.join('?' * len(exclude))})"
            params.extend(exclude)
        async with self._write(durable=True) as db:
            record = await fetch_one(
                db,
                f"SELECT id FROM outbox WHERE {where}"
                " AND (depends_on IS NULL OR depends_on IN (SELECT id FROM outbox WHERE state = 'sent'))"
                " ORDER BY next_attempt_at, id LIMIT 1",
                params,
            )
            if record is None:
                return None
            claimed = await fetch_one(
                db,
                "UPDATE outbox SET state = ?, lease_owner = ?, lease_until = ?,"
                " attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?)"
                " WHERE id = ? AND state = ? RETURNING *",
                (
                    OutboxState.SENDING.value,
                    owner,
                    now + int(lease_seconds * 1000),
                    now,
                    record["id"],
                    state.value,
                ),
            )
        return None if claimed is None else to_outbox_item(claimed)

    async def next_reply_due(
        self, exclude: Sequence[str] = (), read_back: Sequence[str] = ()
    ) -> datetime | None:
        """When the next queued reply (of a channel not in `exclude`), or the next uncertain one
        to read back (of a channel in `read_back`), is due; None if none is. A reply behind an
        earlier one of its conversation is not due."""
        sql = f"SELECT min(next_attempt_at) FROM outbox WHERE ((state = ? AND {_NOT_BEHIND_AN_EARLIER_REPLY})"
        params: list[Any] = [OutboxState.QUEUED.value]
        if read_back:
            sql += f" OR (state = ? AND channel IN ({','.join('?' * len(read_back))}))"
            params.extend((OutboxState.UNKNOWN.value, *read_back))
        sql += ")"
        if exclude:
            sql += f" AND channel NOT IN ({','.join('?' * len(exclude))})"
            params.extend(exclude)
        row = await fetch_one(self._read(), sql, params)
        return from_ms(row[0]) if row is not None else None

    async def reply_sent(self, item: OutboxItem, sent: Message, *, topic_url: str | None = None) -> None:
        """Mark the item sent and put the platform's copy in its thread, in one commit.

        A sent topic becomes a forum conversation linked to the one it came from, and the reply
        waiting for it gets the topic's address.
        """
        result = IngestResult()
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, remote_id = ?, sent_at = ?, error = '',"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (OutboxState.SENT.value, sent.remote_id, to_ms(self._clock()), item.id),
            )
            await self._ingest_batch(db, [sent], result)
            if item.kind == "topic":
                await self._topic_created(db, item, sent, topic_url or sent.url or "")
            elif item.canned:
                await self._remember_canned_use(db, item)
            what = "forum topic created" if item.kind == "topic" else "reply sent"
            await self._record(db, item.conversation_id, "system", what, None, sent.remote_id)
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id, *result.conversation_ids})))

    async def _topic_created(
        self, db: aiosqlite.Connection, item: OutboxItem, first_post: Message, url: str
    ) -> None:
        row = await fetch_one(
            db, "SELECT conversation_id FROM messages WHERE channel = ? AND remote_id = ?",
            (first_post.channel, first_post.remote_id),
        )  # fmt: skip
        assert row is not None
        forum_id = int(row[0])
        await db.execute(
            "INSERT OR IGNORE INTO conversation_links (conversation_id, linked_id, kind, created_at)"
            " VALUES (?, ?, 'redirected', ?)",
            (item.conversation_id, forum_id, to_ms(self._clock())),
        )
        # Our own new topic needs no answer until someone writes in it (which reopens it). Its
        # row says what it is until someone answers: nothing inbound gave it a snippet yet.
        await self._set_state(db, forum_id, State.DONE, "system", TOPIC_REASON)
        await db.execute(
            "UPDATE conversations SET snippet = ? WHERE id = ? AND snippet = ''",
            (item.title[:SNIPPET_CHARS], forum_id),
        )
        for waiting in await fetch_all(db, "SELECT id, text FROM outbox WHERE depends_on = ?", (item.id,)):
            text = waiting["text"].replace("{topic_url}", url).replace("{topic_title}", item.title)
            await db.execute("UPDATE outbox SET text = ?, link = ? WHERE id = ?", (text, url, waiting["id"]))

    async def _remember_canned_use(self, db: aiosqlite.Connection, item: OutboxItem) -> None:
        said = await fetch_all(
            db,
            "SELECT text FROM messages WHERE conversation_id = ? AND origin != 'ours'"
            " ORDER BY created_at DESC LIMIT 20",
            (item.conversation_id,),
        )
        context = " ".join(r["text"] for r in reversed(said))[:CONTEXT_CHARS]
        await db.execute(
            "INSERT INTO canned_uses (conversation_id, canned, link, context, at) VALUES (?,?,?,?,?)",
            (item.conversation_id, item.canned[0], item.link, context, to_ms(self._clock())),
        )

    async def link_uses(self, limit: int = 10_000) -> list[LinkUse]:
        """The most recent canned links sent, with what the person had said (newest first)."""
        rows = await fetch_all(
            self._read(),
            "SELECT context, link, at, canned FROM canned_uses WHERE link IS NOT NULL ORDER BY at DESC LIMIT ?",
            (limit,),
        )
        return [LinkUse(r["context"], r["link"], from_ms(r["at"]), r["canned"]) for r in rows]  # type: ignore[arg-type]

    async def reply_retry(self, item: OutboxItem, error: str, at: datetime) -> None:
        """Put the reply back in the queue for `at`, keeping its idempotency key."""
        await self._outbox_update(item, OutboxState.QUEUED, error, next_attempt_at=to_ms(at))

    async def reply_held(
        self, item: OutboxItem, error: str, *, state: OutboxState = OutboxState.QUEUED
    ) -> None:
        """Give a claimed item back as it was (`state`), this attempt not counted: the platform
        refused the channel's token, so nothing was published and the item waits for a new one."""
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, error = ?, attempts = max(attempts - 1, 0),"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (state.value, error, item.id),
            )
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id})))

    async def reply_failed(self, item: OutboxItem, error: str) -> None:
        await self._outbox_update(item, OutboxState.FAILED, error)

    async def reply_unknown(self, item: OutboxItem, error: str, *, check_at: datetime | None = None) -> None:
        """Uncertain: the sender checks again at `check_at` where the channel can reconcile."""
        at = None if check_at is None else to_ms(check_at)
        await self._outbox_update(item, OutboxState.UNKNOWN, error, next_attempt_at=at)

    async def _outbox_update(
        self, item: OutboxItem, state: OutboxState, error: str, *, next_attempt_at: int | None = None
    ) -> None:
        async with self._write(durable=True) as db:
            await db.execute(
                "UPDATE outbox SET state = ?, error = ?, lease_owner = NULL, lease_until = NULL,"
                " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
                (state.value, error, next_attempt_at, item.id),
            )
            if state in (OutboxState.FAILED, OutboxState.UNKNOWN):
                await self._record(db, item.conversation_id, "system", f"{item.kind} {state}", None, error)
            if state is OutboxState.FAILED and item.kind == "topic":
                await db.execute(
                    "UPDATE outbox SET state = ?, error = ? WHERE depends_on = ? AND state = ?",
                    (OutboxState.FAILED.value, "not sent: the forum topic it points to could not be created",
                     item.id, OutboxState.QUEUED.value),
                )  # fmt: skip
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id})))

    async def decide_reply(
        self, item_id: int, decision: ReplyDecision, *, actor: str = "manager"
    ) -> OutboxItem | None:
        """Apply the manager's decision to a failed or unknown reply; None if it is no longer
        either (the engine settled it meanwhile). A dropped topic drops the reply waiting for it."""
        now = to_ms(self._clock())
        settled = (OutboxState.FAILED.value, OutboxState.UNKNOWN.value)
        async with self._write(durable=True) as db:
            row = await fetch_one(
                db, "SELECT * FROM outbox WHERE id = ? AND state IN (?, ?)", (item_id, *settled)
            )
            if row is None:
                return None
            item = to_outbox_item(row)
            if decision is ReplyDecision.RESEND:
                # The same idempotency key: if the platform still knows it, it answers with the original.
                await db.execute(
                    "UPDATE outbox SET state = ?, error = '', next_attempt_at = ? WHERE id = ?",
                    (OutboxState.QUEUED.value, now, item_id),
                )
            elif decision is ReplyDecision.MARK_SENT:
                if item.kind == "topic":
                    raise StoreError("a forum topic cannot be marked sent by hand: its address is needed")
                await db.execute(
                    "UPDATE outbox SET state = ?, error = '', sent_at = ? WHERE id = ?",
                    (OutboxState.SENT.value, now, item_id),
                )
            else:
                await db.execute(
                    "UPDATE outbox SET state = ? WHERE id = ? OR (depends_on = ? AND state != ?)",
                    (OutboxState.DISCARDED.value, item_id, item_id, OutboxState.SENT.value),
                )
            what = {ReplyDecision.RESEND: "send again", ReplyDecision.MARK_SENT: "marked sent",
                    ReplyDecision.DISCARD: "discarded"}[decision]  # fmt: skip
            await self._record(db, item.conversation_id, actor, f"{item.kind} {what}", item.state.value, None)
            updated = await fetch_one(db, "SELECT * FROM outbox WHERE id = ?", (item_id,))
        self._notify(Change(ChangeKind.OUTBOX, frozenset({item.conversation_id})))
        return None if updated is None else to_outbox_item(updated)

    async def orphaned_sends(self, owner: str) -> list[OutboxItem]:
        """Replies left 'sending' by another sender (one that died or lost the engine lease),
        or by `owner` itself past their lease: their outcome is uncertain."""
        return await self._outbox_rows(
            "SELECT * FROM outbox WHERE state = ? AND (lease_owner IS NOT ? OR lease_until < ?) ORDER BY id",
            (OutboxState.SENDING.value, owner, to_ms(self._clock())),
        )

    # ---- collisions: two managers answering the same person ---------------------------------

    async def reply_mark(self, conversation_id: int) -> ReplyMark:
        """Where the conversation's replies are now; `replies_since` compares against it."""
        db = self._read()
        message = await fetch_one(
            db, "SELECT max(id) FROM messages WHERE conversation_id = ?", (conversation_id,)
        )
        queued = await fetch_one(
            db, "SELECT max(id) FROM outbox WHERE conversation_id = ?", (conversation_id,)
        )
        return ReplyMark(int(message[0] or 0) if message else 0, int(queued[0] or 0) if queued else 0)

    async def replies_since(self, conversation_id: int, mark: ReplyMark) -> list[ConcurrentReply]:
        """Replies that entered the conversation after `mark`: queued here by another inbox, or
        posted on the platform by the brand's account (a teammate in the web app), oldest first."""
        db = self._read()
        queued = await fetch_all(
            db,
            "SELECT text, created_at FROM outbox WHERE conversation_id = ? AND id > ? AND kind = 'reply'"
            " AND state NOT IN (?, ?)",
            (conversation_id, mark.outbox_id, OutboxState.FAILED.value, OutboxState.DISCARDED.value),
        )
        posted = await fetch_all(
            db,
            "SELECT m.text, m.created_at, a.handle FROM messages m JOIN authors a ON a.id = m.author_id"
            " WHERE m.conversation_id = ? AND m.id > ? AND m.origin = ? AND NOT EXISTS"
            " (SELECT 1 FROM outbox o WHERE o.channel = m.channel AND o.remote_id = m.remote_id)",
            (conversation_id, mark.message_id, Origin.OURS.value),
        )
        replies = [ConcurrentReply(r["text"], from_ms(r["created_at"]), "another ecoinbox") for r in queued]  # type: ignore[arg-type]
        replies += [ConcurrentReply(r["text"], from_ms(r["created_at"]), r["handle"]) for r in posted]  # type: ignore[arg-type]
        return sorted(replies, key=lambda r: r.at)

    async def outbox_items(self, states: Sequence[OutboxState] | None = None) -> list[OutboxItem]:
        if not states:
            return await self._outbox_rows("SELECT * FROM outbox ORDER BY id", ())
        marks = ",".join("?" * len(states))
        return await self._outbox_rows(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id", [s.value for s in states]
        )
