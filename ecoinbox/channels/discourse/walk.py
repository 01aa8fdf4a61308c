"""How the Discourse channel reads a newest-first source (notifications, the latest posts) over
polls: a request budget per poll (a user API key allows 20 a minute), and a cursor whose walk
may span several polls without a gap or a repeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecoinbox.channels.base import ChannelError
from ecoinbox.channels.discourse.posts import max_or_none
from ecoinbox.channels.json_values import as_int
from ecoinbox.model import Message

WALK_SUFFIX = "_walk"


class OutOfBudget(Exception):
    """This poll has spent its requests: stop here, the cursor keeps the rest."""


class Budget:
    """How many requests one poll may still make."""

    def __init__(self, requests: int | None) -> None:
        self.left = requests

    def take(self) -> None:
        """Count one request; OutOfBudget when none is left."""
        if self.left is None:
            return
        if self.left <= 0:
            raise OutOfBudget
        self.left -= 1


# Outside a poll (check, context, reply, reconcile) requests are not counted.
UNBUDGETED = Budget(None)


# ---------------------------------------------------------------------------------------------
# Cursors: a newest-first walk that may span several polls


@dataclass(frozen=True, slots=True)
class Position:
    """Where a newest-first source stands.

    Everything at or below `floor` is done. A walk that a page or request limit cut short is
    resumed at `token` (an offset, or a `before` id) for the ids under `below`; once it reaches
    the floor, `ceiling` (the newest id the walk had covered) becomes the floor.
    """

    floor: int | None
    ceiling: int | None = None
    below: int | None = None
    token: int | None = None

    @property
    def resuming(self) -> bool:
        """Whether a walk cut short is under way."""
        return self.below is not None and self.ceiling is not None

    @classmethod
    def load(cls, cursor: Mapping[str, str], key: str) -> Position:
        """The position stored in `cursor` under `key`; a first run's if there is none."""
        floor = as_int(cursor.get(key))
        walk = (cursor.get(key + WALK_SUFFIX) or "").split(":")
        if floor is None or len(walk) != 3:
            return cls(floor)
        ceiling, below, token = (as_int(part) for part in walk)
        if ceiling is None or below is None:
            return cls(floor)
        return cls(floor, ceiling, below, token)

    def store(self, cursor: dict[str, str], key: str) -> None:
        """Write the position into `cursor` under `key` (and `key` + WALK_SUFFIX)."""
        if self.floor is None:
            cursor.pop(key, None)
        else:
            cursor[key] = str(self.floor)
        if self.resuming:
            cursor[key + WALK_SUFFIX] = f"{self.ceiling}:{self.below}:{self.token or ''}"
        else:
            cursor.pop(key + WALK_SUFFIX, None)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a source, newest first."""

    items: list[dict[str, Any]]
    next_token: int | None
    end: bool  # nothing older exists


@dataclass(slots=True)
class Walked:
    """What one poll's walk read of a source."""

    items: dict[int, dict[str, Any]]  # id -> item, newer than the floor and not yet done
    top: int | None  # the newest id seen
    reached: bool  # the walk got down to the floor (or to the end)
    next_token: int | None
    pages: int


@dataclass(frozen=True, slots=True)
class Source:
    """One thing the channel listens on: its cursor key, how to read a page, how to use items."""

    key: str
    max_pages: int
    page: Callable[[int | None, Budget], Awaitable[Page]]
    process: Callable[
        [list[dict[str, Any]], Budget, dict[str, Message]],
        Awaitable[tuple[set[int], ChannelError | None]],
    ]


def advance(position: Position, walked: Walked, done: set[int]) -> Position:
    """The position after a walk: past every item done, and never past one that is not."""
    if walked.pages == 0:
        return position
    ids = sorted(walked.items)
    upto: int | None = None
    for item_id in ids:
        if item_id not in done:
            break
        upto = item_id
    all_done = upto == (ids[-1] if ids else None)
    if walked.reached:
        if not all_done:  # the rest is read again from the top next time
            return Position(max_or_none(position.floor, upto))
        if position.resuming:
            return Position(position.ceiling)
        return Position(max_or_none(position.floor, walked.top))
    lowest = ids[0] if ids else position.below
    if lowest is None:
        return position
    if all_done:
        ceiling = position.ceiling if position.resuming else walked.top
        return Position(position.floor, ceiling, lowest, walked.next_token)
    if upto is None:
        return position
    return Position(position.floor, upto, lowest, walked.next_token)


async def walk(source: Source, position: Position, budget: Budget) -> Walked:
    """Read pages newest first down to the floor (a first run reads one page)."""
    first_run = position.floor is None
    walked = Walked({}, None, first_run, position.token if position.resuming else None, 0)
    while walked.pages < (1 if first_run else source.max_pages):
        try:
            page = await source.page(walked.next_token, budget)
        except OutOfBudget:
            break
        walked.pages += 1
        for item in page.items:
            item_id = as_int(item.get("id"))
            if item_id is None:
                continue
            walked.top = max_or_none(walked.top, item_id)
            if position.floor is not None and item_id <= position.floor:
                walked.reached = True
            elif not (position.resuming and item_id >= (position.below or 0)):
                walked.items[item_id] = item
        walked.next_token = page.next_token
        if page.end:
            walked.reached = True
        if walked.reached:
            break
    return walked


__all__ = ["UNBUDGETED", "Budget", "OutOfBudget", "Page", "Position", "Source", "Walked", "advance", "walk"]
