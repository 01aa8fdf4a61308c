"""What stands in for the inbox while the terminal is too small to draw it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

from ecoinbox.tui.screens.compose import SavingScreen

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.tui.app import EcoInboxApp

# Measured: at 60 columns the list still shows channel, name, message and age; 20 rows is what
# the reply box needs for its text, counter and keys (below that they are cut off). The inbox
# is designed for 80x24; the new-topic box loses its one line of key hints below 23 rows.
MIN_WIDTH = 60
MIN_HEIGHT = 20


def too_small(size: Size) -> bool:
    return size.width < MIN_WIDTH or size.height < MIN_HEIGHT


class TooSmallScreen(Screen[None]):
    """Covers every other screen (which keep their state, drafts included) until the terminal
    is large enough again."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

    BINDINGS = [Binding("q", "quit_unless_writing", "Quit", id="too_small.quit")]

    def compose(self) -> ComposeResult:
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        self.show_size(self.app.size)

    def show_size(self, size: Size) -> None:
        self.query_one("#too-small", Static).update(
            Content.assemble(
                (f"Terminal too small ({size.width}x{size.height})", "bold"),
                f": the inbox needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Make the window larger"
                + (" to get back to what you were writing." if self._writing() else "; q quits."),
            )
        )

    def _writing(self) -> bool:
        """A reply or a topic is open beneath: quitting would lose what was typed in it."""
        return any(isinstance(screen, SavingScreen) for screen in self.app.screen_stack)

    def action_quit_unless_writing(self) -> None:
        if not self._writing():
            self.app.exit()
