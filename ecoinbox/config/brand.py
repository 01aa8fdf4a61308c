"""[brand] and [team]: who the inbox listens for, and who works it."""

from __future__ import annotations

from dataclasses import dataclass

from ecoinbox.config.plain_sections import DEFAULT_ME, brand_values, team_values
from ecoinbox.config.validate import Table

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

    me: str = DEFAULT_ME
    """Your name: the history records your actions under it, and the Mine view is what is assigned to you."""
    members: tuple[str, ...] = ()
    """The other team members a conversation can be assigned to (`a`)."""


def read_brand(table: Table) -> BrandSettings | None:
    name, handles, keywords = brand_values(table)
    return BrandSettings(name, handles, keywords) if name is not None else None


def read_team(table: Table) -> TeamSettings:
    me, members = team_values(table)
    return TeamSettings(me=me, members=members)
