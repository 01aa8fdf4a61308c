"""What the inbox writes to the terminal, each style change said once (issue 16, goals 3 and 4).

Textual writes each run of one style whole and ends it with a reset; `StyleWriter` says only what
differs from the style the terminal already has. These tests render lines the way Textual does
(`Strip.render`, a newline and a cursor move between lines), replay both streams in a terminal
emulator (pyte) and compare every cell: character, colours and attributes.
"""

from __future__ import annotations

from typing import Any

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.drivers.headless_driver import HeadlessDriver
from textual.strip import Strip

from ecoinbox.tui.terminal_output import DEFAULT, Pen, StyleWriter, apply_sgr, compact_driver, transition

COLUMNS, ROWS = 40, 8


class Screen(pyte.Screen):  # type: ignore[misc]
    """pyte's screen, with dim (which pyte does not keep) kept in its `blink` field (unused here)."""

    def select_graphic_rendition(self, *attrs: int, **kwargs: Any) -> None:
        mapped, rest = [], list(attrs)
        while rest:
            attr = rest.pop(0)
            if attr in (38, 48):  # a colour's numbers are not attributes
                size = 2 if rest[:1] == [5] else 4
                mapped += [attr, *rest[:size]]
                del rest[:size]
            else:
                mapped += {2: [5], 22: [22, 25]}.get(attr, [attr])
        super().select_graphic_rendition(*mapped, **kwargs)


def cells(*writes: str) -> tuple[list[list[tuple[object, ...]]], tuple[int, int]]:
    screen = Screen(COLUMNS, ROWS)
    stream = pyte.Stream(screen)
    for data in writes:
        stream.feed(data)
    rows = [[tuple(screen.buffer[y][x]) for x in range(COLUMNS)] for y in range(ROWS)]
    return rows, (screen.cursor.x, screen.cursor.y)


