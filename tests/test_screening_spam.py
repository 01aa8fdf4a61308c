"""The spam filter: each signal on small cases, the shipped model's verdicts and reasons, learning
from marks (one-sided too), its saved state, and floors on held-out data (bench/README.md's
protocol)."""

from __future__ import annotations

import gzip
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoinbox.model import Author, Message
from ecoinbox.screening._text import minhash, resemblance
from ecoinbox.screening.inbound import Screener, has_identity
from ecoinbox.screening.spam import SpamFilter, SpamMarks, Verdict, spam_signals
from ecoinbox.screening.spam_model import WEIGHTS_FILE, Model, load_model

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "screening"
YOUTUBE = ROOT.parent / "shared" / "data" / "spam" / "youtube-spam-collection"
AT = datetime(2025, 3, 1, tzinfo=UTC)


def message(
    text: str,
    *,
    name: str = "Jamie",
    url: str | None = None,
    links: tuple[str, ...] = (),
    remote_id: str | None = None,
    **extra,
) -> Message:
    author = Author("blog", remote_id or name, name, name, url)
    return Message("blog", "1", author, text, AT, links=links, **extra)


def names(text: str, **kwargs) -> dict[str, str]:
    fields = ("name", "url", "hidden_characters", "platform_verdict")
    extra = {key: kwargs.pop(key) for key in fields if key in kwargs}
    return {signal.name: signal.reason for signal in spam_signals(message(text, **extra), **kwargs)}


# ---- the signals, one by one ---------------------------------------------------------------


def test_links_are_counted_their_sites_named_and_shorteners_seen():
    found = names("deals http://a.example/x http://b.example/y https://bit.ly/abc https://c.example")
    assert found["links:3"] == "4 links"
    assert found["shortener"] == "a shortened link"
    assert found["link_only"] == "only a link"
    assert found["host:a.example"] == "a link to a.example"
    assert "host:bit.ly" in found and "host:c.example" not in found  # the first three sites
    ratio = names("see my picks here http://a.example http://b.example http://c.example please")
    assert ratio["link_ratio"] == "more links than words"
    assert names("watch https://m.youtube.com/watch?v=1 and http://shop.co.uk/a")["host:youtube.com"]
    assert "host:shop.co.uk" in names("watch https://m.youtube.com/watch?v=1 and http://shop.co.uk/a")


def test_screenshots_are_not_link_stuffing():
    text = (
        "The app crashes when I open ride stats, screenshots: https://imgur.com/a/one "
        "https://imgur.com/a/two https://files.example/crash.png"
    )
    found = names(text)
    assert not any(name.startswith("links:") for name in found)
    assert found["evidence"] == "a screenshot"


def test_a_bare_domain_counts_as_a_link_and_an_email_is_not_one():
    found = names("cheap pills at pharma-cheap.example, write to sales@mail.example")
    assert found["links:1"] == "a link"
    assert found["host:pharma-cheap.example"]
    assert found["email"] == "an email address"
    assert "links:1" not in names("write to sales@mail.example")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Best SEO Services", {"author:best", "author:seo", "author:services", "author:long_name"}),
        ("cheap-watches-online", {"author:cheap", "author:watches", "author:slug"}),
        ("CHEAP LOANS", {"author:cheap", "author:loans", "author:caps"}),
        ("Fast Loans 24/7", {"author:fast", "author:loans", "author:digits"}),
    ],
)
def test_author_names_are_read_word_by_word(name, expected):
    assert expected <= names("Thanks!", name=name).keys()


def test_a_link_in_the_author_name_and_the_author_website():
    assert "author:name_link" in names("Thanks!", name="cheapdeals.example")
    found = names("Thanks!", url="https://payday-loans-fast.example")
    assert found["author:url"] == "author website"
    assert {"author_url:payday", "author_url:loans"} <= found.keys()
    assert "author:url_shortener" in names("Thanks!", url="https://bit.ly/3xKq9Zp")
    assert "author:anonymous" in names("Thanks!", name="")


