"""`/`: the search line at the bottom of the inbox, with the language's reminder under it.

Enter posts `Submitted` with the text; the inbox parses it and either shows the results or
calls `show_error()` (the line stays open with the text, to correct). Escape posts `Cancelled`.
Up and down recall this session's earlier searches.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

HINT = (
    'words "a phrase" pre* from: channel: is:open|done|spam|unanswered lang: after:3d before: '
    "has:link -not · ↑↓ earlier searches · esc closes"
)
HISTORY = 50


class SearchBar(Vertical):
    """The search line and its hint (or the error of the last try). Hidden until `open()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close search", id="search.cancel"),
        Binding("up", "history(-1)", "Earlier search", id="search.earlier", show=False),
        Binding("down", "history(1)", "Later search", id="search.later", show=False),
    ]

    # On a layer of its own, docked over the bottom rows, and hidden rather than taken out of the
    # layout: opening it moves nothing, so the list and the thread are not sent again (66 KB at
    # 120x40 when it pushed them up; Textual repaints everything when a widget comes or goes).
    DEFAULT_CSS = """
    SearchBar {
        layer: search;
        dock: bottom;
        height: auto;
        visibility: hidden;
        background: $panel;
        &.-open { visibility: visible; }
        Input { border: none; height: 1; padding: 0 1; background: $surface; }
        Input:focus { border: none; background-tint: $foreground 5%; }
        #search-hint { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
        #search-hint.-error { color: $text-error; }
    }
    """

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Cancelled(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: list[str] = []
        self._recall = 0

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="search: refund from:zoe after:3d  (enter runs, esc closes)", id="search-input"
        )
        yield Static(HINT, id="search-hint", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, text: str = "") -> None:
        self.add_class("-open")
        self._hint(None)
        self.input.value = text
        self.input.cursor_position = len(text)
        self._recall = len(self.history)
        self.input.focus()

    def close(self) -> None:
        self.remove_class("-open")

    def show_error(self, message: str) -> None:
        """The search did not parse: say why under the line, keep the text to correct."""
        self._hint(message)
        self.input.focus()

    def _hint(self, error: str | None) -> None:
        hint = self.query_one("#search-hint", Static)
        hint.set_class(error is not None, "-error")
        hint.update(Content(HINT if error is None else error))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY]
        self.post_message(self.Submitted(text))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._recall = max(0, min(len(self.history), self._recall + step))
        text = self.history[self._recall] if self._recall < len(self.history) else ""
        self.input.value = text
        self.input.cursor_position = len(text)
