"""Spam: a learned prior over words and signals, corrected online by the manager's marks.

`SpamFilter.check` reads a message as the model in `spam_model` does (hashed character and word
n-grams, plus named signals: links and their domains, the author's name and website, the same
text posted again or by several authors, a rare phrase repeated, generic praise) and adds the
log-odds of a linear model trained on public labelled comments and the project's own train
examples (`bench/train_spam.py`, protocol in bench/README.md). A few signals no training set
has are fixed by hand and say so (`FIXED`): a known person, the platform's own verdict (comment
status, removed, flagged), the brand's name in a stranger's account or link, hidden characters.

The manager's marks teach at once, one-sided too (marking only spam moves the model): each mark
takes a passive-aggressive step (`SpamMarks`) on the message's words, hosts and author name until
the message sits on the marked side; a near-identical message follows a mark through a MinHash
memory. Every verdict says why in words: its largest terms ("3 links", "words: 'casino',
'spins'", "keyword-like author name").

Precision first: a real person wrongly hidden is worse than a spam shown (the threshold was
chosen on the training sources for precision). Headless: no Textual, no Rich, no I/O but
reading the shipped weights once.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ecoinbox.model import Author, Message
from ecoinbox.screening._text import (
    Link,
    find_links,
    has_email,
    minhash,
    parse_link,
    strip_links,
    word_set,
)
from ecoinbox.screening.marks import SpamMarks
from ecoinbox.screening.spam_model import (
    Model,
    fold_fast,
    keys,
    load_model,
    merged,
    padded_text,
    word_contributions,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "FIXED",
    "Signal",
    "SpamFilter",
    "SpamMarks",
    "Verdict",
    "spam_signals",
]

SCAN_CHARS: Final = 4000
"""The signals read this much of a message at most: spam shows early, and a 200,000-character
post costs what a long comment does."""

DEFAULT_THRESHOLD: Final = 0.7
"""Probability at or above which a message is spam. Chosen on the training sources'
leave-one-source-out runs for precision first (bench/train_spam.py prints the sweep)."""

FIXED: Final[Mapping[str, float]] = {
    "known": -3.0,  # the person wrote before and was not spam: the manager's own trust
    "impersonation": 2.0,  # a stranger's account carries the brand's name
    "look_alike": 2.0,  # a link to a host with the brand's name that is not the brand's
    "hidden": 2.0,  # escape sequences or BiDi controls in the text: hiding what it says
    "platform:spam": 10.0,  # the platform (a moderator or its own filter) called it spam: it decides
    "platform:removed": 4.0,  # a moderator removed it there (for spam or for another reason)
    "platform:flagged": 2.0,  # readers flagged it there
    "platform:held": 1.0,  # held for moderation: suspicious to the platform, not yet judged
}
"""Signals no labelled set carries, with weights set by hand (log-odds), not learned."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: its name, its weight in log-odds (negative: not spam), and why."""

    name: str
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a message is spam, how sure (0..1), and why in words ("4 links", "words: 'win'")."""

    is_spam: bool
    score: float
    reasons: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()

    def __str__(self) -> str:
        head = "spam" if self.is_spam else "not spam"
        return f"{head}: {', '.join(self.reasons)}" if self.reasons else head


# --------------------------------------------------------------------------------------------
# The named signals (cheap: a few set look-ups and the link finder; no lexicon of regexes)

_PRAISE_WORDS: Final = word_set(
    """post posts article articles blog blogs site website page info information informative
    share sharing shared great nice good awesome excellent amazing wonderful fantastic very really
    so such helpful useful valuable read reading writing written content work keep up thank thanks
    love like enjoy enjoyed appreciate bookmark bookmarked come back check again best this your
    the a an for of it is i you and to in on what wow super bon bonne tres bel beau top merci
    pour cet ce votre ton le la les de du partage interessant instructif complet bravo article""",
    folded=True,
)
"""Words a comment can be made of without saying anything about what it comments on."""

_PLAIN: Final = word_set(
    """the a an and or to of in on for is are was it its this that your you my me i have has had with
    be at by from as we our they he she not no but so if do can will le la les un une de du des et
    ou en est pour que qui vous votre nous je il elle pas"""
)
"""Words too common to show as a reason."""

_ORDER_RE: Final = re.compile(
    r"(?:order|commande|ticket|case|dossier|facture|invoice|tracking|suivi)\D{0,12}\d{4,}|#\d{4,}",
    re.IGNORECASE,
)
_PHONE_RE: Final = re.compile(r"(?<![\w/])\+?\(?\d[\d ().-]{7,20}\d(?![\w/])")  # bounded: linear
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[\w.-]+")
_HASHTAG_RE: Final = re.compile(r"(?<![\w&])#[^\W\d]\w*")
_NAME_SPLIT_RE: Final = re.compile(r"[^\w']+")
_WORDS_RE: Final = re.compile(r"[^\W\d_]{2,}")
_MAYBE_LINK_RE: Final = re.compile(r"://|\.[a-zA-Z]{2}")  # cheap: most texts have no link at all
_EMAIL_HINT_RE: Final = re.compile(r"\w@[\w-]+\.")  # cheap: "@velora" mentions are not addresses
_SLUG_RE: Final = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)+")


def spam_signals(
    message: Message,
    *,
    repeats: int = 0,
    authors: int = 0,
    known_author: bool = False,
    brand_names: Sequence[str] = (),
    own_domains: Sequence[str] = (),
    platform: str = "",
    model: Model | None = None,
) -> list[Signal]:
    """The named signals of `message`, each with its weight (learned, or `FIXED`).

    `repeats`: how many near-identical texts the caller saw recently; `authors`: how many other
    authors among them. `known_author`: the person wrote before and was not spam. `brand_names`
    and `own_domains` are the brand's: links to its own sites are fine, a stranger using its name
    is suspicious. `platform`: the platform's own verdict ("spam", "removed", "flagged", "held").
    `model`: where learned weights come from (the shipped one by default).
    """
    model = load_model() if model is None else model
    names = signal_names(
        message,
        repeats=repeats,
        authors=authors,
        known_author=known_author,
        brand_names=brand_names,
        own_domains=own_domains,
        platform=platform,
    )
    return [Signal(name, FIXED.get(name, model.named.get(name, 0.0)), reason) for name, reason in names]


def signal_names(
    message: Message,
    *,
    repeats: int = 0,
    authors: int = 0,
    known_author: bool = False,
    brand_names: Sequence[str] = (),
    own_domains: Sequence[str] = (),
    platform: str = "",
    folded: str | None = None,
) -> list[tuple[str, str]]:
    """(name, reason) of each signal that fires, in a fixed order (see `spam_signals`).
    `folded`: `fold_fast(message.text)` if the caller has it already."""
    text = message.text[:SCAN_CHARS]
    folded = fold_fast(text) if folded is None else folded
    out: list[tuple[str, str]] = []
    links = _links(message, own_domains, text)
    out += _link_signals(text, links, brand_names)
    out += _author_signals(message, brand_names, folded)
    bare = strip_links(text) if links else text
    out += _text_signals(bare, fold_fast(bare) if links else folded)
    if "@" in text and _EMAIL_HINT_RE.search(text) and has_email(text):
        out.append(("email", "an email address"))
    size = len(bare) + (len(message.title) + 1 if message.title else 0)  # what the model reads
    out.append((f"size:{_size(size)}", ""))
    if repeats > 0:
        times = repeats + 1
        out.append(("repeated", "posted twice" if times == 2 else f"posted {times} times"))
        if authors > 0:
            out.append(("repeated_by_others", f"the same text from {authors + 1} authors"))
    if message.hidden_characters:
        out.append(("hidden", "hidden characters"))
    if platform and f"platform:{platform}" in FIXED:
        out.append((f"platform:{platform}", _PLATFORM_REASONS[platform].format(channel=message.channel)))
    if known_author:
        out.append(("known", "known person"))
    return out


def _size(size: int) -> str:
    return "short" if size < 40 else "medium" if size < 160 else "long" if size < 600 else "huge"


_PLATFORM_REASONS: Final = {
    "spam": "{channel} marked it spam",
    "removed": "removed on {channel}",
    "flagged": "flagged on {channel}",
    "held": "held for moderation on {channel}",
}


def _links(message: Message, own_domains: Sequence[str], text: str) -> list[Link]:
    """The links of `text` (the message's, cut) and the message's own, but those to the brand's
    sites and to the site the message itself is on (the blog post a comment sits under, another
    topic of the same forum: the platform put them there, or they are at home)."""
    if not message.links and not _MAYBE_LINK_RE.search(text):
        return []
    own = tuple(domain.casefold().removeprefix("www.") for domain in (*own_domains, _home(message)) if domain)
    return [link for link in find_links(text, message.links[:20]) if not _is_own(link, own)]


def _home(message: Message) -> str:
    """The host of the message's own address ("" when it has none)."""
    link = parse_link(message.url) if message.url else None
    return link.host if link is not None else ""


def _link_signals(text: str, links: list[Link], brand_names: Sequence[str]) -> list[tuple[str, str]]:
    if not links:
        return []
    counted = [link for link in links if not link.is_evidence]
    out: list[tuple[str, str]] = []
    if counted:
        count = len(counted)
        out.append((f"links:{min(count, 3)}", "a link" if count == 1 else f"{count} links"))
        prose = len(strip_links(_MENTION_RE.sub(" ", text)).split())
        if prose <= 3:
            out.append(("link_only", "only a link"))
        elif prose < 5 * count:
            out.append(("link_ratio", "more links than words"))
        for host in list(dict.fromkeys(_site(link) for link in counted))[:3]:
            out.append((f"host:{host}", f"a link to {host}"))
    if any(link.is_shortener for link in counted):
        out.append(("shortener", "a shortened link"))
    if any(_look_alike(link, brand_names) for link in counted):
        out.append(("look_alike", "look-alike link"))
    if len(links) > len(counted):
        out.append(("evidence", "a screenshot"))
    return out


def _site(link: Link) -> str:
    """The registered part of a host ("m.youtube.com" -> "youtube.com", "a.b.co.uk" -> "b.co.uk")."""
    parts = link.host.split(".")
    country = len(parts) > 2 and len(parts[-1]) == 2 and len(parts[-2]) <= 3
    return ".".join(parts[-3:] if country else parts[-2:])


def _look_alike(link: Link, brand_names: Sequence[str]) -> bool:
    return any(name and fold_fast(name) in link.host for name in brand_names)


def _is_own(link: Link, own: tuple[str, ...]) -> bool:
    return any(link.host == domain or link.host.endswith("." + domain) for domain in own)


def _author_signals(message: Message, brand_names: Sequence[str], text: str) -> list[tuple[str, str]]:
    """Signals of who wrote it (`text`: the message's folded text). What depends on the author
    alone is worked out once per author (`_who`): people write again and again."""
    who = _who(message.author, message.is_ours, tuple(brand_names))
    out = [*who.before]
    if who.joined and who.joined in text:
        out.append(("author_in_text", "repeats the author's name"))
    out += who.after
    if who.website is not None and who.website != _home(message):
        out += who.website_signals
    return out


@dataclass(frozen=True, slots=True)
class _Who:
    """What the author's signals are, worked out once per author (see `_author_signals`)."""

    before: tuple[tuple[str, str], ...]  # the signals before "repeats the author's name"
    joined: str  # the name's words as that check looks for them in the text ("": not made)
    after: tuple[tuple[str, str], ...]
    website: str | None  # the host of the website the person gave, if any
    website_signals: tuple[tuple[str, str], ...]  # when it is not the site the message is on


@functools.lru_cache(maxsize=4096)
def _who(author: Author, is_ours: bool, brand_names: tuple[str, ...]) -> _Who:
    name = (author.display_name or author.handle)[:200]
    if not name.strip():
        return _Who((("author:anonymous", "no author name"),), "", (), None, ())
    out: list[tuple[str, str]] = []
    if "." in name and find_links(name):
        out.append(("author:name_link", "a link in the author's name"))
    folded = fold_fast(name)
    name_words = [word for word in _NAME_SPLIT_RE.split(folded.replace("_", " ").replace("-", " ")) if word]
    shown = f"author '{name[:40]}'"
    for word in name_words[:4]:
        out.append((f"author:{word}", shown))
    if len(name_words) >= 3:
        out.append(("author:long_name", "a long author name"))
    if name == name.lower() and _SLUG_RE.fullmatch(name.strip()):
        out.append(("author:slug", "keyword-like author name"))
    if len(name_words) >= 2 and name.isupper():
        out.append(("author:caps", "author name in capitals"))
    if any(map(str.isdigit, name)):
        out.append(("author:digits", "digits in the author name"))
    joined = " ".join(name_words) if len(name_words) >= 2 else ""
    after: list[tuple[str, str]] = []
    if brand_names and not is_ours:
        who = f"{folded} {fold_fast(author.handle)}"
        if any(brand and fold_fast(brand) in who for brand in brand_names):
            after.append(("impersonation", "uses the brand's name"))
    # A website the person gave (a blog comment's), not their profile on the platform itself.
    link = parse_link(author.url) if author.url and author.url not in author.proofs else None
    if link is None:
        return _Who(tuple(out), joined, tuple(after), None, ())
    website = [("author:url", "author website")]
    if link.is_shortener:
        website.append(("author:url_shortener", "shortened author link"))
    for word in link.words[:4]:
        website.append((f"author_url:{word}", f"author website {link.host}"))
    return _Who(tuple(out), joined, tuple(after), link.host, tuple(website))


def _text_signals(bare: str, folded: str) -> list[tuple[str, str]]:
    """Signals of the text without its links (`folded`: the same, through `fold_fast`)."""
    out: list[tuple[str, str]] = []
    digits = folded.count("0")  # fold_fast wrote every digit as 0
    if digits >= 9 and _PHONE_RE.search(bare):
        out.append(("phone", "a phone number"))
    if "@" in bare and len(_MENTION_RE.findall(bare)) >= 4:
        out.append(("mentions", "many mentions"))
    if "#" in bare and len(_HASHTAG_RE.findall(bare)) >= 4:
        out.append(("hashtags", "many hashtags"))
    if digits >= 4 and _ORDER_RE.search(bare):
        out.append(("order", "mentions an order"))
    size = len(bare)
    if "!!" in bare:
        out.append(("exclamations", "exclamation marks"))
    if size >= 12 and bare.isupper():
        out.append(("shouting", "in capitals"))
    said = _WORDS_RE.findall(folded)
    praise = sum(map(_PRAISE_WORDS.__contains__, said))
    if said and len(said) <= 25 and praise >= 0.8 * len(said):
        out.append(("praise_only", "generic praise"))
    elif len(said) <= 25 and praise >= 3 and said[0] in _PRAISE_WORDS and len(said) - praise <= 4:
        # "Great post, thanks for sharing! Best SEO Services London": praise, then a name.
        out.append(("praise_then_name", "generic praise and a name"))
    if len(said) >= 8:
        out += _stuffing(said)
    return out


def _stuffing(said: list[str]) -> list[tuple[str, str]]:
    """A phrase of two words or a long word said again and again: keyword stuffing."""
    if len(said) - len(set(said)) < 2:
        return []  # no word is said three times: neither a pair nor a word can be stuffed
    pairs = Counter(itertools.pairwise(said))
    (first, second), times = pairs.most_common(1)[0]
    if times >= 3 and not {first, second} <= _PRAISE_WORDS:
        return [("stuffing", f"'{first} {second}' {times} times")]
    long_words = Counter(word for word in said if len(word) >= 5)
    if long_words:
        word, times = long_words.most_common(1)[0]
        if times >= 4 and times >= 0.15 * len(said):
            return [("stuffing", f"'{word}' {times} times")]
    return []


# --------------------------------------------------------------------------------------------
# What the manager's marks taught: online steps on the model's weights, and a memory of the
# marked messages themselves.

_REMEMBER_AT: Final = 0.5  # resemblance from which a marked message counts as "like this one"
_STEP_CAP: Final = 4.0  # the largest step one mark may take (log-odds per unit of features)
_MARGIN: Final = 1.0  # a marked message ends this far (log-odds) on its side of the threshold
# Named signals a mark may move: who and where. Shapes ("2 links", "generic praise") stay as
# the training data set them: one mark must not make every message with a link spam.
_PERSONAL: Final = ("n:host:", "n:author:", "n:author_url:")


# --------------------------------------------------------------------------------------------
# The filter


@dataclass(frozen=True, slots=True)
class _Reading:
    """A message as the filter read it: its padded text, signals and the score's parts."""

    padded: str
    learned_names: tuple[str, ...]  # the named signals the model weighs (not FIXED)
    signals: tuple[Signal, ...]
    text_score: float
    count: int  # text features
    logit: float
    gram_weight: float  # the model's: the value of a character n-gram
    kind: str  # the kind of channel it was written on


class SpamFilter:
    """The learned model plus the manager's marks; `check` gives a `Verdict`, `learn` a correction.

    `threshold` is the probability (0..1) from which a message is spam; `brand_names` and
    `own_domains` are the brand's name(s) and web domains. `marks` is the learned state
    (`SpamMarks`), e.g. read back from the store with `SpamMarks.from_bytes`. `model` defaults
    to the shipped one (`spam_model.load_model`).
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        brand_names: Sequence[str] = (),
        own_domains: Sequence[str] = (),
        marks: SpamMarks | None = None,
        model: Model | None = None,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.threshold = threshold
        self.kinds = dict(kinds or {})  # channel name -> kind: the model weighs some words by where
        self.brand_names = tuple(brand_names)
        self.own_domains = tuple(own_domains)
        self.marks = marks if marks is not None else SpamMarks()
        self._model = model  # the shipped one is read at the first verdict, not at start-up
        self._merged: tuple[int, int, Model] | None = None  # (id of marks, version, weights)

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = load_model()
        return self._model

    def weights(self) -> Model:
        """The shipped weights with the marks' changes (built again only after a change)."""
        if not self.marks.delta:
            return self.model
        key = (id(self.marks), self.marks.version)
        if self._merged is None or self._merged[:2] != key:
            self._merged = (*key, merged(self.model, self.marks.delta))
        return self._merged[2]

    def signals(self, message: Message, **context: Any) -> list[Signal]:
        """The named signals of `message` with their weights (see `spam_signals`)."""
        return list(self._read(message, **context).signals)

    def check(
        self,
        message: Message,
        *,
        post: str | None = None,
        repeats: int = 0,
        authors: int = 0,
        known_author: bool = False,
        platform: str = "",
        explain: bool = False,
        signature: tuple[int, ...] | None = None,
    ) -> Verdict:
        """Is `message` spam? See `spam_signals` for the arguments; `post` (what it answers) is
        not read: real ingest rarely has it. `explain`: name the words of a "not spam" too.
        `signature`: `minhash(message.text)` if the caller has it already."""
        reading = self._read(
            message,
            repeats=repeats,
            authors=authors,
            known_author=known_author,
            platform=platform,
            signature=signature,
        )
        score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, reading.logit))))
        is_spam = score >= self.threshold
        reasons = (
            self._reasons(reading, is_spam) if is_spam or explain else self._signal_reasons(reading, False)
        )
        return Verdict(is_spam, score, reasons, reading.signals)

    def learn(self, message: Message, is_spam: bool, *, post: str | None = None, repeats: int = 0) -> None:
        """The manager marked `message` spam (True) or not spam (False): later verdicts follow."""
        reading = self._read(message, repeats=repeats)
        values = _personal(reading)
        target = math.log(self.threshold / (1.0 - self.threshold))
        sign = 1.0 if is_spam else -1.0
        loss = max(0.0, _MARGIN - sign * (reading.logit - target))
        norm = sum(value * value for value in values.values())
        step = min(_STEP_CAP, loss / norm) if norm else 0.0
        if step:
            self.marks.step(values, sign * step)
            key = _mark_key(message, is_spam)
            self.marks.steps[key] = self.marks.steps.get(key, 0.0) + sign * step
        self.marks.marks[0 if is_spam else 1] += 1
        signature = minhash(message.text)
        if signature:
            self.marks.remembered.add(signature, is_spam)
        self.marks.version += 1

    def forget(self, message: Message, is_spam: bool, *, post: str | None = None, repeats: int = 0) -> None:
        """Undo a `learn` with the same arguments (the manager took the mark back)."""
        step = self.marks.steps.pop(_mark_key(message, is_spam), 0.0)
        if step:
            self.marks.step(_personal(self._read(message, repeats=repeats)), -step)
        side = 0 if is_spam else 1
        self.marks.marks[side] = max(0, self.marks.marks[side] - 1)
        signature = minhash(message.text)
        if signature:
            self.marks.remembered.remove(signature, is_spam)
        self.marks.version += 1

    def _read(
        self,
        message: Message,
        *,
        repeats: int = 0,
        authors: int = 0,
        known_author: bool = False,
        platform: str = "",
        signature: tuple[int, ...] | None = None,
    ) -> _Reading:
        folded = fold_fast(message.text)
        named = signal_names(
            message,
            repeats=repeats,
            authors=authors,
            known_author=known_author,
            brand_names=self.brand_names,
            own_domains=self.own_domains,
            platform=platform,
            folded=folded,
        )
        weights = self.weights()
        if message.title:
            padded = padded_text(f"{message.title}\n{message.text}")
        else:
            padded = f" {' '.join(folded.split())} "  # padded_text's, without folding again
        kind = self.kinds.get(message.channel, "")
        text_score, count = weights.text_score(padded, kind)
        signals = [
            Signal(name, FIXED.get(name, weights.named.get(name, 0.0)), reason) for name, reason in named
        ]
        if len(self.marks.remembered):
            similarity, label = self.marks.nearest(minhash(message.text) if signature is None else signature)
            if label is not None and similarity >= _REMEMBER_AT:
                side = "spam" if label else "not spam"
                weight = (6.0 if label else -6.0) * similarity
                signals.append(Signal("marked_like", weight, f"like a message you marked {side}"))
        logit = weights.bias + text_score + sum(signal.weight for signal in signals)
        learned = tuple(name for name, _ in named if name not in FIXED)
        return _Reading(padded, learned, tuple(signals), text_score, count, logit, weights.gram_weight, kind)

    def _signal_reasons(self, reading: _Reading, is_spam: bool) -> tuple[str, ...]:
        ranked = _ranked(_by_reason(reading.signals), is_spam)
        return tuple(reason for _, reason in ranked[:4])

    def _reasons(self, reading: _Reading, is_spam: bool) -> tuple[str, ...]:
        toward = 1.0 if is_spam else -1.0
        by_reason = _by_reason(reading.signals)
        scale = 1.0 / math.sqrt(reading.count) if reading.count else 0.0
        candidates: dict[str, float] = {}
        for value, word in word_contributions(self.weights(), reading.padded, scale, reading.kind):
            word = word.strip(_PUNCTUATION)
            # A link has its own reason ("a link to casino.example"); a word is said once.
            if value * toward > 0 and len(word) > 1 and word not in _PLAIN and "/" not in word:
                candidates.setdefault(word, value)
        chosen = {word: value for word, value in candidates.items() if value * toward >= 0.2}
        if not chosen and not _ranked(by_reason, is_spam):
            chosen = candidates  # many small signs: still name the largest
        chosen = dict(list(chosen.items())[:3])
        words = ""
        if chosen:
            words = "words: " + ", ".join(f"'{word[:24]}'" for word in chosen)
            by_reason[words] = sum(chosen.values())
        if self.marks.delta:
            base, _ = self.model.text_score(reading.padded, reading.kind)
            learned = reading.text_score - base
            if learned * toward >= 0.5:
                by_reason[f"like what you marked {'spam' if is_spam else 'not spam'}"] = learned
        ranked = _ranked(by_reason, is_spam)
        return tuple(reason for _, reason in ranked[:4]) or ((words,) if words else ())


