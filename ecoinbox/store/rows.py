"""The inbox's list queries: pages of conversation rows in display order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecoinbox.model import (
    ConversationRow,
    OutboxItem,
    View,
)
from ecoinbox.store.base import SortKey
from ecoinbox.store.connection import SQLiteBase
from ecoinbox.store.convert import to_conversation_row, to_outbox_item
from ecoinbox.store.sql import fetch_all, fetch_one


class RowsStore(SQLiteBase):
    """Pages of conversation rows; mixed into `SQLiteStore`."""

    me: str = "manager"
    """The manager using this store (config `[team] me`): the Mine view is what is assigned to them."""

    def _view_where(self, view: View) -> tuple[str, list[Any]]:
        """The SQL condition (on `c`, conversations) of a view, and its parameters."""
        states = [state.value for state in view.states]
        if view is View.MINE:
            return "c.assignee = ? AND c.state IN (?, ?)", [self.me, *states]
        return "c.state = ?", states

    _ROW_SQL = (
        "SELECT c.id, c.channel, c.state, c.needs_reply, c.last_activity, c.snippet,"
        " c.message_count, c.origin, c.language, c.reason, c.priority, c.priority_reason, c.muted,"
        " a.display_name, a.handle, c.snoozed_until, c.assignee, c.tags,"
        # Both through small partial indexes: a row costs one probe each, whatever its length.
        " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.visibility = 'direct')"
        " AS direct,"
        " EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.held = 1) AS held,"
        # The drafts' primary key starts with the conversation: one probe too.
        " EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = c.id) AS draft,"
        " c.subject"
        " FROM conversations c LEFT JOIN authors a ON a.id = c.author_id"
    )
    _DESC = " ORDER BY c.needs_reply DESC, c.priority DESC, c.last_activity DESC, c.id DESC"
    _ASC = " ORDER BY c.needs_reply ASC, c.priority ASC, c.last_activity ASC, c.id ASC"
    _KEY = "(c.needs_reply, c.priority, c.last_activity, c.id)"

    async def count_conversations(self, view: View) -> int:
        where, params = self._view_where(view)
        row = await fetch_one(self._read(), "SELECT count(*) FROM conversations c WHERE " + where, params)
        return int(row[0]) if row is not None else 0

    async def conversation_page(
        self,
        view: View,
        *,
        after: SortKey | None = None,
        before: SortKey | None = None,
        limit: int = 100,
    ) -> list[ConversationRow]:
        """A page in display order: the top one, the one following `after`, or preceding `before`."""
        condition, params = self._view_where(view)
        where = " WHERE " + condition
        if before is not None:
            sql = self._ROW_SQL + where + f" AND {self._KEY} > (?, ?, ?, ?)"
            rows = await self._rows(sql + self._ASC + " LIMIT ?", (*params, *before, limit))
            return rows[::-1]
        if after is not None:
            where += f" AND {self._KEY} < (?, ?, ?, ?)"
            params.extend(after)
        return await self._rows(self._ROW_SQL + where + self._DESC + " LIMIT ?", (*params, limit))

    async def conversation_page_last(self, view: View, limit: int = 100) -> list[ConversationRow]:
        """The last `limit` rows of the view, in display order (for `G`, without a deep OFFSET)."""
        where, params = self._view_where(view)
        sql = self._ROW_SQL + " WHERE " + where + self._ASC + " LIMIT ?"
        return (await self._rows(sql, (*params, limit)))[::-1]

    async def conversation_page_at(self, view: View, offset: int, limit: int = 100) -> list[ConversationRow]:
        """A page by position (OFFSET): only for jumps that no cached neighbour page can anchor."""
        where, params = self._view_where(view)
        sql = self._ROW_SQL + " WHERE " + where + self._DESC + " LIMIT ? OFFSET ?"
        return await self._rows(sql, (*params, limit, offset))

    async def conversation_row(self, conversation_id: int) -> ConversationRow | None:
        rows = await self._rows(self._ROW_SQL + " WHERE c.id = ?", (conversation_id,))
        return rows[0] if rows else None

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[ConversationRow]:
        fetched = await fetch_all(self._read(), sql, params)
        return [to_conversation_row(row) for row in fetched]

    async def _outbox_rows(self, sql: str, params: Sequence[Any]) -> list[OutboxItem]:
        fetched = await fetch_all(self._read(), sql, params)
        return [to_outbox_item(r) for r in fetched]
