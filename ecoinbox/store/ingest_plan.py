"""A poll batch applied in memory to what the store holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from ecoinbox.model import (
    Message,
    Origin,
    State,
)
from ecoinbox.store.sql import to_ms

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
    def from_row(cls, row: sqlite3.Row) -> Summary:
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
