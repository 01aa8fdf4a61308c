"""Text helpers shared by the spam filter and the priority scorer: folding, links, lexicons.

Everything works on folded text (lowercase, no accents: `ecoinbox.text.fold`), so a lexicon
entry is written once for "crédit", "Crédit" and "credit".
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The regex parser of the standard library (sre_parse, deprecated as such since 3.11): it reads
# each lexicon term once, at import, to find the letters its matches start with.
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ecoinbox.text import fold

if TYPE_CHECKING:  # numpy is loaded by the first MinHash: the inbox's first rows come without it
    import numpy as np

# Obfuscation inside a word that mixes letters and look-alike digits or signs: "v1agra", "c@sino",
# "fr€€". Words made of digits only ("2024", "4.2") are left alone.
_LEET: Final = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "€": "e"}
)
_MIXED_RE: Final = re.compile(r"(?<![\w@$€])(?=[\w@$€]*[a-zA-Z])(?=[\w@$€]*[013457@$€])[\w@$€]{3,}")
_MAYBE_LEET_RE: Final = re.compile(r"[013457@$€]")  # most texts have none: no word to undo


def word_set(words: str, *, folded: bool = False) -> frozenset[str]:
    """The words of a whitespace-separated list (folded with `fold` when `folded`)."""
    return frozenset(fold(word) if folded else word for word in words.split())


class _FoldTable(dict[int, str]):
    """`fold` one character at a time, each character folded once and kept: `str.translate`
    with it folds a text in one pass (fold decomposes, strips marks and casefolds per character)."""

    def __missing__(self, code: int) -> str:
        if len(self) >= _FOLDED_CHARACTERS:
            self.clear()  # a text of every character there is does not grow it without end
        folded = self[code] = fold(chr(code))
        return folded


_FOLDED_CHARACTERS: Final = 20_000


_FOLD_TABLE: Final = _FoldTable()


def fold_text(text: str) -> str:
    """`ecoinbox.text.fold(text)`, the same string, in one pass (ASCII: a `lower`)."""
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


def deleet(folded: str) -> str:
    """Folded text with look-alike characters inside words undone ("v1agra" -> "viagra")."""
    if not _MAYBE_LEET_RE.search(folded):
        return folded
    return _MIXED_RE.sub(lambda match: _deleet(match.group()), folded)


# Every check of a message asks for its folded text (spam, priority, each rule): it is folded once
# and handed to all of them (the last few texts are kept; a hit is an identity check).
@functools.lru_cache(maxsize=64)
def normalize(text: str) -> str:
    """Folded text with look-alike characters inside words undone, for lexicon matching."""
    return deleet(fold_text(text))


def _deleet(word: str) -> str:
    letters = sum(char.isalpha() for char in word)
    if letters < 2 or word.startswith("@") or word[0].isdigit() and letters < 3:
        return word  # "@handle", "4k", "10x": not an obfuscated word
    return word.translate(_LEET)


# --------------------------------------------------------------------------------------------
# Links

_TLDS: Final = (
    "com|net|org|info|biz|io|co|me|ly|gy|gd|to|sh|cc|tv|ws|xyz|top|club|online|site|shop|store|"
    "app|dev|pro|vip|win|bet|loan|click|link|live|ru|cn|uk|fr|de|es|it|pt|nl|be|ch|eu|us|ca|au|in|"
    "tk|ml|ga|cf|gq|example"
)
_URL_RE: Final = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+"
    rf"|(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
# Linear time: an address starts where a run of its characters starts (not at every character of
# a 200,000-character run), and no run is given back once read (possessive: what follows it
# cannot be one of its characters).
_EMAIL_RE: Final = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)*\.[a-z]{2,}", re.IGNORECASE)

SHORTENERS: Final[frozenset[str]] = word_set(
    """bit.ly tinyurl.com goo.gl ow.ly is.gd cutt.ly rb.gy rebrand.ly shorturl.at tiny.cc buff.ly
    t.ly s.id v.gd bl.ink short.io shorte.st adf.ly linktr.ee lnkd.in tr.im qr.ae bitly.com
    short.example"""
)
"""Link shorteners: the address hides where it goes (t.co is left out: Twitter wraps every link)."""

# Where people put screenshots, logs and code when they report a problem.
_EVIDENCE_HOSTS: Final[frozenset[str]] = word_set(
    """imgur.com i.imgur.com pastebin.com gist.github.com github.com gitlab.com ibb.co i.ibb.co
    postimg.cc i.postimg.cc drive.google.com photos.app.goo.gl dropbox.com"""
)
_IMAGE_RE: Final = re.compile(r"\.(?:png|jpe?g|gif|webp|heic|mp4|mov|pdf|log|txt)(?:$|[?#])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a message: its address, host (no "www.") and the words of host and path."""

    url: str
    host: str
    words: tuple[str, ...]

    @property
    def is_shortener(self) -> bool:
        return self.host in SHORTENERS

    @property
    def is_evidence(self) -> bool:
        """A screenshot, a log, a paste: what a person reporting a problem links to."""
        return self.host in _EVIDENCE_HOSTS or bool(_IMAGE_RE.search(self.url))


