"""The Outbox view: every reply not sent yet, across conversations, and the manager's hand on it.

Queued, retrying, being sent, refused or uncertain: each row says its state, why (the error),
when the next attempt is and whom it answers. A reply stuck against a server that is down can
be sent now, edited or cancelled here; a refused or uncertain one gets the `O` decisions. The
outbox holds tens of replies, not a million conversations: a DataTable is the right size.
Every change is an intent written to the store, applied only if no sender holds the reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ecoinbox.humanize import age
from ecoinbox.model import OutboxState, ReplyDecision, UnsentReply
from ecoinbox.sanitize import sanitize
from ecoinbox.store import Store, StoreError
from ecoinbox.tui.safe import safe_content, safe_text
from ecoinbox.tui.screens.compose import ComposedReply, ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.outbox import EDIT, OutboxDecisionScreen
from ecoinbox.tui.store_notices import notify_store_failure

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.tui.app import EcoInboxApp

REFRESH_S = 1.0
"""The list is read again this often while shown: the sender works in the background (perhaps
in another process), and "next attempt in 2m" counts down."""
_STATE_WORDS = {
    OutboxState.QUEUED: "queued", OutboxState.SENDING: "sending", OutboxState.FAILED: "refused",
    OutboxState.UNKNOWN: "uncertain",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LeaveOutbox:
    """How the Outbox view was left: to the next or previous tab (`step`), or to a conversation."""

    step: int = 0
    conversation_id: int | None = None


class OutboxScreen(Screen[LeaveOutbox]):
    """Replies on their way out; `enter` opens one's conversation, S E D O act on it."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_conversation", "Open its conversation", id="outbox_view.open"),
        Binding("S", "send_now", "Send now", id="outbox_view.send_now"),
        Binding("E", "edit", "Edit", id="outbox_view.edit"),
        Binding("D", "cancel_reply", "Cancel (discard)", id="outbox_view.cancel"),
        Binding("O", "decide", "Decide: refused / uncertain", id="outbox_view.decide"),
        Binding("j", "cursor(1)", "Down", id="outbox_view.down", show=False),
        Binding("k", "cursor(-1)", "Up", id="outbox_view.up", show=False),
        Binding("tab", "leave(1)", "Views", id="outbox_view.next_view", show=False),
        Binding("shift+tab", "leave(-1)", "Previous view", id="outbox_view.previous_view", show=False),
        Binding("escape", "leave(0)", "Back to the inbox", id="outbox_view.back"),
    ]
    DEFAULT_CSS = """
    OutboxScreen #outbox-tabs { height: 1; background: $panel; }
    OutboxScreen DataTable { height: 1fr; }
    OutboxScreen #outbox-detail {
        height: auto; max-height: 45%; padding: 0 1; border-top: solid $primary-muted;
    }
    """

    def __init__(self, replies: list[UnsentReply], *, tabs: Callable[[], Content], actor: str) -> None:
        """`replies` as last read (the inbox keeps them for its tab's count): keys typed with
        the one that opened this view act on them before the store is read again. `tabs` draws
        the inbox's tab bar with this view's tab shown; `actor` is who acts (`[team] me`)."""
        super().__init__()
        self.tabs = tabs
        self.actor = actor
        self.replies = list(replies)
        self._shown: list[tuple[object, ...]] | None = None  # what the table shows, to skip redraws

    def compose(self) -> ComposeResult:
        yield Static("", id="outbox-tabs", markup=False)
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=False, id="outbox-table")
        table.add_column("State", width=9, key="state")
        table.add_column("Next", width=7, key="next")
        table.add_column("To", width=22, key="to")
        table.add_column("Reason", key="reason")
        yield table
        yield Static("", id="outbox-detail", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        self._fill(self.replies, self.store.now())
        self.table.focus()
        self.query_one("#outbox-tabs", Static).update(self.tabs())
        self._render_detail()
        self.set_interval(REFRESH_S, self.refresh_list, name="outbox view refresh")
        self.call_after_refresh(self.refresh_list)

    @property
    def selected(self) -> UnsentReply | None:
        """The reply under the cursor (the first one before the table is drawn)."""
        try:
            row = self.table.cursor_row
        except NoMatches:
            row = 0
        return self.replies[row] if 0 <= row < len(self.replies) else None

    async def refresh_list(self) -> None:
        """Read the outbox again; the cursor stays on its reply while it is listed."""
        try:
            replies = await self.store.unsent_replies()
        except StoreError as exc:
            self.query_one("#outbox-detail", Static).update(Content(f"Could not read the outbox: {exc}"))
            return
        self._fill(replies, self.store.now())
        self.query_one("#outbox-tabs", Static).update(self.tabs())
        self._render_detail()

    def _fill(self, replies: list[UnsentReply], now: datetime) -> None:
        """The table, if it shows something else; `now` is the store's (outbox times are)."""
        table, was = self.table, self.selected
        rows = [_cells(reply, now) for reply in replies]
        shown = [(reply.item.id, *(cell.plain for cell in cells)) for reply, cells in zip(replies, rows)]
        self.replies = replies
        if shown == self._shown:
            return  # unchanged: nothing is sent to the terminal
        self._shown = shown
        table.clear()
        for reply, cells in zip(replies, rows):
            table.add_row(*cells, key=str(reply.item.id))
        if was is not None and (index := _index_of(replies, was.item.id)) is not None:
            table.move_cursor(row=index, animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        detail = self.query_one("#outbox-detail", Static)
        reply = self.selected
        if reply is None:
            detail.update(Content.styled("Nothing waits to go out: every reply was sent.", "dim"))
            return
        item = reply.item
        channel = sanitize(item.channel, single_line=True)
        what = f"reply on {channel} to " if item.kind == "reply" else f"new forum topic on {channel}: "
        hint = (f"  ·  {_hint(reply)}", "dim")
        lines = [Content.assemble((what, "bold"), (_to(reply).plain, "bold"), hint)]
        if item.title:
            lines.append(safe_content(item.title, style="bold", single_line=True, max_chars=200))
        lines.append(safe_content(item.text, style="italic", max_chars=600))
        if item.error:
            lines.append(safe_content(item.error, style="$error", max_chars=300))
        detail.update(Content("\n").join(lines))

    def action_cursor(self, step: int) -> None:
        if step > 0:
            self.table.action_cursor_down()
        else:
            self.table.action_cursor_up()

    def action_leave(self, step: int) -> None:
        self.dismiss(LeaveOutbox(step=step))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_conversation()

    def action_open_conversation(self) -> None:
        reply = self.selected
        if reply is not None:
            self.dismiss(LeaveOutbox(conversation_id=reply.item.conversation_id))

    def _writes_refused(self) -> bool:
        if self.store.read_only_reason is None:
            return False
        self.notify("Read-only: nothing can be changed. The inbox's banner says why.", severity="warning",
                    markup=False, timeout=5)  # fmt: skip
        return True

    def _store_failed(self, exc: StoreError) -> None:
        notify_store_failure(self, exc, self.store.read_only_reason)

    async def action_send_now(self) -> None:
        reply = self.selected
        if reply is None or self._writes_refused():
            return
        if reply.needs_decision:
            self.action_decide()  # refused or uncertain: sent again only once the manager decided
            return
        if reply.item.state is OutboxState.SENDING:
            self.notify("It is being sent right now.", markup=False, timeout=3)
            return
        try:
            sent = await self.store.send_reply_now(reply.item.id, actor=self.actor)
        except StoreError as exc:
            self._store_failed(exc)
            return
        if sent is None:
            self.notify("It is not waiting any more (sent or settled meanwhile).", markup=False, timeout=4)
        else:
            self.notify("Sending now; it shows as sent once the platform has it.", markup=False, timeout=3)
        await self.refresh_list()

    def action_cancel_reply(self) -> None:
        """Asks first; the question is up before the next key is read (a `y` typed with `D`)."""
        reply = self.selected
        if reply is None or self._writes_refused():
            return
        item = reply.item
        if item.state is OutboxState.SENDING:
            self.notify("It is being sent right now: it cannot be taken back.", markup=False, timeout=4)
            return
        what = "forum topic (and the reply that was to link it)" if item.kind == "topic" else "reply"
        question = f"Cancel this {what} to {_to(reply).plain}? It is never sent."
        detail = safe_content(item.text, style="italic", max_chars=200)
        confirm = ConfirmScreen(question, yes="Cancel it", no="Keep it", detail=detail)
        self.app.push_screen(confirm, lambda yes: self._cancel(reply) if yes else None)

    @work(group="outbox-view")  # never exclusive: a second key must not cut a write short
    async def _cancel(self, reply: UnsentReply) -> None:
        item = reply.item
        try:
            cancelled = await self.store.cancel_reply(item.id, actor=self.actor)
        except StoreError as exc:
            self._store_failed(exc)
            return
        if cancelled is None:
            self.notify("Not cancelled: it is being sent this instant, or was sent. If it comes back "
                        "to wait (the server is still down), D cancels it then.",
                        severity="warning", markup=False, timeout=8)  # fmt: skip
        else:
            self.notify("Cancelled: it will not be sent (the history keeps it).", markup=False, timeout=3)
        await self.refresh_list()

    def action_edit(self) -> None:
        reply = self.selected
        if reply is None or self._writes_refused():
            return
        if reply.item.state is OutboxState.UNKNOWN:
            self.action_decide()  # it may be on the platform: look there first (e edits after that)
            return
        self._edit(reply)

    def _edit(self, reply: UnsentReply) -> None:
        """The compose box is up before the next key is read: text typed with E goes into it,
        never to this list's S or D."""
        item, app = reply.item, self.app
        if item.kind != "reply":
            self.notify("A forum topic cannot be edited here: cancel it (D) and redirect again (f).",
                        markup=False, timeout=5)  # fmt: skip
            return
        if item.state is OutboxState.SENDING:
            self.notify("It is being sent right now: it cannot be changed.", markup=False, timeout=4)
            return
        store, parent = self.store, reply.parent
        draft_for = app.reply_draft
        draft = None if parent is None else draft_for(parent, parent.language)
        if draft is None:
            self.notify("The message it answers, or its channel, is gone: it can only be cancelled (D).",
                        severity="error", markup=False)  # fmt: skip
            return
        draft = replace(draft.as_sent(item), prefix="", body=item.text, used=item.canned, link=item.link)

        async def save(composed: ComposedReply) -> None:
            # One UPDATE, only while no sender holds it: the old text never goes out after this.
            if await store.edit_reply(item.id, composed.text, actor=self.actor) is None:
                raise StoreError("This reply was sent, is being sent, or was cancelled meanwhile: "
                                 "the edit cannot replace it.")  # fmt: skip
            self.notify("Edited; the new text goes out in its place.", markup=False, timeout=3)

        app.push_screen(ComposeScreen(draft, save=save), lambda _: self.call_later(self.refresh_list))

    def action_decide(self) -> None:
        """The `O` decisions for a refused or uncertain reply: send again, mark sent, edit, discard."""
        reply = self.selected
        if reply is None or self._writes_refused():
            return
        if not reply.needs_decision:
            self.notify("This one needs no decision: S sends it now, E edits it, D cancels it.",
                        markup=False, timeout=4)  # fmt: skip
            return
        self.app.push_screen(OutboxDecisionScreen(reply.item), lambda answer: self._decided(reply, answer))

    @work(group="outbox-view")
    async def _decided(self, reply: UnsentReply, answer: ReplyDecision | str | None) -> None:
        if answer is None:
            return
        if answer == EDIT:
            self._edit(reply)
            return
        try:
            decided = await self.store.decide_reply(reply.item.id, answer, actor=self.actor)
        except StoreError as exc:
            self._store_failed(exc)
            return
        if decided is None:
            self.notify("That reply was settled meanwhile.", markup=False, timeout=4)
        else:
            self.notify({
                ReplyDecision.RESEND: "Queued again; it shows as sent once the platform has it.",
                ReplyDecision.MARK_SENT: "Marked sent.",
                ReplyDecision.DISCARD: "Discarded; it stays in the history.",
            }[answer], markup=False, timeout=3)  # fmt: skip
        await self.refresh_list()


def _index_of(replies: list[UnsentReply], item_id: int) -> int | None:
    return next((n for n, reply in enumerate(replies) if reply.item.id == item_id), None)


def _state(reply: UnsentReply) -> str:
    item = reply.item
    if item.state is OutboxState.QUEUED and item.error:
        return "retrying"
    return _STATE_WORDS.get(item.state, item.state.value)


def _next(reply: UnsentReply, now: datetime) -> str:
    item = reply.item
    if reply.needs_decision:
        return "O"
    if item.state is OutboxState.SENDING:
        return "now"
    if item.next_attempt_at is None or item.next_attempt_at <= now:
        return "due"
    return "in " + age(item.next_attempt_at, now, future=True)


def _hint(reply: UnsentReply) -> str:
    item = reply.item
    if item.state is OutboxState.FAILED:
        return "refused by the platform: O decides (send again, edit, discard)"
    if item.state is OutboxState.UNKNOWN:
        return "may be on the platform: look there, then O decides"
    if item.state is OutboxState.SENDING:
        return "being sent right now"
    tries = f"{item.attempts} attempt{'s' if item.attempts != 1 else ''} so far; " if item.attempts else ""
    return f"{tries}S sends now, E edits, D cancels"


def _to(reply: UnsentReply, *, style: str = "") -> Text:
    if reply.item.kind == "topic":
        return safe_text(reply.item.title or "(untitled topic)", style=style, single_line=True, max_chars=60)
    name = reply.to or reply.item.parent_remote_id
    return safe_text(name, style=style, single_line=True, max_chars=60)


def _cells(reply: UnsentReply, now: datetime) -> tuple[Text, Text, Text, Text]:
    item = reply.item
    state_style = "bold red" if reply.needs_decision else ("yellow" if item.error else "")
    to = _to(reply)
    to.append(f" · {sanitize(item.channel, single_line=True)}", style="dim")
    reason = safe_text(item.error or item.text, style="" if item.error else "dim italic",
                       single_line=True, max_chars=200)  # fmt: skip
    return Text(_state(reply), style=state_style), Text(_next(reply, now)), to, reason
