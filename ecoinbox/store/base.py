"""The store's boundary: `Store`, what the engine, the CLI and the TUI ask of a store, and the
values it hands them. `SQLiteStore` implements it; nothing outside `ecoinbox.store` needs more.

What a second backend (PostgreSQL, for a team sharing one inbox from several machines) must
provide, beyond the methods below:

- The same guarantees. A write is one transaction; listeners hear a `Change` after it commits
  (in this process; `external_version` moves when another process changed the content). Ingest
  is idempotent by (channel, remote id). The outbox never loses nor doubles a reply: a queued
  reply is committed durably before the network is touched, `claim_next_reply` hands one item
  to one sender only, and a reply waits for the earlier replies of its conversation.
  `StoreError` and its subclasses, worded for the manager, are the only errors callers see.
- The same rules, reused: `ingest_plan.plan_ingest` decides what a poll batch inserts and
  updates from what the store holds (`Holdings`); only the reading and the writing are SQL.
- Its own SQL where SQLite's dialect differs:
  - full-text search: FTS5 (`messages_fts`, `MATCH`, the `'delete'` command, rowid order,
    `search.search_sql`) becomes a `tsvector` column with a GIN index and `websearch_to_tsquery`
    (a prefix term is `word:*`); matches are still read newest id first, in keyset pages;
  - ids: a batch's new rows take max(id) + 1 here, safe because SQLite has one writer at a time;
    with concurrent writers `Holdings.next_message_id`/`next_conversation_id` come from sequences
    reserved for the batch (`nextval` over `generate_series`), or the table is locked;
  - locking: `BEGIN IMMEDIATE` (one writer) becomes row locks: `SELECT ... FOR UPDATE SKIP LOCKED`
    to claim an outbox item, `FOR UPDATE` on the conversations a write reads then changes;
  - `INSERT OR IGNORE` is `ON CONFLICT DO NOTHING`; two-argument `max(a, b)` is `GREATEST`;
    `IS NOT ?` is `IS DISTINCT FROM`; `LIKE` is case-sensitive there (`ILIKE` for `from:`);
    the `?` placeholders are `%s` (psycopg) or `$1` (asyncpg);
  - no `PRAGMA`: the schema version lives in a table, `check_integrity` has little to check
    (amcheck), the journal and sync settings are the server's; `INDEXED BY` hints go;
  - `external_version` can be a counter row as here, or LISTEN/NOTIFY;
  - times are integer milliseconds since the epoch in every table (BIGINT there).
- `path` names the store in messages to the manager (for a server: where it is, never a password).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ecoinbox.model import (
    ConcurrentReply,
    Contact,
    ContactAccount,
    Conversation,
    ConversationRow,
    Draft,
    DraftKind,
    Lease,
    LinkUse,
    Message,
    Note,
    OutboxItem,
    OutboxState,
    ReplyDecision,
    ReplyMark,
    State,
    Triage,
    UnsentReply,
    View,
)

if TYPE_CHECKING:
    from ecoinbox.query import Query
    from ecoinbox.screening.inbound import Screener
    from ecoinbox.store.moderation import PlatformAction
    from ecoinbox.store.screening import RuleNote

SortKey = tuple[int, ...]
"""A conversation row's place in display order: (needs_reply, priority, last_activity, id)."""


class ChangeKind(enum.StrEnum):
    """What kind of write a `Change` announces."""

    INGEST = "ingest"
    """A poll stored new or changed messages (or the sender stored a sent reply's copy)."""
    URGENT = "urgent"
    """New high-priority conversations arrived: the manager may be notified."""
    STATE = "state"
    """The manager, a snooze, screening or muting changed conversations' states or fields."""
    OUTBOX = "outbox"
    """A reply or forum topic was queued, claimed back, settled or sent."""
    NOTE = "note"
    """An internal note was added."""
    DRAFT = "draft"
    """A draft appeared or went away (typing into one does not announce)."""
    CONTACT = "contact"
    """Accounts were linked or unlinked, or a contact's note changed."""
    READ_ONLY = "read-only"
    """Writes are refused from now on (`refuse_writes`)."""
    EXTERNAL = "external"
    """Another process changed the store: what it touched is not known."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a committed write touched, for listeners (the inbox redraws, the sender wakes)."""

    kind: ChangeKind
    conversation_ids: frozenset[int] = frozenset()


@dataclass(slots=True)
class IngestResult:
    """What one batch did to the store."""

    new: int = 0
    updated: int = 0
    conversation_ids: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)
    urgent: set[int] = field(default_factory=set)  # new high-priority conversations (not muted, not spam)
    spam: set[int] = field(default_factory=set)  # conversations that screening sent to Spam


