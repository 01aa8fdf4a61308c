"""One module per platform, all behind the `Channel` protocol in `base`."""

from __future__ import annotations

from datetime import timedelta

from ecoinbox.channels.base import Channel
from ecoinbox.config import BrandSettings, ChannelSettings
from ecoinbox.secrets import Secret


def build_channel(settings: ChannelSettings, token: Secret, brand: BrandSettings | None = None) -> Channel:
    """The channel object for one configured account (imports only the platform it needs).
    `brand`: whose names mark the brand's own posts where a platform cannot say (feeds)."""
    if settings.kind == "mastodon":
        from ecoinbox.channels.mastodon import MastodonChannel

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
    if settings.kind == "discourse":
        from ecoinbox.channels.discourse import DiscourseChannel

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
    if settings.kind == "wordpress":
        from ecoinbox.channels.wordpress import WordPressChannel

        return WordPressChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            account=settings.account,
            timeout=settings.timeout,
        )
    if settings.kind == "feed":
        from ecoinbox.channels.feed import FeedChannel

        return FeedChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            feeds=settings.feeds,
            account=settings.account if settings.auth == "basic" else None,
            own_names=(settings.account or "", *((brand.name, *brand.handles) if brand else ())),
            timeout=settings.timeout,
        )
    if settings.kind == "reddit":
        from ecoinbox.channels.reddit import RedditChannel

        return RedditChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            client_id=settings.client_id or "",
            account=settings.account or "",
            auth_url=settings.auth_url or settings.base_url,
            subreddits=settings.subreddits,
            search_terms=settings.search,
            timeout=settings.timeout,
        )
    if settings.kind == "bluesky":
        from ecoinbox.channels.bluesky import BlueskyChannel

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
    if settings.kind == "email":
        from ecoinbox.channels.email import EmailChannel

        return EmailChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            username=settings.account,
            smtp_url=settings.smtp_url,
            from_address=settings.from_address,
            folders=settings.folders,
            sent_folder=settings.sent_folder,
            append_sent=settings.append_sent,
            timeout=settings.timeout,
        )
    raise ValueError(f"no channel module for kind {settings.kind!r}")