_PUNCTUATION: Final = "\"'.,;:!?()[]{}<>*~_-"


def _by_reason(signals: Sequence[Signal]) -> dict[str, float]:
    by_reason: dict[str, float] = {}
    for signal in signals:
        if signal.reason:
            by_reason[signal.reason] = by_reason.get(signal.reason, 0.0) + signal.weight
    return by_reason


def _ranked(by_reason: Mapping[str, float], is_spam: bool) -> list[tuple[float, str]]:
    toward = 1.0 if is_spam else -1.0
    return sorted(
        ((value, reason) for reason, value in by_reason.items() if value * toward >= 0.25),
        key=lambda item: -abs(item[0]),
    )


def _personal(reading: _Reading) -> dict[str, float]:
    """The features a mark may move, with their values: every text feature (1/sqrt(count) each
    time it occurs), and the named signals of who and where (1)."""
    scale = 1.0 / math.sqrt(reading.count) if reading.count else 0.0
    values: dict[str, float] = {}
    for key in keys(reading.padded, reading.learned_names):
        if key.startswith("n:"):
            if key.startswith(_PERSONAL):
                values[key] = 1.0
        else:
            value = scale * reading.gram_weight if key.startswith("g:") else scale
            values[key] = values.get(key, 0.0) + value
    return values


def _mark_key(message: Message, is_spam: bool) -> str:
    who = f"{message.channel}\x1f{message.author.handle}\x1f{message.text}\x1f{int(is_spam)}"
    return hashlib.sha256(who.encode()).hexdigest()[:20]
