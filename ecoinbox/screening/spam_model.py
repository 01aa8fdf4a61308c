"""The learned spam prior: character and word n-grams and named signals, a linear model.

Why this model: a person must be able to read why (a linear model's verdict is a sum, so its
largest terms are its reasons: the words and signals that weighed most); it must learn online
from one mark at a time (a linear model takes a passive-aggressive step, see `SpamMarks` in
spam.py); it must ship as a small file with nothing to download; and it must cost tens of
microseconds a message so that screening keeps up with ingest. Character 3-5-grams read through
spelling games and inflections ("subscribe", "subscribers", "subscribing") in any language;
words and word pairs add phrases; the named signals (links, author names, repeats...) are
features too, so their weights are learned with the rest instead of set by hand.

How it is fast: the weights are Python dicts (the vocabulary the training data had, small
weights pruned), and character n-grams stay inside a word (" word " with its edges, as fastText
cuts them), so a word's whole share (its n-grams and itself) is computed once and kept: a
message costs a dict look-up per word and per word pair. Hashing n-grams into a numpy array was
tried first: each numpy call costs microseconds whatever its size, and a 130-character post
needed twenty of them (about 100 µs, against about 10 µs here once its words were seen). numpy
still trains the model (`bench/train_spam.py`); scikit-learn would add 30 MB for the same
logistic regression.

The weights are shipped as `spam_weights.json.gz` beside this module.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import operator
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

__all__ = [
    "MAX_CHARS",
    "WEIGHTS_FILE",
    "Model",
    "fold_fast",
    "keys",
    "load_model",
    "merged",
    "padded_text",
    "placed_words",
    "text_features",
    "word_contributions",
    "word_grams",
]

WEIGHTS_FILE: Final = Path(__file__).with_name("spam_weights.json.gz")
MAX_CHARS: Final = 1000
_KNOWN_WORDS: Final = 50_000  # words whose score is kept (a few MB); forgotten all at once past it  # past this a message's spam shows in its opening already: the cost stays flat
GRAMS: Final = (3, 4, 5)
VERSION: Final = 1
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def _fold_table() -> dict[int, str]:
    """Accented Latin letters to their base letter, digits to 0 (a price or a phone number is
    the same evidence whatever its digits), curly quotes straight, a byte-order mark away."""
    table: dict[int, str] = {ord(digit): "0" for digit in "123456789"}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base and base != char and base.isascii():
            table[code] = base.lower()
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("ß"): "ss", ord("’"): "'", ord("\ufeff"): ""})
    return table


_FOLD: Final = _fold_table()


def fold_fast(text: str) -> str:
    """Lowercase, accents off, digits as 0: one `str.translate`, about a microsecond for a post."""
    return text[:MAX_CHARS].lower().translate(_FOLD)


def padded_text(text: str) -> str:
    """What the n-grams are cut from: the folded text, spaces collapsed, one space each side."""
    return f" {' '.join(fold_fast(text).split())} "


def word_grams(word: str) -> list[str]:
    """The character n-grams of " word " (a word's edges are part of it; n-grams never cross
    into the next word, so a word's share of the score can be kept once computed)."""
    edged = f" {word} "
    return [edged[i : i + n] for n in GRAMS for i in range(len(edged) - n + 1)]


def text_features(padded: str) -> tuple[list[str], list[str], list[str]]:
    """The character n-grams, words and word pairs of `padded` (the slow, explicit form of what
    `Model.text_score` adds up; training and marks use it)."""
    words = padded.split()
    grams = [gram for word in words for gram in word_grams(word)]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return grams, words, pairs


@dataclass(slots=True)
class Model:
    """Weights by kind (character n-grams, words, word pairs, named signals) and a bias.

    The log-odds of spam are bias + (sum of the text features' weights) / sqrt(their count) +
    the named signals' weights: a long message does not shout.
    """

    grams: dict[str, float] = field(default_factory=dict)
    words: dict[str, float] = field(default_factory=dict)
    pairs: dict[str, float] = field(default_factory=dict)
    named: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    gram_weight: float = 1.0  # the character n-grams' value against a whole word's (chosen on dev)
    # "youtube subscribe": a word where it was written (the channel's kind), the same word's
    # weight elsewhere untouched ("subscribe" under a video is not "subscription" to a care account).
    placed: dict[str, float] = field(default_factory=dict)
    # word -> (its n-grams' and its own weight, how many features): words repeat across
    # messages, so most of a message's score is a handful of dict look-ups.
    _known: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False, compare=False)
    # kind -> {word: weight}: `placed` split by kind once, so a message's look-ups build no strings.
    _by_kind: dict[str, dict[str, float]] = field(default_factory=dict, repr=False, compare=False)

    def word_score(self, word: str) -> tuple[float, int]:
        """A word's n-grams and itself: their weight sum, and how many features they are."""
        found = self._known.get(word)
        if found is None:
            grams = word_grams(word)
            grams_total = sum(map(self.grams.get, grams, itertools.repeat(0.0)))
            total = self.gram_weight * grams_total + self.words.get(word, 0.0)
            found = (total, len(grams) + 1)
            if len(self._known) >= _KNOWN_WORDS:
                self._known.clear()
            self._known[word] = found
        return found

    def text_score(self, padded: str, kind: str = "") -> tuple[float, int]:
        """The text features' weight sum over sqrt(their count), and the count. `kind`: the
        channel's kind, for the words weighed where they were written (if the model has them)."""
        words = padded.split()
        if not words:
            return 0.0, 0
        known = self._known.get
        scores = [known(word) or self.word_score(word) for word in words]
        total = sum(map(_FIRST, scores))  # the same additions in the same order, in C
        count = sum(map(_SECOND, scores)) + len(words) - 1
        if len(words) > 1:
            total += sum(map(self.pairs.get, map(" ".join, itertools.pairwise(words)), itertools.repeat(0.0)))
        if kind and self.placed:
            total += sum(map(self.placed_in(kind).get, words, itertools.repeat(0.0)))
            count += len(words)
        return total / math.sqrt(count), count

    def placed_in(self, kind: str) -> dict[str, float]:
        """The words weighed where they were written, for one kind of channel (word -> weight)."""
        found = self._by_kind.get(kind)
        if found is None:
            prefix = f"{kind} "
            found = {key[len(prefix) :]: w for key, w in self.placed.items() if key.startswith(prefix)}
            self._by_kind[kind] = found
        return found

    def named_score(self, names: Iterable[str]) -> float:
        return sum(map(self.named.get, names, itertools.repeat(0.0)))

    def table(self, kind: str) -> dict[str, float]:
        return {"g": self.grams, "w": self.words, "p": self.pairs, "n": self.named, "c": self.placed}[kind]

    def add(self, kind: str, key: str, change: float) -> None:
        self._known.clear()
        self._by_kind.clear()
        table = self.table(kind)
        total = table.get(key, 0.0) + change
        if abs(total) < 1e-9:
            table.pop(key, None)
        else:
            table[key] = total

    def copy(self) -> Model:
        tables = dict(self.grams), dict(self.words), dict(self.pairs), dict(self.named)
        return Model(*tables, self.bias, self.gram_weight, dict(self.placed))

    def save(self, path: Path, *, digits: int = 4) -> None:
        state = {
            "version": VERSION,
            "bias": round(self.bias, digits),
            "gram_weight": self.gram_weight,
            **{kind: {k: round(v, digits) for k, v in sorted(self.table(kind).items())} for kind in "gwpn"},
        }
        if self.placed:  # only a model trained with them has the key: older files stay the same
            state["c"] = {k: round(v, digits) for k, v in sorted(self.placed.items())}
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        path.write_bytes(gzip.compress(data, mtime=0))  # mtime 0: the same weights, the same bytes

    @classmethod
    def read(cls, path: Path) -> Model:
        state = json.loads(gzip.decompress(path.read_bytes()))
        if state.get("version") != VERSION:
            raise ValueError(f"{path.name} is not a version {VERSION} spam model")
        return cls(
            {str(k): float(v) for k, v in state["g"].items()},
            {str(k): float(v) for k, v in state["w"].items()},
            {str(k): float(v) for k, v in state["p"].items()},
            {str(k): float(v) for k, v in state["n"].items()},
            float(state["bias"]),
            float(state.get("gram_weight", 1.0)),
            {str(k): float(v) for k, v in state.get("c", {}).items()},
        )


