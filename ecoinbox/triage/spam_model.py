"""The learned spam prior: character and word n-grams and named signals, a linear model.

Why this model: a person must be able to read why (a linear model's verdict is a sum, so its
largest terms are its reasons: the words and signals that weighed most); it must learn online
from one mark at a time (a linear model takes a passive-aggressive step, see `SpamMarks` in
spam.py); it must ship as a small file with nothing to download; and it must cost tens of
microseconds a message so that triage keeps up with ingest. Character 3-5-grams read through
spelling games and inflections ("subscribe", "subscribers", "subscribing") in any language;
words and word pairs add phrases; the named signals (links, author names, repeats...) are
features too, so their weights are learned with the rest instead of set by hand.

How it is fast: the weights are Python dicts from n-gram to weight (the vocabulary the training
data had, small weights pruned), and a message's score is `sum(map(weights.get, n-grams))`: one
C-level loop per n-gram size, about 40-80 ns an n-gram. Hashing into a numpy array was tried
first: each numpy call costs microseconds whatever its size, and a 130-character post needed
twenty of them (about 100 µs against about 20 µs here). numpy still trains the model
(`bench/train_spam.py`); scikit-learn would add 30 MB for the same logistic regression.

The weights are shipped as `spam_weights.json.gz` beside this module.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
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
    "feature_count",
    "fold_fast",
    "keys",
    "load_model",
    "merged",
    "padded_text",
    "text_features",
    "word_contributions",
]

WEIGHTS_FILE: Final = Path(__file__).with_name("spam_weights.json.gz")
MAX_CHARS: Final = 1000  # past this a message's spam shows in its opening already: the cost stays flat
GRAMS: Final = (3, 4, 5)
VERSION: Final = 1

# One slice object per position, made once: `map(text.__getitem__, slices)` cuts every n-gram
# of a text in C.
_SLICES: Final = {n: [slice(i, i + n) for i in range(MAX_CHARS + 2)] for n in GRAMS}


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


def text_features(padded: str) -> tuple[list[str], list[str], list[str]]:
    """The character n-grams, words and word pairs of `padded` (the slow, explicit form of what
    `Model.score` adds up; training and reasons use it)."""
    grams = [padded[i : i + n] for n in GRAMS for i in range(len(padded) - n + 1)]
    words = padded.split()
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return grams, words, pairs


def feature_count(padded: str, words: int) -> int:
    """How many text features `padded` has (their values are 1/sqrt of it)."""
    size = len(padded)
    return sum(max(0, size - n + 1) for n in GRAMS) + words + max(0, words - 1)


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

    def text_score(self, padded: str) -> tuple[float, int]:
        """The text features' weight sum over sqrt(their count), and the count."""
        size = len(padded)
        zero = itertools.repeat(0.0)
        total = 0.0
        cut = padded.__getitem__
        for n in GRAMS:
            if size >= n:
                total += sum(map(self.grams.get, map(cut, _SLICES[n][: size - n + 1]), zero))
        words = padded.split()
        total += sum(map(self.words.get, words, zero))
        if len(words) > 1:
            total += sum(map(self.pairs.get, map(" ".join, itertools.pairwise(words)), zero))
        count = feature_count(padded, len(words))
        return (total / math.sqrt(count) if count else 0.0), count

    def named_score(self, names: Iterable[str]) -> float:
        return sum(map(self.named.get, names, itertools.repeat(0.0)))

    def table(self, kind: str) -> dict[str, float]:
        return {"g": self.grams, "w": self.words, "p": self.pairs, "n": self.named}[kind]

    def add(self, kind: str, key: str, change: float) -> None:
        table = self.table(kind)
        total = table.get(key, 0.0) + change
        if abs(total) < 1e-9:
            table.pop(key, None)
        else:
            table[key] = total

    def copy(self) -> Model:
        return Model(dict(self.grams), dict(self.words), dict(self.pairs), dict(self.named), self.bias)

    def save(self, path: Path, *, digits: int = 4) -> None:
        state = {
            "version": VERSION,
            "bias": round(self.bias, digits),
            **{kind: {k: round(v, digits) for k, v in sorted(self.table(kind).items())} for kind in "gwpn"},
        }
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
        )


@cache
def load_model() -> Model:
    """The shipped model (read once), or an empty one if the file is missing or unreadable:
    then only the hand-set signals and the manager's marks act."""
    try:
        return Model.read(WEIGHTS_FILE)
    except (OSError, ValueError, KeyError, AttributeError, json.JSONDecodeError):
        return Model()


def word_contributions(model: Model, padded: str, scale: float) -> list[tuple[float, str]]:
    """Each word's share of the text score (the n-grams that start in it or in the space before
    it, itself, half of each pair it is in), largest first by size: what a reason shows."""
    words = padded.split()
    if not words:
        return []
    size = len(padded)
    zero = itertools.repeat(0.0)
    cut = padded.__getitem__
    at = [0.0] * size  # the weight of the n-grams that start at each position
    for n in GRAMS:
        if size >= n:
            for position, weight in enumerate(
                map(model.grams.get, map(cut, _SLICES[n][: size - n + 1]), zero)
            ):
                at[position] += weight
    running = [0.0, *itertools.accumulate(at)]
    # Word i owns positions [start_i - 1, start_{i+1} - 1): its leading space and its letters.
    starts = list(itertools.accumulate((len(w) + 1 for w in words), initial=1))
    shares = [running[min(starts[i + 1] - 1, size)] - running[starts[i] - 1] for i in range(len(words))]
    shares[-1] += running[size] - running[min(starts[-1] - 1, size)]
    for i, word in enumerate(words):
        shares[i] += model.words.get(word, 0.0)
        if i + 1 < len(words):
            half = model.pairs.get(f"{word} {words[i + 1]}", 0.0) / 2
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


def keys(padded: str, names: Sequence[str]) -> list[str]:
    """Every feature of a message as "kind:name" (text features first), for marks and training."""
    grams, words, pairs = text_features(padded)
    return [
        *(f"g:{g}" for g in grams),
        *(f"w:{w}" for w in words),
        *(f"p:{p}" for p in pairs),
        *(f"n:{n}" for n in names),
    ]
