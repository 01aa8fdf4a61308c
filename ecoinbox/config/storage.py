"""[store] and [engine]: where the inbox is kept, and the background work of polling and sending."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecoinbox.config.paths import APP_NAME, default_data_path
from ecoinbox.config.plain_sections import DEFAULT_PURGE_AFTER, store_values
from ecoinbox.config.validate import Table, seconds

__all__ = ["APP_NAME", "EngineSettings", "StoreSettings", "default_data_path", "read_engine", "read_store"]


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where conversations, cursors and the reply outbox are kept."""

    path: Path | None = None
    """The SQLite file; None means the platform's user data directory (see `default_data_path`).
    "~" is expanded; a relative path is relative to the config file's directory."""
    purge_deleted_after: float | None = DEFAULT_PURGE_AFTER
    """Seconds after a post was seen deleted on its platform that its text leaves the store
    (the row stays, saying it was deleted); None keeps it ("never")."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The background work: polling and sending."""

    outbox_retry_max: float = 600.0
    """Seconds: the cap of the exponential backoff between attempts to send a reply."""


def read_store(table: Table) -> StoreSettings:
    path, purge = store_values(table)
    return StoreSettings(path=path, purge_deleted_after=purge)


def read_engine(table: Table) -> EngineSettings:
    settings = EngineSettings(outbox_retry_max=table.get("outbox_retry_max", seconds, 600.0))
    table.finish()
    return settings
