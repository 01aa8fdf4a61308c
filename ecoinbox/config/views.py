"""[[views]]: saved searches, shown as tabs beside Inbox, Done and Spam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ecoinbox.config.validate import Invalid, Table, describe, nonempty_string

__all__ = ["RESERVED_VIEW_NAMES", "ViewSettings", "read_views"]

RESERVED_VIEW_NAMES: Final = ("inbox", "pending", "snoozed", "done", "spam", "mine", "search")


@dataclass(frozen=True, slots=True)
class ViewSettings:
    """A saved search: a named view shown as a tab beside Inbox, Done and Spam."""

    name: str
    """The tab's title, e.g. "Refunds" (unique; not Inbox, Done, Spam or Search)."""
    query: str
    """A search in the query language, e.g. "refund* is:open" (relative dates like after:3d
    are counted from the moment the view is shown)."""


def search_query(value: object) -> str:
    from ecoinbox.query import QueryError, parse_query

    text = nonempty_string(value)
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise Invalid(f"the search does not parse: {exc}") from None
    if query.empty:
        raise Invalid("the search has no word and no filter; it would find nothing")
    return text


def read_views(top: Table) -> tuple[ViewSettings, ...]:
    top.known.append("views")
    entries = top.data.get("views", [])
    if not isinstance(entries, list):
        top.validator.problem(("views",), f"expected a list of [[views]] tables, got {describe(entries)}")
        return ()
    views: list[ViewSettings] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            top.validator.problem(("views", index), f"expected a [[views]] table, got {describe(entry)}")
            continue
        table = Table(top.validator, entry, ("views", index), "views")
        name = table.get("name", nonempty_string)
        query = table.get("query", search_query)
        table.finish()
        if name is None or query is None:
            continue
        name = " ".join(name.split())
        folded = name.casefold()
        if folded in RESERVED_VIEW_NAMES:
            table.problem("name", f"'{name}' is a built-in view; give the saved search another name")
        elif folded in first_index:
            table.problem("name", f"duplicate view name '{name}' (also views[{first_index[folded]}])")
        else:
            first_index[folded] = index
            views.append(ViewSettings(name, query))
    return tuple(views)
