"""Compose a reply: a text area, a live count against the channel's limit, $EDITOR on demand.

The screen hands the text to a `save` function from the inbox (which writes it to the outbox)
and closes only once that worked: on a full disk the box stays open with the text in it.
Nothing here sends.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static, TextArea

from ecoinbox.actions import fill_canned
from ecoinbox.channels.base import MailHeaders
from ecoinbox.humanize import ago
from ecoinbox.model import ConcurrentReply
from ecoinbox.replies import render, stack
from ecoinbox.replying import ReplyDraft
from ecoinbox.sanitize import sanitize
from ecoinbox.store import StoreError
from ecoinbox.tui.drafts import DraftKeeper
from ecoinbox.tui.keys import after_typed
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.confirm import ConfirmScreen, DiscardQuestion

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.tui.app import EcoInboxApp

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ComposedReply:
    """What the manager decided to send, and which canned replies it was made from."""

    text: str
    canned: tuple[str, ...] = ()
    link: str | None = None
    visibility: str | None = None  # chosen in the box (None: the parent's)
    wider: bool = False  # more public than the parent's, and the manager confirmed it
    headers: MailHeaders | None = None  # a mail's headers, when the manager changed them


VISIBILITY_WORDS = {
    "public": "public",
    "unlisted": "unlisted (public, kept out of the timelines)",
    "private": "followers only",
    "direct": "direct: only the people it mentions",
}
"""How the reply box names a visibility."""


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


class SavingScreen(ModalScreen[T | None]):
    """A modal screen that saves its result before it closes, and never loses it meanwhile
    (it closes with None when cancelled).

    `collisions` returns the replies that entered the conversation since the screen opened:
    the manager is asked before theirs joins them, and keeps editing if they say no.
    """

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

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
                question = collision_question(others, self.app.now())
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


QUOTE_CHARS = 120
"""The start of the message a reply answers, quoted in the box: two lines at 80 columns."""


def _header_field(label: str, value: str, id: str) -> ComposeResult:
    """One editable mail header: its name, then its value."""
    yield Horizontal(
        Static(Content.styled(f"{label}:", "dim"), classes="compose-header-label", markup=False),
        Input(sanitize(value, single_line=True), id=id, classes="compose-header", compact=True),
        classes="compose-header-row",
    )


def _addresses(value: str) -> tuple[str, ...]:
    """The addresses typed in a To or Cc field, separated by commas, semicolons or spaces."""
    return tuple(dict.fromkeys(a for a in re.split(r"[,;\s]+", value) if a))


def _looks_like_address(address: str) -> bool:
    return bool(re.fullmatch(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+", address))


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


class ComposeScreen(SavingScreen[ComposedReply]):
    """Write a reply; `save` queues it (the screen stays open if that fails). Dismisses with the
    reply once saved, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose.send", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel", priority=True),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
        Binding("ctrl+t", "canned", "Canned reply", id="compose.canned", priority=True),
        Binding("ctrl+o", "visibility", "Who sees it (Mastodon)", id="compose.visibility", priority=True),
        Binding("ctrl+r", "reply_all", "Reply to all (email)", id="compose.reply_all", priority=True),
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
        super().__init__(save, collisions)
        self.draft = draft
        self.draft_keeper = draft_keeper
        self.used: list[str] = list(draft.used)
        self.link = draft.link
        self.visibility = draft.start_visibility or draft.visibility
        self.kept_as_draft = False  # closed with esc, then d: what is typed stays the draft
        self.reply_all = False

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
                Content.assemble(
                    ("> ", "dim"),
                    safe_content(parent.text, style="dim italic", single_line=True, max_chars=QUOTE_CHARS),
                ),
                id="compose-quote",
                markup=False,
            )  # fmt: skip
            if self.draft.visibility is not None:
                yield Static("", id="compose-visibility", markup=False)
            if (headers := self.draft.start_headers or self.draft.headers) is not None:
                yield from _header_field("To", ", ".join(headers.to), "compose-to")
                yield from _header_field("Cc", ", ".join(headers.cc), "compose-cc")
                yield from _header_field("Subject", headers.subject, "compose-subject")
            start = self.draft.restored
            if start is None:
                start = self.draft.prefix + self.draft.body
            area = TextArea(start, id="compose-text", soft_wrap=True, show_line_numbers=False)
            yield area
            yield Static("", id="compose-count", markup=False)
            keys = "ctrl+s send · ctrl+t canned reply · ctrl+e $EDITOR · esc cancel"
            if len(self.draft.visibilities) > 1:
                keys += " · ctrl+o who sees it"
            if self.draft.headers is not None:
                keys += " · ctrl+r reply to all · tab / shift+tab: To, Cc, Subject"
            yield Static(Content.styled(keys, "dim"), id="compose-help", markup=False)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        self._update_count()
        self._show_visibility()

    # ---- who sees it (Mastodon, Bluesky) -------------------------------------------------------

    def _show_visibility(self) -> None:
        if self.visibility is None:
            return
        words = VISIBILITY_WORDS.get(self.visibility, self.visibility)
        parts: list[Content | tuple[str, str] | str] = [("Visible to: ", "dim"), (words, "bold")]
        if self._wider():
            parts.append(("  more public than the post it answers", "bold $warning"))
        elif len(self.draft.visibilities) <= 1:
            parts.append(("  (the only choice here)", "dim"))
        else:
            same = self.visibility == self.draft.visibility
            parts.append(("  (as the post it answers)" if same else "", "dim"))
        self.query_one("#compose-visibility", Static).update(Content.assemble(*parts))

    def _wider(self) -> bool:
        """Whether the chosen visibility is more public than the parent's."""
        order, default, chosen = self.draft.visibilities, self.draft.visibility, self.visibility
        if chosen is None or default is None or chosen not in order or default not in order:
            return False
        return order.index(chosen) < order.index(default)

    def action_visibility(self) -> None:
        """ctrl+o: the next visibility, from the most public round to the most private."""
        order = self.draft.visibilities
        if len(order) <= 1:
            why = "this channel has no choice" if order else "this channel has none to choose"
            self.notify(f"Who sees the reply cannot be changed: {why}.", markup=False, timeout=3)
            return
        current = order.index(self.visibility) if self.visibility in order else -1
        self.visibility = order[(current + 1) % len(order)]
        self._show_visibility()

    # ---- a mail's headers ------------------------------------------------------------------------

    def action_reply_all(self) -> None:
        """ctrl+r: Cc everyone else the mail was sent to, or back to the sender alone."""
        if self.draft.headers is None or self.draft.all_headers is None:
            self.notify("Reply to all is for mail: this channel has no recipients to choose.",
                        markup=False, timeout=3)  # fmt: skip
            return
        self.reply_all = not self.reply_all
        chosen = self.draft.all_headers if self.reply_all else self.draft.headers
        self.query_one("#compose-to", Input).value = ", ".join(chosen.to)
        self.query_one("#compose-cc", Input).value = ", ".join(chosen.cc)
        said = "Reply to the sender only."
        if self.reply_all:
            said = "Reply to all: the others it was sent to are in Cc."
        self.notify(said, markup=False, timeout=3)

    def _headers(self) -> tuple[MailHeaders | None, str | None]:
        """The headers as the box holds them (None when they are the channel's own choice), or why
        they cannot be sent."""
        default = self.draft.headers
        if default is None:
            return None, None
        to = _addresses(self.query_one("#compose-to", Input).value)
        cc = _addresses(self.query_one("#compose-cc", Input).value)
        subject = " ".join(self.query_one("#compose-subject", Input).value.split())
        wrong = [a for a in (*to, *cc) if not _looks_like_address(a)]
        if wrong:
            return None, f"Not an email address: {sanitize(wrong[0], single_line=True, max_chars=80)}"
        if not to:
            return None, "The reply goes to nobody: put an address in To."
        headers = MailHeaders(to, cc, subject)
        # Left as it was: the channel's own choice (a list mail's reply goes to the list).
        return (None if headers == default else headers), None

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
        headers, wrong = self._headers()
        if wrong is not None:
            self.notify(wrong, severity="error", markup=False)
            return
        if not self._has_own_words():
            self.notify("The reply is empty.", severity="warning", markup=False)
            return
        if self.draft.count(text) > self.draft.max_length:
            self.notify(
                f"Too long for {self.draft.channel_label}: {self.draft.max_length:,} {self.draft.unit} at most.",
                severity="error",
                markup=False,
            )
            return
        if "{topic_url}" in text and not self.draft.values.get("topic_url"):
            self.notify("{topic_url} only has a value in a new forum topic (f, then 'New forum topic').",
                        severity="error", markup=False)  # fmt: skip
            return
        chosen = None if self.visibility == self.draft.visibility else self.visibility
        reply = ComposedReply(text, tuple(dict.fromkeys(self.used)), self.link, visibility=chosen,
                              wider=self._wider(), headers=headers)  # fmt: skip
        if not reply.wider:
            self.save_and_close(reply)
            return
        before = VISIBILITY_WORDS.get(self.draft.visibility or "", self.draft.visibility or "")
        after = VISIBILITY_WORDS.get(self.visibility or "", self.visibility or "")
        question = ConfirmScreen(
            "This reply is more public than the post it answers. Send it anyway?",
            yes="Send it", no="Keep editing",
            detail=Content.assemble(("Their post: ", "dim"), before, ("\nYour reply: ", "dim"), (after, "bold")),
        )  # fmt: skip
        self.app.push_screen(question, lambda yes: self.save_and_close(reply) if yes else None)

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
            elif discard is None:
                self._keep_as_draft()

        question = DiscardQuestion("Discard this reply?", keep=self.draft_keeper is not None)
        self.app.push_screen(question, decided)

    def _keep_as_draft(self) -> None:
        """Close the box; what is typed stays the conversation's draft (saved now), and `r` brings it back."""
        keeper = self.draft_keeper
        if keeper is None:
            return
        keeper.changed(self.text)
        self.app.run_worker(keeper.flush(), group="draft", exit_on_error=False)
        self.kept_as_draft = True  # whoever opened the box says so
        self.dismiss(None)

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
            except Exception as exc:  # noqa: BLE001  suspend unsupported (web) or editor missing
                self.notify(f"Could not run the editor: {exc}", severity="error", markup=False)
                return
            if completed.returncode != 0:
                self.notify(
                    f"The editor exited with status {completed.returncode}; draft unchanged.", markup=False
                )
                return
            self.query_one(TextArea).load_text(draft.read_text(encoding="utf-8").rstrip("\n"))
