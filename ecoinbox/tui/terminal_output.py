"""Fewer bytes for the same screen: what Textual writes, with each style change said once.

Textual writes every run of one style as its whole style, the text, then a reset
(`\\x1b[38;5;253;48;5;233mtext\\x1b[0m`): a list row of six runs costs ~200 bytes of escapes for
~100 of text, and most of a screen change is such escapes (a search's results: 11 of 16 KB).
A terminal keeps its style until told otherwise, across cursor moves, so the writer here keeps
the style the stream asks for and, before each piece of text, says only what differs from the
style the terminal has (`\\x1b[38;5;67m` where only the colour changed). The screen drawn is the
same cell for cell (tests/test_terminal_output.py replays both streams in a terminal emulator).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from textual.driver import Driver

# An escape sequence: SGR (group 1: its parameters), another CSI, an OSC, or a two-byte escape.
_ESCAPE = re.compile(
    r"(\x1b\[([0-9;]*)m|\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[^\[\]])"
)
_MOVE_TO = re.compile(r"\x1b\[\d*(?:;\d*)?[Hf]")
# CSI finals that only move the cursor or set a mode: the style the terminal has does not matter.
_STYLE_FREE_FINALS = frozenset("ABCDEFGHdfhlnqt")

# Attributes a blank does not show: a run of blanks in them looks the same as erased cells.
_BLANK_NEUTRAL = frozenset({1, 2, 3, 5, 6})
_BLANK_RUN = re.compile(" {16,}")
_ERASE_MOVE_FROM = 15  # an erase and a move cost 10-12 bytes: worth it for longer runs only
_CACHE_LIMIT = 4096  # pens and transitions remembered (a screen uses a few dozen styles)
_OFF = {1: 22, 2: 22, 3: 23, 4: 24, 21: 24, 5: 25, 6: 25, 7: 27, 8: 28, 9: 29, 51: 54, 52: 54, 53: 55}
_CLEARS = {
    22: (1, 2),
    23: (3,),
    24: (4, 21),
    25: (5, 6),
    27: (7,),
    28: (8,),
    29: (9,),
    54: (51, 52),
    55: (53,),
}
_FOREGROUNDS = frozenset([*range(30, 38), *range(90, 98)])
_BACKGROUNDS = frozenset([*range(40, 48), *range(100, 108)])


@dataclass(frozen=True, slots=True)
class Pen:
    """A terminal's style: its attributes (SGR numbers) and colours (their SGR parameters)."""

    attributes: frozenset[int] = frozenset()
    foreground: str | None = None
    background: str | None = None

    def codes(self) -> list[str]:
        colours = [colour for colour in (self.foreground, self.background) if colour is not None]
        return [*map(str, sorted(self.attributes)), *colours]


DEFAULT = Pen()


def apply_sgr(pen: Pen, parameters: str) -> Pen | None:
    """The pen after an SGR sequence with these parameters (None: one this module does not know)."""
    numbers = [int(p) if p else 0 for p in parameters.split(";")]
    attributes, foreground, background = set(pen.attributes), pen.foreground, pen.background
    i = 0
    while i < len(numbers):
        number = numbers[i]
        if number in (38, 48):
            size = {5: 3, 2: 5}.get(numbers[i + 1] if i + 1 < len(numbers) else -1)
            if size is None or i + size > len(numbers):
                return None
            colour = ";".join(map(str, numbers[i : i + size]))
            foreground, background = (colour, background) if number == 38 else (foreground, colour)
            i += size
            continue
        if number == 0:
            attributes, foreground, background = set(), None, None
        elif number in _OFF:
            attributes.add(number)
        elif number in _CLEARS:
            attributes.difference_update(_CLEARS[number])
        elif number in _FOREGROUNDS:
            foreground = str(number)
        elif number in _BACKGROUNDS:
            background = str(number)
        elif number == 39:
            foreground = None
        elif number == 49:
            background = None
        else:
            return None
        i += 1
    return Pen(frozenset(attributes), foreground, background)


def transition(have: Pen, want: Pen) -> str:
    """The shortest SGR sequence this module knows that takes a terminal from `have` to `want`."""
    if want == DEFAULT:
        return "\x1b[0m"
    offs = sorted({_OFF[attribute] for attribute in have.attributes - want.attributes})
    cleared = {attribute for off in offs for attribute in _CLEARS[off]}
    kept = have.attributes - cleared
    relative = [*map(str, offs), *map(str, sorted(want.attributes - kept))]
    if want.foreground != have.foreground:
        relative.append(want.foreground or "39")
    if want.background != have.background:
        relative.append(want.background or "49")
    whole = ["0", *want.codes()]
    codes = relative if len(";".join(relative)) <= len(";".join(whole)) else whole
    return f"\x1b[{';'.join(codes)}m"


