"""The Textual application: wires the store and the engine to the screens.

It owns no I/O of its own: the CLI opens the store, starts the engine in the same event loop,
and hands both in. Store changes (ours or another process's) reach the screens as messages.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from time import monotonic

from rich.console import Console
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.driver import Driver
from textual.geometry import Size
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Input, TextArea

from ecoinbox.actions import canned_values, topic_reply_template
from ecoinbox.channels.base import Channel
from ecoinbox.config import Settings
from ecoinbox.engine import ChannelStatus, Engine, EngineRole
from ecoinbox.link_suggestions import LinkSuggestions
from ecoinbox.model import Conversation
from ecoinbox.model import Message as PlatformMessage
from ecoinbox.replies import Suggestion
from ecoinbox.replying import ReplyDraft, forum_channel, reply_draft, reply_language
from ecoinbox.store import Change, ChangeKind, Store, StoreError
from ecoinbox.tui.commands import ActionCommands
from ecoinbox.tui.drafts import keepers
from ecoinbox.tui.gc_pacing import GarbagePacing
from ecoinbox.tui.keys import NEEDS_ENGINE, KeyHold
from ecoinbox.tui.messages import ChannelStatusChanged, EngineRoleChanged, StoreChanged
from ecoinbox.tui.notifier import Notifier
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen, DiscardQuestion
from ecoinbox.tui.screens.contact import AccountPicker, ContactNoteScreen, ContactScreen
from ecoinbox.tui.screens.help import HelpScreen
from ecoinbox.tui.screens.inbox import InboxScreen
from ecoinbox.tui.screens.outbox import OutboxDecisionScreen
from ecoinbox.tui.screens.outbox_view import OutboxScreen
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen
from ecoinbox.tui.screens.too_small import TooSmallScreen, too_small
from ecoinbox.tui.screens.triage import AssignScreen, NoteScreen, SnoozeScreen, TagPrompt
from ecoinbox.tui.screens.undo_send import (
    SEND_ON_QUIT_S,
    QuitQuestion,
    left_behind,
    quit_question,
    send_before_quit,
)
from ecoinbox.tui.terminal_output import compact_driver
from ecoinbox.tui.widgets.conversation_list import ROW_MARKS, ROW_WORDS, ConversationList
from ecoinbox.tui.widgets.search_bar import SearchBar
from ecoinbox.tui.widgets.thread_view import ThreadView

# Many commits in a burst (a poll batch, a bulk action) become one redraw.
COALESCE_S = 0.05
EXTERNAL_CHANGES_POLL_S = 1.0
SNOOZE_CHECK_S = 30.0
ENGINE_WAIT_S = 5.0  # keys that wait for an engine still being built: then dropped, and said so


class EcoInboxApp(App[None]):
    """ecoinbox's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "ecoinbox"
    COMMANDS = App.COMMANDS | {ActionCommands}  # ctrl+p lists our actions beside Textual's
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # Textual's own ctrl+q quits at once: this one keeps the drafts of open boxes, as q does.
        Binding(
            "ctrl+q",
            "quit",
            "Quit, even from a box (keeps its draft)",
            id="app.quit_anywhere",
            priority=True,
            show=False,
        ),
        Binding("question_mark", "help", "Help", id="app.help"),
        # Textual's own palette binding has no id: this one can be remapped in [ui.keys].
        Binding(
            "ctrl+p",
            "command_palette",
            "Command palette: every action by name",
            id="app.palette",
            show=False,
            priority=True,
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store,
        engine: Engine | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        notices: Sequence[str] = (),
        engine_coming: bool = False,
    ) -> None:
        super().__init__()
        self.notices = tuple(notices)
        """Said once the inbox is on screen (e.g. the demo's "email left out"): what was printed
        before would be hidden behind it."""
        # Textual prints the traceback of an error that stops the app (with local variables) on
        # the terminal; keep it for the log file instead: the CLI says it in one paragraph.
        self.error_console = Console(file=io.StringIO(), width=120, no_color=True, highlight=False)
        self.settings = settings
        self.store = store
        self.engine = engine
        self.engine_coming = engine is None and engine_coming
        """The engine is built once the first rows show (`attach_engine`); keys that need it wait."""
        self.rows_shown = asyncio.Event()
        """Set once the inbox's first rows are on screen: what may wait for them starts then."""
        self._for_engine: list[events.Key] | None = None  # keys typed from one that needs the engine on
        self.now = now or (lambda: datetime.now(UTC))
        self._pending: set[int] | None = set()
        self._pending_kinds: set[ChangeKind] = set()
        self._flush_scheduled = False
        self._data_version: int | None = None
        self.inbox = InboxScreen()
        self.link_suggestions = LinkSuggestions(store, settings.canned)
        self.notifier = Notifier(settings.ui.notify, bell=self.bell)
        self.farewell = ""
        """What the terminal should say once the app has closed (the drafts it kept)."""
        self.key_hold = KeyHold(self)
        self.garbage = GarbagePacing()  # the full collection when keys rest, not within a move

    def get_driver_class(self) -> type[Driver]:
        # Each style change said once, not whole with a reset: a third fewer bytes per frame.
        return compact_driver(super().get_driver_class())

    def crash_report(self) -> str:
        """What Textual wrote about an error that stopped the app; "" when none did."""
        file = self.error_console.file
        return file.getvalue() if isinstance(file, io.StringIO) else ""

    def on_mount(self) -> None:
        self.animation_level = "full" if self.settings.ui.animation else "none"
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        if self.settings.ui.keys:
            self.set_keymap(dict(self.settings.ui.keys))
        self.store.add_listener(self._on_store_change)
        self.store.me = self.settings.team.me  # the Mine view is what is assigned to them
        if self.engine is None and not self.engine_coming:  # the engine wakes them where it runs
            self.set_interval(SNOOZE_CHECK_S, self._wake_snoozed, name="wake snoozes")
        if self.engine is not None:
            self.engine.add_status_listener(self._on_channel_status)
            self.engine.add_role_listener(self._on_engine_role)
        self.set_interval(EXTERNAL_CHANGES_POLL_S, self._check_other_processes)
        self.call_after_refresh(self.garbage.start)
        self.set_interval(1.0, self.garbage.tick)
        mounted = self.push_screen(self.inbox)
        self.run_worker(self._once_shown(mounted), name="first rows", exit_on_error=False)
        self._fit(self.size)
        for notice in self.notices:
            self.notify(notice, title="Note", severity="warning", timeout=30, markup=False)

    async def _once_shown(self, mounted: Awaitable[object]) -> None:
        await mounted  # the inbox's list loads its rows before it counts as mounted
        self.call_after_refresh(self.rows_shown.set)
        # A write (35 ms at a million messages) the first rows need not wait for: they reload.
        self.run_worker(self._wake_snoozed(), name="wake snoozes", group="snooze", exit_on_error=False)

    def attach_engine(self, engine: Engine) -> None:
        """The engine, built after the first rows: its channels' states, then the keys that waited."""
        self.engine, self.engine_coming = engine, False
        engine.add_status_listener(self._on_channel_status)
        engine.add_role_listener(self._on_engine_role)
        for status in engine.statuses.values():
            self._on_channel_status(status)
        waiting, self._for_engine = self._for_engine or [], None
        self.key_hold.give_back(waiting)

    def engine_failed(self, reason: str) -> None:
        """The engine could not be built: the inbox only reads, and says so."""
        self.engine_coming = False
        dropped, self._for_engine = self._for_engine, None
        typed = " The keys typed while it started were dropped: type them again." if dropped else ""
        self.notify(f"ecoinbox could not start its channels ({reason}): nothing is polled or sent in "
                    f"this window. Quit and open it again; the log file says more.{typed}",
                    title="Channels", severity="error", timeout=30, markup=False)  # fmt: skip

    def _engine_late(self) -> None:
        """The keys waited long enough: a stuck channel must not keep the list from moving."""
        if self._for_engine:
            self._for_engine = None
            self.notify("The channels are still connecting: what you typed since a key that needs them "
                        "(r, f, R...) was dropped. Type it again in a moment.",
                        severity="warning", timeout=8, markup=False)  # fmt: skip

    def _waits_for_engine(self, event: events.Key) -> bool:
        """Whether this key (or one before it) needs the engine that is still being built."""
        if self._for_engine is not None:
            return True
        if not self.engine_coming or self.key_hold.busy or isinstance(self.focused, (Input, TextArea)):
            return False
        active = self.active_bindings.get(event.key)
        return active is not None and active.enabled and active.binding.id in NEEDS_ENGINE

    async def on_event(self, event: events.Event) -> None:
        # Every key read from the terminal passes here first: keys typed behind one that opens an
        # input wait for it (ecoinbox.tui.keys).
        if not isinstance(event, events.Key):
            await super().on_event(event)
            return
        read = not event.is_forwarded  # from the terminal, not on its way back up from a widget
        self.garbage.key()
        if read and self._waits_for_engine(event):
            if self._for_engine is None:
                self._for_engine = []
                self.set_timer(ENGINE_WAIT_S, self._engine_late, name="keys wait for the engine")
            self._for_engine.append(event)  # in order, until it is attached
            return
        if read and self.key_hold.take(event):
            return
        await super().on_event(event)
        if not read or not event.is_forwarded:  # its binding ran: a priority one, or on the way up
            self.key_hold.acted(event)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:  # fmt: skip
        # A refusal while keys wait behind an opener: they were typed for what did not open.
        self.key_hold.noticed(severity)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_command_palette_closed(self, event: CommandPalette.Closed) -> None:
        # What is typed behind the palette's enter belongs to what the chosen command opens.
        self.key_hold.palette_closed(event.option_selected)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size)

    def _fit(self, size: Size) -> None:
        """Below the smallest size the inbox can be drawn in, say so instead of a broken layout."""
        screen = self.screen
        if not isinstance(screen, TooSmallScreen):
            if too_small(size):
                self.push_screen(TooSmallScreen())
        elif too_small(size):
            screen.show_size(size)
        else:
            self.pop_screen()

    async def on_unmount(self) -> None:
        self.store.remove_listener(self._on_store_change)
        self.garbage.stop()

    # ---- store and engine events -----------------------------------------------------------

    class _ChangesPending(Message):
        """Store changes are waiting to be announced (posted from the engine's tasks)."""

    def _on_store_change(self, change: Change) -> None:
        # Runs in whatever task committed (often the engine's, outside the app's context):
        # only record, then let the app's own message loop schedule the redraw.
        if self._pending is not None:
            self._pending |= change.conversation_ids
        self._pending_kinds.add(change.kind)
        if change.kind is ChangeKind.URGENT:
            self.post_message(self._Urgent(change.conversation_ids))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.post_message(self._ChangesPending())

    class _Urgent(Message):
        """New high-priority conversations arrived (posted from the engine's tasks)."""

        def __init__(self, conversation_ids: frozenset[int]) -> None:
            super().__init__()
            self.conversation_ids = conversation_ids

    async def on_eco_inbox_app__urgent(self, message: _Urgent) -> None:
        if self.notifier.mode == "off":
            return
        try:
            rows = [await self.store.conversation_row(i) for i in sorted(message.conversation_ids)]
        except StoreError:
            return
        self.notifier([row for row in rows if row is not None])

    def on_eco_inbox_app__changes_pending(self) -> None:
        self.set_timer(COALESCE_S, self._flush_changes)

    def _flush_changes(self) -> None:
        ids = frozenset(self._pending) if self._pending is not None else None
        kinds = frozenset(self._pending_kinds)
        self._pending, self._pending_kinds, self._flush_scheduled = set(), set(), False
        self.inbox.post_message(StoreChanged(kinds, ids))

    async def _wake_snoozed(self) -> None:
        """Snoozes that ran out (even while ecoinbox was closed) come back to the Inbox."""
        if self.store.read_only_reason is not None:
            return
        try:
            await self.store.wake_snoozed()
        except StoreError:
            pass  # a full disk: the next check tries again; the screens report store failures

    async def _check_other_processes(self) -> None:
        try:
            version = await self.store.external_version()
        except StoreError:
            return  # the screens report store failures when they read
        if self._data_version is not None and version != self._data_version:
            self._pending = None  # we cannot know what another process touched
            self._on_store_change(Change(ChangeKind.EXTERNAL))
        self._data_version = version

    def _on_channel_status(self, status: ChannelStatus) -> None:
        self.inbox.post_message(ChannelStatusChanged(status))

    def _on_engine_role(self, role: EngineRole) -> None:
        self.inbox.post_message(EngineRoleChanged(role))

    # ---- what screens ask of the app --------------------------------------------------------

    def reply_draft(self, parent: PlatformMessage, language: str | None = None) -> ReplyDraft | None:
        """How a reply to `parent` starts and is measured on its channel, with canned replies."""
        engine = self.engine
        if engine is None:
            return None
        return reply_draft(self.settings, engine.channels, engine.capabilities, parent, language)

    def canned_values(self, parent: PlatformMessage) -> dict[str, str]:
        """What fills canned reply variables for a reply to `parent` (empty values are left out)."""
        return canned_values(self.settings, parent)

    def reply_language(self, parent: PlatformMessage) -> str | None:
        """The language field of a reply, where the platform has one: the person's."""
        return reply_language(parent)

    def forum_channel(self) -> Channel | None:
        """The forum's channel, when one is configured and running in this window."""
        return None if self.engine is None else forum_channel(self.settings, self.engine.channels)

    async def redirect_suggestions(self, conversation: Conversation) -> list[Suggestion]:
        """Canned replies that bring the person to the forum, ranked for this conversation."""
        return await self.link_suggestions.for_redirect(conversation, self.now())

    def topic_reply_template(self, language: str | None) -> str:
        """The reply that carries a new topic's address: a canned one with {topic_url}, else ours."""
        return topic_reply_template(self.settings, language)

    def help_sections(self) -> list[tuple[str, list[BindingType]]]:
        return [
            ("Inbox", list(InboxScreen.BINDINGS)),
            ("Conversation list", list(ConversationList.BINDINGS)),
            ("Search line (/)", list(SearchBar.BINDINGS)),
            ("Thread", list(ThreadView.BINDINGS)),
            ("Compose", list(ComposeScreen.BINDINGS)),
            ("Canned reply picker", [*CannedPicker.BINDINGS, *ValuePrompt.BINDINGS]),
            ("Bring them to the forum (f)", [*RedirectScreen.BINDINGS, *NewTopicScreen.BINDINGS]),
            ("A reply that needs a decision (O)", list(OutboxDecisionScreen.BINDINGS)),
            ("Outbox: replies waiting to go out (w)", list(OutboxScreen.BINDINGS)),
            ("Snooze (s)", list(SnoozeScreen.BINDINGS)),
            (
                "Tag (t), note (n), assign (a)",
                [*TagPrompt.BINDINGS, *NoteScreen.BINDINGS, *AssignScreen.BINDINGS],
            ),
            (
                "A person across channels (c, L)",
                [*ContactScreen.BINDINGS, *AccountPicker.BINDINGS, *ContactNoteScreen.BINDINGS],
            ),
            ("Questions", [*ConfirmScreen.BINDINGS, *DiscardQuestion.BINDINGS]),
            ("Quitting while a reply waits out its send hold (q)", list(QuitQuestion.BINDINGS)),
            ("This help", list(HelpScreen.BINDINGS)),
            ("Everywhere", list(self.BINDINGS)),
        ]

    async def action_quit(self) -> None:
        """Quit; whatever is typed in an open box is saved as its draft first, and said so. A
        reply still in its send hold is not left behind silently: send it now, or stay."""
        held = self.inbox.holding() if self.inbox.is_attached else []
        if held and not isinstance(self.screen, QuitQuestion):
            self.push_screen(quit_question(held, monotonic()), self._quit_after_hold)
            return
        if held:  # q again on the question: they stay queued, and the terminal says so
            self.farewell = left_behind(held)
        await self._quit()

    async def hang_up(self) -> None:
        """Quit without a question (SIGHUP, SIGTERM: nobody is there to answer): the drafts are
        kept and replies in their hold stay queued, as the farewell says."""
        held = self.inbox.holding() if self.inbox.is_attached else []
        if held:
            self.farewell = left_behind(held)
        await self._quit()

    def _quit_after_hold(self, send: bool | None) -> None:
        if send:
            self.run_worker(self._send_then_quit(), group="quit", exclusive=True)

    async def _send_then_quit(self) -> None:
        held = self.inbox.holding()
        if held:
            self.notify("Sending, then quitting…", markup=False, timeout=SEND_ON_QUIT_S)
            self.farewell = await send_before_quit(self.store, held, actor=self.settings.team.me)
        await self._quit()

    async def _quit(self) -> None:
        kept = []
        for keeper in keepers(self.screen_stack):
            await keeper.flush()
            if keeper.holds_words:
                kept.append(keeper.label)
        if kept:
            drafts = (f"ecoinbox kept your draft ({', '.join(kept)}): it is back in the box "
                      "when you open it again.")  # fmt: skip
            self.farewell = f"{self.farewell}\n{drafts}".strip()
            self.notify(self.farewell, markup=False)  # seen for the instant before the screen goes
        self.exit()

    def action_help(self) -> None:
        if isinstance(self.screen, (HelpScreen, TooSmallScreen)):
            return
        marks = [("Row marks (first column)", ROW_MARKS), ("Words in a row", ROW_WORDS)]
        self.push_screen(HelpScreen(self.help_sections(), self.settings.ui.keys, marks))
