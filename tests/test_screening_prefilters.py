"""The cheap checks that spare screening its regex searches never change what a search finds.

A lexicon term is searched only where a word of the text starts as one of its alternatives can
(`Term.keys`, read from the term's regex); a text with no "://" and no dot before a letter is
not searched for links. Before, six of the priority scorer's thirteen phrases (those starting
with a number, an optional word or a digit) had no keys and were searched in every message.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecoinbox.screening import priority
from ecoinbox.screening._text import Term, may_have_link, remove_links, strip_links

# Every phrase the priority module holds (its lists of terms and single terms).
TERMS: list[Term] = [
    item
    for value in vars(priority).values()
    for item in (value if isinstance(value, tuple) else (value,))
    if isinstance(item, Term)
]

# Words the phrases are made of, and pieces that start or break words.
PIECES = st.sampled_from(
    [
        "i",
        "can't",
        "cant",
        "log",
        "in",
        "login",
        "locked",
        "out",
        "my",
        "account",
        "3rd",
        "5th",
        "502",
        "503",
        "errors",
        "12",
        "two",
        "charges",
        "charged",
        "twice",
        "time",
        "asking",
        "the",
        "same",
        "problem",
        "for",
        "weeks",
        "no",
        "reply",
        "site",
        "is",
        "down",
        "not",
        "loading",
        "smoke",
        "fire",
        "a",
        "fondu",
        "j'arrive",
        "pas",
        "à",
        "me",
        "connecter",
        "n'",
        "laisse",
        "ne",
        "reçois",
        "jamais",
        "mail",
        "reset",
        "link",
        "password",
        "٣",
        "²",
        "3",
        "weeks",
        "since",
        "months",
        "'",
        "-",
        ".",
        ",",
        "!",
        "?",
    ]
)


def test_every_priority_phrase_has_keys() -> None:
    assert all(entry.keys for entry in TERMS), [entry.label for entry in TERMS if not entry.keys]


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=12), st.sampled_from([" ", "", "-", "'"]))
def test_keys_never_hide_a_match(words: list[str], joiner: str) -> None:
    text = joiner.join(words)
    for entry in TERMS:
        assert (entry.search(text) is None) == (entry.pattern.search(text) is None), (entry.label, text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZé:/.@wW -1K\u212a\u017f"), max_size=40))
@example("see www.123 ok")  # a link without a dot before a letter
@example("WwW.-x")
def test_the_link_check_never_hides_a_link(text: str) -> None:
    assert strip_links(text) == remove_links(text)
    if not may_have_link(text):
        assert remove_links(text) == text, "a link or an address the check said could not be there"
