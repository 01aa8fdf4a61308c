"""The store: idempotent ingest, threading by reply links, keyset pages, migrations, the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from damage import break_page, break_schema, fill_store, truncate_in_the_middle
from fakes import Clock

from ecoinbox import __version__
from ecoinbox.model import Author, Message, Origin, OutboxState, ReplyDecision, State, View
from ecoinbox.store import SQLiteStore, StoreDamaged, StoreError, StoreReadOnly, StoreTooNew, open_store
from ecoinbox.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")
BRAND = Author("m", "99", "acme", "Acme")


def msg(remote_id: str, *, at: int = 0, parent: str | None = None, author: Author = ZOE,
        text: str = "hello", origin: Origin = Origin.MENTION, **extra) -> Message:  # fmt: skip
    return Message(
        channel="m", remote_id=remote_id, author=author, text=text,
        created_at=T0 + timedelta(minutes=at), in_reply_to=parent,
        origin=Origin.OURS if author is BRAND else origin, **extra,
    )  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(hours=1))


async def test_database_file_is_private(tmp_path):
    s = await open_store(tmp_path / "sub" / "inbox.db")
    await s.ingest([msg("1")])
    await s.close()
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / "sub" / f"inbox.db{suffix}"
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, suffix


async def test_ingest_is_idempotent_and_threads_by_reply_links(store):
    batch = [msg("1", at=0), msg("2", at=1, parent="1"), msg("3", at=2, parent="2")]
    first = await store.ingest(batch)
    again = await store.ingest(batch)
    assert (first.new, again.new, again.updated) == (3, 0, 0)
    rows = await store.conversation_page(View.INBOX)
    assert len(rows) == 1 and rows[0].message_count == 3
    thread = await store.conversation(rows[0].id)
    assert [m.message.remote_id for m in thread.messages] == ["1", "2", "3"]
    assert thread.messages[2].parent_id == thread.messages[1].id


async def test_edits_update_and_deletions_are_marked(store):
    await store.ingest([msg("1", text="first")])
    edited = await store.ingest([msg("1", text="first, edited", edited_at=T0 + timedelta(minutes=5))])
    deleted = await store.ingest([msg("1", text="first, edited", deleted=True)])
    assert (edited.updated, deleted.updated) == (1, 1)
    stored = await store.message("m", "1")
    assert stored.text == "first, edited" and stored.deleted


async def test_our_reply_clears_needs_reply_and_orders_the_inbox(store):
    await store.ingest([msg("1", at=0), msg("2", at=5, author=Author("m", "2", "bob", "Bob"))])
    await store.ingest([msg("3", at=10, parent="1", author=BRAND)])
    await store.apply_triage([(await store.conversation_page(View.PENDING))[0].id], state=State.OPEN)
    rows = await store.conversation_page(View.INBOX)
    # Bob still waits for an answer, so he comes first although Zoé's thread moved later.
    assert [(r.author_label, r.needs_reply) for r in rows] == [("Bob", True), ("Zoé", False)]


async def test_new_message_reopens_a_done_conversation_but_old_context_does_not(store):
    await store.ingest([msg("2", at=10)])
    (row,) = await store.conversation_page(View.INBOX)
    await store.set_state([row.id], State.DONE)
    assert await store.count_conversations(View.INBOX) == 0
    old = await store.ingest([msg("3", at=20, parent="2")])  # at T0+20min < the clock (T0+1h)
    assert not old.reopened
    late = await store.ingest([msg("4", at=120, parent="3")])
    assert late.reopened == {row.id}
    assert (await store.conversation_row(row.id)).state is State.OPEN


async def test_cursor_is_stored_with_its_batch(store):
    await store.ingest([msg("1")], cursor=("m", {"notifications": "41"}))
    assert await store.cursor("m") == {"notifications": "41"}
    assert await store.cursor("other") == {}


async def test_keyset_pages_cover_every_row_once_in_display_order(store):
    await store.ingest([msg(str(i), at=i, author=Author("m", f"a{i}", f"p{i}")) for i in range(250)])
    seen, after = [], None
    while page := await store.conversation_page(View.INBOX, after=after, limit=40):
        seen.extend(page)
        after = page[-1].sort_key
    keys = [r.sort_key for r in seen]
    assert len(seen) == 250 and keys == sorted(keys, reverse=True)
    last = await store.conversation_page_last(View.INBOX, limit=40)
    assert last == seen[-40:]
    before = await store.conversation_page(View.INBOX, before=seen[100].sort_key, limit=30)
    assert before == seen[70:100]
    assert await store.conversation_page_at(View.INBOX, 100, 5) == seen[100:105]


async def test_set_state_reports_changes_for_undo(store):
    await store.ingest([msg("1")])
    (row,) = await store.conversation_page(View.INBOX)
    (change,) = await store.set_state([row.id], State.SPAM)
    assert (change.old, change.new) == (State.OPEN, State.SPAM)
    assert await store.set_state([row.id], State.SPAM) == []
    await store.set_state([change.conversation_id], change.old)
    assert (await store.conversation_row(row.id)).state is State.OPEN
    actions = [h[2] for h in await store.history(row.id)]
    assert actions == ["state", "state"]


async def test_outbox_claim_is_exclusive_and_sent_reply_joins_the_thread(store):
    await store.ingest([msg("1")])
    (row,) = await store.conversation_page(View.INBOX)
    parent = await store.message("m", "1")
    item = await store.queue_reply(row.id, parent, "@zoe@remote.example hi")
    claimed = await store.claim_next_reply("me")
    assert claimed.id == item.id and claimed.state is OutboxState.SENDING
    assert await store.claim_next_reply("someone else") is None
    await store.reply_sent(claimed, msg("2", at=3, parent="1", author=BRAND, text="@zoe hi"))
    thread = await store.conversation(row.id)
    assert [m.message.remote_id for m in thread.messages] == ["1", "2"]
    assert thread.outbox == [] and not thread.row.needs_reply
    (sent,) = await store.outbox_items([OutboxState.SENT])
    assert sent.remote_id == "2" and sent.idempotency_key == item.idempotency_key


async def test_retry_keeps_the_idempotency_key(store):
    await store.ingest([msg("1")])
    (row,) = await store.conversation_page(View.INBOX)
    item = await store.queue_reply(row.id, await store.message("m", "1"), "hi")
    claimed = await store.claim_next_reply("me")
    await store.reply_retry(claimed, "server error", T0)
    again = await store.claim_next_reply("me")
    assert again.idempotency_key == item.idempotency_key and again.attempts == 2


async def test_the_hidden_characters_flag_is_kept_and_follows_edits(store):
    await store.ingest([msg("1", text="invoicefdp.exe", hidden_characters=True), msg("2", at=1)])
    assert (await store.message("m", "1")).hidden_characters
    assert not (await store.message("m", "2")).hidden_characters
    await store.ingest([msg("1", text="invoice.pdf", edited_at=T0 + timedelta(minutes=5))])
    assert not (await store.message("m", "1")).hidden_characters


async def test_a_message_stored_before_the_flag_existed_reads_as_unflagged(tmp_path):
    path = tmp_path / "inbox.db"
    with sqlite3.connect(path) as db:  # a schema-2 database, as the previous release left it
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 2")
        db.execute("INSERT INTO authors (channel, remote_id, handle) VALUES ('m', '1', 'zoe')")
        db.execute("INSERT INTO conversations (channel, root_remote_id, last_activity, origin)"
                   " VALUES ('m', '1', 0, 'mention')")  # fmt: skip
        db.execute("INSERT INTO messages (channel, remote_id, conversation_id, author_id, text, created_at,"
                   " origin) VALUES ('m', '1', 1, 1, 'hello', 0, 'mention')")  # fmt: skip
    async with SQLiteStore(path) as s:
        old = await s.message("m", "1")
        assert old.text == "hello" and not old.hidden_characters


async def test_newer_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "inbox.db"
    await (await open_store(path)).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreTooNew, match="newer ecoinbox"):
        await open_store(path)
    assert path.read_bytes() == before


async def test_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not an ecoinbox database"):
        await open_store(path)


async def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "inbox.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreDamaged, match="not a SQLite database") as refused:
        await open_store(path)
    assert ".recover" in str(refused.value)
    assert path.read_bytes() == b"this is not sqlite" * 100


async def test_a_newer_database_is_refused_before_a_single_write(tmp_path):
    """Even the switch to WAL is a write: a newer (or foreign) file in another journal mode is
    refused as it is, and the message says which ecoinbox this is and to upgrade."""
    path = tmp_path / "inbox.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("CREATE TABLE future (x)")
        db.commit()
    before = path.read_bytes()
    with pytest.raises(StoreTooNew) as refused:
        await open_store(path)
    message = str(refused.value)
    assert f"ecoinbox {__version__}" in message and "Upgrade ecoinbox" in message
    assert f"schema {SCHEMA_VERSION + 1}" in message and "not modified" in message
    assert path.read_bytes() == before
    assert not path.with_name("inbox.db-wal").exists()


async def test_an_empty_file_becomes_a_new_store(tmp_path):
    """Nothing in a 0-byte file can be lost or recovered (and an interrupted first start leaves
    one): it is SQLite's empty database, so it becomes a new store rather than an error."""
    path = tmp_path / "inbox.db"
    path.touch()
    store = await open_store(path)
    try:
        await store.ingest([msg("1")])
        assert await store.count_conversations(View.INBOX) == 1
    finally:
        await store.close()


