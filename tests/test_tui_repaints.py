"""What reaches the terminal when focus moves between the list and the thread (issue 16, goal 4).

The real inbox in a pty of 120x40 (the list and the thread side by side): enter gives the keys to
the thread and esc gives them back. On screen only the list's cursor row changes (drawn dimmed
while the thread has the keys), so only that row may be sent again: Textual's default repaints
the whole screen on a focus change (~46 KB here, 0.4 s over SSH at 1 Mbit/s). `/` opens the
search line over the bottom rows without moving the panes (66 KB when it pushed them up). A
cursor move sends its two rows in under 1 KB (1.3 KB with an escape sequence per column).
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
LIST_COLUMNS = 72  # the list's share of the width at 120 columns (app.tcss: 61%, its border)
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


def list_bytes(answer: bytes) -> int:
    """Bytes written from the list's columns (each cursor move to a cell of it, up to the next one)."""
    marks = list(CURSOR_TO.finditer(answer))
    return sum(
        (len(answer) if following is None else following.start()) - mark.start()
        for mark, following in zip(marks, [*marks[1:], None], strict=False)
        if int(mark.group(2)) <= LIST_COLUMNS
    )


def list_rows_written(answer: bytes) -> set[int]:
    """The screen rows of the list (below the tabs, above the status line) written from its left edge."""
    return {
        int(row)
        for row, column in CURSOR_TO.findall(answer)
        if 2 <= int(row) <= ROWS - 3 and int(column) <= LIST_COLUMNS
    }


async def test_enter_esc_and_slash_send_only_what_changes(tmp_path: Path) -> None:
    await fill_store(tmp_path / "inbox.db", conversations=60)
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\nhandles = ["acme@social.example"]\n'
                      f'[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8")  # fmt: skip
    terminal = Terminal(inbox_argv(config), inbox_env(), columns=COLUMNS, rows=ROWS)
    try:
        terminal.wait_for(b"message 59", what="the newest conversation in the list")
        quiet_answer(terminal, 0)
        for keys, what in (("\r", "enter (the thread takes the keys)"), ("\x1b", "esc (back to the list)")):
            answer = quiet_answer(terminal, terminal.send(keys))
            assert len(list_rows_written(answer)) <= 1, f"{what} repainted the list: {answer[:300]!r}"
            assert len(answer) < 2048, f"{what} wrote {len(answer)} bytes: {answer[:300]!r}"
        # j inside the page: two rows of the list, one escape sequence per run of a style.
        answer = quiet_answer(terminal, terminal.send("j"))
        assert list_rows_written(answer) == {2, 3}, answer[:300]
        assert list_bytes(answer) < 1024, f"j sent {list_bytes(answer)} bytes to the list: {answer[:600]!r}"
        # `/`: the search line opens over the bottom rows; nothing of the panes moves.
        answer = quiet_answer(terminal, terminal.send("/"))
        assert len(list_rows_written(answer)) <= 1, f"/ repainted the list: {answer[:300]!r}"
        assert len(answer) < 4096, f"/ wrote {len(answer)} bytes: {answer[:300]!r}"
        quiet_answer(terminal, terminal.send("\x1b"))
        answer = quiet_answer(terminal, terminal.send("q"))
        assert terminal.wait_exit() == 0, terminal.tail()
    finally:
        terminal.kill()
