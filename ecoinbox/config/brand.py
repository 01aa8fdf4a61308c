"""[brand] and [team]: who the inbox listens for, and who works it."""

from __future__ import annotations

from dataclasses import dataclass

from ecoinbox.config.validate import Table, nonempty_string, string_list

__all__ = ["BrandSettings", "TeamSettings", "read_brand", "read_team"]


@dataclass(frozen=True, slots=True)
class BrandSettings:
    """Who the inbox listens for: the brand, its own accounts, and the words that mean it."""

    name: str
    """The brand's name: shown in the title bar and used in canned replies."""
    handles: tuple[str, ...] = ()
    """The brand's own accounts (e.g. "acme@social.example"): their posts are ours, not mentions."""
    keywords: tuple[str, ...] = ()
    """Words that mean "about us" when they appear in a post."""


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """Who works this inbox: the name actions are recorded under, and whom conversations go to."""

    me: str = "manager"
    """Your name: the history records your actions under it, and the Mine view is what is assigned to you."""
    members: tuple[str, ...] = ()
    """The other team members a conversation can be assigned to (`a`)."""


def read_brand(table: Table) -> BrandSettings | None:
    name = table.get("name", nonempty_string)
    handles = table.get("handles", string_list, ())
    keywords = table.get("keywords", string_list, ())
    table.finish()
    return BrandSettings(name, handles, keywords) if name is not None else None


def read_team(table: Table) -> TeamSettings:
    me = " ".join(table.get("me", nonempty_string, "manager").split())
    members = tuple(dict.fromkeys(" ".join(m.split()) for m in table.get("members", string_list, ())))
    table.finish()
    if any(not member for member in members):
        table.problem("members", "a member's name is empty")
    return TeamSettings(me=me, members=tuple(m for m in members if m and m != me))
