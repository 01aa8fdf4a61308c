"""ctrl+p: the command palette lists ecoinbox's own actions by name, with the keys they have now.

The actions are the bindings of the screen the palette was opened on (the inbox's reply, done,
snooze..., or the Outbox view's) and the app's; choosing one runs it as its key would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ecoinbox.keymap import DEFAULT_KEYS, keys_of
from ecoinbox.tui.keys import KeyHold
from ecoinbox.tui.screens.help import describe_keys

if TYPE_CHECKING:
    from ecoinbox.tui.app import EcoInboxApp

LEFT_OUT = frozenset({"app.palette", "app.quit_anywhere", "inbox.back", "outbox_view.back"})
"""Not worth a line in the palette: the palette itself, and the keys that only go back."""


@dataclass(frozen=True, slots=True)
class PaletteAction:
    """One action as the palette shows it: "Forum · redirect", its keys, its binding."""

    name: str
    keys: str
    binding: Binding

    @property
    def searched(self) -> str:
        """What a typed query is matched against: the name and the keys."""
        return f"{self.name} {self.keys}"


def palette_name(binding: Binding) -> str:
    """The binding's description, with the action's own word when the description lacks it
    (`f` says "Forum": "redirect" finds it too)."""
    description = binding.description or binding.action
    word = (binding.id or "").split(".", 1)[-1].replace("_", " ")
    return description if not word or word.lower() in description.lower() else f"{description} · {word}"


class ActionCommands(Provider):
    """ecoinbox's actions in the command palette: "reply" finds Reply (r)."""

    def actions(self) -> Iterator[PaletteAction]:
        keymap = cast("EcoInboxApp", self.app).settings.ui.keys  # a Provider: Textual types it App
        for binding in [*type(self.screen).BINDINGS, *type(self.app).BINDINGS]:
            if not isinstance(binding, Binding):
                continue
            binding_id = binding.id or ""
            if binding_id not in DEFAULT_KEYS or binding_id in LEFT_OUT:
                continue
            yield PaletteAction(palette_name(binding), describe_keys(keys_of(keymap, binding_id)), binding)

    def _run(self, action: PaletteAction) -> Callable[[], Awaitable[None]]:
        namespace = self.app if (action.binding.id or "").startswith("app.") else self.screen
        app = self.app

        async def run() -> None:
            try:
                await app.run_action(action.binding.action, namespace)
            finally:  # keys typed behind the palette's enter wait for this, as for the key's action
                hold = getattr(app, "key_hold", None)
                if isinstance(hold, KeyHold):
                    hold.acted()

        return run

    def _display(self, action: PaletteAction, name: Content) -> Content:
        return Content.assemble(name, ("  " + action.keys, "dim"))

    async def discover(self) -> Hits:
        for action in self.actions():
            yield DiscoveryHit(
                self._display(action, Content(action.name)), self._run(action), text=action.name,
                help=action.binding.id,
            )  # fmt: skip

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self.actions():
            score = matcher.match(action.searched)
            if score > 0:
                yield Hit(
                    score, self._display(action, matcher.highlight(action.name)), self._run(action),
                    text=action.name, help=action.binding.id,
                )  # fmt: skip