def test_a_profile_on_the_platform_and_links_home_are_neither_websites_nor_links():
    # A forum post: the author's profile page and a link to another topic are the forum's own.
    author = Author("forum", "devon", "devon", "Devon", "https://forum.example/u/devon")
    post = Message(
        "forum", "7", author, "Same as https://forum.example/t/billing/12 but for March", AT,
        url="https://forum.example/t/charged-twice/12/3",
    )  # fmt: skip
    found = {signal.name for signal in spam_signals(post)}
    assert not {"author:url", "links:1"} & found
    proven = Author(
        "mastodon", "1", "zoe", "Zoe", "https://home.example/@zoe", proofs=("https://home.example/@zoe",)
    )
    assert "author:url" not in {s.name for s in spam_signals(Message("mastodon", "1", proven, "hi", AT))}
    # A blog comment's website and a link elsewhere still are.
    guest = Author("blog", "guest:x", "x", "x", "https://cheap-deals.example")
    comment = Message(
        "blog", "9", guest, "see https://cheap-deals.example/a", AT, url="https://blog.example/p#c9"
    )
    assert {"author:url", "links:1"} <= {s.name for s in spam_signals(comment)}


def test_generic_praise_and_praise_followed_by_a_name():
    assert names("Great post! Very informative, thanks for sharing.")["praise_only"] == "generic praise"
    followed = names("Great post, thanks for sharing this! Best SEO Services London")
    assert followed["praise_then_name"] == "generic praise and a name"
    about = names("Great post! Should I store the battery indoors every night in winter?")
    assert not {"praise_only", "praise_then_name"} & about.keys()


def test_the_author_name_repeated_in_the_text():
    found = names("Nice. Cheap Flights Paris has the best deals", name="Cheap Flights Paris")
    assert found["author_in_text"] == "repeats the author's name"
    assert "author_in_text" not in names("Thanks Marcus Hale for the ride", name="Zoe")


def test_keyword_stuffing_is_a_rare_phrase_said_again_and_again():
    text = (
        "best electric bike lyon: our best electric bike lyon shop sells the best electric bike lyon "
        "riders love, visit best electric bike lyon"
    )
    assert names(text)["stuffing"].endswith("times")
    assert "stuffing" not in names("I love it, I love the colour, I love the app and the shop people.")


def test_the_same_text_again_and_from_several_authors():
    screener = Screener()
    text = "Hello dear, I saw your profile and I think we could be good friends, write to me"
    contexts = [screener.context(message(text, name=who, remote_id=f"id-{who}")) for who in "abc"]
    assert contexts == [(0, 0), (1, 1), (2, 2)]
    assert screener.context(message(text, name="a", remote_id="id-a")) == (3, 2)
    assert names(text, repeats=2, authors=2)["repeated_by_others"] == "the same text from 3 authors"
    assert names(text, repeats=3)["repeated"] == "posted 4 times"
    a = minhash(text)
    b = minhash("@velora " + text + "!")
    assert resemblance(a, b) > 0.8
    assert resemblance(a, minhash("My order never arrived and nobody answers my emails")) < 0.2


def test_a_guest_is_never_a_known_author():
    guest = Author("blog", "guest:Anonymous|", "Anonymous", "Anonymous")
    account = Author("blog", "42", "tom", "Tom")
    assert not has_identity(guest) and has_identity(account)
    spam = "Great post! Visit https://best-replica-watches.example for the best replica watches"
    screener = Screener()
    known_guest = Message("blog", "1", guest, spam, AT)
    verdict = screener.assess(known_guest, known_author=True)
    assert "known" not in {s.name for s in verdict.verdict.signals}
    known_account = Message("blog", "2", account, "I love the new colours", AT)
    assert "known" in {s.name for s in screener.assess(known_account, known_author=True).verdict.signals}


