"""A poll batch applied in memory to what the store holds: the ingest's rules, without SQL.

`plan_ingest` threads each message (a reply joins its parent's conversation, anything else
starts one), notes edits, deletions and moderation, keeps each conversation's summary row in
step (snippet, subject, origin, who waits) and moves states (their message reopens, our reply
leaves it pending). `ingest.IngestStore` reads the `Holdings` and writes the `IngestPlan`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from ecoinbox.model import (
    Message,
    Origin,
    State,
)
from ecoinbox.store.times import to_ms


class Row(Protocol):
    """A stored row read by column name (sqlite3.Row, a dict...)."""

    def __getitem__(self, key: str, /) -> Any: ...


SNIPPET_CHARS = 300
DELETED_SNIPPET = "(deleted on the platform)"
"""A row's snippet when the message it showed was deleted: its words are not shown by default."""
SUBJECT_CHARS = 300
# The strongest reason wins when messages of one conversation arrived by different routes.
ORIGIN_RANK = {Origin.MENTION: 4, Origin.HASHTAG: 3, Origin.SEARCH: 2, Origin.CONTEXT: 1, Origin.OURS: 0}


@dataclass(slots=True)
class KnownMessage:
    """A stored message as far as ingest cares: where it is threaded and what it says now."""

    id: int
    conversation_id: int
    text: str
    edited_at: int | None
    deleted: int
    held: int = 0
    created_at: int = 0


def apply_edit(
    row: KnownMessage,
    message: Message,
    edits: list[tuple[Any, ...]],
    deletions: list[tuple[int]],
    held_changes: list[tuple[int, int]],
) -> bool:
    """A message seen again: note its edit, deletion or approval; False if nothing changed."""
    edited = to_ms(message.edited_at) if message.edited_at else None
    moderated = False
    if row.held != int(message.held) and not message.deleted:
        row.held = int(message.held)
        held_changes.append((row.held, row.id))
        moderated = True
    if message.deleted:
        if row.deleted:
            return False
        row.deleted = 1
        deletions.append((row.id,))
        return True
    if row.text == message.text and row.edited_at == edited:
        return moderated
    row.text, row.edited_at = message.text, edited
    edits.append(
        (
            message.text,
            message.spoiler,
            "\n".join(message.links),
            edited,
            int(message.hidden_characters),
            row.id,
        )
    )
    return True


