"""The search language: each operator, negation, accents left to the index, hostile input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoinbox.query import Filter, QueryError, Term, fts_phrase, parse_query
from ecoinbox.text import fold_as_index

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def parse(text: str):
    return parse_query(text, now=NOW)


def test_words_phrases_and_prefixes():
    query = parse('refund "never  arrived" deliv* café')
    assert query.terms == (
        Term("refund"), Term("never arrived", "phrase"), Term("deliv", "prefix"), Term("café"),
    )  # fmt: skip
    assert query.words() == ["refund", "never", "arrived", "deliv", "café"]


def test_every_filter():
    query = parse("from:@zoe channel:mastodon is:open lang:FR has:link after:2h before:2026-11-01")
    assert query.filters == (
        Filter("from", "zoe"), Filter("channel", "mastodon"), Filter("is", "open"), Filter("lang", "fr"),
        Filter("has", "link"), Filter("after", NOW - timedelta(hours=2)),
        Filter("before", datetime(2026, 11, 1, tzinfo=UTC)),
    )  # fmt: skip
    assert parse("after:30m before:1w after:3d").filters == (
        Filter("after", NOW - timedelta(minutes=30)), Filter("before", NOW - timedelta(weeks=1)),
        Filter("after", NOW - timedelta(days=3)),
    )  # fmt: skip
    assert parse('from:"Zoé B"').filters == (Filter("from", "Zoé B"),)


def test_negation_applies_to_words_phrases_and_filters():
    query = parse('-spam -"free money" -from:bot -is:done')
    assert query.terms == (Term("spam", negated=True), Term("free money", "phrase", negated=True))
    assert query.filters == (Filter("from", "bot", negated=True), Filter("is", "done", negated=True))
    assert query.words() == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("is:later", "is:open, is:pending"),
        ("chanel:mastodon", "did you mean channel:?"),
        ("before:yesterday", "before:2026-11-01 or an age like before:3d"),
        ("lang:french", "two letters"),
        ("has:image", "has:link"),
        ("from: zoe", "needs a value right after the colon"),
        ("*", "at least one letter"),
    ],
)
def test_mistakes_are_explained(text, says):
    with pytest.raises(QueryError, match=None) as caught:
        parse(text)
    assert says in str(caught.value)


def test_colons_that_are_not_filters_are_words():
    query = parse("https://acme.example/help re:order")
    assert query.terms == (Term("https://acme.example/help"), Term("re:order"))
    assert query.filters == ()


def test_injection_attempts_stay_text():
    # An unclosed quote runs to the end: one phrase, to be matched as words.
    (phrase,) = parse('"); DROP TABLE messages; --').terms
    assert phrase == Term("); DROP TABLE messages; --", "phrase")
    query = parse("x' OR 1=1 NEAR(a b) col:x AND")
    assert [t.text for t in query.terms] == ["x'", "OR", "1=1", "NEAR(a", "b)", "col:x", "AND"]
    for term in (phrase, *query.terms):
        assert fts_phrase(term).startswith('"')  # FTS5 sees a string, never an operator


def test_fts_phrase_doubles_quotes_and_keeps_prefix_star_outside():
    assert fts_phrase(Term('say "hi"', "phrase")) == '"say ""hi"""'
    assert fts_phrase(Term("deliv", "prefix")) == '"deliv"*'


def test_empty_and_punctuation_only():
    assert parse("").empty and parse("   ").empty
    assert parse("- ? !").empty


@given(st.text())
def test_any_text_parses_or_explains_itself(text):
    try:
        query = parse(text)
    except QueryError as exc:
        assert str(exc)
        return
    for term in query.terms:
        phrase = fts_phrase(term)
        body = phrase[1:].rstrip("*")[:-1]
        assert phrase.count('"') % 2 == 0 and '"' not in body.replace('""', "")


def test_the_highlighter_marks_what_the_index_matches():
    spans = parse_query('cafe "never arrived" deliv* -spam from:zoe').highlighter()
    text = "Le Café: never  arrived! Delivery, undelivered, spam, cafeteria"
    assert [text[a:b] for a, b in spans(text)] == ["Café", "never", "arrived", "Delivery"]
    assert parse_query("from:zoe").highlighter()("zoe wrote") == []  # filters mark nothing


def test_the_highlighter_maps_folded_text_back_to_the_original():
    text = "STRASSE ﬁne Straße Ǆemal"
    spans = parse_query("strasse").highlighter()(text)
    assert [text[a:b] for a, b in spans] == ["STRASSE", "Straße"]
    assert fold_as_index("Ǆé") == ("dze", [0, 0, 1])  # one character may fold to several
