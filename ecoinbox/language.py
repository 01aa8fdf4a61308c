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
import re
import threading
import unicodedata
from collections.abc import Iterable
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
    allowed = tuple(sorted({code.lower() for code in (languages or DEFAULT_LANGUAGES)}))
    fallback = _normalise(hint)
    cleaned = _clean(text[:READ_CHARS])
    letters = sum(map(str.isalpha, cleaned))
    if letters == 0:
        return fallback
    identifier = _identifier(allowed) if letters >= MIN_LETTERS else None
    if identifier is not None:
        code, confidence = identifier.classify(cleaned)
        if confidence >= MIN_CONFIDENCE and _mostly_latin(cleaned) == (code in _LATIN_LANGUAGES):
            return code
    return _cue(cleaned, allowed) or fallback


def _clean(text: str) -> str:
    text = _URL_RE.sub(" ", text)
    text = _MENTION_RE.sub(" ", text)
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


def _mostly_latin(text: str) -> bool:
    if text.isascii():
        return True  # its letters are all Latin (each character's name is the slow part)
    letters = [char for char in text if char.isalpha()]
    latin = sum(1 for char in letters if "LATIN" in unicodedata.name(char, ""))
    return latin * 2 >= len(letters)


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
