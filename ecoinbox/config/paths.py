"""Where the config file and the store are looked for when the user names neither, apart from
the sections' settings classes: a read (ecoinbox/config/quick.py) needs these without them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["APP_NAME", "CONFIG_ENV", "default_config_path", "default_data_path"]

APP_NAME: Final = "ecoinbox"

CONFIG_ENV: Final = "ECOINBOX_CONFIG"
"""Environment variable naming the config file when `--config` is not given."""


def default_config_path() -> Path:
    """The file `load_config()` reads without an explicit path: `$ECOINBOX_CONFIG`, else the
    platform's user config directory + config.toml."""
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs  # 3-6 ms: only when the file is not named

    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_data_path() -> Path:
    """Where the SQLite store lives when `[store] path` is not set."""
    import platformdirs  # 3-6 ms: only when the store is not named

    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "ecoinbox.db"