def test_an_order_number_and_a_known_author_pull_towards_not_spam():
    assert names("Order 55120 never arrived, refund please")["order"] == "mentions an order"
    signals = {s.name: s for s in spam_signals(message("hi"), known_author=True)}
    assert signals["known"].weight < 0


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
    assert not any(s.name.startswith("links:") for s in spam_filter.signals(own))


def test_the_platforms_own_verdict_is_used_and_shown():
    spam_filter = SpamFilter()
    plain = message("Nice ride today along the river")
    assert not spam_filter.check(plain).is_spam
    verdict = spam_filter.check(plain, platform="spam")
    assert verdict.is_spam and "blog marked it spam" in verdict.reasons
    held = spam_filter.check(plain, platform="held")
    assert "held for moderation on blog" in {s.reason for s in held.signals}
    assert held.score > spam_filter.check(plain).score
    # Through Screener: the message's own fields say it.
    screener = Screener(spam_filter)
    assert screener.assess(message("Nice ride today", platform_verdict="spam")).verdict.is_spam


def test_hidden_characters_count():
    assert names("Refund NOW", hidden_characters=True)["hidden"] == "hidden characters"


# ---- the shipped model and its verdicts ----------------------------------------------------


def test_the_shipped_model_is_there_and_reads_back():
    model = load_model()
    assert len(model.grams) > 10_000 and model.named
    assert Model.read(WEIGHTS_FILE).grams == model.grams


def test_verdict_renders_its_reasons():
    assert str(Verdict(True, 0.9, ("4 links", "generic praise"))) == "spam: 4 links, generic praise"
    assert str(Verdict(False, 0.1)) == "not spam"


@pytest.mark.parametrize(
    "text",
    [
        "Subscribe to my channel and check out my new music video, link in my profile!!",
        "Online casino 300 free spins, no deposit bonus, play now at https://spins-casino-bonus.example",
        "Earn 500 dollars a day from home, visit https://easy-cash-daily.example and start today",
    ],
)
def test_obvious_spam_is_spam_with_words_among_its_reasons(text):
    verdict = SpamFilter().check(message(text, name="Promo Team"))
    assert verdict.is_spam, verdict
    assert any(reason.startswith("words: ") for reason in verdict.reasons)


@pytest.mark.parametrize(
    "text",
    [
        (
            "My order 55120 never arrived, I was charged twice. Screenshots: https://imgur.com/a/1 "
            "https://imgur.com/a/2 and the tracking https://bit.ly/track55120"
        ),
        "thank you!! 🙏",
        "Bonjour, ma batterie ne charge plus depuis la mise à jour, que faire ?",
        "Do you accept crypto payments for the Cargo?",
    ],
)
def test_what_customers_write_is_not_spam(text):
    verdict = SpamFilter().check(message(text, name="Priya Shah"))
    assert not verdict.is_spam, verdict


def test_a_spam_verdict_always_says_why_even_from_many_small_signs():
    model = Model(words={"lovely": 0.05, "weather": 0.1, "today": 0.02}, bias=3.0)
    verdict = SpamFilter(model=model).check(message("lovely weather today", name=""))
    assert verdict.is_spam
    assert verdict.reasons and verdict.reasons[0].startswith("words: 'weather'")


# ---- learning from the manager's marks ------------------------------------------------------


TAROT = "Madame Irma reads your tarot cards tonight, call her for your future"
TAROT_OTHER = "Ask Madame Irma about tarot, she sees your love life and your luck"
FRIEND = "Link to our club ride: http://bit.ly/ride-sunday http://bit.ly/ride-map see you there"
FRIEND_OTHER = "Our club ride link again: http://bit.ly/ride-sunday-2 and the map http://bit.ly/ride-map-2"


