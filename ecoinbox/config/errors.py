"""What is wrong with a config file, located as ``FILE:LINE: key.path: what is wrong``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["BARE_KEY_RE", "ConfigError", "ConfigProblem", "KeyPath", "format_key_path"]

KeyPath = tuple[str | int, ...]
"""Where a value sits in the TOML document: ("channels", 0, "name") for channels[0].name."""

BARE_KEY_RE: Final = re.compile(r"[A-Za-z0-9_-]+")


def format_key_path(path: KeyPath) -> str:
    """`("channels", 0, "name")` -> `channels[0].name`; odd keys are quoted as TOML would."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if BARE_KEY_RE.fullmatch(part):
            text = part
        else:
            import json  # 2-4 ms: only for a key TOML must quote

            text = json.dumps(part, ensure_ascii=False)
        out += f".{text}" if out else text
    return out


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the config file, located as precisely as we can."""

    source: Path | None
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.source) if self.source is not None else "<config>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config file is missing, unreadable or invalid. `str()` gives one line per problem."""

    def __init__(self, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
