"""Which language a message is written in, from its words (py3langid), for the row and replies.

Social posts are short: "merci !", "ok on verra". The detector is restricted to the languages a
brand is likely to meet, refuses to guess when its confidence is low, and then falls back on a
few unmistakable short-message words, and then on the platform's own language field (`hint`,
often just the account's default, hence second).

The model costs about half a second to load: it is loaded on first use, once, never at import.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Final

__all__ = ["DEFAULT_LANGUAGES", "MIN_CONFIDENCE", "detect_language"]

DEFAULT_LANGUAGES: Final[tuple[str, ...]] = ("en", "fr", "de", "es", "it", "pt", "nl")
"""The languages considered unless the caller says otherwise."""

MIN_CONFIDENCE: Final = 0.75
"""The probability (among the considered languages) below which the model's answer is a guess."""

MIN_LETTERS: Final = 3
"""Fewer letters than this (after mentions, hashtags and links are removed) say nothing."""

READ_CHARS: Final = 2_000
"""How much of a text is read (its start): enough to tell its language, and a 200,000-character
post costs no more than a paragraph."""

_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[\w.-]+(?:@[\w-]+(?:\.[\w-]+)+)?")
_HASHTAG_RE: Final = re.compile(r"(?<![\w&])#\w+")
_URL_RE: Final = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# Words that settle a short message on their own when the model hesitates ("merci !").
# Only words that are not also common in another of the default languages.
_CUES: Final[dict[str, frozenset[str]]] = {
    "en": frozenset("thanks thank thx please pls plz hello hey cheers".split()),
    "fr": frozenset("merci bonjour bonsoir salut svp stp ça c'est j'ai n'est beaucoup".split()),
    "de": frozenset("danke bitte hallo moin tschüss genau".split()),
    "es": frozenset("gracias hola vale buenas".split()),
    "it": frozenset("grazie ciao buongiorno prego".split()),
    "pt": frozenset("obrigado obrigada olá valeu".split()),
    "nl": frozenset("bedankt dank hoi alsjeblieft graag".split()),
}

log = logging.getLogger(__name__)

_lock = threading.Lock()
_base_identifier: Any = None  # the full py3langid model, loaded once
_identifiers: dict[tuple[str, ...], Any] = {}  # restricted copies, one per language set
_load_failed = False


def detect_language(
    text: str, *, hint: str | None = None, languages: Iterable[str] | None = None
) -> str | None:
    """The language code of `text` ("en", "fr", ...), or None when it cannot be told.

    @mentions, #hashtags and links are removed first. When the text is too short or the model
    is unsure, a telling word ("merci", "thanks") decides, else the platform's `hint` (its own
    language field, reduced to the primary code: "en-GB" -> "en"), else None.
    `languages` restricts the candidates (default `DEFAULT_LANGUAGES`).
    """
    return detect_languages([text], [hint], languages=languages)[0]


def detect_languages(
    texts: Sequence[str], hints: Sequence[str | None], *, languages: Iterable[str] | None = None
) -> list[str | None]:
    """`detect_language` of each of `texts` with its hint: the same answers, the model's walk
    over their bytes made for all of them at once (a poll's messages: a few numpy passes)."""
    allowed = _DEFAULT_ALLOWED if languages is None else _allowed(languages)
    fallbacks = [_normalise(hint) for hint in hints]
    cleaned = [_clean(text[:READ_CHARS]) for text in texts]
    letters = [sum(map(str.isalpha, text)) for text in cleaned]
    identifier = _identifier(allowed) if any(count >= MIN_LETTERS for count in letters) else None
    judged = [i for i, count in enumerate(letters) if count >= MIN_LETTERS] if identifier is not None else []
    answers = dict(zip(judged, classify_all(identifier, [cleaned[i] for i in judged]), strict=True))
    out: list[str | None] = []
    for i, (text, fallback) in enumerate(zip(cleaned, fallbacks, strict=True)):
        if letters[i] == 0:
            out.append(fallback)
            continue
        if i in answers:
            code, confidence = answers[i]
            sure = confidence >= MIN_CONFIDENCE
            if sure and _mostly_latin(text, letters[i]) == (code in _LATIN_LANGUAGES):
                out.append(code)
                continue
        out.append(_cue(text, allowed) or fallback)
    return out


