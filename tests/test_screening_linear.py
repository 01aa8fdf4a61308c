"""No pattern applied to a message's text backtracks over a long run: a 200,000-character post of
any one kind of character goes through the whole screening (spam, priority, the demo's rules) and
language detection in at most 50 ms of CPU, as do the text helpers that see the whole text.

Before: the e-mail pattern alone took minutes on a run of letters (each start read the rest of
the run again), and one such post froze the inbox for 14 minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecoinbox.config import parse_config
from ecoinbox.demo.runner import DEMO_CANNED, DEMO_RULES
from ecoinbox.language import detect_language
from ecoinbox.model import Author, Message
from ecoinbox.query import QueryError, parse_query
from ecoinbox.sanitize import sanitize
from ecoinbox.screening._text import find_links, has_email, shingles, strip_links
from ecoinbox.screening.inbound import Screener

BUDGET_S = 0.050  # CPU seconds a message (the bound)
LENGTH = 200_000

RUNS = {
    "letters": "a",
    "capitals": "A",
    "digits": "1",
    "dots": ".",
    "at signs": "@",
    "spaces": " ",
    "newlines": "a\n",
    "dashes": "-",
    "underscores": "_",
    "colon slash": ":/",
    "emoji": "🙂",
    "mixed": "a1.@ -_:/é",
    "word and at": "a@",
    "domain-like": "a.",
    "numbers with dots": "1.",
    "numbers with spaces": "11 ",
    "words": "ab ",
    "hashtags": "#a",
    "schemes": "http://",
    "www": "www.",
    "quotes": "\"'",
}


def run_of(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def message(text: str, *, name: str = "Zoé") -> Message:
    author = Author("m", "1", name, name)
    return Message("m", "1", author, text, datetime(2026, 12, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def screener() -> Screener:
    settings = parse_config(f'[brand]\nname = "Acme"\nkeywords = ["acme"]\n{DEMO_RULES}\n{DEMO_CANNED}')
    screener = Screener.from_settings(settings)
    assert screener.rules, "the demo's rules take part"
    screener.assess(message("warm up: refund please, merci"))  # compiled patterns, the language model
    detect_language("warm up: the language model loads once, merci beaucoup")
    return screener


def cpu_seconds(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


@pytest.mark.parametrize("unit", RUNS.values(), ids=RUNS.keys())
def test_a_long_run_goes_through_the_whole_screening_within_budget(screener: Screener, unit: str) -> None:
    text = run_of(unit)
    spent = cpu_seconds(lambda: (screener.assess(message(text), post=text), detect_language(text)))
    assert spent <= BUDGET_S, f"{spent * 1000:.0f} ms for 200,000 x {unit!r}"


@pytest.mark.parametrize("unit", ["a", "_", "a.", "ab ", "1-"])
def test_a_long_author_name_is_read_within_budget(screener: Screener, unit: str) -> None:
    name = run_of(unit)
    spent = cpu_seconds(lambda: screener.assess(message("hello", name=name)))
    assert spent <= BUDGET_S, f"{spent * 1000:.0f} ms for a name of 200,000 x {unit!r}"


# The helpers below see the whole text (the link finder and shingles of the spam filter, the
# sanitizer the screen uses, the search box): each is linear on its own.
WHOLE_TEXT: dict[str, Callable[[str], object]] = {
    "has_email": has_email,
    "strip_links": strip_links,
    "find_links": find_links,
    "shingles": shingles,
    "sanitize": sanitize,
    "sanitize one line": lambda text: sanitize(text, single_line=True),
}


@pytest.mark.parametrize("helper", WHOLE_TEXT.values(), ids=WHOLE_TEXT.keys())
@pytest.mark.parametrize("unit", ["a", "_", "a.", " ", "1", "a@", " \n", "-"])
def test_text_helpers_are_linear(helper: Callable[[str], object], unit: str) -> None:
    text = run_of(unit)
    spent = cpu_seconds(lambda: helper(text))
    assert spent <= 4 * BUDGET_S, f"{spent * 1000:.0f} ms for 200,000 x {unit!r}"  # 4x: no window here


def test_a_query_of_spaces_is_parsed_at_once() -> None:
    def parse() -> None:
        try:
            parse_query("refund" + " " * LENGTH)
        except QueryError:
            pass

    assert cpu_seconds(parse) <= BUDGET_S


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="a1.@ -_:/#é🙂\n'\"<>€$%", min_size=1, max_size=6))
def test_any_repeated_pattern_stays_within_budget(screener: Screener, unit: str) -> None:
    text = run_of(unit)
    spent = cpu_seconds(lambda: (screener.assess(message(text)), detect_language(text), has_email(text)))
    assert spent <= BUDGET_S, f"{spent * 1000:.0f} ms for 200,000 x {unit!r}"