class StyleWriter:
    """Rewrites a stream of terminal output so that each style change says only what differs.

    The pen the stream asks for (`want`) is kept across writes; the terminal's (`have`) is put
    back to the default at the end of each write, so whatever else writes to the terminal
    between two writes finds it as it would have without this writer."""

    def __init__(self, *, erase_blanks: bool = False) -> None:
        # Whether a run of blanks may be written as an erase (ECH): only on a terminal that erases
        # with the current background (terminfo's `bce`), as xterm and its kin do.
        self._erase_blanks = erase_blanks
        self._want: Pen | None = DEFAULT  # None: after an SGR this writer does not know
        self._have: Pen | None = DEFAULT
        self._transitions: dict[tuple[Pen, Pen], str] = {}
        self._pens: dict[tuple[Pen, str], Pen | None] = {}

    def write(self, data: str) -> str:
        if "\x1b" not in data and self._want == self._have:
            return data
        if len(self._pens) + len(self._transitions) > _CACHE_LIMIT:  # colours animated, say
            self._pens.clear()
            self._transitions.clear()
        out: list[str] = []
        pieces = _ESCAPE.split(data)
        styled = 0  # where out ends its last text (or erase): the reset goes there
        # split() yields: text, escape, SGR parameters (or None), text, ...
        for index in range(0, len(pieces), 3):
            text = pieces[index]
            if text and not (text == "\n" and _next_is_move(pieces, index)):
                self._sync(out)
                if self._erase_blanks and "  " in text and self._blanks_are_background():
                    text = _blanks_erased(text, then_moves=_moves_before_text(pieces, index))
                out.append(text)
                styled = len(out)
            if index + 1 < len(pieces):
                styled = self._escape(out, pieces[index + 1], pieces[index + 2]) or styled
        if self._have is not None and self._have != DEFAULT:
            # Before the cursor's last move, as Textual ends a frame: the frame still ends with it.
            out.insert(styled, "\x1b[0m")
            self._have = DEFAULT
        return "".join(out)

    def _escape(self, out: list[str], escape: str, parameters: str | None) -> int:
        """Write `escape` as it is needed; returns where out ends if it drew in the style (else 0)."""
        if parameters is not None:
            return self._sgr(out, escape, parameters)
        if escape.startswith("\x1b[") and escape[-1] not in _STYLE_FREE_FINALS:
            self._sync(out)  # an erase or an insertion fills cells with the current style
            out.append(escape)
            return len(out)
        out.append(escape)
        return 0

    def _sgr(self, out: list[str], escape: str, parameters: str) -> int:
        want = self._want
        if want is None and not parameters.startswith(("0", ";")) and parameters:
            out.append(escape)  # still unknown: pass it on as it came
            return len(out)
        base = DEFAULT if want is None else want
        key = (base, parameters)
        if key not in self._pens:
            self._pens[key] = apply_sgr(base, parameters)
        pen = self._pens[key]
        if pen is None:
            self._sync(out)
            out.append(escape)
            self._want = self._have = None
            return len(out)
        self._want = pen
        return 0

    def _blanks_are_background(self) -> bool:
        """Whether a blank in the pen the terminal has shows only its background (as an erased
        cell does): not underlined, reversed, struck through or overlined."""
        return self._have is not None and not (self._have.attributes - _BLANK_NEUTRAL)

    def _sync(self, out: list[str]) -> None:
        """Give the terminal the pen the stream asks for, before text or an erase."""
        have, want = self._have, self._want
        if have == want or want is None:
            return
        if have is None:
            out.append(f"\x1b[{';'.join(['0', *want.codes()])}m")
        else:
            key = (have, want)
            if (sequence := self._transitions.get(key)) is None:
                sequence = self._transitions[key] = transition(have, want)
            out.append(sequence)
        self._have = want


def _erased(match: re.Match[str]) -> str:
    count = len(match.group())
    return f"\x1b[{count}X\x1b[{count}C" if count > _ERASE_MOVE_FROM else match.group()


def _blanks_erased(text: str, *, then_moves: bool) -> str:
    """`text` with its long runs of blanks erased (ECH) and skipped over (CUF) instead of written;
    a run at its end only erased when the cursor is moved next anyway."""
    body, tail = text, ""
    if then_moves:
        body = text.rstrip(" ")
        count = len(text) - len(body)
        tail = f"\x1b[{count}X" if count > len(f"\x1b[{count}X") else " " * count
    return _BLANK_RUN.sub(_erased, body) + tail


def _moves_before_text(pieces: list[str], index: int) -> bool:
    """Whether the cursor is put somewhere after text piece `index` before any more text is
    written (style changes and newlines between): where the text leaves it does not matter."""
    for at in range(index + 1, len(pieces), 3):
        if pieces[at + 1] is None:  # not a style change
            return _MOVE_TO.fullmatch(pieces[at]) is not None
        if pieces[at + 2] not in ("", "\n"):
            return False
    return False


def _next_is_move(pieces: list[str], index: int) -> bool:
    """Whether the escape after text piece `index` puts the cursor at a row and column: Textual
    writes a newline between the lines of an update and then moves to the next line anyway."""
    return index + 1 < len(pieces) and _MOVE_TO.fullmatch(pieces[index + 1]) is not None


def erases_with_background(term: str | None = None) -> bool:
    """Whether the terminal ($TERM) erases cells with the current background (terminfo's `bce`).
    Asked once per process: curses keeps the first terminal it was set up for."""
    try:
        import curses  # absent on Windows
    except ImportError:
        return False
    with open(os.devnull, "wb") as sink:  # setupterm asks an output for its size
        try:
            curses.setupterm(term or os.environ.get("TERM") or "dumb", sink.fileno())
        except curses.error:  # no terminfo entry: write the blanks
            return False
    return curses.tigetflag("bce") == 1


def compact_driver(base: type[Driver]) -> type[Driver]:
    """`base` (the platform's driver) writing through a StyleWriter."""

    class CompactStyles(base):  # type: ignore[valid-type,misc]
        def write(self, data: str) -> None:
            writer = self.__dict__.get("_style_writer")
            if writer is None:
                writer = self.__dict__["_style_writer"] = StyleWriter(erase_blanks=erases_with_background())
            super().write(writer.write(data))

    CompactStyles.__name__ = CompactStyles.__qualname__ = f"CompactStyles{base.__name__}"
    return CompactStyles
