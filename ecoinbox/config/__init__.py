"""The TOML configuration file, read into typed, validated, frozen settings.

The file is found at `--config PATH`, else `$ECOINBOX_CONFIG`, else the platform's user config
directory (``~/.config/ecoinbox/config.toml`` on Linux). Every setting is documented in
``config.example.toml`` at the root of the source tree, shipped in the package
(`ecoinbox config example` prints it).

Validation collects every problem in one pass and reports each one as
``FILE:LINE: key.path: what is wrong``, so a typo is fixed in one edit, not one run per typo.
Tokens are refused in this file: they live in the OS keyring, a command or an environment variable
(see `ecoinbox.secrets`), and an error about a token never repeats its value.

Headless on purpose: no Textual, no Rich, nothing created on disk at import time.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import platformdirs

from ecoinbox.keymap import keymap_problems

__all__ = [
    "CONFIG_ENV",
    "KINDS",
    "LAYOUTS",
    "BrandSettings",
    "ChannelSettings",
    "ConfigError",
    "ConfigProblem",
    "EngineSettings",
    "Settings",
    "StoreSettings",
    "UiSettings",
    "default_config_path",
    "default_data_path",
    "is_loopback_host",
    "load_config",
    "locate_keys",
    "parse_config",
]

APP_NAME: Final = "ecoinbox"
CONFIG_ENV: Final = "ECOINBOX_CONFIG"
"""Environment variable naming the config file when `--config` is not given."""

KINDS: Final[frozenset[str]] = frozenset(
    {"mastodon", "discourse", "bluesky", "wordpress", "feed", "reddit", "email"}
)
"""Channel kinds this version can talk to; a new platform module adds its kind here."""

REDDIT_API_URL: Final = "https://oauth.reddit.com"
REDDIT_AUTH_URL: Final = "https://www.reddit.com"
REDDIT_REDIRECT_URI: Final = "http://localhost:8080"

LAYOUTS: Final[tuple[str, ...]] = ("auto", "side", "below")
LIST_SCROLLS: Final[tuple[str, ...]] = ("half", "line")
"""Where the thread goes relative to the conversation list."""

AUTH_MODES: Final[dict[str, tuple[str, ...]]] = {
    "mastodon": ("oauth",),
    "discourse": ("user_api_key", "api_key"),
    "wordpress": ("app_password",),
    "feed": ("none", "basic"),
    "reddit": ("oauth",),
    "bluesky": ("app_password", "account_password"),
    "email": ("password",),
}
"""How each kind authenticates; the first is the default (`ecoinbox auth` follows it)."""

CHANNEL_NAME_RE: Final = re.compile(r"[a-z0-9_-]{1,64}")
_ENV_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY_RE: Final = re.compile(r"[A-Za-z0-9_-]+")

# Keys that would hold a credential, at any level of the file. `token_cmd` and `token_env`
# name *where* the token is, so they are fine; anything that *is* a token is refused.
_SECRET_KEY_NAMES: Final = frozenset(
    {
        "token",
        "access_token",
        "api_key",
        "apikey",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "app_password",
    }
)
_SECRET_KEY_SUFFIXES: Final = ("_token", "_password", "_passwd", "_secret", "_api_key", "_apikey")

# There is no setting to turn TLS verification off, nor to set proxies: the environment does it.
_TLS_KEY_RE: Final = re.compile(r"(?i)verif|insecure|ssl|tls|cert|ca_?bundle|ca_?file")
_TLS_HINT: Final = (
    " (TLS certificates are always verified: to trust a private CA or a proxy that re-signs TLS, "
    "export SSL_CERT_FILE=/path/to/ca.pem)"
)
_PROXY_HINT: Final = " (proxies come from the environment: HTTPS_PROXY, HTTP_PROXY and NO_PROXY)"


# --------------------------------------------------------------------------------------------
# Settings


def default_data_path() -> Path:
    """Where the SQLite store lives when `[store] path` is not set."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "ecoinbox.db"


@dataclass(frozen=True, slots=True)
class BrandSettings:
    """Who the inbox listens for: the brand, its own accounts, and the words that mean it."""

    name: str
    """The brand's name: shown in the title bar and used in canned replies."""
    handles: tuple[str, ...] = ()
    """The brand's own accounts (e.g. "acme@social.example"): their posts are ours, not mentions."""
    keywords: tuple[str, ...] = ()
    """Words that mean "about us" when they appear in a post."""


