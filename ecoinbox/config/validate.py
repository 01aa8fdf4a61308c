"""Public tools to validate a TOML table, shared by the config's sections, the channel units and
the canned replies: `Table.get(key, check, default)` reads one key through a check that raises
`Invalid`; every problem is collected by `Problems`, so one run reports them all.

A check never repeats the value it refuses (it could be a secret): it names its TOML type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ecoinbox.config.errors import KeyPath

__all__ = [
    "DURATION_RE",
    "MISSING",
    "Invalid",
    "Problems",
    "Table",
    "argv",
    "base_url",
    "boolean",
    "choice",
    "describe",
    "did_you_mean",
    "duration",
    "duration_or_never",
    "duration_seconds",
    "env_name",
    "hashtags",
    "integer",
    "is_loopback_host",
    "nonempty_string",
    "regex",
    "seconds",
    "string",
    "string_list",
    "string_or_list",
    "waiting_duration",
]

T = TypeVar("T")
MISSING: Final = object()
"""`Table.get`'s default when the key is required."""

_ENV_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# There is no setting to turn TLS verification off, nor to set proxies: the environment does it.
_TLS_KEY_RE: Final = re.compile(r"(?i)verif|insecure|ssl|tls|cert|ca_?bundle|ca_?file")
_TLS_HINT: Final = (
    " (TLS certificates are always verified: to trust a private CA or a proxy that re-signs TLS, "
    "export SSL_CERT_FILE=/path/to/ca.pem)"
)
_PROXY_HINT: Final = " (proxies come from the environment: HTTPS_PROXY, HTTP_PROXY and NO_PROXY)"


class Invalid(Exception):
    """A value failed a check; `at` points below the key (a list item) when that is clearer."""

    def __init__(self, message: str, at: KeyPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def describe(value: object) -> str:
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


def string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {describe(value)}")
    return value


def nonempty_string(value: object) -> str:
    text = string(value).strip()
    if not text:
        raise Invalid("must not be empty")
    return text


def string_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise Invalid(f"expected a list of strings, got {describe(value)}")
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"expected a string, got {describe(item)}", at=(index,))
        if not item.strip():
            raise Invalid("must not be empty", at=(index,))
        items.append(item.strip())
    return tuple(items)


def string_or_list(value: object) -> tuple[str, ...]:
    """One string or a list of them."""
    return string_list([value] if isinstance(value, str) else value)


def regex(value: object) -> str:
    text = nonempty_string(value)
    try:
        re.compile(text)
    except re.error as exc:
        raise Invalid(f"not a valid regular expression: {exc}") from None
    return text


DURATION_RE: Final = re.compile(r"(\d+)\s*(m|min|h|d|w)")
_DURATION_UNITS: Final = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as "30m", "4h", "2d", "1w" (validated by `duration`)."""
    match = DURATION_RE.fullmatch(text.strip())
    assert match is not None
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


def duration(value: object) -> str:
    text = nonempty_string(value)
    match = DURATION_RE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise Invalid('expected a duration such as "30m", "4h", "2d" or "1w"')
    return text


def duration_or_never(value: object) -> float | None:
    """A duration ("30m", "4h", "2d", "1w") or "never"."""
    if value == "never":
        return None
    try:
        return float(duration_seconds(duration(value)))
    except Invalid:
        raise Invalid(
            f'expected a duration such as "7d" or "4w", or "never", got {describe(value)}'
        ) from None


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(value)}")
    return value


def integer(low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {describe(value)}")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}")
        return value

    return check


def seconds(value: object) -> float:
    """A finite, positive number of seconds (int or float; a boolean is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"expected a number of seconds, got {describe(value)}")
    amount = float(value)
    if not math.isfinite(amount) or amount <= 0:
        raise Invalid("must be a positive number of seconds")
    return amount


_WAITING_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_WAITING_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def waiting_duration(value: object) -> float:
    """A positive duration: "90m", "1h", "2d", or a number of seconds."""
    if isinstance(value, str):
        match = _WAITING_RE.match(value.lower())
        if match is None:
            raise Invalid(f'expected a duration like "30m", "1h" or "2d", got {describe(value)}')
        value = float(match[1]) * _WAITING_UNITS[match[2]]
    return seconds(value)


