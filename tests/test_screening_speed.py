"""Screening and language detection made faster give the answers the plain ways give (issue 15,
item 7): a poll judged together as one by one, py3langid's automaton walked in numpy as its own
loop walks it, the repeat memory's band count as comparing with every text, an author's signals
worked out once as every time, a poll's 5-grams hashed in numpy as `zlib.crc32` hashes each.

The texts are the train/dev sources of bench/README.md's protocol (the project's train split, the
four training videos and CDP dev's client turns, when ../shared/data is there); never the
untouched video.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoinbox import language
from ecoinbox.engine.engine import with_languages
from ecoinbox.model import Author, Message
from ecoinbox.screening import spam
from ecoinbox.screening._text import MINHASH_SIZE, fold_text, minhash, minhashes, resemblance
from ecoinbox.screening._text import _window_crcs as window_crcs
from ecoinbox.screening.inbound import REPEATED_AT, Screener
from ecoinbox.screening.memory import Memory, bands_needed
from ecoinbox.screening.spam import SpamFilter, spam_signals

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2025, 3, 1, tzinfo=UTC)
TRAINING_VIDEOS = ("Youtube01-Psy", "Youtube02-KatyPerry", "Youtube03-LMFAO", "Youtube04-Eminem")


def shared_data() -> Path | None:
    """../shared/data beside the repository (or beside the folder of its worktrees)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return None


def train_spam() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import train_spam  # bench/train_spam.py: the protocol's loaders

        return train_spam
    finally:
        sys.path.remove(str(ROOT / "bench"))


def dev_sources() -> Iterator[tuple[str, list[Message]]]:
    """Each train/dev source's messages in posting order."""
    loaders = train_spam()
    yield "velora", [example.message for example in loaders.load_velora("train")]
    data = shared_data()
    if data is None:
        return
    for video in TRAINING_VIDEOS:
        yield (
            video,
            [e.message for e in loaders.load_youtube(data / "spam" / "youtube-spam-collection", video)],
        )
    yield "cdp", [example.message for example in loaders.load_cdp(data / "cdp" / "dev.json")]


def screener() -> Screener:
    return Screener(SpamFilter(brand_names=("velora",), own_domains=("velora.example",)))


# ---- a poll at once, one by one --------------------------------------------------------------


def test_a_poll_judged_together_is_judged_as_one_by_one() -> None:
    for source, messages in dev_sources():
        together = list(screener().assess_batch(messages))
        alone = screener()
        assert together == [alone.assess(message) for message in messages], source


def test_a_polls_languages_found_together_are_found_as_one_by_one() -> None:
    for source, messages in dev_sources():
        hints = [None if i % 3 else "en-GB" for i in range(len(messages))]
        texts = [message.text for message in messages]
        together = language.detect_languages(texts, hints)
        assert together == [language.detect_language(t, hint=h) for t, h in zip(texts, hints, strict=True)]
        with_hints = [
            m if h is None else replace_language(m, h) for m, h in zip(messages, hints, strict=True)
        ]
        assert [m.language for m in with_languages(with_hints)] == [
            found or hint for found, hint in zip(together, hints, strict=True)
        ], source


def replace_language(message: Message, code: str) -> Message:
    return replace(message, language=code)


# ---- py3langid's walk, in numpy --------------------------------------------------------------


def identifier() -> Any:
    found = language._identifier(language._DEFAULT_ALLOWED)
    assert found is not None and language._walkable(found), "the fast walk is not used here"
    return found


def test_the_walk_scores_every_dev_text_as_py3langid_does() -> None:
    model = identifier()
    for source, messages in dev_sources():
        texts = [message.text[: language.READ_CHARS] for message in messages]
        assert language.classify_all(model, texts) == [model.classify(text) for text in texts], source


TEXTS = st.text(
    alphabet=st.sampled_from("abcXYZ éèçÀœß ,.'!?\n0123€😀🙏中文日本Привет\u200b\u0301"), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=6))
def test_the_walk_scores_any_text_as_py3langid_does(texts: list[str]) -> None:
    """Texts of every script and length side by side: no byte's state leaks into the next text."""
    model = identifier()
    assert language.classify_all(model, texts) == [model.classify(text) for text in texts]


@pytest.mark.slow
def test_no_state_of_the_model_lies_deeper_than_the_window() -> None:
    """A state's depth is the length of the shortest input reaching it (breadth first from the
    start): the walk reads `WINDOW` bytes back, so no state may need more."""
    import numpy as np

    moves, rows, _, _ = language._walker(identifier())
    depth = np.full(len(rows), -1, dtype=np.int64)
    depth[0] = 0
    frontier, level = np.array([0]), 0
    while frontier.size:
        reached = np.unique(
            moves[(rows[frontier][:, None] + np.arange(256)[None, :]).ravel()].astype(np.int64)
        )
        frontier = reached[depth[reached] < 0]
        level += 1
        depth[frontier] = level
    assert (depth >= 0).all()
    assert depth.max() <= language.WINDOW


