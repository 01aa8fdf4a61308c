"""What can go wrong with a store, worded for the manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pathlib and shlex cost the quick reads 3-4 ms; only a damaged store needs them
    from pathlib import Path


class StoreError(Exception):
    """The store cannot be used; the message says why and what to do."""


class StoreTooNew(StoreError):
    """The database was written by a newer ecoinbox: it is refused, not touched."""


class StoreDamaged(StoreError):
    """The file is damaged (truncated, a broken page, not a database at all).

    ecoinbox never writes to it, never deletes it: the message says how to recover it.
    """

    def __init__(self, path: Path, detail: str, *, not_sqlite: bool = False) -> None:
        self.path = path
        self.detail = detail
        super().__init__(damaged_message(path, detail, not_sqlite=not_sqlite))


class StoreNotWritable(StoreError):
    """A change could not be saved. What was saved before is intact; this change is not in it."""


class StoreFull(StoreNotWritable):
    """No room to write: a full disk, a quota, a file size limit (or a failing disk: SQLite's
    write errors do not tell them apart)."""


class StoreReadOnly(StoreNotWritable):
    """The file or its folder cannot be written, or the store was opened read-only on purpose."""


def damaged_message(path: Path, detail: str, *, not_sqlite: bool = False) -> str:
    """What a damaged store means and how to get its contents back, in one paragraph."""
    import shlex

    quoted = shlex.quote(str(path))
    restored = shlex.quote(str(path.with_name(f"{path.stem}-restored{path.suffix}")))
    what = (
        f"is not a SQLite database ({detail}): it is damaged, or [store] path names another program's file"
        if not_sqlite
        else f"is damaged ({detail})"
    )
    return (
        f"The store {path} {what}. ecoinbox will not write to it and never deletes "
        f'it. To recover what it holds, close every ecoinbox and run: sqlite3 {quoted} ".recover" '
        f"| sqlite3 {restored} then set [store] path to the restored file (or move the damaged one "
        f"aside and the restored one into its place). ecoinbox keeps no backups of its own: if you "
        f"copy this file elsewhere (a backup tool, a snapshot), restoring that copy works too."
    )
