"""The ingest plan on its own, without SQLite: one test per rule it encodes.

`plan_ingest` applies a batch in memory to what the store holds (`Holdings`) and says what to
insert and update; `tests/test_ingest_batch.py` checks the whole ingest against the one-by-one
reference through a real store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecoinbox.model import Author, Message, Origin, State
from ecoinbox.store.ingest_plan import (
    DELETED_SNIPPET,
    MESSAGE_COLUMNS,
    Holdings,
    Inbound,
    KnownMessage,
    Summary,
    plan_ingest,
)
from ecoinbox.store.times import to_ms

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
ZOE = Author("masto", "zoe", "zoe@example.social", "Zoe")
BRAND = Author("masto", "brand", "brand@example.social", "Brand")
AUTHOR_IDS = {("masto", "zoe"): 1, ("masto", "brand"): 2}


def clock() -> datetime:
    return NOW


def said(
    remote_id: str, minutes: int, *, by: Author = ZOE, reply_to: str | None = None, **more: object
) -> Message:
    origin = Origin.OURS if by is BRAND else more.pop("origin", Origin.MENTION)
    return Message(
        "masto", remote_id, by, f"text of {remote_id}", T0 + timedelta(minutes=minutes),
        in_reply_to=reply_to, origin=origin, **more,  # type: ignore[arg-type]
    )  # fmt: skip


def stored(
    conversation_id: int = 7,
    *,
    state: State = State.OPEN,
    needs_reply: int = 1,
    last: int = 0,
    muted: int = 0,
) -> Summary:
    """A conversation the store holds: Zoe's post "a" at T0 + `last` minutes, state changed at T0."""
    return Summary(
        "masto", "a", state.value, to_ms(T0), needs_reply, to_ms(T0 + timedelta(minutes=last)), 1,
        "text of a", 1, Origin.MENTION.value, None, "", muted=muted,
    )  # fmt: skip


def holding(*summaries: tuple[int, Summary], messages: dict[str, KnownMessage] | None = None) -> Holdings:
    known = {("masto", remote_id): row for remote_id, row in (messages or {}).items()}
    return Holdings(dict(AUTHOR_IDS), known, dict(summaries), next_message_id=100, next_conversation_id=50)


def stored_a(**changes: object) -> dict[str, KnownMessage]:
    row = KnownMessage(10, 7, "text of a", None, 0, 0, to_ms(T0))
    for name, value in changes.items():
        setattr(row, name, value)
    return {"a": row}


def test_a_message_without_a_known_parent_starts_a_conversation_with_the_next_ids() -> None:
    plan = plan_ingest([said("x", 1), said("y", 2, reply_to="unknown")], holding(), clock)

    assert plan.new_conversations == [50, 51]
    assert [(row[0], row[3]) for row in plan.messages] == [(100, 50), (101, 51)]
    assert plan.new == 2 and plan.conversation_ids == {50, 51}
    inserted = dict(zip(MESSAGE_COLUMNS, plan.messages[1], strict=True))
    assert inserted["remote_id"] == "y" and inserted["parent_remote_id"] == "unknown"
    assert [row[:3] for row in plan.conversation_inserts()] == [(50, "masto", "x"), (51, "masto", "y")]


def test_a_reply_joins_the_conversation_of_its_parent_stored_or_earlier_in_the_batch() -> None:
    batch = [said("b", 5, reply_to="a"), said("x", 6), said("y", 7, reply_to="x")]
    plan = plan_ingest(batch, holding((7, stored()), messages=stored_a()), clock)

    assert [row[3] for row in plan.messages] == [7, 50, 50]
    assert plan.new_conversations == [50]
    assert plan.summaries[7].message_count == 2


def test_a_changed_text_is_an_edit_and_the_same_text_again_is_nothing() -> None:
    edited = said("a", 0, edited_at=T0 + timedelta(minutes=3))
    edited = Message(**{**{f: getattr(edited, f) for f in edited.__dataclass_fields__}, "text": "new words"})
    unchanged = plan_ingest([said("a", 0)], holding((7, stored()), messages=stored_a()), clock)
    plan = plan_ingest([edited], holding((7, stored()), messages=stored_a()), clock)

    assert (unchanged.updated, unchanged.edits, unchanged.conversation_ids) == (0, [], set())
    assert plan.updated == 1 and plan.new == 0 and plan.conversation_ids == {7}
    assert plan.edits == [("new words", "", "", to_ms(T0 + timedelta(minutes=3)), 0, 10)]
    assert plan.messages == []


def test_a_deleted_message_that_waited_on_us_leaves_the_row_and_nobody_waits() -> None:
    plan = plan_ingest([said("a", 0, deleted=True)], holding((7, stored()), messages=stored_a()), clock)

    assert plan.deletions == [(10,)] and plan.updated == 1
    summary = plan.summaries[7]
    assert (summary.needs_reply, summary.snippet) == (0, DELETED_SNIPPET)
    assert plan.conversation_updates()[0][-1] == 7


def test_a_message_seen_deleted_again_changes_nothing() -> None:
    plan = plan_ingest(
        [said("a", 0, deleted=True)], holding((7, stored()), messages=stored_a(deleted=1)), clock
    )

    assert (plan.deletions, plan.updated, plan.conversation_updates()) == ([], 0, [])


def test_a_held_message_the_moderators_let_out_is_an_update() -> None:
    plan = plan_ingest([said("a", 0, held=False)], holding((7, stored()), messages=stored_a(held=1)), clock)

    assert plan.held_changes == [(0, 10)] and plan.updated == 1 and plan.edits == []


