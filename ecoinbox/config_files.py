"""The config file as a thing on disk: the example shipped with the package, and where the config
is read from (`ecoinbox config example`, `ecoinbox config path`).

The example is ``config.example.toml`` at the root of the source tree; the wheel carries it as
``ecoinbox/config.example.toml`` (pyproject's force-include), so an installed ecoinbox has it too.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Final

from ecoinbox.config import CONFIG_ENV, default_config_path

__all__ = [
    "EXAMPLE_NAME",
    "config_path",
    "example_config",
    "run_config_command",
    "where_the_config_comes_from",
]

EXAMPLE_NAME: Final = "config.example.toml"


def example_config() -> str:
    """The example config, every setting documented: from the installed package, else (a source
    checkout, an editable install) from the root of the source tree."""
    packaged = resources.files("ecoinbox").joinpath(EXAMPLE_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[1] / EXAMPLE_NAME).read_text(encoding="utf-8")


def config_path(explicit: Path | None) -> Path:
    """The file the other commands read: `--config`, else $ECOINBOX_CONFIG, else the platform's."""
    return explicit.expanduser() if explicit is not None else default_config_path()


def where_the_config_comes_from(explicit: Path | None) -> str:
    """Why that file, in words (for `ecoinbox config path` on standard error)."""
    if explicit is not None:
        return "given with --config"
    if os.environ.get(CONFIG_ENV, "").strip():
        return f"from ${CONFIG_ENV}"
    return f"the default place (choose another with --config PATH or ${CONFIG_ENV})"


def run_config_command(subcommand: str, explicit: Path | None) -> int:
    """`ecoinbox config example` (the example on stdout) and `ecoinbox config path` (the path on
    stdout, why that one and whether it exists on stderr, so `$(ecoinbox config path)` works)."""
    if subcommand == "example":
        sys.stdout.write(example_config())
        return 0
    path = config_path(explicit)
    print(path)
    state = "exists" if path.is_file() else "not there yet: `ecoinbox init` writes it"
    print(f"({where_the_config_comes_from(explicit)}; {state})", file=sys.stderr)
    return 0
