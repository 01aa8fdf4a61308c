"""The inbox's undo: the steps `u` takes back, newest first, and the replies still held before
they go out, counted down in the status line."""

from __future__ import annotations

from dataclasses import replace
from time import monotonic
from typing import TYPE_CHECKING

from textual.content import Content
from textual.timer import Timer

from ecoinbox.keymap import keys_of
from ecoinbox.tui.screens.help import describe_keys
from ecoinbox.tui.screens.triage import UndoStep
from ecoinbox.tui.screens.undo_send import HeldReply, hold_notice

if TYPE_CHECKING:
    from ecoinbox.tui.screens.inbox import InboxScreen


class UndoHistory:
    """What `u` undoes on the inbox screen, and the countdown of the replies it can still take back."""

    def _remember(self, step: UndoStep) -> None:
        self.undo_steps.append(step)
        del self.undo_steps[:-UNDO_DEPTH]

    @_store_failures_noticed
    async def action_undo(self) -> None:
        if not self.undo_steps:
            self.notify("Nothing to undo.", markup=False, timeout=2)
            return
        if self._writes_refused():
            return
        step = self.undo_steps[-1]
        if step.reply is not None:
            await self.replies.take_back(step)
            return
        store = self.app.store
        actor = f"{self.app.settings.team.me} (undo)"
        for change in step.changes:
            await store.set_state([change.conversation_id], change.old, actor=actor)
        if step.before:
            await store.restore_triage(step.before, actor=actor)  # a whole bulk action at once
        self.undo_steps.pop()  # only once undone: a full disk leaves it to try again
        first = step.changes[0].conversation_id if step.changes else step.before[0].conversation_id
        await self.conversations.reload(select=first)
        self.notify(f"Undone: {step.label}.", markup=False, timeout=3)

    def holding(self) -> list[HeldReply]:
        """The replies still in their send hold, oldest first."""
        now = monotonic()
        return [step.reply for step in self.undo_steps if step.reply is not None and step.reply.until > now]

    def _hold_status(self) -> Content | None:
        """The newest reply still held, with its countdown; `u` is named only if it is what `u`
        would undo."""
        now = monotonic()
        held = [(n, step.reply) for n, step in enumerate(self.undo_steps)
                if step.reply is not None and step.reply.until > now]  # fmt: skip
        if not held:
            return None
        index, newest = held[-1]
        keys = keys_of(self.app.settings.ui.keys, "inbox.undo")
        key = describe_keys(keys).split(",")[0] if index == len(self.undo_steps) - 1 else None
        return hold_notice(newest, now, key)

    def _count_down(self) -> None:
        self._render_status()
        if self._hold_timer is None:
            self._hold_timer = self.set_interval(HOLD_TICK_S, self._tick_hold, name="undo send countdown")

    def _tick_hold(self) -> None:
        held = self._hold_status()
        if (held.plain if held is not None else "") != self._hold_shown:
            self._render_status()  # once a second, not every tick: bytes over SSH
        if held is None and self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
