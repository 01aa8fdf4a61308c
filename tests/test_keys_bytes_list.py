"""The conversation list never draws a frame that mixes two loads (issue 16, goal 4's bytes).

Closing a search swaps the results (their matched words marked) for the inbox. The store's read
takes a moment, during which Textual may draw a frame (the focus came back to the list: its rows are
drawn again): if the marks went before the rows, the old rows were drawn unmarked in that frame and sent again with the new rows in the next one (Esc
closing a search wrote some rows twice: 16.3 KB where 13.6 KB carry every change).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from ecoinbox.model import ConversationRow, Origin, State, View
from ecoinbox.tui.widgets.conversation_list import ConversationList
from ecoinbox.tui.widgets.conversation_source import SortKey

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Rows:
    """A source of `count` rows whose count waits for `gate` (a store that takes its time)."""

    def __init__(self, count: int, word: str) -> None:
        self.rows = [
            ConversationRow(id=i + 1, channel="mastodon", state=State.OPEN, needs_reply=False,
                            last_activity=NOW - timedelta(minutes=i), author_label=f"Person {i}",
                            author_handle=f"p{i}@example.org", snippet=f"where is my {word} {i}",
                            message_count=1, origin=Origin.MENTION)
            for i in range(count)
        ]  # fmt: skip
        self.gate = asyncio.Event()
        self.gate.set()

    async def count_conversations(self, view: View) -> int:
        await self.gate.wait()
        return len(self.rows)

    async def conversation_page(
        self, view: View, *, after: SortKey | None = None, before: SortKey | None = None, limit: int = 100
    ) -> list[ConversationRow]:
        return self.rows[:limit]

    async def conversation_page_at(self, view: View, offset: int, limit: int) -> list[ConversationRow]:
        return self.rows[offset : offset + limit]

    async def conversation_page_last(self, view: View, limit: int) -> list[ConversationRow]:
        return self.rows[-limit:]


def marks(text: str) -> list[tuple[int, int]]:
    start = text.find("invoice")
    return [] if start < 0 else [(start, start + len("invoice"))]


class ListApp(App[None]):
    def __init__(self, source: Rows) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield ConversationList(self.source, View.INBOX, now=lambda: NOW)  # type: ignore[arg-type]


async def test_a_frame_drawn_while_the_next_rows_load_shows_the_old_rows_as_they_were() -> None:
    results, inbox = Rows(30, "invoice"), Rows(30, "parcel")
    app = ListApp(results)
    async with app.run_test(size=(100, 20)) as pilot:
        conversations = app.query_one(ConversationList)
        await conversations.set_source(results, highlight=marks)  # type: ignore[arg-type]
        await pilot.pause()
        shown = [conversations.render_line(y) for y in range(10)]
        assert any("bold" in str(s.style) for line in shown for s in line if "invoice" in s.text)
        inbox.gate.clear()  # the store is slow to count the inbox
        loading = asyncio.create_task(conversations.set_source(inbox))  # type: ignore[arg-type]
        await pilot.pause()
        conversations.notify_style_update()  # the focus comes back from the search line meanwhile
        assert [conversations.render_line(y) for y in range(10)] == shown, "the old rows lost their marks"
        inbox.gate.set()
        await loading
        await pilot.pause()
        assert "parcel 0" in conversations.render_line(0).text
