"""Spam, priority and rules applied as the store ingests: in the same transaction, with reasons
and who did it in the history; the manager's marks teach the filter and are kept in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, Origin, State, View
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.spam import SpamMarks
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
BRAND = Author("m", "99", "acme", "Acme")

CONFIG = """
[brand]
name = "Velora"
keywords = ["velora"]
[[channels]]
kind = "mastodon"
name = "m"
base_url = "https://social.example"
[[canned]]
name = "refund"
text = "Here is how refunds work: {link}"
[[rules]]
name = "billing"
[rules.match]
words = ["invoice", "facture"]
[rules.actions]
tag = "billing"
assign = "sam"
canned = "refund"
[[rules]]
name = "bots"
[rules.match]
author = "statusbot"
[rules.actions]
done = true
[[rules]]
name = "newsletter"
[rules.match]
words = "unsubscribe"
kind = "mention"
[rules.actions]
priority = "low"
"""

SPAM = (
    "Best casino bonus! free spins at https://casino-win.example/bonus https://casino-win.example/a "
    "https://x.example/b https://y.example/c"
)
COMPLAINT = "I was charged twice for my subscription, please refund me. This is unacceptable!"


def msg(remote_id: str, text: str, *, who: str = "zoe", at: int = 0, parent: str | None = None,
        name: str = "", url: str | None = None, **extra) -> Message:  # fmt: skip
    author = BRAND if who == "acme" else Author("m", who, who, name or who, url)
    return Message(
        "m", remote_id, author, text, T0 + timedelta(minutes=at), in_reply_to=parent,
        origin=Origin.OURS if who == "acme" else Origin.MENTION, **extra,
    )  # fmt: skip


def casino(remote_id: str, at: int = 0) -> Message:
    return msg(
        remote_id, SPAM, who="cheapcasino", name="cheap casino deals", url="https://casino-win.example", at=at
    )


@pytest.fixture
def settings():
    return parse_config(CONFIG, Path("test.toml"))


@pytest.fixture
async def store(tmp_path, settings):
    s = await open_store(tmp_path / "inbox.db", clock=lambda: T0 + timedelta(hours=1))
    await s.attach_screener(Screener.from_settings(settings))
    yield s
    await s.close()


async def test_a_new_spam_conversation_lands_in_spam_with_its_reason(store):
    result = await store.ingest([casino("1"), msg("2", "how do I pair the bike with the app?", at=1)])
    assert result.spam == {1}
    spam = await store.conversation_page(View.SPAM)
    assert [r.id for r in spam] == [1]
    assert spam[0].reason.startswith("spam: ") and "links" in spam[0].reason
    [(_, actor, action, old, new)] = await store.history(1)
    assert (actor, action, old) == ("spam filter", "state", "open")
    assert new == f"spam ({spam[0].reason})"
    assert [r.id for r in await store.conversation_page(View.INBOX)] == [2]


async def test_a_spam_reply_goes_to_spam_alone_and_the_conversation_stays(store):
    await store.ingest([msg("1", "my bike lock is stuck, any idea?")])
    result = await store.ingest(
        [msg("2", SPAM, who="cheapcasino", name="cheap casino deals", parent="1", at=1)]
    )
    row = await store.conversation_row(1)
    assert row.state is State.OPEN and row.message_count == 1
    assert row.snippet == "my bike lock is stuck, any idea?" and row.needs_reply
    assert result.spam == {2}
    moved = await store.conversation_row(2)
    assert moved.state is State.SPAM and moved.reason.startswith("spam reply: spam: ")
    assert [m.message.remote_id for m in (await store.conversation(2)).messages] == ["2"]
    assert ("spam filter", "split") in {(a, b) for _, a, b, _, _ in await store.history(1)}
    # A reply to the spam leaves with it; a real reply stays.
    await store.ingest([msg("3", "thanks, oiling it worked", parent="1", at=2)])
    assert (await store.conversation_row(1)).message_count == 2


async def test_a_spam_reply_does_not_reopen_a_done_conversation(store):
    await store.ingest([msg("1", "my bike lock is stuck, any idea?")])
    await store.set_state([1], State.DONE)
    # Written after it was marked done (the store's clock is an hour in): it would reopen it.
    await store.ingest([msg("2", SPAM, who="cheapcasino", name="cheap casino deals", parent="1", at=120)])
    assert (await store.conversation_row(1)).state is State.DONE
    assert ("spam filter", "state") in {(a, b) for _, a, b, _, _ in await store.history(1)}
    # Their own new message still reopens it.
    await store.ingest([msg("3", "still stuck, sorry", parent="1", at=130)])
    assert (await store.conversation_row(1)).state is State.OPEN


async def test_the_manager_moves_a_reply_to_spam_alone_and_the_filter_learns(store):
    await store.ingest([
        msg("1", "my bike lock is stuck, any idea?"),
        msg("2", "try oil on it", who="bob", parent="1", at=1),
        msg("3", "ok thanks", parent="2", at=2),
    ])  # fmt: skip
    thread = await store.conversation(1)
    bob = thread.messages[1]
    assert await store.split_spam(thread.messages[0].id) is None  # the post that starts it: use !
    old, new = await store.split_spam(bob.id)
    assert old == 1
    assert [m.message.remote_id for m in (await store.conversation(new)).messages] == ["2", "3"]
    assert (await store.conversation_row(new)).state is State.SPAM
    assert (await store.conversation_row(1)).message_count == 1
    assert store.screener.spam_filter.marks.marks == [1, 0]


async def test_a_complaint_floats_up_then_settles_when_answered(store):
    await store.ingest([
        msg("1", "love the new colours", who="ann", at=0),
        msg("2", COMPLAINT, who="priya", at=1),
        msg("3", "nice ride today", who="bob", at=2),
    ])  # fmt: skip
    rows = await store.conversation_page(View.INBOX)
    assert [r.author_handle for r in rows] == ["priya", "bob", "ann"]  # priority before recency
    assert rows[0].priority == 1 and "charged twice" in rows[0].priority_reason
    # Keyset pages walk the same order as one page.
    first = await store.conversation_page(View.INBOX, limit=1)
    second = await store.conversation_page(View.INBOX, after=first[0].sort_key, limit=2)
    back = await store.conversation_page(View.INBOX, before=second[0].sort_key, limit=1)
    assert [r.id for r in first + second] == [r.id for r in rows] and back == first
    # The brand answers, the person says thanks: the complaint no longer jumps the queue.
    await store.ingest([msg("4", "Refunded, sorry!", who="acme", parent="2", at=3)])
    assert (await store.conversation_row(2)).needs_reply is False
    await store.ingest([msg("5", "got it, thank you", who="priya", parent="4", at=4)])
    assert (await store.conversation_row(2)).priority == 0


async def test_rules_act_and_say_so_in_the_history(store):
    await store.ingest([
        msg("1", "Where is my invoice for March?", who="ann"),
        msg("2", "Daily status: all green", who="statusbot", at=1),
        msg("3", "Our newsletter. Click to unsubscribe.", who="news", at=2),
    ])  # fmt: skip
    assert [(n.rule, n.action, n.value) for n in await store.rule_notes(1)] == [
        ("billing", "tag", "billing"), ("billing", "assign", "sam"), ("billing", "canned", "refund"),
    ]  # fmt: skip
    assert {(actor, action) for _, actor, action, _, _ in await store.history(1)} == {
        ("rule:billing", "tag"), ("rule:billing", "assign"), ("rule:billing", "canned"),
    }  # fmt: skip
    thread = await store.conversation(1)
    assert "rule:billing: suggests canned reply refund" in thread.screening_notes
    bot = await store.conversation_row(2)
    assert (bot.state, bot.reason) == (State.DONE, "rule:bots")
    assert ("rule:bots", "state") in {(a, b) for _, a, b, _, _ in await store.history(2)}
    assert (await store.conversation_row(3)).priority == -1


async def test_marking_spam_teaches_the_filter_and_the_marks_are_kept(store, tmp_path, settings):
    text = "Join my Velora owners group on telegram, link in my profile, limited places"
    await store.ingest([msg("1", text, who="grouper")])
    assert (await store.conversation_row(1)).state is State.OPEN  # not sure enough: shown
    await store.set_state([1], State.SPAM)
    assert store.screener.spam_filter.marks.marks == [1, 0]
    # The same text again, from someone else: the mark decides now.
    await store.ingest([msg("2", text + "!", who="grouper2", at=1)])
    row = await store.conversation_row(2)
    assert row.state is State.SPAM and "marked spam" in row.reason
    await store.close()
    # Another process (a fresh store and filter) reads the marks back.
    again = await open_store(tmp_path / "inbox.db")
    try:
        screener = Screener.from_settings(settings)
        await again.attach_screener(screener)
        assert screener.spam_filter.marks.marks == [1, 0]
    finally:
        await again.close()


async def test_marks_made_before_the_screener_comes_teach_it_when_it_does(tmp_path, settings):
    """The inbox shows its rows before its screener is built: a spam mark made in that second
    teaches the screener once it is attached (and the author is no longer "known")."""
    text = "Join my Velora owners group on telegram, link in my profile, limited places"
    store = await open_store(tmp_path / "inbox.db", clock=lambda: T0 + timedelta(hours=1))
    try:
        await store.ingest([msg("1", text, who="grouper")])
        store.expect_screener()
        await store.set_state([1], State.SPAM)
        await store.attach_screener(Screener.from_settings(settings))
        assert store.screener.spam_filter.marks.marks == [1, 0]
        rows = await store._read().execute_fetchall("SELECT known FROM authors WHERE handle = 'grouper'")
        assert [row[0] for row in rows] == [0]
    finally:
        await store.close()


async def test_not_spam_from_spam_teaches_and_undo_takes_the_lesson_back(store):
    await store.ingest([casino("1")])
    await store.set_state([1], State.OPEN)  # `o` in Spam: a real person after all
    assert store.screener.spam_filter.marks.marks == [0, 1]
    await store.set_state([1], State.SPAM, actor="manager (undo)")
    assert store.screener.spam_filter.marks.marks == [0, 0]
    stored = await store._read().execute_fetchall("SELECT data FROM spam_marks")
    assert SpamMarks.from_bytes(bytes(stored[0][0])).marks == [0, 0]


async def test_the_filter_and_rules_moving_conversations_teach_nothing(store):
    await store.ingest([casino("1"), msg("2", "Daily status", who="statusbot", at=1)])
    assert len(store.screener.spam_filter.marks) == 0


async def test_a_muted_conversation_is_not_reopened_nor_urgent(store):
    await store.ingest([msg("1", "hello there")])
    await store.set_state([1], State.DONE)
    assert await store.set_muted([1], True) == [1]
    result = await store.ingest([msg("2", COMPLAINT, parent="1", at=90)])  # after it was marked done
    row = await store.conversation_row(1)
    assert row.state is State.DONE and row.muted and result.urgent == set()
    assert ("manager", "muted") in {(a, b) for _, a, b, _, _ in await store.history(1)}
    await store.set_muted([1], False)
    await store.ingest([msg("3", "anyone?", parent="2", at=120)])  # after it was marked done
    assert (await store.conversation_row(1)).state is State.OPEN


async def test_a_new_urgent_conversation_is_reported_once(store):
    first = await store.ingest([msg("1", COMPLAINT)])
    assert first.urgent == {1}
    again = await store.ingest([msg("2", "still waiting for my refund!!!", parent="1", at=1)])
    assert again.urgent == set()  # it was high already


async def test_a_screening_failure_leaves_the_message_in_the_inbox_and_the_poll_going(store, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("a bug in a rule")

    store.screener.assess = explode  # type: ignore[method-assign]
    await store.ingest([msg("1", COMPLAINT)], cursor=("m", {"since": "1"}))
    assert await store.count_conversations(View.INBOX) == 1  # seen, not hidden, not lost
    assert await store.cursor("m") == {"since": "1"}  # the next poll goes on
    assert "stays in the inbox unscreened" in caplog.text


async def test_a_message_screening_fails_on_does_not_stop_the_others_of_its_poll(store, caplog):
    judge = store.screener.assess

    def explode_on_boom(message, **kwargs):
        if "boom" in message.text:
            raise RuntimeError("a bug in a rule")
        return judge(message, **kwargs)

    store.screener.assess = explode_on_boom  # type: ignore[method-assign]
    await store.ingest([casino("1"), msg("2", "boom"), msg("3", COMPLAINT, who="ann")])
    assert (await store.conversation_row(1)).state is State.SPAM  # judged before the failure
    assert (await store.conversation_row(2)).state is State.OPEN  # not judged: seen in the inbox
    assert (await store.conversation_row(3)).priority == 1  # judged after it
    assert "stays in the inbox unscreened" in caplog.text


async def test_without_a_screener_nothing_is_judged(tmp_path):
    plain = await open_store(tmp_path / "plain.db")
    try:
        await plain.ingest([casino("1")])
        row = await plain.conversation_row(1)
        assert (row.state, row.priority) == (State.OPEN, 0)
    finally:
        await plain.close()


def test_the_same_text_posted_again_counts_as_a_repeat(settings):
    screener = Screener.from_settings(settings)
    text = "Amazing article, I learned so much, check my profile for more great content like this"
    verdicts = [screener.assess(msg(str(i), text, who=f"user{i}")).verdict for i in range(3)]
    assert not any("posted" in reason for reason in verdicts[0].reasons)
    assert any(signal.reason == "posted 3 times" for signal in verdicts[2].signals)


async def test_tags_assignment_and_snooze_from_rules_act_on_the_views(tmp_path):
    """A rule's tag, assignment and snooze are the manager's own: the row shows them, Mine and
    Snoozed list them, and the person's next message wakes the snooze as any other."""
    later = '[[rules]]\nname = "later"\n[rules.match]\nwords = "whenever"\n[rules.actions]\nsnooze = "2h"\n'
    text = CONFIG + later
    store = await open_store(tmp_path / "inbox.db", clock=lambda: T0 + timedelta(hours=1))
    store.me = "sam"
    try:
        await store.attach_screener(Screener.from_settings(parse_config(text, Path("test.toml"))))
        await store.ingest([
            msg("1", "Where is my invoice for March?", who="ann"),
            msg("2", "No rush, answer whenever you can", who="bea", at=1),
        ])  # fmt: skip
        ann, bea = await store.conversation_row(1), await store.conversation_row(2)
        assert (ann.tags, ann.assignee, ann.state) == (("billing",), "sam", State.OPEN)
        assert await store.tags_in_use() == ["billing"]
        assert [row.id for row in await store.conversation_page(View.MINE)] == [1]
        wake = T0 + timedelta(hours=3)  # two hours after it arrived (the store's clock: T0 + 1h)
        assert (bea.state, bea.reason, bea.snoozed_until) == (State.SNOOZED, "rule:later", wake)
        assert ("rule:later", "state", "open", "snoozed until 2026-11-21T12:00+00:00") in {
            (a, b, c, d) for _, a, b, c, d in await store.history(2)
        }
        # A manager's assignment stays when the rule matches again; Bea writes: the snooze ends.
        await store.apply_triage([1], assignee="kim")
        await store.ingest([
            msg("3", "and the invoice for April?", who="ann", parent="1", at=2),
            msg("4", "actually, it is urgent now", who="bea", parent="2", at=90),
        ])  # fmt: skip
        assert (await store.conversation_row(1)).assignee == "kim"
        assert (await store.conversation_row(2)).state is State.OPEN
    finally:
        await store.close()