def find_links(text: str, extra: Iterable[str] = ()) -> list[Link]:
    """The distinct links of `text` (with or without a scheme) and `extra` (e.g. `Message.links`)."""
    seen: dict[str, Link] = {}
    for raw in (*_raw_links(text), *extra):
        link = parse_link(raw)
        if link is not None:
            seen.setdefault(link.url.rstrip("/.,;:!?").casefold(), link)
    return list(seen.values())


@functools.lru_cache(maxsize=64)
def _raw_links(text: str) -> tuple[str, ...]:
    if not may_have_link(text):
        return ()
    text = _EMAIL_RE.sub(" ", text)  # "kevin@mail.example" is an address, counted elsewhere
    return tuple(match.group() for match in _URL_RE.finditer(text))


_DOT_LETTER_RE: Final = re.compile(r"\.[a-z]", re.IGNORECASE)  # a literal first: a fast scan


def may_have_link(text: str) -> bool:
    """False when `text` surely has no link nor address (most do not): every one has "://",
    "www." or a dot before a letter (".com", ".example")."""
    return "://" in text or "w." in text or "W." in text or _DOT_LETTER_RE.search(text) is not None


def parse_link(raw: str) -> Link | None:
    url = raw.strip().rstrip(".,;:!?")
    address = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(address)
        host = (parts.hostname or "").casefold()
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    host = host.removeprefix("www.")
    pieces = re.split(r"[^a-z0-9]+", fold_text(host.rsplit(".", 1)[0] + " " + parts.path))
    return Link(url, host, tuple(piece for piece in pieces if len(piece) > 1))


@functools.lru_cache(maxsize=64)
def strip_links(text: str) -> str:
    """`text` with its links and addresses replaced by spaces."""
    return remove_links(text) if may_have_link(text) else text


def remove_links(text: str) -> str:
    """`strip_links` without the pre-check (what the pre-check must never change)."""
    return _URL_RE.sub(" ", _EMAIL_RE.sub(" ", text))


def has_email(text: str) -> bool:
    return _EMAIL_RE.search(text) is not None


# --------------------------------------------------------------------------------------------
# Lexicons


@dataclass(frozen=True, slots=True)
class Term:
    """A lexicon entry: a regex over normalized text, its weight, and the words a reason shows."""

    pattern: re.Pattern[str]
    weight: float
    label: str
    group: str = ""
    keys: frozenset[str] | None = None  # a match starts a word that starts with one of them

    def search(self, normalized: str) -> re.Match[str] | None:
        """`pattern.search`, skipped when no word of the text starts as the term can."""
        if self.keys is not None and self.keys.isdisjoint(word_keys(normalized)):
            return None
        return self.pattern.search(normalized)


def term(expression: str, weight: float, label: str, group: str = "") -> Term:
    """`expression` is a regex over folded text, matched on word boundaries."""
    pattern = re.compile(rf"(?<![\w])(?:{expression})(?![\w])")
    return Term(pattern, weight, label, group, _term_keys(pattern))


def matches(terms: Sequence[Term], normalized: str) -> list[tuple[Term, re.Match[str]]]:
    """Every term found in `normalized`, once each, in lexicon order."""
    found = []
    for entry in terms:
        match = entry.search(normalized)
        if match is not None:
            found.append((entry, match))
    return found


# A term can only match where a word starts with one of its keys (the first letters of each of its
# alternatives): a set lookup spares most of the ~100 regex searches a message would cost.
_KEY_LENGTH: Final = 3
_DIGIT_KEY: Final = "\\d"  # the key of a match that starts with a digit (no word starts with it)
_LITERAL, _BRANCH, _SUBPATTERN, _ASSERT_NOT, _IN, _CATEGORY = (
    _constants.LITERAL,
    _constants.BRANCH,
    _constants.SUBPATTERN,
    _constants.ASSERT_NOT,
    _constants.IN,
    _constants.CATEGORY,
)
_REPEATS: Final = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)
_DIGITS: Final = [(_CATEGORY, _constants.CATEGORY_DIGIT)]
_WORD_RE: Final = re.compile(r"\w+")
_WORD_START_RE: Final = re.compile(r"(?<!\w)\w{1,3}")
_TWO, _ONE = operator.itemgetter(slice(0, 2)), operator.itemgetter(0)


