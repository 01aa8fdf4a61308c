"""The YouTube unit: its settings (the brand's channel id, the Google OAuth client, the quota),
its channel, its OAuth flow."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import FlowError, Question, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, boolean, integer, nonempty_string
from ecoinbox.secrets import Secret

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings

__all__ = [
    "UNIT",
    "YOUTUBE_API_URL",
    "YOUTUBE_AUTHORIZE_URL",
    "YOUTUBE_TOKEN_URL",
    "YouTubeSettings",
    "youtube_oauth",
]

YOUTUBE_API_URL: Final = "https://www.googleapis.com/youtube/v3"
YOUTUBE_TOKEN_URL: Final = "https://oauth2.googleapis.com/token"
YOUTUBE_AUTHORIZE_URL: Final = "https://accounts.google.com/o/oauth2/v2/auth"
CHANNEL_ID_RE: Final = re.compile(r"UC[A-Za-z0-9_-]{22}")


@dataclass(frozen=True, slots=True)
class YouTubeSettings(ChannelSettings):
    """The brand's YouTube channel, through a Google OAuth client of type "Desktop app"."""

    channel_id: str | None = None
    """YouTube (required there): the brand's channel id, "UC" and 22 letters (YouTube Studio,
    Settings, Channel, Advanced settings). Every comment on its videos comes to the inbox."""
    client_id: str | None = None
    """YouTube (required there): the id of your Google Cloud OAuth client ("Desktop app"), in a
    project with the YouTube Data API v3 enabled. Not a secret; `ecoinbox auth` asks for the
    client's secret and keeps it with the refresh token."""
    token_url: str | None = None
    """YouTube: Google's token endpoint (default "https://oauth2.googleapis.com/token")."""
    authorize_url: str | None = None
    """YouTube: Google's consent page (default "https://accounts.google.com/o/oauth2/v2/auth")."""
    quota_per_day: int = 10_000
    """YouTube: the project's daily quota in units (10,000 unless Google granted more); ecoinbox
    counts what it spends and stops polling 1,000 units short of it, to keep room for replies."""
    quota_per_poll: int = 50
    """YouTube: units one poll may spend (a page of 100 comment threads costs 1). A poll that
    runs out goes on where it stopped at the next one; with the default poll_interval of 60 s
    and three lists to read (and, every 10 minutes, the threads it answered lately), a quiet
    channel spends about 6,000 units a day: a longer poll_interval spends less."""
    held_comments: bool = True
    """YouTube: also read the comments YouTube holds for review or as likely spam (the channel's
    owner only); they show as held, `r` then `y` publishes one."""


def channel_id(value: object) -> str:
    text = nonempty_string(value)
    if not CHANNEL_ID_RE.fullmatch(text):
        raise Invalid('expected a YouTube channel id: "UC" followed by 22 letters, digits, "-" or "_"')
    return text


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "channel_id": channel_id,
    "client_id": nonempty_string,
    "token_url": base_url,
    "authorize_url": base_url,
    "quota_per_day": integer(1, 100_000_000),
    "quota_per_poll": integer(1, 100_000),
    "held_comments": boolean,
}


