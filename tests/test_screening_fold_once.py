"""Screening folds a message's text once and hands the folded copy to every check (issue 15, item 6).

Before: the spam filter, the priority scorer, the near-duplicate memory and each rule folded the
same text again (`ecoinbox.text.fold`, one Python call per character), 2.8 times a message.
"""

from __future__ import annotations

import cProfile
import pstats
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ecoinbox.config import parse_config
from ecoinbox.demo.runner import DEMO_CANNED, DEMO_RULES
from ecoinbox.model import Author, Message
from ecoinbox.screening._text import fold_text, minhash, shingles
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.priority import score_priority
from ecoinbox.text import fold


def message(text: str, *, title: str = "") -> Message:
    author = Author("mastodon", "42", "zoe@social.example", "Zoé")
    return Message("mastodon", "1", author, text, datetime(2026, 1, 1, tzinfo=UTC), title=title)


def calls(run: object, names: set[str]) -> dict[str, int]:
    """How many times functions of these names ran during `run()` (wherever they were imported)."""
    profile = cProfile.Profile()
    profile.runcall(run)  # type: ignore[arg-type]
    counted = dict.fromkeys(names, 0)
    for (_, _, name), (_, primitive, *_) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if name in counted:
            counted[name] += primitive
    return counted


def test_one_assessment_folds_the_text_once_and_the_title_once() -> None:
    settings_ = parse_config(f'[brand]\nname = "Acme"\n{DEMO_RULES}\n{DEMO_CANNED}')
    screener = Screener.from_settings(settings_)
    screener.assess(message("warm up"))
    post = message(
        "I was charged twice for my order and nobody answers, @acme: see the screenshot",
        title="Charged twice",
    )
    counted = calls(lambda: screener.assess(post), {"fold", "fold_text", "normalize"})
    assert counted == {"fold": 0, "fold_text": 2, "normalize": 0}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fold_text_is_fold(text: str) -> None:
    assert fold_text(text) == fold(text)


def test_folded_copies_give_the_same_signature_and_priority() -> None:
    text = "Ça fait DEUX SEMAINES que j'attends mon remboursement !! www.example.com @acme"
    assert minhash(text) == minhash(text, folded=fold_text(text))
    assert shingles(text) == shingles(text, folded=fold_text(text))
    assert score_priority(text) == score_priority(text, folded=fold_text(text))
    assert score_priority(text).urgent


def test_a_batch_is_judged_as_one_message_after_another() -> None:
    settings_ = parse_config(f'[brand]\nname = "Acme"\n{DEMO_RULES}\n{DEMO_CANNED}')
    texts = [
        "Win a FREE iPhone now!!! https://bit.ly/win",
        "",
        "I was charged twice, please refund me",
        "Win a FREE iPhone now!!! https://bit.ly/win",  # the same text again: a repeat
        "Ça fait deux semaines que j'attends mon remboursement",
        "ok",
    ] * 20  # more than one chunk of `assess_batch`
    messages = [
        Message(
            "mastodon",
            str(n),
            Author("mastodon", str(n % 7), f"p{n % 7}", "P"),
            text,
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n, text in enumerate(texts)
    ]
    sequential = Screener.from_settings(settings_)
    one_by_one = [sequential.assess(m) for m in messages]
    batched = list(Screener.from_settings(settings_).assess_batch(messages))
    assert batched == one_by_one
    assert any(a.verdict.is_spam for a in batched) and any(a.priority.urgent for a in batched)


def test_a_text_of_more_distinct_characters_than_the_fold_table_keeps_folds_the_same() -> None:
    text = "".join(map(chr, range(0x4E00, 0x4E00 + 25_000))) + "Éé"  # more than the table keeps
    assert fold_text(text) == fold(text)
    assert fold_text("Crédit Œuvre") == "credit oeuvre"
