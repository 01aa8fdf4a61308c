"""What happens to a new message from outside: its spam verdict, its priority, the rules it fires.

`Screener` is built from the config and handed to the store, which calls `assess` for each new
inbound message in a thread of its own before the ingest transaction (the verdicts are stored
with the messages, in that transaction), and `learn` / `forget` when the manager marks spam or
not spam (the store keeps `marks_bytes`). One thread at a time uses it: it is not thread-safe.
Pure Python: no Textual, no SQL; the spam engines it holds (`engines`: SpamAssassin, Akismet) do
their network I/O in a thread of their own, asked by the store before the judging.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlsplit

from ecoinbox.channels.registry import unit
from ecoinbox.config import Settings
from ecoinbox.model import Author, Message
from ecoinbox.screening._text import deleet, fold_text, minhash, minhashes
from ecoinbox.screening.engines import Engines, engines_from_settings, joined
from ecoinbox.screening.memory import Memory
from ecoinbox.screening.offtopic import off_topic, reaches
from ecoinbox.screening.priority import Priority, score_priority
from ecoinbox.screening.rules import CompiledRule, RuleAction, compile_rules
from ecoinbox.screening.spam import Signal, SpamFilter, SpamMarks, Verdict

__all__ = ["PRIORITY_ACTOR", "SPAM_ACTOR", "Assessment", "Screener", "has_identity", "identity"]

SPAM_ACTOR = "spam filter"
PRIORITY_ACTOR = "priority"
REPEATED_AT = 0.8  # resemblance from which two texts count as the same text posted again
RECENT_TEXTS = 300  # inbound texts remembered to notice the same text posted again
SCREENING_CHARS = 5_000
"""How much of a message's text screening reads, from its start: what makes a message spam or urgent
is said there, and a 200,000-character post then costs no more than a long mail."""
FIELD_CHARS = 500  # of a title, an author's name, handle or address; links: at most LINKS of them
LINKS = 50
BATCH = 50  # messages folded and hashed together by `assess_batch`


@dataclass(frozen=True, slots=True)
class Assessment:
    """The screening of one message: spam verdict, priority, and what the matching rules do."""

    verdict: Verdict
    priority: Priority
    actions: tuple[RuleAction, ...] = ()

    @property
    def level(self) -> int:
        """The message's priority level: a rule's priority wins, else 1 when urgent, else 0."""
        for action in self.actions:
            if action.what == "priority":
                return {"high": 1, "normal": 0, "low": -1}[action.value]
        return 1 if self.priority.urgent else 0

    @property
    def priority_reason(self) -> str:
        for action in self.actions:
            if action.what == "priority":
                return f"priority {action.value} ({action.actor})"
        return str(self.priority) if self.priority.urgent else ""

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(action.rule for action in self.actions))


class Screener:
    """The spam filter, the priority scorer and the rules, as the store calls them at ingest."""

    def __init__(
        self,
        spam_filter: SpamFilter | None = None,
        rules: Sequence[CompiledRule] = (),
        engines: Engines | None = None,
    ) -> None:
        self.spam_filter = spam_filter or SpamFilter()
        self.rules = tuple(rules)
        self.engines = engines if engines is not None else Engines(())  # SpamAssassin, Akismet
        self._recent = Memory(RECENT_TEXTS)  # banded: a new text is compared with its look-alikes only

    @classmethod
    def from_settings(cls, settings: Settings) -> Screener:
        """The brand's names and its own sites (blogs, forums) make links to them harmless."""
        names = (settings.brand.name, *settings.brand.keywords)
        own = {urlsplit(c.base_url).hostname or "" for c in settings.channels if unit(c.kind).brand_site}
        kinds = {channel.name: channel.kind for channel in settings.channels}
        spam_filter = SpamFilter(brand_names=names, own_domains=sorted(own - {""}), kinds=kinds)
        return cls(spam_filter, compile_rules(settings.rules), engines_from_settings(settings))

    # ---- at ingest -------------------------------------------------------------------------

    def assess(
        self,
        message: Message,
        *,
        post: str | None = None,
        known_author: bool = False,
        followers: int | None = None,
        folded: str | None = None,
        signature: tuple[int, ...] | None = None,
        engine_signals: Sequence[Signal] = (),
    ) -> Assessment:
        """Screen `message` (from outside). `post` is what it answers, if known. `known_author`
        counts only for an author with an identity of their own (`has_identity`). `folded` and
        `signature`: `fold_text` and `minhash` of its text if the caller has them (`assess_batch`).
        `engine_signals`: what the spam engines said of it (`Engines.consult`), added to the verdict.

        Only the first `SCREENING_CHARS` characters of the text (and of `post`) are read."""
        message = bounded(message)
        # The text is folded once (here or by the caller), and every check reads the folded copy.
        folded = fold_text(message.text) if folded is None else folded
        signature = minhash(message.text, folded=folded) if signature is None else signature
        post = post[:SCREENING_CHARS] if post else post
        repeats, authors = self.context(message, signature=signature)
        verdict = self.spam_filter.check(
            message,
            post=post,
            repeats=repeats,
            authors=authors,
            known_author=known_author and has_identity(message.author),
            platform=message.platform_verdict or ("held" if message.held else ""),
            signature=signature,
        )
        under = f"{message.title}\n{message.post_text}" if message.post_text else ""
        # A blog comment unrelated to its post, that gives a way to reach someone: what spam is for.
        if under and reaches(verdict.signals) and (unrelated := off_topic(message.text, under)):
            engine_signals = (*engine_signals, unrelated)
        verdict = joined(verdict, engine_signals, self.spam_filter.threshold)
        text = f"{message.title}\n{message.text}" if message.title else message.text
        folded = f"{fold_text(message.title)}\n{folded}" if message.title else folded
        priority = score_priority(text, folded=folded)
        normalized = deleet(folded) if any(rule.words is not None for rule in self.rules) else folded
        actions = tuple(
            action
            for rule in self.rules
            if rule.matches(message, followers=followers, normalized=normalized)
            for action in rule.actions()
        )
        return Assessment(spared(verdict, priority), priority, actions)

    def assess_batch(
        self,
        messages: Sequence[Message],
        *,
        posts: Sequence[str | None] | None = None,
        known_authors: Sequence[bool] | None = None,
        engine_signals: Sequence[Sequence[Signal]] | None = None,
    ) -> Iterator[Assessment]:
        """`assess` each of `messages` in order (`posts`, `known_authors`: each one's, as for
        `assess`), lazily: a caller may stop between two. The texts are folded and their
        MinHash signatures computed `BATCH` at a time (one numpy pass each time)."""
        for start in range(0, len(messages), BATCH):
            chunk = [bounded(message) for message in messages[start : start + BATCH]]
            folded = [fold_text(message.text) for message in chunk]
            signatures = minhashes([message.text for message in chunk], folded)
            for offset, message in enumerate(chunk):
                yield self.assess(
                    message,
                    post=posts[start + offset] if posts is not None else None,
                    known_author=known_authors[start + offset] if known_authors is not None else False,
                    folded=folded[offset],
                    signature=signatures[offset],
                    engine_signals=engine_signals[start + offset] if engine_signals is not None else (),
                )

    def context(self, message: Message, *, signature: tuple[int, ...] | None = None) -> tuple[int, int]:
        """How many near-identical texts came in recently, and from how many other authors; then
        `message` is remembered too. `signature`: `minhash(message.text)` if known already."""
        signature = minhash(message.text) if signature is None else signature
        if not signature:
            return 0, 0
        who = identity(message.author)
        similar = self._recent.similar_then_add(signature, REPEATED_AT, who)
        return len(similar), len({other for other in similar if other != who})

    # ---- the manager's marks ---------------------------------------------------------------

    def learn(self, message: Message, is_spam: bool, *, post: str | None = None) -> None:
        self.spam_filter.learn(message, is_spam, post=post)
        self.engines.teach(message, is_spam)  # Akismet's submit-spam / submit-ham, not waited for

    def forget(self, message: Message, is_spam: bool, *, post: str | None = None) -> None:
        self.spam_filter.forget(message, is_spam, post=post)

    def marks_bytes(self) -> bytes:
        return self.spam_filter.marks.to_bytes()

    def restore_marks(self, data: bytes | None) -> None:
        """Take the marks the store kept (None: none yet). Unreadable marks start afresh."""
        try:
            self.spam_filter.marks = SpamMarks.from_bytes(data) if data else SpamMarks()
        except ValueError:
            self.spam_filter.marks = SpamMarks()