@dataclass(slots=True)
class Summary:
    """A conversation's summary row while a batch is applied to it."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "state", "state_changed_at", "needs_reply", "last_activity", "author_id", "snippet",
        "message_count", "origin", "language", "reason", "priority", "priority_reason", "muted",
        "snoozed_until", "assignee", "subject",
    )  # fmt: skip

    channel: str
    root_remote_id: str
    state: str
    state_changed_at: int
    needs_reply: int
    last_activity: int
    author_id: int | None
    snippet: str
    message_count: int
    origin: str
    language: str | None
    reason: str
    priority: int = 0
    priority_reason: str = ""
    muted: int = 0
    snoozed_until: int | None = None
    assignee: str = ""
    subject: str = ""  # the title of its first message (a mail's subject, a topic's title)
    changed: bool = False

    @classmethod
    def new(cls, root: Message, created: int) -> Summary:
        return cls(root.channel, root.remote_id, State.OPEN.value, 0, 0, created, None, "", 0,
                   root.origin.value, None, "", changed=True)  # fmt: skip

    @classmethod
    def from_row(cls, row: Row) -> Summary:
        return cls(row["channel"], row["root_remote_id"], *(row[column] for column in cls.COLUMNS))

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, column) for column in self.COLUMNS)

    def withdrawn(self, created: int) -> None:
        """A message of the conversation was deleted on its platform: if it is the one waiting
        on us, nobody is waiting any more, and its words leave the row."""
        if self.needs_reply and created >= self.last_activity:
            self.needs_reply = 0
            self.snippet = DELETED_SNIPPET
            self.changed = True

    def add(
        self, message: Message, author_id: int, created: int, clock: Callable[[], datetime]
    ) -> tuple[str, str] | None:
        """Keep the summary in step with a new message of the conversation; the (old, new)
        state if the message moved it: their message reopens, our reply leaves it pending."""
        newest = self.message_count == 0 or created >= self.last_activity
        if ORIGIN_RANK[message.origin] > ORIGIN_RANK[Origin(self.origin)]:
            self.origin = message.origin.value
        self.message_count += 1
        if self.author_id is None:
            self.author_id = author_id
        if message.title and (not self.subject or message.remote_id == self.root_remote_id):
            self.subject = message.title[:SUBJECT_CHARS]  # the root's title wins over a reply's
        if newest:
            self.last_activity = created
            self.needs_reply = int(not message.is_ours)
            if not message.is_ours:
                self.author_id = author_id
                self.snippet = message.text[:SNIPPET_CHARS]
                self.language = message.language
        self.changed = True
        old = self.state
        # Older inbound messages (context fetched late) never reopen a conversation; a muted one
        # stays done (it still leaves Pending or a snooze: they answered).
        reopens = self.state in _REOPENED_BY_ACTIVITY and not (self.muted and self.state == State.DONE.value)
        if not message.is_ours and reopens and created > self.state_changed_at:
            self.state, self.snoozed_until = State.OPEN.value, None
            self.state_changed_at = to_ms(clock())
        elif message.is_ours and newest and self.state == State.OPEN.value:
            self.state = State.PENDING.value
            # From when we answered: their answer, even if it arrives in the same poll, reopens it.
            self.state_changed_at = created
        return None if self.state == old else (old, self.state)


_REOPENED_BY_ACTIVITY = frozenset({State.DONE.value, State.PENDING.value, State.SNOOZED.value})


# ---- the plan of a batch -------------------------------------------------------------------

MessageKey = tuple[str, str]
"""(channel, remote id): a message's or an author's identity across the store."""

MESSAGE_COLUMNS = (
    "id", "channel", "remote_id", "conversation_id", "parent_remote_id", "author_id", "text", "spoiler",
    "links", "created_at", "edited_at", "deleted", "url", "visibility", "language", "origin", "title",
    "thread_ref", "hidden_characters", "mentions", "held",
)  # fmt: skip
"""The columns of `IngestPlan.messages`' rows, in order."""


@dataclass(slots=True)
class Holdings:
    """What the store holds that a batch touches, read before the plan is made (the plan
    updates it in place as it applies each message)."""

    author_ids: dict[MessageKey, int]
    """(channel, author remote id) -> author id, for every author of the batch."""
    known: dict[MessageKey, KnownMessage]
    """The batch's messages and their parents, as far as the store holds them."""
    summaries: dict[int, Summary]
    """The conversations of `known`."""
    next_message_id: int
    next_conversation_id: int


@dataclass(frozen=True, slots=True)
class Inbound:
    """A new message from outside, as the plan applies it: what screening judges it with."""

    message: Message
    author_id: int
    conversation_id: int
    summary: Summary
    starts: bool
    """The first message from outside of a conversation this batch starts (its root may be the
    brand's own post): it decides whether the conversation is spam."""
    newest: bool
    answered: bool
    """The brand spoke last in the conversation before it (or nobody had yet)."""


@dataclass(slots=True)
class IngestPlan:
    """What a batch inserts and updates, in the order the write applies it."""

    summaries: dict[int, Summary]
    new_conversations: list[int] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    """New message rows (`MESSAGE_COLUMNS`), ids in increasing order."""
    edits: list[tuple[Any, ...]] = field(default_factory=list)
    """(text, spoiler, links, edited_at, hidden_characters, id)"""
    deletions: list[tuple[int]] = field(default_factory=list)
    held_changes: list[tuple[int, int]] = field(default_factory=list)
    """(held, id): a platform's moderation queue let a message out (or took it in)."""
    history: list[tuple[Any, ...]] = field(default_factory=list)
    """(conversation_id, at, actor, action, old, new): what the batch did to states."""
    new: int = 0
    updated: int = 0
    conversation_ids: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)

    @property
    def first_new_id(self) -> int | None:
        return int(self.messages[0][0]) if self.messages else None

    def reindexed(self) -> list[int]:
        """Rows from before this batch whose words changed: the search index forgets their old
        words and learns the new ones (the batch's own rows are indexed once, as they end up)."""
        first = self.first_new_id
        return sorted({int(edit[-1]) for edit in self.edits if first is None or edit[-1] < first})

    def conversation_inserts(self) -> list[tuple[Any, ...]]:
        """(id, channel, root_remote_id, *Summary.COLUMNS) of the conversations the batch starts."""
        rows = ((c, self.summaries[c]) for c in self.new_conversations)
        return [(c, s.channel, s.root_remote_id, *s.values()) for c, s in rows]

    def conversation_updates(self) -> list[tuple[Any, ...]]:
        """(*Summary.COLUMNS, id) of the stored conversations the batch changed."""
        fresh = set(self.new_conversations)
        return [(*s.values(), c) for c, s in self.summaries.items() if s.changed and c not in fresh]


