"""A yes/no question, answered with the keyboard."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask one question; `y` answers yes, `n` or `esc` answers no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(
        self, question: str, *, yes: str = "Yes", no: str = "No", detail: Content | None = None
    ) -> None:
        """`detail` is shown under the question; untrusted text in it must come from `safe_content`."""
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.styled(self.question, "bold"), markup=False)
            if self.detail is not None:
                yield Static(self.detail, markup=False, id="confirm-detail")
            yield Static(Content.styled(self.hint(), "dim"), markup=False)

    def hint(self) -> str:
        """The keys that answer, under the question."""
        return f"y: {self.yes}   n/esc: {self.no}"

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class DiscardQuestion(ConfirmScreen):
    """Throw away what was typed? `y` discards (True), `n` or `esc` keeps writing (False), and
    with `keep`, `d` closes the box and keeps the text as the conversation's draft (None)."""

    BINDINGS = [Binding("d", "keep_draft", "Close, keep the draft", id="confirm.keep_draft")]

    def __init__(self, question: str, *, keep: bool = True) -> None:
        super().__init__(question, yes="Discard", no="Keep writing")
        self.keep = keep

    def hint(self) -> str:
        return f"y: {self.yes}   d: Keep as draft   n/esc: {self.no}" if self.keep else super().hint()

    def action_keep_draft(self) -> None:
        if self.keep:
            self.dismiss(None)
