"""The inbox: the conversation list, the selected thread, and the triage keys.

Every key press here becomes an intent written to the store (a state change, a queued reply);
the engine does the network work. Nothing on this screen talks HTTP.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from ecoinbox.engine import ChannelStatus
from ecoinbox.keymap import keys_of
from ecoinbox.model import (
    State,
    UnsentReply,
    View,
)
from ecoinbox.query import QueryError, parse_query
from ecoinbox.sanitize import sanitize
from ecoinbox.search import SearchResults
from ecoinbox.store import ChangeKind, StoreError
from ecoinbox.tui.messages import ChannelStatusChanged, EngineRoleChanged, StoreChanged
from ecoinbox.tui.screens.contact import PersonConversations
from ecoinbox.tui.screens.help import describe_keys
from ecoinbox.tui.screens.inbox_bars import SEARCH_TITLE_CELLS, Tab, channel_statuses, tab_bar
from ecoinbox.tui.screens.inbox_contacts import ContactFlows
from ecoinbox.tui.screens.inbox_moderation import hide_on_platform
from ecoinbox.tui.screens.inbox_replies import ReplyFlows
from ecoinbox.tui.screens.inbox_thread import ThreadFollower
from ecoinbox.tui.screens.inbox_undo import UndoHistory
from ecoinbox.tui.screens.outbox_view import LeaveOutbox, OutboxScreen
from ecoinbox.tui.screens.triage import TRIAGE_BINDINGS, TriageKeys, UndoStep
from ecoinbox.tui.screens.undo_send import HeldReply
from ecoinbox.tui.store_notices import notify_store_failure
from ecoinbox.tui.widgets.changed_lines import ChangedCellsLine
from ecoinbox.tui.widgets.conversation_list import ConversationList
from ecoinbox.tui.widgets.footer import KeysFooter
from ecoinbox.tui.widgets.search_bar import SearchBar
from ecoinbox.tui.widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.tui.app import EcoInboxApp

VIEWS = (View.INBOX, View.PENDING, View.SNOOZED, View.DONE, View.SPAM, View.MINE)
VIEW_TITLES = {
    View.INBOX: "Inbox", View.PENDING: "Pending", View.SNOOZED: "Snoozed", View.DONE: "Done",
    View.SPAM: "Spam", View.MINE: "Mine",
}  # fmt: skip
READ_AHEAD = 200
"""Search results are read this many conversations beyond what is listed, as the cursor nears the end."""
SAVED_COUNT_LIMIT = 100
"""A saved view's tab counts up to this many conversations ("100+" beyond)."""
SAVED_COUNT_DELAY = 2.0
"""Seconds of quiet in the store before the saved views' counts are read again."""
SAID_S = 6.0
"""How long words said in the status line (a draft kept) stay there."""
READ_ONLY_NOTICE = "Read-only: nothing can be changed. The banner at the top says why and what to do."