def test_a_spam_mark_alone_moves_the_model():
    # One-sided: no "not spam" mark at all; the second message is not a near-duplicate, so
    # the words' weights moved, not only the memory of the marked message. A strict threshold:
    # the shipped prior alone does not call the tarot reader spam.
    spam_filter = SpamFilter(threshold=0.95)
    assert resemblance(minhash(TAROT), minhash(TAROT_OTHER)) < 0.5
    before = spam_filter.check(message(TAROT_OTHER, name="Irma"))
    assert not spam_filter.check(message(TAROT, name="Irma")).is_spam
    spam_filter.learn(message(TAROT, name="Irma"), True)
    assert spam_filter.marks.marks == [1, 0] and spam_filter.marks.delta
    assert spam_filter.check(message(TAROT, name="Irma")).is_spam
    after = spam_filter.check(message(TAROT_OTHER, name="Irma"))
    assert after.score > before.score
    assert not spam_filter.check(message("My order never arrived, can you help?", name="Irma")).is_spam


def test_a_spam_mark_makes_a_near_duplicate_spam_with_the_reason():
    spam_filter = SpamFilter()
    spam_filter.learn(message(TAROT), True)
    verdict = spam_filter.check(message(TAROT + "!"))
    assert verdict.is_spam and "like a message you marked spam" in verdict.reasons


def test_a_not_spam_mark_moves_the_model_the_other_way():
    spam_filter = SpamFilter(threshold=0.5)
    before = spam_filter.check(message(FRIEND_OTHER)).score
    spam_filter.learn(message(FRIEND), False)
    assert spam_filter.marks.marks == [0, 1]
    assert not spam_filter.check(message(FRIEND)).is_spam
    assert spam_filter.check(message(FRIEND_OTHER)).score < before


def test_forget_undoes_a_mark():
    spam_filter = SpamFilter()
    before = spam_filter.check(message(TAROT_OTHER))
    spam_filter.learn(message(TAROT), True)
    spam_filter.forget(message(TAROT), True)
    assert spam_filter.marks.delta == {} and spam_filter.marks.marks == [0, 0]
    assert spam_filter.check(message(TAROT_OTHER)) == before


def test_the_learned_state_round_trips_through_bytes():
    spam_filter = SpamFilter()
    spam_filter.learn(message(TAROT), True)
    spam_filter.learn(message("Thanks for the repair café, lovely people"), False)
    data = spam_filter.marks.to_bytes()
    restored = SpamFilter(marks=SpamMarks.from_bytes(data))
    assert restored.marks.to_bytes() == data
    for text in (TAROT_OTHER, "The repair café was lovely, thanks"):
        assert restored.check(message(text)) == spam_filter.check(message(text))


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[]", b'{"version": 99}', b'{"version": 1, "counts": {}}', b"\xff\xfe"]
)
def test_an_unreadable_state_is_a_value_error(data):
    with pytest.raises(ValueError, match="spam state"):
        SpamMarks.from_bytes(data)


# ---- the held-out examples ------------------------------------------------------------------


def test_the_split_files_follow_the_rule_in_the_readme():
    sys.path.insert(0, str(DATA))
    try:
        import split  # tests/data/screening/split.py
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
        import screening  # bench/screening.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return screening


def test_the_untouched_source_and_the_project_test_split(bench):
    # Measured (bench/screening.py, scoring 8 in bench/README.md): the untouched video, precision
    # 0.987 (149/151), recall 0.856 (the issue asks 0.95 and 0.85); the project's test split,
    # precision 0.929 (26/28), recall 0.619. Floors sit below.
    if not (YOUTUBE / "Youtube05-Shakira.csv").is_file():
        pytest.skip(f"the YouTube Spam Collection is not in {YOUTUBE}")
    untouched = bench.spam_scores(
        bench.new_filter(), bench.train_spam.load_youtube(YOUTUBE, "Youtube05-Shakira")
    )
    assert untouched.precision >= 0.95
    assert untouched.recall >= 0.85  # the bar
    project = bench.spam_scores(bench.new_filter(), bench.train_spam.load_velora("test"))
    assert project.precision >= 0.85
    assert project.recall >= 0.5