colours = st.one_of(
    st.none(),
    st.integers(0, 255).map(Color.from_ansi),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
        lambda c: Color.from_rgb(*c)
    ),
)
styles = st.builds(
    Style,
    color=colours,
    bgcolor=colours,
    bold=st.sampled_from([None, True, False]),
    dim=st.sampled_from([None, True, False]),
    italic=st.sampled_from([None, True, False]),
    underline=st.sampled_from([None, True, False]),
    reverse=st.sampled_from([None, True, False]),
    strike=st.sampled_from([None, True]),
)
texts = st.one_of(st.text("ab é…", min_size=1, max_size=6), st.integers(1, 30).map(lambda n: " " * n))
segments = st.lists(st.tuples(texts, st.one_of(st.none(), styles)), max_size=6)
lines = st.lists(st.tuples(st.integers(0, ROWS - 1), st.integers(0, COLUMNS // 2), segments), max_size=5)
TRUECOLOR = Console(color_system="truecolor", force_terminal=True)
EIGHT_BIT = Console(color_system="256", force_terminal=True)


def textual_frame(lines: list[tuple[int, int, list[tuple[str, Style | None]]]], console: Console) -> str:
    """The frame as Textual's updates write it: each line's cursor move, its strip, a newline
    between lines (from the top down, one piece per row: a newline on the bottom row would scroll)."""
    parts = []
    for y, x, line in sorted({y: (y, x, line) for y, x, line in lines}.values(), key=lambda line: line[0]):
        strip = Strip([Segment(text, style) for text, style in line]).crop(0, COLUMNS - x)
        parts.append(f"\x1b[{y + 1};{x + 1}H{strip.render(console)}")
    return "\n".join(parts) + "\x1b[1;1H"  # and the cursor put where it rests, as _display does


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(lines, min_size=1, max_size=3), eight_bit=st.booleans(), erase=st.booleans())
def test_the_same_screen_in_fewer_or_as_many_bytes(frames: list[Any], eight_bit: bool, erase: bool) -> None:
    console = EIGHT_BIT if eight_bit else TRUECOLOR
    writer = StyleWriter(erase_blanks=erase)
    raw = [textual_frame(frame, console) for frame in frames]
    compact = [writer.write(data) for data in raw]
    assert cells(*compact) == cells(*raw)
    for before, after in zip(raw, compact, strict=True):
        assert len(after) <= len(before) + len("\x1b[0m")
    # Whatever is written next, unstyled, finds the terminal as Textual would have left it.
    assert cells(*compact, "plain") == cells(*raw, "plain")


def test_a_row_of_runs_says_only_what_changes() -> None:
    """A list row as Textual sends it: each run its whole style and a reset (what it cost)."""
    row = (
        "\x1b[3;1H\x1b[38;5;231;48;5;233m\u2713 \x1b[0m\x1b[38;5;67;48;5;233memail    \x1b[0m"
        "\x1b[1;38;5;253;48;5;233mManon\x1b[0m\x1b[38;5;253;48;5;233m Dear Acme\x1b[0m\n"
        "\x1b[4;1H\x1b[38;5;231;48;5;233m\u2713 \x1b[0m"
    )
    compact = StyleWriter().write(row)
    assert compact == (
        "\x1b[3;1H\x1b[38;5;231;48;5;233m\u2713 \x1b[38;5;67memail    \x1b[1;38;5;253mManon"
        "\x1b[22m Dear Acme\x1b[4;1H\x1b[38;5;231m\u2713 \x1b[0m"
    )
    assert cells(compact) == cells(row)


def test_a_frame_still_ends_with_the_cursor_move() -> None:
    """Textual ends a frame by moving the cursor where it rests: the reset goes before that move."""
    compact = StyleWriter().write("\x1b[2;1H\x1b[1;31mab\x1b[0m\x1b[1;31mc\x1b[0m\x1b[1;3H")
    assert compact == "\x1b[2;1H\x1b[1;31mabc\x1b[0m\x1b[1;3H"


def test_long_blanks_are_erased_where_the_terminal_erases_with_the_background() -> None:
    """A thread line shorter than the one before it is followed by blanks up to the pane's edge."""
    raw = "\x1b[5;3H\x1b[38;5;253;48;5;233m short" + " " * 20 + "\x1b[0m\x1b[6;3H"
    compact = StyleWriter(erase_blanks=True).write(raw)
    assert compact == "\x1b[5;3H\x1b[38;5;253;48;5;233m short\x1b[20X\x1b[0m\x1b[6;3H"
    assert cells(compact) == cells(raw)
    middle = "\x1b[1;1H\x1b[48;5;233ma" + " " * 20 + "b\x1b[0m"
    assert "\x1b[20X\x1b[20C" in StyleWriter(erase_blanks=True).write(middle)
    assert cells(StyleWriter(erase_blanks=True).write(middle)) == cells(middle)
    underlined = "\x1b[1;1H\x1b[4ma" + " " * 20 + "\x1b[0m\x1b[2;1H"  # an underline shows on blanks
    assert StyleWriter(erase_blanks=True).write(underlined) == StyleWriter().write(underlined)
    assert StyleWriter().write(raw).count(" ") > 20  # where the terminal's erase is not known


def test_an_erase_gets_the_style_the_stream_asked_for() -> None:
    """An erase fills cells with the current background: the style is given before it, as text is."""
    raw = "\x1b[1;1Hab\x1b[48;5;22m\x1b[K\x1b[0mc"
    compact = StyleWriter().write(raw)
    assert cells(compact) == cells(raw)
    assert "\x1b[48;5;22m\x1b[K" in compact


def test_an_unknown_style_passes_through_and_is_then_forgotten() -> None:
    writer = StyleWriter()
    raw = "\x1b[1;1H\x1b[38:5:1ma\x1b[1mb\x1b[0mc\x1b[31md\x1b[0m"
    compact = writer.write(raw)
    assert cells(compact) == cells(raw)
    assert writer.write("\x1b[32mx\x1b[0m") == "\x1b[32mx\x1b[0m"


def test_transitions() -> None:
    bold_red = Pen(frozenset({1}), "31", None)
    assert transition(DEFAULT, bold_red) == "\x1b[1;31m"
    assert transition(bold_red, Pen(frozenset(), "31", None)) == "\x1b[22m"
    # 22 turns off dim with bold: dim comes back in the same sequence.
    assert transition(Pen(frozenset({1, 2}), "31"), Pen(frozenset({2}), "31")) == "\x1b[22;2m"
    assert transition(Pen(frozenset({1, 2})), Pen(frozenset({2}))) == "\x1b[0;2m"  # as short, and simpler
    assert transition(bold_red, DEFAULT) == "\x1b[0m"
    assert apply_sgr(DEFAULT, "1;38;2;1;2;3;49") == Pen(frozenset({1}), "38;2;1;2;3", None)
    assert apply_sgr(DEFAULT, "38;5") is None


async def test_the_driver_writes_through_a_style_writer() -> None:
    written: list[str] = []

    class Recording(HeadlessDriver):
        def write(self, data: str) -> None:
            written.append(data)

    driver = compact_driver(Recording)(app=None, debug=False)  # type: ignore[arg-type,call-arg]
    driver.write("\x1b[31ma\x1b[0m\x1b[31mb\x1b[0m")
    assert written == ["\x1b[31mab\x1b[0m"]


def test_a_style_asked_for_at_the_end_of_one_write_holds_for_the_text_of_the_next() -> None:
    writer = StyleWriter()
    raw = ["\x1b[1;1H\x1b[31m", "x"]
    compact = [writer.write(data) for data in raw]
    assert cells(*compact) == cells(*raw)
