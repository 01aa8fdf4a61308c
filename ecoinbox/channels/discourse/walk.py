"""Cursors and walks (move only)."""

WALK_SUFFIX = "_walk"


class _OutOfBudget(Exception):
    """This poll has spent its requests: stop here, the cursor keeps the rest."""


class _Budget:
    """How many requests one poll may still make."""

    def __init__(self, requests: int | None) -> None:
        self.left = requests

    def take(self) -> None:
        if self.left is None:
            return
        if self.left <= 0:
            raise _OutOfBudget
        self.left -= 1


# Outside a poll (check, context, reply, reconcile) requests are not counted.
_UNBUDGETED = _Budget(None)


# ---------------------------------------------------------------------------------------------
# Cursors: a newest-first walk that may span several polls


@dataclass(frozen=True, slots=True)
class _Position:
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
        return self.below is not None and self.ceiling is not None

    @classmethod
    def load(cls, cursor: Mapping[str, str], key: str) -> _Position:
        floor = as_int(cursor.get(key))
        walk = (cursor.get(key + WALK_SUFFIX) or "").split(":")
        if floor is None or len(walk) != 3:
            return cls(floor)
        ceiling, below, token = (as_int(part) for part in walk)
        if ceiling is None or below is None:
            return cls(floor)
        return cls(floor, ceiling, below, token)

    def store(self, cursor: dict[str, str], key: str) -> None:
        if self.floor is None:
            cursor.pop(key, None)
        else:
            cursor[key] = str(self.floor)
        if self.resuming:
            cursor[key + WALK_SUFFIX] = f"{self.ceiling}:{self.below}:{self.token or ''}"
        else:
            cursor.pop(key + WALK_SUFFIX, None)


@dataclass(frozen=True, slots=True)
class _Page:
    items: list[dict[str, Any]]
    next_token: int | None
    end: bool  # nothing older exists


@dataclass(slots=True)
class _Walked:
    items: dict[int, dict[str, Any]]  # id -> item, newer than the floor and not yet done
    top: int | None  # the newest id seen
    reached: bool  # the walk got down to the floor (or to the end)
    next_token: int | None
    pages: int


@dataclass(frozen=True, slots=True)
class _Source:
    """One thing the channel listens on: its cursor key, how to read a page, how to use items."""

    key: str
    max_pages: int
    page: Callable[[int | None, _Budget], Awaitable[_Page]]
    process: Callable[
        [list[dict[str, Any]], _Budget, dict[str, Message]],
        Awaitable[tuple[set[int], ChannelError | None]],
    ]


def _advance(position: _Position, walked: _Walked, done: set[int]) -> _Position:
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
            return _Position(max_or_none(position.floor, upto))
        if position.resuming:
            return _Position(position.ceiling)
        return _Position(max_or_none(position.floor, walked.top))
    lowest = ids[0] if ids else position.below
    if lowest is None:
        return position
    if all_done:
        ceiling = position.ceiling if position.resuming else walked.top
        return _Position(position.floor, ceiling, lowest, walked.next_token)
    if upto is None:
        return position
    return _Position(position.floor, upto, lowest, walked.next_token)



    async def _walk(self, source: _Source, position: _Position, budget: _Budget) -> _Walked:
        """Read pages newest first down to the floor (a first run reads one page)."""
        first_run = position.floor is None
        walked = _Walked({}, None, first_run, position.token if position.resuming else None, 0)
        while walked.pages < (1 if first_run else source.max_pages):
            try:
                page = await source.page(walked.next_token, budget)
            except _OutOfBudget:
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


