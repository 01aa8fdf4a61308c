"""The selected conversation, oldest message first, with replies still on their way out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ecoinbox.model import Conversation, Message, OutboxItem, OutboxState, StoredMessage
from ecoinbox.humanize import age, ago
from ecoinbox.sanitize import hidden_characters, sanitize, sanitize_and_flag
from ecoinbox.tui.safe import link_content, safe_content

# Show this much of a huge post until the manager asks for all of it; the store keeps all of it.
BODY_DISPLAY_CHARS = 4000
# Even then a terminal is no pager for megabytes: laying out 1 MB takes over a second, again at
# every redraw. Beyond this the note points at `ecoinbox show`, which prints it all.
BODY_WHOLE_CHARS = 100_000
# A thread opens at its newest message, and Textual lays a Static out whole (a 200-message
# thread, 885 lines, took 0.3 s to show): only the newest messages that fill this many screens
# are drawn until the reader scrolls to the top, which brings the rest.
TAIL_SCREENS = 3
HIDDEN_NOTE = "⚠ hidden characters removed"

_OUTBOX_LABELS = {
    OutboxState.QUEUED: ("queued", "$warning"),
    OutboxState.SENDING: ("sending…", "$warning"),
    OutboxState.FAILED: ("not sent", "$error"),
    OutboxState.UNKNOWN: ("uncertain", "$error"),
}


class ThreadView(VerticalScroll, can_focus=True):
    """Renders one conversation; every platform string goes through `safe_content`."""

    DEFAULT_CSS = """
    ThreadView { padding: 0 1; }
    ThreadView > Static { width: 1fr; }
    """
    BINDINGS = [
        Binding("j,down", "scroll_down", "Scroll down", id="thread.down", show=False),
        Binding("k,up", "scroll_up", "Scroll up", id="thread.up", show=False),
        Binding("g,home", "scroll_home", "Top", id="thread.top", show=False),
        Binding("G,end", "scroll_end", "Bottom", id="thread.bottom", show=False),
    ]

    def __init__(self, *, now: Callable[[], datetime] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now or (lambda: datetime.now(UTC))
        self._body = Static(Content("Select a conversation."), markup=False)
        self.conversation: Conversation | None = None
        self.whole = False  # long posts of this conversation are shown whole
        self.hidden = 0  # older messages not drawn yet (see TAIL_SCREENS)
        self._complete = False  # the reader asked for the whole thread
        self.more_key = "m"  # named in the note under a cut post; the inbox sets the remapped key
        self.decide_key = "O"  # named under a reply that waits for the manager's decision

    def compose(self):  # type: ignore[override]
        yield self._body

    def show(self, conversation: Conversation | None, *, keep_scroll: bool = False) -> None:
        """Display `conversation`; a different one starts at its newest message."""
        same = (
            conversation is not None
            and self.conversation is not None
            and conversation.row.id == self.conversation.row.id
        )
        self.conversation = conversation
        if not same:
            self.whole = False
            self._complete = False
        if conversation is None:
            self.hidden = 0
            self._body.update(Content("Nothing selected."))
            return
        self._draw()
        if not (same and keep_scroll):
            self.call_after_refresh(self.scroll_end, animate=False)

    def show_whole(self) -> bool:
        """Show the long posts of this conversation whole, where they stand; False if none is cut."""
        if self.whole or self.conversation is None or not _has_long_post(self.conversation):
            return False
        self.whole = True
        self._draw()
        return True

    def on_resize(self) -> None:
        if self.conversation is not None:
            self._draw()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.hidden and round(new_value) <= 0 and old_value > new_value:
            self.call_later(self._draw_all)

    def action_scroll_home(self) -> None:  # type: ignore[override]
        if self.hidden:
            self._complete = True
            self._draw()
            self.call_after_refresh(self.scroll_home, animate=False)
        else:
            self.scroll_home(animate=False)

    def _draw_all(self) -> None:
        """The reader reached the top: draw the older messages above, the view not moving."""
        if not self.hidden or self.conversation is None:
            return
        before = self.virtual_size.height
        self._complete = True
        self._draw()

        def keep_place() -> None:
            self.scroll_to(y=self.scroll_y + self.virtual_size.height - before, animate=False)

        self.call_after_refresh(keep_place)

    def _draw(self) -> None:
        assert self.conversation is not None
        width = max(20, self.scrollable_content_region.width - 1)
        tail = None if self._complete else max(20, self.scrollable_content_region.height) * TAIL_SCREENS
        content, self.hidden = render_thread(
            self.conversation, self._now(), width, whole=self.whole, more_key=self.more_key,
            decide_key=self.decide_key, tail_lines=tail,
        )  # fmt: skip
        self._body.update(content)


def render_conversation(
    conversation: Conversation, now: datetime, width: int = 80, *, whole: bool = False, more_key: str = "m",
    decide_key: str = "O",
) -> Content:
    """One Content for the whole thread: headers, bodies, links, then pending replies.

    Bodies are wrapped here, to `width`, so that replies keep their indent on every line. Posts
    longer than BODY_DISPLAY_CHARS are cut, with a note naming `more_key`, unless `whole`.
    """
    return render_thread(conversation, now, width, whole=whole, more_key=more_key, decide_key=decide_key)[0]


def render_thread(
    conversation: Conversation, now: datetime, width: int = 80, *, whole: bool = False, more_key: str = "m",
    decide_key: str = "O", tail_lines: int | None = None,
) -> tuple[Content, int]:
    """`render_conversation`, or with `tail_lines` only its newest messages that make at least
    that many lines, under a note saying how many older ones are not drawn; and that number."""
    shown = _Shown(now, width, whole, more_key, decide_key)
    parts: list[Content] = []
    if conversation.row.reason:
        parts.append(Content.styled(f"{conversation.row.state.value} · {conversation.row.reason}\n", "dim italic"))
    messages, hidden = _render_messages(conversation, shown, tail_lines)
    if hidden:
        note = f"↑ {hidden} older messages: scroll to the top to read them\n"
        parts.append(Content.styled(note, "dim italic"))
    parts.extend(messages)
    for item in conversation.outbox:
        parts.append(_render_outbox(item, shown))
    for linked in conversation.linked:
        title = next((m.message.title for m in linked.messages if m.message.title), "")
        heading = Content.assemble(
            ("── ", "dim"), (f"on {linked.row.channel}: ", "bold $accent"),
            safe_content(title, style="bold", single_line=True, max_chars=80), (" ──", "dim"),
            (f"  {HIDDEN_NOTE}" if hidden_characters(title) else "", "dim italic"),
        )  # fmt: skip
        parts.append(heading)
        parts.extend(_render_messages(linked, shown)[0])
    return Content("\n").join(parts), hidden


@dataclass(frozen=True, slots=True)
class _Shown:
    """How the messages are drawn this time."""

    now: datetime
    width: int
    whole: bool
    more_key: str
    decide_key: str


def _has_long_post(conversation: Conversation) -> bool:
    """Whether a post of `conversation` or of a linked one is shown cut."""
    every = [conversation, *conversation.linked]
    return any(
        len(m.message.text) > BODY_DISPLAY_CHARS and len(sanitize(m.message.text)) > BODY_DISPLAY_CHARS
        for c in every
        for m in c.messages
    )


def _render_messages(
    conversation: Conversation, shown: _Shown, tail_lines: int | None = None
) -> tuple[list[Content], int]:
    """The messages, oldest first; with `tail_lines`, only the newest that make that many lines
    (and how many older ones were left out)."""
    depth = _depths(conversation.messages)
    rendered: list[Content] = []
    lines = 0
    for stored in reversed(conversation.messages):
        if tail_lines is not None and lines >= tail_lines:
            break
        part = _render_message(stored, depth.get(stored.id, 0), shown, conversation.row.id)
        rendered.append(part)
        lines += part.plain.count("\n") + 1
    rendered.reverse()
    return rendered, len(conversation.messages) - len(rendered)


def _indented(content: Content, indent: str, width: int) -> list[Content]:
    """`content` wrapped to `width`, every line (wrapped or not) starting with `indent`."""
    room = max(10, width - len(indent))
    return [Content.assemble(indent, line) for part in content.split("\n") for line in (part.wrap(room) or [part])]


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


def _render_message(stored: StoredMessage, depth: int, shown: _Shown, conversation_id: int) -> Content:
    message, now, width = stored.message, shown.now, shown.width
    indent = "  " * depth
    text, hidden = sanitize_and_flag(message.text)
    who_style = "$success bold" if message.is_ours else "$accent bold"
    header = Content.assemble(
        indent,
        safe_content(message.author.label, style=who_style, single_line=True, max_chars=60),
        " ",
        safe_content(f"@{message.author.handle}", style="dim", single_line=True, max_chars=80),
        (f"  {ago(message.created_at, now)}", "dim"),
        ("  (you)" if message.is_ours else "", "dim"),
        ("  [edited]" if message.edited_at else "", "dim"),
    )
    lines = [header]
    if hidden or _flagged(message):
        # Calm but visible: the text differs from what was sent (a reversed file name, say).
        lines.append(Content.styled(f"{indent}  {HIDDEN_NOTE}", "dim italic"))
    if message.deleted:
        lines.append(Content.styled(f"{indent}  (deleted on the platform)", "dim italic"))
    if message.spoiler:
        spoiler = safe_content(message.spoiler, single_line=True)
        lines.append(Content.assemble(f"{indent}  ", ("CW: ", "bold $warning"), spoiler))
    limit = BODY_WHOLE_CHARS if shown.whole else BODY_DISPLAY_CHARS
    if len(text) <= limit:
        lines.extend(_indented(Content(text), f"{indent}  ", width))
    else:  # `text` is sanitized already: cutting a prefix again only keeps emoji sequences whole
        part = sanitize(text[: limit + 1], max_chars=limit)
        lines.extend(_indented(Content(part), f"{indent}  ", width))
        more = len(text) - len(part.removesuffix("…"))
        if shown.whole:
            note = f"… {more} more characters: `ecoinbox show {conversation_id}` prints them all"
        else:
            note = f"… {more} more characters — press {shown.more_key} to show all"
        lines.append(Content.styled(f"{indent}  {note}", "dim"))
    for number, url in enumerate(message.links, start=1):
        footnote = Content.assemble((f"[{number}] ", "dim"), link_content(url, url))
        lines.extend(_folded(footnote, f"{indent}  ", width))
    return Content("\n").join(lines) + Content("\n")


def _flagged(message: Message) -> bool:
    """Whether the channel removed hidden characters when it decoded the text, or the name or
    the warning shown with it holds some (those are stored as the platform sent them)."""
    return message.hidden_characters or any(
        hidden_characters(field)
        for field in (message.author.display_name, message.author.handle, message.spoiler)
    )


def _render_outbox(item: OutboxItem, shown: _Shown) -> Content:
    now, width = shown.now, shown.width
    label, style = _OUTBOX_LABELS.get(item.state, (item.state.value, "dim"))
    if item.depends_on is not None and item.state is OutboxState.QUEUED:
        label = "waiting for the forum topic"
    what = "  new forum topic " if item.kind == "topic" else "  reply "
    header = Content.assemble(
        ("You", "$success bold"),
        (what, "dim"),
        (label, f"bold {style}"),
        (f"  written {ago(item.created_at, now)}", "dim"),
    )
    lines = [header]
    if item.title:
        lines.extend(_indented(safe_content(item.title, style="bold"), "  ", width))
    lines.extend(_indented(safe_content(item.text), "  ", width))
    if item.error:
        advice = _outbox_advice(item, now, shown.decide_key)
        lines.extend(_indented(safe_content(item.error, style=style, max_chars=300), "  ", width))
        if advice:
            lines.append(Content.styled(f"  {advice}", "dim"))
    return Content("\n").join(lines) + Content("\n")


def _outbox_advice(item: OutboxItem, now: datetime, decide_key: str) -> str:
    if item.state is OutboxState.QUEUED and item.next_attempt_at is not None:
        wait = age(item.next_attempt_at, now, future=True)
        when = "in a moment" if wait == "now" else f"in {wait}"
        return f"Will retry {when} (attempt {item.attempts + 1})."
    if item.state is OutboxState.FAILED:
        return f"The platform refused it; it will not be retried. {decide_key}: edit, send again or discard."
    if item.state is OutboxState.UNKNOWN:
        return f"Not resent automatically, so it cannot appear twice. {decide_key}: decide once you have looked."
    return ""
