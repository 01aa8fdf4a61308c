"""What a `j` costs on the wire (issue 16, goal 3): the real inbox in a pty of 120x40, the list and
the thread side by side, a key written once the terminal is quiet.

A move rewrites the list's two rows, the position in the status line and the part of the thread
pane that changes, all in one frame: the thread beside came a frame later (~30 ms on an idle
machine, the screen's update pacing plus a layout pass the status line asked for), and the status
line sent all its 120 cells for a position that changed by a digit. Bytes are deterministic;
times are not and live in bench/keys.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from damage import fill_store
from pty_terminal import Terminal, inbox_argv, inbox_env

pytestmark = pytest.mark.slow

COLUMNS, ROWS = 120, 40
THREAD_COLUMN = 74  # the thread pane starts right of this column at 120 columns (app.tcss: 61%)
STATUS_ROW = ROWS - 1
CURSOR_TO = re.compile(rb"\x1b\[(\d+);(\d+)H")


def quiet_answer(terminal: Terminal, mark: int, *, quiet_s: float = 0.5, timeout: float = 15.0) -> bytes:
    """Everything written after `mark` once the terminal has been quiet for `quiet_s`."""
    deadline = time.monotonic() + timeout
    seen, since = len(terminal.snapshot()), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = len(terminal.snapshot())
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return terminal.snapshot()[mark:]


def pieces(answer: bytes) -> list[tuple[int, int, int]]:
    """(row, column, bytes) for each cursor move of the answer, up to the next one."""
    marks = list(CURSOR_TO.finditer(answer))
    ends = [following.start() for following in marks[1:]] + [len(answer)]
    return [(int(m.group(1)), int(m.group(2)), end - m.start()) for m, end in zip(marks, ends, strict=True)]


def frames(answer: bytes) -> int:
    """How many frames the answer holds: Textual ends each one by moving the cursor to where it
    rests, with nothing written after that move."""
    marks = list(CURSOR_TO.finditer(answer))
    ends = [following.start() for following in marks[1:]] + [len(answer)]
    return sum(1 for mark, end in zip(marks, ends, strict=True) if mark.end() == end)


def bytes_at(answer: bytes, *, rows: range, columns: range) -> int:
    return sum(size for row, column, size in pieces(answer) if row in rows and column in columns)


def list_rows(answer: bytes) -> set[int]:
    return {row for row, column, size in pieces(answer) if 2 <= row < STATUS_ROW and column < THREAD_COLUMN}


def start(tmp_path: Path) -> Terminal:
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\nhandles = ["acme@social.example"]\n'
                      f'[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8")  # fmt: skip
    terminal = Terminal(inbox_argv(config), inbox_env(), columns=COLUMNS, rows=ROWS)
    terminal.wait_for(b"message 59", what="the newest conversation in the list")
    quiet_answer(terminal, 0, quiet_s=1.0)  # the first thread, then the threads beside it read ahead
    return terminal


async def test_a_move_sends_rows_position_and_thread_in_one_frame(tmp_path: Path) -> None:
    await fill_store(tmp_path / "inbox.db", conversations=60)
    terminal = start(tmp_path)
    try:
        for key, rows in (("j", {2, 3}), ("j", {3, 4}), ("k", {3, 4})):
            answer = quiet_answer(terminal, terminal.send(key))
            assert frames(answer) == 1, f"{key} came in {frames(answer)} frames: {answer[:400]!r}"
            assert list_rows(answer) == rows, f"{key} rewrote the list's rows {sorted(list_rows(answer))}"
            # The position changed by a digit: the status line up to it, not its 120 cells.
            status = bytes_at(answer, rows=range(STATUS_ROW, STATUS_ROW + 1), columns=range(1, COLUMNS + 1))
            assert 0 < status <= 64, f"{key} sent {status} bytes to the status line"
            # Everything but the thread pane: the two rows, the position, the cursor put back, each
            # style change said once (406 B when each run of a style came whole with a reset).
            besides = bytes_at(answer, rows=range(1, ROWS + 1), columns=range(1, THREAD_COLUMN))
            assert besides <= 380, f"{key} sent {besides} bytes outside the thread: {answer[:600]!r}"
            thread = bytes_at(answer, rows=range(2, STATUS_ROW), columns=range(THREAD_COLUMN, COLUMNS + 1))
            assert thread > 0, "the thread beside did not follow the cursor"
        quiet_answer(terminal, terminal.send("q"))
        assert terminal.wait_exit() == 0, terminal.tail()
    finally:
        terminal.kill()


async def test_a_tab_switch_sends_the_rows_and_tabs_that_change(tmp_path: Path) -> None:
    """Tab from the Inbox to Pending (empty) and back. The tab bar up to the last tab that changed
    (530 B when all 120 cells went), and the list's lines without a whole repaint of the widget
    (its new length asked for a layout and repainted every line with its border: 7.0 and 11.9 KB),
    each style change said once and long blanks erased (5.3 and 10.2 KB, the tab bar 172 B, when
    each run of a style came whole with a reset)."""
    await fill_store(tmp_path / "inbox.db", conversations=60)
    terminal = start(tmp_path)
    try:
        for key, ceiling in (("\t", 2048), ("\x1b[Z", 8500)):
            answer = quiet_answer(terminal, terminal.send(key))
            tabs = bytes_at(answer, rows=range(1, 2), columns=range(1, COLUMNS + 1))
            assert 0 < tabs <= 140, f"{key!r} sent {tabs} bytes to the tab bar"
            assert len(answer) <= ceiling, f"{key!r} sent {len(answer)} bytes: {answer[:600]!r}"
        quiet_answer(terminal, terminal.send("q"))
        assert terminal.wait_exit() == 0, terminal.tail()
    finally:
        terminal.kill()
