"""The X unit: its settings (the app's client id, the read budget), its channel, its OAuth flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import FlowError, Question, paste_token, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, boolean, is_loopback_host, nonempty_string
from ecoinbox.secrets import Secret

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings

__all__ = ["UNIT", "X_API_URL", "X_AUTH_URL", "X_REDIRECT_URI", "XSettings", "x_oauth"]

X_API_URL: Final = "https://api.x.com"
X_AUTH_URL: Final = "https://x.com"
X_REDIRECT_URI: Final = "http://127.0.0.1:8080/callback"
DAILY_READS: Final = 1000


@dataclass(frozen=True, slots=True)
class XSettings(ChannelSettings):
    """The brand's X account, through an OAuth 2.0 app (a public client: no secret)."""

    client_id: str | None = None
    """X (required there): your app's OAuth 2.0 client id (developer console, "Keys and tokens").
    Not a secret; the secret is the refresh token `ecoinbox auth` stores."""
    auth_url: str | None = None
    """X: where `ecoinbox auth` sends the browser to approve ecoinbox (default "https://x.com")."""
    redirect_uri: str | None = None
    """X: the callback URI registered with your app, http://127.0.0.1:PORT/path (default
    "http://127.0.0.1:8080/callback"; X refuses "localhost"). Nothing needs to listen there: you
    paste the address the browser lands on."""
    daily_reads: int = DAILY_READS
    """X: posts ecoinbox may read a day (UTC), mentions, search hits and threads together (X bills
    each); polling stops there until 00:00 UTC. `ecoinbox check` says what was used."""
    direct_messages: bool = False
    """X: also read and answer the brand's one-to-one direct messages (default false). Needs
    access to them on your app; `ecoinbox auth` then also asks for dm.read and dm.write."""


