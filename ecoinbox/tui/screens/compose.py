"""Compose a reply: a text area, a live count against the channel's limit, $EDITOR on demand.

The screen only returns the text; the inbox writes it to the outbox. Nothing here sends.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ecoinbox.model import Message
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.confirm import ConfirmScreen


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """What the compose box needs to know about where the reply goes."""

    parent: Message
    channel_label: str
    prefix: str  # e.g. the @mention the platform needs
    max_length: int
    count: Callable[[str], int] = len  # how the platform counts (URLs, mentions, graphemes)


class ComposeScreen(ModalScreen[str | None]):
    """Write a reply; dismisses with the text to queue, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose.send", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel", priority=True),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
    ]

    def __init__(self, draft: ReplyDraft) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        parent = self.draft.parent
        with Vertical(id="compose-box"):
            yield Static(
                Content.assemble(
                    ("Reply to ", "bold"),
                    safe_content(parent.author.label, style="bold $accent", single_line=True, max_chars=40),
                    " ",
                    safe_content(f"@{parent.author.handle}", style="dim", single_line=True, max_chars=60),
                    (f" on {self.draft.channel_label}", "dim"),
                ),
                id="compose-title",
                markup=False,
            )
            yield Static(
                safe_content(parent.text, style="dim italic", single_line=True, max_chars=300),
                id="compose-quote",
                markup=False,
            )
            area = TextArea(self.draft.prefix, id="compose-text", soft_wrap=True, show_line_numbers=False)
            yield area
            yield Static("", id="compose-count", markup=False)
            yield Static(
                Content.styled("ctrl+s send · esc cancel · ctrl+e edit in $EDITOR", "dim"),
                id="compose-help",
                markup=False,
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        self._update_count()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._update_count()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _update_count(self) -> None:
        used = self.draft.count(self.text)
        limit = self.draft.max_length
        style = "bold $error" if used > limit else ("$warning" if used > limit * 0.9 else "dim")
        self.query_one("#compose-count", Static).update(Content.styled(f"{used}/{limit}", style))

    def _has_own_words(self) -> bool:
        return self.text.strip() not in ("", self.draft.prefix.strip())

    def action_send(self) -> None:
        text = self.text.strip()
        if not self._has_own_words():
            self.notify("The reply is empty.", severity="warning", markup=False)
            return
        if self.draft.count(text) > self.draft.max_length:
            self.notify(
                f"Too long for {self.draft.channel_label}: {self.draft.max_length} characters at most.",
                severity="error",
                markup=False,
            )
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        if not self._has_own_words():
            self.dismiss(None)
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard this reply?", yes="Discard", no="Keep writing"), decided)

    def action_editor(self) -> None:
        """Edit the draft in $VISUAL/$EDITOR, the terminal handed over while it runs."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.TemporaryDirectory(prefix="ecoinbox-") as folder:
            draft = Path(folder) / "reply.txt"
            draft.write_text(self.text, encoding="utf-8")
            draft.chmod(0o600)
            try:
                with self.app.suspend():
                    completed = subprocess.run([*shlex.split(editor), str(draft)], check=False)
            except Exception as exc:  # suspend unsupported (web) or editor missing
                self.notify(f"Could not run the editor: {exc}", severity="error", markup=False)
                return
            if completed.returncode != 0:
                self.notify(f"The editor exited with status {completed.returncode}; draft unchanged.", markup=False)
                return
            self.query_one(TextArea).load_text(draft.read_text(encoding="utf-8").rstrip("\n"))