# py3langid walks a text's bytes through an automaton in a Python loop (most of its time). The
# automaton's state after a byte depends on the last `WINDOW` bytes only (no state lies deeper:
# tests/test_screening_speed.py checks it on the model), so the states of every byte of
# many texts come from `WINDOW` numpy steps; the scores are then made text by text exactly as
# py3langid 0.4 makes them (`LanguageIdentifier._decide`), so each answer is the same.
WINDOW: Final = 6
_walkers: dict[int, tuple[Any, Any, Any, int]] = {}  # id of the automaton -> its tables in numpy


def classify_all(identifier: Any, texts: list[str]) -> list[tuple[str, float]]:
    """`identifier.classify(text)` of each text (a py3langid identifier): the same answers."""
    if not texts:
        return []
    if not _walkable(identifier):
        return [identifier.classify(text) for text in texts]
    import numpy as np
    from py3langid.langid import RAW_FLOOR

    nextmove, rowbase, output, span = _walker(identifier)
    encoded = [identifier._encode(text) for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.int64)
    size = data.size
    firsts = np.cumsum(lengths) - lengths
    within = np.arange(size, dtype=np.int64) - np.repeat(firsts, lengths)  # place in its text
    state = np.zeros(size, dtype=np.int64)
    for back in range(WINDOW - 1, -1, -1):  # from the window's first byte to the byte itself
        going = np.flatnonzero(within >= back)
        state[going] = nextmove[rowbase[state[going]] + data[going - back]]
    features = output[state]
    seen = np.flatnonzero(features >= 0)
    which = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)[seen]
    keys = which * span + features[seen]  # (text, feature) as one number
    unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # as py3langid counts them: in order of first sight
    unique, counts = unique[order], counts[order]
    owner = which[first[order]]
    bounds = np.searchsorted(owner, np.arange(len(encoded) + 1))
    found = unique % span
    out = []
    for i, text in enumerate(encoded):
        start, end = int(bounds[i]), int(bounds[i + 1])
        if start == end:
            fill = 0.0 if identifier._norm_probs else RAW_FLOOR
            scores = np.full(len(identifier.nb_classes), fill, dtype=np.float32)
        else:
            idx = found[start:end].astype(np.intp)
            visits = counts[start:end].astype(np.float32)
            scores = np.log1p(visits) @ identifier.nb_ptc[idx] + identifier.nb_pc
        out.append(_decided(identifier, scores, len(text)))
    return out


