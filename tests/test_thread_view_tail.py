"""A long thread opens at its newest messages and draws the older ones when the reader goes up.

Wrapping every message of a 200-message thread costs more than the budget to show it, though
the reader first sees only its end. So the thread view wraps the newest messages that fill a
few screens, says how many older ones wait above, and draws them when the reader scrolls to the
top (k, up, the wheel) or jumps there (g), without the view moving.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from ecoinbox.model import (
    Author,
    Conversation,
    ConversationRow,
    Message,
    Origin,
    State,
    StoredMessage,
)
from ecoinbox.tui.widgets.thread_view import HIGHLIGHT_STYLE, TAIL_SCREENS, ThreadView

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")


def thread(count: int) -> Conversation:
    messages = [
        StoredMessage(n + 1, 1, Message("m", str(n), ZOE, f"message number {n:03d}", T0 + timedelta(minutes=n),
                                         in_reply_to=str(n - 1) if n else None))
        for n in range(count)
    ]  # fmt: skip
    row = ConversationRow(1, "m", State.OPEN, True, T0 + timedelta(minutes=count), "Zoé", ZOE.handle,
                          "message", count, Origin.MENTION)  # fmt: skip
    return Conversation(row=row, messages=messages)


class ThreadOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield ThreadView(now=lambda: T0 + timedelta(days=1), id="thread")


def shown(view: ThreadView) -> str:
    return view.content.plain


async def test_a_long_thread_opens_at_its_end_and_draws_the_rest_at_the_top():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.show(thread(200))
        view.focus()
        await pilot.pause()
        text = shown(view)
        assert "message number 199" in text and "message number 000" not in text
        assert 200 - 24 * TAIL_SCREENS // 2 < view.hidden < 200  # about 3 lines per message
        assert f"↑ {view.hidden} older messages" in text
        assert view.scroll_y == view.max_scroll_y > 0  # at the newest message

        newest_line = view.scroll_y
        await pilot.press("g")  # to the top: everything is drawn, the oldest first
        await pilot.pause()
        assert view.hidden == 0
        assert "message number 000" in shown(view) and "older messages" not in shown(view)
        assert view.scroll_y == 0
        assert view.max_scroll_y > newest_line

        view.show(thread(200), keep_scroll=True)  # the same thread again (the store changed)
        await pilot.pause()
        assert view.hidden == 0


async def test_scrolling_up_to_the_top_draws_the_older_messages_without_moving_the_view():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        long = thread(150)
        view.show(long)
        view.focus()
        await pilot.pause()
        hidden = view.hidden
        assert hidden > 0
        view.scroll_to(y=1, animate=False)
        await pilot.pause()
        await pilot.press("k")  # reaches the top
        await pilot.pause()
        await pilot.pause()
        assert view.hidden == 0
        # The line that was at the top is still at the top: the older messages went above it.
        assert view.scroll_y > 0
        top = shown(view).splitlines()[int(view.scroll_y)]
        assert "older messages" not in top


async def test_a_short_thread_is_drawn_whole():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.show(thread(5))
        await pilot.pause()
        assert view.hidden == 0 and "message number 000" in shown(view)


async def test_a_long_thread_shows_where_the_view_is_in_its_last_column():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.show(thread(200))
        await pilot.pause()
        last = view.size.height - 1
        assert view.render_line(last).text.endswith(view.SCROLLBAR_THUMB)  # at the end: thumb at the bottom
        assert not view.render_line(0).text.endswith(view.SCROLLBAR_THUMB)
        view.show(thread(5))  # a short thread has nowhere to scroll: no thumb
        await pilot.pause()
        assert not any(view.render_line(y).text.endswith(view.SCROLLBAR_THUMB) for y in range(last + 1))


async def test_highlight_styles_the_spans_it_returns_in_the_text_as_shown():
    def spans_of_number(text: str) -> list[tuple[int, int]]:
        start = text.find("number")
        return [] if start < 0 else [(start, start + len("number"))]

    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.show(thread(2), highlight=spans_of_number)
        await pilot.pause()
        content = view.content
        marked = [
            content.plain[span.start : span.end] for span in content.spans if span.style == HIGHLIGHT_STYLE
        ]
        assert marked == ["number", "number"]  # one in each post's body
        view.show(thread(2))  # without it: nothing marked
        await pilot.pause()
        assert not [span for span in view.content.spans if span.style == HIGHLIGHT_STYLE]


async def test_a_thread_at_its_end_stays_there_when_the_view_grows_or_shrinks():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.styles.height = 8
        view.show(thread(40))
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y > 0
        for height in (20, 6):  # the reader opens the thread (taller), goes back (shorter)
            view.styles.height = height
            await pilot.pause()
            assert view.size.height == height
            assert view.scroll_y == view.max_scroll_y == view.line_count - height


async def test_text_in_the_thread_can_be_selected_with_the_mouse():
    app = ThreadOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        view.show(thread(3))
        await pilot.pause()
        assert view.content.plain.splitlines()[1] == "  message number 000"
        # The view's left padding is one cell: cells 3 to 12 of the line hold "message nu".
        await pilot.mouse_down(view, offset=(3, 1))
        await pilot.hover(view, offset=(12, 1))
        await pilot.mouse_up(view, offset=(12, 1))
        await pilot.pause()
        assert app.screen.get_selected_text() == "message nu"
