"""The canned reply picker's search: fuzzy, accent-insensitive, forgiving of typos."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

from ecoinbox.replies.canned import CannedReply, language_candidates
from ecoinbox.replies.templates import template_text
from ecoinbox.text import WORD_RE, fold

# How much a match in each field counts (name and title are what the manager remembers).
_FIELD_WEIGHTS: Final = {"name": 1.0, "title": 1.0, "keywords": 0.95, "tags": 0.9, "text": 0.75}
_MATCH_FLOOR: Final = 55.0  # a typed word scoring below this (0..100, weighted) everywhere: no match


@functools.lru_cache(maxsize=2048)
def _search_fields(reply: CannedReply) -> tuple[tuple[float, tuple[str, ...]], ...]:
    texts = {
        "name": reply.name,
        "title": reply.title,
        "keywords": " ".join(reply.keywords),
        "tags": " ".join(reply.tags),
        "text": " ".join(template_text(t) for t in (reply.text, *reply.variants.values())),
    }
    return tuple(
        (_FIELD_WEIGHTS[key], tuple(dict.fromkeys(WORD_RE.findall(fold(value)))))
        for key, value in texts.items()
    )


def _word_score(query: str, word: str) -> float:
    """0..100: how well one typed word matches one word of a reply."""
    if word.startswith(query):
        return 100.0
    if len(query) >= 3 and query in word:
        return 90.0
    if len(query) < 3:
        return 0.0
    # A typo: one or two edits (a transposition counts as one), against the word or its start.
    from rapidfuzz.distance import OSA  # when a typo is scored: the inbox starts without it (20 ms)
    from rapidfuzz.fuzz import ratio as fuzz_ratio

    head = word[: len(query)]
    edits = min(OSA.distance(query, word), OSA.distance(query, head))
    allowed = 1 if len(query) < 6 else 2
    if edits <= allowed:
        return 85.0 - 10.0 * (edits - 1)
    return fuzz_ratio(query, word) * 0.8


def search_canned(
    query: str, replies: Iterable[CannedReply], *, language: str | None = None
) -> list[CannedReply]:
    """The canned replies matching `query`, best first, for the picker.

    Each typed word must match a word of the reply's name, title, keywords, tags or text
    (accents and case ignored; prefixes and small typos accepted). An empty query keeps every
    reply, those written in the person's `language` first, otherwise in their own order.
    """
    replies = list(replies)
    wanted = language_candidates(language)

    def speaks(reply: CannedReply) -> bool:
        return any(code in reply.languages for code in wanted)

    terms = list(dict.fromkeys(WORD_RE.findall(fold(query))))
    if not terms:
        return sorted(replies, key=lambda reply: not speaks(reply))
    scored: list[tuple[float, int, CannedReply]] = []
    for index, reply in enumerate(replies):
        fields = _search_fields(reply)
        total = 0.0
        for term in terms:
            best = max(
                (weight * _word_score(term, word) for weight, field_words in fields for word in field_words),
                default=0.0,
            )
            if best < _MATCH_FLOOR:
                break
            total += best
        else:
            score = total / len(terms) + (2.0 if speaks(reply) else 0.0)
            scored.append((-score, index, reply))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [reply for _, _, reply in scored]
