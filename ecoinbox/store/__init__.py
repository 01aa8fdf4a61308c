"""Persistence. The only package that contains SQL; everything else sees model objects."""

from ecoinbox.store.base import Change, IngestResult, StateChange
from ecoinbox.store.errors import (
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
    StoreReadOnly,
    StoreTooNew,
)
from ecoinbox.store.sqlite import SQLiteStore, open_store

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