async def test_the_quick_check_passes_a_sound_store_and_finds_a_truncated_one(tmp_path):
    path = tmp_path / "inbox.db"
    await fill_store(path)
    assert await SQLiteStore(path).check_integrity() == []
    truncate_in_the_middle(path)
    assert await SQLiteStore(path).check_integrity() != []


async def test_the_quick_check_finds_a_broken_page(tmp_path):
    path = tmp_path / "inbox.db"
    await fill_store(path)
    break_page(path, "messages_by_conversation")  # an index: every row still reads fine
    store = await open_store(path)
    try:
        assert await store.count_conversations(View.INBOX) == 120
        problems = await store.check_integrity()
    finally:
        await store.close()
    assert problems and problems != ["ok"]


async def test_a_damaged_schema_page_is_a_damaged_store_for_open_and_for_the_check(tmp_path):
    path = tmp_path / "inbox.db"
    await fill_store(path)
    break_schema(path, "messages")
    for read_only in (False, True):
        with pytest.raises(StoreDamaged, match="schema"):
            await open_store(path, read_only=read_only)
    (problem,) = await SQLiteStore(path).check_integrity()
    assert "schema" in problem


async def test_the_check_refuses_to_judge_a_store_of_a_newer_ecoinbox(tmp_path):
    path = tmp_path / "inbox.db"
    await fill_store(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreTooNew, match="newer ecoinbox"):
        await SQLiteStore(path).check_integrity()


