"""The selected conversation, oldest message first, with replies still on their way out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ecoinbox.model import Conversation, OutboxItem, OutboxState, StoredMessage
from ecoinbox.humanize import age
from ecoinbox.tui.safe import link_content, safe_content

# Show this much of a huge post; the store keeps all of it.
BODY_DISPLAY_CHARS = 4000

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
        if conversation is None:
            self._body.update(Content("Nothing selected."))
            return
        self._draw()
        if not (same and keep_scroll):
            self.call_after_refresh(self.scroll_end, animate=False)

    def on_resize(self) -> None:
        if self.conversation is not None:
            self._draw()

    def _draw(self) -> None:
        assert self.conversation is not None
        width = max(20, self.scrollable_content_region.width - 1)
        self._body.update(render_conversation(self.conversation, self._now(), width))


def render_conversation(conversation: Conversation, now: datetime, width: int = 80) -> Content:
    """One Content for the whole thread: headers, bodies, links, then pending replies.

    Bodies are wrapped here, to `width`, so that replies keep their indent on every line.
    """
    parts: list[Content] = []
    if conversation.row.reason:
        parts.append(Content.styled(f"{conversation.row.state.value} · {conversation.row.reason}\n", "dim italic"))
    parts.extend(_render_messages(conversation, now, width))
    for item in conversation.outbox:
        parts.append(_render_outbox(item, now, width))
    for linked in conversation.linked:
        title = next((m.message.title for m in linked.messages if m.message.title), "")
        heading = Content.assemble(
            ("── ", "dim"), (f"on {linked.row.channel}: ", "bold $accent"),
            safe_content(title, style="bold", single_line=True, max_chars=80), (" ──", "dim"),
        )  # fmt: skip
        parts.append(heading)
        parts.extend(_render_messages(linked, now, width))
    return Content("\n").join(parts)


def _render_messages(conversation: Conversation, now: datetime, width: int) -> list[Content]:
    depth = _depths(conversation.messages)
    return [_render_message(stored, depth.get(stored.id, 0), now, width) for stored in conversation.messages]


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


def _render_message(stored: StoredMessage, depth: int, now: datetime, width: int) -> Content:
    message = stored.message
    indent = "  " * depth
    who_style = "$success bold" if message.is_ours else "$accent bold"
    header = Content.assemble(
        indent,
        safe_content(message.author.label, style=who_style, single_line=True, max_chars=60),
        " ",
        safe_content(f"@{message.author.handle}", style="dim", single_line=True, max_chars=80),
        (f"  {age(message.created_at, now)} ago", "dim"),
        ("  (you)" if message.is_ours else "", "dim"),
        ("  [edited]" if message.edited_at else "", "dim"),
    )
    lines = [header]
    if message.deleted:
        lines.append(Content.styled(f"{indent}  (deleted on the platform)", "dim italic"))
    if message.spoiler:
        spoiler = safe_content(message.spoiler, single_line=True)
        lines.append(Content.assemble(f"{indent}  ", ("CW: ", "bold $warning"), spoiler))
    lines.extend(_indented(safe_content(message.text, max_chars=BODY_DISPLAY_CHARS), f"{indent}  ", width))
    if len(message.text) > BODY_DISPLAY_CHARS:
        lines.append(Content.styled(f"{indent}  … ({len(message.text)} characters, shown in part)", "dim"))
    for number, url in enumerate(message.links, start=1):
        footnote = Content.assemble((f"[{number}] ", "dim"), link_content(url, url))
        lines.extend(_folded(footnote, f"{indent}  ", width))
    return Content("\n").join(lines) + Content("\n")


def _render_outbox(item: OutboxItem, now: datetime, width: int) -> Content:
    label, style = _OUTBOX_LABELS.get(item.state, (item.state.value, "dim"))
    if item.depends_on is not None and item.state is OutboxState.QUEUED:
        label = "waiting for the forum topic"
    what = "  new forum topic " if item.kind == "topic" else "  reply "
    header = Content.assemble(
        ("You", "$success bold"),
        (what, "dim"),
        (label, f"bold {style}"),
        (f"  written {age(item.created_at, now)} ago", "dim"),
    )
    lines = [header]
    if item.title:
        lines.extend(_indented(safe_content(item.title, style="bold"), "  ", width))
    lines.extend(_indented(safe_content(item.text), "  ", width))
    if item.error:
        advice = _outbox_advice(item, now)
        lines.extend(_indented(safe_content(item.error, style=style, max_chars=300), "  ", width))
        if advice:
            lines.append(Content.styled(f"  {advice}", "dim"))
    return Content("\n").join(lines) + Content("\n")


def _outbox_advice(item: OutboxItem, now: datetime) -> str:
    if item.state is OutboxState.QUEUED and item.next_attempt_at is not None:
        wait = age(item.next_attempt_at, now, future=True)
        when = "in a moment" if wait == "now" else f"in {wait}"
        return f"Will retry {when} (attempt {item.attempts + 1})."
    if item.state is OutboxState.FAILED:
        return "The platform refused this reply; it will not be retried."
    if item.state is OutboxState.UNKNOWN:
        return "Not resent automatically, so it cannot appear twice."
    return ""
