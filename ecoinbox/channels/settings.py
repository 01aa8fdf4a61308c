"""What every [[channels]] entry has, whatever its platform: `ChannelSettings`.

A platform's own settings subclass it in its unit (`ecoinbox.channels.<kind>.unit`), so a channel's
settings are one object; `ecoinbox.config.channels` reads the common keys, the unit its own.
Headless: no platform module is imported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Final
from urllib.parse import urlsplit

from ecoinbox.config.validate import Invalid, is_loopback_host, string

__all__ = ["CHANNEL_NAME_RE", "ChannelSettings", "channel_name", "common_values"]

CHANNEL_NAME_RE: Final = re.compile(r"[a-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """One account on one platform: where to listen, and how to find its token."""

    kind: str
    """The platform: one of `ecoinbox.channels.registry.KINDS`."""
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

    @property
    def needs_token(self) -> bool:
        """Whether the channel has a secret to find (a public feed has none)."""
        return True

    @property
    def is_loopback(self) -> bool:
        """True when the server is on this machine (127.0.0.0/8, ::1, localhost)."""
        return is_loopback_host(urlsplit(self.base_url).hostname)


COMMON_KEYS: Final = frozenset(field.name for field in fields(ChannelSettings))
"""The keys every [[channels]] entry may have; a unit's settings add their own."""


def common_values(settings: ChannelSettings) -> dict[str, Any]:
    """The common settings of `settings` as keyword arguments, to build a unit's settings from them."""
    return {name: getattr(settings, name) for name in sorted(COMMON_KEYS)}


def channel_name(value: object) -> str:
    """A channel name: 1 to 64 of [a-z0-9_-]."""
    name = string(value)
    if not CHANNEL_NAME_RE.fullmatch(name):
        shown = repr(name[:64])
        raise Invalid(
            f"{shown} is not a valid channel name: use 1 to 64 lowercase letters, digits, '_' or '-'"
        )
    return name
