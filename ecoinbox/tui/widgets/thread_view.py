"""The selected conversation, oldest message first, with replies still on their way out.

A Line-API view: the thread is wrapped here into one `Content` per screen line, only the lines
on screen become `Strip`s, and showing another conversation repaints only the screen lines
whose cells changed (up to the last cell that holds text), not the whole pane. A message's
wrapped lines are kept per width, so moving back to a thread does not render it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style

from ecoinbox.actions import answerable
from ecoinbox.humanize import ago
from ecoinbox.model import Conversation, Message, Note, OutboxItem, OutboxState, State, StoredMessage
from ecoinbox.outbox_words import held_until, outbox_advice
from ecoinbox.sanitize import hidden_characters, sanitize, sanitize_and_flag
from ecoinbox.snooze import describe_wake
from ecoinbox.tui.safe import link_content, safe_content
from ecoinbox.tui.widgets.changed_lines import RepaintsChangedLines, fewer_runs

# Show this much of a huge post until the manager asks for all of it; the store keeps all of it.
BODY_DISPLAY_CHARS = 4000
# Even then a terminal is no pager for megabytes: wrapping 1 MB takes over a second. Beyond
# this the note points at `ecoinbox show`, which prints it all.
BODY_WHOLE_CHARS = 100_000
# A thread opens at its newest message: only the newest messages that fill this many screens
# are wrapped until the reader scrolls to the top, which brings the rest (a 200-message thread
# is ~900 lines; wrapping all of them costs more than the budget to show one).
TAIL_SCREENS = 3
HIDDEN_NOTE = "⚠ hidden characters removed"
CHOSEN_MARK = "▶ "
"""Before the header of the message picked with `[` / `]`: the one `r` answers."""
# How `highlight` spans (the matched words of a search) are drawn in the posts.
HIGHLIGHT_STYLE = "bold reverse"

Highlight = Callable[[str], Sequence[tuple[int, int]]]
"""Given a post's text as shown, the (start, end) character spans to highlight."""

_OUTBOX_LABELS = {
    OutboxState.QUEUED: ("queued", "$warning"),
    OutboxState.SENDING: ("sending…", "$warning"),
    OutboxState.FAILED: ("not sent", "$error"),
    OutboxState.UNKNOWN: ("uncertain", "$error"),
}


