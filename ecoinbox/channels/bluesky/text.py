"""Bluesky text, pure: counting a post's length as the AppView does, record keys (TIDs) chosen
before a send, and rich-text facets at UTF-8 byte offsets."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import regex

MAX_GRAPHEMES = 300
MAX_BYTES = 3000


# Record keys are TIDs: 53 bits of microseconds and a 10-bit clock id (atproto.com/specs/tid).
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = regex.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_TID_FLOOR = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
_TID_CEILING = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000


def count_graphemes(text: str) -> int:
    """Extended grapheme clusters (UAX #29), as Bluesky counts a post's 300."""
    return len(regex.findall(r"\X", text))


def bluesky_length(text: str) -> int:
    """How full a post is against both of Bluesky's limits, on the 300 scale: graphemes, or
    a tenth of the UTF-8 bytes when those run out first (3000 bytes: emoji and accents)."""
    return max(count_graphemes(text), math.ceil(len(text.encode("utf-8")) / (MAX_BYTES // MAX_GRAPHEMES)))


def tid(micros: int, clock_id: int) -> str:
    """The 13-character TID for a timestamp in microseconds and a clock id (0..1023)."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def tid_micros(key: str) -> int | None:
    """The timestamp (microseconds) of a TID record key, None if `key` is not a TID."""
    if not _TID.fullmatch(key):
        return None
    value = 0
    for char in key:
        value = (value << 5) | _TID_ALPHABET.index(char)
    return value >> 10


def record_key(idempotency_key: str, parent_uri: str) -> str:
    """The record key of a reply: a TID computed from the outbox key, so every attempt at the
    same reply names the same record. Its time is the parent's (from the parent's own TID) plus
    up to 71 minutes drawn from the key, so keys stay plausible and sort near the thread."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    anchor = tid_micros(rkey_of(parent_uri)) or _TID_FLOOR
    anchor = min(max(anchor, _TID_FLOOR), _TID_CEILING)
    return tid(anchor + (digest >> 32), digest & 0x3FF)


_MENTION = regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9])")
_HANDLE = regex.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
)


_LINK = regex.compile(r"(?:^|(?<=[\s(]))https?://[^\s]+", regex.IGNORECASE)
_TAG = regex.compile(r"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s#＃]*[^\d\s\p{P}][^\s#＃]*)")
_URL_TAIL = ".,;:!?\"'"
_TAG_TAIL = ".,;:!?\"')]}…"


@dataclass(frozen=True, slots=True)
class FacetSpan:
    """One piece of rich text: its character span in the text and what it is."""

    start: int
    end: int
    kind: str  # "mention", "link" or "tag"
    value: str  # the handle (without "@"), the URL, or the tag (without "#")


def find_facets(text: str) -> list[FacetSpan]:
    """Mentions of domain handles, http(s) links and hashtags in `text`, as a client writes
    them; spans do not overlap (a link wins over what is inside it)."""
    spans: list[FacetSpan] = []
    for match in _LINK.finditer(text):
        url = _trim_link(match.group())
        if len(url) > len("https://"):
            spans.append(FacetSpan(match.start(), match.start() + len(url), "link", url))
    for match in _MENTION.finditer(text):
        handle = match.group(1).rstrip(".")
        if _HANDLE.fullmatch(handle) and not handle.rsplit(".", 1)[-1].isdigit():
            spans.append(FacetSpan(match.start(), match.start(1) + len(handle), "mention", handle))
    for match in _TAG.finditer(text):
        tag = match.group(1).rstrip(_TAG_TAIL)
        if tag and count_graphemes(tag) <= 64 and not tag.isdigit():
            spans.append(FacetSpan(match.start(), match.start(1) + len(tag), "tag", tag))
    spans.sort(key=lambda span: (span.start, span.kind != "link"))
    kept: list[FacetSpan] = []
    for span in spans:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def byte_index(text: str, start: int, end: int) -> dict[str, int]:
    """The UTF-8 byte offsets of the character span [start, end) of `text` (end exclusive)."""
    byte_start = len(text[:start].encode("utf-8"))
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))}


def _trim_link(url: str) -> str:
    end, unmatched = len(url), url.count(")") - url.count("(")
    while end:
        if url[end - 1] in _URL_TAIL:
            end -= 1
        elif url[end - 1] == ")" and unmatched > 0:
            end, unmatched = end - 1, unmatched - 1
        else:
            break
    return url[:end]


def rkey_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


__all__ = [
    "MAX_BYTES",
    "MAX_GRAPHEMES",
    "FacetSpan",
    "bluesky_length",
    "byte_index",
    "count_graphemes",
    "find_facets",
    "record_key",
    "rkey_of",
    "tid",
    "tid_micros",
]