def test_their_new_message_reopens_a_done_conversation() -> None:
    plan = plan_ingest(
        [said("b", 5, reply_to="a")], holding((7, stored(state=State.DONE)), messages=stored_a()), clock
    )

    assert plan.summaries[7].state == State.OPEN.value
    assert plan.reopened == {7}
    assert plan.history == [(7, to_ms(NOW), "system", "reopened", "done", "open")]


def test_our_reply_leaves_an_open_conversation_pending() -> None:
    plan = plan_ingest(
        [said("b", 5, by=BRAND, reply_to="a")], holding((7, stored()), messages=stored_a()), clock
    )

    summary = plan.summaries[7]
    assert (summary.state, summary.needs_reply, summary.snippet) == ("pending", 0, "text of a")
    assert plan.history == [(7, to_ms(NOW), "system", "state", "open", "pending (we replied)")]
    assert plan.reopened == set()


def test_an_older_message_fetched_late_does_not_reopen() -> None:
    done_later = stored(state=State.DONE, last=10)
    done_later.state_changed_at = to_ms(T0 + timedelta(minutes=10))
    plan = plan_ingest([said("b", -5, reply_to="a")], holding((7, done_later), messages=stored_a()), clock)

    assert plan.summaries[7].state == State.DONE.value
    assert plan.summaries[7].last_activity == to_ms(T0 + timedelta(minutes=10))
    assert (plan.history, plan.reopened) == ([], set())


def test_a_muted_conversation_stays_done() -> None:
    muted = stored(state=State.DONE, muted=1)
    plan = plan_ingest([said("b", 5, reply_to="a")], holding((7, muted), messages=stored_a()), clock)

    assert plan.summaries[7].state == State.DONE.value
    assert plan.summaries[7].needs_reply == 1
    assert plan.history == []


def test_the_strongest_route_in_names_the_conversations_origin() -> None:
    batch = [
        said("x", 1, origin=Origin.SEARCH),
        said("y", 2, reply_to="x", origin=Origin.MENTION),
        said("z", 3, reply_to="y", origin=Origin.HASHTAG),
    ]
    plan = plan_ingest(batch, holding(), clock)

    assert plan.summaries[50].origin == Origin.MENTION.value


def test_the_subject_is_the_roots_title_else_the_first_title_seen() -> None:
    titled = [said("x", 1, title="The topic"), said("y", 2, reply_to="x", title="Re: it")]
    untitled = [
        said("x", 1),
        said("y", 2, reply_to="x", title="Re: it"),
        said("z", 3, reply_to="y", title="Re: Re"),
    ]

    assert plan_ingest(titled, holding(), clock).summaries[50].subject == "The topic"
    assert plan_ingest(untitled, holding(), clock).summaries[50].subject == "Re: it"


def test_the_same_message_twice_in_a_batch_is_one_row() -> None:
    plan = plan_ingest([said("x", 1), said("x", 1)], holding(), clock)

    assert len(plan.messages) == 1 and plan.new == 1 and plan.updated == 0


def test_only_rows_from_before_the_batch_are_reindexed() -> None:
    changed = Message(
        **{**{f: getattr(said("x", 1), f) for f in Message.__dataclass_fields__}, "text": "edited"}
    )
    batch = [said("a", 0, edited_at=T0 + timedelta(minutes=9)), said("x", 1), changed]
    plan = plan_ingest(batch, holding((7, stored()), messages=stored_a()), clock)

    assert [edit[-1] for edit in plan.edits] == [10, 100]
    assert plan.first_new_id == 100
    assert plan.reindexed() == [10]  # row 100 goes into the index once, with its last words


def test_screening_sees_each_new_message_from_outside_and_the_first_one_starts_its_conversation() -> None:
    seen: list[Inbound] = []
    batch = [
        said("r", 1, by=BRAND),  # the brand's post starts it: not judged
        said("x", 2, reply_to="r"),
        said("y", 3, reply_to="x"),
        said("x", 2, reply_to="r"),  # again: judged once, when new
        said("b", 5, reply_to="a"),
    ]
    plan_ingest(batch, holding((7, stored()), messages=stored_a()), clock, seen.append)

    assert [(i.message.remote_id, i.conversation_id, i.starts) for i in seen] == [
        ("x", 50, True),
        ("y", 50, False),
        ("b", 7, False),
    ]
    assert [(i.answered, i.newest) for i in seen] == [(True, True), (False, True), (False, True)]


def test_what_screening_decides_on_a_summary_is_what_the_next_message_sees() -> None:
    def done_at_once(inbound: Inbound) -> None:  # as a rule's "done" does
        if inbound.message.remote_id == "x":
            inbound.summary.state, inbound.summary.state_changed_at = State.DONE.value, to_ms(T0)

    plan = plan_ingest([said("x", 1), said("y", 2, reply_to="x")], holding(), clock, done_at_once)

    assert plan.summaries[50].state == State.OPEN.value
    assert plan.history == [(50, to_ms(NOW), "system", "reopened", "done", "open")]


def test_stored_conversations_are_updated_and_new_ones_inserted() -> None:
    untouched = stored(8)
    plan = plan_ingest(
        [said("b", 5, reply_to="a"), said("x", 6)],
        holding((7, stored()), (8, untouched), messages=stored_a()),
        clock,
    )

    assert [row[-1] for row in plan.conversation_updates()] == [7]
    assert [row[0] for row in plan.conversation_inserts()] == [50]
