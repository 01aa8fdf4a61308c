"""Keys in the order they were typed, however they arrive.

Over SSH, a paste or `tmux send-keys`, several keys come in one read and Textual hands each to the
widget focused *when the App reads it*. A key that opens an input (`/`, `r`, `t`...) does so only
once its action ran, so the keys right behind it reached the list instead (`/e` marked the
conversation done). Two rules fix that, both here:

- `KeyHold`: after a key bound to an opener, the App holds every following key until focus
  lands somewhere new (the opened input, the opened screen), then hands them over in order.
- `after_typed`: send, save and cancel bindings are priority bindings (the App runs them before
  the text area's queued keys): their action waits behind the keys already queued there.

Typed characters that are text though Python calls them unprintable (ZWJ in 👨‍👩‍👧, tag
characters in flags) are dropped by Textual's inputs: `KeyHold` inserts them as the keys would.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, TextArea

# Bindings whose action opens an input or a screen: what is typed after them belongs there.
OPENERS = frozenset({
    "inbox.search", "inbox.reply", "inbox.redirect", "inbox.tag", "inbox.note", "inbox.snooze",
    "inbox.assign", "inbox.link_contact", "inbox.contact", "inbox.decide_outbox", "app.help",
    "contact.note", "contact.link",
})  # fmt: skip
OPENER_ACTIONS = frozenset({"command_palette", "app.command_palette"})  # Textual's, no id of ours
OPEN_WAIT_S = 1.0  # an opener that opened nothing (no conversation, read-only) lets keys go then
CHECK_S = 0.01
JOINERS = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ
TAGS = range(0xE0020, 0xE0080)  # the tag characters of subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿)

TextInput = (Input, TextArea)


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
        self._deadline = 0.0

    @property
    def holding(self) -> bool:
        return self._held is not None

    def take(self, event: events.Key) -> bool:
        """Called with each key the App reads; True when the key was held (or given as text)."""
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
        if self._opens(event):
            self._held = []
            self._was_focused = focused
            self._deadline = time.monotonic() + OPEN_WAIT_S
            self.app.set_timer(CHECK_S, self._check)
        return False

    def _opens(self, event: events.Key) -> bool:
        active = self.app.active_bindings.get(event.key)
        if active is None or not active.enabled:
            return False
        binding = active.binding
        return binding.id in OPENERS or binding.action in OPENER_ACTIONS

    def _check(self) -> None:
        focused = self.app.focused
        if (focused is not None and focused is not self._was_focused) or time.monotonic() > self._deadline:
            self._release()
        else:
            self.app.set_timer(CHECK_S, self._check)

    def _release(self) -> None:
        held, self._held, self._was_focused = self._held or [], None, None
        for event in held:  # back through the App, in order: one of them may open again
            self.app.post_message(events.Key(event.key, event.character))


def after_typed(action: Callable[..., Any]) -> Callable[..., None]:
    """A screen's action that runs once the focused widget applied every key typed before it.

    The call goes through the focused widget's message queue (behind the keys already there),
    then back to the screen's own, where the action runs as it would have.
    """

    @functools.wraps(action)
    def later(screen: Screen[Any], *args: Any) -> None:
        target = screen.focused or screen
        target.call_later(screen.call_later, action, screen, *args)

    return later
