"""The platforms this version knows: kind -> the module of its unit, imported when first used.

Adding a platform: its package `ecoinbox/channels/<kind>/` with a `unit.py` defining `UNIT`
(`ecoinbox.channels.unit.PlatformUnit`), one line below, and its tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ecoinbox.channels.unit import PlatformUnit

__all__ = ["KINDS", "UNIT_MODULES", "all_units", "owner_of", "unit"]

UNIT_MODULES: Final[dict[str, str]] = {
    "mastodon": "ecoinbox.channels.mastodon.unit",
    "discourse": "ecoinbox.channels.discourse.unit",
    "bluesky": "ecoinbox.channels.bluesky.unit",
    "wordpress": "ecoinbox.channels.wordpress.unit",
    "feed": "ecoinbox.channels.feed.unit",
    "reddit": "ecoinbox.channels.reddit.unit",
    "email": "ecoinbox.channels.email.unit",
    "linkedin": "ecoinbox.channels.linkedin.unit",
    "x": "ecoinbox.channels.x.unit",
    "mediawiki": "ecoinbox.channels.mediawiki.unit",
    "facebook": "ecoinbox.channels.facebook.unit",
    "instagram": "ecoinbox.channels.instagram.unit",
    "youtube": "ecoinbox.channels.youtube.unit",
}

KINDS: Final[frozenset[str]] = frozenset(UNIT_MODULES)
"""Channel kinds this version can talk to."""


def unit(kind: str) -> PlatformUnit:
    """The unit of `kind` (KeyError for a kind no unit has)."""
    found: PlatformUnit = importlib.import_module(UNIT_MODULES[kind]).UNIT
    return found


def all_units() -> list[PlatformUnit]:
    """Every unit, in the order above (imports them all: for checks that span platforms)."""
    return [unit(kind) for kind in UNIT_MODULES]


def owner_of(key: str) -> list[PlatformUnit]:
    """The units whose own settings (beyond the common ones) have `key`."""
    from ecoinbox.channels.settings import COMMON_KEYS

    return [
        each
        for each in all_units()
        if key not in COMMON_KEYS and key in {f for f in each.settings_type.__dataclass_fields__}
    ]
