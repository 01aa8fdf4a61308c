"""Persistence. The only package that contains SQL; everything else sees model objects.

`Store` (in `base`) is what the rest of ecoinbox may ask of a store; `SQLiteStore` implements it,
split by concern: `ingest_plan` (a poll batch applied in memory) and `ingest` (its reads and
write), `outbox` and `outbox_view`, `states`, `drafts`, `contacts`, `search`, `rows` (the
inbox's pages), `threads`, `leases`, `screening` (automatic spam, priority and rules at ingest), on
`connection` (SQLiteBase: connections, transactions, listeners), with `schema` (migrations),
`sql` and `convert` (query helpers, rows to model objects); `errors` and `times` serve any backend.
"""

from ecoinbox.store.base import Change, ChangeKind, IngestResult, StateChange, Store
from ecoinbox.store.errors import (
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
    StoreReadOnly,
    StoreTooNew,
)
from ecoinbox.store.sqlite import SQLiteStore, needs_upgrade, open_store

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