class ThreadView(RepaintsChangedLines, can_focus=True):
    """Renders one conversation; every platform string goes through `safe_content`.

    `show()` swaps the conversation in one step, already scrolled to where it opens (its end
    for a long thread, its top for a short one), so the terminal gets one frame for it.
    """

    # No Textual scrollbar: it is repainted whole (~1.7 KB at 40 rows) once or twice for every
    # thread shown, and its coming and going repaints the pane. The view draws its own: a thumb
    # in its last column, part of the lines, so only the cells that change are sent. The
    # wrap width never depends on the thread's length.
    DEFAULT_CSS = """
    ThreadView {
        padding: 0 0 0 1;
        overflow-x: hidden;
        overflow-y: hidden;
        & > .thread-view--scrollbar {
            color: $scrollbar;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"thread-view--scrollbar"}
    SCROLLBAR_THUMB = "▐"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_down", "Scroll down", id="thread.down", show=False),
        Binding("k,up", "scroll_up", "Scroll up", id="thread.up", show=False),
        Binding("g,home", "scroll_home", "Top", id="thread.top", show=False),
        Binding("G,end", "scroll_end", "Bottom", id="thread.bottom", show=False),
    ]
    PART_CACHE_SIZE: ClassVar[int] = 2048
    """Most messages kept wrapped (per width, age label and display options)."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now or (lambda: datetime.now(UTC))
        self._lines: list[Content] = [Content("Select a conversation.")]
        self._strips: dict[int, Strip] = {}  # the current lines, rendered (no selection, no offsets)
        self._strips_style: object = None  # the visual style they were rendered in
        self._parts: LRUCache[tuple[object, ...], tuple[Content, ...]] = LRUCache(self.PART_CACHE_SIZE)
        self._drawn_size = Size(0, 0)  # the view's size when `_lines` were made
        self._at_end = True  # the view shows the thread's last line (it stays so on a resize)
        self._swapping = False  # a swap repaints the lines it changed itself
        self._highlight: Highlight | None = None
        self.conversation: Conversation | None = None
        self.whole = False  # long posts of this conversation are shown whole
        self.hidden = 0  # older messages not drawn yet (see TAIL_SCREENS)
        self._complete = False  # the reader asked for the whole thread
        self.chosen: str | None = None  # remote id of the message picked to answer (None: the newest)
        self.more_key = "m"  # named in the note under a cut post; the inbox sets the remapped key
        self.decide_key = "O"  # named under a reply that waits for the manager's decision

    # -- what is shown -----------------------------------------------------------------

    @property
    def content(self) -> Content:
        """The thread as drawn (wrapped to the view's width), one line per screen line."""
        return Content("\n").join(self._lines)

    @property
    def line_count(self) -> int:
        """How many screen lines the drawn thread takes."""
        return len(self._lines)

    def show(
        self,
        conversation: Conversation | None,
        *,
        keep_scroll: bool = False,
        highlight: Highlight | None = None,
    ) -> None:
        """Display `conversation`; a different one starts at its newest message.

        `highlight`, if given, returns the spans of a post's text (as shown: sanitized, and cut
        when the post is long) to draw in HIGHLIGHT_STYLE, such as the words a search matched.
        """
        same = (
            conversation is not None
            and self.conversation is not None
            and conversation.row.id == self.conversation.row.id
        )
        if not same and self.text_selection is not None:
            self.screen.clear_selection()
        self.conversation = conversation
        self._highlight = highlight
        if not same:
            self.whole = False
            self._complete = False
            self.chosen = None
        if conversation is None:
            self.hidden = 0
            self._replace([Content("Nothing selected.")], top=0)
            return
        self._draw(keep=same and keep_scroll)

    def prepare(self, conversation: Conversation) -> None:
        """Wrap `conversation`'s newest messages ahead of showing it (the cursor may go there next),
        so that `show()` then costs little more than painting it."""
        if not self.size:
            return
        tail = max(20, self._viewport_height()) * TAIL_SCREENS
        thread_lines(
            conversation, self._now(), self._wrap_width(), more_key=self.more_key, decide_key=self.decide_key,
            tail_lines=tail, highlight=self._highlight, cache=self._parts,
        )  # fmt: skip

    def show_whole(self) -> bool:
        """Show the long posts of this conversation whole, where they stand; False if none is cut."""
        if self.whole or self.conversation is None or not _has_long_post(self.conversation):
            return False
        self.whole = True
        self._draw(keep=True)
        return True

    @property
    def chosen_message(self) -> Message | None:
        """The message picked with `choose`, if it is still in the thread and not deleted."""
        if self.conversation is None or self.chosen is None:
            return None
        chosen = self.chosen
        return next((m.message for m in answerable(self.conversation) if m.message.remote_id == chosen), None)

    def choose(self, step: int, start: Message | None) -> Message | None:
        """Move the pick `step` messages newer (or older, negative) from the one picked, or from
        `start` (what `r` answers by default); mark it and bring it into view."""
        if self.conversation is None:
            return None
        candidates = [m.message.remote_id for m in answerable(self.conversation)]
        if not candidates:
            return None
        current = self.chosen if self.chosen in candidates else None
        current = current or (start.remote_id if start is not None else None)
        index = candidates.index(current) + step if current in candidates else len(candidates) - 1
        self.chosen = candidates[max(0, min(len(candidates) - 1, index))]
        self._complete = True  # an older message may be above what is drawn
        self._draw(keep=True)
        marked = next((n for n, line in enumerate(self._lines) if line.plain.startswith(CHOSEN_MARK)), None)
        if marked is not None:
            self.scroll_to_region(Region(0, marked, 1, 3), animate=False, immediate=True)
        return self.chosen_message

    def forget_wrapped(self) -> None:
        """Drop the messages kept wrapped (the next thread shown wraps all of its own again)."""
        self._parts.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        if self.conversation is not None and self.size != self._drawn_size:
            self._draw(keep=not self._at_end)  # wrapped again, still at its end if it was

    @property
    def allow_vertical_scroll(self) -> bool:
        # Overflow is hidden (the view draws its own scrollbar), yet keys and the wheel scroll.
        return not self.disabled and self.max_scroll_y > 0

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self._swapping:  # `_replace` repaints what changed
            return
        self._at_end = round(new_value) >= self.max_scroll_y
        super().watch_scroll_y(old_value, new_value)
        if self.hidden and round(new_value) <= 0 and old_value > new_value:
            self.call_later(self._draw_all)

    def action_scroll_home(self) -> None:  # type: ignore[override]
        if self.hidden:
            self._complete = True
            self._draw(top=0)
        else:
            self.scroll_home(animate=False)

    def _draw_all(self) -> None:
        """The reader reached the top: draw the older messages above, the view not moving."""
        if not self.hidden or self.conversation is None:
            return
        self._complete = True
        self._draw(keep=True)

    def _wrap_width(self) -> int:
        return max(20, self.size.width - 2)  # a blank column, then the scrollbar's

    def _viewport_height(self) -> int:
        return self.size.height

    def _thumb(self, top: int, lines: int) -> range:
        """The rows of the scrollbar's thumb when the view shows `lines` lines from `top`."""
        height = self._viewport_height()
        if lines <= height or height <= 0:
            return range(0)
        size = max(1, round(height * height / lines))
        start = round(top * (height - size) / (lines - height))
        return range(start, start + size)

    def _draw(self, *, keep: bool = False, top: int | None = None) -> None:
        """Wrap the conversation again; `keep` the view on the same lines, else open at its end."""
        assert self.conversation is not None
        width, height = self._wrap_width(), self._viewport_height()
        before, old_top = len(self._lines), self.scroll_offset.y
        was_hidden = self.hidden
        tail = None if self._complete else max(20, height) * TAIL_SCREENS
        lines, self.hidden = thread_lines(
            self.conversation, self._now(), width, whole=self.whole, more_key=self.more_key,
            decide_key=self.decide_key, tail_lines=tail, highlight=self._highlight, cache=self._parts,
            chosen=self.chosen,
        )  # fmt: skip
        self._drawn_size = self.size
        if top is None:
            if not keep:
                top = max(0, len(lines) - height)
            elif was_hidden and not self.hidden:
                top = old_top + len(lines) - before  # the older messages went above the view
            else:
                top = old_top
        self._replace(lines, top=top)

    def _replace(self, lines: list[Content], *, top: int) -> None:
        """Show `lines` from line `top`, repainting only the screen cells that change."""
        height = self._viewport_height()
        old_top = self.scroll_offset.y
        old_thumb = self._thumb(old_top, len(self._lines))
        old_rows = [self._plain_strip(old_top + row) for row in range(height)]
        self._lines = lines
        self._strips.clear()
        # Set quietly: the reactive would repaint the whole view (and nothing else needs a
        # layout: the view has no scrollbar widget).
        self.set_reactive(ThreadView.virtual_size, Size(0, max(len(lines), height)))
        self._swapping = True
        try:
            self.scroll_to(y=top, animate=False, force=True)
        finally:
            self._swapping = False
        new_top = self.scroll_offset.y
        self._at_end = new_top >= self.max_scroll_y
        new_thumb = self._thumb(new_top, len(lines))
        for row, old in enumerate(old_rows):
            new = self._plain_strip(new_top + row)
            if (row in old_thumb) != (row in new_thumb):
                self.refresh(Region(0, row, self.size.width, 1))
            elif new != old:
                # Textual sends a line from the view's left edge to the end of the region:
                # ending it at the last cell that holds text spares the blanks after it.
                cells = max(0 if old is None else old.cell_length, 0 if new is None else new.cell_length)
                self.refresh(Region(0, row, max(1, cells), 1))

    # -- rendering ---------------------------------------------------------------------

    def _plain_strip(self, index: int) -> Strip | None:
        """Line `index` rendered, unpadded (None past the end)."""
        if not 0 <= index < len(self._lines):
            return None
        # Rendered again only when the style they are drawn in changed, not at each style update:
        # focus moving in or out leaves it as it was (Enter and Esc drew every line twice).
        if (style := self.visual_style) != self._strips_style:
            self._strips.clear()
            self._strips_style = style
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._line_strip(self._lines[index])
        return strip

    def _line_strip(self, line: Content) -> Strip:
        """One line as a strip (not `_render_content`: Textual's Widget has one, without arguments)."""
        segments = [
            Segment(text, style.rich_style)
            for text, style in line.render(self.visual_style, end="", parse_style=Style.parse)
        ]
        return fewer_runs(segments)  # one escape sequence per run of a style

    def render_line(self, y: int) -> Strip:
        top = self.scroll_offset.y
        index = top + y
        width = self.size.width
        base = self.visual_style.rich_style  # cached by Textual, unlike `rich_style`
        if y in self._thumb(top, len(self._lines)):
            thumb = self.get_component_rich_style("thread-view--scrollbar", partial=True)
            scrollbar = Strip([Segment(self.SCROLLBAR_THUMB, base + thumb)], 1)
        else:
            scrollbar = Strip.blank(1, base)
        strip = self._plain_strip(index)
        if strip is None:
            # Joined into one run where the scrollbar's cell is blank: one escape sequence, not two.
            return self.painted(y, Strip.join([Strip.blank(width - 1, base), scrollbar]).simplify())
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            line = self._lines[index]
            selected = Style.from_styles(self.screen.get_component_styles("screen--selection"))
            strip = self._line_strip(line.stylize(selected, start, len(line) if end == -1 else end))
        text = strip.crop_extend(0, width - 1, base).apply_offsets(0, index)
        return self.painted(y, Strip.join([text, scrollbar]).simplify())

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(line.plain for line in self._lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def render_conversation(
    conversation: Conversation,
    now: datetime,
    width: int = 80,
    *,
    whole: bool = False,
    more_key: str = "m",
    decide_key: str = "O",
) -> Content:
    """One Content for the whole thread: headers, bodies, links, then pending replies.

    Every line is wrapped to `width`, and replies keep their indent on every line. Posts longer
    than BODY_DISPLAY_CHARS are cut, with a note naming `more_key`, unless `whole`.
    """
    lines, _ = thread_lines(conversation, now, width, whole=whole, more_key=more_key, decide_key=decide_key)
    return Content("\n").join(lines)


def thread_lines(
    conversation: Conversation,
    now: datetime,
    width: int = 80,
    *,
    whole: bool = False,
    more_key: str = "m",
    decide_key: str = "O",
    tail_lines: int | None = None,
    highlight: Highlight | None = None,
    cache: LRUCache[tuple[object, ...], tuple[Content, ...]] | None = None,
    chosen: str | None = None,
) -> tuple[list[Content], int]:
    """The thread as screen lines of at most `width` cells; with `tail_lines`, only its newest
    messages that make at least that many lines, under a note saying how many older ones are not
    drawn; and that number. `cache` keeps wrapped messages between calls. The message whose remote
    id is `chosen` is marked as the one `r` answers."""
    shown = _Shown(width, whole, more_key, decide_key, highlight)
    lines: list[Content] = []
    if subject := (conversation.messages[0].message.title if conversation.messages else ""):
        # A mail's subject, a forum topic's title: what the whole thread is about.
        heading = safe_content(subject, style="bold", single_line=True, max_chars=200)
        lines += [*_fit([heading], width), Content()]
    lines += _triage_header(conversation, now, width)
    messages, hidden = _message_lines(conversation, shown, now, cache, tail_lines, chosen)
    if hidden:
        note = Content.styled(f"↑ {hidden} older messages: scroll to the top to read them", "dim italic")
        lines += [*_fit([note], width), Content()]
    lines += messages
    for item in conversation.outbox:
        lines += _render_outbox(item, shown, now)
    for linked in conversation.linked:
        # A forum topic has a title; a Mastodon conversation is named by its person.
        title = next((m.message.title for m in linked.messages if m.message.title), "")
        named = title or f"conversation with {linked.row.author_label or linked.row.author_handle}"
        heading = Content.assemble(
            ("── linked, ", "dim"), (f"on {linked.row.channel}: ", "bold $accent"),
            safe_content(named, style="bold", single_line=True, max_chars=80), (" ──", "dim"),
            (f"  {HIDDEN_NOTE}" if hidden_characters(named) else "", "dim italic"),
        )  # fmt: skip
        lines += _fit([heading], width)
        lines += _message_lines(linked, shown, now, cache)[0]
    return lines, hidden


def _triage_header(conversation: Conversation, now: datetime, width: int) -> list[Content]:
    """What was decided and why, above the messages: one line on the state (and why), the snooze,
    who has it and the tags; then its priority and why, muted, and what rules did or suggest.
    Reasons may quote the person's words, names and tags are typed: sanitized, never markup."""
    row = conversation.row
    parts: list[Content | str] = []
    if row.state is State.SNOOZED and row.snoozed_until is not None:
        wake = describe_wake(row.snoozed_until, now.astimezone())
        parts.append(Content.styled(f"snoozed until {wake}", "$warning"))
    elif row.reason or row.state is not State.OPEN:
        label = f"{row.state.value} · {row.reason}" if row.reason else row.state.value
        parts.append(safe_content(label, style="dim italic", single_line=True))
    if row.assignee:
        parts += [
            "  ",
            safe_content(f"assigned to {row.assignee}", style="bold", single_line=True, max_chars=60),
        ]
    if row.tags:
        parts += [
            "  ",
            safe_content(" ".join("#" + t for t in row.tags), style="$text-secondary", single_line=True),
        ]
    lines: list[Content] = []
    if parts:
        lines.append(Content.assemble(*parts))
    if row.priority > 0:
        why = f"▲ {row.priority_reason or 'high priority'}"
        lines.append(safe_content(why, style="bold $warning", single_line=True))
    elif row.priority < 0:
        why = row.priority_reason or "low priority"
        lines.append(safe_content(why, style="dim italic", single_line=True))
    if row.muted:
        muted = "muted: no notification, new messages do not reopen it (M unmutes)"
        lines.append(Content.styled(muted, "dim italic"))
    lines += [
        safe_content(note, style="dim italic", single_line=True) for note in conversation.screening_notes
    ]
    return [*_fit(lines, width), Content()] if lines else []


def _render_note(note: Note, shown: _Shown, when: str) -> tuple[Content, ...]:
    """An internal note, marked so it is never mistaken for a message: never sent."""
    header = Content.assemble(
        ("▌ ", "$warning"),
        ("note by ", "$warning"),
        safe_content(note.author, style="$warning bold", single_line=True, max_chars=40),
        (f"  {when}", "dim"),
        ("  internal, never sent", "dim italic"),
    )
    lines = _fit([header], shown.width)
    body = safe_content(note.text, max_chars=BODY_WHOLE_CHARS)
    lines += [Content.assemble(("▌ ", "$warning"), line) for line in _indented(body, "", shown.width - 2)]
    lines.append(Content())
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class _Shown:
    """How the messages are drawn this time (part of the key of a wrapped message)."""

    width: int
    whole: bool
    more_key: str
    decide_key: str
    highlight: Highlight | None = None


def _fit(lines: list[Content], width: int) -> list[Content]:
    """Lines longer than `width` cells wrapped (a long name in a header, say)."""
    fitted: list[Content] = []
    for line in lines:
        if line.cell_length > width:
            fitted.extend(line.wrap(width) or [line])
        else:
            fitted.append(line)
    return fitted


def _has_long_post(conversation: Conversation) -> bool:
    """Whether a post of `conversation` or of a linked one is shown cut (or hidden: deleted)."""
    every = [conversation, *conversation.linked]
    return any(
        (m.message.deleted and m.message.text)
        or (len(m.message.text) > BODY_DISPLAY_CHARS and len(sanitize(m.message.text)) > BODY_DISPLAY_CHARS)
        for c in every
        for m in c.messages
    )


def _message_lines(
    conversation: Conversation,
    shown: _Shown,
    now: datetime,
    cache: LRUCache[tuple[object, ...], tuple[Content, ...]] | None,
    tail_lines: int | None = None,
    chosen: str | None = None,
) -> tuple[list[Content], int]:
    """The messages' lines, oldest first; with `tail_lines`, only the newest that make that many
    lines (and how many older ones were left out); the message `chosen` marked as `r`'s target."""
    depth = _depths(conversation.messages)
    rendered: list[tuple[Content, ...]] = []
    count = 0
    notes = sorted(conversation.notes, key=lambda n: (n.at, n.id))
    shown_messages = 0
    for stored in reversed(conversation.messages):
        if tail_lines is not None and count >= tail_lines:
            break
        # Notes written after this message come after it (the loop walks newest first).
        while notes and notes[-1].at >= stored.message.created_at:
            note = notes.pop()
            rendered.append(_render_note(note, shown, ago(note.at, now)))
            count += len(rendered[-1])
        shown_messages += 1
        when = ago(stored.message.created_at, now)
        marked = chosen is not None and stored.message.remote_id == chosen
        key = (stored, depth.get(stored.id, 0), shown, conversation.row.id, when, marked)
        part = None if cache is None else cache.get(key)
        if part is None:
            part = _render_message(stored, depth.get(stored.id, 0), shown, conversation.row.id, when, marked)
            if cache is not None:
                cache[key] = part
        rendered.append(part)
        count += len(part)
    if shown_messages == len(conversation.messages):
        rendered += [_render_note(note, shown, ago(note.at, now)) for note in reversed(notes)]
    rendered.reverse()
    return [line for part in rendered for line in part], len(conversation.messages) - shown_messages


def _indented(content: Content, indent: str, width: int) -> list[Content]:
    """`content` wrapped to `width`, every line (wrapped or not) starting with `indent`."""
    room = max(10, width - len(indent))
    return [
        Content.assemble(indent, line) for part in content.split("\n") for line in (part.wrap(room) or [part])
    ]


def _depths(messages: list[StoredMessage]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for stored in messages:  # parents come first: the store orders by time, threading by parent
        depth[stored.id] = min(depth.get(stored.parent_id, -1) + 1, 4) if stored.parent_id else 0
    return depth


def _folded(content: Content, indent: str, width: int) -> list[Content]:
    """`content` cut every `width` cells, never at spaces: a long address stays by its number."""
    room = max(10, width - len(indent))
    offsets = list(range(room, len(content.plain), room))
    return [Content.assemble(indent, piece) for piece in content.divide(offsets)]


def _body(text: str, shown: _Shown) -> Content:
    """A post's (sanitized) text, with the spans `shown.highlight` picks drawn highlighted."""
    body = Content(text)
    if shown.highlight is not None:
        for start, end in shown.highlight(text):
            body = body.stylize(HIGHLIGHT_STYLE, max(0, start), min(len(text), end))
    return body


def _render_message(
    stored: StoredMessage, depth: int, shown: _Shown, conversation_id: int, when: str, marked: bool = False
) -> tuple[Content, ...]:
    message, width = stored.message, shown.width
    indent = "  " * depth
    text, hidden = sanitize_and_flag(message.text)
    who_style = "$success bold" if message.is_ours else "$accent bold"
    header = Content.assemble(
        (CHOSEN_MARK, "bold reverse") if marked else "",
        indent,
        safe_content(message.author.label, style=who_style, single_line=True, max_chars=60),
        " ",
        safe_content(f"@{message.author.handle}", style="dim", single_line=True, max_chars=80),
        (f"  {when}", "dim"),
        ("  (you)" if message.is_ours else "", "dim"),
        ("  [edited]" if message.edited_at else "", "dim"),
        (f"  {VISIBILITY_LABELS[message.visibility]}" if message.visibility in VISIBILITY_LABELS else "",
         "bold $warning" if message.visibility == "direct" else "dim"),
        ("  held for moderation" if message.held else "", "bold $warning"),
        ("  ← r answers this" if marked else "", "bold"),
    )  # fmt: skip
    lines = [header]
    if hidden or _flagged(message):
        # Calm but visible: the text differs from what was sent (a reversed file name, say).
        lines.append(Content.styled(f"{indent}  {HIDDEN_NOTE}", "dim italic"))
    if message.deleted:
        if not shown.whole and text:
            note = f"(deleted on the platform; its text is hidden: {shown.more_key} shows it)"
            lines.append(Content.styled(f"{indent}  {note}", "dim italic"))
            lines.append(Content())
            return tuple(_fit(lines, width))
        lines.append(Content.styled(f"{indent}  (deleted on the platform)", "dim italic"))
    if message.spoiler:
        spoiler = safe_content(message.spoiler, single_line=True)
        lines.append(Content.assemble(f"{indent}  ", ("CW: ", "bold $warning"), spoiler))
    lines = _fit(lines, width)
    limit = BODY_WHOLE_CHARS if shown.whole else BODY_DISPLAY_CHARS
    if len(text) <= limit:
        lines.extend(_indented(_body(text, shown), f"{indent}  ", width))
    else:  # `text` is sanitized already: cutting a prefix again only keeps emoji sequences whole
        part = sanitize(text[: limit + 1], max_chars=limit)
        lines.extend(_indented(_body(part, shown), f"{indent}  ", width))
        more = len(text) - len(part.removesuffix("…"))
        if shown.whole:
            note = f"… {more} more characters: `ecoinbox show {conversation_id}` prints them all"
        else:
            note = f"… {more} more characters — press {shown.more_key} to show all"
        lines.extend(_fit([Content.styled(f"{indent}  {note}", "dim")], width))
    for number, url in enumerate(message.links, start=1):
        footnote = Content.assemble((f"[{number}] ", "dim"), link_content(url, url))
        lines.extend(_folded(footnote, f"{indent}  ", width))
    lines.append(Content())  # a blank line between messages
    return tuple(lines)


VISIBILITY_LABELS = {
    "direct": "direct message",  # only the people it names see it
    "private": "followers only",
    "unlisted": "unlisted",
}
"""How a post that is not public says so in its header (Mastodon's visibilities)."""


def _flagged(message: Message) -> bool:
    """Whether the channel removed hidden characters when it decoded the text, or the name or
    the warning shown with it holds some (those are stored as the platform sent them)."""
    return message.hidden_characters or any(
        hidden_characters(field)
        for field in (message.author.display_name, message.author.handle, message.spoiler)
    )


def _render_outbox(item: OutboxItem, shown: _Shown, now: datetime) -> list[Content]:
    width = shown.width
    label, style = _OUTBOX_LABELS.get(item.state, (item.state.value, "dim"))
    held = held_until(item, now)
    if item.depends_on is not None and item.state is OutboxState.QUEUED:
        label = "waiting for the forum topic"
    elif held:
        label = f"held until {held}"
    what = "  new forum topic " if item.kind == "topic" else "  reply "
    header = Content.assemble(
        ("You", "$success bold"),
        (what, "dim"),
        (label, f"bold {style}"),
        (f"  written {ago(item.created_at, now)}", "dim"),
    )
    lines = _fit([header], width)
    if item.title:
        lines.extend(_indented(safe_content(item.title, style="bold"), "  ", width))
    lines.extend(_indented(safe_content(item.text), "  ", width))
    if held:
        lines.extend(_fit([Content.styled("  It goes out then; until then, undo takes it back into its box.", "dim")],
                          width))  # fmt: skip
    if item.error:
        advice = outbox_advice(item, now, shown.decide_key)
        lines.extend(_indented(safe_content(item.error, style=style, max_chars=300), "  ", width))
        if advice:
            lines.extend(_fit([Content.styled(f"  {advice}", "dim")], width))
    lines.append(Content())
    return lines
