"""Canned replies ranked for a conversation by a ranker that keeps learning from the links sent.

The ranker is built once from the store's history of links sent, then taught each link sent
since, one at a time (`LinkRanker.add_use`), instead of being rebuilt for every `f`.
Headless (no Textual): the inbox's `f` and anything else that suggests links use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from ecoinbox.actions import redirect_suggestions
from ecoinbox.model import Conversation
from ecoinbox.replies import CannedReply, LinkRanker, Suggestion
from ecoinbox.store import Store

RECENT_USES: Final = 200
"""How many of the newest links sent are read to catch up: more than are sent between two `f`."""


class LinkSuggestions:
    """Ranks `canned` replies for a conversation from the links sent so far in `store`."""

    def __init__(self, store: Store, canned: Iterable[CannedReply]) -> None:
        self._store = store
        self._canned = tuple(canned)
        self._ranker: LinkRanker | None = None
        self._seen = datetime.min.replace(tzinfo=UTC)  # the newest use the ranker learnt from

    async def ranker(self) -> LinkRanker:
        """The ranker, up to date with every link sent so far."""
        if self._ranker is None:
            uses = await self._store.link_uses()
            self._ranker = LinkRanker(self._canned, uses)
        else:
            uses = [u for u in await self._store.link_uses(limit=RECENT_USES) if u.at > self._seen]
            for use in reversed(uses):  # oldest first
                self._ranker.add_use(use)
        if uses:
            self._seen = max(self._seen, max(u.at for u in uses))
        return self._ranker

    async def for_redirect(self, conversation: Conversation, now: datetime) -> list[Suggestion]:
        """Canned replies that bring the person to the forum, best first for this conversation."""
        return redirect_suggestions(await self.ranker(), conversation, now)
