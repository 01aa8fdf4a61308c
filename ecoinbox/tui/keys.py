"""Keys in the order they were typed, however they arrive.

Over SSH, a paste or `tmux send-keys`, several keys come in one read and Textual hands each to the
widget focused *when the App reads it*. A key that opens an input (`/`, `r`, `t`...) does so only
once its action ran, so the keys right behind it reached the list instead (`/e` marked the
conversation done). Two rules fix that, both here:

- `KeyHold`: after a key bound to an opener, the App holds every following key until focus
  lands somewhere new (the opened input, the opened screen) or the opener's action ran and
  opened nothing, then hands them over in order.
- Keys given back go through the App's queue again; a key read from the terminal before they are
  through (an `esc` the driver parses only after a pause) queues behind them, never passes them.
- An opener that refuses (a warning or an error instead of a box: a read-only feed, Messenger's
  window past, a store that cannot be written) drops the keys held behind it: typed for the box
  that did not open, as commands on the list they would mark done, snooze, tag ("r" + "hello
  everyone"). The notice says what happened; the manager types again.
- `after_typed`: send, save and cancel bindings are priority bindings (the App runs them before
  the text area's queued keys): their action waits behind the keys already queued there, and
  the keys after them are held like an opener's until focus moves (the box closed, a question).

Typed characters that are text though Python calls them unprintable (ZWJ in 👨‍👩‍👧, tag
characters in flags) are dropped by Textual's inputs: `KeyHold` inserts them as the keys would.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.command import CommandPalette
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.worker import Worker

# Bindings that open an input or a screen, or close one: what is typed after them belongs to
# what has the focus once they acted (the opened box, the list again, a question).
OPENERS = frozenset({
    "inbox.search", "inbox.reply", "inbox.redirect", "inbox.tag", "inbox.note", "inbox.snooze",
    "inbox.assign", "inbox.link_contact", "inbox.contact", "inbox.decide_outbox", "app.help",
    "contact.note", "contact.link", "compose.canned", "inbox.undo", "inbox.outbox", "outbox_view.edit",
    "outbox_view.decide", "outbox_view.cancel", "outbox_view.open", "app.palette",
})  # fmt: skip
CLOSERS = frozenset({
    "compose.send", "compose.cancel", "topic.create", "topic.cancel", "contact_note.save",
    "contact_note.cancel", "note.save", "note.cancel", "search.cancel", "tag.cancel", "value.cancel",
    "canned.close", "snooze.cancel", "assign.cancel", "redirect.cancel", "account.cancel",
    "contact.close", "help.close", "confirm.yes", "confirm.no", "confirm.keep_draft",
})  # fmt: skip
# Bindings whose action needs the engine (a channel's limits, its moderation, a poll): typed before
# the engine is attached (it is built after the first rows), they and the keys after them wait for it.
NEEDS_ENGINE = frozenset({
    "inbox.reply", "inbox.redirect", "inbox.poll_now", "inbox.decide_outbox", "inbox.hide",
    "outbox_view.edit", "outbox_view.decide", "app.palette",  # the palette runs any of them
})  # fmt: skip
OPENER_ACTIONS = frozenset({"command_palette", "app.command_palette"})  # Textual's, however it is bound
PALETTE_WAIT_S = 0.5  # the palette closes within milliseconds of the enter that picks a command
RETURN_WAIT_S = 2.0  # a key given back that has not come through the App's queue by then is lost
OPEN_WAIT_S = 5.0  # the last resort: a key stopped on its way to its binding, a stuck action
CHECK_S = 0.01
JOINERS = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ
TAGS = range(0xE0020, 0xE0080)  # the tag characters of subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿)

TextInput = (Input, TextArea)
DEFERRED = object()


def is_text(character: str | None) -> bool:
    """A typed character that belongs in the text, printable or a joiner or a tag character."""
    if not character:
        return False
    return character.isprintable() or character in JOINERS or (len(character) == 1 and ord(character) in TAGS)


def insert_typed(widget: Input | TextArea, text: str) -> None:
    """Insert `text` where the cursor is, over any selection, as Textual does for a typed key."""
    if isinstance(widget, TextArea):
        if not widget.read_only:
            widget.replace(text, *widget.selection, maintain_selection_offset=False)
    elif widget.selection.is_empty:
        widget.insert_text_at_cursor(text)
    else:
        widget.replace(text, *widget.selection)


class KeyHold:
    """Holds the keys typed after an opener until what it opens has the focus."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._held: list[events.Key] | None = None
        self._was_focused: object = None
        self._screen: object = None
        self._key: object = None  # the opener (or DEFERRED), till its action ran
        self._workers: set[Worker[Any]] = set()
        self._deadline = 0.0
        self._checker: Timer | None = None
        self._searching = False  # an enter in the palette waits for its search (`_wait_for_search`)
        self._refused = False  # the opener said why it opens nothing: the held keys are dropped
        # Keys given back by `_release`, on their way through the App's queue, oldest first: a key
        # read from the terminal meanwhile (an esc parsed late) must not pass them.
        self._returning: deque[tuple[events.Key, float]] = deque()

    @property
    def busy(self) -> bool:
        """Keys are held here, or on their way back: a key read now goes behind them."""
        return self._held is not None or bool(self._returning)

    def give_back(self, keys: list[events.Key]) -> None:
        """Keys held elsewhere (waiting for the engine), back through the App in order."""
        for event in keys:
            self._give_back(event)

    def take(self, event: events.Key) -> bool:
        """Called with each key the App reads; True when the key was held (or given as text)."""
        while self._returning and time.monotonic() - self._returning[0][1] > RETURN_WAIT_S:
            self._returning.popleft()  # lost on its way (the app closing a screen): never wait on it
        if self._returning:
            if event is self._returning[0][0]:
                self._returning.popleft()
            else:  # typed after keys still on their way back: it goes behind them
                self._give_back(event)
                return True
        if self._held is not None:
            self._held.append(event)
            return True
        focused = self.app.focused
        if isinstance(focused, TextInput):
            if event.character and not event.character.isprintable() and is_text(event.character):
                focused.call_later(insert_typed, focused, event.character)  # in order with the keys
                return True
            if event.is_printable:
                return False  # text for the input, not a key that opens anything
            if event.key == "enter" and isinstance(focused, Input):
                if isinstance(self.app.screen, CommandPalette) and not self._palette_settled():
                    self._wait_for_search(focused, event)  # the enter picks from what was typed
                    return True
                self._hold(focused, event)  # submits: the prompt closes or the search runs
                return False
        if self._opens(event):
            self._hold(focused, event)
        return False

    def acted(self, event: events.Key | None = None) -> None:
        """The opener's action ran: `event` is the key its binding ran for (None: `after_typed`'s).

        What the action posted (an input's Submitted) is handled on its way up from the focused
        widget to the screen: the key counts as done once a call sent up the same way is back.
        """
        if self._key is None or not (event is self._key or (event is None and self._key is DEFERRED)):
            return
        key = self._key
        start = self._was_focused if isinstance(self._was_focused, Widget) else self.app.screen
        chain = [node for node in start.ancestors_with_self if isinstance(node, Widget)]

        def hop(index: int) -> None:
            if index < len(chain):
                chain[index].call_later(hop, index + 1)
            elif self._key is key:  # still the same hold
                self._key = None

        hop(0)

    def noticed(self, severity: str) -> None:
        """A notice was shown: a warning or an error while keys are held behind an opener is its
        refusal (what it was to open did not open), and the held keys are dropped at release."""
        if self._held is not None and severity in ("warning", "error") and not self._searching:
            self._refused = True

    def defer(self) -> None:
        """The opener's action waits behind the typed keys (`after_typed`): it says when it ran."""
        if self._key is not None:
            self._key = DEFERRED

    def palette_closed(self, chosen: bool) -> None:
        """The command palette closed: on a command (`chosen`), the keys typed after its enter
        wait for the command as for an opener's action (it says so with `acted()`); closed
        without one, they go to the screen under it now."""
        if self._held is None or not isinstance(self._screen, CommandPalette):
            return
        if not chosen:
            self._release()
            return
        self._screen = self.app.screen_stack[-2] if self.app.screen is self._screen else self.app.screen
        self._was_focused = self._screen.focused
        self._key = DEFERRED
        self._workers = set(self.app.workers)
        self._deadline = time.monotonic() + OPEN_WAIT_S

    def _palette_settled(self) -> bool:
        """The command palette has no search running (its list shows what was typed)."""
        palette = self.app.screen
        return not any(w.node is palette and not w.is_finished for w in self.app.workers)

    def _wait_for_search(self, focused: Input, enter: events.Key) -> None:
        """An enter typed in the palette before its search for the typed text ended (a burst: ctrl+p,
        "reply", enter) waits for it, with the keys after it: it would pick nothing yet."""
        self._hold(focused, enter)
        assert self._held is not None
        self._held.append(enter)
        self._key = DEFERRED
        self._searching = True
        self._deadline = time.monotonic() + OPEN_WAIT_S
        palette = self.app.screen
        # Behind the typed text's Changed (the input's queue, then the palette's): the search started.
        focused.call_later(palette.call_later, self.acted)

    def _hold(self, focused: object, key: events.Key) -> None:
        self._held = []
        self._was_focused = focused
        self._screen = self.app.screen
        self._key = key
        self._workers = set(self.app.workers)
        # In the palette an enter that picks nothing (it opens the list) keeps it open: keys wait less.
        wait = PALETTE_WAIT_S if isinstance(self._screen, CommandPalette) else OPEN_WAIT_S
        self._deadline = time.monotonic() + wait
        # An interval, not a chain of one-shot timers: a late one-shot timer is skipped, not run.
        self._checker = self.app.set_interval(CHECK_S, self._check, name="key hold")

    def _opens(self, event: events.Key) -> bool:
        active = self.app.active_bindings.get(event.key)
        if active is None or not active.enabled:
            return False
        binding = active.binding
        return binding.id in OPENERS or binding.id in CLOSERS or binding.action in OPENER_ACTIONS

    def _check(self) -> None:
        if self._held is None:
            return
        if self._searching:
            if (self._key is None and self._palette_settled()) or time.monotonic() > self._deadline:
                self._release()
        elif self._arrived() or self._opened_nothing() or time.monotonic() > self._deadline:
            self._release()

    def _arrived(self) -> bool:
        """Focus is where the keys now belong: another screen, an input, or out of the input.

        Not merely elsewhere: the list taking the focus back at start is no opened input.
        """
        focused, screen = self.app.focused, self.app.screen
        if isinstance(self._screen, CommandPalette):
            return False  # the palette closing is no arrival: `palette_closed` says what follows
        if focused is None:  # a question with nothing to focus (y/n): its bindings take the keys
            return screen is not self._screen and screen.is_mounted and not screen.focus_chain
        if focused is self._was_focused:
            return False
        return (screen is not self._screen or isinstance(focused, TextInput)
                or isinstance(self._was_focused, TextInput))  # fmt: skip

    def _opened_nothing(self) -> bool:
        """The action ran, on the same screen, and left no worker that may still open something.

        Focus it asked for is queued in the App before the keys given back: they still follow it.
        """
        if self._key is not None or self.app.screen is not self._screen:
            return False
        if isinstance(self._screen, CommandPalette):
            return False  # its enter picks a command in a few steps: it closes, or PALETTE_WAIT_S ends
        return all(worker in self._workers or worker.is_finished for worker in self.app.workers)

    def _release(self) -> None:
        held, self._held, self._was_focused, self._screen, self._key = (
            self._held or [],
            None,
            None,
            None,
            None,
        )
        self._searching = False
        if self._refused:
            held, self._refused = [], False  # typed blind for a box that did not open
        self._workers = set()
        if self._checker is not None:
            self._checker.stop()
            self._checker = None
        for event in held:  # back through the App, in order: one of them may open again
            self._give_back(event)

    def _give_back(self, event: events.Key) -> None:
        again = events.Key(event.key, event.character)
        self._returning.append((again, time.monotonic()))
        self.app.post_message(again)


def after_typed(action: Callable[..., Any]) -> Callable[..., None]:
    """A screen's action that runs once the focused widget applied every key typed before it.

    The call waits in the focused widget's message queue behind the keys already there, and runs
    before any typed after it (those are held: see CLOSERS).
    """

    @functools.wraps(action)
    def later(screen: Screen[Any], *args: Any) -> None:
        hold = getattr(screen.app, "key_hold", None)
        if isinstance(hold, KeyHold):
            hold.defer()

        async def act() -> None:
            try:
                result = action(screen, *args)
                if inspect.isawaitable(result):
                    await result
            finally:
                if isinstance(hold, KeyHold):
                    hold.acted()

        (screen.focused or screen).call_later(act)

    return later
