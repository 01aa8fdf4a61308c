"""The inbox's undo: the steps `u` takes back, newest first, and the replies still held before
they go out, counted down in the status line."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING

from textual.content import Content
from textual.timer import Timer

from ecoinbox.keymap import keys_of
from ecoinbox.tui.screens.help import describe_keys
from ecoinbox.tui.screens.triage import UndoStep
from ecoinbox.tui.screens.undo_send import HeldReply, hold_notice

if TYPE_CHECKING:
    from ecoinbox.tui.screens import inbox


UNDO_DEPTH = 50
HOLD_TICK_S = 0.2
"""How often the countdown of a held reply is checked (the status line changes once a second)."""


class UndoHistory:
    """What `u` undoes on the inbox screen, and the countdown of the replies it can still take back."""

    def __init__(self, screen: inbox.InboxScreen) -> None:
        self.screen = screen
        self.steps: list[UndoStep] = []
        self._timer: Timer | None = None  # counts a held reply down in the status line
        self.shown = ""  # the countdown's words last drawn

    def remember(self, step: UndoStep) -> None:
        """One more step `u` can undo (the oldest are forgotten past UNDO_DEPTH)."""
        self.steps.append(step)
        del self.steps[:-UNDO_DEPTH]

    async def undo(self) -> None:
        """`u`: take back the newest step, a held reply included."""
        if not self.steps:
            self.screen.notify("Nothing to undo.", markup=False, timeout=2)
            return
        if self.screen._writes_refused():
            return
        step = self.steps[-1]
        if step.reply is not None:
            await self.screen.replies.take_back(step)
            return
        store = self.screen.app.store
        actor = f"{self.screen.app.settings.team.me} (undo)"
        for change in step.changes:
            await store.set_state([change.conversation_id], change.old, actor=actor)
        if step.before:
            await store.restore_triage(step.before, actor=actor)  # a whole bulk action at once
        for conversation_id, channel, remote_id in step.hidden:
            await store.hide_message(conversation_id, channel, remote_id, show=True, actor=actor)
        self.steps.pop()  # only once undone: a full disk leaves it to try again
        ids = [c.conversation_id for c in step.changes] + [t.conversation_id for t in step.before]
        first = (ids or [hidden[0] for hidden in step.hidden])[0]
        await self.screen.conversations.reload(select=first)
        self.screen.notify(f"Undone: {step.label}.", markup=False, timeout=3)

    def holding(self) -> list[HeldReply]:
        """The replies still in their send hold, oldest first."""
        now = monotonic()
        return [step.reply for step in self.steps if step.reply is not None and step.reply.until > now]

    def hold_status(self) -> Content | None:
        """The newest reply still held, with its countdown; `u` is named only if it is what `u`
        would undo."""
        now = monotonic()
        held = [(n, step.reply) for n, step in enumerate(self.steps)
                if step.reply is not None and step.reply.until > now]  # fmt: skip
        if not held:
            return None
        index, newest = held[-1]
        keys = keys_of(self.screen.app.settings.ui.keys, "inbox.undo")
        key = describe_keys(keys).split(",")[0] if index == len(self.steps) - 1 else None
        return hold_notice(newest, now, key)

    def count_down(self) -> None:
        """Show the held replies' countdown in the status line until the last one goes out."""
        self.screen._render_status()
        if self._timer is None:
            self._timer = self.screen.set_interval(HOLD_TICK_S, self._tick, name="undo send countdown")

    def _tick(self) -> None:
        held = self.hold_status()
        if (held.plain if held is not None else "") != self.shown:
            self.screen._render_status()  # once a second, not every tick: bytes over SSH
        if held is None and self._timer is not None:
            self._timer.stop()
            self._timer = None
