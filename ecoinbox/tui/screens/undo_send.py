"""Undo send: a reply waits `[ui] send_delay` seconds in the outbox before the sender may take it,
and `u` in that time brings it back into the reply box, unsent.

The hold lives in the store (the outbox item's next attempt time), so a reply never depends on
this window staying open; the store's `withdraw_reply` decides atomically whether it was still
untouched. What is here is what the inbox remembers to take it back, and the status line's words.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from ecoinbox.model import Message
from ecoinbox.store import Store
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.redirect import TopicDraft
from ecoinbox.tui.targets import person


@dataclass(frozen=True, slots=True)
class HeldReply:
    """A reply queued with a hold: what `u` needs to take it back and open its box again."""

    item_id: int
    conversation_id: int
    parent: Message
    language: str | None
    until: float
    """When the hold ends, on `time.monotonic`'s clock."""
    redirect: bool = False
    approve_parent: bool = False
    topic: TopicDraft | None = None
    """A new forum topic redirect: `item_id` is the topic's (its reply is taken back with it)."""

    def seconds_left(self, now: float) -> int:
        """Whole seconds until it may go out, rounded up (0 once the hold is over)."""
        return max(0, math.ceil(self.until - now))

    def whom(self) -> str:
        """The person it answers, sanitized (shown as plain text, never markup)."""
        return person(self.parent.author.label)


def hold_notice(held: HeldReply, now: float, undo_key: str | None) -> Content:
    """ "Reply to Zoé goes out in 7 s — u takes it back" (without the key when `u` would undo
    something done after it)."""
    what, go = ("Forum topic and reply to ", "go") if held.topic is not None else ("Reply to ", "goes")
    parts: list[Content | tuple[str, str] | str] = [
        (what, "$warning"), (held.whom(), "bold $warning"),
        (f" {go} out in {held.seconds_left(now)} s", "$warning"),
    ]  # fmt: skip
    if undo_key:
        parts.append((f" — {undo_key} takes it back", "bold $warning"))
    return Content.assemble(*parts)


SEND_ON_QUIT_S = 5.0  # how long quitting waits for held replies, released, to reach the platform
SEND_CHECK_S = 0.2


class QuitQuestion(ConfirmScreen):
    """q while a reply waits out its hold: y sends it now then quits, n stays, q again quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit; the reply waits in the outbox", id="quit_question.leave"),
    ]


def quit_question(held: Sequence[HeldReply], now: float) -> QuitQuestion:
    """Quitting while replies wait out their hold: send them now, or stay (`u` can still take
    them back). Quitting without sending would leave them until ecoinbox runs again."""
    newest = held[-1]
    what = f"The reply to {newest.whom()}" if len(held) == 1 else f"{len(held)} replies"
    verb = "goes" if len(held) == 1 else "go"
    detail = Content.styled(
        "q again quits and leaves it in the outbox until ecoinbox runs again (or `ecoinbox poll --once`).",
        "dim",
    )
    return QuitQuestion(
        f"{what} {verb} out in {newest.seconds_left(now)} s.", yes="Send now, then quit", no="Stay",
        detail=detail,
    )  # fmt: skip


async def send_before_quit(
    store: Store, held: Sequence[HeldReply], *, actor: str, wait: float = SEND_ON_QUIT_S
) -> str:
    """End the holds, give the running sender `wait` seconds to send, and say what became of
    them (the farewell printed once the terminal is the manager's again)."""
    ids = {h.item_id for h in held}
    for item_id in ids:
        await store.send_reply_now(item_id, actor=actor)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        waiting = ids & {r.item.id for r in await store.unsent_replies()}
        if not waiting or loop.time() >= deadline:
            break
        await asyncio.sleep(SEND_CHECK_S)
    if waiting:
        return left_behind([h for h in held if h.item_id in waiting])
    return f"Sent before quitting: the reply to {_names(held)}."


def left_behind(held: Sequence[HeldReply]) -> str:
    """What quitting leaves in the outbox, said once the terminal is the manager's again."""
    return (
        f"Not sent yet: the reply to {_names(held)}. It stays in the outbox and goes out the next "
        "time ecoinbox runs (or with `ecoinbox poll --once`)."
    )


def _names(held: Sequence[HeldReply]) -> str:
    return ", ".join(dict.fromkeys(h.whom() for h in held))