async def test_a_damaged_store_opens_read_only_reads_what_it_can_and_is_never_written(tmp_path):
    path = tmp_path / "inbox.db"
    replied = await fill_store(path)
    break_page(path, "messages")
    before = path.read_bytes()
    store = await open_store(path, read_only=True)
    try:
        assert store.read_only_reason is not None
        assert await store.count_conversations(View.INBOX) == 120  # another table: still readable
        assert len(await store.outbox_items()) == 1  # the queued reply can still be seen
        with pytest.raises(StoreDamaged, match="damaged") as damaged:
            await store.conversation(replied)
        assert ".recover" in str(damaged.value) and "never deletes" in str(damaged.value)
        with pytest.raises(StoreReadOnly):
            await store.set_state([replied], State.DONE)
    finally:
        await store.close()
    assert path.read_bytes() == before


async def test_refused_writes_raise_and_listeners_hear_it(store):
    await store.ingest([msg("1")])
    heard = []
    store.add_listener(heard.append)
    store.refuse_writes("the file proved damaged")
    with pytest.raises(StoreReadOnly, match="the file proved damaged"):
        await store.ingest([msg("2", at=1)])
    assert [c.kind for c in heard] == ["read-only"]
    assert await store.count_conversations(View.INBOX) == 1  # reads go on


FULL_DISK_CHILD = """
import asyncio, json, sys
from pathlib import Path
from damage import full_disk, message
from ecoinbox.store import StoreError, open_store

async def main():
    store = await open_store(Path(sys.argv[1]))
    full_disk(limit_bytes=1024)()  # from now on: the store's journal cannot grow by one page
    outcome = {}
    parent = await store.message("mastodon", "1000")
    for name, write in {
        "ingest": lambda: store.ingest([message(i) for i in range(500, 600)],
                                       cursor=("mastodon", {"since": "after"})),
        "queue_reply": lambda: store.queue_reply(1, parent, "a second reply"),
    }.items():
        try:
            await write()
            outcome[name] = "saved"
        except StoreError as exc:
            outcome[name] = [type(exc).__name__, str(exc)]
    await store.close()
    print(json.dumps(outcome))

asyncio.run(main())
"""


async def test_a_full_disk_loses_neither_the_queued_reply_nor_the_cursor(tmp_path):
    path = tmp_path / "inbox.db"
    await fill_store(path)
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", FULL_DISK_CHILD, str(path)], capture_output=True, text=True,
        timeout=60, check=False, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    for name in ("ingest", "queue_reply"):
        kind, words = outcome[name]
        assert kind == "StoreFull" and "disk is full" in words and "intact" in words
    store = await open_store(path)
    try:
        assert await store.cursor("mastodon") == {"since": "before"}  # same transaction as the batch
        assert await store.count_conversations(View.INBOX) == 120
        (queued,) = await store.outbox_items()
        assert queued.text == "@person sorry, we are on it" and queued.state is OutboxState.QUEUED
        assert await store.check_integrity() == []
    finally:
        await store.close()


