"""A Graph edge's cursor that never skips: the newest time seen and the ids seen just before it.

Graph edges are read newest first (`order=reverse_chronological`) down to the cursor's time,
less an overlap: a comment that appears late with an older time (Meta's copies catch up within
seconds) is still found, and the ids already seen within the overlap are not taken twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from ecoinbox.channels.json_values import as_dict

__all__ = ["OVERLAP", "Mark"]

OVERLAP: Final = timedelta(minutes=5)
MAX_SEEN: Final = 500  # ids kept in a cursor: more within five minutes is a storm, not a page


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a walk stopped: `at` the newest time seen, `seen` id -> time of those near it."""

    at: datetime
    seen: dict[str, float] = field(default_factory=dict)

    @property
    def floor(self) -> datetime:
        """Older than this, an item was seen by an earlier poll: the walk stops there."""
        return self.at - OVERLAP

    def is_new(self, remote_id: str, created: datetime) -> bool:
        return created >= self.floor and remote_id not in self.seen

    def after(self, found: list[tuple[str, datetime]]) -> Mark:
        """The mark once `found` (id, time) are taken too."""
        at = max([self.at, *(created for _, created in found)])
        floor = (at - OVERLAP).timestamp()
        seen = {key: when for key, when in self.seen.items() if when >= floor}
        seen.update({key: created.timestamp() for key, created in found if created.timestamp() >= floor})
        newest = sorted(seen.items(), key=lambda pair: pair[1])[-MAX_SEEN:]
        return Mark(at, dict(newest))

    def dumps(self) -> str:
        return json.dumps({"at": self.at.timestamp(), "seen": self.seen}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None, default: datetime) -> Mark:
        """The mark stored in a cursor, or one at `default` (a first run) if none or unreadable."""
        try:
            data = as_dict(json.loads(text)) if text else {}
            at = datetime.fromtimestamp(float(data["at"]), UTC)
            seen = {str(k): float(v) for k, v in as_dict(data.get("seen")).items()}
        except (KeyError, TypeError, ValueError):
            return cls(default)
        return cls(at, seen)
