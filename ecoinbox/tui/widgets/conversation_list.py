"""The inbox's conversation list: a virtual Line-API view over keyset pages of the store.

Only the visible rows are rendered. Rows live in a small LRU of pages of `PAGE_SIZE`
conversations, each page fetched by keyset from a cached neighbour (OFFSET only for a jump
with no neighbour), and rendered rows are kept as `Strip`s in a second LRU. A cursor move
inside the viewport repaints exactly the two rows that changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from time import monotonic
from typing import ClassVar, TypeAlias

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from ecoinbox.model import ConversationRow, View
from ecoinbox.query import Span
from ecoinbox.tui.widgets import conversation_messages
from ecoinbox.tui.widgets.changed_lines import RepaintsChangedLines
from ecoinbox.tui.widgets.conversation_rows import (
    ROW_MARKS,
    ROW_WORDS,
    SELECTED_MARK,
    age_label,
    column_styles,
    fit,
    placeholder_strip,
    row_mark,
    row_strip,
    triage_prefix,
    waiting_level,
)
from ecoinbox.tui.widgets.conversation_source import (
    ConversationSource,
    PageFetch,
    fill_pages,
    page_of,
    pages_for_rows,
    read_page,
)

# What others read here from before the rows' words had a module of their own.
__all__ = ["ROW_MARKS", "ROW_WORDS", "SELECTED_MARK", "ConversationList", "ConversationSource", "age_label",
           "row_mark", "triage_prefix", "waiting_level"]  # fmt: skip

EMPTY_TEXT = "Nothing here. New conversations appear as they arrive."
NO_MATCH_TEXT = "No conversation matches this search (spam only with is:spam)."

_PAGE_GROUP = "conversation-list-pages"
_LOAD_GROUP = "conversation-list-load"
_AGE_TICK_SECONDS = 30.0


class ConversationList(RepaintsChangedLines, can_focus=True, inherit_bindings=False):
    """The virtual list of conversations of one view (inbox, done, spam).

    Posts `Highlighted` whenever the cursor lands on a row (and after every load), and
    `Selected` on enter. The store tells the app about changes; the app then calls
    `reload()` (membership or order may have changed) or `row_changed()` (one row).
    """

    PAGE_SIZE: ClassVar[int] = 100
    """Rows per cached page (one keyset query)."""
    PAGE_CACHE_SIZE: ClassVar[int] = 8
    """Most pages kept in memory (plus any the viewport needs on a very tall screen)."""
    STRIP_CACHE_SIZE: ClassVar[int] = 512
    """Most rendered rows kept, per (row, width, cursor, age)."""
    FAILURE_REPEAT_SECONDS: ClassVar[float] = 10.0
    """The same store error is reported once per this many seconds."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", id="list.down", show=False),
        Binding("k,up", "cursor_up", "Up", id="list.up", show=False),
        Binding("g,home", "first", "Top", id="list.top", show=False),
        Binding("G,end", "last", "Bottom", id="list.bottom", show=False),
        Binding("pagedown,ctrl+d", "page_down", "Page down", id="list.page_down", show=False),
        Binding("pageup,ctrl+u", "page_up", "Page up", id="list.page_up", show=False),
        Binding("enter", "select", "Open", id="list.open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-list--cursor",
        "conversation-list--needs-reply",
        "conversation-list--dim",
        "conversation-list--author",
        "conversation-list--channel",
        "conversation-list--age",
        "conversation-list--match",
        "conversation-list--selected",
        "conversation-list--waiting-warn",
        "conversation-list--waiting-alert",
        "conversation-list--triage",
    }

    # No scrollbar at all: it would repaint on every move (~700 B over SSH); the app shows
    # the position from `Highlighted` instead.
    DEFAULT_CSS = """
    ConversationList {
        overflow: hidden hidden;
        scrollbar-size: 0 0;
        height: 1fr;
        & > .conversation-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .conversation-list--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        &:nocolor > .conversation-list--cursor {
            text-style: bold reverse;
        }
        & > .conversation-list--needs-reply {
            color: $accent;
            text-style: bold;
        }
        & > .conversation-list--dim {
            color: $text-muted;
        }
        & > .conversation-list--author {
            text-style: bold;
        }
        & > .conversation-list--channel {
            color: $text-secondary;
        }
        & > .conversation-list--age {
            color: $text-muted;
        }
        & > .conversation-list--match {
            color: $text-warning;
            text-style: bold underline;
        }
        & > .conversation-list--selected {
            color: $text-warning;
            text-style: bold;
        }
        & > .conversation-list--waiting-warn {
            color: $text-warning;
        }
        & > .conversation-list--waiting-alert {
            color: $text-error;
            text-style: bold;
        }
        & > .conversation-list--triage {
            color: $text-secondary;
        }
    }
    """

    Highlighted: TypeAlias = conversation_messages.Highlighted
    Selected: TypeAlias = conversation_messages.Selected
    LoadFailed: TypeAlias = conversation_messages.LoadFailed

    def __init__(
        self,
        source: ConversationSource,
        view: View = View.INBOX,
        *,
        now: Callable[[], datetime] | None = None,
        scroll_by_line: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._source = source
        self._view = view
        self._now = now or (lambda: datetime.now(UTC))
        self.scroll_by_line = scroll_by_line
        self._highlight: Callable[[str], list[Span]] | None = None
        self._loading_highlight: Callable[[str], list[Span]] | None = None  # `_highlight` once loaded
        self._total = 0
        self._cursor = 0
        # Until the manager moves or acts on a row, the cursor stays on the newest conversation
        # as traffic arrives (the first seconds after start); afterwards it follows its row.
        self.held = False
        self._loaded = False
        self._pages: OrderedDict[int, list[ConversationRow]] = OrderedDict()
        self._inflight: dict[int, PageFetch] = {}
        self._fetch_seq = itertools.count()
        self._generation = 0
        self._load_lock = asyncio.Lock()
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(self.STRIP_CACHE_SIZE)
        self._row_styles: dict[bool, dict[str, Style]] = {}  # cursor row or not -> style by column
        self._row_style_keys: dict[bool, tuple[Style, ...]] = {}  # the same, as a cache key
        self._announced: tuple[int | None, int, int] | None = None
        # Told at once of a cursor move, in the step that repaints the rows (a posted Highlighted
        # reaches the screen after that frame left, and the thread beside came a frame later).
        self.on_move: Callable[[conversation_messages.Highlighted], object] | None = None
        self._age_tick: datetime | None = None
        self._last_failure: tuple[str, float] | None = None
        self.marked: set[int] = set()  # conversations selected for a bulk action (`x`)
        self.waiting_warn = 3600.0  # seconds a person may wait before their age turns the warning colour
        self.waiting_alert = 14400.0  # ... the alert colour

    # -- public state ------------------------------------------------------------------

    @property
    def view(self) -> View:
        """The list being shown; change it with `set_view()`."""
        return self._view

    @property
    def total(self) -> int:
        """How many conversations the view holds (as of the last load)."""
        return self._total

    @property
    def cursor_index(self) -> int:
        """0-based position of the cursor in the view."""
        return self._cursor

    @property
    def selected_row(self) -> ConversationRow | None:
        """The row under the cursor, if it is loaded."""
        return self._row_at(self._cursor) if self._total else None

    @property
    def selected_id(self) -> int | None:
        """The id of the conversation under the cursor, if it is loaded."""
        row = self.selected_row
        return None if row is None else row.id

    def conversation_id_at(self, index: int) -> int | None:
        """The id of the conversation at position `index`, if its page is loaded."""
        row = self._row_at(index) if 0 <= index < self._total else None
        return None if row is None else row.id

    @property
    def cached_page_count(self) -> int:
        """How many pages of rows are held in memory."""
        return len(self._pages)

    @property
    def allow_vertical_scroll(self) -> bool:
        # Overflow is hidden (no scrollbar), yet the wheel and the cursor still scroll.
        return not self.disabled and self.max_scroll_y > 0

    # -- loading -----------------------------------------------------------------------

    async def on_mount(self) -> None:
        worker = self.run_worker(
            self._load(keep_selection=False),
            name="conversation list first load",
            group=_LOAD_GROUP,
            exit_on_error=False,
        )
        # Awaited so that the first frame already has rows; a failure reaches the app as
        # LoadFailed.
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await worker.wait()
        self._age_tick = self._now()
        self.set_interval(_AGE_TICK_SECONDS, self._refresh_ages, name="conversation ages")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        event.stop()
        what, when = f"{type(error).__name__}: {error}", monotonic()
        if self._last_failure is not None:
            last_what, last_when = self._last_failure
            if what == last_what and when - last_when < self.FAILURE_REPEAT_SECONDS:
                return
        self._last_failure = (what, when)
        self.post_message(self.LoadFailed(self, error))

    async def reload(self, *, select: int | None = None) -> None:
        """Re-count and re-fetch the visible pages (the store changed), then repaint.

        The cursor goes to conversation `select` if given and within reach, else stays on the
        same conversation if it is still in the view (and within reach: the top page or the
        pages around the cursor), else on the same index.
        """
        await self._load(keep_selection=True, select=select)

    async def set_view(self, view: View) -> None:
        """Show another list, with the cursor at the top."""
        await self.set_source(self._source, view)

    @property
    def source(self) -> ConversationSource:
        """Where the rows come from: the store, or a search's results."""
        return self._source

    async def set_source(
        self,
        source: ConversationSource,
        view: View | None = None,
        *,
        highlight: Callable[[str], list[Span]] | None = None,
        keep_selection: bool = False,
    ) -> None:
        """Show rows from another source (a search's results), the cursor at the top unless
        `keep_selection` (the same list, read afresh); `highlight` marks matched words in the
        snippets."""
        self._source = source
        self._view = view if view is not None else self._view
        # Swapped in with the rows: a frame drawn meanwhile (a store read) would show the old rows
        # without their marks, sent again with the new ones a frame later.
        self._loading_highlight = highlight
        await self._load(keep_selection=keep_selection)

    def row_changed(self, conversation_id: int) -> None:
        """One conversation changed in the store: refetch its page and repaint its line.

        If the refetched page no longer holds the same conversations in the same order, the
        whole list is reloaded.
        """
        for page, rows in self._pages.items():
            if any(row.id == conversation_id for row in rows):
                self.run_worker(
                    self._refetch_page(page, self._generation),
                    name=f"conversation page {page} refetch",
                    group=_PAGE_GROUP,
                    exit_on_error=False,
                )
                return

    async def _load(self, *, keep_selection: bool, select: int | None = None) -> None:
        async with self._load_lock:
            total = await self._source.count_conversations(self._view)
            pages: dict[int, list[ConversationRow]] = {}
            height = max(1, self.size.height)
            # The top page catches a conversation that new activity moved up.
            around = page_of(self._cursor, self.PAGE_SIZE)
            wanted = {0, around - 1, around, around + 1} if keep_selection else {0}
            await fill_pages(self._source, self._view, pages, wanted, total, self.PAGE_SIZE)
            # Read after the awaits: the manager may have moved while the store answered.
            cursor, screen_row = 0, 0
            keep_selection = keep_selection and (self.held or select is not None)
            if keep_selection:
                screen_row = min(max(0, self._cursor - self.scroll_offset.y), height - 1)
                found = None if select is None else self._find(pages, select)
                if found is None:
                    found = self._find(pages, self.selected_id)
                    if found is not None and found - self._cursor >= height:
                        # It went down out of sight (answered, no longer a need): the manager
                        # keeps their place, on what is now there.
                        found = None
                cursor = min(self._cursor, max(0, total - 1)) if found is None else found
            if keep_selection and self.scroll_offset.y == 0:
                # At the top, new conversations arriving above stay in sight: the list stays
                # put and the cursor moves down with its conversation (scrolling only if it
                # would leave the screen).
                scroll_y = max(0, min(cursor - height + 1, total - height))
            else:
                # Further down, the cursor keeps its line, so the list does not jump under the eyes.
                scroll_y = max(0, min(cursor - screen_row, total - height))
            wanted = pages_for_rows(scroll_y, scroll_y + height, self.PAGE_SIZE) | {
                page_of(cursor, self.PAGE_SIZE)
            }
            await fill_pages(self._source, self._view, pages, wanted, total, self.PAGE_SIZE)
            self._commit(total, pages, cursor, scroll_y)

    def _commit(
        self, total: int, pages: dict[int, list[ConversationRow]], cursor: int, scroll_y: int
    ) -> None:
        """Swap in a fresh load in one step, so no frame mixes old and new rows."""
        top, before = self.scroll_offset.y, self._screen_rows()
        self._generation += 1
        self.workers.cancel_group(self, _PAGE_GROUP)
        self._inflight.clear()
        self._pages = OrderedDict(sorted(pages.items()))
        self._strips.clear()
        self._highlight = self._loading_highlight
        self._total = total
        self._cursor = cursor
        self._loaded = True
        # Set quietly: the reactive asks for a layout and repaints the whole list (every line,
        # the border too), where the lines below send only what changed.
        self.set_reactive(ConversationList.virtual_size, Size(0, total))
        self.scroll_to(y=self._clamp_scroll(scroll_y), animate=False, force=True)
        after = self._screen_rows()
        if self.scroll_offset.y != top or len(before) != len(after) or not after:
            self.refresh()
        else:
            # A store change usually touches a row or two: repaint only those lines.
            for y, (old, new) in enumerate(zip(before, after, strict=True)):
                if old != new:
                    self.refresh_line(top + y)
        self._announce(force=True)

    def _screen_rows(self) -> list[tuple[ConversationRow | None, bool]]:
        """What each visible line shows: its row (None while loading) and the cursor."""
        if not self._loaded:
            return []
        top = self.scroll_offset.y
        end = min(self._total, top + self.size.height)
        return [(self._row_at(index), index == self._cursor) for index in range(top, end)]

    def _schedule_reload(self) -> None:
        self.run_worker(
            self.reload(), name="conversation list reload", group=_LOAD_GROUP, exit_on_error=False
        )

    async def _read_page(self, page: int) -> list[ConversationRow]:
        return await read_page(self._source, self._view, page, self._pages, self._total, self.PAGE_SIZE)

    def _request_page(self, page: int) -> asyncio.Event | None:
        """Start fetching `page` unless it is cached or already on its way."""
        if page in self._pages or not 0 <= page <= page_of(self._total - 1, self.PAGE_SIZE):
            return None
        if (fetch := self._inflight.get(page)) is not None:
            return fetch.done
        fetch = self._inflight[page] = PageFetch(next(self._fetch_seq))
        self.run_worker(
            self._fetch_page(page, fetch, self._generation),
            name=f"conversation page {page}",
            group=_PAGE_GROUP,
            exit_on_error=False,
        )
        return fetch.done

    async def _fetch_page(self, page: int, fetch: PageFetch, generation: int) -> None:
        try:
            # Waiting on an older neighbour lets this page chain by keyset instead of OFFSET.
            for neighbour in (page - 1, page + 1):
                other = self._inflight.get(neighbour)
                if other is not None and other.seq < fetch.seq:
                    await other.done.wait()
            if generation != self._generation:
                return
            rows = await self._read_page(page)
            if generation == self._generation:
                self._store_page(page, rows)
                self._page_landed(page, len(rows))
        finally:
            fetch.done.set()
            if self._inflight.get(page) is fetch:
                del self._inflight[page]

    async def _refetch_page(self, page: int, generation: int) -> None:
        old = self._pages.get(page)
        rows = await self._read_page(page)
        if generation != self._generation:
            return
        if old is None or [row.id for row in old] != [row.id for row in rows]:
            self._schedule_reload()  # the order changed: only a reload can place the rows
            return
        self._store_page(page, rows)
        start = page * self.PAGE_SIZE
        for offset, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
                self._refresh_row(start + offset)
        if page_of(self._cursor, self.PAGE_SIZE) == page:
            self._announce()

    async def _ensure_row(self, index: int) -> None:
        """Wait until the page holding `index` is cached (or its fetch failed)."""
        done = self._request_page(page_of(index, self.PAGE_SIZE))
        if done is not None:
            await done.wait()

    def _store_page(self, page: int, rows: list[ConversationRow]) -> None:
        self._pages[page] = rows
        self._pages.move_to_end(page)
        keep = max(self.PAGE_CACHE_SIZE, len(self._visible_pages()) + 2)
        while len(self._pages) > keep:
            oldest = next(iter(self._pages))
            if oldest in self._visible_pages():
                self._pages.move_to_end(oldest)
                continue
            del self._pages[oldest]

    def _page_landed(self, page: int, count: int) -> None:
        """Repaint only the lines of the new page that are on screen."""
        start = page * self.PAGE_SIZE
        top = self.scroll_offset.y
        first, end = max(start, top), min(start + count, top + self.size.height)
        if first < end:
            self.refresh_lines(first, end - first)
        if start <= self._cursor < start + count:
            self._announce()

    # -- geometry ----------------------------------------------------------------------

    def _visible_pages(self) -> set[int]:
        top = self.scroll_offset.y
        return pages_for_rows(top, min(self._total, top + self.size.height), self.PAGE_SIZE)

    def _row_at(self, index: int) -> ConversationRow | None:
        rows = self._pages.get(page_of(index, self.PAGE_SIZE))
        if rows is None:
            return None
        offset = index % self.PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def _find(self, pages: Mapping[int, list[ConversationRow]], conversation_id: int | None) -> int | None:
        if conversation_id is None:
            return None
        for page, rows in pages.items():
            for offset, row in enumerate(rows):
                if row.id == conversation_id:
                    return page * self.PAGE_SIZE + offset
        return None

    # -- cursor ------------------------------------------------------------------------

    async def _move_cursor(self, index: int, *, scroll_by: int = 0) -> None:
        if self._total == 0:
            return
        index = max(0, min(index, self._total - 1))
        self.held = True
        await self._ensure_row(index)
        old = self._cursor
        self._cursor = index
        top = self._clamp_scroll(self._showing(index, self.scroll_offset.y + scroll_by))
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, force=True)  # repaints the whole view
        elif old != index:
            self._refresh_row(old)
            self._refresh_row(index)
        self._announce(moved=True)

    def _showing(self, index: int, top: int) -> int:
        """The scroll offset nearest to `top` that shows row `index`. Stepping off the screen
        scrolls one line (`scroll_by_line`) or half a screen: each scroll repaints the whole
        list (about 15 KB at 120x40 over SSH), so half a screen pays it once per many rows."""
        height = max(1, self.size.height)
        nearest = min(max(top, index - height + 1), index)
        if self.scroll_by_line or nearest == top or abs(nearest - top) > 1:
            return nearest  # in sight already, or a jump (page, G, a search): as it lands
        return nearest + height // 2 if nearest > top else nearest - height // 2

    def _clamp_scroll(self, top: int) -> int:
        return max(0, min(top, self._total - max(1, self.size.height)))

    def _refresh_row(self, index: int) -> None:
        top = self.scroll_offset.y
        if top <= index < top + self.size.height:
            self.refresh_line(index)

    def _announce(self, *, force: bool = False, moved: bool = False) -> None:
        """Post Highlighted when what the cursor is on changed (or always, when forced); after a
        move, hand it to `on_move` instead when there is one."""
        current = (self.selected_id, self._cursor, self._total)
        if force or current != self._announced:
            self._announced = current
            highlighted = self.Highlighted(self, *current)
            if moved and self.on_move is not None:
                self.on_move(highlighted)
            else:
                self.post_message(highlighted)

    def is_current(self, highlighted: conversation_messages.Highlighted) -> bool:
        """Whether `highlighted` still says where the cursor is (a move told through `on_move`
        may have overtaken a posted one)."""
        said = (highlighted.conversation_id, highlighted.index, highlighted.total)
        return said == (self.selected_id, self._cursor, self._total)

    async def action_cursor_down(self) -> None:
        await self._move_cursor(self._cursor + 1)

    async def action_cursor_up(self) -> None:
        await self._move_cursor(self._cursor - 1)

    # Async on purpose (the page may have to be fetched first); Widget's are sync.
    async def action_page_down(self) -> None:  # type: ignore[override]
        height = max(1, self.size.height)
        await self._move_cursor(self._cursor + height, scroll_by=height)

    async def action_page_up(self) -> None:  # type: ignore[override]
        height = max(1, self.size.height)
        await self._move_cursor(self._cursor - height, scroll_by=-height)

    async def action_first(self) -> None:
        await self._move_cursor(0)

    async def action_last(self) -> None:
        await self._move_cursor(self._total - 1)

    def action_select(self) -> None:
        self.held = True
        conversation_id = self.selected_id
        if conversation_id is not None:
            self.post_message(self.Selected(self, conversation_id))

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if index >= self._total:
            return
        await self._move_cursor(index)
        if event.chain >= 2:
            self.action_select()

    # -- rendering ---------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Strips stay cached under the styles they were drawn with: a focus change that leaves
        # most rows' styles as they were does not draw those rows again (twice, at each Esc).
        self._row_styles.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        top = self._clamp_scroll(self._showing(self._cursor, self.scroll_offset.y))
        self.scroll_to(y=top, animate=False, force=True)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Fetch what is visible and prefetch the page before and after the viewport.
        visible = self._visible_pages()
        if visible:
            for page in range(min(visible) - 1, max(visible) + 2):
                if page in self._pages:
                    self._pages.move_to_end(page)
                else:
                    self._request_page(page)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = self.scroll_offset.y + y
        if index >= self._total:
            return self.painted(y, self._blank_line(y, width))
        is_cursor = index == self._cursor
        row = self._row_at(index)
        if row is None:
            self._request_page(page_of(index, self.PAGE_SIZE))
            return self.painted(y, placeholder_strip(width, self._styles(is_cursor)))
        now = self._now()
        age = age_label(row.last_activity, now)
        level = waiting_level(row, now, self.waiting_warn, self.waiting_alert)
        marked = row.id in self.marked
        styles = self._styles(is_cursor)
        key = (row, width, is_cursor, age, level, marked, self._row_style_keys[is_cursor])
        strip = self._strips.get(key)
        if strip is None:
            highlight = self._highlight
            strip = self._strips[key] = row_strip(
                row, width, styles, age, now=now, highlight=highlight, level=level, marked=marked
            )
        return self.painted(y, strip)

    # -- selection for bulk actions ----------------------------------------------------

    def toggle_mark(self, conversation_id: int) -> bool:
        """Select or unselect a conversation for a bulk action; whether it is now selected."""
        if conversation_id in self.marked:
            self.marked.discard(conversation_id)
        else:
            self.marked.add(conversation_id)
        self.refresh()
        return conversation_id in self.marked

    def set_marks(self, conversation_ids: Iterable[int]) -> None:
        """Select exactly these conversations (none: clear the selection)."""
        self.marked = set(conversation_ids)
        self.refresh()

    def _styles(self, is_cursor: bool) -> dict[str, Style]:
        """The row's styles by column; on the cursor row the cursor style wins everywhere."""
        styles = self._row_styles.get(is_cursor)
        if styles is None:  # once per style change, not per row: half of a row's rendering
            styles = self._row_styles[is_cursor] = column_styles(self, is_cursor)
            self._row_style_keys[is_cursor] = tuple(styles.values())
        return styles

    def _blank_line(self, y: int, width: int) -> Strip:
        style = self.rich_style
        if self._loaded and self._total == 0 and y == self.size.height // 2:
            text = fit(EMPTY_TEXT if self._highlight is None else NO_MATCH_TEXT, width).rstrip()
            pad = (width - cell_len(text)) // 2
            dim = style + self.get_component_rich_style("conversation-list--dim", partial=True)
            strip = Strip([Segment(" " * pad, style), Segment(text, dim)])
            return strip.adjust_cell_length(width, style)
        return Strip.blank(width, style)

    def _refresh_ages(self) -> None:
        """Repaint the visible rows whose age label changed since the last tick."""
        previous, now = self._age_tick, self._now()
        self._age_tick = now
        if previous is None:
            return
        top = self.scroll_offset.y
        for index in range(top, min(self._total, top + self.size.height)):
            row = self._row_at(index)
            if row is not None and age_label(row.last_activity, previous) != age_label(
                row.last_activity, now
            ):
                self.refresh_line(index)
