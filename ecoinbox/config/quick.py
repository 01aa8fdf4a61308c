"""What a read (`ecoinbox list`, `ecoinbox show`) needs of the config, without the rest of it.

Loading the whole file imports every section and every platform unit that validates a channel:
25 ms of the 80 a read took. A read needs the store's file and `team.me`; this parses the TOML
once and reads [brand] (the file is not valid without it), [store] and [team] with their own
readers' checks (ecoinbox/config/plain_sections.py), without the settings classes. Anything it
does not expect (a section it does not know, a problem in one of these three, a file it cannot
read) gives None: the caller loads the whole file, which says what is wrong with its usual words.
A problem in another section is for the commands that use it to report.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeVar

from ecoinbox.config.paths import default_config_path, default_data_path
from ecoinbox.config.plain_sections import brand_values, store_values, team_values
from ecoinbox.config.validate import Problems, Table

__all__ = ["SECTIONS", "ReadSettings", "read_settings"]

SECTIONS: Final = frozenset(
    {"brand", "ui", "store", "engine", "channels", "replies", "forum", "views", "team", "rules", "screening",
     "canned"}
)  # fmt: skip
"""The top level's tables, as `ecoinbox.config.load` reads them (tests/test_quick_reads.py checks)."""


T = TypeVar("T")


class ReadSettings(NamedTuple):
    """What `list` and `show` use of `Settings`."""

    data_path: Path
    """The SQLite file (`Settings.data_path`)."""
    me: str
    """`team.me`: the Mine view's assignee."""


def read_settings(path: Path | None) -> ReadSettings | None:
    """The settings a read needs from the file at `path` (else the default one); None when the
    whole load must speak (a missing or unreadable file, bad TOML, a problem in a section read here,
    a top-level key it does not know)."""
    path = Path(path).expanduser() if path is not None else default_config_path()
    try:
        text = path.read_bytes().decode("utf-8")
        document = tomllib.loads(text.removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    if not document.keys() <= SECTIONS:
        return None
    problems = Problems(path)
    brand = section(problems, document, "brand", brand_values)
    store = section(problems, document, "store", store_values)
    team = section(problems, document, "team", team_values)
    if problems.problems or brand is None or brand[0] is None or store is None or team is None:
        return None
    return ReadSettings(store[0] if store[0] is not None else default_data_path(), team[0])


def section(problems: Problems, document: dict[str, Any], name: str, read: Callable[[Table], T]) -> T | None:
    """`read` on the table `name` (empty when absent); None when it is not a table."""
    value = document.get(name, {})
    if not isinstance(value, dict):
        return None
    return read(Table(problems, value, (name,), name))
