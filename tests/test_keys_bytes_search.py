"""What a search and the keys that change the whole list cost on the wire (issue 16, goal 4: at
most 12 KB each at 120x40, where both panes really change).

The real inbox in a pty of 120x40 on a store where half the conversations ask about an invoice:
shift+Tab (the last view, then back), `/` with the search typed, Enter (its results: another list
and another thread, the matched words marked) and Esc (the inbox again). Most of such an answer
was escape sequences: Textual writes each run of a style whole and resets after it (16.7 KB for a
search's results where 5.4 KB is text); `ecoinbox.tui.terminal_output` says each change once.
Bytes are deterministic; times are not and live in bench/keys.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env
from test_keys_bytes import COLUMNS, ROWS, quiet_answer

from ecoinbox.model import Author, Message
from ecoinbox.store import open_store

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
WORDS = ["refund", "parcel", "login", "shipping", "password", "discount", "warranty"]


def asking(i: int) -> Message:
    """Conversation `i`: an invoice question for even `i`, something else for odd ones."""
    author = Author("mastodon", str(i), f"person{i}@remote.example", f"Person {i} Zoé")
    topic = "invoice" if i % 2 == 0 else WORDS[i % len(WORDS)]
    text = (
        f"@acme where is my {topic} number {i}? I ordered the blue one on the {i % 28 + 1}th, no answer yet"
    )
    return Message("mastodon", str(1000 + i), author, text, T0 + timedelta(minutes=i))


async def test_a_search_and_shift_tab_send_at_most_12_kb(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "inbox.db")
    try:
        await store.ingest([asking(i) for i in range(80)], cursor=("mastodon", {"since": "before"}))
    finally:
        await store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\nhandles = ["acme@social.example"]\n'
                      f'[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8")  # fmt: skip
    terminal = Terminal(inbox_argv(config), inbox_env(), columns=COLUMNS, rows=ROWS)
    try:
        terminal.wait_for(b"number 79", what="the newest conversation in the list")
        quiet_answer(terminal, 0, quiet_s=1.0)
        sizes: dict[str, int] = {}
        for name, keys in (("shift+Tab", "\x1b[Z"), ("shift+Tab back", "\t"), ("/", "/"),
                           ("typing", "invoice"), ("results", "\r"), ("Esc", "\x1b")):  # fmt: skip
            sizes[name] = len(quiet_answer(terminal, terminal.send(keys)))
        # Before each style change was said once and long blanks erased: 4.7, 8.5, 12.6-12.8 and
        # 8.6 KB (shift+Tab goes to an empty view: its blank lines are erased now).
        ceilings = {"shift+Tab": 2048, "shift+Tab back": 7000, "results": 10_000, "Esc": 7000}
        over = {name: size for name, size in sizes.items() if name in ceilings and size > ceilings[name]}
        assert not over, f"over their ceilings {ceilings}: {over} (all: {sizes})"
        assert all(sizes[name] > 512 for name in ceilings), f"the views did not change: {sizes}"
        quiet_answer(terminal, terminal.send("q"))
        assert terminal.wait_exit() == 0, terminal.tail()
    finally:
        terminal.kill()
