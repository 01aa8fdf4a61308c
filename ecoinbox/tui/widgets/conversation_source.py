"""What the conversation list reads: the store, a search's results, or a person's conversations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


async def fill_pages(
    source: ConversationSource,
    view: View,
    pages: dict[int, list[ConversationRow]],
    wanted: Iterable[int],
    total: int,
    size: int,
) -> None:
    """Fetch the wanted pages (of `size` rows, `total` in the view) missing from `pages`, chaining
    keysets along each run."""
    last = (total - 1) // size
    missing = sorted(p for p in set(wanted) if 0 <= p <= last and p not in pages)
    for run in _runs(missing):
        # Runs that touch the bottom are read upwards from the last page, others downwards.
        order = reversed(run) if run[-1] == last and run[0] != 0 else run
        for page in order:
            pages[page] = await read_page(source, view, page, pages, total, size)


async def read_page(
    source: ConversationSource,
    view: View,
    page: int,
    pages: Mapping[int, list[ConversationRow]],
    total: int,
    size: int,
) -> list[ConversationRow]:
    """Page `page` of `size` rows, by keyset from a neighbour in `pages` when there is one."""
    start = page * size
    limit = min(size, total - start)
    if limit <= 0:
        return []
    if page == 0:
        return await source.conversation_page(view, limit=limit)
    previous = pages.get(page - 1)
    if previous is not None and len(previous) == size:
        return await source.conversation_page(view, after=previous[-1].sort_key, limit=limit)
    following = pages.get(page + 1)
    if following:
        return await source.conversation_page(view, before=following[0].sort_key, limit=limit)
    if start + limit >= total:
        return await source.conversation_page_last(view, limit)
    return await source.conversation_page_at(view, start, limit)


def _runs(pages: list[int]) -> list[list[int]]:
    """Split sorted page numbers into runs of consecutive pages."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and runs[-1][-1] == page - 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return runs


def page_of(index: int, size: int) -> int:
    """The page of `size` rows that holds row `index`."""
    return index // size


def pages_for_rows(start: int, end: int, size: int) -> set[int]:
    """The pages of `size` rows holding rows [start, end)."""
    if end <= start:
        return set()
    return set(range(page_of(max(0, start), size), page_of(max(0, end - 1), size) + 1))


@dataclass(slots=True)
class PageFetch:
    """A page fetch in flight: `seq` orders requests so a fetch only waits on older ones."""

    seq: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
