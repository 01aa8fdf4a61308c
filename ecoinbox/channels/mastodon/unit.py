"""The Mastodon unit: its settings (backfill), its channel, its OAuth flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, refuse_when_set
from ecoinbox.config.validate import Table, base_url, waiting_duration
from ecoinbox.secrets import Secret

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings

__all__ = ["UNIT", "MastodonSettings"]


@dataclass(frozen=True, slots=True)
class MastodonSettings(ChannelSettings):
    """A Mastodon account (also GoToSocial, Akkoma)."""

    backfill: float = 14 * 86400.0
    """Mastodon: how far back (seconds; written "14d", "36h") the first poll of a channel imports
    mentions. Every mention of that period comes in, however the server pages them."""


class MastodonUnit:
    kind: Final = "mastodon"
    description: Final = "Mastodon (also GoToSocial, Akkoma): mentions, replies, hashtags and searches."
    default_name: Final = "mastodon"
    questions: Final = (
        Question("base_url", "Server address (e.g. https://mastodon.social)"),
        Question("account", "The brand's username there (e.g. acme)"),
    )
    auth_modes: Final = ("oauth",)
    settings_type: Final = MastodonSettings
    streams: Final = True
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> MastodonSettings:
        backfill = table.get("backfill", waiting_duration, 14 * 86400.0)
        return MastodonSettings(**common_values(common), backfill=backfill)

    def refuse(self, table: Table, key: str, kind: str) -> None:
        message = 'only mastodon channels have this setting (kind = "mastodon")'
        refuse_when_set(table, key, waiting_duration, message, empty_too=True)

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.mastodon.channel import MastodonChannel

        assert isinstance(settings, MastodonSettings)
        return MastodonChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            account=settings.account,
            hashtags=settings.hashtags,
            search_terms=settings.search,
            include_filtered=settings.include_filtered,
            timeout=settings.timeout,
            backfill=timedelta(seconds=settings.backfill),
            stream=settings.stream,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        from ecoinbox.channels.mastodon.oauth import SCOPES

        if paste:
            return (f"Paste an access token made under Preferences > Development with only these scopes: "
                    f"{SCOPES}.")  # fmt: skip
        return (f"ecoinbox asks for: {SCOPES} (read notifications, posts, profiles and search, "
                f"see who blocks the brand, post replies; nothing else: no follows, no deletes, no profile "
                f"changes).")  # fmt: skip

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        if paste:
            return secrets.prompt_block("Access token (not echoed; paste it, then Enter on an empty line): ")
        import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

        return asyncio.run(_oauth(settings.base_url))


async def _oauth(base_url: str) -> Secret:
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient
    from ecoinbox.channels.mastodon.oauth import authorize_url, exchange_code, register_app
    from ecoinbox.channels.unit import FlowError as AuthError

    client = HttpClient("auth", base_url)
    try:
        client_id, client_secret = await register_app(base_url, client)
        print("1. Open this address in a browser where you are logged in as the brand account:")
        print(f"   {authorize_url(base_url, client_id)}")
        print("2. Approve ecoinbox, then paste the code the page shows.")
        code = secrets.prompt_block("Code (not echoed; paste it, then Enter on an empty line): ").reveal()
        return Secret(await exchange_code(base_url, client_id, client_secret, code, client))
    except ChannelError as exc:
        raise AuthError(f"the OAuth flow failed: {exc}") from exc
    finally:
        await client.aclose()


UNIT: Final = MastodonUnit()
