"""The thread beside the inbox's list follows its cursor: at once for a single move, once the
cursor rests for a held key, and from the threads read ahead around the cursor when it can."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.timer import Timer

from ecoinbox.model import Conversation
from ecoinbox.store import StoreError

if TYPE_CHECKING:
    from ecoinbox.tui.screens import inbox


class ThreadFollower:
    """Which thread the inbox screen shows beside its list, and when it reads it."""

    def __init__(self, screen: inbox.InboxScreen) -> None:
        self.screen = screen
        self._last_highlight = float("-inf")  # when the cursor last landed on a row
        self._timer: Timer | None = None  # a thread waiting for the cursor to rest
        # Threads of the rows beside the cursor, read ahead (see `read_ahead`), and how many
        # store changes there were: a read that a change overtook is not kept.
        self.nearby: dict[int, Conversation] = {}
        self._store_changes = 0

    def store_changed(self, conversation_ids: Iterable[int] | None) -> None:
        """Forget the threads read ahead that the store changed (all of them: None)."""
        self._store_changes += 1
        if conversation_ids is None:
            self.nearby.clear()
        else:
            for conversation_id in conversation_ids:
                self.nearby.pop(conversation_id, None)

    def highlighted(self, conversation_id: int | None, now: float) -> None:
        """The cursor landed on `conversation_id` at `now` (monotonic seconds): its thread now, or
        once the cursor rests."""
        screen = self.screen
        delay = screen.THREAD_DELAY
        moving = now - self._last_highlight < delay
        self._last_highlight = now
        self.cancel_pending()
        shown = screen.thread.conversation
        if conversation_id is not None and shown is not None and shown.row.id == conversation_id:
            # The list was reloaded around the same conversation (the store changed): the thread
            # stays where the reader is; `on_store_changed` reloads it in place if it changed.
            return
        if conversation_id is None:
            screen.thread.show(None)
        elif moving:
            # The cursor is moving fast (a held key): the thread waits until it rests.
            self._timer = screen.set_timer(delay, self._rested, name="thread follows the cursor")
        elif (nearby := self.nearby.get(conversation_id)) is not None:
            # Read ahead: shown now, in the frame that follows the list's.
            screen.workers.cancel_group(screen, "thread")  # an older read must not replace it
            screen.thread.show(nearby, highlight=screen._matched_words)
            screen.call_after_refresh(screen._read_ahead)  # not before this frame: it costs CPU
        else:
            screen._load_thread(conversation_id)

    def _rested(self) -> None:
        self._timer = None
        conversation_id = self.screen.conversations.selected_id
        if conversation_id is not None:
            self.screen._load_thread(conversation_id)

    def cancel_pending(self) -> bool:
        """Forget a thread waiting for the cursor to rest; whether there was one."""
        timer, self._timer = self._timer, None
        if timer is None:
            return False
        timer.stop()
        return True

    def show_now(self, *, whole: bool = False) -> bool:
        """Load the thread under the cursor now if it waits for the cursor to rest (or is not the
        one shown); whether it had to be loaded."""
        selected = self.screen.conversations.selected_id
        shown = self.screen.thread.conversation
        pending = self.cancel_pending()
        if selected is None or not (pending or shown is None or shown.row.id != selected):
            return False
        self.screen._load_thread(selected, whole=whole)
        return True

    async def read_ahead(self) -> None:
        """Read and wrap the threads of the rows above and below the cursor, once it rests: a
        move to one of them then shows its thread at once, without waiting for the store."""
        conversations, store = self.screen.conversations, self.screen.app.store
        cursor, changes = conversations.cursor_index, self._store_changes
        wanted = [conversations.conversation_id_at(cursor + step) for step in (1, -1)]
        keep = {conversations.selected_id, *wanted}
        self.nearby = {key: value for key, value in self.nearby.items() if key in keep}
        for conversation_id in wanted:
            if conversation_id is None or conversation_id in self.nearby:
                continue
            try:
                conversation = await store.conversation(conversation_id)
            except StoreError:
                return  # the thread's own load says so, if the manager goes there
            if conversation is None or changes != self._store_changes:
                return
            self.nearby[conversation_id] = conversation
            self.screen.thread.prepare(conversation)
