"""Where the config file is looked for, apart from the sections: a read needs it before them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from ecoinbox.config.storage import APP_NAME

__all__ = ["CONFIG_ENV", "default_config_path"]

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