@dataclass(frozen=True, slots=True)
class UiSettings:
    """How the terminal interface looks and which keys do what."""

    layout: str = "auto"
    """"auto" (thread beside the list at >= 120 columns, below it otherwise), "side" or "below"."""
    theme: str = "textual-dark"
    """Any Textual theme name; checked by the interface, which knows the themes."""
    animation: bool = False
    """Textual animations. Off by default: animated scrolling costs bandwidth over SSH."""
    snippet_length: int = 120
    """How many characters of a message the conversation list shows (20..1000)."""
    relative_times: bool = True
    """Show "5m ago" instead of the clock time."""
    list_scroll: str = "half"
    """When the cursor steps off the list: "half" scrolls half a screen (each scroll repaints the
    list: fewer of them over SSH), "line" one line at a time."""
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Binding id -> comma-separated keys in Textual keymap syntax, e.g. "inbox.reply" = "r,ctrl+r".
    An id no binding has, or a key another binding active at the same time already has, is refused
    (`ecoinbox.keymap`)."""
    notify: str = "off"
    """On a new high-priority conversation: "off", "bell" (the terminal's bell) or "desktop" (a
    desktop notification: notify-send where it is installed, else the bell)."""
    waiting_warn: float = 3600.0
    """Seconds (written "1h", "30m", "2d"): a person waiting this long on a reply shows in the warning colour."""
    waiting_alert: float = 14400.0
    """Seconds (written "4h"): a person waiting this long shows in the alert colour (not below waiting_warn)."""
    send_delay: float = 10.0
    """Seconds a reply waits after ctrl+s before it goes out, while `u` can take it back (0..300;
    0 sends at once, with no way back)."""


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """Who works this inbox: the name actions are recorded under, and whom conversations go to."""

    me: str = "manager"
    """Your name: the history records your actions under it, and the Mine view is what is assigned to you."""
    members: tuple[str, ...] = ()
    """The other team members a conversation can be assigned to (`a`)."""


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where conversations, cursors and the reply outbox are kept."""

    path: Path | None = None
    """The SQLite file; None means the platform's user data directory (see `default_data_path`).
    "~" is expanded; a relative path is relative to the config file's directory."""
    purge_deleted_after: float | None = 30 * 86400.0
    """Seconds after a post was seen deleted on its platform that its text leaves the store
    (the row stays, saying it was deleted); None keeps it ("never")."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The background work: polling and sending."""

    outbox_retry_max: float = 600.0
    """Seconds: the cap of the exponential backoff between attempts to send a reply."""


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """One account on one platform: where to listen, and how to find its token."""

    kind: str
    """The platform: one of `KINDS`."""
    name: str
    """Unique, [a-z0-9_-]+: used in `ecoinbox auth NAME`, as the keyring username and as the
    channel id in the store (so renaming it starts that channel afresh)."""
    base_url: str
    """The server, e.g. "https://social.example" (no trailing slash). Plain http is accepted only
    for loopback hosts (the demo servers): a token must not cross a network in clear."""
    account: str | None = None
    """The brand's handle on this channel, if it has one. Bluesky: required, the handle it signs
    in with (e.g. "acme.bsky.social")."""
    hashtags: tuple[str, ...] = ()
    """Listening: hashtags to follow, without '#'."""
    search: tuple[str, ...] = ()
    """Listening: keyword searches to run."""
    poll_interval: float = 60.0
    """Seconds between polls; at least 5 (at least 1 for a loopback server, for the demo)."""
    include_filtered: bool = True
    """Also import posts the platform's own filters would hide (you may need to answer them)."""
    timeout: float = 20.0
    """Seconds: the overall deadline of one request, however slowly the server answers."""
    backfill: float = 14 * 86400.0
    """Mastodon: how far back (seconds; written "14d", "36h") the first poll of a channel imports
    mentions. Every mention of that period comes in, however the server pages them."""
    stream: bool = True
    """Mastodon and Discourse: new mentions arrive live (Mastodon's streaming API, Discourse's
    MessageBus), on screen about a second after they are posted; polling goes on every
    poll_interval beside it, and alone while the stream is down. False: polling only (e.g. a
    proxy that breaks streams)."""
    token_cmd: tuple[str, ...] | None = None
    """A command (argv list, run without a shell) that prints the token on stdout,
    e.g. ("pass", "show", "ecoinbox/mastodon"). Tried first."""
    token_env: str | None = None
    """The name of an environment variable holding the token. Tried last (handy in CI)."""
    keyring: bool = True
    """Look in the OS keyring (service "ecoinbox", username = the channel name)."""
    auth: str | None = None
    """How the token is used. Discourse: "user_api_key" (default; `ecoinbox auth` gets one) or
    "api_key" (an admin key, sent with `account` as Api-Username). Mastodon and Reddit: "oauth".
    Bluesky: "app_password" (the channel's secret is an app password; the account's main password
    is refused), or "account_password" (accept the main password: only for a PDS without app passwords).
    WordPress: "app_password". Feeds: "none" or "basic"."""
    categories: tuple[str, ...] = ()
    """Discourse listening: categories (slugs) whose new posts all come to the inbox."""
    feeds: tuple[str, ...] = ()
    """Feed channels: the RSS or Atom comment feeds to read, each an http(s) URL or a path on
    base_url (e.g. "/comments/feed/"); empty means the comments feed the site's home page names
    (WordPress: "/comments/feed/", or "/?feed=comments-rss2" with plain permalinks)."""

    @property
    def needs_token(self) -> bool:
        """Whether the channel has a secret to find: a feed has none unless it uses HTTP Basic."""
        return self.kind != "feed" or self.auth == "basic"

    client_id: str | None = None
    """Reddit (required there): the id of your installed app, approved by Reddit. Not a secret:
    an installed app has none; the secret is the refresh token `ecoinbox auth` stores."""
    auth_url: str | None = None
    """Reddit: the token host, where `ecoinbox auth` sends the browser and access tokens are
    renewed (default "https://www.reddit.com"; `base_url` is the API host, oauth.reddit.com)."""
    redirect_uri: str | None = None
    """Reddit: the redirect URI registered with your app, http://localhost:PORT[/path]
    (default "http://localhost:8080"); `ecoinbox auth` listens there on loopback."""
    subreddits: tuple[str, ...] = ()
    """Reddit listening: subreddits (without "r/") whose posts matching `search` come to the
    inbox; with no `search` words, every new post of these subreddits."""
    smtp_url: str | None = None
    """Email: the SMTP server replies go through, "smtps://host" (TLS, port 465) or
    "smtp://host" (STARTTLS, port 587). None: the mailbox is read only."""
    from_address: str | None = None
    """Email: the From of replies, e.g. "Acme Support <support@acme.example>" (default: account)."""
    folders: tuple[str, ...] = ("INBOX",)
    """Email: the IMAP folders to read, e.g. ["INBOX", "Lists/entraide"] for a mailing list's."""
    sent_folder: str | None = None
    """Email: where sent replies are filed and looked for; None finds the \\Sent folder."""
    append_sent: bool = True
    """Email: file a copy of each reply in the Sent folder (false where the provider does, e.g. Gmail)."""

    @property
    def is_loopback(self) -> bool:
        """True when the server is on this machine (127.0.0.0/8, ::1, localhost)."""
        return is_loopback_host(urlsplit(self.base_url).hostname)


@dataclass(frozen=True, slots=True)
class ForumSettings:
    """The brand's own forum: where `f` (redirect) brings people."""

    channel: str
    """The name of the Discourse channel that is the forum."""
    url: str
    """The forum's public address, used as {forum_url} in canned replies (default: its base_url)."""
    category: str = "support"
    """The category (slug) in which "new forum topic" opens topics."""


@dataclass(frozen=True, slots=True)
class RepliesSettings:
    """Canned replies: where they come from and what fills their variables."""

    file: Path | None = None
    """A TOML file of [[canned]] entries you edit apart from this config (relative to it)."""
    agent: str = ""
    """Your name, for {agent} in canned replies."""
    default_language: str = "en"
    """The language of a canned reply's main text when it does not say."""


@dataclass(frozen=True, slots=True)
class ViewSettings:
    """A saved search: a named view shown as a tab beside Inbox, Done and Spam."""

    name: str
    """The tab's title, e.g. "Refunds" (unique; not Inbox, Done, Spam or Search)."""
    query: str
    """A search in the query language, e.g. "refund* is:open" (relative dates like after:3d
    are counted from the moment the view is shown)."""


RESERVED_VIEW_NAMES: Final = ("inbox", "pending", "snoozed", "done", "spam", "mine", "search")

NOTIFY_MODES: Final[tuple[str, ...]] = ("off", "bell", "desktop")
"""How the inbox tells the manager about a new high-priority conversation."""

