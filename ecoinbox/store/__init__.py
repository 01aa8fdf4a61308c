"""Persistence. The only package that contains SQL; everything else sees model objects."""

from ecoinbox.store.sqlite import (
    Change,
    IngestResult,
    SQLiteStore,
    StateChange,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
    StoreReadOnly,
    StoreTooNew,
    open_store,
)

Store = SQLiteStore

__all__ = [
    "Change",
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
    "open_store",
]
