"""The terminal sanitizer: properties over generated text, and one example per attack."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ecoinbox.sanitize import hidden_characters, safe_url, sanitize, sanitize_and_flag

ESC = "\x1b"
BEL = "\x07"
ST = "\x1b\\"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
TAGS_HELLO = "".join(chr(0xE0000 + ord(c)) for c in "hello")

# Fragments that make generated text hit every rule, not only plain letters.
FRAGMENTS = [
    ESC, ESC + "[", ESC + "]", ESC + "P", ESC + "_", ESC + "^", ESC + "X", ESC + "(", ESC + "#",
    BEL, ST, "\x9b", "\x9c", "\x9d", "\x90", "\x85", "\x18", "\x7f", "\r", "\n", "\t", " ",
    "0;title", "2J", "31m", "8;;https://e.x", "52;c;aGk=", "\u202e", "\u2066", "\u200b", "\u200c",
    "\u200d", "\ufe0f", "\ufe0e", "\u00ad", "\ufeff", "\u2028", "\u0301", "\u0336", "\U0001d167",
    "👩", "💻", "🏽", "❤", "🏴", "\U000e0067", "\U000e0062", "\U000e0073", "\U000e007f",
    SCOTLAND, "\ud800", "\udfff", "a", "é", "[b]", "…",
]  # fmt: skip
hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8))).map("".join)
any_text = st.one_of(st.text(), hostile_text)

FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2069"
    "\u2028\u2029\ufeff\u00ad\ud800-\udfff]"
)


RGI_SUBDIVISION_FLAG = re.compile(
    "\U0001f3f4\U000e0067\U000e0062(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)\U000e007f"
)


def without_flags(text: str) -> str:
    return RGI_SUBDIVISION_FLAG.sub("", text)


# Properties


@given(any_text, st.booleans(), st.none() | st.integers(min_value=1, max_value=40))
@example("\x1b\x1b[31mx", False, None)
@example("👩\u200d" + "💻" * 30, False, 2)
def test_output_holds_no_control_bidi_invisible_or_surrogate(
    text: str, single_line: bool, max_chars: int | None
) -> None:
    out = sanitize(text, single_line=single_line, max_chars=max_chars)
    assert FORBIDDEN.search(out) is None, repr(out)
    assert not re.search("[\U000e0000-\U000e007f]", without_flags(out)), repr(out)


@given(any_text, st.booleans(), st.none() | st.integers(min_value=1, max_value=40))
@example("a \u200d", True, None)
@example("🏴" + "\U000e0067" * 3 + "x", False, 3)
def test_idempotent(text: str, single_line: bool, max_chars: int | None) -> None:
    once = sanitize(text, single_line=single_line, max_chars=max_chars)
    assert sanitize(once, single_line=single_line, max_chars=max_chars) == once
    assert sanitize(once) == once


@given(any_text)
def test_idempotent_with_defaults(text: str) -> None:
    assert sanitize(sanitize(text)) == sanitize(text)


@given(any_text)
def test_single_line_has_no_newline(text: str) -> None:
    assert "\n" not in sanitize(text, single_line=True)


@given(any_text, st.integers(min_value=1, max_value=40))
def test_max_chars_is_a_hard_cap(text: str, max_chars: int) -> None:
    out = sanitize(text, max_chars=max_chars)
    assert len(out) <= max_chars
    if len(sanitize(text)) > max_chars:
        assert out.endswith("…")


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_passes_unchanged(text: str) -> None:
    assert sanitize(text) == text
    assert not hidden_characters(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\n")))
def test_printable_ascii_lines_pass_unchanged(text: str) -> None:
    assert sanitize(text) == text


VARIATION_SELECTORS = {chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))}
visible_text = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs"), include_characters="\n\t\r").filter(
        lambda c: c not in VARIATION_SELECTORS
    )
)


@given(visible_text)
def test_text_without_hidden_characters_is_not_flagged(text: str) -> None:
    assert not hidden_characters(text)


@given(visible_text, st.sampled_from(["\u202e", "\u2067", "\u200b", "\u2060", "\U000e0041", ESC]))
def test_any_hidden_character_is_flagged(text: str, hidden: str) -> None:
    middle = len(text) // 2
    assert hidden_characters(text[:middle] + hidden + text[middle:])


# Escape sequences: the whole sequence goes, not just ESC


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(ESC + "]0;PWNED" + BEL, id="OSC 0 title, BEL"),
        pytest.param(ESC + "]0;PWNED" + ST, id="OSC 0 title, ST"),
        pytest.param(ESC + "]2;PWNED" + BEL, id="OSC 2 title"),
        pytest.param(ESC + "]52;c;cm0gLXJmIH4=" + BEL, id="OSC 52 clipboard write"),
        pytest.param(ESC + "]52;c;?" + ST, id="OSC 52 clipboard read"),
        pytest.param(ESC + "P+q544e" + ST, id="DCS"),
        pytest.param(ESC + "_Gf=100;AAAA" + ST, id="APC (kitty graphics)"),
        pytest.param(ESC + "^privacy" + ST, id="PM"),
        pytest.param(ESC + "Xstring" + ST, id="SOS"),
        pytest.param(ESC + "[2J", id="CSI 2J clear"),
        pytest.param(ESC + "[1;31;4m", id="SGR"),
        pytest.param(ESC + "[?1049h", id="CSI private mode"),
        pytest.param(ESC + "[21t", id="CSI title report"),
        pytest.param(ESC + "#8", id="DECALN screen fill"),
        pytest.param(ESC + "(0", id="charset switch"),
        pytest.param(ESC + "c", id="RIS reset"),
        pytest.param("\x9b2J", id="8-bit CSI"),
        pytest.param("\x9b31m", id="8-bit SGR"),
        pytest.param("\x9d0;PWNED\x9c", id="8-bit OSC, 8-bit ST"),
        pytest.param("\x9d0;PWNED" + BEL, id="8-bit OSC, BEL"),
        pytest.param("\x90q\x9c", id="8-bit DCS"),
    ],
)
def test_escape_sequence_removed_whole(payload: str) -> None:
    assert sanitize(f"AAA{payload}BBB") == "AAABBB"
    assert hidden_characters(f"AAA{payload}BBB")


def test_osc8_hyperlink_keeps_its_text_and_loses_its_target() -> None:
    raw = f"see {ESC}]8;;https://evil.example{ST}bank.com{ESC}]8;;{ST} now"
    assert sanitize(raw) == "see bank.com now"


def test_bel_inside_osc_cannot_smuggle_a_second_sequence() -> None:
    raw = f"x{ESC}]8;;https://a{BEL}{ESC}[2Jy"
    assert sanitize(raw) == "xy"


def test_lone_esc_and_unterminated_sequences_leave_no_escape() -> None:
    assert sanitize(f"a{ESC}") == "a"
    assert sanitize(f"a{ESC}[") == "a"
    assert ESC not in sanitize(f"a{ESC}]0;never ends")


def test_bare_c1_from_mojibake_does_not_swallow_the_post() -> None:
    # U+201D read as Latin-1 ends in U+009D, the 8-bit OSC introducer.
    assert sanitize("he said â€\x9dhello world") == "he said â€hello world"


C0_BUT_NEWLINE_TAB_CR_ESC = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20)]


@pytest.mark.parametrize("control", [chr(c) for c in (*C0_BUT_NEWLINE_TAB_CR_ESC, 0x7F)])
def test_c0_controls_and_del_are_dropped(control: str) -> None:
    assert sanitize(f"a{control}b") == "ab"
    assert hidden_characters(f"a{control}b")


@pytest.mark.parametrize("control", [chr(c) for c in range(0x80, 0xA0) if c != 0x85])
def test_c1_controls_are_dropped(control: str) -> None:
    assert sanitize(f"a{control}é") == "aé"  # not "b": after 8-bit CSI, "b" is a final byte
    assert hidden_characters(f"a{control}é")


# Line breaks and spacing


def test_carriage_return_cannot_overwrite_a_line() -> None:
    # On a terminal "\r" moves to column 0, so the second amount would hide the first.
    assert sanitize("Refund: $100\rRefund: $999") == "Refund: $100\nRefund: $999"
    assert not hidden_characters("Refund: $100\rRefund: $999")


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n", "\x85", "\u2028", "\u2029"])
def test_line_breaks_become_newline(newline: str) -> None:
    assert sanitize(f"a{newline}b") == "a\nb"


def test_tab_becomes_spaces_to_the_next_multiple_of_four() -> None:
    assert sanitize("\tx") == "    x"
    assert sanitize("ab\tx") == "ab  x"
    assert sanitize("a\nabcd\tx") == "a\nabcd    x"


def test_single_line_collapses_newline_runs() -> None:
    assert sanitize("  Alice \n\n\r\n  Smith\n", single_line=True) == "Alice Smith"


def test_max_chars_appends_ellipsis() -> None:
    assert sanitize("abcdef", max_chars=4) == "abc…"
    assert sanitize("abc", max_chars=3) == "abc"
    with pytest.raises(ValueError):
        sanitize("abc", max_chars=0)


def test_max_chars_does_not_leave_half_an_emoji_sequence() -> None:
    out = sanitize("ab👩\u200d💻", max_chars=4)
    assert out == "ab👩…"


# Unicode: BiDi, invisible characters, emoji


def test_rtl_override_is_stripped_and_flagged() -> None:
    raw = "invoice_\u202egpj.exe"
    assert sanitize(raw) == "invoice_gpj.exe"
    assert hidden_characters(raw)


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_every_bidi_control_is_stripped(char: str) -> None:
    assert sanitize(f"a{char}b") == "ab"
    assert hidden_characters(f"a{char}b")


@pytest.mark.parametrize(
    "char", ["\u200b", "\u200c", "\u2060", "\u2061", "\u2064", "\ufeff", "\u00ad", "\u180e"]
)
def test_zero_width_and_invisible_formatting_is_stripped(char: str) -> None:
    assert sanitize(f"pay{char}pal") == "paypal"
    assert hidden_characters(f"pay{char}pal")


def test_ascii_smuggled_in_tag_characters_is_stripped_and_flagged() -> None:
    raw = f"nice post{TAGS_HELLO}"
    assert sanitize(raw) == "nice post"
    assert hidden_characters(raw)
    assert sanitize(f"🏴{TAGS_HELLO}\U000e007f") == "🏴"


@pytest.mark.parametrize(
    "emoji",
    [
        "👩\u200d💻",
        "👨\u200d👩\u200d👧\u200d👦",
        "🏳\ufe0f\u200d🌈",
        "❤\ufe0f\u200d🔥",
        "👩🏽\u200d💻",
        "🧑\u200d🤝\u200d🧑",
        "🇫🇷",
        "🇺🇦",
        SCOTLAND,
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "#\ufe0f\u20e3",
        "☺\ufe0e",
    ],
)
def test_emoji_sequences_are_preserved(emoji: str) -> None:
    assert sanitize(f"hi {emoji}!") == f"hi {emoji}!"
    assert not hidden_characters(f"hi {emoji}!")


def test_zwj_and_variation_selectors_outside_emoji_are_stripped() -> None:
    assert sanitize("pay\u200dpal") == "paypal"
    assert hidden_characters("pay\u200dpal")
    assert sanitize("\ufe0fa\ufe0f\ufe0f\ufe0f") == "a\ufe0f"
    assert sanitize("👩\u200d\u200d💻") == "👩💻"


def test_combining_flood_is_capped_at_four_per_character() -> None:
    zalgo = "Z" + "\u0336\u0301\u0308" * 100 + "a" + "\u0301" * 3
    assert sanitize(zalgo) == "Z\u0336\u0301\u0308\u0336a\u0301\u0301\u0301"
    assert sanitize("x" + "\U0001d167" * 50) == "x" + "\U0001d167" * 4


# Marks of every kind (Mn above and through, Me enclosing, an astral Mn, CGJ) and what could
# stand between them and be removed later: escapes, zero-width and tag characters, a VS, a ZWJ.
MARKS = ["\u0301", "\u0336", "\u20dd", "\U0001d167", "\u034f", "\u0489"]
BETWEEN_MARKS = [ESC + "[31m", ESC + "]0;t" + BEL, "\u200b", "\u2060", "\U000e0041", "\ufe0f", "\u200d",
                 "\u202e", BEL, "\x9b2J"]  # fmt: skip
BASES = ["a", "é", "👩", " ", "\n"]
zalgo_text = st.lists(st.sampled_from(MARKS + BETWEEN_MARKS + BASES), max_size=80).map("".join)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me") and not 0xFE00 <= ord(char) <= 0xFE0F


@given(zalgo_text, st.booleans(), st.none() | st.integers(min_value=1, max_value=40))
@example("a" + "\u0301" * 4 + "\u200b" + "\u0301" * 4, False, None)
@example("a" + "\u0301" * 4 + ESC + "[31m" + "\u0301" * 4 + "\ufe0f\u0301", False, None)
def test_no_character_carries_more_than_four_combining_marks(
    text: str, single_line: bool, max_chars: int | None
) -> None:
    """The cap is per grapheme (a base character and the marks after it), and holds after the
    escapes or invisible characters that separated two runs of marks are removed."""
    run = 0
    for char in sanitize(text, single_line=single_line, max_chars=max_chars):
        run = run + 1 if _is_mark(char) else 0
        assert run <= 4, repr(text)


@given(any_text, st.booleans(), st.none() | st.integers(min_value=1, max_value=40))
def test_sanitize_and_flag_is_sanitize_and_hidden_characters(
    text: str, single_line: bool, max_chars: int | None
) -> None:
    assert sanitize_and_flag(text, single_line=single_line, max_chars=max_chars) == (
        sanitize(text, single_line=single_line, max_chars=max_chars),
        hidden_characters(text),
    )


def test_variation_selectors_cannot_split_a_combining_flood() -> None:
    assert sanitize("a" + "\u0301\ufe0f" * 50) == "a\u0301\u0301\u0301\u0301"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert sanitize("a\ud83db\udc00") == "a\ufffdb\ufffd"


def test_private_use_and_ordinary_scripts_are_kept() -> None:
    text = "\ue000 Ελληνικά עברית العربية 日本語 हिन्दी"
    assert sanitize(text) == text


# Speed


def _fastest(text: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sanitize(text)
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(("Hello world, nice post! " * 50_000)[:1_000_000], id="ascii"),
        pytest.param(("Grüße aus Köln, schönes Wetter " * 40_000)[:1_000_000], id="latin"),
        pytest.param(("hi 👩\u200d💻 ça va? " * 80_000)[:1_000_000], id="emoji"),
    ],
)
def test_one_megabyte_is_fast(text: str) -> None:
    assert _fastest(text) < 0.2  # ~10-70 ms on a laptop; a margin for slow CI


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x9d" * 1_000_000, id="8-bit OSC run"),
        pytest.param(ESC * 1_000_000, id="ESC run"),
        pytest.param(ESC + "]" + "a" * 1_000_000, id="unterminated OSC"),
        pytest.param("a" + "\u0301" * 1_000_000, id="combining flood"),
        pytest.param("\u200d" * 1_000_000, id="ZWJ run"),
        pytest.param("\ufe0f" * 1_000_000, id="VS run"),
    ],
)
def test_one_megabyte_of_hostile_input_stays_linear(text: str) -> None:
    assert _fastest(text, runs=1) < 1.5  # quadratic behaviour would take minutes


# Links


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/path?q=1#frag",
        "https://mastodon.social/@alice/111",
        "https://de.wikipedia.org/wiki/Straße",
        "mailto:support@example.com",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_safe_url_accepts_web_and_mail_links(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:x",
        "/relative/path",
        "//example.com/x",
        "https://",
        "http:example.com",
        "https://example.com/a b",
        "https://example.com/\x07\x1b[2J",
        "https://example.com/\x1b]8;;x",
        "https://exa\u202emple.com",
        "https://pay\u200bpal.com",
        "https://example.com/\u2028",
        "https://example.com/\x9b",
        "https://paypal.com@evil.example/",
        "https://paypal.com\\@evil.example/",
        "http://[::1",
        "mailto:",
        "",
        "https://example.com/" + "a" * 3000,
    ],
)
def test_safe_url_rejects(url: str) -> None:
    assert safe_url(url) is None


def test_safe_url_length_cap_is_configurable() -> None:
    assert safe_url("https://example.com/abc", max_len=10) is None


@given(st.text())
def test_safe_url_never_raises_and_returns_its_input_or_none(url: str) -> None:
    assert safe_url(url) in (url, None)


# hidden_characters and sanitize agree


STRIPPED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2069\ufeff\u00ad]"
)


@given(any_text)
def test_every_stripped_character_is_flagged(text: str) -> None:
    if STRIPPED.search(text):
        assert hidden_characters(text)
