"""`?`: every key binding, as currently mapped, with the id to remap it in config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def describe_keys(keys: str) -> str:
    names = {"escape": "esc", "pagedown": "pgdn", "pageup": "pgup", "exclamation_mark": "!",
             "question_mark": "?", "shift+tab": "shift+tab", "left_square_bracket": "[",
             "right_square_bracket": "]"}  # fmt: skip
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """The key reference. Any key closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Scroll down", id="help.down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", id="help.up", show=False),
        Binding("pagedown,space", "scroll(10)", "Page down", id="help.page_down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", id="help.page_up", show=False),
    ]

    def __init__(
        self, sections: Iterable[tuple[str, Iterable[BindingType]]], keymap: Mapping[str, str],
        marks: Iterable[tuple[str, Iterable[tuple[str, str]]]] = (),
    ) -> None:  # fmt: skip
        """`marks`: titled lists of (mark, what it means), shown after the keys."""
        super().__init__()
        self.sections = list(sections)
        self.keymap = keymap
        self.marks = list(marks)

    def compose(self) -> ComposeResult:
        lines: list[Content] = [
            Content.styled('Keys (remap any of them in config: [ui.keys] id = "keys")', "bold")
        ]
        for title, bindings in self.sections:
            lines.append(Content(""))
            lines.append(Content.styled(title, "bold $accent"))
            for binding in bindings:
                if not isinstance(binding, Binding):
                    continue  # a (key, action) tuple has no id to remap it by: ours are all Bindings
                keys = self.keymap.get(binding.id or "", binding.key)
                lines.append(
                    Content.assemble(
                        (f"  {describe_keys(keys):<16}", "bold"),
                        (f"{binding.description or binding.action:<20} ", ""),
                        (binding.id or "", "dim"),
                    )
                )
        for title, marks in self.marks:
            lines.append(Content(""))
            lines.append(Content.styled(title, "bold $accent"))
            for mark, meaning in marks:
                lines.append(Content.assemble((f"  {mark:<16}", "bold"), meaning))
        lines.append(Content(""))
        lines.append(Content.styled("j/k and pgup/pgdn scroll; esc, q or ? closes this help.", "dim"))
        with VerticalScroll(id="help-box"):
            yield Static(Content("\n").join(lines), markup=False)

    def action_scroll(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
