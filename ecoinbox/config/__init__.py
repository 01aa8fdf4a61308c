"""The TOML configuration file, read into typed, validated, frozen settings.

The file is found at `--config PATH`, else `$ECOINBOX_CONFIG`, else the platform's user config
directory (``~/.config/ecoinbox/config.toml`` on Linux). Every setting is documented in
``config.example.toml`` at the root of the source tree, shipped in the package
(`ecoinbox config example` prints it).

Validation collects every problem in one pass and reports each one as
``FILE:LINE: key.path: what is wrong``, so a typo is fixed in one edit, not one run per typo.
Tokens are refused in this file: they live in the OS keyring, a command or an environment variable
(see `ecoinbox.secrets`), and an error about a token never repeats its value.

The package: `load` reads the file, one module per section (`brand`, `interface`, `storage`,
`channels`, `forum`, `canned`, `views`, `rules`), `validate` the public checks they share (and the
channel units, `ecoinbox.channels.<kind>.unit`, use for their own keys), `toml_lines` the lines.
`quick` is what `ecoinbox list` and `show` read of the file ([brand], [store], [team] as plain
values, `plain_sections`; the default places, `paths`); the names below are imported at first use.

Headless on purpose: no Textual, no Rich, nothing created on disk at import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ecoinbox.channels.registry import KINDS
    from ecoinbox.channels.settings import CHANNEL_NAME_RE, ChannelSettings
    from ecoinbox.config.brand import BrandSettings, TeamSettings
    from ecoinbox.config.canned import RepliesSettings
    from ecoinbox.config.errors import ConfigError, ConfigProblem, KeyPath, format_key_path
    from ecoinbox.config.forum import ForumSettings
    from ecoinbox.config.interface import LAYOUTS, LIST_SCROLLS, NOTIFY_MODES, SEND_DELAY_MAX, UiSettings
    from ecoinbox.config.load import (
        CONFIG_ENV,
        Settings,
        default_config_path,
        load_config,
        parse_config,
    )
    from ecoinbox.config.rules import RULE_PRIORITIES, RuleActions, RuleMatch, RuleSettings
    from ecoinbox.config.screening import AkismetSettings, ScreeningSettings, SpamAssassinSettings
    from ecoinbox.config.storage import APP_NAME, EngineSettings, StoreSettings, default_data_path
    from ecoinbox.config.toml_lines import locate_keys
    from ecoinbox.config.validate import DURATION_RE, duration_seconds, is_loopback_host
    from ecoinbox.config.views import RESERVED_VIEW_NAMES, ViewSettings

__all__ = [
    "APP_NAME",
    "CHANNEL_NAME_RE",
    "CONFIG_ENV",
    "DURATION_RE",
    "KINDS",
    "LAYOUTS",
    "LIST_SCROLLS",
    "NOTIFY_MODES",
    "RESERVED_VIEW_NAMES",
    "RULE_PRIORITIES",
    "SEND_DELAY_MAX",
    "AkismetSettings",
    "BrandSettings",
    "ChannelSettings",
    "ConfigError",
    "ConfigProblem",
    "EngineSettings",
    "ForumSettings",
    "KeyPath",
    "RepliesSettings",
    "RuleActions",
    "RuleMatch",
    "RuleSettings",
    "ScreeningSettings",
    "Settings",
    "SpamAssassinSettings",
    "StoreSettings",
    "TeamSettings",
    "UiSettings",
    "ViewSettings",
    "default_config_path",
    "default_data_path",
    "duration_seconds",
    "format_key_path",
    "is_loopback_host",
    "load_config",
    "locate_keys",
    "parse_config",
]

# Where each name lives, imported at its first use: a read (`ecoinbox list`) takes only the
# sections it needs (ecoinbox.config.quick), not every section and platform unit.
_HOMES: Final[dict[str, str]] = {
    "KINDS": "ecoinbox.channels.registry",
    "CHANNEL_NAME_RE": "ecoinbox.channels.settings",
    "ChannelSettings": "ecoinbox.channels.settings",
    "BrandSettings": "ecoinbox.config.brand",
    "TeamSettings": "ecoinbox.config.brand",
    "RepliesSettings": "ecoinbox.config.canned",
    "ConfigError": "ecoinbox.config.errors",
    "ConfigProblem": "ecoinbox.config.errors",
    "KeyPath": "ecoinbox.config.errors",
    "format_key_path": "ecoinbox.config.errors",
    "ForumSettings": "ecoinbox.config.forum",
    "LAYOUTS": "ecoinbox.config.interface",
    "LIST_SCROLLS": "ecoinbox.config.interface",
    "NOTIFY_MODES": "ecoinbox.config.interface",
    "SEND_DELAY_MAX": "ecoinbox.config.interface",
    "UiSettings": "ecoinbox.config.interface",
    "CONFIG_ENV": "ecoinbox.config.paths",
    "Settings": "ecoinbox.config.load",
    "default_config_path": "ecoinbox.config.paths",
    "load_config": "ecoinbox.config.load",
    "parse_config": "ecoinbox.config.load",
    "RULE_PRIORITIES": "ecoinbox.config.rules",
    "RuleActions": "ecoinbox.config.rules",
    "RuleMatch": "ecoinbox.config.rules",
    "RuleSettings": "ecoinbox.config.rules",
    "AkismetSettings": "ecoinbox.config.screening",
    "ScreeningSettings": "ecoinbox.config.screening",
    "SpamAssassinSettings": "ecoinbox.config.screening",
    "APP_NAME": "ecoinbox.config.paths",
    "EngineSettings": "ecoinbox.config.storage",
    "StoreSettings": "ecoinbox.config.storage",
    "default_data_path": "ecoinbox.config.paths",
    "locate_keys": "ecoinbox.config.toml_lines",
    "DURATION_RE": "ecoinbox.config.validate",
    "duration_seconds": "ecoinbox.config.validate",
    "is_loopback_host": "ecoinbox.config.validate",
    "RESERVED_VIEW_NAMES": "ecoinbox.config.views",
    "ViewSettings": "ecoinbox.config.views",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once: the next use is a plain lookup
    return value
