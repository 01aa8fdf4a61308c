"""The Reddit unit: its settings (the installed app, the subreddits), its channel, its OAuth flow."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import FlowError, Question, paste_token, refuse_when_set
from ecoinbox.config.validate import (
    Invalid,
    Table,
    base_url,
    is_loopback_host,
    nonempty_string,
    string_list,
)
from ecoinbox.secrets import Secret

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings

__all__ = [
    "REDDIT_API_URL",
    "REDDIT_AUTH_URL",
    "REDDIT_REDIRECT_URI",
    "UNIT",
    "RedditSettings",
    "reddit_oauth",
]

REDDIT_API_URL: Final = "https://oauth.reddit.com"
REDDIT_AUTH_URL: Final = "https://www.reddit.com"
REDDIT_REDIRECT_URI: Final = "http://localhost:8080"


@dataclass(frozen=True, slots=True)
class RedditSettings(ChannelSettings):
    """A Reddit account, through an installed app."""

    client_id: str | None = None
    """Reddit (required there): the id of your installed app, approved by Reddit. Not a secret:
    an installed app has none; the secret is the refresh token `ecoinbox auth` stores."""
    auth_url: str | None = None
    """Reddit: the token host, where `ecoinbox auth` sends the browser and access tokens are
    renewed (default "https://www.reddit.com"; `base_url` is the API host, oauth.reddit.com)."""
    redirect_uri: str | None = None
    """Reddit: the redirect URI registered with your app, http://localhost:PORT[/path]
    (default "http://localhost:8080"); `ecoinbox auth` listens there on loopback."""
    subreddits: tuple[str, ...] = ()
    """Reddit listening: subreddits (without "r/") whose posts matching `search` come to the
    inbox; with no `search` words, every new post of these subreddits."""


def redirect_uri(value: object) -> str:
    """A loopback address with a port, where the browser comes back to `ecoinbox auth`."""
    text = nonempty_string(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise Invalid("not a valid URL") from None
    if parts.scheme != "http" or not is_loopback_host(parts.hostname) or port is None:
        raise Invalid(
            'expected a loopback address with a port, e.g. "http://localhost:8080" (the browser '
            "comes back there, to ecoinbox on this machine); register the same one with your app"
        )
    if parts.query or parts.fragment:
        raise Invalid("a redirect URI has no query (?...) or fragment (#...)")
    return text


def subreddits(value: object) -> tuple[str, ...]:
    """Subreddit names, "r/" or not."""
    names = []
    for index, item in enumerate(string_list(value)):
        name = item.removeprefix("/").removeprefix("r/").strip("/")
        if not re.fullmatch(r"[A-Za-z0-9_]{2,21}", name):
            raise Invalid('a subreddit name such as "gadgets" (letters, digits, "_")', at=(index,))
        names.append(name)
    return tuple(names)


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "client_id": nonempty_string,
    "auth_url": base_url,
    "redirect_uri": redirect_uri,
    "subreddits": subreddits,
}


class RedditUnit:
    kind: Final = "reddit"
    description: Final = "Reddit: the brand's inbox and searches in subreddits."
    default_name: Final = "reddit"
    questions: Final = (
        Question("account", "The brand's Reddit username (without u/)"),
        Question("client_id", "Your installed app's client id (reddit.com/prefs/apps)"),
    )
    auth_modes: Final = ("oauth",)
    settings_type: Final = RedditSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = REDDIT_API_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> RedditSettings:
        client_id = table.get("client_id", nonempty_string, None)
        auth_url = table.get("auth_url", base_url, None)
        redirect = table.get("redirect_uri", redirect_uri, None)
        names = table.get("subreddits", subreddits, ())
        if client_id is None and "client_id" not in table.data:
            table.problem("client_id", "missing (required for reddit: your installed app's id)")
        if common.account is None and "account" not in table.data:
            table.problem(
                "account", "missing (required for reddit: the brand's username, for the User-Agent)"
            )
        return RedditSettings(
            **common_values(common),
            client_id=client_id,
            auth_url=auth_url or REDDIT_AUTH_URL,
            redirect_uri=redirect or REDDIT_REDIRECT_URI,
            subreddits=names,
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, _CHECKS[key], f"only reddit channels use {key} (this one is {kind})")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.reddit.channel import RedditChannel

        assert isinstance(settings, RedditSettings)
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

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        from ecoinbox.channels.reddit.oauth import SCOPES

        return f"ecoinbox asks Reddit for: {' '.join(SCOPES)} (a refresh token, revocable in your apps)."

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        if paste:
            return paste_token(settings)
        assert isinstance(settings, RedditSettings)
        import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

        return asyncio.run(reddit_oauth(settings))


async def reddit_oauth(channel: RedditSettings, *, say: Callable[[str], None] = print,
                       timeout: float = 600.0) -> Secret:  # fmt: skip
    """Reddit's code flow for an installed app: the browser comes back to a loopback listener
    (state checked), and the permanent grant's refresh token becomes the channel's secret."""
    import ecoinbox.channels.reddit.channel as reddit
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient
    from ecoinbox.channels.reddit import oauth

    if not channel.client_id or not channel.auth_url or not channel.redirect_uri:
        raise FlowError(f"channel {channel.name} needs client_id (your Reddit app's id) in the config")
    state = oauth.new_state()
    try:
        listener = oauth.RedirectListener(channel.redirect_uri, state)
    except ChannelError as exc:
        raise FlowError(f"the Reddit authorization cannot start: {exc}") from exc
    client = HttpClient(
        channel.name, channel.auth_url, auth_headers=reddit.client_auth(channel.client_id),
        headers={"User-Agent": reddit.user_agent(channel.account)},
    )  # fmt: skip
    try:
        await listener.start()
        port = listener.port
        say("1. Open this address in a browser where you are logged in to Reddit as the brand account:")
        say(f"   {oauth.authorize_url(channel.auth_url, channel.client_id, channel.redirect_uri, state)}")
        say(f"2. Approve ecoinbox: the browser comes back to {channel.redirect_uri}, where ecoinbox waits.")
        say(f"   Over SSH, forward that port first: ssh -L {port}:127.0.0.1:{port} this-host")
        code = await listener.wait(timeout)
        refresh_token, _ = await oauth.exchange_code(client, channel.name, code, channel.redirect_uri)
        return Secret(refresh_token)
    except ChannelError as exc:
        raise FlowError(f"the Reddit authorization failed: {exc}") from exc
    finally:
        await listener.aclose()
        await client.aclose()


UNIT: Final = RedditUnit()
