"""`H`: hide a message on its platform (Facebook, Instagram, YouTube...) without deleting it.

The request is written to the store (`hide_message`) and carried out by the engine, once, even
across a crash; `u` asks the platform to show it again. A complaint is hidden, never deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.channels.base import HidingChannel
from ecoinbox.model import Message
from ecoinbox.sanitize import sanitize
from ecoinbox.tui.screens.triage import UndoStep

if TYPE_CHECKING:
    from ecoinbox.tui.screens import inbox


async def hide_on_platform(screen: inbox.InboxScreen) -> None:
    """The message picked with `[` `]`, else the thread's newest from outside, hidden on its platform."""
    conversation_id = screen.conversations.selected_id
    if conversation_id is None or screen._writes_refused():
        return
    store = screen.app.store
    thread = await store.conversation(conversation_id, with_linked=False)
    if thread is None:
        return
    chosen: Message | None = screen.replies.chosen_in(thread)
    if chosen is None:
        theirs = [m.message for m in thread.messages if not m.message.is_ours]
        chosen = theirs[-1] if theirs else None
    if chosen is None or chosen.is_ours:
        screen.notify("Nothing of theirs to hide in this conversation.", markup=False, timeout=3)
        return
    engine = screen.app.engine
    if engine is None or not isinstance(engine.channels.get(chosen.channel), HidingChannel):
        screen.notify(
            f"ecoinbox cannot hide messages on {chosen.channel!r}: hide it there, or mark it spam (!).",
            markup=False,
            timeout=4,
        )
        return
    who = sanitize(chosen.author.label, single_line=True, max_chars=60)  # it came from the platform
    if not await store.hide_message(conversation_id, chosen.channel, chosen.remote_id, actor=screen._me()):
        screen.notify(f"{who}'s message is already hidden on {chosen.channel}.", markup=False, timeout=3)
        return
    label = f"hidden on {chosen.channel}: {who}"
    screen._remember(UndoStep(label, hidden=((conversation_id, chosen.channel, chosen.remote_id),)))
    screen.notify(
        f"Hidden on {chosen.channel}, not deleted: only you and its moderators see it. u shows it again.",
        markup=False,
        timeout=4,
    )