def bounded(message: Message) -> Message:
    """`message` as screening reads it: its text cut at `SCREENING_CHARS`, names and title at
    `FIELD_CHARS`, at most `LINKS` links (the same message when it is within them)."""
    author = message.author
    fields = (message.title, author.handle, author.display_name, author.url or "")
    within = len(message.text) <= SCREENING_CHARS and len(message.links) <= LINKS
    if within and max(map(len, fields)) <= FIELD_CHARS:
        return message
    author = replace(
        author,
        handle=author.handle[:FIELD_CHARS],
        display_name=author.display_name[:FIELD_CHARS],
        url=author.url[:FIELD_CHARS] if author.url else author.url,
    )
    return replace(
        message,
        text=message.text[:SCREENING_CHARS],
        title=message.title[:FIELD_CHARS],
        author=author,
        links=message.links[:LINKS],
    )


# What spam and phishing need to do harm, and a customer's complaint does not carry: a link, hidden
# text, a look-alike or borrowed name, an address to write to, the platform's own verdict, or the
# likeness of something the manager marked spam.
DAMNING: Final = (
    "links:", "shortener", "look_alike", "hidden", "impersonation", "email", "marked_like",
    "platform:spam", "platform:removed", "engine:spamassassin:spam", "engine:akismet:spam",
    "engine:akismet:discard",
)  # fmt: skip


def spared(verdict: Verdict, priority: Priority) -> Verdict:
    """An urgent complaint (money, access, safety...) that reads like spam but carries nothing
    spam needs stays in the Inbox: "I was charged twice for my subscription, please refund me"
    hidden in Spam costs more than a spam seen once. Said in its reasons."""
    if not verdict.is_spam or not priority.urgent:
        return verdict
    if any(signal.name.startswith(DAMNING) for signal in verdict.signals):
        return verdict
    why = f"reads like spam ({verdict.score:.2f}) but is an urgent complaint with no link: kept in the inbox"
    return replace(verdict, is_spam=False, reasons=(why, *verdict.reasons))


def has_identity(author: Author) -> bool:
    """Whether the platform vouches for who wrote it: an account, not a guest's typed name (a
    WordPress guest is "guest:NAME|SITE": anyone can type "Anonymous" or someone else's name)."""
    return bool(author.remote_id) and not author.remote_id.startswith("guest:")


def identity(author: Author) -> str:
    """Who wrote a message, for "the same text from several authors": the account, or for a
    guest the name as typed (guests with one name count as one: the cautious side)."""
    return f"{author.channel}\x1f{author.remote_id or author.handle}"
