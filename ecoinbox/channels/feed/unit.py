"""The feed unit: RSS and Atom comment feeds of other sites, read only (public, or HTTP Basic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, string_list

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["UNIT", "FeedSettings", "feed_urls"]


@dataclass(frozen=True, slots=True)
class FeedSettings(ChannelSettings):
    """Comment feeds of a site."""

    feeds: tuple[str, ...] = ()
    """Feed channels: the RSS or Atom comment feeds to read, each an http(s) URL or a path on
    base_url (e.g. "/comments/feed/"); empty means the comments feed the site's home page names
    (WordPress: "/comments/feed/", or "/?feed=comments-rss2" with plain permalinks)."""

    @property
    def needs_token(self) -> bool:
        """A public feed has no secret; one behind HTTP Basic has a password."""
        return self.auth == "basic"


def feed_urls(value: object) -> tuple[str, ...]:
    """Feeds: each an http(s) URL, or a path on base_url."""
    urls = string_list(value)
    for index, url in enumerate(urls):
        if url.startswith("/") and not url.startswith("//"):
            continue  # a path on base_url, which is checked itself
        try:
            base_url(url.split("?", 1)[0].split("#", 1)[0])
        except Invalid as exc:
            raise Invalid(
                f'{exc.message} (a feed is an http(s) URL or a path such as "/comments/feed/")', at=(index,)
            ) from None
    return urls


class FeedUnit:
    kind: Final = "feed"
    description: Final = "RSS/Atom comment feeds of other sites: read only."
    default_name: Final = "feeds"
    questions: Final = (
        Question("base_url", "Site address (e.g. https://fans.example)"),
        Question(
            "feeds",
            "Feed addresses, comma-separated (Enter: the site's comments feed)",
            is_list=True,
            optional=True,
        ),
    )
    auth_modes: Final = ("none", "basic")
    settings_type: Final = FeedSettings
    streams: Final = False
    read_only: Final = True
    brand_site: Final = True
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> FeedSettings:
        feeds = table.get("feeds", feed_urls, ())
        if common.auth == "basic" and not common.account:
            table.problem("account", 'missing (required with auth = "basic": the feed\'s user name)')
        return FeedSettings(**common_values(common), feeds=feeds)

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, feed_urls, f"only feed channels read feeds, not {kind}")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.feed.channel import FeedChannel

        assert isinstance(settings, FeedSettings)
        return FeedChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            feeds=settings.feeds,
            account=settings.account if settings.auth == "basic" else None,
            own_names=(settings.account or "", *((brand.name, *brand.handles) if brand else ())),
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return f"The token of {settings.name}."

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        return secrets.prompt_token(
            f"HTTP Basic password of {settings.account} for {settings.name}'s feeds (not echoed): "
        )


UNIT: Final = FeedUnit()
