"""Where each of the Reddit channel's listings stands (its cursor), and what a listing is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecoinbox.channels.reddit.listings import FULLNAME, utc_seconds
from ecoinbox.model import Origin

UTC_SUFFIX = "_utc"


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a listing stands: the newest item seen, by fullname and creation time."""

    name: str
    utc: float

    @classmethod
    def load(cls, cursor: dict[str, str], key: str) -> Mark | None:
        name = cursor.get(key)
        if not name or not FULLNAME.match(name):
            return None
        try:
            utc = float(cursor.get(key + UTC_SUFFIX, "0"))
        except ValueError:
            utc = 0.0
        return cls(name, utc)

    def store(self, cursor: dict[str, str], key: str) -> None:
        cursor[key] = self.name
        cursor[key + UTC_SUFFIX] = repr(self.utc)

    @classmethod
    def of(cls, item: dict[str, Any]) -> Mark:
        return cls(str(item["name"]), utc_seconds(item.get("created_utc")))

    def newer(self, item: dict[str, Any]) -> bool:
        """Whether a listing item came after this mark (same-second items count as newer:
        the store ignores what it already has)."""
        return item.get("name") != self.name and utc_seconds(item.get("created_utc")) >= self.utc


@dataclass(frozen=True, slots=True)
class Source:
    """One listing the channel reads: its cursor key, path, parameters and why items matter."""

    key: str
    path: str
    params: tuple[tuple[str, str], ...]
    origin: Origin
    first_run_limit: int
    inbox: bool
