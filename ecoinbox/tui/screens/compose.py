"""Compose a reply: a text area, a live count against the channel's limit, $EDITOR on demand.

The screen hands the text to a `save` function from the inbox (which writes it to the outbox)
and closes only once that worked: on a full disk the box stays open with the text in it.
Nothing here sends.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static, TextArea

from ecoinbox.actions import fill_canned
from ecoinbox.humanize import ago
from ecoinbox.model import ConcurrentReply, Message
from ecoinbox.replies import CannedReply, render, stack
from ecoinbox.store import StoreError
from ecoinbox.tui.drafts import DraftKeeper
from ecoinbox.tui.keys import after_typed
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.confirm import ConfirmScreen

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    restored: str | None = None  # the draft kept from before: the box starts with it instead


@dataclass(frozen=True, slots=True)
class ComposedReply:
    """What the manager decided to send, and which canned replies it was made from."""

    text: str
    canned: tuple[str, ...] = ()
    link: str | None = None


async def saved_or_kept(screen: Screen[Any], save: Callable[[T], Awaitable[None]], value: T) -> bool:
    """Run `save`; when it fails, say so and keep `screen` open with everything typed in it."""
    try:
        await save(value)
    except StoreError as exc:  # a full disk, a read-only or damaged store: its own words
        why = str(exc)
    except Exception as exc:  # a bug must not lose what the manager wrote either
        log.exception("saving from %s failed", type(screen).__name__)
        why = f"An internal error ({type(exc).__name__}); the details are in the log file."
    else:
        return True
    screen.notify(f"{why}\n\nWhat you wrote is still here: ctrl+s tries again.", title="Not saved",
                  severity="error", timeout=30, markup=False)  # fmt: skip
    return False


class SavingScreen(ModalScreen[T]):
    """A modal screen that saves its result before it closes, and never loses it meanwhile.

    `collisions` returns the replies that entered the conversation since the screen opened:
    the manager is asked before theirs joins them, and keeps editing if they say no.
    """

    def __init__(
        self,
        save: Callable[[T], Awaitable[None]] | None,
        collisions: Callable[[], Awaitable[list[ConcurrentReply]]] | None = None,
    ) -> None:
        super().__init__()
        self.save = save
        self.collisions = collisions
        self._saving = False
        self._saved: tuple[T] | None = None

    def save_and_close(self, result: T) -> None:
        if self.save is None and self.collisions is None:
            self.dismiss(result)
        elif not self._saving:  # a second ctrl+s while the first is saving must not queue twice
            self._saving = True
            self.run_worker(self._save_and_close(result), group="save", exit_on_error=False)

    async def _save_and_close(self, result: T) -> None:
        try:
            if self.collisions is not None and (others := await self.collisions()):
                question = collision_question(others, self.app.now())  # type: ignore[attr-defined]
                if not await self.app.push_screen_wait(question):
                    return  # the draft stays as it is
            if self.save is not None and not await saved_or_kept(self, self.save, result):
                return
        finally:
            self._saving = False
        # dismiss() closes whatever screen is on top: if another covers this one now (the
        # terminal got too small), close once this one shows again.
        if self.is_current:
            self.dismiss(result)
        else:
            self._saved = (result,)

    def on_screen_resume(self) -> None:
        if self._saved is not None:
            self.dismiss(self._saved[0])


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


class ComposeScreen(SavingScreen[ComposedReply | None]):
    """Write a reply; `save` queues it (the screen stays open if that fails). Dismisses with the
    reply once saved, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose.send", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel", priority=True),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
        Binding("ctrl+t", "canned", "Canned reply", id="compose.canned", priority=True),
    ]

    def __init__(
        self,
        draft: ReplyDraft,
        *,
        save: Callable[[ComposedReply], Awaitable[None]] | None = None,
        collisions: Callable[[], Awaitable[list[ConcurrentReply]]] | None = None,
        draft_keeper: DraftKeeper | None = None,
    ) -> None:
        """`save` queues the reply (the box stays open, text and all, if that fails).
        `collisions` returns replies that entered the conversation since this box opened: the
        manager is asked before sending over them. `draft_keeper` keeps the text as it is typed."""
        super().__init__(save, collisions)  # type: ignore[arg-type]
        self.draft = draft
        self.draft_keeper = draft_keeper
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
            start = self.draft.restored
            if start is None:
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
        if self.draft_keeper is not None:
            self.draft_keeper.changed(self.text)

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

    @after_typed
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
        if "{topic_url}" in text and not self.draft.values.get("topic_url"):
            self.notify("{topic_url} only has a value in a new forum topic (f, then 'New forum topic').",
                        severity="error", markup=False)  # fmt: skip
            return
        self.save_and_close(ComposedReply(text, tuple(dict.fromkeys(self.used)), self.link))

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

    @after_typed
    def action_cancel(self) -> None:
        if not self._has_own_words():
            self._discard()
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self._discard()

        self.app.push_screen(ConfirmScreen("Discard this reply?", yes="Discard", no="Keep writing"), decided)

    def _discard(self) -> None:
        if self.draft_keeper is not None:
            self.app.run_worker(self.draft_keeper.discard(), group="draft", exit_on_error=False)
        self.dismiss(None)

    @after_typed
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