RULE_PRIORITIES: Final[dict[str, int]] = {"high": 1, "normal": 0, "low": -1}
"""A rule's `priority` action, as the conversation's priority level."""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """What a rule looks for in a new message from outside: every condition given must hold."""

    channel: tuple[str, ...] = ()
    """Channel names from [[channels]] (any of them). Default: every channel."""
    words: tuple[str, ...] = ()
    """Words or phrases, any of them, as whole words; case and accents do not matter."""
    regex: str | None = None
    """A Python regular expression searched in the text (case-insensitive)."""
    language: tuple[str, ...] = ()
    """Language codes, e.g. ["fr"], as the platform says or as detected."""
    author: tuple[str, ...] = ()
    """Handles (as shown in the inbox, e.g. "zoe@remote.example"), case-insensitive."""
    has_link: bool | None = None
    """true: only messages with a link; false: only messages without one."""
    kind: str | None = None
    """"reply" (an answer inside a thread) or "mention" (a post that starts a thread)."""
    min_followers: int | None = None
    """Only authors with at least this many followers. No channel reports followers yet: a rule
    with this condition does not match until one does."""


@dataclass(frozen=True, slots=True)
class RuleActions:
    """What a rule does to the conversation of a message it matches; each is recorded as
    "rule:<name>" in the conversation's history."""

    tag: tuple[str, ...] = ()
    """Tags to add."""
    priority: str | None = None
    """"high" (floats up in the Inbox), "normal" or "low"."""
    assign: str | None = None
    """A team member's name to assign the conversation to."""
    snooze: str | None = None
    """Snooze for a while: a number and a unit, e.g. "30m", "4h", "2d"."""
    spam: bool = False
    """Send a new conversation to Spam (with the rule's name as the reason)."""
    done: bool = False
    """Mark the conversation done."""
    canned: str | None = None
    """The name of a canned reply to suggest in the thread."""


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """A triage rule: when a new message matches, its actions apply to the conversation."""

    name: str
    """Unique; shown as "rule:<name>" wherever the rule acted."""
    match: RuleMatch
    """The conditions ([rules.match]); at least one."""
    actions: RuleActions
    """The actions ([rules.actions]); at least one."""


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
    """Triage rules, applied to every new message from outside in the order of the file."""
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


# --------------------------------------------------------------------------------------------
# Errors

KeyPath = tuple[str | int, ...]


def format_key_path(path: KeyPath) -> str:
    """`("channels", 0, "name")` -> `channels[0].name`; odd keys are quoted as TOML would."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE_KEY_RE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
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


# --------------------------------------------------------------------------------------------
# Loading


def default_config_path() -> Path:
    """The file `load_config()` reads without an explicit path: `$ECOINBOX_CONFIG`, else the
    platform's user config directory + config.toml."""
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def load_config(path: Path | None = None) -> Settings:
    """Read and validate the config file at `path` (from `--config`), or the default one.

    Raises ConfigError with every problem found, or with where the file was expected.
    """
    explicit = path is not None
    path = Path(path).expanduser() if path is not None else default_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(path, None, None, _missing_file_message(path, explicit))]) from None
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


def _missing_file_message(path: Path, explicit: bool) -> str:
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
        raise ConfigError([_toml_syntax_problem(exc, text, source)]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem(source, None, None, "invalid TOML: nested too deeply")]) from None

    validator = _Validator(source)
    settings = validator.settings(document)
    if not validator.problems and settings is not None:
        settings = _with_canned(settings, validator.canned_entries, text, source)
        canned_names = {reply.name for reply in settings.canned}
        for index, rule in enumerate(settings.rules):
            if rule.actions.canned is not None and rule.actions.canned not in canned_names:
                hint = _did_you_mean(rule.actions.canned, sorted(canned_names))
                validator.problem(
                    ("rules", index, "actions", "canned"),
                    f"no canned reply is called '{rule.actions.canned}'{hint}",
                )
    if validator.problems:
        lines = _safe_locate(text)
        located = [
            ConfigProblem(source, _line_of(path, lines), format_key_path(path) or None, message)
            for path, message in validator.problems
        ]
        located.sort(key=lambda problem: (problem.line is None, problem.line or 0))
        raise ConfigError(located)
    assert settings is not None
    return settings


def _with_canned(settings: Settings, entries: list[Any], text: str, source: Path | None) -> Settings:
    """Settings with their canned replies: [[canned]] in the config, then the replies file."""
    if not entries and settings.replies.file is None:
        return settings
    from ecoinbox.replies import load_canned, load_canned_file  # replies imports this module

    # The loader needs the default language of a reply's text and the forum's address.
    options = {
        "default_language": settings.replies.default_language,
        "forum_url": settings.forum.url if settings.forum else None,
    }
    canned = list(load_canned(entries, source or Path("config.toml"), text, **options)) if entries else []
    if settings.replies.file is not None:
        canned.extend(load_canned_file(settings.replies.file, **options))
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
    return replace(settings, canned=tuple(canned))


_TOML_POSITION_RE: Final = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def _toml_syntax_problem(exc: tomllib.TOMLDecodeError, text: str, source: Path | None) -> ConfigProblem:
    message = str(exc)
    match = _TOML_POSITION_RE.search(message)
    line: int | None = None
    if match:
        message = message[: match.start()]
        if match.group(1):
            line = int(match.group(1))
            message += f" (column {match.group(2)})"
        else:
            line = text.count("\n") + 1 if text else 1
            message += " (at the end of the file)"
    if message.startswith("Cannot overwrite"):
        # tomllib often reports a duplicate key only at the end: the locator can say where it is.
        duplicate = _safe_first_duplicate(text)
        if duplicate is not None:
            dup_path, line = duplicate
            message = f"key '{format_key_path(dup_path)}' is set twice"
    return ConfigProblem(source, line, None, f"invalid TOML: {message}")


# --------------------------------------------------------------------------------------------
# Validation

_T = TypeVar("_T")
_MISSING: Final = object()


class _Invalid(Exception):
    """A value failed a check; `at` points below the key (a list item) when that is clearer."""

    def __init__(self, message: str, at: KeyPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def _describe(value: object) -> str:
    """A value's TOML type in words, never the value itself (it could be a secret)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}")
    return value


def _nonempty_string(value: object) -> str:
    text = _string(value).strip()
    if not text:
        raise _Invalid("must not be empty")
    return text


def _query(value: object) -> str:
    from ecoinbox.query import QueryError, parse_query

    text = _nonempty_string(value)
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise _Invalid(f"the search does not parse: {exc}") from None
    if query.empty:
        raise _Invalid("the search has no word and no filter; it would find nothing")
    return text


def _string_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of strings, got {_describe(value)}")
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _Invalid(f"expected a string, got {_describe(item)}", at=(index,))
        if not item.strip():
            raise _Invalid("must not be empty", at=(index,))
        items.append(item.strip())
    return tuple(items)


def _string_or_list(value: object) -> tuple[str, ...]:
    """One string or a list of them."""
    return _string_list([value] if isinstance(value, str) else value)


def _regex(value: object) -> str:
    text = _nonempty_string(value)
    try:
        re.compile(text)
    except re.error as exc:
        raise _Invalid(f"not a valid regular expression: {exc}") from None
    return text


DURATION_RE: Final = re.compile(r"(\d+)\s*(m|min|h|d|w)")
_DURATION_UNITS: Final = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as "30m", "4h", "2d", "1w" (validated by `_duration`)."""
    match = DURATION_RE.fullmatch(text.strip())
    assert match is not None
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _duration(value: object) -> str:
    text = _nonempty_string(value)
    match = DURATION_RE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise _Invalid('expected a duration such as "30m", "4h", "2d" or "1w"')
    return text


def _duration_or_never(value: object) -> float | None:
    """A duration ("30m", "4h", "2d", "1w") or "never"."""
    if value == "never":
        return None
    try:
        return float(duration_seconds(_duration(value)))
    except _Invalid:
        raise _Invalid(
            f'expected a duration such as "7d" or "4w", or "never", got {_describe(value)}'
        ) from None


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_describe(value)}")
    return value


