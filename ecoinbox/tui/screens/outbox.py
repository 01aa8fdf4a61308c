"""A reply the outbox could not settle: the manager decides what happens to it.

Failed means the platform refused it; unknown means it may or may not have been published and
ecoinbox will not resend it blindly. Only a person can look at the platform and say.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ecoinbox.model import OutboxItem, OutboxState, ReplyDecision
from ecoinbox.tui.safe import safe_content

EDIT = "edit"


@dataclass(frozen=True, slots=True)
class _Choice:
    key: str
    answer: ReplyDecision | str
    label: str


class OutboxDecisionScreen(ModalScreen[ReplyDecision | str | None]):
    """Shows one failed or unknown reply and its reason; dismisses with the decision, "edit",
    or None (decide later)."""

    BINDINGS = [
        Binding("s", "choose('s')", "Send again", id="outbox.resend"),
        Binding("m", "choose('m')", "Mark sent", id="outbox.mark_sent"),
        Binding("e", "choose('e')", "Edit, then send", id="outbox.edit"),
        Binding("d", "choose('d')", "Discard", id="outbox.discard"),
        Binding("escape", "choose('')", "Decide later", id="outbox.later"),
    ]

    def __init__(self, item: OutboxItem, *, more: int = 0) -> None:
        super().__init__()
        self.item = item
        self.more = more
        self.choices = _choices(item)

    def compose(self) -> ComposeResult:
        item = self.item
        what = "forum topic" if item.kind == "topic" else "reply"
        if item.state is OutboxState.FAILED:
            question = f"{item.channel} refused this {what}."
        else:
            question = f"This {what} may or may not be on {item.channel}: check there before deciding."
        with Vertical(id="outbox-box"):
            yield Static(Content.styled(question, "bold"), markup=False)
            if item.title:
                yield Static(
                    safe_content(item.title, style="bold", single_line=True, max_chars=200), markup=False
                )
            yield Static(
                safe_content(item.text, style="italic", max_chars=600), markup=False, id="outbox-text"
            )
            if item.error:
                yield Static(
                    safe_content(item.error, style="$error", max_chars=300), markup=False, id="outbox-error"
                )
            lines = [Content.assemble((f"{c.key}", "bold $accent"), f"  {c.label}") for c in self.choices]
            lines.append(Content.assemble(("esc", "bold $accent"), "  decide later"))
            if self.more:
                lines.append(Content.styled(f"({self.more} more in this conversation after this one)", "dim"))
            yield Static(Content("\n").join(lines), markup=False, id="outbox-choices")

    def action_choose(self, key: str) -> None:
        if not key:
            self.dismiss(None)
            return
        choice = next((c for c in self.choices if c.key == key), None)
        if choice is not None:  # a key that does not apply to this reply does nothing
            self.dismiss(choice.answer)


def _choices(item: OutboxItem) -> list[_Choice]:
    where = item.channel
    if item.state is OutboxState.UNKNOWN:
        choices = [_Choice("s", ReplyDecision.RESEND, f"it is not on {where}: send it again")]
        if item.kind == "reply":
            choices.append(_Choice("m", ReplyDecision.MARK_SENT, f"it is on {where}: mark it sent"))
    else:
        choices = [_Choice("s", ReplyDecision.RESEND, "send it again as it is")]
    if item.kind == "reply":
        choices.append(_Choice("e", EDIT, "edit it, then send"))
    choices.append(_Choice("d", ReplyDecision.DISCARD, "discard it"))
    return choices
