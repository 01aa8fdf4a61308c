"""Line-API views that answer a whole repaint by sending only the lines whose cells change.

Textual repaints a whole widget when focus moves to or from it, when one of its component
styles changes (the list's cursor is drawn differently without focus) and when it is asked to
refresh without a region: every line of it is sent again, ~15 KB for the list at 120x40 over
SSH, where the eye sees one row change. A view with this mixin renders its lines again instead,
compares them with the lines last sent, and repaints only those that differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Any, Self

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual, VisualType
from textual.widgets import Static


class RepaintsChangedLines(ScrollView):
    """A ScrollView whose `render_line` goes through `painted()`; whole repaints become the
    repaint of the lines that changed, computed once the step that asked for it is over."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._painted: dict[int, Strip] = {}  # screen line -> the strip last sent for it
        self._painted_frame: tuple[object, ...] | None = None  # what else shaped those lines
        self._diff_pending = False
        self._painted_components: dict[str, object] = {}  # component class -> its rules, as last drawn

    def painted(self, y: int, strip: Strip) -> Strip:
        """Remember `strip` as what screen line `y` shows; returns it (for `render_line`)."""
        self._painted[y] = strip
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        frame = self._frame()
        if frame != self._painted_frame:
            self._painted.clear()
            self._painted_frame = frame
        if not self._painted:
            self._painted_components = self._component_rules()
        return super().render_lines(crop)

    def _component_rules(self) -> dict[str, object]:
        return {name: self.get_component_styles(name).get_rules() for name in self.COMPONENT_CLASSES}

    def _frame(self) -> tuple[object, ...]:
        # The widget's own rules (background, border, padding) are drawn around the lines by
        # Textual: when they change, every line is repainted.
        return (self.size, self.scroll_offset, self.styles.get_rules())

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        if regions or layout or recompose or not repaint or not self.is_mounted or not self._painted:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        if not self._diff_pending:
            # Later in this step: the focus moves, and the styles follow, after the first call.
            self._diff_pending = True
            self.call_later(self._repaint_changed)
        return self

    def repaint_all(self) -> None:
        """Repaint every line (the content changed everywhere: a new view, a scroll)."""
        self._painted.clear()
        super().refresh()

    def _repaint_changed(self) -> None:
        self._diff_pending = False
        if self._frame() != self._painted_frame or not self.size:
            self.repaint_all()
            return
        components = self._component_rules()
        if components != self._painted_components:  # the list's cursor, when focus moved
            self._painted_components = components
            self.notify_style_update()  # render with the new ones (Textual's cache holds the old)
        sent = dict(self._painted)
        changed = [self._changed_region(y, sent.get(y)) for y in range(self.size.height)]
        if regions := [region for region in changed if region is not None]:
            super().refresh(*regions)

    def _changed_region(self, y: int, sent: Strip | None) -> Region | None:
        """What of screen line `y` must be sent again, rendered now, after `sent` (None: nothing).
        Textual sends a line from the view's left edge: ending it at the last cell that changes
        spares the cells after it (a row's age and count are often the same)."""
        line = self.render_line(y)
        if sent is None:
            return Region(0, y, self.size.width, 1)
        end = changed_extent(sent, line)
        return Region(0, y, end, 1) if end else None


def _blank_is_background(style: Style | None) -> bool:
    """Whether a blank drawn in `style` shows only its background (no line through or under it)."""
    return style is not None and not (
        style.underline or style.reverse or style.strike or style.overline or style.underline2 or style.link
    )


def fewer_runs(segments: Iterable[Segment]) -> Strip:
    """A strip of `segments` where blanks take the style of the text before them whenever they look
    the same in it (same background), and runs of one style are joined: each run costs an escape
    sequence of ~20 bytes on the wire, often more than its text."""
    joined: list[Segment] = []
    for segment in segments:
        if joined and segment.text.isspace() and not segment.control:
            before = joined[-1].style
            if (
                before is not None
                and segment.style is not None
                and before.bgcolor == segment.style.bgcolor
                and _blank_is_background(before)
                and _blank_is_background(segment.style)
            ):
                segment = Segment(segment.text, before)
        joined.append(segment)
    return Strip(Segment.simplify(joined))


class ChangedCellsLine(Static):
    """A one-line Static whose `update` repaints only up to the last cell that changed (the end of
    its run), with no layout (its size never depends on its text). Textual sends a line from the widget's left
    edge to the end of the region: the inbox's status line, rewritten at every move, sent all
    120 cells (166 B) for a position whose digits changed, and asked the screen for a layout."""

    def __init__(self, content: VisualType = "", *, id: str | None = None) -> None:
        super().__init__(content, markup=False, id=id)
        self._shown: Strip | None = None  # the line as last sent (None: repaint it whole)
        self._holding = False  # `update` decides what to repaint itself

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        self._holding = not layout
        try:
            super().update(content, layout=layout)
        finally:
            self._holding = False
        if layout or not self.is_mounted or not self.size or self._shown is None:
            self._shown = None
            super().refresh(layout=layout)
            return
        line = self._line()
        end = changed_extent(self._shown, line)
        self._shown = line
        if end:
            super().refresh(Region(0, 0, end, 1))

    def _line(self) -> Strip:
        return Visual.to_strips(self, self.visual, self.size.width, 1, self.visual_style)[0]

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        if self._holding:
            return self
        self._shown = None  # a resize, a new theme: Textual repaints it whole
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        if y == 0 and self._shown is None:
            self._shown = line
        return line


def _cells(strip: Strip) -> tuple[list[tuple[str, Style | None]], list[int]]:
    """One (character, style) per cell (a wide character's second cell is ("", style)), and for
    each cell where the run of one style holding it ends."""
    cells: list[tuple[str, Style | None]] = []
    ends: list[int] = []
    for text, style, _ in strip:
        start = len(cells)
        if text.isascii() and text.isprintable():  # one cell per character: at C speed
            cells.extend(zip(text, repeat(style)))
        else:
            for character in text:
                cells.append((character, style))
                cells.extend(("", style) for _ in range(get_character_cell_size(character) - 1))
        ends.extend(repeat(len(cells), len(cells) - start))
    return cells, ends


def changed_extent(before: Strip, after: Strip) -> int:
    """How many cells from the left cover every cell that differs between two lines, up to the
    end of the run holding the last one (0: none): a word on the wire is never cut in two."""
    if before == after:  # most lines of a repaint: nothing to compare cell by cell
        return 0
    (old, _), (new, ends) = _cells(before), _cells(after)
    blank: tuple[str, Style | None] = (" ", None)
    for x in range(max(len(old), len(new)) - 1, -1, -1):
        if (old[x] if x < len(old) else blank) != (new[x] if x < len(new) else blank):
            return ends[x] if x < len(ends) else x + 1
    return 0
