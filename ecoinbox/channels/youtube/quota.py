"""YouTube's daily quota: what each call costs, what a poll may spend, when the day resets.

The Data API gives a project 10,000 units a day (a list costs 1, an insert or a moderation 50),
reset at midnight Pacific time; past it, every call is refused with 403 `quotaExceeded` until the
reset. The count here is ecoinbox's own (the API does not say what is left); it travels in the
poll's cursor so a restart keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "DAILY_QUOTA",
    "INSERT",
    "LIST",
    "MODERATE",
    "PACIFIC",
    "REPLY_RESERVE",
    "Quota",
    "in_words",
    "next_reset",
]

PACIFIC: Final = ZoneInfo("America/Los_Angeles")
LIST: Final = 1  # commentThreads.list, comments.list, channels.list
INSERT: Final = 50  # comments.insert
MODERATE: Final = 50  # comments.setModerationStatus, comments.markAsSpam
DAILY_QUOTA: Final = 10_000
REPLY_RESERVE: Final = 1_000  # polling stops short of this, so 20 replies or moderations still go out


def next_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time (when YouTube starts a new quota day), as an aware time."""
    local = now.astimezone(PACIFIC)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)


def in_words(left: timedelta) -> str:
    """A wait as a manager reads it: "3 h 12 min", "45 min", "less than a minute"."""
    minutes = int(left.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _pacific_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


@dataclass(slots=True)
class Quota:
    """Units used today by this channel, against `daily`, and whether YouTube refused more."""

    daily: int = DAILY_QUOTA
    per_poll: int = 50
    day: date | None = None
    used: int = 0
    refused_until: datetime | None = None  # YouTube answered quotaExceeded: nothing before this

    def roll(self, now: datetime) -> None:
        """A new Pacific day starts with nothing used."""
        today = _pacific_day(now)
        if self.day != today:
            self.day, self.used, self.refused_until = today, 0, None

    def spend(self, units: int, now: datetime) -> None:
        self.roll(now)
        self.used += units

    def refused(self, now: datetime) -> datetime:
        """YouTube said the quota is used up: nothing more until the reset."""
        self.roll(now)
        self.refused_until = next_reset(now)
        self.used = max(self.used, self.daily)
        return self.refused_until

    def blocked_until(self, units: int, now: datetime, *, reserve: int = 0) -> datetime | None:
        """When a call of `units` may be made, if not now: after a refusal, or when it would take
        the day past `daily` (less `reserve`, which polling leaves for replies)."""
        self.roll(now)
        if self.refused_until is not None and self.refused_until > now:
            return self.refused_until
        if self.used + units > max(0, self.daily - reserve):
            return next_reset(now)
        return None

    def describe(self, now: datetime) -> str:
        """ "412 of 10,000 quota units used today, resets at 00:00 Pacific (in 3 h)"."""
        self.roll(now)
        reset = next_reset(now)
        return (
            f"{self.used:,} of {self.daily:,} quota units used today, "
            f"resets at 00:00 Pacific (in {in_words(reset - now)})"
        )

    def paused_words(self, now: datetime) -> str:
        """Why nothing is asked of YouTube until the reset, for the status line."""
        reset = next_reset(now)
        return (
            f"YouTube's daily quota is used up ({self.used:,} of {self.daily:,} units); ecoinbox "
            f"waits until 00:00 Pacific (in {in_words(reset - now)}), when it resets"
        )

    def blocked_words(self, now: datetime) -> str:
        """Why a call waits: YouTube refused more today, or ecoinbox keeps the rest for replies."""
        if self.refused_until is not None and self.refused_until > now:
            return self.paused_words(now)
        reset = next_reset(now)
        return (
            f"{self.used:,} of {self.daily:,} quota units used today: polling waits until 00:00 "
            f"Pacific (in {in_words(reset - now)}), the rest is kept for replies and moderation"
        )

    def to_cursor(self) -> dict[str, str]:
        if self.day is None:
            return {}
        out = {"quota_day": self.day.isoformat(), "quota_used": str(self.used)}
        if self.refused_until is not None:
            out["quota_refused_until"] = self.refused_until.isoformat()
        return out

    def take_cursor(self, cursor: dict[str, str], now: datetime) -> None:
        """Pick the count up from a stored cursor (after a restart), if it is of today."""
        try:
            day = date.fromisoformat(cursor.get("quota_day", ""))
            used = int(cursor.get("quota_used", "0"))
            refused = cursor.get("quota_refused_until")
            until = datetime.fromisoformat(refused) if refused else None
        except ValueError:
            return
        self.roll(now)
        if day == self.day:
            self.used = max(self.used, used)
            if until is not None and until.tzinfo is not None:
                self.refused_until = max(until, self.refused_until or until)