async def test_migrating_an_old_database_keeps_its_rows(tmp_path):
    path = tmp_path / "inbox.db"
    s = await open_store(path)
    await s.ingest([msg("1")])
    await s.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    s = SQLiteStore(path)
    async with s:
        assert await s.count_conversations(View.INBOX) == 1


async def test_listeners_hear_committed_changes(store):
    heard = []
    store.add_listener(heard.append)
    await store.ingest([msg("1")])
    (row,) = await store.conversation_page(View.INBOX)
    await store.set_state([row.id], State.DONE)
    assert [c.kind for c in heard] == ["ingest", "state"]
    assert all(c.conversation_ids == {row.id} for c in heard)


async def test_reads_never_pin_a_stale_snapshot(store):
    """Every read closes its statement; an open one would hide later writes from the inbox."""
    await store.ingest([msg("1")])
    (row,) = await store.conversation_page(View.INBOX)
    for read in (
        store.external_version(), store.conversation_row(row.id), store.message("m", "1"),
        store.count_conversations(View.INBOX), store.cursor("m"), store.conversation(row.id),
        store.next_reply_due(),
    ):  # fmt: skip
        await read
    await store.ingest([msg("2", at=5, author=Author("m", "2", "bob"))])
    assert await store.count_conversations(View.INBOX) == 2
    assert len(await store.conversation_page(View.INBOX)) == 2


async def test_external_version_moves_for_other_processes_only(tmp_path):
    path = tmp_path / "inbox.db"
    first, second = await open_store(path), await open_store(path)
    try:
        before = await first.external_version()
        await first.ingest([msg("1")])  # our own write: the inbox already heard of it
        await first.take_lease("engine", "me", host="h", pid=1, seconds=60)  # bookkeeping
        await second.take_lease("engine", "me", host="h", pid=1, seconds=60)
        assert await first.external_version() == before
        await second.ingest([msg("2", author=Author("m", "2", "bob"))])
        after = await first.external_version()
        assert after != before
        assert await first.external_version() == after  # stable until the next change
        assert await first.count_conversations(View.INBOX) == 2
        await second.set_state([1], State.DONE)
        await first.ingest([msg("3", author=Author("m", "3", "cy"))])  # ours after theirs
        assert await first.external_version() != after  # theirs is not hidden by ours
    finally:
        await first.close()
        await second.close()


async def test_a_lease_is_exclusive_until_it_expires_or_its_holder_is_proven_dead(tmp_path):
    clock = Clock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    path = tmp_path / "inbox.db"
    first, second = await open_store(path, clock=clock), await open_store(path, clock=clock)
    try:
        a = await first.take_lease("engine", "a", host="h", pid=1, seconds=60)
        assert a.owner == "a"
        b = await second.take_lease("engine", "b", host="h", pid=2, seconds=60)
        assert b.owner == "a"  # held: b learns who holds it
        clock.advance(seconds=30)
        assert (await first.take_lease("engine", "a", host="h", pid=1, seconds=60)).owner == "a"  # renewed
        clock.advance(seconds=45)
        assert (await second.take_lease("engine", "b", host="h", pid=2, seconds=60)).owner == "a"
        assert (
            await second.take_lease("engine", "b", host="h", pid=2, seconds=60, replacing="a")
        ).owner == "b"
        assert (await first.take_lease("engine", "a", host="h", pid=1, seconds=60)).owner == "b"  # a lost it
        clock.advance(seconds=61)
        assert (await first.take_lease("engine", "a", host="h", pid=1, seconds=60)).owner == "a"  # expired
        await first.release_lease("engine", "b")  # not b's to release any more: no effect
        assert (await second.lease("engine")).owner == "a"
        await first.release_lease("engine", "a")
        assert await second.lease("engine") is None
    finally:
        await first.close()
        await second.close()


