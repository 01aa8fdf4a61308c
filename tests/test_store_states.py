"""The store's triage: pending and reopening, snoozes that wake, tags, assignment, notes, bulk undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock

from ecoinbox.model import Author, Message, Origin, State, View
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")
BRAND = Author("m", "99", "acme", "Acme")


def msg(remote_id: str, *, at: int = 0, parent: str | None = None, author: Author = ZOE) -> Message:
    return Message(
        channel="m", remote_id=remote_id, author=author, text="hello " + remote_id,
        created_at=T0 + timedelta(minutes=at), in_reply_to=parent,
        origin=Origin.OURS if author is BRAND else Origin.MENTION,
    )  # fmt: skip


@pytest.fixture
def clock():
    return Clock(T0 + timedelta(hours=1))


async def _only_id(store) -> int:
    result = await store.ingest([msg("1")])
    return next(iter(result.conversation_ids))


async def test_our_reply_makes_it_pending_and_their_answer_reopens_it(store):
    cid = await _only_id(store)
    await store.ingest([msg("2", at=10, parent="1", author=BRAND)])
    assert (await store.conversation_row(cid)).state is State.PENDING
    assert [r.id for r in await store.conversation_page(View.PENDING)] == [cid]
    assert await store.count_conversations(View.INBOX) == 0
    answer = await store.ingest([msg("3", at=20, parent="2")])
    assert (await store.conversation_row(cid)).state is State.OPEN and answer.reopened == {cid}
    actions = [(actor, action, new) for _, actor, action, _, new in await store.history(cid)]
    assert actions == [("system", "state", "pending (we replied)"), ("system", "reopened", "open")]


async def test_their_answer_in_the_same_poll_as_our_reply_still_reopens(store):
    cid = await _only_id(store)
    await store.ingest([msg("2", at=10, parent="1", author=BRAND), msg("3", at=11, parent="2")])
    row = await store.conversation_row(cid)
    assert row.state is State.OPEN and row.needs_reply


async def test_a_snooze_wakes_when_due_even_after_being_closed(tmp_path, clock):
    path = tmp_path / "inbox.db"
    store = await open_store(path, clock=clock)
    cid = await _only_id(store)
    changed = await store.apply_triage([cid], state=State.SNOOZED, snoozed_until=clock() + timedelta(hours=2))
    assert [t.state for t in changed] == [State.OPEN]
    assert await store.wake_snoozed() == []  # not yet
    assert await store.next_wake() == clock() + timedelta(hours=2)
    await store.close()
    clock.advance(hours=3)  # ecoinbox was closed meanwhile
    store = await open_store(path, clock=clock)
    try:
        assert await store.wake_snoozed() == [cid]
        row = await store.conversation_row(cid)
        assert (row.state, row.reason, row.snoozed_until) == (State.OPEN, "woke from snooze", None)
        history = await store.history(cid)
        assert history[-1][1:] == ("snooze", "state", "snoozed", "open (woke from snooze)")
        assert await store.wake_snoozed() == []  # once
    finally:
        await store.close()


async def test_new_activity_wakes_a_snoozed_conversation(store, clock):
    cid = await _only_id(store)
    await store.apply_triage([cid], state=State.SNOOZED, snoozed_until=clock() + timedelta(days=2))
    await store.ingest([msg("2", at=120, parent="1")])
    row = await store.conversation_row(cid)
    assert row.state is State.OPEN and row.snoozed_until is None


async def test_tags_assignment_and_the_mine_view(store):
    store.me = "ana"
    first = await _only_id(store)
    bob = await store.ingest([msg("9", at=5, author=Author("m", "2", "bob"))])
    second = next(iter(bob.conversation_ids))
    await store.apply_triage([first, second], add_tags=["#Refund", "billing"], actor="ana")
    await store.apply_triage([second], remove_tags=["refund"], assignee="ana", actor="ana")
    assert (await store.conversation_row(first)).tags == ("billing", "refund")
    assert (await store.conversation_row(second)).tags == ("billing",)
    assert await store.tags_in_use() == ["billing", "refund"]
    assert await store.tags_in_use("re") == ["refund"]
    assert [r.id for r in await store.conversation_page(View.MINE)] == [second]
    await store.apply_triage([second], state=State.DONE)
    assert await store.count_conversations(View.MINE) == 0  # Mine is what is still to do
    history = [(actor, action, old, new) for _, actor, action, old, new in await store.history(second)]
    assert ("ana", "tagged", None, "refund") in history
    assert ("ana", "untagged", "refund", None) in history
    assert ("ana", "assigned", None, "ana") in history


async def test_a_bulk_action_is_undone_in_one_step(store, clock):
    ids = []
    for n in range(3):
        result = await store.ingest([msg(f"r{n}", at=n, author=Author("m", f"a{n}", f"p{n}"))])
        ids += result.conversation_ids
    await store.apply_triage([ids[0]], add_tags=["vip"], assignee="bob")
    before = await store.apply_triage(ids, state=State.SNOOZED, snoozed_until=clock() + timedelta(days=1))
    assert len(before) == 3
    assert await store.count_conversations(View.SNOOZED) == 3
    assert await store.restore_triage(before) == 3
    rows = [await store.conversation_row(i) for i in ids]
    assert [r.state for r in rows] == [State.OPEN] * 3
    assert rows[0].tags == ("vip",) and rows[0].assignee == "bob" and rows[0].snoozed_until is None


async def test_notes_are_kept_in_the_thread_and_the_history(store):
    cid = await _only_id(store)
    await store.add_note(cid, "  Called her, refund approved  ", author="ana")
    thread = await store.conversation(cid)
    assert [(n.author, n.text) for n in thread.notes] == [("ana", "Called her, refund approved")]
    assert (await store.history(cid))[-1][1:4] == ("ana", "note", None)
    with pytest.raises(ValueError):
        await store.add_note(cid, "   ", author="ana")


async def test_a_store_left_by_the_rules_release_upgrades_with_its_priorities_kept(tmp_path):
    """Main shipped rules/spam/priority as migration 7: a store at 7 gets the states one after it
    (the index that pages the views keeps priority), and what it held is read the new way."""
    import sqlite3

    from ecoinbox.store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "inbox.db"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:7]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 7")
        db.execute("INSERT INTO authors (channel, remote_id, handle) VALUES ('m', 'z', 'zoe')")
        for n, (needs_reply, priority) in enumerate([(1, 1), (0, 0), (1, 0)], start=1):
            db.execute(
                "INSERT INTO conversations (channel, root_remote_id, last_activity, origin, author_id,"
                " needs_reply, priority) VALUES ('m', ?, ?, 'mention', 1, ?, ?)",
                (str(n), n, needs_reply, priority),
            )
    store = await open_store(path)
    try:
        inbox = await store.conversation_page(View.INBOX)
        assert [(row.id, row.priority) for row in inbox] == [(1, 1), (3, 0)]  # the complaint first
        assert [row.id for row in await store.conversation_page(View.PENDING)] == [2]  # we spoke last
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # 8, then contacts: 9
        columns = db.execute("SELECT name FROM pragma_index_info('conversations_by_view')").fetchall()
        assert [c[0] for c in columns] == ["state", "needs_reply", "priority", "last_activity", "id"]


async def test_the_demo_snoozes_its_oldest_inbox_conversation_for_a_minute(tmp_path, clock):
    from ecoinbox.demo.runner import DEMO_SNOOZE_S, snooze_one

    path = tmp_path / "inbox.db"
    assert await snooze_one(path, attempts=1) is None  # no store yet: nothing to snooze
    store = await open_store(path, clock=clock)
    try:
        await store.ingest([msg("1", at=0), msg("2", at=5, author=Author("m", "bob", "bob"))])
        oldest = (await store.conversation_page(View.INBOX))[-1].id
        assert await snooze_one(path) == oldest
        (row,) = await store.conversation_page(View.SNOOZED)
        assert row.id == oldest and row.snoozed_until is not None
        assert 0 < (row.snoozed_until - datetime.now(UTC)).total_seconds() <= DEMO_SNOOZE_S
        clock.at = row.snoozed_until  # a minute later, the engine's loop wakes it
        assert await store.wake_snoozed() == [oldest]
    finally:
        await store.close()
