"""Compose a reply: a text area, a live count against the channel's limit, $EDITOR on demand.

The screen only returns the text; the inbox writes it to the outbox. Nothing here sends.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ecoinbox.humanize import ago
from ecoinbox.model import ConcurrentReply, Message
from ecoinbox.replies import CannedReply, Rendered, pick_variant, render, stack
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.confirm import ConfirmScreen


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """What the compose box needs to know about where the reply goes."""

    parent: Message
    channel_label: str
    prefix: str  # e.g. the @mention the platform needs
    max_length: int
    count: Callable[[str], int] = len  # how the platform counts (URLs, mentions, graphemes)
    canned: tuple[CannedReply, ...] = ()  # what ctrl+t offers
    values: Mapping[str, str] = field(default_factory=dict)  # what fills canned variables
    language: str | None = None  # the person's language: its canned variants come first
    body: str = ""  # text to start with after the prefix (a redirect's canned reply)
    used: tuple[str, ...] = ()  # canned replies already in `body`
    link: str | None = None  # the canned link already in `body`


@dataclass(frozen=True, slots=True)
class ComposedReply:
    """What the manager decided to send, and which canned replies it was made from."""

    text: str
    canned: tuple[str, ...] = ()
    link: str | None = None


def fill_canned(reply: CannedReply, language: str | None, values: Mapping[str, str]) -> tuple[str, Rendered, str | None]:
    """The variant for `language` rendered with `values` (and the reply's own link as {link})."""
    template, _ = pick_variant(reply, language)
    link = render(reply.link, values).text if reply.link else None
    filled = dict(values)
    if link:
        filled["link"] = link
    return template, render(template, filled), link


def collision_question(others: list[ConcurrentReply], now: datetime) -> ConfirmScreen:
    """Someone else answered while the manager was writing: show what, and ask."""
    lines: list[Content | str] = []
    for other in others[-3:]:
        lines.append(Content.assemble(
            safe_content(other.by, style="bold", single_line=True, max_chars=40),
            (f", {ago(other.at, now)}: ", "dim"),
            safe_content(other.text, style="italic", single_line=True, max_chars=160),
            "\n",
        ))  # fmt: skip
    if len(others) > 3:
        lines.append(Content.styled(f"and {len(others) - 3} more\n", "dim"))
    what = "Another reply was" if len(others) == 1 else f"{len(others)} other replies were"
    return ConfirmScreen(
        f"{what} added to this conversation while you were writing. Send yours too?",
        yes="Send mine too", no="Keep editing", detail=Content.assemble(*lines).rstrip(),
    )  # fmt: skip


class ComposeScreen(ModalScreen[ComposedReply | None]):
    """Write a reply; dismisses with the reply to queue, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose.send", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel", priority=True),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
        Binding("ctrl+t", "canned", "Canned reply", id="compose.canned", priority=True),
    ]

    def __init__(
        self, draft: ReplyDraft, *, collisions: Callable[[], Awaitable[list[ConcurrentReply]]] | None = None
    ) -> None:
        """`collisions` returns replies that entered the conversation since this box opened:
        the manager is asked before sending over them."""
        super().__init__()
        self.draft = draft
        self.collisions = collisions
        self.used: list[str] = list(draft.used)
        self.link = draft.link

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
            start = self.draft.prefix + self.draft.body
            area = TextArea(start, id="compose-text", soft_wrap=True, show_line_numbers=False)
            yield area
            yield Static("", id="compose-count", markup=False)
            yield Static(
                Content.styled("ctrl+s send · ctrl+t canned reply · ctrl+e $EDITOR · esc cancel", "dim"),
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

    @work(exclusive=True, group="send")
    async def action_send(self) -> None:
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
        if "{topic_url}" in text and not self.draft.values.get("topic_url"):
            self.notify("{topic_url} only has a value in a new forum topic (f, then 'New forum topic').",
                        severity="error", markup=False)  # fmt: skip
            return
        if self.collisions is not None and (others := await self.collisions()):
            question = collision_question(others, self.app.now())  # type: ignore[attr-defined]
            if not await self.app.push_screen_wait(question):
                return  # the draft stays as it is
        self.dismiss(ComposedReply(text, tuple(dict.fromkeys(self.used)), self.link))

    @work(exclusive=True, group="canned")
    async def action_canned(self) -> None:
        """Pick a canned reply, ask for any value it lacks, and add it to the draft."""
        if not self.draft.canned:
            self.notify("No canned replies yet: add [[canned]] entries to the config.", markup=False)
            return
        reply = await self.app.push_screen_wait(CannedPicker(self.draft.canned, self.draft.language))
        if reply is None:
            return
        template, rendered, link = fill_canned(reply, self.draft.language, self.draft.values)
        values = dict(self.draft.values, **({"link": link} if link else {}))
        for variable in rendered.missing:
            answer = await self.app.push_screen_wait(ValuePrompt(variable, reply.name))
            if answer is None:
                self.notify(f"Not inserted: {{{variable}}} has no value.", severity="warning", markup=False)
                return
            values[variable] = answer
        text = render(template, values).text
        self._insert(text)
        self.used.append(reply.name)
        self.link = link or self.link

    def _insert(self, text: str) -> None:
        area = self.query_one(TextArea)
        if self._has_own_words():
            area.load_text(stack([area.text.rstrip(), text]))
        else:
            area.load_text(self.draft.prefix + text)
        area.move_cursor(area.document.end)
        area.focus()

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
