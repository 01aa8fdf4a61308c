"""Plain data for the whole program: no I/O, no SQL, no Textual.

Channel modules turn platform JSON into these objects; the store turns them into rows and back;
the TUI and the CLI only ever see these. Text fields hold what the platform said, decoded to
plain text but *untrusted*: whatever shows them on a terminal goes through `ecoinbox.sanitize`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from ecoinbox.sanitize import sanitize


class State(enum.StrEnum):
    """The triage state of a conversation, owned by the manager."""

    OPEN = "open"
    PENDING = "pending"  # we answered and wait on them; their next message reopens it
    SNOOZED = "snoozed"  # out of the way until `snoozed_until` (or their next message)
    DONE = "done"
    SPAM = "spam"


class View(enum.StrEnum):
    """The lists the inbox can show; `tab` cycles through them in this order."""

    INBOX = "inbox"
    PENDING = "pending"
    SNOOZED = "snoozed"
    DONE = "done"
    SPAM = "spam"
    MINE = "mine"  # assigned to me, open or pending

    @property
    def states(self) -> tuple[State, ...]:
        """The states the view lists."""
        if self is View.MINE:
            return (State.OPEN, State.PENDING)
        if self is View.INBOX:
            return (State.OPEN,)
        return (State(self.value),)

    @property
    def state(self) -> State:
        """The state a conversation of this view is in (Mine: the first of its states)."""
        return self.states[0]


class Origin(enum.StrEnum):
    """How a message reached us: it names why it is in the inbox."""

    MENTION = "mention"  # the brand account was mentioned or replied to
    HASHTAG = "hashtag"  # listening: a tracked hashtag
    SEARCH = "search"  # listening: a keyword search hit
    CONTEXT = "context"  # fetched to complete a thread
    OURS = "ours"  # written by the brand account


class OutboxState(enum.StrEnum):
    """Where a reply is on its way out. See `engine.outbox` for the transitions."""

    QUEUED = "queued"  # written, waiting for the sender (or for its retry time)
    SENDING = "sending"  # claimed by a sender holding a lease
    SENT = "sent"  # the platform returned the created message
    FAILED = "failed"  # the platform refused it for good (e.g. 422); the manager decides
    UNKNOWN = "unknown"  # it may or may not have been published; never resent blindly
    DISCARDED = "discarded"  # the manager dropped it (kept for the history)

    @property
    def unsent(self) -> bool:
        """Neither on the platform nor dropped: the Outbox view lists it."""
        return self not in (OutboxState.SENT, OutboxState.DISCARDED)


class ReplyDecision(enum.StrEnum):
    """What the manager decides for a reply the outbox could not settle (failed or unknown)."""

    RESEND = "resend"  # it is not on the platform: send it (again)
    MARK_SENT = "mark_sent"  # it is on the platform after all: stop worrying about it
    DISCARD = "discard"  # drop it


class DraftKind(enum.StrEnum):
    """Which box a draft was typed in: each conversation keeps one draft of each."""

    REPLY = "reply"
    REDIRECT = "redirect"  # a canned reply that brings the person to the forum
    NOTE = "note"
    TOPIC = "topic"  # a new forum topic and the reply that carries its address


@dataclass(frozen=True, slots=True)
class Draft:
    """What the manager typed in a box and has neither sent nor thrown away."""

    conversation_id: int
    kind: DraftKind
    text: str
    parent_remote_id: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Author:
    """A person (or account) on one channel."""

    channel: str
    remote_id: str
    handle: str  # as the platform addresses them, e.g. "zoe@remote.example"
    display_name: str = ""
    url: str | None = None
    # What the platform proves about this account: what it owns (its profile page there, a
    # domain handle, "mailto:" the address a mail came from) and, as `contacts.claim()`, pages it
    # verified link back to it. See `ecoinbox.contacts`. Never what a person merely typed.
    proofs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.display_name or self.handle


@dataclass(frozen=True, slots=True)
class Message:
    """One post, comment or mail, normalized.

    `remote_id` is the platform's own id, an opaque string (never cast to int);
    `in_reply_to` is the remote id of the parent on the same channel, if any.
    """

    channel: str
    remote_id: str
    author: Author
    text: str
    created_at: datetime
    in_reply_to: str | None = None
    url: str | None = None
    visibility: str | None = None
    language: str | None = None
    origin: Origin = Origin.MENTION
    spoiler: str = ""
    links: tuple[str, ...] = ()  # the real targets of the links in `text`, in order
    edited_at: datetime | None = None
    deleted: bool = False
    title: str = ""  # the topic's title (forums) or the subject (mail), where there is one
    thread_ref: str | None = None  # the platform's own thread id (a Discourse topic id)
    # Decoding the post removed escape sequences, BiDi controls or invisible characters from
    # `text`: it reads differently from what was sent, and the reader is told so.
    hidden_characters: bool = False
    # Everyone the post addresses besides its author (Mastodon mentions, mail Cc): a reply keeps
    # addressing them, after a restart too.
    mentions: tuple[str, ...] = ()
    # Held for moderation on the platform (a WordPress comment awaiting approval): nobody but
    # the moderators sees it, nor a reply to it, until it is approved.
    held: bool = False
    # What the platform itself decided about it, for the spam filter: "spam" (WordPress status,
    # Reddit's spam flag), "removed" (a Reddit moderator), "flagged" (Discourse readers), or "".
    platform_verdict: str = ""
    # The text of the post it comments, where the channel reads it (a blog post): screening
    # compares them at ingest (off-topic); not stored.
    post_text: str = ""
    # The commenter's IP address, where the platform gives it to a moderator (WordPress's
    # author_ip): personal data, sent only to Akismet; never stored, shown or logged.
    author_ip: str = field(default="", repr=False)

    @property
    def is_ours(self) -> bool:
        return self.origin is Origin.OURS


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One line of the inbox: a conversation summary, maintained on ingest."""

    id: int
    channel: str
    state: State
    needs_reply: bool
    last_activity: datetime
    author_label: str  # who spoke last from outside (or the root author)
    author_handle: str
    snippet: str  # the last inbound message's text, untrusted
    message_count: int
    origin: Origin
    language: str | None = None  # of the person's newest message, detected or as the platform says
    reason: str = ""  # why it is in its state, e.g. "redirected" (to the forum)
    snoozed_until: datetime | None = None  # when a snoozed conversation wakes
    assignee: str = ""  # the team member it is assigned to ("" for nobody)
    tags: tuple[str, ...] = ()  # the manager's tags, sorted
    priority: int = 0  # 1 high (a complaint, an urgent word, a rule), 0 normal, -1 low
    priority_reason: str = ""  # e.g. "priority: refund, never arrived"
    muted: bool = False  # no notification, new activity does not reopen it
    direct: bool = False  # a direct message (private to the brand and the people it names)
    held: bool = False  # a message in it is held for moderation on the platform
    draft: bool = False  # the manager began something in it (a reply, a note...) not yet sent
    subject: str = ""  # its first message's subject or title (a mail, a forum topic), untrusted

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the person has been waiting on us (their newest message), if they are."""
        if not self.needs_reply or self.state in (State.DONE, State.SPAM):
            return None
        return self.last_activity

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        """The keyset position of this row in its view (larger comes first)."""
        return (int(self.needs_reply), self.priority, _ms(self.last_activity), self.id)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as the store holds it, with its place in the conversation."""

    id: int
    conversation_id: int
    message: Message
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A reply the manager wrote: written before the network is touched."""

    id: int
    conversation_id: int
    channel: str
    parent_remote_id: str
    text: str
    idempotency_key: str
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    error: str = ""
    remote_id: str | None = None
    visibility: str | None = None
    first_attempt_at: datetime | None = None
    kind: str = "reply"  # "reply", or "topic": a new forum topic (redirect)
    title: str = ""  # the topic's title
    category: str | None = None  # the topic's category
    depends_on: int | None = None  # a reply waiting for this topic to exist (its {topic_url})
    language: str | None = None
    canned: tuple[str, ...] = ()  # the canned replies it was made from
    link: str | None = None  # the canned link it carries
    approve_parent: bool = False  # approve the held comment it answers before replying (WordPress)
    to: tuple[str, ...] = ()  # a mail's recipients as the manager set them (empty: the channel's choice)
    cc: tuple[str, ...] = ()
    subject: str | None = None  # a mail's subject as the manager set it (None: "Re:" the parent's)
    wider: bool = False  # the manager confirmed a visibility wider than the parent's


@dataclass(frozen=True, slots=True)
class UnsentReply:
    """A reply (or forum topic) not sent yet, as the Outbox view lists it: with whom it answers."""

    item: OutboxItem
    parent: Message | None = None  # the message it answers (None for a new forum topic)

    @property
    def to(self) -> str:
        """Whom it answers, as the list names them (untrusted: sanitize before showing)."""
        return self.parent.author.label if self.parent is not None else ""

    @property
    def needs_decision(self) -> bool:
        """Refused, or perhaps published: only the manager can say what happens to it."""
        return self.item.state in (OutboxState.FAILED, OutboxState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Conversation:
    """A whole thread for the reader: its summary, its messages, and replies on their way."""

    row: ConversationRow
    messages: list[StoredMessage] = field(default_factory=list)
    outbox: list[OutboxItem] = field(default_factory=list)
    linked: list[Conversation] = field(default_factory=list)  # e.g. the forum topic it went to
    notes: list[Note] = field(default_factory=list)  # internal notes, oldest first, never sent
    screening_notes: list[str] = field(default_factory=list)  # what rules did or suggest, in words


@dataclass(frozen=True, slots=True)
class Note:
    """An internal note the team wrote in a conversation: shown in the thread, never sent."""

    id: int
    conversation_id: int
    author: str
    text: str  # typed by a manager: still shown as plain text, never as markup
    at: datetime


@dataclass(frozen=True, slots=True)
class Triage:
    """What the manager decided about a conversation, as it was: a bulk action's undo restores it."""

    conversation_id: int
    state: State
    reason: str = ""
    snoozed_until: datetime | None = None
    assignee: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkUse:
    """A canned link sent in a past conversation: what link suggestion learns from."""

    conversation_text: str
    link: str
    at: datetime
    canned: str = ""