def _store_failures_noticed(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A store failure during a key's work (a full disk, a damaged page) becomes a notice in
    the store's own words, not a crash; what was saved before stays saved."""

    @functools.wraps(method)
    async def noticed(self: InboxScreen, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except StoreError as exc:
            notify_store_failure(self, exc, self.app.store.read_only_reason)
            return None

    return noticed


class InboxScreen(TriageKeys, Screen[None]):
    """The main screen: list, thread, status line, footer."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

    BINDINGS = [
        Binding("r", "reply", "Reply", id="inbox.reply"),
        Binding(
            "left_square_bracket",
            "choose_message(-1)",
            "Answer an older message",
            id="inbox.older_message",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "choose_message(1)",
            "Answer a newer message",
            id="inbox.newer_message",
            show=False,
        ),
        Binding("f", "redirect", "Forum", id="inbox.redirect"),
        Binding("e", "set_state('done')", "Done", id="inbox.done"),
        Binding("exclamation_mark", "set_state('spam')", "Spam", id="inbox.spam", show=False),
        Binding("o", "set_state('open')", "Reopen", id="inbox.reopen", show=False),
        Binding("u", "undo", "Undo", id="inbox.undo"),
        Binding("slash", "search", "Search", id="inbox.search"),
        Binding("tab", "next_view(1)", "Views", id="inbox.next_view"),
        Binding("shift+tab", "next_view(-1)", "Previous view", id="inbox.previous_view", show=False),
        Binding("escape", "back", "Back to list / close search", id="inbox.back", show=False),
        Binding("R", "poll_now", "Poll now", id="inbox.poll_now", show=False),
        Binding("m", "show_whole", "Show whole posts (and deleted ones)", id="inbox.show_whole", show=False),
        Binding("O", "decide_outbox", "Settle stuck reply", id="inbox.decide_outbox", show=False),
        Binding("w", "outbox", "Outbox: replies waiting to go out", id="inbox.outbox", show=False),
        Binding("M", "mute", "Mute / unmute", id="inbox.mute", show=False),
        Binding("Z", "spam_reply", "A reply alone to Spam", id="inbox.spam_reply", show=False),
        Binding("H", "hide", "Hide on its platform (not deleted)", id="inbox.hide", show=False),
        *TRIAGE_BINDINGS,
        Binding("c", "contact", "Contact", id="inbox.contact", show=False),
        Binding("L", "link_contact", "Link their account with another", id="inbox.link_contact", show=False),
    ]
    # Textual repaints the whole screen when focus moves (~46 KB at 120x40): the two widgets that
    # gain and lose it repaint what changes in them.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    THREAD_DELAY: ClassVar[float] = 0.08
    """Seconds the cursor must rest before the thread beside the list follows it, once it moves
    faster than that: a held j (key repeat sends 25-40 a second, 25-40 ms apart) costs only the
    list's two lines per row (~830 B), and the thread of the row it stops on comes 80 ms after
    the last key. A single move, or moves spaced wider than this (reading as one goes), shows its
    thread at once. Under 100 ms the wait reads as immediate; above twice the slowest usual key
    repeat, a held key never draws the rows it passes. 0 follows every move at once."""

    def __init__(self) -> None:
        super().__init__()
        self.tabs: list[Tab] = [Tab(VIEW_TITLES[view], view) for view in VIEWS]
        self.tab_index = 0
        self.results: SearchResults | None = None  # what a search tab shows
        self._reading: SearchResults | None = None  # the results being read on, if any
        self._before_search = 0  # the tab to go back to when the `/` search closes
        self.undo = UndoHistory(self)
        self.counts: dict[View, int] = {}
        self.unsent: list[UnsentReply] = []  # replies not sent yet (a few dozen at most): the Outbox tab
        self.saved_counts: dict[str, str] = {}  # a search tab's label -> "12", "100+" (last known)
        self.position = (0, 0)
        self._paused_shown: dict[str, str] = {}  # channel -> the pause detail already notified
        self.follow = ThreadFollower(self)
        self._said: tuple[str, float] | None = None  # words for the status line, until when
        self.replies = ReplyFlows(self)
        self.contacts = ContactFlows(self)

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.app
        yield ChangedCellsLine("", id="tabs")
        yield Static("", id="read-only", markup=False)
        with Container(id="panes"):
            by_line = app.settings.ui.list_scroll == "line"
            yield ConversationList(
                app.store, View.INBOX, now=app.now, scroll_by_line=by_line, id="conversations"
            )
            thread = ThreadView(now=app.now, id="thread")
            keys = keys_of(app.settings.ui.keys, "inbox.show_whole")
            thread.more_key = describe_keys(keys).split(",")[0]  # the note under a cut post names it
            keys = keys_of(app.settings.ui.keys, "inbox.decide_outbox")
            thread.decide_key = describe_keys(keys).split(",")[0]
            yield thread
        yield SearchBar(id="search")
        yield ChangedCellsLine("", id="status")
        yield KeysFooter(compact=True, show_command_palette=False)

    @property
    def tab(self) -> Tab:
        return self.tabs[self.tab_index]

    @property
    def view(self) -> View:
        """The state view shown (for a search tab, the one it was opened from)."""
        return self.tab.view

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    @property
    def conversations(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def thread(self) -> ThreadView:
        return self.query_one(ThreadView)

    async def on_mount(self) -> None:
        views = self.app.settings.views
        self.tabs[len(VIEWS) :] = [Tab(view.name, query=view.query) for view in views]
        self._apply_layout(self.size.width)
        ui = self.app.settings.ui
        self.conversations.waiting_warn, self.conversations.waiting_alert = ui.waiting_warn, ui.waiting_alert
        self.conversations.on_move = self.on_conversation_list_highlighted  # the thread in the rows' frame
        self._render_read_only()
        self._render_tabs()  # without counts: they fill in once the rows are on screen
        self.run_worker(self._counts_once_shown(), name="first counts", exit_on_error=False)
        self.conversations.focus()
        self._render_status()

    def on_resize(self) -> None:
        self._apply_layout(self.size.width)

    def _apply_layout(self, width: int) -> None:
        layout = self.app.settings.ui.layout
        side = layout == "side" or (layout == "auto" and width >= 120)
        panes = self.query_one("#panes")
        panes.set_class(side, "-side")
        panes.set_class(not side, "-below")

    # ---- keeping up with the store ----------------------------------------------------------

    @_store_failures_noticed
    async def on_store_changed(self, event: StoreChanged) -> None:
        self.follow.store_changed(event.conversation_ids)
        if ChangeKind.READ_ONLY in event.kinds:
            self._render_read_only()
            self.notify("The store cannot be changed any more: the banner at the top says why.",
                        severity="error", timeout=10, markup=False)  # fmt: skip
        if self.results is not None:
            self._refresh_results()
        else:
            await self.conversations.reload()
        await self._refresh_counts()
        shown = self.thread.conversation
        if shown is not None and (event.conversation_ids is None or shown.row.id in event.conversation_ids):
            self._load_thread(shown.row.id, keep_scroll=True)

    def on_channel_status_changed(self, event: ChannelStatusChanged) -> None:
        status = event.status
        if status.state == "paused" and self._paused_shown.get(status.name) != status.detail:
            # Once per pause, in full: the status line may be too narrow for the whole hint.
            detail = sanitize(status.detail, single_line=True)
            self.notify(
                f"{status.name}: {detail}, then press {self._retry_key()}. Until then it is "
                "not polled and its replies wait in the outbox.",
                title="Channel paused", severity="error", markup=False, timeout=15,
            )  # fmt: skip
        self._paused_shown[status.name] = status.detail if status.state == "paused" else ""
        self._render_status()

    def on_engine_role_changed(self, event: EngineRoleChanged) -> None:
        self._render_status()

    def _retry_key(self) -> str:
        keys = keys_of(self.app.settings.ui.keys, "inbox.poll_now")
        return describe_keys(keys)

    async def _counts_once_shown(self) -> None:
        """The tabs' counts (~60 ms at a million messages) a frame after the first rows, not before."""
        await self.app.rows_shown.wait()
        await self._refresh_counts()

    async def _refresh_counts(self) -> None:
        store = self.app.store
        try:
            self.counts = {view: await store.count_conversations(view) for view in VIEWS}
            self.unsent = await store.unsent_replies()
        except StoreError:
            pass  # the list says the store could not be read; the last counts stay
        self._render_tabs()
        if len(self.tabs) > len(VIEWS) and not all(t.typed for t in self.tabs[len(VIEWS) :]):
            self._count_saved_views()

    @work(exclusive=True, group="saved-view-counts", exit_on_error=False)
    async def _count_saved_views(self) -> None:
        """The saved views' counts, once the store has been quiet for a moment (a burst of
        polls costs one count), each up to SAVED_COUNT_LIMIT."""
        if self.saved_counts:
            await asyncio.sleep(SAVED_COUNT_DELAY)
        store, now = self.app.store, self.app.now
        for tab in [t for t in self.tabs if t.query is not None and not t.typed]:
            try:
                results = SearchResults(store, tab.query or "", now=now)
                await results.run(limit=SAVED_COUNT_LIMIT)
            except (QueryError, StoreError):
                continue  # the config checked the query; a store failure keeps the old count
            self.saved_counts[tab.label()] = results.label()
        self._render_tabs()

    def _render_read_only(self) -> None:
        """The banner that says why nothing can be changed (a damaged file, a read-only folder)."""
        reason = self.app.store.read_only_reason
        banner = self.query_one("#read-only", Static)
        banner.display = reason is not None
        if reason is not None:
            banner.update(Content.assemble(("READ-ONLY ", "bold reverse"), " ", reason))

    def _writes_refused(self) -> bool:
        if self.app.store.read_only_reason is None:
            return False
        self.notify(READ_ONLY_NOTICE, severity="warning", timeout=5, markup=False)
        return True

    def _tab_count(self, tab: Tab) -> str:
        if tab.person is not None:
            return str(len(tab.person))
        if tab.query is None:
            return str(self.counts[tab.view]) if tab.view in self.counts else ""  # "" until counted
        if tab is self.tab and self.results is not None:
            self.saved_counts[tab.label()] = self.results.label()  # shown again when it is left
        return self.saved_counts.get(tab.label(), "")

    def _render_tabs(self) -> None:
        self.query_one("#tabs", Static).update(self.tab_bar())

    def tab_bar(self, *, outbox: bool = False) -> Content:
        """The brand and every tab with its count, the Outbox tab last while replies wait to go out
        (or while it is shown: `outbox`)."""
        labels = [f" {tab.label()} {self._tab_count(tab)}".rstrip() + " " for tab in self.tabs]
        brand, width = self.app.settings.brand.name, self.size.width
        return tab_bar(labels, self.tab_index, self.unsent, brand=brand, width=width, outbox=outbox)

    def _render_status(self) -> None:
        index, total = self.position
        total_label = self.results.label() if self.results is not None else str(total)
        title = "Search" if self.tab.typed and self.tab.person is None else self.tab.title
        parts: list[Content | tuple[str, str] | str] = [(f" {title} {index}/{total_label} ", "bold")]
        if selected := self.selection_label():
            parts.append((f"{selected} ", "bold $warning"))
        if (held := self.undo.hold_status()) is not None:
            parts.append(held)
        if self._said is not None and self._said[1] > monotonic():
            parts.append((f"{self._said[0]} ", "bold"))
        self.undo.shown = "" if held is None else held.plain
        engine = self.app.engine
        if engine is not None and engine.leased and not engine.role.active and engine.role.holder is not None:
            # Another inbox on this store polls and sends; this one shows what it stores.
            parts.append(" · ")
            parts.append((engine.role.describe(), "dim"))
        elif engine is not None:
            # A countdown takes room on the line: the channels fold sooner.
            reserved = 0 if held is None else held.cell_length
            parts += self._channel_statuses(engine.statuses.values(), reserved=reserved)
        elif self.app.engine_coming and self.app.settings.channels:  # built once the rows show
            count = len(self.app.settings.channels)
            parts.append((f" · connecting to {count} channel{'s' if count > 1 else ''}…", "dim"))
        self.query_one("#status", Static).update(Content.assemble(*parts))

    def _channel_statuses(
        self, statuses: Iterable[ChannelStatus], *, reserved: int = 0
    ) -> list[Content | tuple[str, str] | str]:
        """Each channel's state, folded when they do not all fit on the status line."""
        width, retry_key = self.size.width, self._retry_key()
        return channel_statuses(statuses, width=width, retry_key=retry_key, reserved=reserved)

    # ---- list and thread ---------------------------------------------------------------------

    def on_conversation_list_highlighted(self, event: ConversationList.Highlighted) -> None:
        if not self.conversations.is_current(event):
            return  # a move told at once overtook it (`on_move`)
        self.position = (event.index + 1 if event.total else 0, event.total)
        if self.results is not None and event.index >= event.total - READ_AHEAD // 2:
            self._read_on(self.results)
        self._render_status()
        self.follow.highlighted(event.conversation_id, monotonic())

    @property
    def _matched_words(self) -> Callable[[str], list[tuple[int, int]]] | None:
        """In a search's results, the thread marks the words it matched too."""
        return None if self.results is None else self.results.highlight

    def on_conversation_list_load_failed(self, event: ConversationList.LoadFailed) -> None:
        self.notify(f"Could not read the inbox from the store: {event.error}", severity="error", markup=False)

    def on_conversation_list_selected(self, event: ConversationList.Selected) -> None:
        self.follow.show_now()  # opened before its thread came: no wait
        self.query_one("#panes").add_class("-reading")
        self.thread.focus()

    async def action_back(self) -> None:
        panes = self.query_one("#panes")
        if self.clear_marks():
            return
        if panes.has_class("-reading"):
            panes.remove_class("-reading")
            self.conversations.focus()
        elif self.tab.typed:
            await self._close_search()

    @work(exclusive=True, group="thread", exit_on_error=False)
    @_store_failures_noticed
    async def _load_thread(
        self, conversation_id: int, *, keep_scroll: bool = False, whole: bool = False
    ) -> None:
        conversation = await self.app.store.conversation(conversation_id)
        if self.conversations.selected_id == conversation_id:
            if conversation is not None:
                self.follow.nearby[conversation_id] = conversation  # back to it: no second read
            self.thread.show(conversation, keep_scroll=keep_scroll, highlight=self._matched_words)
            if whole:
                self.action_show_whole()
            self.call_after_refresh(self._read_ahead)

    @work(exclusive=True, group="read-ahead", exit_on_error=False)
    async def _read_ahead(self) -> None:
        await self.follow.read_ahead()  # the threads beside the cursor, once it rests

    # ---- triage ------------------------------------------------------------------------------

    async def action_set_state(self, state: str) -> None:
        await self.triage_state(State(state))  # the selection's, or the row's (see TriageKeys)

    @_store_failures_noticed
    async def action_mute(self) -> None:
        """No notification for this conversation, and new messages do not reopen it once done."""
        conversation_id = self.conversations.selected_id
        if conversation_id is None or self._writes_refused():
            return
        store = self.app.store
        row = await store.conversation_row(conversation_id)
        if row is not None and await store.set_muted([conversation_id], not row.muted, actor=self._me()):
            said = (
                "Unmuted."
                if row.muted
                else "Muted: no notification, new messages will not reopen it. M unmutes."
            )
            self.notify(said, markup=False, timeout=3)

    @_store_failures_noticed
    async def action_spam_reply(self) -> None:
        """The reply picked with `[` / `]` (else the thread's newest from outside) leaves for Spam
        alone, with the replies to it; the conversation stays where it was."""
        conversation_id = self.conversations.selected_id
        if conversation_id is None or self._writes_refused():
            return
        store = self.app.store
        thread = await store.conversation(conversation_id, with_linked=False)
        replies = [m for m in (thread.messages[1:] if thread is not None else []) if not m.message.is_ours]
        chosen = self.replies.chosen_in(thread) if thread is not None else None
        if chosen is not None:
            replies = [m for m in replies if m.message.remote_id == chosen.remote_id]
        if not replies:
            said = "That message starts the conversation or is yours" if chosen else "No reply to move"
            self.notify(f"{said}: use ! to mark the whole conversation spam.", markup=False, timeout=3)
            return
        moved = await store.split_spam(replies[-1].id, actor=self._me())
        if moved is None:
            self.notify("That reply starts its conversation: use ! to mark it spam.", markup=False, timeout=3)
            return
        await self.conversations.reload(select=conversation_id)
        self.notify("The reply went to Spam alone; the spam filter learns from it.", markup=False, timeout=3)

    @_store_failures_noticed
    async def action_hide(self) -> None:
        """The picked message (else the newest from outside) hidden on its platform, not deleted."""
        await hide_on_platform(self)

    def _remember(self, step: UndoStep) -> None:
        self.undo.remember(step)

    @_store_failures_noticed
    async def action_undo(self) -> None:
        await self.undo.undo()

    def holding(self) -> list[HeldReply]:
        """The replies still in their send hold, oldest first."""
        return self.undo.holding()

    async def action_next_view(self, step: int) -> None:
        index = self.tab_index + step
        if not 0 <= index < len(self.tabs) and self.unsent:
            self.action_outbox()  # the Outbox tab is last while replies wait to go out
            return
        await self._show_tab(index % len(self.tabs))

    # ---- the Outbox view -----------------------------------------------------------------------

    def action_outbox(self) -> None:
        """Every reply not sent yet, across conversations (a screen of its own: its rows are
        replies, not conversations); it leaves to a neighbouring tab or to one conversation."""
        actor = self.app.settings.team.me
        screen = OutboxScreen(self.unsent, tabs=lambda: self.tab_bar(outbox=True), actor=actor)
        self.app.push_screen(screen, self._left_outbox)

    async def _left_outbox(self, leave: LeaveOutbox | None) -> None:
        await self._refresh_counts()
        if leave is None:
            return
        if leave.conversation_id is not None:
            await self.open_conversation(leave.conversation_id)
        elif leave.step:
            await self._show_tab(0 if leave.step > 0 else len(self.tabs) - 1)

    @_store_failures_noticed
    async def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation's thread, in the state view that lists it."""
        row = await self.app.store.conversation_row(conversation_id)
        if row is None:
            self.notify("That conversation is no longer in the store.", markup=False, timeout=4)
            return
        view = next(v for v in VIEWS if row.state in v.states)
        if self.tab.person is not None or self.tab.query is not None or self.view is not view:
            await self._show_tab(VIEWS.index(view))
        await self.conversations.reload(select=conversation_id)
        self.conversations.focus()
        if self.conversations.selected_id == conversation_id:
            self.conversations.action_select()
        else:
            self.notify(f"It is further down the {VIEW_TITLES[view]} view.", markup=False, timeout=4)

    @_store_failures_noticed
    async def _show_tab(self, index: int, *, keep_selection: bool = False) -> None:
        """Show tab `index`: a state view from the store, or a search's results."""
        tab = self.tabs[index]
        results = None
        if tab.query is not None:
            try:
                results = SearchResults(self.app.store, tab.query, now=self.app.now)
            except QueryError as exc:  # a typed search is checked before; a saved one by the config
                self.notify(str(exc), title="Search", severity="error", markup=False)
                return
            await results.run()
        self.tab_index, self.results = index, results
        self.conversations.set_marks(())  # a selection belongs to the view it was made in
        if tab.person is not None:
            await self.conversations.set_source(tab.person, tab.view, keep_selection=keep_selection)
        elif results is None:
            await self.conversations.set_source(self.app.store, tab.view, keep_selection=keep_selection)
        else:
            await self.conversations.set_source(
                results, highlight=results.highlight, keep_selection=keep_selection
            )
            self._read_on(results)
        self._render_tabs()
        self._render_status()

    def _read_on(self, results: SearchResults) -> None:
        """Read more results in the background, a step beyond what is listed, unless that is
        already under way: the list grows as the cursor nears its end, so a search costs what
        the manager looks at, not every match in a million messages."""
        if not results.complete and results is not self._reading:
            self._reading = results
            self._read_more(results, len(results) + READ_AHEAD)

    @work(group="search-read-on", exit_on_error=False)
    @_store_failures_noticed
    async def _read_more(self, results: SearchResults, limit: int) -> None:
        try:
            await results.fill(limit)
        finally:
            if self._reading is results:
                self._reading = None
        if results is self.results:
            await self.conversations.reload()
            self._render_tabs()
            self._render_status()

    @work(exclusive=True, group="search", exit_on_error=False)
    @_store_failures_noticed
    async def _refresh_results(self) -> None:
        """The store changed under a search: read it again, as far as it had been read, and
        keep the cursor on its conversation."""
        old = self.results
        if old is None:
            return
        fresh = SearchResults(self.app.store, old.text, now=self.app.now)
        await fresh.run()
        await fresh.fill(len(old))
        if self.results is not old:
            return  # the manager moved on meanwhile
        self.results = fresh
        await self.conversations.set_source(fresh, highlight=fresh.highlight, keep_selection=True)
        self._render_tabs()
        self._render_status()

    def action_search(self) -> None:
        self.search_bar.open((self.tab.query or "") if self.tab.typed else "")

    async def on_search_bar_submitted(self, event: SearchBar.Submitted) -> None:
        if not event.text:
            self.search_bar.close()
            if self.tab.typed:
                await self._close_search()
            self.conversations.focus()
            return
        try:
            parse_query(event.text)
        except QueryError as exc:
            self.search_bar.show_error(str(exc))
            return
        self.search_bar.close()
        if not self.tab.typed:
            self._before_search = self.tab_index
        search = Tab("Search", self.view, query=event.text, typed=True)
        self.tabs = [t for t in self.tabs if not t.typed] + [search]
        self.conversations.focus()
        await self._show_tab(len(self.tabs) - 1)

    def on_search_bar_cancelled(self, event: SearchBar.Cancelled) -> None:
        self.search_bar.close()
        self.conversations.focus()

    async def _close_search(self) -> None:
        self.tabs = [t for t in self.tabs if not t.typed]
        await self._show_tab(min(self._before_search, len(self.tabs) - 1))

    def action_show_whole(self) -> None:
        if self.follow.show_now(whole=True):
            return  # `m` came before the thread it is meant for: it applies once that is shown
        if not self.thread.show_whole():
            self.notify("Nothing is cut in this conversation.", markup=False, timeout=2)

    @_store_failures_noticed
    async def action_reply(self) -> None:
        await self.replies.reply()

    @_store_failures_noticed
    async def action_choose_message(self, step: int) -> None:
        """`[` / `]`: pick an older or newer message of the thread for `r` (and `f`) to answer."""
        await self.replies.choose_message(step)

    @work(exclusive=True, group="redirect")
    @_store_failures_noticed
    async def action_redirect(self) -> None:
        await self.replies.redirect()

    @work(exclusive=True, group="outbox")
    async def action_decide_outbox(self) -> None:
        """Settle the oldest reply of this conversation that failed or may not have been sent."""
        await self.replies.decide_outbox()

    def action_poll_now(self) -> None:
        engine = self.app.engine
        if self._writes_refused():
            return
        if engine is None:
            self.notify("No engine runs in this window: another ecoinbox polls.", markup=False)
            return
        engine.poll_now()
        self.notify("Polling every channel now.", markup=False, timeout=2)

    # ---- replying ----------------------------------------------------------------------------

    def say(self, words: str, seconds: float = SAID_S) -> None:
        """`words` (ours, sanitized where they name someone) in the status line for a few seconds."""
        self._said = (sanitize(words, single_line=True), monotonic() + seconds)
        self._render_status()
        self.set_timer(seconds + 0.05, self._render_status, name="status words expire")

    # ---- contacts across channels --------------------------------------------------------------

    @work(exclusive=True, group="contact")
    @_store_failures_noticed
    async def action_contact(self) -> None:
        await self.contacts.contact()

    @work(exclusive=True, group="contact")
    @_store_failures_noticed
    async def action_link_contact(self) -> None:
        await self.contacts.link_contact()

    async def _open_person(self, label: str, author_id: int, conversation_id: int) -> None:
        """A tab of this person's conversations on every channel, on `conversation_id`; esc closes it."""
        if not self.tab.typed:
            self._before_search = self.tab_index
        name = sanitize(label, single_line=True, max_chars=SEARCH_TITLE_CELLS)
        source = PersonConversations(self.app.store, author_id)
        person = Tab(f"@{name}", self.view, typed=True, person=source)
        self.tabs = [t for t in self.tabs if not t.typed] + [person]
        await self._show_tab(len(self.tabs) - 1)
        await self.conversations.reload(select=conversation_id)
        self.conversations.focus()
        if self.conversations.selected_id == conversation_id:
            self.conversations.action_select()
