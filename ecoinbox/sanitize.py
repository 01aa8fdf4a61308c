"""The one sanitizer every untrusted string passes through before it reaches a terminal.

Untrusted means anything a platform sent: posts, display names, handles, titles, URLs. Neither
Rich nor Textual strips escape sequences, BiDi controls or invisible characters, so this module
does, and it must run after every decoding step (HTML entities, RFC 2047, JSON escapes).

What `sanitize` does, in order:

1. lone surrogates (from bad JSON) become U+FFFD;
2. whole escape sequences go: CSI (SGR included), OSC (title, OSC 8 link, OSC 52 clipboard)
   ended by BEL or ST, DCS, SOS, PM, APC, two-character ESC sequences, and their 8-bit forms;
3. CR LF, CR, NEL, LS and PS become LF;
4. other C0 controls, DEL, C1 controls, BiDi controls and invisible format characters go;
5. tag characters go unless they spell one of the RGI subdivision flags (England, Scotland,
   Wales); variation selectors stay only right after a visible character; ZWJ stays only between
   two emoji (so 👩‍💻 keeps its shape);
6. a tab becomes one to four spaces, up to the next multiple-of-4 column (`str.expandtabs(4)`);
7. with `single_line`, each run of newlines becomes one space and the ends are stripped;
8. more than 4 combining marks in a row are cut to 4 (a Zalgo flood can hang terminals);
9. with `max_chars`, the text is cut to at most that many characters, ending in "…".

The result is idempotent: `sanitize(sanitize(x)) == sanitize(x)`. Private-use and unassigned
code points are left alone: they are not controls, at worst they show as a box.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ecoinbox.unicode_marks import combining_marks

__all__ = ["hidden_characters", "safe_url", "sanitize", "sanitize_and_flag"]


# Patterns are compiled at their first use, and only for text that may hold what they match
# (an escape sequence needs an ESC; a flood of marks, five code points from U+0300 up): compiling
# them all cost 5-11 ms of every `ecoinbox list`, mostly for marks that plain text never holds.
@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


_SURROGATE = "[\ud800-\udfff]"

_ESCAPE_SEQUENCE = r"""(?x)
    \x1b (?:
        \] [^\x07\x1b\x9c\x18\x1a]* (?:\x07|\x1b\\|\x9c)?   # OSC: title, OSC 8 link, OSC 52
      | [PX^_] [^\x1b\x9c\x18\x1a]* (?:\x1b\\|\x9c)?        # DCS, SOS, PM, APC
      | \[ [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?            # CSI, SGR included
      | [\x20-\x2f]+ [\x30-\x7e]?                            # nF: charset switch, DECALN
      | [\x30-\x7e]?                                          # two-character, or a lone ESC
    )
    """
_C1_INTRODUCER = "[\x90\x98\x9b\x9d-\x9f]"
# 8-bit string sequences go whole only when terminated: a bare C1 is often mojibake (U+201D
# read as Latin-1 ends in U+009D) and must not swallow the rest of a post.
_ESCAPE_SEQUENCE_8BIT = r"""(?x)
      \x9d [^\x07\x1b\x18\x1a\n\x80-\x9f]* (?:\x07|\x9c)           # OSC
    | [\x90\x98\x9e\x9f] [^\x1b\x18\x1a\n\x80-\x9f]* \x9c          # DCS, SOS, PM, APC
    | \x9b [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?                  # CSI
    """

_LINE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")  # after CR LF became LF
_LINE_BREAK = "[\r\x85\u2028\u2029]"

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u2060-\u2065\u206a-\u206f\ufeff\ufff9-\ufffb"
_STRIP_ASCII = "[\x00-\x08\x0b-\x1f\x7f]+"
_STRIP = f"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f{_BIDI}{_INVISIBLE}]+"
# Egyptian hieroglyph, shorthand and musical format controls. Kept apart from _STRIP because re
# matches a class of BMP characters with a bitmap, and one holding astral ranges by a scan.
_STRIP_ASTRAL = "[\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a]+"
_ASTRAL = "[\U00010000-\U0010ffff]"

_TAG_CHARACTER = "\U000e0000-\U000e007f"
_SUBDIVISION_FLAG = (
    "\U0001f3f4\U000e0067\U000e0062"  # black flag + "gb"
    "(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)"
    "\U000e007f"  # "eng" | "sct" | "wls", then CANCEL TAG
)
_ANY_TAG = f"[{_TAG_CHARACTER}]"
_TAG = f"({_SUBDIVISION_FLAG})|[{_TAG_CHARACTER}]+"

_VARIATION_SELECTOR = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_ANY_VARIATION_SELECTOR = f"[{_VARIATION_SELECTOR}]"

# Five code points that may be combining marks (`combining_marks` looks from U+0300 up): the
# cheap test before the marks' own patterns, costly to compile. Negated, as a class of the range
# up took re 2-14 ms to compile.
_MAYBE_MARK_RUN = "[^\x00-\u02ff]{5}"


@functools.cache
def _marks() -> tuple[str, str, str, str]:
    """The combining marks of the BMP and of the astral planes as class bodies, the astral
    look-ahead, and any one mark."""
    bmp = combining_marks(0x300, 0x10000)
    astral = combining_marks(0x10000, 0x20000)
    # Astral marks apart again (see _STRIP_ASTRAL); the look-ahead is one range test that lets
    # emoji and CJK skip the slow scan.
    guard = f"(?=[{astral[0]}-{astral[-1]}])"
    return bmp, astral, guard, f"(?:[{bmp}]|{guard}[{astral}])"


def _astral_combining() -> re.Pattern[str]:
    _, astral, guard, _ = _marks()
    return _pattern(f"{guard}[{astral}]")


def _combining_flood(astral: bool) -> re.Pattern[str]:
    bmp, _, _, mark = _marks()
    return _pattern(f"({mark}{{4}}){mark}+" if astral else f"([{bmp}]{{4}})[{bmp}]+")


def _stray_variation_selector() -> re.Pattern[str]:
    """A variation selector only means something right after a visible base character."""
    bmp, astral, _, _ = _marks()
    return _pattern(
        f"[{_VARIATION_SELECTOR}](?<![^\\s\u200d{_VARIATION_SELECTOR}{bmp}{astral}][{_VARIATION_SELECTOR}])"
    )


_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2190-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf"
    "\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
# A ZWJ only means something between two emoji (a skin tone or VS16 may follow the first).
_STRAY_ZWJ = f"\u200d(?:(?<![{_EMOJI}]\u200d)(?<![{_EMOJI}]\ufe0f\u200d)|(?![{_EMOJI}]))"

_NEWLINE_RUN = "(?<! ) *\n[ \n]*"  # from a run's first space only: linear time

_URL_FORBIDDEN = "[\x00-\x20\x7f]"
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
    if _pattern(_URL_FORBIDDEN).search(url):
        return None
    from urllib.parse import urlsplit  # 2-4 ms at import: only for a link

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
    if not plain_ascii and not _encodable(text):
        text = _pattern(_SURROGATE).sub("\ufffd", text)
    hidden = 0
    if "\x1b" in text:
        text, hidden = _pattern(_ESCAPE_SEQUENCE).subn("", text)
    if not plain_ascii and _pattern(_C1_INTRODUCER).search(text):
        text, count = _pattern(_ESCAPE_SEQUENCE_8BIT).subn("", text)
        hidden += count
    text = text.replace("\r\n", "\n")
    if plain_ascii:
        text = text.replace("\r", "\n")
    elif any(brk in text for brk in _LINE_BREAKS):
        text = _pattern(_LINE_BREAK).sub("\n", text)
    text, count = _pattern(_STRIP_ASCII if plain_ascii else _STRIP).subn("", text)
    hidden += count
    astral = not plain_ascii and _pattern(_ASTRAL).search(text) is not None
    if astral:
        text, count = _pattern(_STRIP_ASTRAL).subn("", text)
        hidden += count
    text, out_of_context = _strip_out_of_context(text)
    if "\t" in text:
        text = text.expandtabs(4)
    if single_line:
        text = _pattern(_NEWLINE_RUN).sub(" ", text).strip()
    if not text.isascii() and _pattern(_MAYBE_MARK_RUN).search(text):
        text = _combining_flood(astral and _astral_combining().search(text) is not None).sub(r"\1", text)
    if max_chars is not None and len(text) > max_chars:
        # Re-check the context rules: the cut may split an emoji or flag sequence.
        text = _strip_out_of_context(text[: max_chars - 1])[0].rstrip() + "…"
    return text, bool(hidden or out_of_context)


def _strip_out_of_context(text: str) -> tuple[str, bool]:
    """Drop tag characters, variation selectors and ZWJs that are not part of an emoji."""
    if text.isascii():
        return text, False
    length = len(text)
    if _pattern(_ANY_TAG).search(text):
        text = _pattern(_TAG).sub(r"\1", text)
    if _stray_variation_selector_in(text):
        text = _stray_variation_selector().sub("", text)
    if "\u200d" in text:
        text = _pattern(_STRAY_ZWJ).sub("", text)
    return text, len(text) != length


def _stray_variation_selector_in(text: str) -> bool:
    """Whether `text` may hold a variation selector that `_stray_variation_selector` drops: one first,
    or after a space, a ZWJ, a selector or a mark (all of category Mn or Me). An emoji's VS16 is
    not, and this spares its pattern (every combining mark: 2-3 ms to build and compile)."""
    for found in _pattern(_ANY_VARIATION_SELECTOR).finditer(text):
        before = text[found.start() - 1] if found.start() else " "
        if before.isspace() or before == "\u200d" or unicodedata.category(before) in ("Mn", "Me"):
            return True
    return False


def _encodable(text: str) -> bool:
    """False when `text` holds a lone surrogate: the only code points UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
