"""When a snooze wakes: the presets of `s` and the times a manager types ("14:00", "mon 9:00", "2d").

Times are read in the zone of `now` (the app passes local time), and always land in the future.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

MORNING_HOUR = 9
""""tomorrow morning" and "next week" wake at this hour."""
EVENING_HOUR = 18
""""this evening" wakes at this hour (tomorrow's, once it has passed)."""

PRESETS: tuple[tuple[str, str], ...] = (
    ("1", "in 1 hour"),
    ("2", "this evening"),
    ("3", "tomorrow morning"),
    ("4", "next week"),
)
"""The choices `s` offers first, with the key that picks each."""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^(?:in\s+)?(\d{1,4})\s*(m|min|h|d|w)$")
_CLOCK = re.compile(r"^(?:([a-z]{3})[a-z]*\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_HOURS = re.compile(r"^in\s+(\d{1,3})\s+hours?$")


class SnoozeError(ValueError):
    """A typed time that cannot be read; the message says what can be typed."""


HELP = 'Type a time like "14:00", "mon 9:00", "2d", "3h" or "30m".'


def wake_time(text: str, now: datetime) -> datetime:
    """The moment a snooze typed as `text` wakes, after `now` (whose zone reads the clock times)."""
    words = " ".join(text.lower().split())
    if words in ("in 1 hour", "1 hour", "in an hour"):
        return now + timedelta(hours=1)
    if words == "this evening":
        evening = _at(now, EVENING_HOUR, 0)
        return evening if evening > now else evening + timedelta(days=1)
    if words == "tomorrow morning":
        return _at(now + timedelta(days=1), MORNING_HOUR, 0)
    if words == "next week":
        monday = now + timedelta(days=7 - now.weekday())
        return _at(monday, MORNING_HOUR, 0)
    if match := _HOURS.match(words):
        return now + timedelta(hours=int(match[1]))
    if match := _DURATION.match(words):
        amount = int(match[1])
        if amount == 0:
            raise SnoozeError("A snooze must last a while. " + HELP)
        return now + timedelta(**{_UNITS[match[2]]: amount})
    if match := _CLOCK.match(words):
        return _clock_time(match, now)
    raise SnoozeError(f"Cannot read {text.strip()[:40]!r} as a time. {HELP}")


def _clock_time(match: re.Match[str], now: datetime) -> datetime:
    day, hour, minute, half = match[1], int(match[2]), int(match[3] or 0), match[4]
    if half is not None:
        if not 1 <= hour <= 12:
            raise SnoozeError(f"{hour}{half} is not a time. {HELP}")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise SnoozeError(f"{match[0]!r} is not a time of day. {HELP}")
    if match[3] is None and half is None and day is None:
        raise SnoozeError(f'{match[0]!r}: a clock time needs its minutes ("{hour}:00"). {HELP}')
    moment = _at(now, hour, minute)
    if day is not None:
        if day not in _DAYS:
            raise SnoozeError(f"{day!r} is not a day (mon, tue, wed, thu, fri, sat, sun). {HELP}")
        ahead = (_DAYS.index(day) - now.weekday()) % 7
        moment += timedelta(days=ahead)
        return moment if moment > now else moment + timedelta(days=7)
    return moment if moment > now else moment + timedelta(days=1)


def _at(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def describe_wake(moment: datetime, now: datetime) -> str:
    """A short "until" for the manager: "18:00", "tomorrow 09:00", "Mon 09:00", "Dec 24 09:00"."""
    moment = moment.astimezone(now.tzinfo)
    clock = moment.strftime("%H:%M")
    days = (moment.date() - now.date()).days
    if days == 0:
        return clock
    if days == 1:
        return f"tomorrow {clock}"
    if days < 7:
        return f"{moment.strftime('%a')} {clock}"
    return f"{moment.strftime('%b')} {moment.day} {clock}"