async def test_only_the_engine_lease_holder_claims_replies(tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    try:
        parent = msg("1")
        await store.ingest([parent])
        await store.queue_reply(1, parent, "hi")
        assert await store.claim_next_reply("a", fence="engine") is None  # nobody holds it
        await store.take_lease("engine", "b", host="h", pid=2, seconds=60)
        assert await store.claim_next_reply("a", fence="engine") is None  # b does
        item = await store.claim_next_reply("b", fence="engine")
        assert item is not None and item.state is OutboxState.SENDING
        assert [i.id for i in await store.orphaned_sends("a")] == [item.id]
        assert await store.orphaned_sends("b") == []
    finally:
        await store.close()


async def test_concurrent_writers_in_one_process_never_collide(store):
    """The engine's tasks and the TUI share one writer connection: one transaction at a time."""
    import asyncio

    await store.ingest([msg(str(i), at=i, author=Author("m", f"a{i}", f"p{i}")) for i in range(20)])
    rows = await store.conversation_page(View.INBOX, limit=20)
    parent = await store.message("m", "0")
    await asyncio.gather(
        *(store.set_state([row.id], State.DONE) for row in rows),
        *(store.queue_reply(rows[0].id, parent, f"reply {i}") for i in range(10)),
        store.ingest([msg("99", at=99)]),
    )
    assert await store.count_conversations(View.DONE) == 20
    assert len(await store.outbox_items()) == 10


async def test_the_managers_decision_applies_only_to_unsettled_replies(store):
    parent = msg("1")
    await store.ingest([parent])
    reply = await store.queue_reply(1, parent, "hi")
    assert await store.decide_reply(reply.id, ReplyDecision.DISCARD) is None  # queued: the engine's
    claimed = await store.claim_next_reply("sender")
    await store.reply_unknown(claimed, "cut off")
    resent = await store.decide_reply(reply.id, ReplyDecision.RESEND)
    assert resent.state is OutboxState.QUEUED and resent.idempotency_key == reply.idempotency_key
    assert resent.error == ""
    claimed = await store.claim_next_reply("sender")
    await store.reply_failed(claimed, "422 too long")
    assert (await store.decide_reply(reply.id, ReplyDecision.MARK_SENT)).state is OutboxState.SENT
    assert await store.decide_reply(reply.id, ReplyDecision.DISCARD) is None  # sent is settled


async def test_dropping_a_forum_topic_drops_the_reply_that_waits_for_it(store):
    parent = msg("1")
    await store.ingest([parent])
    topic, waiting = await store.queue_redirect_topic(
        1,
        forum_channel="forum",
        title="T",
        body="B",
        category=None,
        parent=parent,
        reply_text="see {topic_url}",
    )
    claimed = await store.claim_next_reply("sender")
    await store.reply_unknown(claimed, "cut off")
    with pytest.raises(StoreError, match="cannot be marked sent"):
        await store.decide_reply(topic.id, ReplyDecision.MARK_SENT)
    await store.decide_reply(topic.id, ReplyDecision.DISCARD)
    states = {i.id: i.state for i in await store.outbox_items()}
    assert states == {topic.id: OutboxState.DISCARDED, waiting.id: OutboxState.DISCARDED}
    assert (await store.conversation(1)).outbox == []


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(tmp_path):
    """Quitting cancels the engine's writes wherever they are, and a BEGIN whose await was
    cancelled still runs on the connection's thread once the lock is free: it must be rolled
    back, not left open for every later write to fail on (that hung the inbox on exit)."""
    path = tmp_path / "inbox.db"
    store = await open_store(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await store.ingest([msg("1")])
        parent = await store.message("m", "1")
        other.execute("BEGIN IMMEDIATE")  # another ecoinbox is writing
        write = asyncio.create_task(store.queue_reply(1, parent, "never queued"))
        await asyncio.sleep(0.2)  # it now waits for the lock inside BEGIN IMMEDIATE
        write.cancel()
        asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")  # the other one is done
        with pytest.raises(asyncio.CancelledError):
            await write
        await store.set_state([1], State.DONE)  # fails if the cancelled BEGIN were still open
        assert await store.outbox_items() == []
    finally:
        other.close()
        await store.close()


async def test_quitting_during_the_quick_check_interrupts_it(tmp_path, monkeypatch):
    """On a cold disk the check takes seconds per 100 MB: quitting must not wait for it."""
    import aiosqlite

    from ecoinbox.store import sqlite as sqlite_store

    path = tmp_path / "inbox.db"
    await fill_store(path)
    checking, interrupted = asyncio.Event(), []
    real_all = sqlite_store._all

    async def slow_check(db, sql, params=()):  # type: ignore[no-untyped-def]
        if sql == "PRAGMA quick_check":
            checking.set()
            await asyncio.Event().wait()  # as on a cold 1 GB store
        return await real_all(db, sql, params)

    async def interrupt(self):  # type: ignore[no-untyped-def]
        interrupted.append(self)

    monkeypatch.setattr(sqlite_store, "_all", slow_check)
    monkeypatch.setattr(aiosqlite.Connection, "interrupt", interrupt)
    check = asyncio.create_task(SQLiteStore(path).check_integrity())
    await checking.wait()
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check
    assert len(interrupted) == 1
