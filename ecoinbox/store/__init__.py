"""Persistence. The only package that contains SQL; everything else sees model objects.

`Store` (in `base`) is what the rest of ecoinbox may ask of a store; `SQLiteStore` implements it,
split by concern: `ingest_plan` (a poll batch applied in memory) and `ingest` (its reads and
write), `outbox` and `outbox_view`, `states`, `drafts`, `contacts`, `search`, `rows` (the
inbox's pages), `threads`, `leases`, `screening` (automatic spam, priority and rules at ingest), on
`connection` (SQLiteBase: connections, transactions, listeners), with `schema` (migrations),
`sql` and `convert` (query helpers, rows to model objects); `errors` and `times` serve any backend;
`quick` reads `ecoinbox list` and `show` on the standard sqlite3 module (no event loop, no model).
"""

from typing import TYPE_CHECKING, Any

from ecoinbox.store.errors import (
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
    StoreReadOnly,
    StoreTooNew,
)

if TYPE_CHECKING:
    from ecoinbox.store.base import Change, ChangeKind, IngestResult, StateChange, Store
    from ecoinbox.store.sqlite import SQLiteStore, needs_upgrade, open_store


def __getattr__(name: str) -> Any:
    """The store itself (aiosqlite, the model) imported when first asked for: `ecoinbox list`
    reads through `store.quick` on the standard sqlite3 module, without it."""
    import importlib

    if name in ("Change", "ChangeKind", "IngestResult", "StateChange", "Store"):
        return getattr(importlib.import_module("ecoinbox.store.base"), name)
    if name in ("SQLiteStore", "needs_upgrade", "open_store"):
        return getattr(importlib.import_module("ecoinbox.store.sqlite"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Change",
    "ChangeKind",
    "IngestResult",
    "SQLiteStore",
    "StateChange",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreFull",
    "StoreNotWritable",
    "StoreReadOnly",
    "StoreTooNew",
    "needs_upgrade",
    "open_store",
]
