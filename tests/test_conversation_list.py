"""The conversation list over a lazy in-memory source of 100,000 conversations."""

from __future__ import annotations

import bisect
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from ecoinbox.model import ConversationRow, Origin, State, View
from ecoinbox.tui.widgets.conversation_list import (
    EMPTY_TEXT,
    ConversationList,
    age_label,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
BIG = 100_000
NEEDS_REPLY = 250  # the first rows of the base order need a reply

CHANNELS = ["mastodon", "forum", "email", "bluesky", "フォーラム", "🐘social"]
AUTHORS = ["Zoë Martin", "山田太郎", "Ali 🎉 Party", "jean-pierre.dupont@example.org", "Léa"]
SNIPPETS = [
    "Bonjour, my order #{i} never arrived and support does not answer",
    "Is the new release compatible with 日本語 input? 🤔🤔🤔",
    "Love it 😍",
    "Where do I find the forum thread about the export bug? " * 3,
]


class FakeSource:
    """A deterministic ConversationSource: rows are computed from their position, on demand.

    The base order puts base index i at display position i. `bump()` moves conversations to
    the top (new activity), `hide()` removes them from the view; keyset lookups bisect.
    """

    def __init__(self, totals: dict[View, int] | None = None, *, overrides=None) -> None:
        self.totals = totals if totals is not None else {View.INBOX: BIG}
        self.overrides: dict[int, dict] = overrides or {}
        self.bumped: list[int] = []  # base indices, newest first
        self.hidden: set[int] = set()
        self.calls: Counter[str] = Counter()
        self.offsets: list[int] = []

    # -- changes -----------------------------------------------------------------------

    def bump(self, *base_indices: int) -> None:
        for index in base_indices:
            if index in self.bumped:
                self.bumped.remove(index)
            self.bumped.insert(0, index)

    def hide(self, *base_indices: int) -> None:
        self.hidden.update(base_indices)

    # -- rows ----------------------------------------------------------------------------

    def base_row(self, i: int) -> ConversationRow:
        row = ConversationRow(
            id=i + 1,
            channel=CHANNELS[i % len(CHANNELS)],
            state=State.OPEN,
            needs_reply=i < NEEDS_REPLY,
            last_activity=NOW - timedelta(minutes=7 * i),
            author_label=AUTHORS[i % len(AUTHORS)],
            author_handle=f"user{i}@example.org",
            snippet=SNIPPETS[i % len(SNIPPETS)].format(i=i),
            message_count=1 + i % 13,
            origin=Origin.MENTION,
            language=("fr", "en", None)[i % 3],
        )
        return dataclasses.replace(row, **self.overrides.get(i, {}))

    def _excluded(self) -> list[int]:
        return sorted(set(self.bumped) | self.hidden)

    def _total(self, view: View) -> int:
        base = self.totals.get(view, 0)
        return base - len(self.hidden) if base else 0

    def row_at(self, view: View, position: int) -> ConversationRow:
        if position < len(self.bumped):
            row = self.base_row(self.bumped[position])
            moment = NOW + timedelta(seconds=len(self.bumped) - position)
            return dataclasses.replace(row, needs_reply=True, last_activity=moment)
        base = position - len(self.bumped)
        for excluded in self._excluded():
            if excluded <= base:
                base += 1
        return self.base_row(base)

    def _rows(self, view: View, start: int, stop: int) -> list[ConversationRow]:
        stop = min(stop, self._total(view))
        return [self.row_at(view, p) for p in range(max(0, start), stop)]

    def _first_below(self, view: View, key: tuple[int, int, int]) -> int:
        """The first display position whose sort key is < key (keys descend)."""
        keys = _KeyView(self, view)
        return bisect.bisect_left(keys, True, key=lambda k: k < key)

    # -- the protocol --------------------------------------------------------------------

    async def count_conversations(self, view: View) -> int:
        self.calls["count_conversations"] += 1
        return self._total(view)

    async def conversation_page(self, view, *, after=None, before=None, limit=100):
        self.calls["conversation_page"] += 1
        if after is not None:
            start = self._first_below(view, after)
            return self._rows(view, start, start + limit)
        if before is not None:
            stop = self._first_below(view, (before[0], before[1], before[2] + 1))
            return self._rows(view, stop - limit, stop)
        return self._rows(view, 0, limit)

    async def conversation_page_at(self, view, offset, limit):
        self.calls["conversation_page_at"] += 1
        self.offsets.append(offset)
        return self._rows(view, offset, offset + limit)

    async def conversation_page_last(self, view, limit):
        self.calls["conversation_page_last"] += 1
        total = self._total(view)
        return self._rows(view, total - limit, total)


class _KeyView:
    """Sort keys by display position, as a sequence bisect can search without building it."""

    def __init__(self, source: FakeSource, view: View) -> None:
        self.source, self.view = source, view

    def __len__(self) -> int:
        return self.source._total(self.view)

    def __getitem__(self, position: int) -> tuple[int, int, int]:
        return self.source.row_at(self.view, position).sort_key


class ListApp(App[None]):
    """A screen with only the list, recording what it posts."""

    def __init__(self, source: FakeSource, view: View = View.INBOX) -> None:
        super().__init__()
        self.source = source
        self.view = view
        self.highlighted: list[ConversationList.Highlighted] = []
        self.selected: list[int] = []

    def compose(self) -> ComposeResult:
        yield ConversationList(self.source, self.view, now=lambda: NOW, id="conversations")

    def on_conversation_list_highlighted(self, message: ConversationList.Highlighted) -> None:
        self.highlighted.append(message)

    def on_conversation_list_selected(self, message: ConversationList.Selected) -> None:
        self.selected.append(message.conversation_id)


def _list(app: App) -> ConversationList:
    return app.query_one(ConversationList)


def _last_highlight(app: ListApp) -> tuple[int | None, int, int]:
    message = app.highlighted[-1]
    return message.conversation_id, message.index, message.total


# -- first paint ----------------------------------------------------------------------------


async def test_first_paint_has_the_first_rows() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        # Already there when the app is ready: no pause needed for the first frame.
        assert widget.total == BIG
        assert widget.selected_id == 1
        first = widget.render_line(0).text
        assert first.startswith("● mastodon fr Zoë Martin")
        assert "Bonjour, my order #0 never arrived" in first
        assert widget.render_line(1).text.startswith("● forum    en 山田太郎")
        await pilot.pause()
        assert _last_highlight(app) == (1, 0, BIG)
        assert source.calls["count_conversations"] == 1
        assert source.calls["conversation_page_at"] == 0
        assert widget.screen.focused is widget


async def test_prefetches_the_next_page_by_keyset() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert _list(app).cached_page_count == 2  # the visible page and the next one
        assert source.calls["conversation_page"] == 2
        assert source.calls["conversation_page_at"] == 0


# -- moving ---------------------------------------------------------------------------------


async def test_keys_move_the_cursor_and_report_the_conversation() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        height = widget.size.height
        await pilot.press("j", "j", "down")
        assert widget.cursor_index == 3
        assert _last_highlight(app) == (4, 3, BIG)
        await pilot.press("k")
        assert _last_highlight(app) == (3, 2, BIG)
        await pilot.press("pagedown")
        assert widget.cursor_index == 2 + height
        assert _last_highlight(app) == (3 + height, 2 + height, BIG)
        # The page moved with the cursor: it keeps its place on the screen.
        assert widget.scroll_offset.y == height
        await pilot.press("ctrl+u")
        assert widget.cursor_index == 2
        assert widget.scroll_offset.y == 0
        await pilot.press("G")
        assert _last_highlight(app) == (BIG, BIG - 1, BIG)
        assert widget.scroll_offset.y == BIG - height
        assert widget.render_line(height - 1).text.startswith(" ")  # the bottom row is drawn
        assert "…" not in widget.render_line(height - 1).text[:3]
        await pilot.press("g")
        assert _last_highlight(app) == (1, 0, BIG)
        assert widget.scroll_offset.y == 0
        await pilot.press("k")  # already at the top: nothing moves
        assert widget.cursor_index == 0


async def test_stepping_off_the_screen_scrolls_half_a_screen_or_one_line() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        height = widget.size.height
        for _ in range(height):
            await pilot.press("j")
        assert widget.cursor_index == height
        assert widget.scroll_offset.y == 1 + height // 2  # half a screen: one repaint for many rows
        for _ in range(height // 2 - 1):
            await pilot.press("j")
        assert widget.scroll_offset.y == 1 + height // 2  # still in sight: no scroll
        await pilot.press("j", "j")
        assert widget.scroll_offset.y == 2 + 2 * (height // 2)  # off again: another half
        for _ in range(2 * height):
            await pilot.press("k")
        assert widget.scroll_offset.y == 0 and widget.cursor_index == 0
        widget.scroll_by_line = True  # [ui] list_scroll = "line"
        for _ in range(height):
            await pilot.press("j")
        assert widget.scroll_offset.y == 1  # one line, not half a screen
        for _ in range(height):
            await pilot.press("k")
        assert widget.scroll_offset.y == 0


async def test_bottom_of_100k_rows_without_deep_offset() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("end")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert source.calls["conversation_page_last"] == 1
        assert all(offset < 1000 for offset in source.offsets)
        for _ in range(10):  # walk up out of the last page: chained by keyset
            await pilot.press("pageup")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert widget.cursor_index == BIG - 1 - 10 * widget.size.height
        assert _last_highlight(app)[0] == widget.cursor_index + 1
        assert source.calls["conversation_page_at"] == 0


async def test_page_cache_is_bounded() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 52)) as pilot:
        widget = _list(app)
        while widget.cursor_index < 50 * ConversationList.PAGE_SIZE:
            await widget.action_page_down()
            await pilot.pause()
            assert widget.cached_page_count <= ConversationList.PAGE_CACHE_SIZE
        await app.workers.wait_for_complete()
        assert widget.cached_page_count <= ConversationList.PAGE_CACHE_SIZE
        assert widget.cursor_index >= 50 * ConversationList.PAGE_SIZE
        assert _last_highlight(app)[0] == widget.cursor_index + 1
        assert widget.render_line(0).text.strip() != "…"
        # Every page came by keyset from its neighbour.
        assert source.calls["conversation_page_at"] == 0


async def test_cursor_move_repaints_only_the_two_rows() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        painted = _spy_on_lines(widget)
        await pilot.press("j")
        await pilot.pause()
        # A whole-widget refresh would repaint every one of the visible lines.
        assert sorted(painted) == [0, 1]
        painted.clear()
        await pilot.press("j", "k")
        await pilot.pause()
        assert set(painted) == {1, 2}
        assert len(painted) <= 4


async def test_no_scrollbar_is_drawn() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(80, 24)):
        widget = _list(app)
        assert not widget.show_vertical_scrollbar
        assert not widget.show_horizontal_scrollbar
        assert widget.size.width == 80
        assert widget.max_scroll_x == 0


