"""The Bluesky unit: mentions and replies, signed in with the handle and an app password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.channels.unit import FlowError, Question
from ecoinbox.config.validate import Table, base_url
from ecoinbox.sanitize import sanitize

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["UNIT"]


class BlueskyUnit:
    kind: Final = "bluesky"
    description: Final = "Bluesky: mentions and replies, signed in with an app password."
    default_name: Final = "bluesky"
    questions: Final = (
        Question("base_url", "The account's server", "https://bsky.social"),
        Question("account", "The brand's handle (e.g. acme.bsky.social)"),
    )
    auth_modes: Final = ("app_password", "account_password")
    settings_type: Final = ChannelSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> ChannelSettings:
        if not (common.account or "").lstrip("@"):
            table.problem("account", 'missing (Bluesky signs in with the handle, e.g. "acme.bsky.social")')
        return common

    def refuse(self, table: Table, key: str, kind: str) -> None:
        raise KeyError(key)  # it has no keys of its own

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.bluesky.channel import BlueskyChannel

        return BlueskyChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            handle=settings.account,
            search_terms=settings.search,
            hashtags=settings.hashtags,
            timeout=settings.timeout,
            account_password=settings.auth == "account_password",
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return (
            f"An app password signs in as @{settings.account or 'the brand account'} but cannot change its email, password or delete "
            f"the account; revoke it under App passwords."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        return _app_password(settings, check=not paste)


def _app_password(channel: ChannelSettings, *, check: bool) -> Secret:
    """Ask for an app password (never the account's own) and sign in once with it to check it."""
    import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

    from ecoinbox.channels.base import AuthError as RefusedError
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.bluesky.channel import verify_app_password

    print(f"1. In Bluesky, signed in as @{channel.account}: Settings > Privacy and security > App passwords.")
    print("2. Add an app password named ecoinbox, then paste it here (it looks like xxxx-xxxx-xxxx-xxxx).")
    token = secrets.prompt_token("App password (not echoed): ")
    if not check or not token.reveal().strip():
        return token
    try:
        who = asyncio.run(verify_app_password(
            channel.name, channel.base_url, channel.account or "", token.reveal(),
            account_password=channel.auth == "account_password",
        ))  # fmt: skip
    except RefusedError as exc:
        raise FlowError(f"not stored: {exc}") from exc
    except ChannelError as exc:
        print(f"Could not check it now ({exc}); storing it anyway.")
    else:
        print(f"Signed in as {sanitize(who, single_line=True)}.")
    return token


UNIT: Final = BlueskyUnit()
