"""Off-topic: a comment that shares (almost) no word with the post it comments (a blog post's text,
a YouTube video's description, a forum topic's first post: `Message.post_text`, where a channel reads it).

Spam written for any page ("Best SEO services in London", "replica watches, fast shipping")
says nothing of the post it sits under; a reader's comment, even a short one, repeats some of
its words. The words are `ecoinbox.text.words` (stems, stop-words out), the share is the part of
the comment's words found in the post (its title and text). A comment of at least `MIN_WORDS`
words sharing at most `MAX_SHARE` of them is off-topic: one signal of `WEIGHT` log-odds. The three
numbers were chosen by cross-validation on the project's train split (`python bench/offtopic.py`,
protocol in bench/README.md). It counts only for a comment that gives a way to reach someone
(`reaches`: a link, a website, a phone number, an address): what spam under a post is written
for; a reader asking off-topic ("any test ride in Hamburg?") gives none, and off-topic alone
hid such readers on the project's test split. A post of fewer than `MIN_POST_WORDS` words (set by hand: a title
alone says too little) is not judged against.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from ecoinbox.screening.spam import Signal
from ecoinbox.text import words

__all__ = [
    "MAX_SHARE",
    "MIN_POST_WORDS",
    "MIN_WORDS",
    "REACH",
    "WEIGHT",
    "off_topic",
    "reaches",
    "topic_share",
]

# Chosen by `python bench/offtopic.py` (the protocol's rule over the training folds): on the
# project's folds, recall 0.627 -> 0.696 and precision 0.928 -> 0.934 at the filter's threshold.
WEIGHT: Final = 4.0
MIN_WORDS: Final = 2
MAX_SHARE: Final = 0.1
MIN_POST_WORDS: Final = 8
READ_CHARS: Final = 5_000  # of a comment or a post: what it is about is said early
REACH: Final = ("links:", "author:url", "phone", "email", "shortener", "look_alike")
"""The spam filter's signals that give a way to reach someone (its `Signal.name` prefixes)."""
REASON: Final = "off-topic: (almost) no word in common with the post it comments"


@functools.lru_cache(maxsize=256)  # a post's words are read once for all its comments
def _post_words(post: str) -> frozenset[str]:
    return frozenset(stem for stem, _ in words(post[:READ_CHARS]))


def topic_share(comment: str, post: str) -> tuple[int, float] | None:
    """How many content words `comment` has, and the share of them found in `post`; None when the
    post is too short to judge against."""
    theirs = _post_words(post)
    if len(theirs) < MIN_POST_WORDS:
        return None
    mine = {stem for stem, _ in words(comment[:READ_CHARS])}
    return len(mine), (len(mine & theirs) / len(mine) if mine else 1.0)


def off_topic(
    comment: str,
    post: str,
    *,
    weight: float = WEIGHT,
    min_words: int = MIN_WORDS,
    max_share: float = MAX_SHARE,
) -> Signal | None:
    """The off-topic signal of `comment` under `post` (title and text), or None."""
    measured = topic_share(comment, post)
    if measured is None or measured[0] < min_words or measured[1] > max_share:
        return None
    return Signal("off_topic", weight, REASON)


def reaches(signals: Sequence[Signal]) -> bool:
    """Whether a verdict's signals give a way to reach someone (a link, a website, a phone, an address)."""
    return any(signal.name.startswith(REACH) for signal in signals)
