"""The WordPress unit: the blog's comments, signed in with an application password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.channels.unit import Question
from ecoinbox.config.validate import Table, base_url

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["UNIT"]


class WordPressUnit:
    kind: Final = "wordpress"
    description: Final = "The blog's comments (WordPress REST API), answered as comments."
    default_name: Final = "blog"
    questions: Final = (
        Question("base_url", "Site address (e.g. https://blog.acme.example)"),
        Question("account", "Your WordPress login"),
    )
    auth_modes: Final = ("app_password",)
    settings_type: Final = ChannelSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = True
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> ChannelSettings:
        if not common.account:
            table.problem(
                "account", "missing (required: the WordPress login the application password belongs to)"
            )
        return common

    def refuse(self, table: Table, key: str, kind: str) -> None:
        raise KeyError(key)  # it has no keys of its own

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.wordpress.channel import WordPressChannel

        return WordPressChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            account=settings.account,
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        account = settings.account or "the brand account"
        return (
            f"WordPress has no narrower grant: the application password can do what {account} can. "
            f"Use an account that only moderates comments where you can."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        """WordPress application passwords: the site shows a new one to copy (no redirect)."""
        from ecoinbox.channels.wordpress.channel import authorize_url

        print(
            f"1. Open this address in a browser where you are logged in to WordPress as {settings.account}:"
        )
        print(f"   {authorize_url(settings.base_url)}")
        print('   (or Users > Profile > Application Passwords, name it "ecoinbox" and add it)')
        print("2. Approve, then paste the password WordPress shows (spaces and all).")
        return secrets.prompt_token("Application password (not echoed): ")


UNIT: Final = WordPressUnit()
