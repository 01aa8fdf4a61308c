"""Which section each setting belongs to: a key put in the wrong table is pointed at its own."""

from __future__ import annotations

from dataclasses import fields
from typing import Final

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.config.brand import BrandSettings, TeamSettings
from ecoinbox.config.interface import UiSettings
from ecoinbox.config.screening import ScreeningSettings
from ecoinbox.config.storage import EngineSettings, StoreSettings
from ecoinbox.config.validate import Problems
from ecoinbox.config.views import ViewSettings

__all__ = ["ConfigProblems", "section_header"]


# Which section each setting belongs to, to point a misplaced key at its section.
_SECTIONS: Final[dict[str, type]] = {
    "brand": BrandSettings,
    "ui": UiSettings,
    "store": StoreSettings,
    "engine": EngineSettings,
    "channels": ChannelSettings,
    "views": ViewSettings,
    "team": TeamSettings,
    "screening": ScreeningSettings,
}


def section_header(section: str) -> str:
    return f"[[{section}]]" if section in ("channels", "views") else f"[{section}]"


def _section_keys(section: str) -> set[str]:
    keys = {f.name for f in fields(_SECTIONS[section])}
    if section == "channels":  # and every platform's own keys
        from ecoinbox.channels.registry import all_units

        keys |= {f.name for unit in all_units() for f in fields(unit.settings_type)}
    return keys


class ConfigProblems(Problems):
    """The problems of a config file; knows its sections, to say where a misplaced key belongs."""

    top_level = frozenset(_SECTIONS)

    def home_of(self, key: str, here: str) -> str | None:
        for section in _SECTIONS:
            if section != here and key in _section_keys(section):
                return section_header(section)
        return None
