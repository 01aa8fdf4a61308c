"""[replies] and [[canned]]: where canned replies come from and what fills their variables.
The replies themselves are read by `ecoinbox.replies` (it knows their templates)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecoinbox.config.errors import ConfigError, ConfigProblem
from ecoinbox.config.validate import Table, nonempty_string, string

__all__ = ["RepliesSettings", "load_canned_replies", "read_replies"]


@dataclass(frozen=True, slots=True)
class RepliesSettings:
    """Canned replies: where they come from and what fills their variables."""

    file: Path | None = None
    """A TOML file of [[canned]] entries you edit apart from this config (relative to it)."""
    agent: str = ""
    """Your name, for {agent} in canned replies."""
    default_language: str = "en"
    """The language of a canned reply's main text when it does not say."""


def read_replies(table: Table) -> RepliesSettings:
    file = table.get("file", string, "").strip()
    settings = RepliesSettings(
        file=table.validator.relative_path(file) if file else None,
        agent=table.get("agent", string, ""),
        default_language=table.get("default_language", nonempty_string, "en"),
    )
    table.finish()
    return settings


def load_canned_replies(
    entries: list[Any], replies: RepliesSettings, forum_url: str | None, text: str, source: Path | None
) -> tuple[Any, ...]:
    """The canned replies: [[canned]] in the config, then the replies file (`replies.CannedReply`)."""
    from ecoinbox.replies.canned import load_canned, load_canned_file  # it imports this package

    # The loader needs the default language of a reply's text and the forum's address.
    language = replies.default_language
    canned = (
        list(
            load_canned(
                entries, source or Path("config.toml"), text, default_language=language, forum_url=forum_url
            )
        )
        if entries
        else []
    )
    if replies.file is not None:
        canned.extend(load_canned_file(replies.file, default_language=language, forum_url=forum_url))
    names = [reply.name for reply in canned]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            [
                ConfigProblem(
                    source,
                    None,
                    "canned",
                    f"canned reply names must be unique: {', '.join(duplicates)} "
                    "appear(s) both in the config and in the replies file",
                )
            ]
        )
    return tuple(canned)