def choice(options: tuple[str, ...] | frozenset[str], what: str) -> Callable[[object], str]:
    allowed = sorted(options) if isinstance(options, frozenset) else list(options)

    def check(value: object) -> str:
        text = string(value)
        if text not in options:
            shown = repr(text[:40])
            hint = did_you_mean(text, allowed)
            raise Invalid(f"unknown {what} {shown}{hint} (allowed: {', '.join(allowed)})")
        return text

    return check


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    import difflib  # 1-2 ms: only when there is a problem to explain

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    import ipaddress  # 1-2 ms: only for a host to check

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(value: object) -> str:
    text = nonempty_string(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Invalid("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid('expected an http(s) URL such as "https://social.example"')
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            "credentials do not belong in the URL (tokens are read from the keyring, token_cmd or token_env)"
        )
    if parts.query or parts.fragment:
        raise Invalid("a base URL has no query (?...) or fragment (#...)")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise Invalid(
            "plain http to a remote host is refused: the token would cross the network "
            "unencrypted. Use https:// (http is allowed only for 127.0.0.1, ::1 and localhost)"
        )
    return text.rstrip("/")


def argv(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise Invalid(
            "expected a list: the command and its arguments, run without a shell, "
            'e.g. ["pass", "show", "ecoinbox/mastodon"]'
        )
    argv = string_list(value)
    if not argv:
        raise Invalid("must name a command")
    return argv


def env_name(value: object) -> str:
    name = nonempty_string(value)
    if not _ENV_NAME_RE.fullmatch(name):
        raise Invalid("not a valid environment variable name (letters, digits and '_')")
    return name


def hashtags(value: object) -> tuple[str, ...]:
    tags = []
    for index, tag in enumerate(string_list(value)):
        tag = tag.removeprefix("#")
        if not tag or any(char.isspace() or char == "#" for char in tag):
            raise Invalid("a hashtag is one word, written without '#'", at=(index,))
        tags.append(tag)
    return tuple(tags)


class Problems:
    """Collects every problem of one file as (key path, message); `source` names the file.

    `home_of` and `top_level` let `Table.finish` point a misplaced key at its section; this base
    knows no sections (the config's reader does: `ecoinbox.config.sections.ConfigProblems`)."""

    top_level: frozenset[str] = frozenset()
    """Keys that are sections of the top level (a key of one found in a table was misplaced)."""

    def __init__(self, source: Path | None) -> None:
        self.source = source
        self.problems: list[tuple[KeyPath, str]] = []

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append((path, message))

    def home_of(self, key: str, here: str) -> str | None:
        """The header of the section other than `here` that has a setting `key`, if any."""
        return None

    def relative_path(self, text: str) -> Path:
        """`text` as a path: "~" expanded, relative to the file's directory."""
        path = Path(text).expanduser()
        if not path.is_absolute():
            base = self.source.parent if self.source is not None else Path.cwd()
            path = base / path
        return path


class Table:
    """Reads one TOML table: each `get` checks one key; `finish` reports the keys nobody read."""

    def __init__(self, validator: Problems, data: dict[str, Any], path: KeyPath, section: str) -> None:
        self.validator = validator
        self.data = data
        self.path = path
        self.section = section
        self.known: list[str] = []

    def get(self, key: str, check: Callable[[object], T], default: Any = MISSING) -> Any:
        """The checked value, or `default` when absent or invalid (the problem is recorded).
        Without a default the key is required."""
        self.known.append(key)
        if key not in self.data:
            if default is MISSING:
                self.validator.problem((*self.path, key), "missing (required)")
            return None if default is MISSING else default
        try:
            return check(self.data[key])
        except Invalid as exc:
            self.validator.problem((*self.path, key, *exc.at), exc.message)
            return None if default is MISSING else default

    def problem(self, key: str, message: str) -> None:
        self.validator.problem((*self.path, key), message)

    def finish(self) -> None:
        for key, value in self.data.items():
            if key in self.known:
                continue
            what = "unknown table" if isinstance(value, dict) else "unknown setting"
            if self.path and key in self.validator.top_level:
                hint = (
                    f" ({key} is a top-level setting: every key after a [table] header belongs "
                    "to that table, so move it above the first header)"
                )
            elif home := self.validator.home_of(key, self.section):
                hint = f" ({key} belongs in {home})"
            elif _TLS_KEY_RE.search(key):
                hint = _TLS_HINT
            elif "proxy" in key.lower():
                hint = _PROXY_HINT
            else:
                hint = did_you_mean(key, self.known)
            self.validator.problem((*self.path, key), f"{what}{hint}")
