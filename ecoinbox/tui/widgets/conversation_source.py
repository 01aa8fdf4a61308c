"""What the conversation list reads: the store, a search's results, or a person's conversations."""

from __future__ import annotations

from typing import Protocol

from ecoinbox.model import ConversationRow, View

SortKey = tuple[int, ...]


class ConversationSource(Protocol):
    """What the list reads: the store's conversation summaries, in display order.

    Display order is `ConversationRow.sort_key` descending (needs a reply first, then the
    most recent activity).
    """

    async def count_conversations(self, view: View) -> int:
        """How many conversations the view holds."""
        ...

    async def conversation_page(
        self,
        view: View,
        *,
        after: SortKey | None = None,
        before: SortKey | None = None,
        limit: int = 100,
    ) -> list[ConversationRow]:
        """A keyset page, in display order.

        `after=key`: the first `limit` rows that follow `key` (sort_key < key).
        `before=key`: the `limit` rows that immediately precede `key` (sort_key > key).
        Neither: the top `limit` rows.
        """
        ...

    async def conversation_page_at(self, view: View, offset: int, limit: int) -> list[ConversationRow]:
        """`limit` rows from position `offset` (OFFSET: slow at depth, used only for jumps)."""
        ...

    async def conversation_page_last(self, view: View, limit: int) -> list[ConversationRow]:
        """The last `limit` rows of the view, in display order (the bottom, without OFFSET)."""
        ...
