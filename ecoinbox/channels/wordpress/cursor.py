"""WordPress cursors, pure: where a poll resumes (the newest comment's date and id), the comments
watched until they show (ids skipped, comments held for moderation) and the page a poll reads.

Cursor: {"date_gmt": the newest comment done, "id": its id}. WordPress sorts by `date_gmt` and
then by comment id, but its `after` filter is strict and compares the *local* comment date, so
a poll asks for everything after the cursor's date minus `AFTER_SLACK` (sent with an explicit
"+00:00") and keeps only the comments after the cursor's (date, id) pair: comments sharing the
cursor's second are neither skipped nor repeated. Each further page starts again after the last
comment read (keyset), so a comment deleted or marked spam mid-walk cannot shift the next page
past one unread; `page` only advances when a whole page shares one date.

No comment is skipped because its approval came later. WordPress keeps a comment's date when it
is approved and has no "modified" date for comments, so a date cursor alone passes a comment
held at 10:00 and approved at 11:00 once a 10:30 comment was read. Comment ids, though, are
handed out in order: the cursor also keeps the highest id seen (`top`), the ids below it that
were not seen (`gaps`: held for an account that cannot see held comments, spam, trash) and the
held comments seen (`held`); each poll asks for those ids again (`include=`) and takes what has
turned up or been approved since. Both lists are bounded (`WATCH_CAP` ids, `WATCH_AGE` old).
A comment newer than `top` by id but older than the cursor by date (web servers whose clocks
disagree) is taken when the poll's hour of slack shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoinbox.channels.json_values import as_int

CURSOR_DATE = "date_gmt"
CURSOR_ID = "id"
CURSOR_TOP = "top"  # the highest comment id seen
CURSOR_GAPS = "gaps"  # ids below `top` not seen yet, "id:epoch" (when first missed), comma-separated
CURSOR_HELD = "held"  # held comments seen, "id:epoch"
WATCH_CAP = 300  # ids watched at most (gaps and held together), the newest kept
WATCH_AGE = timedelta(days=14)  # a comment approved later than this after it was written is missed


class Watch:
    """The comment ids a date cursor would pass for good: gaps below the highest id seen and
    held comments, each with when it was first noticed (epoch seconds)."""

    def __init__(self, top: int | None, gaps: dict[int, int], held: dict[int, int]) -> None:
        self.top = top
        self.gaps = gaps
        self.held = held

    @classmethod
    def load(cls, cursor: dict[str, str]) -> Watch:
        # A cursor from before `top` was kept: the last comment it read is as high as it knows.
        top = as_int(cursor.get(CURSOR_TOP)) or as_int(cursor.get(CURSOR_ID))
        return cls(top, _pairs(cursor.get(CURSOR_GAPS)), _pairs(cursor.get(CURSOR_HELD)))

    def dump(self) -> dict[str, str]:
        return {
            CURSOR_TOP: str(self.top or 0),
            CURSOR_GAPS: _unpairs(self.gaps),
            CURSOR_HELD: _unpairs(self.held),
        }

    def update(
        self,
        items: list[dict[str, Any]],
        found: list[dict[str, Any]],
        gone: set[int],
        *,
        first: bool,
        now: datetime,
    ) -> None:
        """Take in what this poll read: `items` after the date cursor, `found` among the watched
        ids, `gone` held ids no longer readable (kept as gaps: spam can be approved later)."""
        epoch = int(now.timestamp())
        for comment_id in gone:
            self.gaps[comment_id] = self.held.pop(comment_id)
        for item in [*items, *found]:
            comment_id = comment_position(item)[1]
            since = self.gaps.pop(comment_id, None) or self.held.pop(comment_id, None) or epoch
            if item.get("status") == "hold":
                self.held[comment_id] = since
        ids = {comment_position(item)[1] for item in items}
        if ids:
            newest = max(ids)
            low = min(ids) if first or self.top is None else self.top + 1
            low = max(low, newest - WATCH_CAP)
            for comment_id in range(low, newest):
                if comment_id not in ids and comment_id not in self.held:
                    self.gaps.setdefault(comment_id, epoch)
            self.top = max(self.top or 0, newest)
        self._trim(epoch)

    def _trim(self, epoch: int) -> None:
        oldest = epoch - int(WATCH_AGE.total_seconds())
        for watched in (self.gaps, self.held):
            for comment_id in [i for i, since in watched.items() if since < oldest]:
                del watched[comment_id]
        everyone = sorted({**self.gaps, **self.held}.items(), key=lambda pair: (pair[1], pair[0]))
        for comment_id, _ in everyone[: max(0, len(everyone) - WATCH_CAP)]:
            self.gaps.pop(comment_id, None)
            self.held.pop(comment_id, None)


def _pairs(value: str | None) -> dict[int, int]:
    """ "12:1700000000,15:1700000100" -> {12: 1700000000, 15: 1700000100}; bad parts dropped."""
    pairs: dict[int, int] = {}
    for part in (value or "").split(","):
        key, _, since = part.partition(":")
        key_id, epoch = as_int(key), as_int(since)
        if key_id is not None and epoch is not None:
            pairs[key_id] = epoch
    return pairs


def _unpairs(pairs: dict[int, int]) -> str:
    return ",".join(f"{key}:{since}" for key, since in sorted(pairs.items()))


@dataclass(frozen=True, slots=True)
class CommentPage:
    items: list[dict[str, Any]]
    pages: int
    size: int  # items on the page as sent, readable or not (a short page is the last)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def is_readable(item: dict[str, Any]) -> bool:
    """A comment with what the inbox needs: an id and a date_gmt it can order by."""
    return (
        as_int(item.get("id")) is not None
        and isinstance(item.get("date_gmt"), str)
        and bool(_DATE.match(str(item["date_gmt"])[:19]))
    )


def comment_position(item: dict[str, Any]) -> tuple[str, int]:
    """Where a comment sorts on WordPress: (date_gmt to the second, id)."""
    return (str(item["date_gmt"])[:19], int(item["id"]))


def cursor_of(cursor: dict[str, str]) -> tuple[str, int] | None:
    date, comment_id = cursor.get(CURSOR_DATE), as_int(cursor.get(CURSOR_ID))
    if not date or comment_id is None or not _DATE.match(date):
        return None
    return (date, comment_id)


def after_param(date_gmt: str, slack: timedelta) -> str:
    """`after` for WordPress: a UTC moment with its offset said (a bare date is read as local)."""
    moment = datetime.fromisoformat(date_gmt) - slack
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"


def gmt_iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


__all__ = [
    "CURSOR_DATE",
    "CURSOR_GAPS",
    "CURSOR_HELD",
    "CURSOR_ID",
    "CURSOR_TOP",
    "WATCH_AGE",
    "WATCH_CAP",
    "CommentPage",
    "Watch",
    "after_param",
    "comment_position",
    "cursor_of",
    "gmt_iso",
    "is_readable",
]
