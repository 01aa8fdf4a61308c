"""The combining marks sanitize strips in floods are Unicode's, whether written out or asked.

ecoinbox.unicode_marks writes out the marks of the Unicode versions Python 3.11-3.13 carry, so
that no start asks unicodedata about 130,000 code points; the version this Python carries is
checked here against unicodedata itself.
"""

from __future__ import annotations

import unicodedata

import pytest

from ecoinbox import unicode_marks
from ecoinbox.sanitize import sanitize


def asked_directly(first: int, stop: int) -> str:
    marks = [
        chr(code)
        for code in range(first, stop)
        if not 0xFE00 <= code <= 0xFE0F and unicodedata.category(chr(code)) in ("Mn", "Me")
    ]
    return "".join(marks)


def expanded(body: str) -> str:
    """A class body's characters, ranges expanded."""
    out: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


@pytest.mark.parametrize(("first", "stop"), [(0x300, 0x10000), (0x10000, 0x20000)])
def test_the_written_marks_are_unicodes(first: int, stop: int) -> None:
    assert unicodedata.unidata_version in unicode_marks.KNOWN  # this Python's version is written out
    assert expanded(unicode_marks.combining_marks(first, stop)) == asked_directly(first, stop)


def test_another_unicode_version_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unicode_marks, "KNOWN", {})
    assert expanded(unicode_marks.combining_marks(0x300, 0x10000)) == asked_directly(0x300, 0x10000)


def test_a_flood_of_marks_is_still_cut() -> None:
    assert sanitize("Z" + "\u0301\u0302\u0303\u0304" * 10) == "Z\u0301\u0302\u0303\u0304"