def plan_ingest(
    messages: Sequence[Message],
    holdings: Holdings,
    clock: Callable[[], datetime],
    on_inbound: Callable[[Inbound], None] | None = None,
) -> IngestPlan:
    """Apply `messages` in order, in memory, to what the store holds: threading, edits,
    deletions, summaries, reopening. A new row takes the next id, as SQLite would give it.

    `on_inbound` sees each new message from outside once its conversation's summary includes it
    (screening changes that summary in place: a later message of the batch sees what it decided).
    """
    plan = IngestPlan(holdings.summaries)
    known, summaries = holdings.known, holdings.summaries
    started: set[int] = set()  # conversations this batch starts
    judged: set[int] = set()  # of those, the ones whose first message from outside was seen
    for message in messages:
        author_id = holdings.author_ids[(message.channel, message.author.remote_id)]
        row = known.get((message.channel, message.remote_id))
        if row is not None:
            if apply_edit(row, message, plan.edits, plan.deletions, plan.held_changes):
                plan.updated += 1
                plan.conversation_ids.add(row.conversation_id)
                if message.deleted:
                    summaries[row.conversation_id].withdrawn(row.created_at)
            continue
        parent = known.get((message.channel, message.in_reply_to)) if message.in_reply_to else None
        created = to_ms(message.created_at)
        if parent is not None:
            conversation_id = parent.conversation_id
        else:
            conversation_id = holdings.next_conversation_id
            holdings.next_conversation_id += 1
            summaries[conversation_id] = Summary.new(message, created)
            plan.new_conversations.append(conversation_id)
            started.add(conversation_id)
        message_id = holdings.next_message_id
        holdings.next_message_id += 1
        edited = to_ms(message.edited_at) if message.edited_at else None
        known[(message.channel, message.remote_id)] = KnownMessage(
            message_id,
            conversation_id,
            message.text,
            edited,
            int(message.deleted),
            int(message.held),
            created,
        )
        plan.messages.append(_message_row(message, message_id, conversation_id, author_id, created, edited))
        summary = summaries[conversation_id]
        answered = not summary.needs_reply
        if (moved := summary.add(message, author_id, created, clock)) is not None:
            plan.history.append(_state_moved(conversation_id, to_ms(clock()), *moved))
            if moved[1] == State.OPEN.value:
                plan.reopened.add(conversation_id)
        if on_inbound is not None and not message.is_ours:
            starts = conversation_id in started and conversation_id not in judged
            judged.add(conversation_id)
            newest = summary.last_activity == created
            on_inbound(Inbound(message, author_id, conversation_id, summary, starts, newest, answered))
        plan.new += 1
        plan.conversation_ids.add(conversation_id)
    return plan


def _message_row(
    message: Message, message_id: int, conversation_id: int, author_id: int, created: int, edited: int | None
) -> tuple[Any, ...]:
    """A new message's row, in `MESSAGE_COLUMNS` order."""
    return (
        message_id, message.channel, message.remote_id, conversation_id, message.in_reply_to, author_id,
        message.text, message.spoiler, "\n".join(message.links), created, edited, int(message.deleted),
        message.url, message.visibility, message.language, message.origin.value, message.title,
        message.thread_ref, int(message.hidden_characters), "\n".join(message.mentions), int(message.held),
    )  # fmt: skip


def _state_moved(conversation_id: int, at: int, old: str, new: str) -> tuple[Any, ...]:
    """The history row of a state a new message moved: their message reopens, our reply leaves
    it pending."""
    if new == State.OPEN.value:
        return (conversation_id, at, "system", "reopened", old, new)
    return (conversation_id, at, "system", "state", old, f"{new} (we replied)")
