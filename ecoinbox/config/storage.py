"""[store] and [engine]: where the inbox is kept, and the background work of polling and sending."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ecoinbox.config.validate import Table, duration_or_never, seconds, string

__all__ = ["APP_NAME", "EngineSettings", "StoreSettings", "default_data_path", "read_engine", "read_store"]

APP_NAME: Final = "ecoinbox"


def default_data_path() -> Path:
    """Where the SQLite store lives when `[store] path` is not set."""
    import platformdirs  # 3-6 ms: only when the store is not named

    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "ecoinbox.db"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where conversations, cursors and the reply outbox are kept."""

    path: Path | None = None
    """The SQLite file; None means the platform's user data directory (see `default_data_path`).
    "~" is expanded; a relative path is relative to the config file's directory."""
    purge_deleted_after: float | None = 30 * 86400.0
    """Seconds after a post was seen deleted on its platform that its text leaves the store
    (the row stays, saying it was deleted); None keeps it ("never")."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The background work: polling and sending."""

    outbox_retry_max: float = 600.0
    """Seconds: the cap of the exponential backoff between attempts to send a reply."""


def read_store(table: Table) -> StoreSettings:
    text = table.get("path", string, "").strip()
    purge = table.get("purge_deleted_after", duration_or_never, 30 * 86400.0)
    table.finish()
    return StoreSettings(
        path=table.validator.relative_path(text) if text else None, purge_deleted_after=purge
    )


def read_engine(table: Table) -> EngineSettings:
    settings = EngineSettings(outbox_retry_max=table.get("outbox_retry_max", seconds, 600.0))
    table.finish()
    return settings