# -- reload ---------------------------------------------------------------------------------


async def test_reload_keeps_the_same_conversation_after_a_reorder() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        for _ in range(10):
            await pilot.press("j")
        assert widget.selected_id == 11
        source.bump(500, 600, 700)  # three conversations got new messages
        await widget.reload()
        await pilot.pause()
        assert widget.selected_id == 11
        assert widget.cursor_index == 13
        assert widget.total == BIG
        assert _last_highlight(app) == (11, 13, BIG)
        assert widget.render_line(0).text.startswith("●")
        assert widget.selected_row is not None and widget.selected_row.id == 11


async def test_at_the_top_new_conversations_stay_in_sight() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("j", "j")
        source.bump(500, 600, 700)  # new activity arrives above the cursor
        await widget.reload()
        await pilot.pause()
        assert widget.scroll_offset.y == 0  # the list did not scroll the newcomers away
        assert (widget.selected_id, widget.cursor_index) == (3, 5)
        assert source.base_row(700).author_label in widget.render_line(0).text


async def test_before_the_manager_moves_the_cursor_stays_on_the_newest() -> None:
    """Right after start, traffic pours in: the cursor stays on top until the manager moves."""
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        source.bump(500, 600, 700)
        await widget.reload()
        await pilot.pause()
        newest = source.base_row(700).id
        assert (widget.selected_id, widget.cursor_index) == (newest, 0)
        await pilot.press("j", "k")  # now it follows its conversation
        source.bump(800)
        await widget.reload()
        await pilot.pause()
        assert (widget.selected_id, widget.cursor_index) == (newest, 1)


