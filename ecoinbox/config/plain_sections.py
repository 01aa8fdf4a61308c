"""[brand], [team] and [store] read into plain values: their settings classes are built on them,
and a read (`ecoinbox list`, ecoinbox/config/quick.py) takes them without the classes (the
dataclasses module and the classes' making were 5-10 ms of it)."""

from __future__ import annotations

from pathlib import Path

from ecoinbox.config.validate import Table, duration_or_never, nonempty_string, string, string_list

__all__ = ["DEFAULT_ME", "DEFAULT_PURGE_AFTER", "brand_values", "store_values", "team_values"]

DEFAULT_ME = "manager"
"""`team.me` when the file does not say."""
DEFAULT_PURGE_AFTER = 30 * 86400.0
"""`store.purge_deleted_after` when the file does not say: 30 days."""


def brand_values(table: Table) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """[brand]'s name (None when missing or invalid), handles and keywords."""
    name = table.get("name", nonempty_string)
    handles = table.get("handles", string_list, ())
    keywords = table.get("keywords", string_list, ())
    table.finish()
    return name, handles, keywords


def team_values(table: Table) -> tuple[str, tuple[str, ...]]:
    """[team]'s `me` and its other members, their spaces made single."""
    me = " ".join(table.get("me", nonempty_string, DEFAULT_ME).split())
    members = tuple(dict.fromkeys(" ".join(m.split()) for m in table.get("members", string_list, ())))
    table.finish()
    if any(not member for member in members):
        table.problem("members", "a member's name is empty")
    return me, tuple(m for m in members if m and m != me)


def store_values(table: Table) -> tuple[Path | None, float | None]:
    """[store]'s file (None: the platform's data directory) and `purge_deleted_after`."""
    text = table.get("path", string, "").strip()
    purge = table.get("purge_deleted_after", duration_or_never, DEFAULT_PURGE_AFTER)
    table.finish()
    return (table.validator.relative_path(text) if text else None), purge