class YouTubeUnit:
    kind: Final = "youtube"
    description: Final = "YouTube: comments on the brand's videos, held ones too; reply and moderate."
    default_name: Final = "youtube"
    questions: Final = (
        Question("channel_id", "The brand's YouTube channel id (UC..., in YouTube Studio's settings)"),
        Question("client_id", "Your Google OAuth client id (Desktop app, YouTube Data API v3 enabled)"),
    )
    auth_modes: Final = ("oauth",)
    settings_type: Final = YouTubeSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = YOUTUBE_API_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> YouTubeSettings:
        values = {key: table.get(key, check, None) for key, check in _CHECKS.items()}
        for key, what in (("channel_id", "the brand's channel id"), ("client_id", "your OAuth client's id")):
            if values[key] is None and key not in table.data:
                table.problem(key, f"missing (required for youtube: {what})")
        if common.hashtags or common.search:
            table.problem(
                "search" if common.search else "hashtags",
                "every comment on the channel's videos comes in already (YouTube's search finds videos, "
                "not comments): leave it out",
            )
        per_day = values["quota_per_day"] or 10_000
        per_poll = values["quota_per_poll"] or 50
        if per_poll > per_day:
            table.problem("quota_per_poll", f"must not be more than quota_per_day ({per_day})")
        return YouTubeSettings(
            **common_values(common),
            channel_id=values["channel_id"],
            client_id=values["client_id"],
            token_url=values["token_url"] or YOUTUBE_TOKEN_URL,
            authorize_url=values["authorize_url"] or YOUTUBE_AUTHORIZE_URL,
            quota_per_day=per_day,
            quota_per_poll=per_poll,
            held_comments=values["held_comments"] if values["held_comments"] is not None else True,
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, _CHECKS[key], f"only youtube channels use {key} (this one is {kind})")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.youtube.channel import YouTubeChannel

        assert isinstance(settings, YouTubeSettings)
        return YouTubeChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            channel_id=settings.channel_id or "",
            client_id=settings.client_id or "",
            token_url=settings.token_url or YOUTUBE_TOKEN_URL,
            quota_per_day=settings.quota_per_day,
            quota_per_poll=settings.quota_per_poll,
            include_held=settings.held_comments,
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        from ecoinbox.channels.youtube.oauth import SCOPE

        return (
            f"ecoinbox asks Google for {SCOPE} (read, answer and moderate the channel's comments; "
            "a refresh token, revocable in your Google account's security page)."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        assert isinstance(settings, YouTubeSettings)
        from ecoinbox import secrets

        client_secret = secrets.prompt_token(
            f"Client secret of your OAuth client for {settings.name} (not echoed): "
        )
        import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

        return asyncio.run(youtube_oauth(settings, client_secret.reveal(), paste=paste))


async def youtube_oauth(settings: YouTubeSettings, client_secret: str, *, paste: bool = False,
                        say: Callable[[str], None] = print, read: Callable[[], str] | None = None,
                        timeout: float = 600.0) -> Secret:  # fmt: skip
    """Google's installed-app flow: the browser comes back to a loopback listener (or, `paste`,
    the manager pastes the address it landed on); PKCE; the refresh token and the client secret
    become the channel's secret."""
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient
    from ecoinbox.channels.youtube import oauth

    if not settings.client_id or not settings.token_url or not settings.authorize_url:
        raise FlowError(
            f"channel {settings.name} needs client_id (your Google OAuth client's id) in the config"
        )
    state, pkce = oauth.new_state(), oauth.PkcePair.new()
    listener = oauth.LoopbackReturn(state)
    client = HttpClient(settings.name, settings.token_url)
    form = {"client_id": settings.client_id, **({"client_secret": client_secret} if client_secret else {})}
    try:
        await listener.start()
        url = oauth.authorize_url(
            settings.authorize_url, settings.client_id, listener.redirect_uri, state, pkce
        )
        say("1. Open this address in a browser signed in to Google as the owner of the brand's channel:")
        say(f"   {url}")
        if paste:
            say("2. Approve ecoinbox. The browser then fails to open a 127.0.0.1 address: copy that")
            say("   address from its address bar and paste it here, then Enter.")
            import asyncio

            line = await asyncio.to_thread(read or sys.stdin.readline)
            code = oauth.code_from_pasted(line, state)
        else:
            say(
                f"2. Approve ecoinbox: the browser comes back to {listener.redirect_uri}, where ecoinbox waits."
            )
            say("   Over SSH, run `ecoinbox auth --paste` instead (or forward that port).")
            code = await listener.wait(timeout)
        refresh = await oauth.exchange_code(client, settings.name, form, code, listener.redirect_uri, pkce)
        return Secret(oauth.secret_text(oauth.Grant(refresh, client_secret)))
    except ChannelError as exc:
        raise FlowError(f"the Google authorization failed: {exc}") from exc
    finally:
        await listener.aclose()
        await client.aclose()


UNIT: Final = YouTubeUnit()