@cache
def load_model() -> Model:
    """The shipped model (read once), or an empty one if the file is missing or unreadable:
    then only the hand-set signals and the manager's marks act."""
    try:
        return Model.read(WEIGHTS_FILE)
    except (OSError, ValueError, KeyError, AttributeError, json.JSONDecodeError):
        return Model()


def word_contributions(model: Model, padded: str, scale: float, kind: str = "") -> list[tuple[float, str]]:
    """Each word's share of the text score (its n-grams, itself, itself where it was written,
    half of each pair it is in), largest first by size: what a reason shows."""
    words = padded.split()
    shares = [model.word_score(word)[0] for word in words]
    if kind and model.placed:
        shares = [
            share + model.placed.get(key, 0.0)
            for share, key in zip(shares, placed_words(kind, words), strict=True)
        ]
    for i in range(len(words) - 1):
        half = model.pairs.get(f"{words[i]} {words[i + 1]}", 0.0) / 2
        shares[i] += half
        shares[i + 1] += half
    ranked = sorted(zip(shares, words, strict=True), key=lambda item: -abs(item[0]))
    return [(share * scale, word) for share, word in ranked[:8]]


def merged(model: Model, changes: Mapping[str, float]) -> Model:
    """`model` with `changes` ("g:abc" -> change) added: the weights with the manager's marks."""
    out = model.copy()
    for key, change in changes.items():
        kind, _, name = key.partition(":")
        out.add(kind, name, change)
    return out


def placed_words(kind: str, words: Iterable[str]) -> Iterable[str]:
    """Each word with the kind of channel it was written on ("youtube subscribe")."""
    return map(f"{kind} ".__add__, words)


def keys(padded: str, names: Sequence[str], kind: str = "") -> list[str]:
    """Every feature of a message as "kind:name" (text features first), for marks and training;
    `kind`: the channel's kind, for a model that weighs words where they were written."""
    grams, words, pairs = text_features(padded)
    return [
        *(f"g:{g}" for g in grams),
        *(f"w:{w}" for w in words),
        *(f"p:{p}" for p in pairs),
        *(f"c:{c}" for c in (placed_words(kind, words) if kind else ())),
        *(f"n:{n}" for n in names),
    ]
