"""[screening]: the optional spam engines asked beside the built-in filter (SpamAssassin, Akismet)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.config.validate import (
    Invalid,
    T,
    Table,
    argv,
    base_url,
    boolean,
    env_name,
    integer,
    nonempty_string,
    seconds,
    string_list,
)

__all__ = [
    "AKISMET_API_URL",
    "AKISMET_KINDS",
    "AkismetSettings",
    "ScreeningSettings",
    "SpamAssassinSettings",
    "read_screening",
]

AKISMET_API_URL = "https://rest.akismet.com"
AKISMET_KINDS = ("wordpress", "discourse")  # blog comments and forum posts: what Akismet judges
SPAMASSASSIN_KINDS = ("email",)


@dataclass(frozen=True, slots=True)
class SpamAssassinSettings:
    """A SpamAssassin daemon (spamd) that judges mail: its score and rule names join the verdict."""

    host: str = "127.0.0.1"
    """Where spamd listens (it speaks plain text: keep it on this machine or a trusted network)."""
    port: int = 783
    """spamd's port (783 unless its --listen says otherwise)."""
    timeout: float = 5.0
    """Seconds one batch of new mail may wait for spamd; past it, the mail is screened without it."""
    channels: tuple[str, ...] = ()
    """The email channels whose mail spamd judges. Default: every email channel."""


@dataclass(frozen=True, slots=True)
class AkismetSettings:
    """Akismet, with the user's own key, judging blog comments and forum posts."""

    blog: str
    """The site the Akismet key is registered for, e.g. "https://blog.example" (Akismet's `blog`)."""
    channels: tuple[str, ...] = ()
    """The WordPress and Discourse channels whose messages Akismet judges. Default: all of them."""
    timeout: float = 5.0
    """Seconds one batch may wait for Akismet; past it, the messages are screened without it."""
    api_url: str = AKISMET_API_URL
    """Akismet's address; another only for a compatible service (or a local stand-in in tests)."""
    key_cmd: tuple[str, ...] | None = None
    """A command (argv list, run without a shell) that prints the key, e.g. ["pass", "show", "akismet"]."""
    key_env: str | None = None
    """An environment variable holding the key. Tried last."""
    keyring: bool = True
    """Look for the key in the OS keyring: service "ecoinbox", username "akismet"."""

    def key_source(self) -> ChannelSettings:
        """Where the key is, in the shape `ecoinbox.secrets` reads tokens from (keyring name "akismet")."""
        return ChannelSettings(
            kind="akismet", name="akismet", base_url=self.api_url,
            token_cmd=self.key_cmd, token_env=self.key_env, keyring=self.keyring,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScreeningSettings:
    """The spam engines to ask besides the built-in filter; none by default."""

    spamassassin: SpamAssassinSettings | None = None
    """[screening.spamassassin]: ask a SpamAssassin daemon about new mail."""
    akismet: AkismetSettings | None = None
    """[screening.akismet]: ask Akismet about new blog comments and forum posts."""


def read_screening(table: Table, channels: tuple[ChannelSettings, ...]) -> ScreeningSettings:
    spamassassin = _engine(table, "spamassassin", lambda t: _read_spamassassin(t, channels))
    akismet = _engine(table, "akismet", lambda t: _read_akismet(t, channels))
    table.finish()
    return ScreeningSettings(spamassassin=spamassassin, akismet=akismet)


def _engine(table: Table, name: str, read: Callable[[Table], T | None]) -> T | None:
    table.known.append(name)
    if name not in table.data:
        return None
    value = table.data[name]
    if not isinstance(value, dict):
        table.problem(name, f"expected a table ([screening.{name}])")
        return None
    return read(Table(table.validator, value, (*table.path, name), f"screening.{name}"))


def _read_spamassassin(table: Table, channels: tuple[ChannelSettings, ...]) -> SpamAssassinSettings:
    settings = SpamAssassinSettings(
        host=table.get("host", nonempty_string, "127.0.0.1"),
        port=table.get("port", integer(1, 65535), 783),
        timeout=table.get("timeout", seconds, 5.0),
        channels=_channels(table, channels, SPAMASSASSIN_KINDS),
    )
    table.finish()
    return settings


def _read_akismet(table: Table, channels: tuple[ChannelSettings, ...]) -> AkismetSettings | None:
    blog = table.get("blog", base_url)
    settings = AkismetSettings(
        blog=blog or "",
        channels=_channels(table, channels, AKISMET_KINDS),
        timeout=table.get("timeout", seconds, 5.0),
        api_url=table.get("api_url", base_url, AKISMET_API_URL),
        key_cmd=table.get("key_cmd", argv, None),
        key_env=table.get("key_env", env_name, None),
        keyring=table.get("keyring", boolean, True),
    )
    table.finish()
    return settings if blog else None


def _channels(table: Table, channels: tuple[ChannelSettings, ...], kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The `channels` key: names of configured channels of `kinds` (default: every one of them)."""
    fitting = [channel.name for channel in channels if channel.kind in kinds]

    def check(value: object) -> tuple[str, ...]:
        names = string_list(value)
        for index, name in enumerate(names):
            if name not in fitting:
                where = ", ".join(fitting) or "none configured"
                raise Invalid(f"'{name}' is not a {' or '.join(kinds)} channel ({where})", at=(index,))
        return names

    return tuple(table.get("channels", check, tuple(fitting)))