def _decided(identifier: Any, scores: Any, size: int) -> tuple[str, float]:
    """py3langid 0.4's `_decide` and `classify` from the raw scores of a text of `size` bytes."""
    import numpy as np
    from py3langid.langid import RAW_FLOOR

    if identifier._norm_probs:
        scores *= 1.0 / math.sqrt(size or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
    for i, j in identifier._alias_pairs:
        if identifier._norm_probs:
            scores[i] += scores[j]
            scores[j] = 0.0
        else:
            scores[i] = max(scores[i], scores[j])
            scores[j] = RAW_FLOOR
    best = int(scores.argmax())
    confidence = float(scores[best])
    if identifier.min_confidence is not None and confidence < identifier.min_confidence:
        return "und", confidence
    return identifier.nb_classes[best], confidence


def _walkable(identifier: Any) -> bool:
    """Whether `identifier` is made as py3langid 0.4 makes it (else its own `classify` is used)."""
    import py3langid

    return getattr(py3langid, "__version__", "") == "0.4.0" and all(
        hasattr(identifier, name)
        for name in ("_rowbase", "_encode", "_norm_probs", "_alias_pairs", "tk_output", "tk_nextmove")
    )


def _walker(identifier: Any) -> tuple[Any, Any, Any, int]:
    """The automaton's moves (a view, not a copy: 40 MB), row starts and outputs, in numpy."""
    import numpy as np

    key = id(identifier.tk_nextmove)
    found = _walkers.get(key)
    if found is None:
        moves = identifier.tk_nextmove
        output = np.array(identifier.tk_output, dtype=np.int64)
        found = (
            # Through the buffer protocol, with its item type: py3langid's own array, or the
            # memoryview of the model mapped from the cache (ecoinbox.language_model).
            np.asarray(moves),
            np.array(identifier._rowbase, dtype=np.int64),
            output,
            int(output.max()) + 1,
        )
        _walkers[key] = found
    return found


def _allowed(languages: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({code.lower() for code in (languages or DEFAULT_LANGUAGES)}))


_DEFAULT_ALLOWED: Final = _allowed(DEFAULT_LANGUAGES)


def _clean(text: str) -> str:
    # Each pattern is tried only when the text has what every match of it has (most have none).
    if "://" in text or "w." in text or "W." in text:
        text = _URL_RE.sub(" ", text)
    if "@" in text:
        text = _MENTION_RE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG_RE.sub(" ", text)
    return " ".join(text.split())


def _normalise(hint: str | None) -> str | None:
    if not hint or not hint.strip():
        return None
    code = hint.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _cue(text: str, allowed: tuple[str, ...]) -> str | None:
    found = {word.casefold().replace("’", "'") for word in _WORD_RE.findall(text.replace("’", "'"))}
    matches = [code for code in allowed if found & _CUES.get(code, frozenset())]
    return matches[0] if len(matches) == 1 else None


# Languages written in Latin script: a text in another script is not one of them, however sure
# a model restricted to them may be.
_LATIN_LANGUAGES: Final = frozenset(
    "en fr de es it pt nl ca da sv no nb nn fi et lv lt pl cs sk sl hr bs sq ro hu tr az id ms "
    "tl vi eu gl cy ga is mt af sw lb eo la oc br".split()
)


def _mostly_latin(text: str, letters: int) -> bool:
    """Whether most of the `letters` letters of `text` are Latin."""
    if text.isascii():
        return True  # its letters are all Latin (each character's name is the slow part)
    foreign = 0  # letters of another script: only non-ASCII characters can be, each named once
    for char in text.translate(_ASCII_GONE):
        kind = _SCRIPTS.get(char)
        if (kind if kind is not None else _script(char)) == _OTHER_LETTER:
            foreign += 1
    return (letters - foreign) * 2 >= letters


_ASCII_GONE: Final = dict.fromkeys(range(128))
_LATIN, _OTHER_LETTER = 2, 1
_SCRIPTS: dict[str, int] = {}  # character -> _LATIN, _OTHER_LETTER or 0 (not a letter)
_SCRIPTS_KEPT: Final = 20_000


def _script(char: str) -> int:
    if len(_SCRIPTS) >= _SCRIPTS_KEPT:
        _SCRIPTS.clear()  # a text of every character there is does not grow it without end
    kind = 0 if not char.isalpha() else _LATIN if "LATIN" in unicodedata.name(char, "") else _OTHER_LETTER
    _SCRIPTS[char] = kind
    return kind


def _identifier(languages: tuple[str, ...]) -> Any:
    """py3langid's identifier restricted to `languages`, built on first use (the slow part);
    None while the model cannot be loaded (then the cue words and the platform's tag decide)."""
    identifier = _identifiers.get(languages)
    if identifier is not None:
        return identifier
    with _lock:
        global _base_identifier
        if _base_identifier is None:
            from ecoinbox.language_model import load_identifier

            try:
                _base_identifier = load_identifier()  # unpacked once, then mapped from the cache
            except OSError as exc:  # it unpacks the model to a temporary file: a full disk fails it
                global _load_failed
                if not _load_failed:  # once, not once a message; the next message tries again
                    log.warning("language detection unavailable for now: %s", exc)
                _load_failed = True
                return None
        identifier = copy.copy(_base_identifier)  # shares the model's arrays
        identifier.set_languages(list(languages))
        _identifiers[languages] = identifier
    return identifier