async def test_further_down_the_cursor_keeps_its_line() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("pagedown", "j")
        top, line = widget.scroll_offset.y, widget.cursor_index - widget.scroll_offset.y
        assert top > 0
        source.bump(500, 600, 700)
        await widget.reload()
        await pilot.pause()
        assert widget.scroll_offset.y == top + 3
        assert widget.cursor_index - widget.scroll_offset.y == line


async def test_reload_follows_a_conversation_that_moved_to_the_top() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        selected = widget.selected_id
        assert selected is not None and widget.cursor_index > 100
        source.bump(selected - 1)
        await widget.reload()
        assert widget.selected_id == selected
        assert widget.cursor_index == 0
        assert widget.scroll_offset.y == 0


async def test_reload_keeps_the_index_when_the_conversation_left_the_view() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("j", "j", "j")
        source.hide(3)  # marked done elsewhere
        await widget.reload()
        assert widget.total == BIG - 1
        assert widget.cursor_index == 3
        assert widget.selected_id == 5


async def test_row_changed_repaints_that_row() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.pause()
        await app.workers.wait_for_complete()
        source.overrides[2] = {"author_label": "Renamed Person"}
        widget.row_changed(3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Renamed Person" in widget.render_line(2).text


async def test_reload_repaints_only_the_rows_that_changed() -> None:
    source = FakeSource()
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        painted = _spy_on_lines(widget)
        source.overrides[5] = {"snippet": "edited on the platform"}
        await widget.reload()
        await pilot.pause()
        assert painted == [5]
        assert "edited on the platform" in widget.render_line(5).text


def _spy_on_lines(widget: ConversationList) -> list[int]:
    """Record the lines Textual asks the widget to render from now on."""
    painted: list[int] = []
    render_line = widget.render_line

    def spy(y: int):
        painted.append(y)
        return render_line(y)

    widget.render_line = spy  # type: ignore[method-assign]
    return painted


class FailingSource(FakeSource):
    """A store that breaks: on the count, or on every keyset page after the first."""

    def __init__(self, *, fail_count: bool = False) -> None:
        super().__init__()
        self.fail_count = fail_count

    async def count_conversations(self, view):
        if self.fail_count:
            raise RuntimeError("database is locked")
        return await super().count_conversations(view)

    async def conversation_page(self, view, *, after=None, before=None, limit=100):
        if after is not None or before is not None:
            raise RuntimeError("database is locked")
        return await super().conversation_page(view, limit=limit)


class FailureWatchingApp(ListApp):
    def __init__(self, source: FakeSource) -> None:
        super().__init__(source)
        self.errors: list[BaseException] = []

    def on_conversation_list_load_failed(self, message: ConversationList.LoadFailed) -> None:
        self.errors.append(message.error)


async def test_a_failing_count_reaches_the_app_without_crashing_it() -> None:
    app = FailureWatchingApp(FailingSource(fail_count=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        widget = _list(app)
        assert widget.total == 0
        assert [str(error) for error in app.errors] == ["database is locked"]
        await pilot.press("j", "G")
        assert app.is_running


async def test_a_failing_page_leaves_a_placeholder_and_the_app_running() -> None:
    app = FailureWatchingApp(FailingSource())
    async with app.run_test(size=(80, 24)) as pilot:
        widget = _list(app)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.pause()
        # Many pages failed; the app hears of it once.
        assert [str(error) for error in app.errors] == ["database is locked"]
        assert app.is_running
        assert widget.cursor_index == 5 * widget.size.height
        assert widget.selected_id is None
        assert widget.render_line(widget.size.height - 1).text.strip() == "…"


async def test_mouse_click_moves_the_cursor_and_double_click_opens() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.click(ConversationList, offset=(10, 4))
        assert _list(app).cursor_index == 4
        await pilot.click(ConversationList, offset=(10, 6), times=2)
        await pilot.pause()
        assert app.selected == [7]


async def test_set_view_switches_list_and_goes_to_top() -> None:
    source = FakeSource({View.INBOX: BIG, View.DONE: 30})
    app = ListApp(source)
    async with app.run_test(size=(100, 24)) as pilot:
        widget = _list(app)
        await pilot.press("pagedown")
        await widget.set_view(View.DONE)
        await pilot.pause()
        assert widget.view is View.DONE
        assert widget.total == 30
        assert widget.cursor_index == 0
        assert _last_highlight(app) == (1, 0, 30)


# -- selecting ------------------------------------------------------------------------------


async def test_enter_posts_selected() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert app.selected == [3]


async def test_bindings_have_ids() -> None:
    ids = {binding.id for binding in ConversationList.BINDINGS}  # type: ignore[union-attr]
    assert ids == {
        "list.down",
        "list.up",
        "list.top",
        "list.bottom",
        "list.page_down",
        "list.page_up",
        "list.open",
    }


async def test_keymap_rebinds_through_binding_ids() -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(100, 24)) as pilot:
        app.set_keymap({"list.down": "n"})
        await pilot.press("n")
        assert _list(app).cursor_index == 1
        await pilot.press("j")  # no longer bound
        assert _list(app).cursor_index == 1


# -- drawing --------------------------------------------------------------------------------

HOSTILE = (
    "\x1b]0;owned\x07\x1b[31mred\x1b[0m [bold]not bold[/bold] "
    "[ @click=app.quit]x[/] \x1b]52;c;ZXZpbA==\x07 \u202eevil\u202c end"
)


async def test_hostile_text_renders_as_plain_text() -> None:
    source = FakeSource(
        overrides={0: {"snippet": HOSTILE, "author_label": "[b]\x1b[2Jboss", "channel": "\x07x"}}
    )
    app = ListApp(source)
    async with app.run_test(size=(120, 24)):
        widget = _list(app)
        strip = widget.render_line(0)
        text = strip.text
        assert "[bold]not bold[/bold]" in text
        assert "[ @click=app.quit]x[/]" in text
        assert "[b]" in text
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)
        assert "\u202e" not in text
        for segment in strip:
            style = segment.style
            assert style is None or (not style.link and "@click" not in (style.meta or {}))
        assert cell_len(text) == 120


@pytest.mark.parametrize("width", [80, 100, 120, 60, 40])
async def test_rows_fill_exactly_the_width(width: int) -> None:
    app = ListApp(FakeSource())
    async with app.run_test(size=(width, 24)):
        widget = _list(app)
        for y in range(widget.size.height):
            strip = widget.render_line(y)
            assert strip.cell_length == width
            assert cell_len(strip.text) == width, repr(strip.text)


async def test_cursor_row_stays_visible_without_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ListApp(FakeSource())
    async with app.run_test(size=(80, 24)):
        widget = _list(app)
        assert app.no_color
        cursor = widget.render_line(0)
        other = widget.render_line(1)
        assert all(segment.style and segment.style.reverse for segment in cursor)
        assert not any(segment.style and segment.style.reverse for segment in other)


async def test_empty_view_shows_the_placeholder() -> None:
    app = ListApp(FakeSource({View.INBOX: 0}))
    async with app.run_test(size=(80, 24)) as pilot:
        widget = _list(app)
        await pilot.pause()
        height = widget.size.height
        assert widget.total == 0
        assert widget.selected_id is None
        assert widget.render_line(height // 2).text.strip() == EMPTY_TEXT
        assert widget.render_line(0).text.strip() == ""
        assert _last_highlight(app) == (None, 0, 0)
        await pilot.press("j", "G", "enter")
        assert app.selected == []


def test_age_labels() -> None:
    assert age_label(NOW, NOW) == "now"
    assert age_label(NOW + timedelta(minutes=3), NOW) == "now"  # a clock ahead of ours
    assert age_label(NOW - timedelta(minutes=5), NOW) == "5m"
    assert age_label(NOW - timedelta(hours=3), NOW) == "3h"
    assert age_label(NOW - timedelta(days=2), NOW) == "2d"
    assert age_label(NOW - timedelta(weeks=12), NOW) == "12w"
    assert age_label(NOW - timedelta(days=800), NOW) == "2y"


# -- snapshot -------------------------------------------------------------------------------


def test_snapshot_80x24(snap_compare) -> None:
    source = FakeSource({View.INBOX: 40})
    source.overrides[1] = {"message_count": 1}
    assert snap_compare(ListApp(source), terminal_size=(80, 24), press=["j", "j"])


def test_snapshot_120x40(snap_compare) -> None:
    source = FakeSource({View.INBOX: 60})
    assert snap_compare(ListApp(source), terminal_size=(120, 40), press=["G"])
