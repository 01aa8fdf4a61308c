"""Drafts in the store: kept per conversation and kind, last write wins, the list row marks them,
and queueing a reply (or saving a note, queueing a topic) drops its draft in the same commit."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from ecoinbox.model import Author, DraftKind, Message, Origin, View
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")


def msg(remote_id: str, at: int = 0) -> Message:
    at_time = T0 + timedelta(minutes=at)
    return Message("m", remote_id, ZOE, "where is my order?", at_time, origin=Origin.MENTION)


async def test_a_draft_is_kept_per_conversation_and_kind_and_marks_the_row(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: T0 + timedelta(hours=1))
    try:
        await store.ingest([msg("1"), msg("2", at=5)])
        first, second = [row.id for row in await store.conversation_page(View.INBOX)]
        assert not any(row.draft for row in await store.conversation_page(View.INBOX))
        changes = []
        store.add_listener(changes.append)
        await store.save_draft(first, DraftKind.REPLY, "@zoe hello", parent_remote_id="2")
        await store.save_draft(first, DraftKind.REPLY, "@zoe hello there", parent_remote_id="2")
        await store.save_draft(first, DraftKind.NOTE, "she wrote twice")
        draft = await store.draft(first, DraftKind.REPLY)
        assert draft is not None and draft.text == "@zoe hello there" and draft.parent_remote_id == "2"
        assert draft.updated_at == T0 + timedelta(hours=1)
        note = await store.draft(first, DraftKind.NOTE)
        assert note is not None and note.text == "she wrote twice"
        assert await store.draft(second, DraftKind.REPLY) is None
        assert await store.draft(first, DraftKind.REDIRECT) is None
        # The mark moves when a draft appears (the reply, the note), not on every keystroke.
        assert [(c.kind, set(c.conversation_ids)) for c in changes] == [("draft", {first})] * 2
        rows = {row.id: row for row in await store.conversation_page(View.INBOX)}
        assert rows[first].draft and not rows[second].draft
        assert (await store.conversation_row(first)).draft  # type: ignore[union-attr]

        await store.delete_draft(first, DraftKind.NOTE)
        assert await store.draft(first, DraftKind.NOTE) is None
        assert (await store.conversation_row(first)).draft  # type: ignore[union-attr]  # the reply's is left
    finally:
        await store.close()


async def test_queueing_the_reply_or_saving_the_note_drops_its_draft(tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    try:
        await store.ingest([msg("1")])
        conversation = await store.conversation((await store.conversation_page(View.INBOX))[0].id)
        assert conversation is not None
        cid, parent = conversation.row.id, conversation.messages[0].message
        await store.save_draft(cid, DraftKind.REPLY, "@zoe on its way", parent_remote_id="1")
        await store.save_draft(cid, DraftKind.NOTE, "call the shop")
        await store.queue_reply(cid, parent, "@zoe on its way", draft=DraftKind.REPLY)
        assert await store.draft(cid, DraftKind.REPLY) is None
        assert await store.draft(cid, DraftKind.NOTE) is not None  # another box's draft stays
        await store.add_note(cid, "call the shop", author="manager")
        assert await store.draft(cid, DraftKind.NOTE) is None
        assert not (await store.conversation_row(cid)).draft  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_two_inboxes_saving_one_draft_last_write_wins_and_survives_reopening(tmp_path):
    one = await open_store(tmp_path / "inbox.db")
    two = await open_store(tmp_path / "inbox.db")
    try:
        await one.ingest([msg("1")])
        cid = (await one.conversation_page(View.INBOX))[0].id
        await one.save_draft(cid, DraftKind.REPLY, "from the first window")
        await two.save_draft(cid, DraftKind.REPLY, "from the second window")
        last = await one.draft(cid, DraftKind.REPLY)
        assert last is not None and last.text == "from the second window"
    finally:
        await one.close()
        await two.close()
    # What another program (or a restarted inbox) reads from the file itself.
    with sqlite3.connect(tmp_path / "inbox.db") as db:
        assert db.execute("SELECT kind, text FROM drafts").fetchall() == [("reply", "from the second window")]
