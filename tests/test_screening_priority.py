"""Priority: `!` only on money, access, safety, outage and long waits, in English and French, with
negations and typo forms; gratitude, anger alone and broken products are normal; at most ~15% of
the demo's conversations are marked (issue 15, item 5). Examples come from tests/data/screening's
train split (their ids) and from the issue's named misses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecoinbox.screening.priority import READ_CHARS, Priority, score_priority

ROOT = Path(__file__).resolve().parent.parent


def bench_screening():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import screening  # bench/screening.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return screening


def bench_share():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import priority_share  # bench/priority_share.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return priority_share


def test_reasons_render_as_words_with_the_tone():
    result = score_priority("I want a refund, my order never arrived. This is ridiculous!")
    assert result.urgent
    assert str(result) == "priority: refund, never arrived; angry tone"
    assert str(Priority(False, 0.0)) == "normal priority"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # the named misses
        ("cant login since this morning", "can't log in"),
        ("I am not able to log into my account", "can't log in"),
        ("my return was refused, the box was unopened", "return refused"),
        ("same error for weeks, nobody from support came back", "waiting for weeks"),
        # negations, no-apostrophe and typo forms
        ("can’t sign in on the app", "can't log in"),
        ("cannot log in after the update", "can't log in"),
        ("je n'arrive pas à me connecter depuis hier", "can't log in"),
        ("je n’arrive plus à me connecter", "can't log in"),
        ("impossible de me connecter à mon compte", "can't log in"),
        ("I'm locked out of my account", "can't log in"),
        # train split (priority-0NN)
        ("@velora I WAS CHARGED TWICE AND NOBODY ANSWERS. This is a SCAM.", "charged twice"),  # 018
        (
            "@velora on m'a prélevé deux fois l'abonnement ce mois-ci, je veux un remboursement",
            "charged twice",
        ),
        ("@velora.bsky.social I returned the bike 30 days ago and still no refund", "refund"),  # 037
        ("URGENT: fraudulent purchases on my account, I did not order 3 batteries.", "fraud"),  # 050
        ("Objet : Mise en demeure. Sans remboursement sous 8 jours, je saisirai mon avocat", "legal threat"),
        ("@velora can't log in, password reset emails never arrive", "can't log in"),  # 025
        (
            "impossible de me connecter, je ne reçois jamais le mail de réinitialisation",
            "can't log in",
        ),  # 079
        ("@velora.bsky.social hacked account, they bought accessories with my saved card", "hacked"),  # 039
        ("my charger caught fire in the garage last night. Who do I contact?", "safety"),  # 045
        ("le frein arrière a lâché dans une descente, j'aurais pu me tuer", "safety"),  # 064
        ("my kid's seat came loose on the Cargo while riding. We're fine but I'm shaking.", "safety"),  # 038
        ('great, the app is "down for maintenance" again and I can\'t unlock my bike', "outage"),  # 026
        ("l'appli est en panne, impossible de déverrouiller le vélo", "outage"),  # 069
        (
            "@velora worst customer service I have ever experienced. Three weeks, zero answers.",
            "waiting for weeks",
        ),
        ("@velora wow, amazing service. 3 weeks and still no bike. 👏👏👏", "waiting for weeks"),  # 012
        ("@velora service client catastrophique, ça fait 4 mails sans réponse", "waiting for weeks"),  # 066
        # CDP dev's client turns (../shared/data/cdp: real customer care, handles removed)
        ("plz fix Microsoft account I can’t log in", "can't log in"),
        ("anyone else experience total service loss??? #tmobileoutage", "outage"),
        ("I am not able to login my gmail account because i forgotten my gmail id password", "can't log in"),
        ("someone has hacked my Gmail account and changed the password and recovery email", "hacked"),
        (
            "unable to convert the .doc files into pdf. Facing this issue since last 6 months, no solution yet",
            "waiting for weeks",
        ),
        # the demo's traffic
        ("@acme is the site down for everyone or just me? getting 502s", "outage"),
        ("@acme 3rd time asking: how do I cancel my subscription.", "waiting for weeks"),
        ("Le lien de réinitialisation du mot de passe me dit « lien expiré »", "password reset fails"),
        ("self-harm and threats in the comments under your post", "safety"),
    ],
)
def test_what_a_manager_handles_first_is_high(text, reason):
    result = score_priority(text)
    assert result.urgent, text
    assert reason in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        # gratitude, praise, happy shouting
        "thank you!! 🙏",
        "thanks for the refund, that was quick!",
        "JUST GOT MY CARGO!!! THE KIDS ARE SCREAMING WITH JOY!!!",
        "shoutout to @acme support, replaced my broken kettle in 2 days no questions asked ❤️",
        # not about the brand, or negated
        "Free Fire keeps crashing on my phone lol",
        "my account was not hacked, I just forgot the password",
        "@velora I broke my wrist last month so the bike is resting",  # 117
        "@velora loved your talk at the urban mobility hackathon, great ideas!",  # 119
        "@velora my lawyer friend just bought a Cargo and won't stop talking about it 😄",  # 135
        # questions, solved problems
        "@velora what's your refund policy for gifts? Buying one for my dad and not sure about the size",  # 113
        "@velora refund arrived today, thanks for sorting it out so fast!",  # 105
        "@velora how long does it take to get the battery fully charged from empty?",  # 133
        # CDP dev's client turns: questions and bugs that wait their turn
        "Hey my Face ID isn’t working",
        "why aren’t apps updating? Stay Safe",
        "STOP CRASHING WHEN I TRY TO ADD TEXT TO A PROJECT",
        "can u help me transfer my xbox one character to ps4 please",
        # complaints that wait their turn: broken, cancel, anger alone
        "@velora the frame cracked after 4 months. I want a replacement, not excuses.",  # 013
        "@velora je souhaite annuler ma commande avant l'expédition, commande 61920",  # 070
        "@velora absolutely disgusted with how I've been treated by your Leeds shop today. Never again.",  # 051
        "@acme app crashes every time I open the cart on android 14. pixel 7. reinstalled twice. ???",
        "going travelling for 2 months, can I pause my subscription?",
        "@velora.bsky.social ma batterie ne charge plus depuis hier",
    ],
)
def test_everything_else_is_normal(text):
    assert not score_priority(text).urgent, score_priority(text)


def test_links_do_not_hide_or_create_urgency():
    assert not score_priority("look at https://example.com/refund-hacked-locked-out").urgent
    assert score_priority("I can't log in: https://example.com/screenshot.png").urgent


def test_only_the_start_of_a_huge_post_is_read():
    # A 200,000-character post costs what its first characters cost; the words there count.
    assert score_priority("I was charged twice. " + "a" * 200_000).urgent
    assert not score_priority("a " * READ_CHARS + "I was charged twice.").urgent


def test_precision_on_the_test_split():
    # Against each example's `kind` (money, access, safety, outage, waiting), written for the
    # test split after the words were committed. Measured: precision 0.889 (8/9), recall 0.571
    # (8/14); against the broader `label`, precision 8/9 too.
    assert bench_share().kind_scores("test").precision >= 0.85
    bench = bench_screening()
    assert bench.priority_scores(bench.load_priority("test")).precision >= 0.85


async def test_at_most_fifteen_percent_of_the_demo_conversations_get_the_marker():
    high, total = await bench_share().demo_priority_share()
    assert total >= 100
    assert high / total <= bench_share().HIGH_SHARE, f"{high} of {total}"


@pytest.mark.skipif(
    not bench_share().CDP_DEV.exists(), reason="../shared/data/cdp is not next to the repository"
)
def test_at_most_fifteen_percent_of_real_customer_care_conversations_get_the_marker():
    shares = bench_share().cdp_priority_share()
    high, total = sum(h for h, _ in shares.values()), sum(t for _, t in shares.values())
    assert total == 525 and high / total <= bench_share().HIGH_SHARE, f"{high} of {total}"