@pytest.mark.slow
def test_the_shipped_weights_come_from_the_training_script(bench, tmp_path):
    if not (YOUTUBE / "Youtube05-Shakira.csv").is_file() or not bench.train_spam.CDP.is_file():
        pytest.skip(f"the YouTube Spam Collection or the care tweets are not beside {ROOT}")
    train = bench.train_spam
    sources = train.load_sources(YOUTUBE, train.TRAIN_SOURCES)
    train.train(train.training_set(sources, train.VELORA_SHARE)).save(tmp_path / "w.json.gz")
    assert (tmp_path / "w.json.gz").read_bytes() == WEIGHTS_FILE.read_bytes()


def test_the_demo_phishing_mail_goes_to_spam_with_reasons(bench):
    _, verdict = bench.demo_phishing()
    assert verdict.is_spam
    assert "hidden characters" in verdict.reasons


def test_an_urgent_complaint_with_nothing_spam_needs_stays_out_of_spam():
    """The model reads "subscription ... please refund" as YouTube spam; a customer's complaint
    with no link, no hidden text and no platform verdict is kept in the inbox, and says why."""
    from datetime import UTC, datetime

    from ecoinbox.model import Author, Message, Origin
    from ecoinbox.screening.inbound import Screener

    def message(text: str, rid: str) -> Message:
        author = Author(channel="mastodon", remote_id=f"a{rid}", handle=f"p{rid}", display_name="Pat")
        return Message(channel="mastodon", remote_id=rid, author=author, text=text,
                       created_at=datetime(2026, 12, 1, tzinfo=UTC), origin=Origin.MENTION)  # fmt: skip

    screener = Screener()
    complaint = screener.assess(message("I was charged twice for my subscription, please refund me", "1"))
    assert complaint.priority.urgent and not complaint.verdict.is_spam
    assert complaint.verdict.reasons[0].endswith("urgent complaint with no link: kept in the inbox")
    phishing = screener.assess(message(
        "Your account is locked. Click here now to claim your refund: http://acme-refunds.example/login", "2"
    ))  # fmt: skip
    assert phishing.priority.urgent and phishing.verdict.is_spam


def test_a_word_weighs_where_it_was_written():
    """The model weighs some words with the kind of channel they were written on: YouTube's
    "check out my channel" teaches little about a customer's "checkout" in a mention."""
    from ecoinbox.config import parse_config

    settings = parse_config(
        '[brand]\nname = "Acme"\n'
        '[[channels]]\nkind = "youtube"\nname = "videos"\nchannel_id = "UCabcdefghijklmnopqrstuv"\n'
        'client_id = "abc.apps.example"\n'
        '[[channels]]\nkind = "mastodon"\nname = "social"\nbase_url = "https://social.example"\n',
        Path("test.toml"),
    )
    assert load_model().placed  # the shipped model has such words

    def score(channel: str) -> float:
        author = Author(channel, "u1", "sam", "Sam Doe")
        said = Message(channel, "1", author, "The checkout page times out on mobile. Cheers", AT)
        return Screener.from_settings(settings).assess(said).verdict.score

    assert score("social") < score("videos") - 0.03


def test_words_by_kind_are_kept_by_the_saved_model_and_absent_from_older_ones(tmp_path):
    model = Model(words={"check": 0.5}, placed={"youtube check": 1.0})
    model.save(tmp_path / "with.json.gz")
    again = Model.read(tmp_path / "with.json.gz")
    assert again.placed == {"youtube check": 1.0}
    plain, _ = again.text_score(" check ")
    placed, _ = again.text_score(" check ", "youtube")
    assert placed > plain and again.text_score(" check ", "mastodon")[0] < plain  # more features, none weighs
    Model(words={"check": 0.5}).save(tmp_path / "without.json.gz")
    assert b'"c"' not in gzip.decompress((tmp_path / "without.json.gz").read_bytes())
