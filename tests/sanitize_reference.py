"""ecoinbox/sanitize.py as it was before its patterns were compiled at first use (0efe594), kept as
the oracle of tests/test_sanitize_lazy.py: the two must agree on every string. Not for use."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from ecoinbox.unicode_marks import combining_marks

__all__ = ["hidden_characters", "safe_url", "sanitize", "sanitize_and_flag"]

_SURROGATE = re.compile("[\ud800-\udfff]")

_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b (?:
        \] [^\x07\x1b\x9c\x18\x1a]* (?:\x07|\x1b\\|\x9c)?   # OSC: title, OSC 8 link, OSC 52
      | [PX^_] [^\x1b\x9c\x18\x1a]* (?:\x1b\\|\x9c)?        # DCS, SOS, PM, APC
      | \[ [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?            # CSI, SGR included
      | [\x20-\x2f]+ [\x30-\x7e]?                            # nF: charset switch, DECALN
      | [\x30-\x7e]?                                          # two-character, or a lone ESC
    )
    """,
    re.VERBOSE,
)
_C1_INTRODUCER = re.compile("[\x90\x98\x9b\x9d-\x9f]")
# 8-bit string sequences go whole only when terminated: a bare C1 is often mojibake (U+201D
# read as Latin-1 ends in U+009D) and must not swallow the rest of a post.
_ESCAPE_SEQUENCE_8BIT = re.compile(
    r"""
      \x9d [^\x07\x1b\x18\x1a\n\x80-\x9f]* (?:\x07|\x9c)           # OSC
    | [\x90\x98\x9e\x9f] [^\x1b\x18\x1a\n\x80-\x9f]* \x9c          # DCS, SOS, PM, APC
    | \x9b [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?                  # CSI
    """,
    re.VERBOSE,
)

