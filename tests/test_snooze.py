"""Reading when a snooze wakes: presets and typed times, always in the future, in local time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecoinbox.snooze import SnoozeError, describe_wake, wake_time

PARIS = timezone(timedelta(hours=1))
# A Wednesday afternoon.
NOW = datetime(2026, 12, 2, 15, 30, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("typed", "wakes"),
    [
        ("in 1 hour", datetime(2026, 12, 2, 16, 30, tzinfo=PARIS)),
        ("this evening", datetime(2026, 12, 2, 18, 0, tzinfo=PARIS)),
        ("tomorrow morning", datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)),
        ("next week", datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)),  # Monday
        ("14:00", datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)),  # passed today: tomorrow
        ("16:45", datetime(2026, 12, 2, 16, 45, tzinfo=PARIS)),
        ("mon 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)),
        ("Wed 9:00", datetime(2026, 12, 9, 9, 0, tzinfo=PARIS)),  # this Wednesday's has passed
        ("friday 8am", datetime(2026, 12, 4, 8, 0, tzinfo=PARIS)),
        ("2d", NOW + timedelta(days=2)),
        ("3h", NOW + timedelta(hours=3)),
        ("in 30m", NOW + timedelta(minutes=30)),
        ("1w", NOW + timedelta(weeks=1)),
    ],
)
def test_typed_times_wake_in_the_future(typed, wakes):
    assert wake_time(typed, NOW) == wakes


def test_this_evening_after_the_evening_is_tomorrows():
    late = NOW.replace(hour=20)
    assert wake_time("this evening", late) == datetime(2026, 12, 3, 18, 0, tzinfo=PARIS)


@pytest.mark.parametrize("typed", ["", "soon", "25:00", "14", "0d", "xyz 9:00", "13pm"])
def test_unreadable_times_say_what_can_be_typed(typed):
    with pytest.raises(SnoozeError, match="14:00"):
        wake_time(typed, NOW)


def test_the_wake_time_is_described_briefly():
    assert describe_wake(datetime(2026, 12, 2, 18, 0, tzinfo=PARIS), NOW) == "18:00"
    assert describe_wake(datetime(2026, 12, 3, 9, 0, tzinfo=PARIS), NOW) == "tomorrow 09:00"
    assert describe_wake(datetime(2026, 12, 7, 9, 0, tzinfo=PARIS), NOW) == "Mon 09:00"
    assert describe_wake(datetime(2026, 12, 24, 9, 0, tzinfo=PARIS), NOW) == "Dec 24 09:00"
