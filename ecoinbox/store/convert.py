"""SQLite rows to model objects."""

from __future__ import annotations

import sqlite3

from ecoinbox.model import (
    Author,
    ConversationRow,
    Lease,
    Message,
    Origin,
    OutboxItem,
    OutboxState,
    State,
)
from ecoinbox.store.times import from_ms

MESSAGE_SQL = (
    "SELECT m.*, a.remote_id AS author_remote_id, a.handle, a.display_name, a.url AS author_url"
    " FROM messages m JOIN authors a ON a.id = m.author_id"
)


def to_conversation_row(row: sqlite3.Row) -> ConversationRow:
    return ConversationRow(
        id=row["id"],
        channel=row["channel"],
        state=State(row["state"]),
        needs_reply=bool(row["needs_reply"]),
        last_activity=from_ms(row["last_activity"]),  # type: ignore[arg-type]
        author_label=row["display_name"] or row["handle"] or "",
        author_handle=row["handle"] or "",
        snippet=row["snippet"],
        message_count=row["message_count"],
        origin=Origin(row["origin"]),
        language=row["language"],
        reason=row["reason"],
        snoozed_until=from_ms(row["snoozed_until"]),
        assignee=row["assignee"],
        tags=tuple(row["tags"].split()),
        priority=row["priority"],
        priority_reason=row["priority_reason"],
        muted=bool(row["muted"]),
        direct=bool(row["direct"]),
        held=bool(row["held"]),
        draft=bool(row["draft"]),
        subject=row["subject"] or "",
    )


def to_message(row: sqlite3.Row) -> Message:
    return Message(
        channel=row["channel"],
        remote_id=row["remote_id"],
        author=Author(
            channel=row["channel"],
            remote_id=row["author_remote_id"],
            handle=row["handle"],
            display_name=row["display_name"],
            url=row["author_url"],
        ),
        text=row["text"],
        created_at=from_ms(row["created_at"]),  # type: ignore[arg-type]
        in_reply_to=row["parent_remote_id"],
        url=row["url"],
        visibility=row["visibility"],
        language=row["language"],
        origin=Origin(row["origin"]),
        spoiler=row["spoiler"],
        links=tuple(filter(None, row["links"].split("\n"))),
        edited_at=from_ms(row["edited_at"]),
        deleted=bool(row["deleted"]),
        title=row["title"],
        thread_ref=row["thread_ref"],
        hidden_characters=bool(row["hidden_characters"]),
        mentions=tuple(filter(None, row["mentions"].split("\n"))),
        held=bool(row["held"]),
    )


def to_lease(row: sqlite3.Row) -> Lease:
    return Lease(
        name=row["name"], owner=row["owner"], host=row["host"], pid=row["pid"],
        acquired_at=from_ms(row["acquired_at"]), expires_at=from_ms(row["expires_at"]),  # type: ignore[arg-type]
    )  # fmt: skip


def to_outbox_item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        parent_remote_id=row["parent_remote_id"],
        text=row["text"],
        idempotency_key=row["idempotency_key"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        created_at=from_ms(row["created_at"]),  # type: ignore[arg-type]
        next_attempt_at=from_ms(row["next_attempt_at"]),
        error=row["error"],
        remote_id=row["remote_id"],
        visibility=row["visibility"],
        first_attempt_at=from_ms(row["first_attempt_at"]),
        kind=row["kind"],
        title=row["title"],
        category=row["category"],
        depends_on=row["depends_on"],
        language=row["language"],
        canned=tuple(row["canned"].split()),
        link=row["link"],
        approve_parent=bool(row["approve_parent"]),
        to=tuple(filter(None, row["to_addresses"].split("\n"))),
        cc=tuple(filter(None, row["cc_addresses"].split("\n"))),
        subject=row["subject"],
        wider=bool(row["wider"]),
    )
