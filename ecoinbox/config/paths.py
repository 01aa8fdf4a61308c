"""Where the config file and the store are looked for when the user names neither, apart from
the sections' settings classes: a read (ecoinbox/config/quick.py) needs these without them."""

from __future__ import annotations

import os
import sys
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
    return user_dir("XDG_CONFIG_HOME", "~/.config", "user_config_path") / "config.toml"


def default_data_path() -> Path:
    """Where the SQLite store lives when `[store] path` is not set."""
    return user_dir("XDG_DATA_HOME", "~/.local/share", "user_data_path") / "ecoinbox.db"


def user_dir(variable: str, fallback: str, platformdirs_name: str) -> Path:
    """platformdirs' user directory for ecoinbox (`platformdirs_name`), found without importing it
    where the XDG rules alone decide, as every platformdirs from 4.2 decides: on Linux (not
    Android), `$variable` when it is absolute, else `fallback` under an absolute $HOME. Its import
    (tempfile, shutil, random) was 7-10 ms of each `ecoinbox list` that names no file."""
    value = os.environ.get(variable, "")
    home = os.environ.get("HOME", "")
    plain_linux = sys.platform == "linux" and not hasattr(sys, "getandroidapilevel")
    if plain_linux and "ANDROID_DATA" not in os.environ and os.path.isabs(home):
        if os.path.isabs(value):
            return Path(value, APP_NAME)
        if not value.strip():
            return Path(os.path.expanduser(fallback), APP_NAME)
    import platformdirs  # anything else: a relative $variable, no $HOME, another system

    found: Path = getattr(platformdirs, platformdirs_name)(APP_NAME, appauthor=False)
    return found
