"""The thread beside the inbox's list follows its cursor: at once for a single move, once the
cursor rests for a held key, and from the threads read ahead around the cursor when it can."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING

from textual.timer import Timer

from ecoinbox.model import Conversation
from ecoinbox.store import StoreError

if TYPE_CHECKING:
    from ecoinbox.tui.screens.inbox import InboxScreen


class ThreadFollower:
    """Which thread the inbox screen shows beside its list, and when it reads it."""

    def _thread_rested(self) -> None:
        self._thread_timer = None
        conversation_id = self.conversations.selected_id
        if conversation_id is not None:
            self._load_thread(conversation_id)

    def _cancel_pending_thread(self) -> bool:
        """Forget a thread waiting for the cursor to rest; whether there was one."""
        timer, self._thread_timer = self._thread_timer, None
        if timer is None:
            return False
        timer.stop()
        return True

    def _thread_now(self, *, whole: bool = False) -> bool:
        """Load the thread under the cursor now if it waits for the cursor to rest (or is not the
        one shown); whether it had to be loaded."""
        selected = self.conversations.selected_id
        shown = self.thread.conversation
        pending = self._cancel_pending_thread()
        if selected is None or not (pending or shown is None or shown.row.id != selected):
            return False
        self._load_thread(selected, whole=whole)
        return True

    @work(exclusive=True, group="read-ahead", exit_on_error=False)
    async def _read_ahead(self) -> None:
        """Read and wrap the threads of the rows above and below the cursor, once it rests: a
        move to one of them then shows its thread at once, without waiting for the store."""
        conversations, store = self.conversations, self.app.store
        cursor, changes = conversations.cursor_index, self._store_changes
        wanted = [conversations.conversation_id_at(cursor + step) for step in (1, -1)]
        keep = {conversations.selected_id, *wanted}
        self._nearby = {key: value for key, value in self._nearby.items() if key in keep}
        for conversation_id in wanted:
            if conversation_id is None or conversation_id in self._nearby:
                continue
            try:
                conversation = await store.conversation(conversation_id)
            except StoreError:
                return  # the thread's own load says so, if the manager goes there
            if conversation is None or changes != self._store_changes:
                return
            self._nearby[conversation_id] = conversation
            self.thread.prepare(conversation)
