"""The footer of keys, drawn again only when the keys it shows change.

Textual's Footer recomposes (a widget per key, a layout, the whole line sent) whenever the
bindings may have changed: every time focus moves, so enter and esc in the inbox cost ~2-5 KB and
tens of milliseconds for a line that looks the same.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A Footer that recomposes only when the keys it shows, or whether they work, change."""

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        self._shown: tuple[tuple[str, str, bool, str], ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        shown = tuple(
            (binding.key, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown and screen.app.app_focus:
            return
        self._shown = shown if screen.app.app_focus else None
        super().bindings_changed(screen)
