"""The Discourse unit: its settings (categories), its channel, its User API Key flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, paste_token, refuse_when_set
from ecoinbox.config.validate import Table, base_url, string_list
from ecoinbox.secrets import Secret

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings

__all__ = ["UNIT", "DiscourseSettings"]


@dataclass(frozen=True, slots=True)
class DiscourseSettings(ChannelSettings):
    """A Discourse forum account."""

    categories: tuple[str, ...] = ()
    """Discourse listening: categories (slugs) whose new posts all come to the inbox."""


class DiscourseUnit:
    kind: Final = "discourse"
    description: Final = "The brand's Discourse forum: its topics come in; `f` redirects people there."
    default_name: Final = "forum"
    questions: Final = (
        Question("base_url", "Forum address (e.g. https://forum.acme.example)"),
        Question("account", "The brand's username on the forum"),
    )
    auth_modes: Final = ("user_api_key", "api_key")
    settings_type: Final = DiscourseSettings
    streams: Final = True
    read_only: Final = False
    brand_site: Final = True
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> DiscourseSettings:
        categories = table.get("categories", string_list, ())
        if common.auth == "api_key" and not common.account:
            table.problem("account", 'missing (required with auth = "api_key": it is sent as Api-Username)')
        return DiscourseSettings(**common_values(common), categories=categories)

    def refuse(self, table: Table, key: str, kind: str) -> None:
        message = 'only discourse channels have this setting (kind = "discourse")'
        refuse_when_set(table, key, string_list, message)

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.discourse.channel import DiscourseChannel

        assert isinstance(settings, DiscourseSettings)
        return DiscourseChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            username=settings.account,
            auth=settings.auth or "user_api_key",
            keywords=settings.search,
            categories=settings.categories,
            timeout=settings.timeout,
            stream=settings.stream,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        from ecoinbox.channels.discourse.user_api_key import USER_API_SCOPES

        account = settings.account or "the brand account"
        if settings.auth == "user_api_key" and not paste:
            return (
                f"ecoinbox asks for a user API key with scopes {USER_API_SCOPES}: it reads and posts as "
                f"{account}, never as an admin; revoke it under the account's Preferences > Apps."
            )
        return "Paste an API key; an admin can scope it to the brand's user and to read and write topics."

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        if settings.auth == "user_api_key" and not paste:
            return _user_api_key(settings.base_url)
        return paste_token(settings)


def _user_api_key(base_url: str) -> Secret:
    """Discourse's no-redirect User API Key flow: the forum shows an encrypted key to paste."""
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.discourse.user_api_key import (
        KEY_BITS,
        decrypt_payload,
        generate_key_pair,
        new_nonce,
        user_api_key_url,
    )
    from ecoinbox.channels.unit import FlowError as AuthError

    private_key, public_key = generate_key_pair()
    nonce = new_nonce()
    print("1. Open this address in a browser where you are logged in as the brand's forum account:")
    print(f"   {user_api_key_url(base_url, public_key, nonce, client_id=f'ecoinbox-{nonce[:8]}')}")
    print("2. Approve ecoinbox, then paste the whole block of text the page shows, as it shows it.")
    whole = 4 * -(-(KEY_BITS // 8) // 3)  # base64 characters of one RSA block: the paste is complete
    payload = secrets.prompt_block(
        "Key block (not echoed; paste it, then Enter on an empty line): ",
        complete=lambda text: len(text) >= whole,
    ).reveal()
    try:
        return Secret(decrypt_payload(private_key, payload, nonce))
    except ChannelError as exc:
        raise AuthError(f"the forum's answer could not be read: {exc}") from exc


UNIT: Final = DiscourseUnit()
