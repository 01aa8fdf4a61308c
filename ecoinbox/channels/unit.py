"""What a platform unit offers: the one object per kind that the config, `ecoinbox auth`,
`ecoinbox init` and the engine ask about a platform (`ecoinbox.channels.registry` finds it).

A unit lives in `ecoinbox/channels/<kind>/unit.py`, beside its channel code, and imports that
code only when a channel is built or authorized: reading the config stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from datetime import datetime

    from ecoinbox.channels.base import Channel
    from ecoinbox.channels.settings import ChannelSettings
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.config.validate import Table
    from ecoinbox.model import Message
    from ecoinbox.secrets import Secret

__all__ = ["FlowError", "PlatformUnit", "Question", "ReplyRules", "paste_token", "refuse_when_set"]


class FlowError(Exception):
    """An auth flow stopped; the message says why and what to do (never a token).
    `ecoinbox.auth.AuthError` is this class."""


@dataclass(frozen=True, slots=True)
class Question:
    """One setting of a channel asked for by `ecoinbox init`."""

    key: str
    text: str
    default: str | None = None
    is_list: bool = False
    optional: bool = False


class PlatformUnit(Protocol):
    """One platform: its settings, how to build its channel, how to authorize it."""

    @property
    def kind(self) -> str:
        """The `kind` of its [[channels]] entries, e.g. "mastodon"."""
        ...

    @property
    def description(self) -> str:
        """One line for `ecoinbox init`: what this kind of channel brings in."""
        ...

    @property
    def default_name(self) -> str:
        """The channel name `ecoinbox init` offers first."""
        ...

    @property
    def questions(self) -> tuple[Question, ...]:
        """What `ecoinbox init` asks for a channel of this kind, in the order a manager knows it."""
        ...

    @property
    def auth_modes(self) -> tuple[str, ...]:
        """The allowed values of `auth`; the first is the default."""
        ...

    @property
    def settings_type(self) -> type[ChannelSettings]:
        """Its settings: `ChannelSettings`, or a subclass adding the platform's own keys."""
        ...

    @property
    def streams(self) -> bool:
        """Whether its channels may stream (the `stream` setting is refused elsewhere)."""
        ...

    @property
    def read_only(self) -> bool:
        """Whether nothing can be answered there (a feed): no reply box, no `ecoinbox reply`."""
        ...

    @property
    def brand_site(self) -> bool:
        """Whether base_url is the brand's own site (a blog, a forum): links to it are not spam."""
        ...

    @property
    def default_base_url(self) -> str | None:
        """The base_url when the entry has none (None: base_url is required)."""
        ...

    def base_url_check(self, value: object) -> str:
        """The check of base_url (an http(s) URL for most, an IMAP address for email)."""
        ...

    def read(self, table: Table, common: ChannelSettings) -> ChannelSettings:
        """Read and check the platform's own keys of `table` (and what they need of the common
        ones: e.g. a required account); the settings, problems recorded in `table`."""
        ...

    def refuse(self, table: Table, key: str, kind: str) -> None:
        """`key`, one of this unit's own keys, is in a channel of another `kind`: check its value
        and say why it is refused there."""
        ...

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        """The channel object for these settings (imports the platform's code)."""
        ...

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        """The rights the token will carry, said before `ecoinbox auth` starts its flow."""
        ...

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        """Run the platform's own flow and return the token (not kept anywhere yet)."""
        ...


@runtime_checkable
class ReplyRules(Protocol):
    """A unit whose platform refuses some replies by rule (Messenger's 24-hour window): the reply
    box asks it before it opens, so the manager reads why instead of a failed send."""

    def reply_refusal(self, settings: ChannelSettings, parent: Message, now: datetime) -> str | None:
        """Why a reply to `parent` would be refused at `now`, in words; None when it may go."""
        ...


def refuse_when_set(
    table: Table, key: str, check: Callable[[object], object], message: str, *, empty_too: bool = False
) -> None:
    """Check `key` of `table` and refuse it with `message` when it is set (an empty value too
    with `empty_too`): a unit's own key found in another platform's channel."""
    value = table.get(key, check, None)
    if value is not None and (empty_too or value):
        table.problem(key, message)


def paste_token(settings: ChannelSettings) -> Secret:
    """Ask for a token pasted on the terminal: the flow of a platform that hands one out."""
    from ecoinbox import secrets  # looked up at call time: tests stand in for the terminal

    return secrets.prompt_block(
        f"Token for {settings.name} (not echoed; paste it, then Enter on an empty line): "
    )
