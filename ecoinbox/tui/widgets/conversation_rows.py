"""One row of the conversation list as words: its columns, its marks, its age, what it says in front."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rich.cells import cell_len, set_cell_size, split_graphemes
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from ecoinbox.humanize import age
from ecoinbox.model import ConversationRow, State
from ecoinbox.query import Span
from ecoinbox.sanitize import sanitize
from ecoinbox.snooze import describe_wake
from ecoinbox.tui.widgets.changed_lines import fewer_runs

LOADING_TEXT = "…"


@dataclass(frozen=True, slots=True)
class _Columns:
    """Cell widths of one row's columns (0 hides a column)."""

    channel: int
    author: int
    snippet: int
    count: int
    language: int = 0


_MARKER_CELLS = 1
_AGE_CELLS = 4


@lru_cache(maxsize=16)
def _columns(width: int) -> _Columns:
    """Lay out a row: the snippet takes what the fixed columns leave, narrow widths shed columns."""
    channel, author, count, language = 8, (16 if width >= 100 else 12), 3, 2

    def snippet() -> int:
        # Each column but the snippet is followed or preceded by a one-cell gap.
        fixed = (_MARKER_CELLS + 1) + (1 + _AGE_CELLS)
        fixed += sum(cells + 1 for cells in (channel, language, author, count) if cells)
        return width - fixed

    if snippet() < 30:
        language = 0
    if snippet() < 16:
        channel = 0
    if snippet() < 12:
        count = 0
    if snippet() < 10:
        author = max(0, min(author, width // 4))
    return _Columns(channel, author, max(0, snippet()), count, language)


def _cut(text: str, cells: int) -> str:
    """The longest run of whole graphemes of `text` that fits in `cells` cells."""
    spans, total = split_graphemes(text)
    if total <= cells:
        return text
    used = 0
    for start, _end, size in spans:
        if used + size > cells:
            return text[:start]
        used += size
    return text


def fit(text: str, cells: int) -> str:
    """Pad or cut `text` to exactly `cells` cells, with an ellipsis when cut (wide-char safe)."""
    if cells <= 0:
        return ""
    if cell_len(text) > cells:
        text = _cut(text, cells - 1).rstrip() + "…"
    return set_cell_size(text, cells)


def _fit_marked(text: str, cells: int, spans: list[Span]) -> list[tuple[str, bool]]:
    """`fit` for text with marked spans: (piece, marked) pairs exactly `cells` cells wide."""
    fitted = fit(text, cells)
    kept = len(text) if fitted.startswith(text) else len(fitted.rstrip().removesuffix("…").rstrip())
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        start, end = max(start, at), min(end, kept)
        if start >= end:
            continue
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    pieces.append((fitted[at:], False))
    return [(piece, marked) for piece, marked in pieces if piece]


def _right(text: str, cells: int) -> str:
    """Right-align short ASCII `text` in `cells` cells."""
    return text[-cells:].rjust(cells) if cells > 0 else ""


_RAW_CHARS = 4096


def _clean(text: str, cells: int) -> str:
    """Untrusted platform text, sanitized to one line and bounded before it is measured."""
    # A megabyte-long post must not cost a megabyte of regex per row (the sanitizer also
    # drops an escape sequence the cut leaves open); twice the cells: marks take no cell.
    return sanitize(text[:_RAW_CHARS], single_line=True, max_chars=max(1, cells) * 2 + 2)


def age_label(moment: datetime, now: datetime) -> str:
    """A short age: `now`, `5m`, `3h`, `2d`, `12w`, `3y` (at most 4 cells)."""
    return age(moment, now)


def count_label(count: int) -> str:
    """The message count in 3 cells; a single message shows nothing."""
    if count <= 1:
        return ""
    if count < 1000:
        return str(count)
    return f"{min(count // 1000, 9)}k+"


PRIORITY_MARK = "▲"
"""A high-priority row (not "!": that is the spam key)."""
SELECTED_MARK = "■"
"""The marker of a row selected for a bulk action (`x`)."""
STATE_MARKS = {State.DONE: "✓", State.SPAM: "⊘", State.SNOOZED: "z", State.PENDING: "…"}

ROW_MARKS: tuple[tuple[str, str], ...] = (
    ("●", "they wait for your reply"),
    (PRIORITY_MARK, ("high priority, waiting for you: money, access, safety, an outage, a long wait or a "
                     "rule (it comes first; the thread says why)")),
    (STATE_MARKS[State.PENDING], "pending: you answered and wait on them (their next message reopens it)"),
    (STATE_MARKS[State.SNOOZED], "snoozed (\"until ...\" in front of the text says when it wakes)"),
    (STATE_MARKS[State.DONE], "done"),
    (STATE_MARKS[State.SPAM], "spam"),
    (SELECTED_MARK, "selected for a bulk action (x, X; esc clears)"),
    ("(blank)", "open, nothing to answer (the last word is ours)"),
)  # fmt: skip
"""What the mark in the first column of a row says, for `?` and the README."""
ROW_WORDS: tuple[tuple[str, str], ...] = (
    ("✎draft", "you began a reply, note or topic here and did not send it: r, n or f brings it back"),
    ("DM", "a direct message (private to the brand and the people it names)"),
    ("held", "a message in it is held for moderation on its platform"),
    ("until ...", "when a snoozed conversation wakes"),
    ("@name", "whom it is assigned to"),
    ("#tag", "its tags"),
    ("12", "the number of messages (right, before the age)"),
    (
        "age",
        (
            "how long they have waited on you: in the warning colour past [ui] waiting_warn, the "
            "alert colour past waiting_alert"
        ),
    ),
)
"""What the words in front of a row's text, and its last columns, say."""


def row_mark(row: ConversationRow) -> str:
    """The mark in the first column of a row (`ROW_MARKS` says what each means)."""
    if row.state in STATE_MARKS:
        return STATE_MARKS[row.state]
    if row.priority > 0:
        return PRIORITY_MARK  # what a manager handles first (or a rule): it floats up, and says so
    return "●" if row.needs_reply else " "


def waiting_level(row: ConversationRow, now: datetime, warn: float, alert: float) -> str:
    """The level ("alert", "warn" or "") of how long the person has waited on us (thresholds in seconds)."""
    since = row.waiting_since
    if since is None:
        return ""
    waited = (now - since).total_seconds()
    return "alert" if waited >= alert else "warn" if waited >= warn else ""


def triage_prefix(row: ConversationRow, now: datetime) -> str:
    """In front of the snippet: a draft the manager left, what the platform says of it (a direct
    message, a comment held for moderation), then what the manager decided (the snooze, the
    assignee, the tags)."""
    parts: list[str] = []
    if row.draft:  # the manager began a reply, a note or a topic here: r, n or f brings it back
        parts.append("✎draft")
    if row.direct:
        parts.append("DM")
    if row.held:
        parts.append("held")
    if row.state is State.SNOOZED and row.snoozed_until is not None:
        parts.append("until " + describe_wake(row.snoozed_until, now.astimezone()))
    if row.assignee:
        parts.append("@" + row.assignee)
    parts += ["#" + tag for tag in row.tags]
    return " ".join(parts) + " " if parts else ""


def column_styles(widget: Widget, is_cursor: bool) -> dict[str, Style]:
    """A row's styles by column, from the list's CSS; on the cursor row the cursor style wins."""
    component = widget.get_component_rich_style
    cursor = component("conversation-list--cursor", partial=True) if is_cursor else Style()
    base = widget.rich_style
    styles = {"base": base + cursor}
    for name in ("needs-reply", "dim", "author", "channel", "age", "selected", "waiting-warn",
                 "waiting-alert", "triage"):  # fmt: skip
        styles[name] = base + component(f"conversation-list--{name}", partial=True) + cursor
    styles["subject"] = base + Style(bold=True) + cursor
    match = component("conversation-list--match", partial=True)
    # On the cursor row the cursor's colours win, but a matched word stays bold and underlined.
    styles["match"] = base + match + cursor + Style(bold=match.bold, underline=match.underline)
    return styles


def row_strip(
    row: ConversationRow,
    width: int,
    styles: dict[str, Style],
    age: str,
    *,
    now: datetime,
    highlight: Callable[[str], list[Span]] | None,
    level: str = "",
    marked: bool = False,
) -> Strip:
    """One row of the list, `width` cells, in `styles` (see `column_styles`); `highlight` marks
    the words a search matched in its snippet."""
    columns = _columns(width)
    base = styles["base"]
    author_style = styles["needs-reply"] if row.needs_reply else styles["author"]
    marker_style = styles["needs-reply"] if row.needs_reply else styles["dim"]
    gap = Segment(" ", base)
    marker = SELECTED_MARK if marked else row_mark(row)
    segments = [Segment(marker, styles["selected"] if marked else marker_style), gap]
    if columns.channel:
        channel = fit(_clean(row.channel, columns.channel), columns.channel)
        segments += [Segment(channel, styles["channel"]), gap]
    if columns.language:
        language = fit(_clean(row.language or "", columns.language), columns.language)
        segments += [Segment(language, styles["dim"]), gap]
    if columns.author:
        author = fit(_clean(row.author_label or row.author_handle, columns.author), columns.author)
        segments += [Segment(author, author_style), gap]
    room = columns.snippet
    prefix = triage_prefix(row, now)
    if prefix and room >= 20:
        # The manager's own words (tags, names): still cleaned, and at most half the room.
        prefix = fit(_clean(prefix, room // 2), min(cell_len(prefix), room // 2))
        segments.append(Segment(prefix, styles["triage"]))
        room -= cell_len(prefix)
    if row.subject and room >= 20:
        # A mail's subject, a forum topic's title: what it is about, then the newest words.
        subject = _clean(row.subject, room // 2)
        subject = fit(subject, min(cell_len(subject), room // 2))
        segments.append(Segment(subject + " · ", styles["subject"]))
        room -= cell_len(subject) + 3
    snippet = _clean(row.snippet, room)
    if highlight is None:
        segments.append(Segment(fit(snippet, room), base))
    else:
        pieces = _fit_marked(snippet, room, highlight(snippet))
        segments += [Segment(piece, styles["match"] if hit else base) for piece, hit in pieces]
    if columns.count:
        segments += [
            gap,
            Segment(_right(count_label(row.message_count), columns.count), styles["dim"]),
        ]
    # The age is how long they have waited on us when they have (coloured past the thresholds).
    age_style = styles[f"waiting-{level}"] if level else styles["age"]
    segments += [gap, Segment(_right(age, _AGE_CELLS), age_style)]
    # One escape sequence per run of a style, not per column: a row is sent in about half the bytes.
    return fewer_runs(Strip(segments).adjust_cell_length(width, base))


def placeholder_strip(width: int, styles: dict[str, Style]) -> Strip:
    """The line of a row whose page is still on its way."""
    text = fit(f"  {LOADING_TEXT}", width)
    return Strip([Segment(text, styles["dim"])], width)