def _integer(low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"expected an integer, got {_describe(value)}")
        if not low <= value <= high:
            raise _Invalid(f"must be between {low} and {high}")
        return value

    return check


def _seconds(value: object) -> float:
    """A finite, positive number of seconds (int or float; a boolean is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"expected a number of seconds, got {_describe(value)}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise _Invalid("must be a positive number of seconds")
    return seconds


SEND_DELAY_MAX = 300


def _send_delay(value: object) -> float:
    """Seconds a reply is held before it goes out: 0 (at once) to SEND_DELAY_MAX."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"expected a number of seconds, got {_describe(value)}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= SEND_DELAY_MAX:
        raise _Invalid(f"must be between 0 and {SEND_DELAY_MAX} seconds")
    return seconds


_WAITING_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_WAITING_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _waiting_duration(value: object) -> float:
    """A positive duration: "90m", "1h", "2d", or a number of seconds."""
    if isinstance(value, str):
        match = _WAITING_RE.match(value.lower())
        if match is None:
            raise _Invalid(f'expected a duration like "30m", "1h" or "2d", got {_describe(value)}')
        value = float(match[1]) * _WAITING_UNITS[match[2]]
    return _seconds(value)


def _choice(options: tuple[str, ...] | frozenset[str], what: str) -> Callable[[object], str]:
    allowed = sorted(options) if isinstance(options, frozenset) else list(options)

    def check(value: object) -> str:
        text = _string(value)
        if text not in options:
            shown = repr(text[:40])
            hint = _did_you_mean(text, allowed)
            raise _Invalid(f"unknown {what} {shown}{hint} (allowed: {', '.join(allowed)})")
        return text

    return check