# ---- the repeat memory -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=MINHASH_SIZE, max_size=MINHASH_SIZE),
    st.lists(st.sets(st.integers(0, MINHASH_SIZE - 1), max_size=12), min_size=1, max_size=8),
    st.sampled_from([REPEATED_AT, 0.5, 0.7, 0.9, 1.0]),
)
def test_the_band_count_never_hides_a_resembling_text(
    base: list[int], changes: list[set[int]], at: float
) -> None:
    """Texts differing from one another in a few places: what the memory finds is what comparing
    with every remembered text finds (from `at` = 0.5 the band count spares most comparisons)."""
    signatures = [tuple(v + 1 if i in changed else v for i, v in enumerate(base)) for changed in changes]
    memory = Memory(100)
    for number, signature in enumerate(signatures[:-1]):
        memory.add(signature, number)
    probe = signatures[-1]
    everything = sorted(
        number for number, signature in enumerate(signatures[:-1]) if resemblance(probe, signature) >= at
    )
    assert sorted(memory.similar(probe, at)) == everything  # type: ignore[type-var]


def test_bands_needed_is_the_fewest_a_resembling_signature_shares() -> None:
    assert bands_needed(32, 0.8) == 10  # 26 equal values of 32: six bands broken at most
    assert bands_needed(32, 1.0) == 16
    assert bands_needed(32, 0.5) == 1  # 16 unequal values may break every band: no sparing


def test_repeats_counted_on_dev_texts_are_those_comparing_all_finds() -> None:
    for source, messages in dev_sources():
        fast = screener()
        recent: list[tuple[tuple[int, ...], str]] = []
        for message in messages:
            signature = minhash(message.text)
            found = fast.context(message, signature=signature)
            if not signature:
                continue
            who = f"{message.author.channel}\x1f{message.author.remote_id or message.author.handle}"
            alike = [other for sig, other in recent[-300:] if resemblance(signature, sig) >= REPEATED_AT]
            assert found == (len(alike), len({other for other in alike if other != who})), source
            recent.append((signature, who))


# ---- an author's signals, once ---------------------------------------------------------------


def test_an_authors_signals_follow_each_message_they_write() -> None:
    """The part of the signals that depends on the author alone is kept; what depends on the
    message (its site, its text) is not: the same author's website counts on another site only."""
    author = Author(
        "blog", "guest:Jo Smith|https://shop.example", "Jo Smith", "Jo Smith", "https://shop.example/a"
    )
    on_own_site = Message("blog", "1", author, "Nice post", AT, url="https://shop.example/post")
    elsewhere = Message("blog", "2", author, "hello jo smith here", AT, url="https://blog.example/post")

    def names(message: Message) -> list[str]:
        found = [signal.name for signal in spam_signals(message, brand_names=("velora",))]
        return [name for name in found if name.startswith(("author", "impersonation"))]

    cold = []
    for message in (on_own_site, elsewhere):
        spam._who.cache_clear()
        cold.append(names(message))
    assert [names(on_own_site), names(elsewhere), names(on_own_site)] == [*cold, cold[0]]  # kept
    assert "author:url" not in cold[0] and "author:url" in cold[1]
    assert "author_in_text" not in cold[0] and "author_in_text" in cold[1]


# ---- a poll's 5-grams hashed in numpy -------------------------------------------------------

SHINGLE_TEXTS = st.lists(
    st.sampled_from(
        ["a", "b", "Z", " ", "  ", "\n", "é", "中", "😀", "0", "1", "@bob", "v1agra", "bit.ly/x", ".",
         "hello", "abcde", "http://a.example/p", "x@y.example", "€"]
    ),
    max_size=14,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(SHINGLE_TEXTS, max_size=8))
def test_a_polls_signatures_are_each_texts_own(texts: list[str]) -> None:
    """Short, empty, ASCII and other texts side by side: the numpy CRC-32 of the windows gives
    each text the signature `minhash` gives it alone (no window runs into the next text, a
    window of characters of 1 to 4 bytes each is all of their bytes)."""
    assert minhashes(texts, [fold_text(text) for text in texts]) == [minhash(text) for text in texts]


def test_the_windows_crc_is_zlibs() -> None:
    texts = ["".join(map(chr, range(i, i + 40))) for i in range(32, 232, 40)]
    texts += ["hello world", "abcdef", "crédit ici", "中文日本語のテキスト", "a😀b😀c😀d😀"]
    assert [part.tolist() for part in window_crcs(texts)] == [
        [zlib.crc32(text[i : i + 5].encode()) for i in range(len(text) - 4)] for text in texts
    ]
