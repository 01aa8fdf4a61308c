"""Reading the whole file: `load_config` (a path) and `parse_config` (a text) into `Settings`,
every problem of every section collected in one pass and located by line."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.config.brand import BrandSettings, TeamSettings, read_brand, read_team
from ecoinbox.config.canned import RepliesSettings, load_canned_replies, read_replies
from ecoinbox.config.channels import read_channels
from ecoinbox.config.errors import ConfigError, ConfigProblem
from ecoinbox.config.forum import ForumSettings, read_forum
from ecoinbox.config.interface import UiSettings, read_ui
from ecoinbox.config.paths import CONFIG_ENV, default_config_path
from ecoinbox.config.rules import RuleSettings, read_rules
from ecoinbox.config.screening import ScreeningSettings, read_screening
from ecoinbox.config.secret_keys import find_secret_keys, token_refusal, without
from ecoinbox.config.sections import ConfigProblems, section_header
from ecoinbox.config.storage import (
    EngineSettings,
    StoreSettings,
    default_data_path,
    read_engine,
    read_store,
)
from ecoinbox.config.toml_lines import located_problems, toml_syntax_problem
from ecoinbox.config.validate import Problems, T, Table, describe, did_you_mean
from ecoinbox.config.views import ViewSettings, read_views

__all__ = [
    "CONFIG_ENV",
    "ConfigProblems",
    "Settings",
    "default_config_path",
    "load_config",
    "parse_config",
]


@dataclass(frozen=True, slots=True)
class Settings:
    """The whole configuration, validated."""

    brand: BrandSettings
    """Who the inbox listens for."""
    ui: UiSettings = field(default_factory=UiSettings)
    """The terminal interface."""
    store: StoreSettings = field(default_factory=StoreSettings)
    """The SQLite store."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    """Polling and sending."""
    channels: tuple[ChannelSettings, ...] = ()
    """The accounts to listen on, in the order of the file. Zero is valid: an empty inbox."""
    forum: ForumSettings | None = None
    """The redirect target; None when no forum is configured (then `f` explains why)."""
    replies: RepliesSettings = field(default_factory=RepliesSettings)
    """Where canned replies come from."""
    views: tuple[ViewSettings, ...] = ()
    """Saved searches, as tabs after Inbox, Done and Spam, in the order of the file."""
    team: TeamSettings = field(default_factory=TeamSettings)
    """The team: your name and the members conversations can be assigned to."""
    canned: tuple[Any, ...] = ()
    """The canned replies ([[canned]] here, then the replies file), as `replies.CannedReply`."""
    rules: tuple[RuleSettings, ...] = ()
    """Screening rules, applied to every new message from outside in the order of the file."""
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)
    """The spam engines asked besides the built-in filter (SpamAssassin, Akismet)."""
    source: Path | None = None
    """The file these settings came from, if any (not a setting)."""

    @property
    def data_path(self) -> Path:
        """The SQLite file to open: `store.path`, or the platform's user data directory."""
        return self.store.path if self.store.path is not None else default_data_path()

    def channel(self, name: str) -> ChannelSettings:
        """The channel called `name`; KeyError if there is none."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)


def load_config(path: Path | None = None) -> Settings:
    """Read and validate the config file at `path` (from `--config`), or the default one.

    Raises ConfigError with every problem found, or with where the file was expected.
    """
    explicit = path is not None
    path = Path(path).expanduser() if path is not None else default_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(path, None, None, missing_file_message(path, explicit))]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(path, None, None, "is a directory, not a config file")]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = ConfigProblem(path, None, None, f"cannot read the config file: {reason}")
        raise ConfigError([problem]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problem = ConfigProblem(path, line, None, "not UTF-8 text (TOML files are UTF-8)")
        raise ConfigError([problem]) from None
    return parse_config(text, path)


def missing_file_message(path: Path, explicit: bool) -> str:
    if explicit:
        return "config file not found"
    how = (
        f"(from ${CONFIG_ENV})"
        if os.environ.get(CONFIG_ENV, "").strip()
        else f"(the default place; choose another with --config PATH or ${CONFIG_ENV})"
    )
    return (
        f"no config file here {how}.\n"
        f"  To try ecoinbox first, run `ecoinbox demo`: it needs no config and no account.\n"
        f"  To set it up, run `ecoinbox init` (it asks, connects each account and writes the file),\n"
        f"  or start from the example, every setting commented (`ecoinbox config example` prints it):\n"
        f"    mkdir -p {path.parent} && ecoinbox config example > {path}\n"
        f"  then edit [brand] and add one [[channels]] entry per account.\n"
        f"  `ecoinbox config path` says which file the commands read."
    )


def parse_config(text: str, source: Path | None = None) -> Settings:
    """Validate TOML `text` into Settings (pure: reads nothing but `text`).

    `source` is only used in messages and to resolve a relative store path.
    Raises ConfigError listing every problem, each with its line where it can be found.
    """
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([toml_syntax_problem(exc, text, source)]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem(source, None, None, "invalid TOML: nested too deeply")]) from None
    problems = ConfigProblems(source)
    settings, canned_entries = _read_settings(problems, document)
    if not problems.problems and settings is not None:
        forum_url = settings.forum.url if settings.forum else None
        if canned_entries or settings.replies.file is not None:
            canned = load_canned_replies(canned_entries, settings.replies, forum_url, text, source)
            settings = replace(settings, canned=canned)
        canned_names = {reply.name for reply in settings.canned}
        for index, rule in enumerate(settings.rules):
            if rule.actions.canned is not None and rule.actions.canned not in canned_names:
                hint = did_you_mean(rule.actions.canned, sorted(canned_names))
                problems.problem(
                    ("rules", index, "actions", "canned"),
                    f"no canned reply is called '{rule.actions.canned}'{hint}",
                )
    if problems.problems:
        raise ConfigError(located_problems(problems.problems, text, source))
    assert settings is not None
    return settings


def _read_settings(problems: Problems, document: dict[str, Any]) -> tuple[Settings | None, list[Any]]:
    """Every section of `document`; the raw [[canned]] tables apart (`ecoinbox.replies` reads them)."""
    secret_paths = list(find_secret_keys(document))
    for path in secret_paths:
        problems.problem(path, token_refusal(document, path))
    document = without(document, secret_paths)

    top = Table(problems, document, (), "")
    brand = _section(top, "brand", read_brand)
    ui = _section(top, "ui", read_ui)
    store = _section(top, "store", read_store)
    engine = _section(top, "engine", read_engine)
    channels = read_channels(top)
    replies = _section(top, "replies", read_replies)
    forum = _section(top, "forum", lambda table: read_forum(table, channels)) if "forum" in document else None
    views = read_views(top)
    team = _section(top, "team", read_team)
    rules = read_rules(top, channels)
    screening = _section(top, "screening", lambda table: read_screening(table, channels))
    top.known.append("canned")
    canned_entries = top.data.get("canned", [])
    if not isinstance(canned_entries, list):
        problems.problem(
            ("canned",),
            f"expected a list of [[canned]] tables, got {describe(canned_entries)}",
        )
        canned_entries = []
    top.finish()
    if problems.problems or brand is None:
        return None, []
    settings = Settings(
        brand=brand,
        ui=ui or UiSettings(),
        store=store or StoreSettings(),
        engine=engine or EngineSettings(),
        channels=channels,
        forum=forum,
        replies=replies or RepliesSettings(),
        views=views,
        team=team or TeamSettings(),
        rules=rules,
        screening=screening or ScreeningSettings(),
        source=problems.source,
    )
    return settings, canned_entries


def _section(top: Table, name: str, read: Callable[[Table], T | None]) -> T | None:
    top.known.append(name)
    value = top.data.get(name, {})
    if not isinstance(value, dict):
        top.validator.problem((name,), f"expected a table ({section_header(name)}), got {describe(value)}")
        return None
    return read(Table(top.validator, value, (name,), name))