def _did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(value: object) -> str:
    text = _nonempty_string(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _Invalid("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _Invalid('expected an http(s) URL such as "https://social.example"')
    if parts.username is not None or parts.password is not None:
        raise _Invalid(
            "credentials do not belong in the URL (tokens are read from the keyring, token_cmd or token_env)"
        )
    if parts.query or parts.fragment:
        raise _Invalid("a base URL has no query (?...) or fragment (#...)")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise _Invalid(
            "plain http to a remote host is refused: the token would cross the network "
            "unencrypted. Use https:// (http is allowed only for 127.0.0.1, ::1 and localhost)"
        )
    return text.rstrip("/")


def _feed_urls(value: object) -> tuple[str, ...]:
    urls = _string_list(value)
    for index, url in enumerate(urls):
        if url.startswith("/") and not url.startswith("//"):
            continue  # a path on base_url, which is checked itself
        try:
            _base_url(url.split("?", 1)[0].split("#", 1)[0])
        except _Invalid as exc:
            raise _Invalid(
                f'{exc.message} (a feed is an http(s) URL or a path such as "/comments/feed/")', at=(index,)
            ) from None
    return urls


def _redirect_uri(value: object) -> str:
    text = _nonempty_string(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _Invalid("not a valid URL") from None
    if parts.scheme != "http" or not is_loopback_host(parts.hostname) or port is None:
        raise _Invalid(
            'expected a loopback address with a port, e.g. "http://localhost:8080" (the browser '
            "comes back there, to ecoinbox on this machine); register the same one with your app"
        )
    if parts.query or parts.fragment:
        raise _Invalid("a redirect URI has no query (?...) or fragment (#...)")
    return text


def _subreddits(value: object) -> tuple[str, ...]:
    names = []
    for index, item in enumerate(_string_list(value)):
        name = item.removeprefix("/").removeprefix("r/").strip("/")
        if not re.fullmatch(r"[A-Za-z0-9_]{2,21}", name):
            raise _Invalid('a subreddit name such as "gadgets" (letters, digits, "_")', at=(index,))
        names.append(name)
    return tuple(names)


MAIL_SCHEMES: Final = {"imap": ("imaps", "imap"), "smtp": ("smtps", "smtp")}


def _mail_url(protocol: str) -> Callable[[object], str]:
    """An IMAP or SMTP server address: imaps://host[:port] (TLS) or imap://host[:port]
    (STARTTLS, required but on loopback); the same with smtps/smtp."""
    secure, starttls = MAIL_SCHEMES[protocol]

    def check(value: object) -> str:
        text = _nonempty_string(value)
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise _Invalid("not a valid server address") from None
        if parts.scheme not in (secure, starttls) or not parts.hostname:
            raise _Invalid(
                f'expected "{secure}://host" (TLS) or "{starttls}://host" (STARTTLS), '
                f'e.g. "{secure}://{protocol}.example.com"'
            )
        if parts.username is not None or parts.password is not None:
            raise _Invalid("credentials do not belong in the address (the password is read like a token)")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise _Invalid("a server address has no path, query or fragment")
        return text.rstrip("/")

    return check


def _from_address(value: object) -> str:
    from email.utils import parseaddr

    text = _nonempty_string(value)
    if "\n" in text or "\r" in text or "@" not in parseaddr(text)[1]:
        raise _Invalid('expected an address such as "Acme Support <support@acme.example>"')
    return text


def _argv(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise _Invalid(
            "expected a list: the command and its arguments, run without a shell, "
            'e.g. ["pass", "show", "ecoinbox/mastodon"]'
        )
    argv = _string_list(value)
    if not argv:
        raise _Invalid("must name a command")
    return argv


def _env_name(value: object) -> str:
    name = _nonempty_string(value)
    if not _ENV_NAME_RE.fullmatch(name):
        raise _Invalid("not a valid environment variable name (letters, digits and '_')")
    return name


def _hashtags(value: object) -> tuple[str, ...]:
    tags = []
    for index, tag in enumerate(_string_list(value)):
        tag = tag.removeprefix("#")
        if not tag or any(char.isspace() or char == "#" for char in tag):
            raise _Invalid("a hashtag is one word, written without '#'", at=(index,))
        tags.append(tag)
    return tuple(tags)


def _keymap(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise _Invalid(f'expected a table of binding id = "keys", got {_describe(value)}')
    keymap: dict[str, str] = {}
    for binding_id, keys in value.items():
        if not isinstance(keys, str):
            message = f'expected a string of keys such as "r,ctrl+r", got {_describe(keys)}'
            raise _Invalid(message, at=(binding_id,))
        if not keys.strip():
            raise _Invalid('must not be empty (give at least one key, e.g. "r")', at=(binding_id,))
        keymap[binding_id] = keys.strip()
    return MappingProxyType(keymap)


def _is_secret_key(key: str) -> bool:
    name = key.strip().lower().replace("-", "_")
    return name in _SECRET_KEY_NAMES or name.endswith(_SECRET_KEY_SUFFIXES)


def _find_secret_keys(document: dict[str, Any]) -> Iterator[KeyPath]:
    """Every key, at any depth (tables, lists of tables, inline tables), that looks like a secret."""
    stack: list[tuple[KeyPath, object]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if _is_secret_key(key):
                    yield (*path, key)
                else:
                    stack.append(((*path, key), value))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in enumerate(node))


def _without(document: dict[str, Any], paths: list[KeyPath]) -> dict[str, Any]:
    """A copy of `document` without the keys at `paths` (containers copied only along them)."""
    root: dict[str, Any] = dict(document)
    for path in paths:
        node: Any = root
        for part in path[:-1]:
            child = node[part]
            child = dict(child) if isinstance(child, dict) else list(child)
            node[part] = child
            node = child
        del node[path[-1]]
    return root


# Which section each setting belongs to, to point a misplaced key at its section.
_SECTIONS: Final[dict[str, type]] = {
    "brand": BrandSettings,
    "ui": UiSettings,
    "store": StoreSettings,
    "engine": EngineSettings,
    "channels": ChannelSettings,
    "views": ViewSettings,
    "team": TeamSettings,
}


def _section_header(section: str) -> str:
    return f"[[{section}]]" if section in ("channels", "views") else f"[{section}]"


def _home_of(key: str, here: str) -> str | None:
    for section, cls in _SECTIONS.items():
        if section != here and key in {f.name for f in fields(cls)}:
            return section
    return None


class _Table:
    """Reads one TOML table: each `get` checks one key; `finish` reports the keys nobody read."""

    def __init__(self, validator: _Validator, data: dict[str, Any], path: KeyPath, section: str) -> None:
        self.validator = validator
        self.data = data
        self.path = path
        self.section = section
        self.known: list[str] = []

    def get(self, key: str, check: Callable[[object], _T], default: Any = _MISSING) -> Any:
        """The checked value, or `default` when absent or invalid (the problem is recorded).
        Without a default the key is required."""
        self.known.append(key)
        if key not in self.data:
            if default is _MISSING:
                self.validator.problem((*self.path, key), "missing (required)")
            return None if default is _MISSING else default
        try:
            return check(self.data[key])
        except _Invalid as exc:
            self.validator.problem((*self.path, key, *exc.at), exc.message)
            return None if default is _MISSING else default

    def problem(self, key: str, message: str) -> None:
        self.validator.problem((*self.path, key), message)

    def finish(self) -> None:
        for key, value in self.data.items():
            if key in self.known:
                continue
            what = "unknown table" if isinstance(value, dict) else "unknown setting"
            if self.path and key in _SECTIONS:
                hint = (
                    f" ({key} is a top-level setting: every key after a [table] header belongs "
                    "to that table, so move it above the first header)"
                )
            elif home := _home_of(key, self.section):
                hint = f" ({key} belongs in {_section_header(home)})"
            elif _TLS_KEY_RE.search(key):
                hint = _TLS_HINT
            elif "proxy" in key.lower():
                hint = _PROXY_HINT
            else:
                hint = _did_you_mean(key, self.known)
            self.validator.problem((*self.path, key), f"{what}{hint}")


class _Validator:
    def __init__(self, source: Path | None) -> None:
        self.source = source
        self.problems: list[tuple[KeyPath, str]] = []
        self.canned_entries: list[Any] = []  # raw [[canned]] tables, loaded by ecoinbox.replies

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append((path, message))

    def settings(self, document: dict[str, Any]) -> Settings | None:
        secret_paths = list(_find_secret_keys(document))
        for path in secret_paths:
            self.problem(path, _token_refusal(document, path))
        document = _without(document, secret_paths)

        top = _Table(self, document, (), "")
        brand = self.section(top, "brand", self.brand)
        ui = self.section(top, "ui", self.ui)
        store = self.section(top, "store", self.store)
        engine = self.section(top, "engine", self.engine)
        channels = self.channels(top)
        replies = self.section(top, "replies", self.replies)
        forum = (
            self.section(top, "forum", lambda table: self.forum(table, channels))
            if "forum" in document
            else None
        )
        views = self.views(top)
        team = self.section(top, "team", self.team)
        rules = self.rules(top, channels)
        top.known.append("canned")
        canned_entries = top.data.get("canned", [])
        if not isinstance(canned_entries, list):
            self.problem(
                ("canned",),
                f"expected a list of [[canned]] tables, got {_describe(canned_entries)}",
            )
            canned_entries = []
        top.finish()
        if self.problems or brand is None:
            return None
        self.canned_entries = canned_entries
        return Settings(
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
            source=self.source,
        )

    def section(self, top: _Table, name: str, read: Callable[[_Table], _T | None]) -> _T | None:
        top.known.append(name)
        value = top.data.get(name, {})
        if not isinstance(value, dict):
            self.problem((name,), f"expected a table ({_section_header(name)}), got {_describe(value)}")
            return None
        return read(_Table(self, value, (name,), name))

    def brand(self, table: _Table) -> BrandSettings | None:
        name = table.get("name", _nonempty_string)
        handles = table.get("handles", _string_list, ())
        keywords = table.get("keywords", _string_list, ())
        table.finish()
        return BrandSettings(name, handles, keywords) if name is not None else None

    def ui(self, table: _Table) -> UiSettings:
        settings = UiSettings(
            layout=table.get("layout", _choice(LAYOUTS, "layout"), "auto"),
            theme=table.get("theme", _nonempty_string, "textual-dark"),
            animation=table.get("animation", _boolean, False),
            snippet_length=table.get("snippet_length", _integer(20, 1000), 120),
            relative_times=table.get("relative_times", _boolean, True),
            list_scroll=table.get("list_scroll", _choice(LIST_SCROLLS, "list_scroll"), "half"),
            keys=table.get("keys", _keymap, MappingProxyType({})),
            notify=table.get("notify", _choice(NOTIFY_MODES, "notify mode"), "off"),
            waiting_warn=table.get("waiting_warn", _waiting_duration, 3600.0),
            waiting_alert=table.get("waiting_alert", _waiting_duration, 14400.0),
            send_delay=table.get("send_delay", _send_delay, 10.0),
        )
        if settings.waiting_alert < settings.waiting_warn:
            table.problem("waiting_alert", "must not be shorter than waiting_warn")
        for binding_id, message in keymap_problems(settings.keys).items():
            self.problem((*table.path, "keys", binding_id), message)
        table.finish()
        return settings

    def team(self, table: _Table) -> TeamSettings:
        me = " ".join(table.get("me", _nonempty_string, "manager").split())
        members = tuple(dict.fromkeys(" ".join(m.split()) for m in table.get("members", _string_list, ())))
        table.finish()
        if any(not member for member in members):
            table.problem("members", "a member's name is empty")
        return TeamSettings(me=me, members=tuple(m for m in members if m and m != me))

    def store(self, table: _Table) -> StoreSettings:
        text = table.get("path", _string, "").strip()
        purge = table.get("purge_deleted_after", _duration_or_never, 30 * 86400.0)
        table.finish()
        return StoreSettings(path=self.relative_path(text) if text else None, purge_deleted_after=purge)

    def replies(self, table: _Table) -> RepliesSettings:
        file = table.get("file", _string, "").strip()
        settings = RepliesSettings(
            file=self.relative_path(file) if file else None,
            agent=table.get("agent", _string, ""),
            default_language=table.get("default_language", _nonempty_string, "en"),
        )
        table.finish()
        return settings

    def forum(self, table: _Table, channels: tuple[ChannelSettings, ...]) -> ForumSettings | None:
        name = table.get("channel", _nonempty_string)
        url = table.get("url", _base_url, None)
        category = table.get("category", _nonempty_string, "support")
        table.finish()
        if name is None:
            return None
        target = next((c for c in channels if c.name == name), None)
        if target is None or target.kind != "discourse":
            forums = [c.name for c in channels if c.kind == "discourse"]
            table.problem(
                "channel",
                f"'{name}' is not a discourse channel of this config"
                + (f" (discourse channels: {', '.join(forums)})" if forums else " (add one in [[channels]])"),
            )
            return None
        return ForumSettings(channel=name, url=url or target.base_url, category=category)

    def relative_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        if not path.is_absolute():
            base = self.source.parent if self.source is not None else Path.cwd()
            path = base / path
        return path

    def engine(self, table: _Table) -> EngineSettings:
        settings = EngineSettings(outbox_retry_max=table.get("outbox_retry_max", _seconds, 600.0))
        table.finish()
        return settings

    def channels(self, top: _Table) -> tuple[ChannelSettings, ...]:
        top.known.append("channels")
        entries = top.data.get("channels", [])
        if not isinstance(entries, list):
            self.problem(("channels",), f"expected a list of [[channels]] tables, got {_describe(entries)}")
            return ()
        channels: list[ChannelSettings] = []
        first_index: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.problem(("channels", index), f"expected a [[channels]] table, got {_describe(entry)}")
                continue
            channel = self.channel(_Table(self, entry, ("channels", index), "channels"))
            name = entry.get("name")
            if isinstance(name, str) and CHANNEL_NAME_RE.fullmatch(name):
                if name in first_index:
                    self.problem(
                        ("channels", index, "name"),
                        f"duplicate channel name '{name}' (also channels[{first_index[name]}]); "
                        "names must be unique",
                    )
                else:
                    first_index[name] = index
            if channel is not None:
                channels.append(channel)
        return tuple(channels)

    def views(self, top: _Table) -> tuple[ViewSettings, ...]:
        top.known.append("views")
        entries = top.data.get("views", [])
        if not isinstance(entries, list):
            self.problem(("views",), f"expected a list of [[views]] tables, got {_describe(entries)}")
            return ()
        views: list[ViewSettings] = []
        first_index: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.problem(("views", index), f"expected a [[views]] table, got {_describe(entry)}")
                continue
            table = _Table(self, entry, ("views", index), "views")
            name = table.get("name", _nonempty_string)
            query = table.get("query", _query)
            table.finish()
            if name is None or query is None:
                continue
            name = " ".join(name.split())
            folded = name.casefold()
            if folded in RESERVED_VIEW_NAMES:
                table.problem("name", f"'{name}' is a built-in view; give the saved search another name")
            elif folded in first_index:
                table.problem("name", f"duplicate view name '{name}' (also views[{first_index[folded]}])")
            else:
                first_index[folded] = index
                views.append(ViewSettings(name, query))
        return tuple(views)

    def rules(self, top: _Table, channels: tuple[ChannelSettings, ...]) -> tuple[RuleSettings, ...]:
        top.known.append("rules")
        entries = top.data.get("rules", [])
        if not isinstance(entries, list):
            self.problem(("rules",), f"expected a list of [[rules]] tables, got {_describe(entries)}")
            return ()
        rules: list[RuleSettings] = []
        first_index: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.problem(("rules", index), f"expected a [[rules]] table, got {_describe(entry)}")
                continue
            table = _Table(self, entry, ("rules", index), "rules")
            name = table.get("name", _nonempty_string)
            match = self.rule_part(table, "match", lambda t: self.rule_match(t, channels))
            actions = self.rule_part(table, "actions", self.rule_actions)
            table.finish()
            if name is not None and name in first_index:
                table.problem("name", f"duplicate rule name '{name}' (also rules[{first_index[name]}])")
                continue
            if name is not None:
                first_index[name] = index
            if name is not None and match is not None and actions is not None:
                rules.append(RuleSettings(name, match, actions))
        return tuple(rules)

    def rule_part(self, table: _Table, key: str, read: Callable[[_Table], _T | None]) -> _T | None:
        table.known.append(key)
        value = table.data.get(key)
        if value is None:
            table.problem(key, f"missing (required): a [rules.{key}] table")
            return None
        if not isinstance(value, dict):
            table.problem(key, f"expected a table ([rules.{key}]), got {_describe(value)}")
            return None
        part = read(_Table(self, value, (*table.path, key), f"rules.{key}"))
        if part is not None and part == type(part)():
            table.problem(
                key, f"is empty: a rule needs at least one {'condition' if key == 'match' else 'action'}"
            )
            return None
        return part

    def rule_match(self, table: _Table, channels: tuple[ChannelSettings, ...]) -> RuleMatch:
        names = [c.name for c in channels]
        match = RuleMatch(
            channel=table.get("channel", _string_or_list, ()),
            words=table.get("words", _string_or_list, ()),
            regex=table.get("regex", _regex, None),
            language=table.get("language", _string_or_list, ()),
            author=table.get("author", _string_or_list, ()),
            has_link=table.get("has_link", _boolean, None),
            kind=table.get("kind", _choice(("reply", "mention"), "kind"), None),
            min_followers=table.get("min_followers", _integer(0, 10**12), None),
        )
        for index, channel in enumerate(match.channel):
            if channel not in names:
                hint = _did_you_mean(channel, names) or f" (channels: {', '.join(names) or 'none'})"
                where = ("channel", index) if isinstance(table.data.get("channel"), list) else ("channel",)
                self.problem((*table.path, *where), f"'{channel}' is not a channel of this config{hint}")
        table.finish()
        return match

    def rule_actions(self, table: _Table) -> RuleActions:
        actions = RuleActions(
            tag=table.get("tag", _string_or_list, ()),
            priority=table.get("priority", _choice(tuple(RULE_PRIORITIES), "priority"), None),
            assign=table.get("assign", _nonempty_string, None),
            snooze=table.get("snooze", _duration, None),
            spam=table.get("spam", _boolean, False),
            done=table.get("done", _boolean, False),
            canned=table.get("canned", _nonempty_string, None),
        )
        if actions.spam and actions.done:
            table.problem("done", "a rule cannot both mark spam and mark done: choose one")
        table.finish()
        return actions

    def channel(self, table: _Table) -> ChannelSettings | None:
        kind = table.get("kind", _choice(KINDS, "channel kind"))
        name = table.get("name", self.channel_name)
        base_url = table.get(
            "base_url",
            _mail_url("imap") if kind == "email" else _base_url,
            REDDIT_API_URL if kind == "reddit" else _MISSING,
        )
        loopback = base_url is not None and is_loopback_host(urlsplit(base_url).hostname)
        account = table.get("account", _nonempty_string, None)
        hashtags = table.get("hashtags", _hashtags, ())
        search = table.get("search", _string_list, ())
        poll_interval = table.get("poll_interval", _seconds, 60.0)
        floor = 1.0 if loopback else 5.0
        if poll_interval < floor:
            hint = "" if loopback else " (1 is allowed only for a loopback server, e.g. the demo)"
            table.problem("poll_interval", f"must be at least {floor:g} seconds{hint}")
        include_filtered = table.get("include_filtered", _boolean, True)
        timeout = table.get("timeout", _seconds, 20.0)
        backfill = table.get("backfill", _waiting_duration, None)
        if backfill is not None and kind not in (None, "mastodon"):
            table.problem("backfill", 'only mastodon channels have this setting (kind = "mastodon")')
        stream = table.get("stream", _boolean, None)
        if stream is not None and kind not in (None, "mastodon", "discourse"):
            table.problem("stream", "only mastodon and discourse channels stream; the others poll")
        token_cmd = table.get("token_cmd", _argv, None)
        token_env = table.get("token_env", _env_name, None)
        keyring = table.get("keyring", _boolean, True)
        auth = table.get("auth", _nonempty_string, None)
        categories = table.get("categories", _string_list, ())
        feeds = table.get("feeds", _feed_urls, ())
        reddit = self.reddit(table, kind, account)
        mail = {
            "smtp_url": table.get("smtp_url", _mail_url("smtp"), None),
            "from_address": table.get("from_address", _from_address, None),
            "folders": table.get("folders", _string_list, None),
            "sent_folder": table.get("sent_folder", _nonempty_string, None),
            "append_sent": table.get("append_sent", _boolean, None),
        }
        table.finish()
        if kind is not None and kind != "email":
            for key in (key for key, value in mail.items() if value is not None):
                table.problem(key, 'only email channels have this setting (kind = "email")')
        if kind == "email" and not account:
            table.problem("account", "missing: the mailbox's login (e.g. support@acme.example)")
        if kind == "email" and mail["smtp_url"] and not (mail["from_address"] or "@" in (account or "")):
            table.problem("from_address", "missing: replies need a From address (account is not one)")
        if kind is None or name is None or base_url is None:
            return None
        modes = AUTH_MODES.get(kind, ())
        if auth is not None and auth not in modes:
            table.problem("auth", f"'{auth}' is not an auth mode of {kind} (allowed: {', '.join(modes)})")
        auth = auth or (modes[0] if modes else None)
        if kind == "discourse" and auth == "api_key" and not account:
            table.problem("account", 'missing (required with auth = "api_key": it is sent as Api-Username)')
        if kind == "wordpress" and not account:
            table.problem(
                "account", "missing (required: the WordPress login the application password belongs to)"
            )
        if kind == "feed" and auth == "basic" and not account:
            table.problem("account", 'missing (required with auth = "basic": the feed\'s user name)')
        if feeds and kind != "feed":
            table.problem("feeds", f"only feed channels read feeds, not {kind}")
        if kind == "bluesky" and not (account or "").lstrip("@"):
            table.problem("account", 'missing (Bluesky signs in with the handle, e.g. "acme.bsky.social")')
        return ChannelSettings(
            kind=kind,
            name=name,
            base_url=base_url,
            account=account,
            hashtags=hashtags,
            search=search,
            poll_interval=poll_interval,
            include_filtered=include_filtered,
            timeout=timeout,
            backfill=14 * 86400.0 if backfill is None else backfill,
            stream=True if stream is None else stream,
            token_cmd=token_cmd,
            token_env=token_env,
            keyring=keyring,
            auth=auth,
            categories=categories,
            feeds=feeds,
            **reddit,
            smtp_url=mail["smtp_url"],
            from_address=mail["from_address"],
            folders=mail["folders"] or ("INBOX",),
            sent_folder=mail["sent_folder"],
            append_sent=True if mail["append_sent"] is None else mail["append_sent"],
        )

    def reddit(self, table: _Table, kind: str | None, account: str | None) -> dict[str, Any]:
        """The Reddit-only settings: required or defaulted for reddit, refused elsewhere."""
        values = {
            "client_id": table.get("client_id", _nonempty_string, None),
            "auth_url": table.get("auth_url", _base_url, None),
            "redirect_uri": table.get("redirect_uri", _redirect_uri, None),
            "subreddits": table.get("subreddits", _subreddits, ()),
        }
        if kind != "reddit":
            for key, value in values.items():
                if value and kind is not None:
                    table.problem(key, f"only reddit channels use {key} (this one is {kind})")
            return {key: None if key != "subreddits" else () for key in values}
        if values["client_id"] is None and "client_id" not in table.data:
            table.problem("client_id", "missing (required for reddit: your installed app's id)")
        if account is None and "account" not in table.data:
            table.problem(
                "account", "missing (required for reddit: the brand's username, for the User-Agent)"
            )
        values["auth_url"] = values["auth_url"] or REDDIT_AUTH_URL
        values["redirect_uri"] = values["redirect_uri"] or REDDIT_REDIRECT_URI
        return values

    @staticmethod
    def channel_name(value: object) -> str:
        name = _string(value)
        if not CHANNEL_NAME_RE.fullmatch(name):
            shown = repr(name[:64])
            raise _Invalid(
                f"{shown} is not a valid channel name: use 1 to 64 lowercase letters, digits, '_' or '-'"
            )
        return name


def _token_refusal(document: dict[str, Any], path: KeyPath) -> str:
    name = "NAME"
    if len(path) >= 2 and path[0] == "channels" and isinstance(path[1], int):
        entries = document.get("channels")
        entry = entries[path[1]] if isinstance(entries, list) else None
        candidate = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(candidate, str) and CHANNEL_NAME_RE.fullmatch(candidate):
            name = candidate
    env = "ECOINBOX_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_TOKEN"
    return (
        "tokens do not belong in the config file (it is often readable by others and copied "
        f"around). Store it with `ecoinbox auth {name}`, or set "
        f'token_cmd = ["pass", "show", "ecoinbox/{name}"] or token_env = "{env}"'
    )


# --------------------------------------------------------------------------------------------
# Line numbers: tomllib gives none for keys, so scan the text for headers and `key =` lines.


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    """The line of `path`, or of its nearest ancestor we could locate."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _safe_locate(text: str) -> dict[KeyPath, int]:
    try:
        return locate_keys(text)
    except Exception:  # noqa: BLE001 - line numbers are a courtesy; never hide the real problems
        return {}


def _safe_first_duplicate(text: str) -> tuple[KeyPath, int] | None:
    try:
        scanner = _KeyScanner(text)
        scanner.scan()
        return scanner.duplicates[0] if scanner.duplicates else None
    except Exception:  # noqa: BLE001 - see _safe_locate
        return None


def locate_keys(text: str) -> dict[KeyPath, int]:
    """Map each key path defined in TOML `text` to its 1-based line.

    Tables (`[a.b]`), arrays of tables (`[[channels]]`, counted: ("channels", 1)), bare, quoted
    and dotted keys are understood; multi-line strings and arrays are skipped over. Keys inside
    inline tables are not located (their parent key is).
    """
    scanner = _KeyScanner(text)
    scanner.scan()
    return scanner.lines


class _KeyScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[KeyPath, int] = {}
        self.duplicates: list[tuple[KeyPath, int]] = []
        self.table: KeyPath = ()
        self.array_counts: dict[KeyPath, int] = {}  # resolved array-of-tables path -> last index
        self.open_string: str | None = None  # '"""' or "'''" while inside a multi-line string
        self.depth = 0  # open [ and { of a value spanning lines

    def scan(self) -> None:
        for number, line in enumerate(self.text.splitlines(), start=1):
            if self.open_string is not None or self.depth > 0:
                self.skip_value(line, 0)
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("[["):
                self.header(stripped, 2, number, array=True)
            elif stripped.startswith("["):
                self.header(stripped, 1, number, array=False)
            else:
                self.key_line(line, number)

    def record(self, path: KeyPath, number: int) -> None:
        if path in self.lines:
            self.duplicates.append((path, number))
        else:
            self.lines[path] = number

    def resolve(self, parts: list[str]) -> KeyPath:
        """Insert the current index after every prefix that is an array of tables."""
        resolved: KeyPath = ()
        for part in parts:
            resolved = (*resolved, part)
            if resolved in self.array_counts:
                resolved = (*resolved, self.array_counts[resolved])
        return resolved

    def header(self, line: str, start: int, number: int, *, array: bool) -> None:
        parts, _ = self.key_parts(line, start)
        if not parts:
            return
        if array:
            parent = self.resolve(parts[:-1])
            path = (*parent, parts[-1])
            index = self.array_counts.get(path, -1) + 1
            self.array_counts[path] = index
            self.lines.setdefault(path, number)
            self.table = (*path, index)
            self.record(self.table, number)
        else:
            self.table = self.resolve(parts)
            self.record(self.table, number)

    def key_line(self, line: str, number: int) -> None:
        parts, end = self.key_parts(line, 0)
        rest = line[end:].lstrip()
        if not parts or not rest.startswith("="):
            return
        for depth in range(1, len(parts)):  # dotted keys define their parent tables too
            self.lines.setdefault((*self.table, *parts[:depth]), number)
        self.record((*self.table, *parts), number)
        self.skip_value(line, end + (len(line[end:]) - len(rest)) + 1)

    @staticmethod
    def key_parts(line: str, position: int) -> tuple[list[str], int]:
        """Parse `a."b.c".'d'` from `position`; returns the parts and where parsing stopped."""
        parts: list[str] = []
        length = len(line)
        while True:
            while position < length and line[position] in " \t":
                position += 1
            if position >= length:
                return parts, position
            char = line[position]
            if char == '"':
                end = position + 1
                while end < length and line[end] != '"':
                    end += 2 if line[end] == "\\" else 1
                raw = line[position : end + 1]
                try:
                    parts.append(json.loads(raw))
                except ValueError:
                    parts.append(raw[1:-1])
                position = end + 1
            elif char == "'":
                end = line.find("'", position + 1)
                end = length if end < 0 else end
                parts.append(line[position + 1 : end])
                position = end + 1
            else:
                match = _BARE_KEY_RE.match(line, position)
                if not match:
                    return parts, position
                parts.append(match.group())
                position = match.end()
            while position < length and line[position] in " \t":
                position += 1
            if position < length and line[position] == ".":
                position += 1
                continue
            return parts, position

    def skip_value(self, line: str, position: int) -> None:
        """Follow strings, brackets and comments so a value spanning lines is not read as keys."""
        length = len(line)
        while position < length:
            if self.open_string is not None:
                end = line.find(self.open_string, position)
                if end < 0:
                    return
                while self.open_string == '"""' and end > 0 and _escaped(line, end):
                    end = line.find(self.open_string, end + 1)
                    if end < 0:
                        return
                position = end + 3
                # A closing delimiter may be followed by up to two more quotes of content.
                while position < length and line[position] == self.open_string[0]:
                    position += 1
                self.open_string = None
                continue
            char = line[position]
            if line.startswith('"""', position) or line.startswith("'''", position):
                self.open_string = line[position : position + 3]
                position += 3
            elif char == '"':
                position += 1
                while position < length and line[position] != '"':
                    position += 2 if line[position] == "\\" else 1
                position += 1
            elif char == "'":
                end = line.find("'", position + 1)
                position = length if end < 0 else end + 1
            elif char == "#":
                return
            elif char in "[{":
                self.depth += 1
                position += 1
            elif char in "]}":
                self.depth = max(0, self.depth - 1)
                position += 1
            else:
                position += 1


def _escaped(line: str, index: int) -> bool:
    """True when the character at `index` is preceded by an odd number of backslashes."""
    count = 0
    while index > 0 and line[index - 1] == "\\":
        count += 1
        index -= 1
    return count % 2 == 1