def redirect_uri(value: object) -> str:
    """A loopback callback with a port, as X wants it for a native app (127.0.0.1, not localhost)."""
    text = nonempty_string(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise Invalid("not a valid URL") from None
    if parts.scheme != "http" or not is_loopback_host(parts.hostname) or port is None:
        raise Invalid(
            'expected a loopback address with a port, e.g. "http://127.0.0.1:8080/callback"; '
            "register the same one with your X app"
        )
    if parts.hostname == "localhost":
        raise Invalid('X refuses "localhost" here: use 127.0.0.1, e.g. "http://127.0.0.1:8080/callback"')
    if parts.query or parts.fragment:
        raise Invalid("a redirect URI has no query (?...) or fragment (#...)")
    return text


def daily_reads(value: object) -> int:
    """A whole number of posts a day, at least 10 (one search page)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("expected a whole number of posts a day, e.g. 1000")
    if value < 10:
        raise Invalid("at least 10 (X's smallest search page)")
    return value


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "client_id": nonempty_string,
    "auth_url": base_url,
    "redirect_uri": redirect_uri,
    "daily_reads": daily_reads,
    "direct_messages": boolean,
}


class XUnit:
    kind: Final = "x"
    description: Final = "X (Twitter): mentions of the brand, keyword and hashtag searches, replies."
    default_name: Final = "x"
    questions: Final = (
        Question("account", "The brand's X username (without @)"),
        Question("client_id", "Your X app's OAuth 2.0 client id (developer console, Keys and tokens)"),
    )
    auth_modes: Final = ("oauth",)
    settings_type: Final = XSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = X_API_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> XSettings:
        client_id = table.get("client_id", nonempty_string, None)
        auth_url = table.get("auth_url", base_url, None)
        redirect = table.get("redirect_uri", redirect_uri, None)
        reads = table.get("daily_reads", daily_reads, DAILY_READS)
        direct = table.get("direct_messages", boolean, False)
        if client_id is None and "client_id" not in table.data:
            table.problem("client_id", "missing (required for x: your app's OAuth 2.0 client id)")
        if not (common.account or "").lstrip("@") and "account" not in table.data:
            table.problem("account", "missing (required for x: the brand's username, without @)")
        return XSettings(
            **common_values(common),
            client_id=client_id,
            auth_url=auth_url or X_AUTH_URL,
            redirect_uri=redirect or X_REDIRECT_URI,
            daily_reads=reads,
            direct_messages=direct,
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, _CHECKS[key], f"only x channels use {key} (this one is {kind})")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.x.budget import default_ledger
        from ecoinbox.channels.x.channel import XChannel

        assert isinstance(settings, XSettings)
        return XChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            client_id=settings.client_id or "",
            account=settings.account or "",
            search_terms=settings.search,
            hashtags=settings.hashtags,
            daily_reads=settings.daily_reads,
            direct_messages=settings.direct_messages,
            ledger=default_ledger(settings.name, settings.base_url),
            save_token=_keeper(settings),
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        dms = (
            " and its direct messages" if isinstance(settings, XSettings) and settings.direct_messages else ""
        )
        return (
            f"ecoinbox asks X for: {' '.join(scopes_of(settings))} (read the brand's mentions and posts{dms}, "
            "post replies, and a refresh token; revocable under Settings > Security > Connected apps)."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        if paste:
            return paste_token(settings)
        assert isinstance(settings, XSettings)
        import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

        return asyncio.run(x_oauth(settings))


def scopes_of(settings: ChannelSettings) -> tuple[str, ...]:
    """What `ecoinbox auth` asks X for: the DM scopes only where direct_messages is on."""
    from ecoinbox.channels.x.direct import DM_SCOPES
    from ecoinbox.channels.x.oauth import SCOPES

    direct = isinstance(settings, XSettings) and settings.direct_messages
    return SCOPES + DM_SCOPES if direct else SCOPES


def _keeper(settings: XSettings) -> Callable[[str], None] | None:
    """Where a refresh token X rotated in is saved: the keyring, when the channel's token comes
    from there (a token_cmd prints its own; X then needs `ecoinbox auth` again after a restart)."""
    if not settings.keyring or settings.token_cmd:
        return None
    name = settings.name

    def keep(token: str) -> None:
        from ecoinbox import secrets

        secrets.store_token(name, token)

    return keep


async def x_oauth(channel: XSettings, *, say: Callable[[str], None] = print,
                  ask: Callable[[str], str] | None = None) -> Secret:  # fmt: skip
    """X's authorization code flow with PKCE, finished by pasting: the manager opens the address
    (on any machine: over SSH too), approves, and pastes the address the browser lands on (or the
    code in it). The code is traded within X's 30 s; the refresh token becomes the secret."""
    from ecoinbox import secrets
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient
    from ecoinbox.channels.x import oauth

    if not channel.client_id or not channel.auth_url or not channel.redirect_uri:
        raise FlowError(f"channel {channel.name} needs client_id (your X app's client id) in the config")
    pkce = oauth.new_pkce()
    say("1. Open this address in a browser where you are logged in to X as the brand account:")
    say(
        f"   {oauth.authorize_url(channel.auth_url, channel.client_id, channel.redirect_uri, pkce, scopes_of(channel))}"
    )
    say(f"2. Authorize ecoinbox. The browser then goes to {channel.redirect_uri}?...; the page may")
    say("   not load (nothing listens there): copy the whole address from the address bar.")
    say("3. Paste it here within 30 seconds (X's code expires), then Enter.")
    prompt = ask or (lambda text: secrets.prompt_token(text).reveal())
    import asyncio

    pasted = await asyncio.to_thread(prompt, "Address (or code): ")  # the loop goes on meanwhile
    client = HttpClient(channel.name, channel.base_url)
    try:
        code = oauth.code_from_paste(pasted, pkce)
        grant = await oauth.exchange_code(
            client, channel.name, channel.client_id, code, channel.redirect_uri, pkce
        )
        return Secret(grant.refresh)
    except ChannelError as exc:
        raise FlowError(f"the X authorization failed: {exc}") from exc
    finally:
        await client.aclose()


UNIT: Final = XUnit()
