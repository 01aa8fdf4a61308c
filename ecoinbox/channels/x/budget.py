"""The daily read budget: X bills every post read, once per UTC day (X's billing day: a post read
again that day is not billed again), so the channel counts the posts it read per UTC day and
stops reading at the manager's budget until midnight UTC.

The count is kept in a small file beside ecoinbox's other state (no token in it), so that a
restart does not start the day afresh and `ecoinbox check` can say what was used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

__all__ = ["ReadBudget", "default_ledger", "in_words"]


def default_ledger(channel: str, base_url: str) -> Path:
    """Where a channel's count of today's reads is kept: per channel and server (the demo's local
    X does not spend the real account's budget)."""
    import platformdirs

    server = hashlib.sha256(base_url.encode()).hexdigest()[:12]
    return platformdirs.user_state_path("ecoinbox", appauthor=False) / "x-reads" / f"{channel}-{server}.json"


@dataclass(slots=True)
class ReadBudget:
    """Posts read today (UTC) against `limit`, persisted in `ledger` (None: in memory only)."""

    limit: int
    ledger: Path | None = None
    day: date | None = None
    used: int = 0
    # Posts already counted today (this run's: after a restart a post read again counts again).
    seen: set[str] = field(default_factory=set)

    def load(self, now: datetime) -> None:
        """Take up today's count from the ledger (a missing or unreadable one counts 0)."""
        today = now.astimezone(UTC).date()
        if self.ledger is None or self.day == today:
            return
        try:
            saved = json.loads(self.ledger.read_text(encoding="utf-8"))
            saved_day, saved_used = date.fromisoformat(saved["day"]), int(saved["used"])
        except (OSError, ValueError, KeyError, TypeError):
            saved_day, saved_used = today, 0
        self.day, self.used = today, saved_used if saved_day == today else 0
        self.seen.clear()

    def left(self, now: datetime) -> int:
        self._roll(now)
        return max(0, self.limit - self.used)

    def spend(self, posts: Iterable[str], now: datetime) -> None:
        """Count the posts (ids) not yet counted today and keep the count (a failed write only
        loses precision)."""
        self._roll(now)
        fresh = set(posts) - self.seen
        self.seen |= fresh
        reads = len(fresh)
        self.used += reads
        if self.ledger is None or reads <= 0:
            return
        try:
            self.ledger.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.ledger.parent, delete=False, encoding="utf-8", suffix=".tmp"
            ) as out:
                json.dump({"day": (self.day or now.date()).isoformat(), "used": self.used}, out)
            os.replace(out.name, self.ledger)
        except OSError:
            pass

    def resets_at(self, now: datetime) -> datetime:
        """The next midnight UTC, when X's billing day (and this budget) starts again."""
        return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)

    def _roll(self, now: datetime) -> None:
        self.load(now)
        today = now.astimezone(UTC).date()
        if self.day != today:
            self.day, self.used = today, 0
            self.seen.clear()


def in_words(budget: ReadBudget, now: datetime) -> str:
    """ "412 of 2,000 post reads used today (UTC day), resets at 00:00 UTC (in 3 h)"."""
    budget.left(now)
    wait = budget.resets_at(now) - now
    hours, minutes = divmod(int(wait.total_seconds()) // 60, 60)
    until = f"{hours} h" if hours else f"{minutes} min"
    return (
        f"{budget.used:,} of {budget.limit:,} post reads used today (X bills each), "
        f"resets at 00:00 UTC (in {until})"
    )