@functools.lru_cache(maxsize=64)
def word_keys(normalized: str) -> frozenset[str]:
    """The first one, two and three characters of every word of `normalized`, and `_DIGIT_KEY`
    if a word starts with a digit."""
    starts = _WORD_START_RE.findall(normalized)
    digit = (_DIGIT_KEY,) if any(start[0].isdecimal() for start in starts) else ()
    return frozenset((*starts, *map(_TWO, starts), *map(_ONE, starts), *digit))


def _keys(items: Any) -> set[str] | None:
    """Keys one of which starts every match of this parsed regex (None: cannot tell)."""
    prefix = ""
    items = list(items)
    for index, (op, arg) in enumerate(items):
        if op is _LITERAL and _WORD_RE.fullmatch(chr(arg)):
            prefix += chr(arg)
            if len(prefix) == _KEY_LENGTH:
                break
            continue
        if prefix:
            if op in (_BRANCH, _SUBPATTERN) and (rest := _keys([(op, arg)])) and _DIGIT_KEY not in rest:
                return {(prefix + key)[:_KEY_LENGTH] for key in rest}
            break
        if op is _BRANCH:
            keys: set[str] = set()
            for alternative in arg[1]:
                found = _keys(alternative)
                if found is None:
                    return None
                keys |= found
            return keys
        if op is _SUBPATTERN:
            return None if arg[1] & re.IGNORECASE else _keys(arg[-1])
        if op is _IN and list(arg) == _DIGITS:
            return {_DIGIT_KEY}
        if op in _REPEATS:
            low, _, body = arg
            inner = _keys(body)
            if low > 0 or inner is None:
                return inner  # "(?:ab)+" starts as "ab" does
            after = _keys(items[index + 1 :])  # "(?:i )?can't": "i" or what follows
            return None if after is None else inner | after
        return None
    return {prefix} if prefix else None


def _term_keys(pattern: re.Pattern[str]) -> frozenset[str] | None:
    parsed = list(_parser.parse(pattern.pattern, pattern.flags))
    if not parsed or parsed[0][0] is not _ASSERT_NOT or pattern.flags & re.IGNORECASE:
        return None
    keys = _keys(parsed[1:])
    return frozenset(keys) if keys else None


# --------------------------------------------------------------------------------------------
# Near-duplicates: character shingles and MinHash

SHINGLE: Final = 5
MINHASH_SIZE: Final = 32
_MASK: Final = (1 << 32) - 1
# Fixed odd multipliers and offsets: signatures stay comparable across runs and machines.
_SEEDS: Final = tuple(
    ((0x9E3779B1 * (2 * i + 1)) & _MASK | 1, (0x85EBCA77 * (i + 7)) & _MASK) for i in range(MINHASH_SIZE)
)


@functools.cache  # made at the first MinHash: numpy is not imported before it
def _seed_arrays() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    import numpy as np

    multipliers, offsets = zip(*_SEEDS, strict=True)
    return np.array(multipliers, dtype=np.uint64), np.array(offsets, dtype=np.uint64)


_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[\w.-]+")


def shingles(text: str, *, folded: str | None = None) -> set[int]:
    """Hashes of the character 5-grams of `text`, mentions and links removed, folded.
    `folded`: `fold_text(text)` if the caller has it already (the text is then not read)."""
    return _shingles_of(_shingled_text(fold_text(text) if folded is None else folded))


def _shingled_text(folded: str) -> str:
    """What the 5-grams are cut from: links, addresses and mentions away, look-alikes undone,
    spaces collapsed."""
    bare = strip_links(folded)
    return " ".join(deleet(_MENTION_RE.sub(" ", bare) if "@" in bare else bare).split())


def _shingles_of(cleaned: str) -> set[int]:
    if len(cleaned) <= SHINGLE:
        return {zlib.crc32(cleaned.encode())} if cleaned else set()
    if cleaned.isascii():  # a character is a byte: the 5-grams are slices of the encoded text
        data = cleaned.encode()
        return set(map(zlib.crc32, [data[i : i + SHINGLE] for i in range(len(data) - SHINGLE + 1)]))
    return {zlib.crc32(cleaned[i : i + SHINGLE].encode()) for i in range(len(cleaned) - SHINGLE + 1)}