TAG_MAX_CHARS = 32


def normalize_tag(text: str) -> str:
    """A tag as stored: lower case, no leading "#", no spaces or control characters, short.
    What `sanitize` keeps stays: a joiner inside an emoji (👨‍👩‍👧), a flag's tag characters."""
    text = sanitize(text.strip().lstrip("#"), single_line=True)
    return "-".join(text.lower().split())[:TAG_MAX_CHARS]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a named lease in the store (the engine's: which process polls and sends)."""

    name: str
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReplyMark:
    """How far a conversation's replies went when a manager started writing (store ids)."""

    message_id: int
    outbox_id: int


@dataclass(frozen=True, slots=True)
class ConcurrentReply:
    """A reply that entered a conversation after a manager started writing in it."""

    text: str
    at: datetime
    by: str  # "another ecoinbox" (queued on this store) or the handle that posted it on the platform


@dataclass(frozen=True, slots=True)
class ContactAccount:
    """One account of a person, and how it came into their contact."""

    author_id: int
    channel: str
    handle: str
    display_name: str = ""
    url: str | None = None
    linked_by: str = ""  # "proof" or the manager who linked it; "" for an account on its own
    why: str = ""  # what proved it, or what the manager said
    linked_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.handle


@dataclass(frozen=True, slots=True)
class Contact:
    """A person across channels: their accounts, conversations (newest first), first contact, note.

    `id` is None for an account that was never linked nor noted: a contact of one.
    """

    id: int | None
    accounts: tuple[ContactAccount, ...]
    conversations: tuple[ConversationRow, ...] = ()
    first_contact: datetime | None = None
    note: str = ""

    @property
    def label(self) -> str:
        named = next((a for a in self.accounts if a.display_name), None)
        return (named or self.accounts[0]).label if self.accounts else ""
