"""The spam filter: each signal on small cases, reasons in words, learning from marks, its saved
state, and precision/recall floors on the held-out labelled examples (tests/data/triage)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoinbox.model import Author, Message
from ecoinbox.triage._text import minhash, normalize, resemblance
from ecoinbox.triage.spam import SpamFilter, SpamMarks, Verdict, spam_signals

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "triage"
AT = datetime(2025, 3, 1, tzinfo=UTC)
POST = (
    "Winter care for your e-bike battery\nStore the battery indoors and charge it to 60% before a long break."
)


def message(
    text: str, *, name: str = "Jamie", url: str | None = None, links: tuple[str, ...] = ()
) -> Message:
    author = Author("blog", name, name, name, url)
    return Message("blog", "1", author, text, AT, links=links)


def names(text: str, **kwargs) -> dict[str, str]:
    extra = {key: kwargs.pop(key) for key in ("name", "url") if key in kwargs}
    return {signal.name: signal.reason for signal in spam_signals(message(text, **extra), **kwargs)}


# ---- the signals, one by one ---------------------------------------------------------------


def test_links_are_counted_and_shorteners_named():
    found = names("deals http://a.example/x http://b.example/y https://bit.ly/abc https://c.example")
    assert found["links"] == "4 links"
    assert found["shortener"] == "a shortened link"
    assert found["link_only"] == "only a link"
    ratio = names("see my picks here http://a.example http://b.example http://c.example please")
    assert ratio["link_ratio"] == "more links than words"


def test_screenshots_are_not_link_stuffing():
    text = (
        "The app crashes when I open ride stats, screenshots: https://imgur.com/a/one "
        "https://imgur.com/a/two https://files.example/crash.png"
    )
    found = names(text)
    assert "links" not in found
    assert found["evidence"] == "screenshots"


def test_a_bare_domain_counts_as_a_link_and_an_email_is_not_one():
    found = names("cheap pills at pharma-cheap.example, write to sales@mail.example")
    assert found["links"] == "a link"
    assert found["email"] == "an email address"
    assert "commercial_link" in found


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Best online casino, 200 free spins today", "casino"),
        ("Buy real followers, 10k in 24 hours", "followers"),
        ("We can promote your brand to millions", "promote your brand"),
        ("Gagnez 300€ par jour depuis chez vous", "gagnez"),
        ("Crédit rapide sans justificatif, réponse en 24h", "crédit rapide"),
        ("V1AGRA without prescription", "viagra"),
        ("DM me for the details, contact me on WhatsApp", "WhatsApp"),
    ],
)
def test_commercial_words_in_english_and_french(text, word):
    assert word in names(text)["commercial"]


def test_words_a_customer_uses_are_not_commercial():
    for text in (
        "Do you accept crypto payments for the Cargo?",
        "My followers keep asking where I got my bike",
        "La batterie ne charge plus, le voyant clignote rouge",
        "9 € par mois c'est correct",
    ):
        weight = sum(s.weight for s in spam_signals(message(text)) if s.name == "commercial")
        assert weight <= 1.0, text


def test_generic_praise_needs_no_relation_to_the_post():
    generic = names("Great post! Very informative, thanks for sharing.", post=POST)
    related = names("Great post! Should I store the battery indoors every night in winter?", post=POST)
    assert generic["generic_praise"] == "generic praise"
    assert "generic_praise" not in related
    assert related.get("on_topic") == "about the post"


def test_generic_praise_weighs_more_under_a_post_than_without_one():
    def weight(post):
        signals = spam_signals(message("Nice article, keep it up!"), post=post)
        return next(s.weight for s in signals if s.name == "generic_praise")

    assert weight(POST) > weight(None) > 0


@pytest.mark.parametrize(
    "name", ["Best SEO Services", "cheap-watches-online", "buy viagra online", "Fast Loans 24/7"]
)
def test_keyword_like_author_names(name):
    assert names("Thanks!", name=name).get("name_keywords") == "keyword-like author name" or names(
        "Thanks!", name=name
    ).get("name_slug")


@pytest.mark.parametrize("name", ["Marcus Hale", "Zoe 🌿", "dan", "Sophie Lefèvre", "Vélo Atelier Tours"])
def test_peoples_names_are_not_keyword_like(name):
    found = names("Thanks!", name=name)
    assert not {"name_keywords", "name_slug", "name_link"} & found.keys()


def test_a_link_in_the_author_name_and_a_commercial_author_website():
    assert "name_link" in names("Thanks!", name="cheapdeals.example")
    assert (
        names("Thanks!", url="https://payday-loans-fast.example")["author_url"] == "commercial author website"
    )
    assert "author_url" not in names("Thanks!", url="https://tomrides.example/winter")


def test_repeated_text_and_the_shingle_signature():
    assert names("Check my profile", repeats=0).get("repeated") is None
    assert names("Check my profile", repeats=3)["repeated"] == "posted 4 times"
    a = minhash("Hello dear, I saw your profile and I think we could be good friends")
    b = minhash("@velora Hello dear, I saw your profile and I think we could be good friends!")
    c = minhash("My order never arrived and nobody answers my emails")
    assert resemblance(a, b) > 0.8
    assert resemblance(a, c) < 0.2


def test_an_order_number_and_a_known_author_pull_towards_not_spam():
    assert names("Order 55120 never arrived, refund please")["order"] == "mentions an order"
    assert names("hi", known_author=True)["known"] == "known person"


def test_look_alike_links_and_the_brand_name_in_a_stranger_account():
    spam_filter = SpamFilter(brand_names=("velora",), own_domains=("velora.example",))
    impostor = Message(
        "mastodon",
        "1",
        Author("mastodon", "x", "support-velora", "Velora Support"),
        "Verify your wallet here: https://velora-verify.example",
        AT,
    )
    own = message("My order page says cancelled: https://velora.example/account/orders/55120")
    assert {"look_alike", "impersonation"} <= {s.name for s in spam_filter.signals(impostor)}
    assert "links" not in {s.name for s in spam_filter.signals(own)}


def test_obfuscated_words_are_read_as_words_but_numbers_are_left_alone():
    assert normalize("V1AGRA c@sino fr33") == "viagra casino free"
    assert normalize("app 4.2 on 2024-03-01, 10k") == "app 4.2 on 2024-03-01, 10k"


# ---- verdicts ------------------------------------------------------------------------------


def test_verdict_renders_its_reasons():
    assert str(Verdict(True, 0.9, ("4 links", "generic praise"))) == "spam: 4 links, generic praise"
    assert str(Verdict(False, 0.1)) == "not spam"


def test_obvious_spam_is_spam_with_reasons_and_a_complaint_full_of_links_is_not():
    spam_filter = SpamFilter()
    spam = spam_filter.check(
        message(
            "Great post! Very informative. http://my-site.example/a http://my-site.example/b "
            "http://bit.ly/x1 http://tinyurl.com/x2"
        ),
        post=POST,
    )
    assert spam.is_spam and spam.score >= spam_filter.threshold
    assert str(spam) == "spam: 4 links, generic praise, 2 shortened links, more links than words"
    complaint = spam_filter.check(
        message(
            "My order 55120 never arrived, I was charged twice. Screenshots: https://imgur.com/a/1 "
            "https://imgur.com/a/2 https://i.imgur.com/3.png and the tracking https://bit.ly/track55120"
        )
    )
    assert not complaint.is_spam


# ---- learning from the manager's marks ------------------------------------------------------


BOT = "@velora Your feed is so inspiring 😍 let's grow together, follow me and I follow you right back"
BOT_AGAIN = (
    "@velora Your feed is so inspiring 😍 let's grow together, follow me and I'll follow you right back!"
)
FRIEND = (
    "Link to our club ride: http://bit.ly/ride-sunday http://bit.ly/ride-map http://bit.ly/ride-form see you"
)
FRIEND_AGAIN = "Link to our club ride: http://bit.ly/ride-sunday2 http://bit.ly/ride-map2 http://bit.ly/ride-form2 see you!"


def test_a_spam_mark_changes_the_verdict_on_a_similar_message():
    spam_filter = SpamFilter()
    assert not spam_filter.check(message(BOT_AGAIN)).is_spam
    spam_filter.learn(message(BOT), True)
    verdict = spam_filter.check(message(BOT_AGAIN))
    assert verdict.is_spam
    assert "like a message you marked spam" in verdict.reasons
    assert not spam_filter.check(message("My order never arrived, can you help?")).is_spam


def test_a_not_spam_mark_changes_the_verdict_on_a_similar_message():
    spam_filter = SpamFilter(threshold=0.5)
    assert spam_filter.check(message(FRIEND_AGAIN), post=POST).is_spam
    spam_filter.learn(message(FRIEND), False, post=POST)
    verdict = spam_filter.check(message(FRIEND_AGAIN), post=POST)
    assert not verdict.is_spam
    assert "like a message you marked not spam" in verdict.reasons


def test_naive_bayes_learns_words_from_marks_on_both_sides():
    spam_filter = SpamFilter()
    for text in (
        "Tarot reading by Madame Irma, call now",
        "Madame Irma tarot, your future tonight",
        "Irma tarot cards",
    ):
        spam_filter.learn(message(text), True)
    for text in ("When is the next repair café?", "The Cargo is lovely", "My battery lasts all winter"):
        spam_filter.learn(message(text), False)
    signals = {
        s.name: s
        for s in spam_filter.signals(message("Ask Madame Irma about the tarot, she knows everything"))
    }
    assert signals["learned"].weight > 0
    assert "'tarot'" in signals["learned"].reason or "'irma'" in signals["learned"].reason


def test_forget_undoes_a_mark():
    spam_filter = SpamFilter()
    before = spam_filter.marks.to_bytes()
    spam_filter.learn(message(BOT), True)
    spam_filter.forget(message(BOT), True)
    assert not spam_filter.check(message(BOT_AGAIN)).is_spam
    assert json.loads(spam_filter.marks.to_bytes())["counts"] == json.loads(before)["counts"]


def test_the_learned_state_round_trips_through_bytes():
    spam_filter = SpamFilter()
    spam_filter.learn(message(BOT), True)
    spam_filter.learn(message("Thanks for the repair café, lovely people"), False)
    data = spam_filter.marks.to_bytes()
    restored = SpamFilter(marks=SpamMarks.from_bytes(data))
    assert restored.marks.to_bytes() == data
    for text in (BOT_AGAIN, "The repair café was lovely, thanks"):
        assert restored.check(message(text)) == spam_filter.check(message(text))


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[]", b'{"version": 99}', b'{"version": 1}', b"\xff\xfe"]
)
def test_an_unreadable_state_is_a_value_error(data):
    with pytest.raises(ValueError, match="spam state"):
        SpamMarks.from_bytes(data)


# ---- the held-out examples ------------------------------------------------------------------


def test_the_split_files_follow_the_rule_in_the_readme():
    sys.path.insert(0, str(DATA))
    try:
        import split  # tests/data/triage/split.py
    finally:
        sys.path.remove(str(DATA))
    for name in split.SETS:
        train, test = split.split(name)
        assert (DATA / f"{name}.train.jsonl").read_text(encoding="utf-8").splitlines() == train
        assert (DATA / f"{name}.test.jsonl").read_text(encoding="utf-8").splitlines() == test


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import triage  # bench/triage.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return triage


def test_precision_and_recall_on_the_test_split(bench):
    # Measured without the 42 alternatives written from test examples (bench/lexicon_audit.py):
    # signals only, precision 1.000 (21/21), recall 0.538; with all 194 train marks, precision
    # 1.000, recall 0.744. Floors sit below those; precision first.
    examples = bench.load_spam("test")
    fresh = bench.spam_scores(bench.new_filter(), examples)
    assert fresh.precision >= 0.95
    assert fresh.recall >= 0.5
    learned = bench.spam_scores(bench.marked(bench.load_spam("train"), 10_000, corrections=False), examples)
    assert learned.precision >= 0.95
    assert learned.recall >= 0.7