_LINE_BREAK = re.compile("[\r\x85\u2028\u2029]")  # after CR LF became LF

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u2060-\u2065\u206a-\u206f\ufeff\ufff9-\ufffb"
_STRIP_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]+")
_STRIP = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f{_BIDI}{_INVISIBLE}]+")
# Egyptian hieroglyph, shorthand and musical format controls. Kept apart from _STRIP because re
# matches a class of BMP characters with a bitmap, and one holding astral ranges by a scan.
_STRIP_ASTRAL = re.compile("[\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

_TAG_CHARACTER = "\U000e0000-\U000e007f"
_SUBDIVISION_FLAG = (
    "\U0001f3f4\U000e0067\U000e0062"  # black flag + "gb"
    "(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)"
    "\U000e007f"  # "eng" | "sct" | "wls", then CANCEL TAG
)
_ANY_TAG = re.compile(f"[{_TAG_CHARACTER}]")
_TAG = re.compile(f"({_SUBDIVISION_FLAG})|[{_TAG_CHARACTER}]+")

_VARIATION_SELECTOR = "\ufe00-\ufe0f\U000e0100-\U000e01ef"


# Astral marks apart again (see _STRIP_ASTRAL); the look-ahead is one range test that lets
# emoji and CJK skip the slow scan.
_COMBINING_BMP = combining_marks(0x300, 0x10000)
_COMBINING_ASTRAL = combining_marks(0x10000, 0x20000)
_ASTRAL_GUARD = f"(?=[{_COMBINING_ASTRAL[0]}-{_COMBINING_ASTRAL[-1]}])"
_COMBINING = f"(?:[{_COMBINING_BMP}]|{_ASTRAL_GUARD}[{_COMBINING_ASTRAL}])"
_ASTRAL_COMBINING = re.compile(f"{_ASTRAL_GUARD}[{_COMBINING_ASTRAL}]")
_COMBINING_FLOOD = re.compile(f"({_COMBINING}{{4}}){_COMBINING}+")
_COMBINING_FLOOD_BMP = re.compile(f"([{_COMBINING_BMP}]{{4}})[{_COMBINING_BMP}]+")

# A variation selector only means something right after a visible base character.
_STRAY_VARIATION_SELECTOR = re.compile(
    f"[{_VARIATION_SELECTOR}]"
    f"(?<![^\\s\u200d{_VARIATION_SELECTOR}{_COMBINING_BMP}{_COMBINING_ASTRAL}][{_VARIATION_SELECTOR}])"
)

_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2190-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf"
    "\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
# A ZWJ only means something between two emoji (a skin tone or VS16 may follow the first).
_STRAY_ZWJ = re.compile(f"\u200d(?:(?<![{_EMOJI}]\u200d)(?<![{_EMOJI}]\ufe0f\u200d)|(?![{_EMOJI}]))")

_NEWLINE_RUN = re.compile("(?<! ) *\n[ \n]*")  # from a run's first space only: linear time

_URL_FORBIDDEN = re.compile("[\x00-\x20\x7f]")
_URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitize(text: str, *, single_line: bool = False, max_chars: int | None = None) -> str:
    """Make untrusted text safe to show on a terminal; see the module docstring for the rules.

    `single_line` is for list rows and names: newlines become spaces. `max_chars` caps the
    length in code points, the last one being "…" when the text was cut.
    """
    return _clean(text, single_line=single_line, max_chars=max_chars)[0]


def sanitize_and_flag(
    text: str, *, single_line: bool = False, max_chars: int | None = None
) -> tuple[str, bool]:
    """`sanitize(text)` and `hidden_characters(text)` in one pass, for the decoders that must
    both clean a post and remember that it held something hidden (the flag is about the whole
    text, not only the part `max_chars` keeps)."""
    return _clean(text, single_line=single_line, max_chars=max_chars)


def hidden_characters(text: str) -> bool:
    """True when `text` held something `sanitize` strips: escape sequences, controls, BiDi
    controls, zero-width or tag characters. The UI flags such messages."""
    return _clean(text, single_line=False, max_chars=None)[1]


def safe_url(url: str, *, max_len: int = 2048) -> str | None:
    """`url` unchanged if it may become a clickable link, else None.

    Accepted: http and https URLs with a host and no user info (`https://bank.com@evil`), and
    mailto URLs; no controls, whitespace, BiDi or invisible characters, no backslash (browsers
    read it as "/", Python does not), at most `max_len` characters.
    """
    if not isinstance(url, str) or not url or len(url) > max_len or "\\" in url:
        return None
    if not url.isascii() and any(unicodedata.category(c)[0] in "CZ" for c in url):
        return None
    if _URL_FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        return None
    if scheme == "mailto":
        return url if parts.path else None
    if not hostname or "@" in parts.netloc:
        return None
    return url


def _clean(text: str, *, single_line: bool, max_chars: int | None) -> tuple[str, bool]:
    """The sanitized text, and whether anything hidden was stripped from it."""
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    plain_ascii = text.isascii()  # most text: skip the Unicode-only steps
    if not plain_ascii:
        text = _SURROGATE.sub("\ufffd", text)
    text, hidden = _ESCAPE_SEQUENCE.subn("", text)
    if not plain_ascii and _C1_INTRODUCER.search(text):
        text, count = _ESCAPE_SEQUENCE_8BIT.subn("", text)
        hidden += count
    text = text.replace("\r\n", "\n")
    text = text.replace("\r", "\n") if plain_ascii else _LINE_BREAK.sub("\n", text)
    text, count = (_STRIP_ASCII if plain_ascii else _STRIP).subn("", text)
    hidden += count
    astral = not plain_ascii and _ASTRAL.search(text) is not None
    if astral:
        text, count = _STRIP_ASTRAL.subn("", text)
        hidden += count
    text, out_of_context = _strip_out_of_context(text)
    if "\t" in text:
        text = text.expandtabs(4)
    if single_line:
        text = _NEWLINE_RUN.sub(" ", text).strip()
    if not text.isascii():
        flood = _COMBINING_FLOOD if astral and _ASTRAL_COMBINING.search(text) else _COMBINING_FLOOD_BMP
        text = flood.sub(r"\1", text)
    if max_chars is not None and len(text) > max_chars:
        # Re-check the context rules: the cut may split an emoji or flag sequence.
        text = _strip_out_of_context(text[: max_chars - 1])[0].rstrip() + "…"
    return text, bool(hidden or out_of_context)


def _strip_out_of_context(text: str) -> tuple[str, bool]:
    """Drop tag characters, variation selectors and ZWJs that are not part of an emoji."""
    if text.isascii():
        return text, False
    length = len(text)
    if _ANY_TAG.search(text):
        text = _TAG.sub(r"\1", text)
    text = _STRAY_VARIATION_SELECTOR.sub("", text)
    text = _STRAY_ZWJ.sub("", text)
    return text, len(text) != length
