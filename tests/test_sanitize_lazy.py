"""sanitize compiles its patterns at first use and skips those that cannot match (ESC, marks,
ZWJ, variation selectors, surrogates, line breaks): the same answers as before, on any string
(tests/sanitize_reference.py is the module before; issue 16, goal 2)."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.sanitize_reference as before
from ecoinbox import sanitize as now

# What the rules are about, dense enough that random strings hit them: escape sequences and their
# 8-bit forms, line breaks, controls, BiDi and invisible characters, surrogates, combining marks of
# both planes, variation selectors, ZWJ between emoji or not, tag characters and flags, astral
# format controls, tabs, CJK.
SPECIAL = (
    "\x1b\x07\x9c\x9d\x9b\x90\x98\x9e\x9f\x18\x1a[]PX^_\\;0m?\r\n\t \x85\u2028\u2029\x00\x08\x7f\x84\x86"
    "\u061c\u200e\u202e\u2066\u00ad\u200b\u2060\ufeff\ufff9\ud800\udfff\u0300\u0301\u036f\u0489\u05bf"
    "\ufe20\U000101fd\U0001d167\U0001e94a\ufe0f\ufe00\U000e0100\u200d\U0001f469\U0001f4bb\u2764\u00a9"
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e007f\U000e0020\U00013430\U0001bca0\U0001d173"
    "\u4e2d\u00e9e\u0416a \u0903\u3000\u00a0\u1680\u20dd"
)
TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(SPECIAL), max_size=40),
    st.text(max_size=40),
    st.lists(st.one_of(st.text(alphabet=st.sampled_from(SPECIAL), max_size=8), st.text(max_size=6)),
             max_size=6).map("".join),
)  # fmt: skip


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(TEXT, st.booleans(), st.one_of(st.none(), st.integers(1, 12)))
def test_sanitize_answers_as_before(text: str, single_line: bool, max_chars: int | None) -> None:
    assert now.sanitize_and_flag(text, single_line=single_line, max_chars=max_chars) == (
        before.sanitize_and_flag(text, single_line=single_line, max_chars=max_chars)
    )
    assert now.sanitize(text, single_line=single_line) == before.sanitize(text, single_line=single_line)
    assert now.hidden_characters(text) == before.hidden_characters(text)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(TEXT, st.builds("{}://{}{}".format, st.sampled_from(["http", "https", "mailto", "ftp", ""]),
                                 TEXT, TEXT)))  # fmt: skip
def test_safe_url_answers_as_before(url: str) -> None:
    assert now.safe_url(url) == before.safe_url(url)


def test_a_zalgo_flood_on_either_plane_is_still_cut_to_four_marks() -> None:
    """The cheap test before the marks' patterns lets every flood through to them."""
    for mark in ("\u0301", "\U0001d167", "\U000101fd"):
        for base in ("e", "\u4e2d", "\U0001f469"):
            text = base + mark * 9 + "!"
            assert now.sanitize(text) == before.sanitize(text) == base + mark * 4 + "!"


def test_importing_sanitize_compiles_nothing() -> None:
    """Compiling every pattern was 5-11 ms of each `ecoinbox list`; plain ASCII needs two of them."""
    code = (
        "import re, sys\n"
        "compiled = []\n"
        "real = re.compile\n"
        "re.compile = lambda *a, **k: compiled.append(a[0]) or real(*a, **k)\n"
        "from ecoinbox.sanitize import sanitize\n"
        "at_import = len(compiled)\n"
        "sanitize('Where is my refund?\\nOrder 1234', single_line=True, max_chars=60)\n"
        "print(at_import, len(compiled))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "2"]


def test_an_emoji_with_its_selector_builds_no_pattern_of_marks() -> None:
    """VS16 after an emoji is where it belongs: the patterns of every combining mark (hundreds of
    characters, 2-3 ms to build and compile) are for a stray one."""
    code = (
        "import re\n"
        "long = []\n"
        "real = re.compile\n"
        "re.compile = lambda *a, **k: (len(a[0]) > 500 and long.append(a[0])) or real(*a, **k)\n"
        "from ecoinbox.sanitize import sanitize\n"
        "kept = sanitize('I \\u2764\\ufe0f it \\U0001f44d\\U0001f3fd, caf\\u00e9')\n"
        "built = len(long)\n"
        "stray = sanitize('a \\ufe0fb')\n"
        "print(kept == 'I \\u2764\\ufe0f it \\U0001f44d\\U0001f3fd, caf\\u00e9', built, stray, len(long))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "0", "a", "b", "1"]  # the stray one dropped, with the marks