@dataclass(frozen=True, slots=True)
class StateChange:
    """One conversation's state before and after a change, so the change can be undone."""

    conversation_id: int
    old: State
    new: State


class Store(Protocol):
    """What the rest of ecoinbox asks of a store (see the module's docstring for a new backend)."""

    path: Path
    me: str
    """The manager using this store (config `[team] me`): the Mine view is what is assigned to them."""

    # ---- lifetime, soundness, listeners ----------------------------------------------------

    async def close(self) -> None: ...
    async def check_integrity(self) -> list[str]: ...
    @property
    def read_only_reason(self) -> str | None: ...
    def refuse_writes(self, reason: str) -> None: ...
    def now(self) -> datetime: ...
    def add_listener(self, listener: Callable[[Change], None]) -> None: ...
    def remove_listener(self, listener: Callable[[Change], None]) -> None: ...
    async def external_version(self) -> int: ...

    # ---- ingest, cursors, screening (spam, priority, rules) ---------------------------------

    async def ingest(
        self, messages: Sequence[Message], *, cursor: tuple[str, dict[str, str]] | None = None
    ) -> IngestResult: ...
    async def known_remote_ids(self, channel: str, remote_ids: Iterable[str]) -> set[str]: ...
    async def cursor(self, channel: str) -> dict[str, str]: ...
    async def purge_deleted(self, after: timedelta) -> int: ...
    def expect_screener(self) -> None: ...
    async def attach_screener(self, screener: Screener | None) -> None: ...
    @property
    def screener(self) -> Screener | None: ...
    async def split_spam(self, message_id: int, *, actor: str = ...) -> tuple[int, int] | None: ...
    async def set_muted(
        self, conversation_ids: Sequence[int], muted: bool, *, actor: str = ...
    ) -> list[int]: ...
    async def rule_notes(self, conversation_id: int) -> list[RuleNote]: ...

    # ---- the inbox's rows, threads and search ----------------------------------------------

    async def count_conversations(self, view: View) -> int: ...
    async def conversation_page(
        self, view: View, *, after: SortKey | None = None, before: SortKey | None = None, limit: int = 100
    ) -> list[ConversationRow]: ...
    async def conversation_page_last(self, view: View, limit: int = 100) -> list[ConversationRow]: ...
    async def conversation_page_at(
        self, view: View, offset: int, limit: int = 100
    ) -> list[ConversationRow]: ...
    async def conversation_ids(self, view: View, *, limit: int = 1000) -> list[int]: ...
    async def conversation_row(self, conversation_id: int) -> ConversationRow | None: ...
    async def conversation(
        self, conversation_id: int, *, with_linked: bool = True
    ) -> Conversation | None: ...
    async def message(self, channel: str, remote_id: str) -> Message | None: ...
    async def recent_inbound(self, channel: str, since: datetime, limit: int) -> list[Message]: ...
    async def history(
        self, conversation_id: int
    ) -> list[tuple[datetime, str, str, str | None, str | None]]: ...
    async def search(
        self, query: Query, *, before_message: int | None = None, limit: int = 50, seen: Collection[int] = ()
    ) -> tuple[list[ConversationRow], int | None]: ...

    # ---- the manager's triage: states, snoozes, tags, assignment, notes --------------------

    async def set_state(
        self, conversation_ids: Sequence[int], state: State, *, actor: str = ..., reason: str = ""
    ) -> list[StateChange]: ...
    async def apply_triage(
        self,
        conversation_ids: Sequence[int],
        *,
        state: State | None = None,
        snoozed_until: datetime | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        assignee: str | None = None,
        actor: str = ...,
    ) -> list[Triage]: ...
    async def restore_triage(self, before: Sequence[Triage], *, actor: str = ...) -> int: ...
    async def triage_of(self, conversation_ids: Iterable[int]) -> list[Triage]: ...
    async def wake_snoozed(self) -> list[int]: ...
    async def next_wake(self) -> datetime | None: ...
    async def tags_in_use(self, prefix: str = "", limit: int = 50) -> list[str]: ...
    async def add_note(self, conversation_id: int, text: str, *, author: str) -> Note: ...
    async def notes(self, conversation_id: int) -> list[Note]: ...

    # ---- hiding messages on their platform (see store.moderation) -----------------------------

    async def hide_message(
        self, conversation_id: int, channel: str, remote_id: str, *, show: bool = False, actor: str = ...
    ) -> bool: ...
    async def claim_moderation(
        self, channels: Collection[str], *, lease: timedelta = ...
    ) -> PlatformAction | None: ...
    async def finish_moderation(
        self, action: PlatformAction, *, error: str = "", retry_at: datetime | None = None
    ) -> None: ...
    async def skip_moderation(self, channels: Collection[str]) -> int: ...
    async def next_moderation_due(self, channels: Collection[str]) -> datetime | None: ...
    async def platform_actions(self, conversation_id: int) -> list[tuple[str, str, str, str]]: ...

    # ---- drafts ----------------------------------------------------------------------------

    async def save_draft(
        self, conversation_id: int, kind: DraftKind, text: str, *, parent_remote_id: str | None = None
    ) -> None: ...
    async def draft(self, conversation_id: int, kind: DraftKind) -> Draft | None: ...
    async def delete_draft(self, conversation_id: int, kind: DraftKind) -> None: ...

    # ---- the outbox: the manager's side ----------------------------------------------------

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
        actor: str = ...,
        hold: float = 0.0,
        draft: DraftKind | None = None,
        to: Sequence[str] = (),
        cc: Sequence[str] = (),
        subject: str | None = None,
        wider: bool = False,
    ) -> OutboxItem: ...
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
        actor: str = ...,
        hold: float = 0.0,
    ) -> tuple[OutboxItem, OutboxItem]: ...
    async def withdraw_reply(self, item_id: int, *, actor: str = ...) -> OutboxItem | None: ...
    async def decide_reply(
        self, item_id: int, decision: ReplyDecision, *, actor: str = ...
    ) -> OutboxItem | None: ...
    async def unsent_replies(self) -> list[UnsentReply]: ...
    async def send_reply_now(self, item_id: int, *, actor: str = ...) -> OutboxItem | None: ...
    async def cancel_reply(self, item_id: int, *, actor: str = ...) -> OutboxItem | None: ...
    async def edit_reply(self, item_id: int, text: str, *, actor: str = ...) -> OutboxItem | None: ...
    async def outbox_items(self, states: Sequence[OutboxState] | None = None) -> list[OutboxItem]: ...
    async def link_uses(self, limit: int = 10_000) -> list[LinkUse]: ...
    async def reply_mark(self, conversation_id: int) -> ReplyMark: ...
    async def replies_since(self, conversation_id: int, mark: ReplyMark) -> list[ConcurrentReply]: ...

    # ---- the outbox: the sender's side -----------------------------------------------------

    async def claim_next_reply(
        self,
        owner: str,
        lease_seconds: float = 120.0,
        *,
        state: OutboxState = ...,
        channels: Sequence[str] | None = None,
        fence: str | None = None,
        exclude: Sequence[str] = (),
    ) -> OutboxItem | None: ...
    async def next_reply_due(
        self, exclude: Sequence[str] = (), read_back: Sequence[str] = ()
    ) -> datetime | None: ...
    async def reply_sent(self, item: OutboxItem, sent: Message, *, topic_url: str | None = None) -> None: ...
    async def reply_retry(self, item: OutboxItem, error: str, at: datetime) -> None: ...
    async def reply_held(self, item: OutboxItem, error: str, *, state: OutboxState = ...) -> None: ...
    async def reply_failed(self, item: OutboxItem, error: str) -> None: ...
    async def reply_unknown(
        self, item: OutboxItem, error: str, *, check_at: datetime | None = None
    ) -> None: ...
    async def orphaned_sends(self, owner: str) -> list[OutboxItem]: ...

    # ---- leases: which process polls and sends ---------------------------------------------

    async def lease(self, name: str) -> Lease | None: ...
    async def take_lease(
        self, name: str, owner: str, *, host: str, pid: int, seconds: float, replacing: str | None = None
    ) -> Lease: ...
    async def release_lease(self, name: str, owner: str) -> None: ...

    # ---- contacts across channels ----------------------------------------------------------

    async def contact(self, author_id: int) -> Contact | None: ...
    async def conversation_contact(self, conversation_id: int) -> Contact | None: ...
    async def contact_conversations(self, author_id: int) -> list[ConversationRow]: ...
    async def contact_events(self, author_id: int) -> list[tuple[Any, ...]]: ...
    async def find_authors(self, text: str, *, limit: int = 30) -> list[ContactAccount]: ...
    async def link_authors(
        self,
        author_id: int,
        other_id: int,
        *,
        actor: str,
        reason: str = "",
        conversation_id: int | None = None,
    ) -> bool: ...
    async def unlink_author(
        self, author_id: int, *, actor: str, reason: str = "", conversation_id: int | None = None
    ) -> bool: ...
    async def set_contact_note(
        self, author_id: int, note: str, *, actor: str, conversation_id: int | None = None
    ) -> None: ...
