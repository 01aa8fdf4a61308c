"""Canned replies in the compose box: a fuzzy picker (`ctrl+t`) and a prompt for missing values."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ecoinbox.replies import CannedReply, search_canned

MAX_SHOWN = 30  # a short menu: OptionList is fine here (never for the inbox itself)


class CannedPicker(ModalScreen[CannedReply | None]):
    """Type to filter the canned replies; enter picks, esc closes."""

    BINDINGS = [
        Binding("escape", "cancel", "Close", id="canned.close"),
        Binding("down,ctrl+n", "move(1)", "Next", id="canned.next", show=False),
        Binding("up,ctrl+p", "move(-1)", "Previous", id="canned.previous", show=False),
    ]

    def __init__(self, replies: Sequence[CannedReply], language: str | None) -> None:
        super().__init__()
        self.replies = tuple(replies)
        self.language = language
        self.shown: list[CannedReply] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(
                Content.styled("Canned replies (type to filter, enter to insert)", "bold"), markup=False
            )
            yield Input(placeholder="refund, export, livraison…", id="picker-query")
            yield OptionList(id="picker-options")
            yield Static("", id="picker-preview", markup=False)

    def on_mount(self) -> None:
        self._filter("")
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        self.shown = search_canned(query, self.replies, language=self.language)[:MAX_SHOWN]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(_label(reply, self.language)) for reply in self.shown)
        if self.shown:
            options.highlighted = 0
        self._preview()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview()

    def _preview(self) -> None:
        index = self.query_one(OptionList).highlighted
        preview = self.query_one("#picker-preview", Static)
        if index is None or not self.shown:
            preview.update(Content.styled("No canned reply matches." if not self.shown else "", "dim"))
            return
        reply = self.shown[index]
        text = reply.variants.get(self.language or "", reply.text) if self.language else reply.text
        preview.update(Content.styled(text, "dim"))

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            options.highlighted = ((options.highlighted or 0) + step) % len(self.shown)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None and self.shown:
            self.dismiss(self.shown[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


def _label(reply: CannedReply, language: str | None) -> Content:
    languages = sorted({*reply.variants})
    mark = " ".join(languages)
    in_their_language = language is not None and language in reply.variants
    return Content.assemble(
        (reply.title or reply.name, "bold" if in_their_language else ""),
        (f"  {reply.name}", "dim"),
        (f"  [{mark}]" if mark else "", "dim"),
        ("  → forum" if reply.redirect else "", "$accent"),
    )


class ValuePrompt(ModalScreen[str | None]):
    """Ask for one variable a canned reply needs and nothing can fill (e.g. {order_number})."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="value.cancel")]

    def __init__(self, variable: str, reply_name: str) -> None:
        super().__init__()
        self.variable = variable
        self.reply_name = reply_name

    def compose(self) -> ComposeResult:
        with Vertical(id="value-box"):
            yield Static(
                Content.assemble(
                    ("Canned reply ", ""),
                    (self.reply_name, "bold"),
                    (" needs a value for ", ""),
                    ("{" + self.variable + "}", "bold $accent"),
                ),
                markup=False,
            )
            yield Input(id="value-input")
            yield Static(Content.styled("enter: use it · esc: insert nothing", "dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