def minhash(text: str, *, folded: str | None = None) -> tuple[int, ...]:
    """A MinHash signature of `text`'s shingles: the share of equal positions estimates Jaccard.
    `folded`: as for `shingles`."""
    hashes = shingles(text, folded=folded)
    if not hashes:
        return ()
    import numpy as np

    seed_a, seed_b = _seed_arrays()
    values = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    mixed = (seed_a[:, None] * values[None, :] + seed_b[:, None]) & np.uint64(_MASK)  # wraps mod 2**64
    return tuple(mixed.min(axis=1).tolist())


def minhashes(texts: Sequence[str], folded: Sequence[str]) -> list[tuple[int, ...]]:
    """`minhash` of each of `texts` (`folded`: `fold_text` of each), in one numpy pass for all.

    The 5-grams of a poll's texts are hashed in numpy, all at once: CRC-32 a byte at a time over
    the UTF-8 bytes of every 5-character window (`zlib.crc32`'s values), a 5-gram said twice
    counted twice, which leaves each minimum, and so the signature, as the set of `shingles`
    gives it."""
    import numpy as np

    cleaned = [_shingled_text(copy) for copy in folded]
    if len(cleaned) != len(texts):
        raise ValueError("minhashes: one folded text for each text")
    windows = iter(_window_crcs([text for text in cleaned if len(text) > SHINGLE]))
    parts = [next(windows) if len(text) > SHINGLE else _as_array(_shingles_of(text)) for text in cleaned]
    sizes = [len(part) for part in parts]
    if not sum(sizes):
        return [()] * len(parts)
    seed_a, seed_b = _seed_arrays()
    values = np.concatenate(parts)
    mixed = (seed_a[:, None] * values[None, :] + seed_b[:, None]) & np.uint64(_MASK)  # wraps mod 2**64
    starts = list(itertools.accumulate([0, *sizes[:-1]]))
    filled = [start for start, size in zip(starts, sizes, strict=True) if size]
    lows = iter(np.minimum.reduceat(mixed, filled, axis=1).T.tolist())
    return [tuple(next(lows)) if size else () for size in sizes]


def _as_array(hashes: set[int]) -> np.ndarray[Any, Any]:
    import numpy as np

    return np.fromiter(hashes, dtype=np.uint64, count=len(hashes))


@functools.cache
def _crc_table() -> np.ndarray[Any, Any]:
    """CRC-32's table (reflected, polynomial 0xEDB88320: zlib's), a byte's step at a time."""
    import numpy as np

    values = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        values = np.where(values & 1, (values >> 1) ^ np.uint32(0xEDB88320), values >> 1).astype(np.uint32)
    return values


def _window_crcs(texts: Sequence[str]) -> list[np.ndarray[Any, Any]]:
    """For each of `texts` (each longer than a 5-gram), `zlib.crc32` of the UTF-8 encoding of
    each of its 5-character windows, in order (as uint64)."""
    import numpy as np

    if not texts:
        return []
    data = np.frombuffer("".join(texts).encode(), dtype=np.uint8)
    # Where each character starts (not a UTF-8 continuation byte), and the end after the last.
    places = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))
    lengths = np.array([len(text) for text in texts])
    counts = lengths - SHINGLE + 1
    # The first character of each window: each text's windows start at its own characters only.
    firsts = np.arange(counts.sum()) + np.repeat(
        np.cumsum(lengths) - lengths - np.cumsum(counts) + counts, counts
    )
    starts, ends = places[firsts], places[firsts + SHINGLE]
    table = _crc_table()
    crc = np.full(len(starts), 0xFFFFFFFF, dtype=np.uint32)
    longest = int((ends - starts).max())
    for step in range(longest):
        stepped = table[(crc ^ data[np.minimum(starts + step, len(data) - 1)]) & 0xFF] ^ (crc >> 8)
        crc = stepped if step < SHINGLE else np.where(starts + step < ends, stepped, crc)
    hashes = (crc ^ np.uint32(0xFFFFFFFF)).astype(np.uint64)
    return np.split(hashes, np.cumsum(counts)[:-1])


def resemblance(first: Sequence[int], second: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures (0 when either is empty)."""
    if not first or not second or len(first) != len(second):
        return 0.0
    equal: int = sum(map(operator.eq, first, second))
    return equal / len(first)
