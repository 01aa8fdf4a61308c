"""The Facebook unit: a Page's comments, visitor posts and Messenger, through a Page token."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import FlowError, Question, paste_token, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, boolean, integer, nonempty_string

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.model import Message
    from ecoinbox.secrets import Secret

__all__ = ["FACEBOOK_SCOPES", "GRAPH_URL", "UNIT", "FacebookSettings", "graph_id"]

GRAPH_URL: Final = "https://graph.facebook.com"
FACEBOOK_SCOPES: Final = (
    "pages_show_list", "pages_read_engagement", "pages_read_user_content", "pages_manage_engagement",
    "pages_messaging",
)  # fmt: skip


def graph_id(value: object) -> str:
    """A Graph object id: digits (a Page, an Instagram account, an app)."""
    text = nonempty_string(value).strip()
    if not re.fullmatch(r"[0-9]{1,32}", text):
        raise Invalid("expected the numeric id Meta shows (e.g. in the Page's About > Page transparency)")
    return text


@dataclass(frozen=True, slots=True)
class FacebookSettings(ChannelSettings):
    """A Facebook Page (or, for Instagram, the Page its professional account is linked to)."""

    page_id: str | None = None
    """Facebook and Instagram (required): the numeric id of the brand's Facebook Page (Instagram:
    the Page linked to the professional account, whose token reads it)."""
    app_id: str | None = None
    """Facebook and Instagram: your Meta app's id, for `ecoinbox auth` (Facebook Login for Devices)."""
    human_agent: bool = False
    """Facebook and Instagram: Meta granted your app the human agent permission, so a direct reply
    may go out up to 7 days after the person's last message (otherwise 24 hours)."""
    messenger: bool = True
    """Facebook: read and answer the Page's Messenger conversations (needs pages_messaging)."""
    lookback_days: int = 14
    """Facebook: comments are looked for on the Page's posts of the last N days (1 to 365)."""


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "page_id": graph_id,
    "app_id": graph_id,
    "human_agent": boolean,
    "messenger": boolean,
    "lookback_days": integer(1, 365),
}
INSTAGRAM_KEYS: Final = frozenset({"page_id", "app_id", "human_agent"})  # shared with Instagram


def read_graph_keys(table: Table, kind: str) -> dict[str, object]:
    """The keys Facebook and Instagram share: the Page, the app."""
    page_id = table.get("page_id", graph_id, None)
    if page_id is None and "page_id" not in table.data:
        table.problem(
            "page_id", f"missing (required for {kind}: the numeric id of the brand's Facebook Page)"
        )
    return {
        "page_id": page_id,
        "app_id": table.get("app_id", graph_id, None),
    }


class FacebookUnit:
    kind: Final = "facebook"
    description: Final = "Facebook Page: comments, visitor posts and Messenger, hidden not deleted."
    default_name: Final = "facebook"
    questions: Final = (
        Question("page_id", "The Facebook Page's numeric id"),
        Question("app_id", "Your Meta app's id (developers.facebook.com/apps)"),
    )
    auth_modes: Final = ("page_token",)
    settings_type: Final = FacebookSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = GRAPH_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> FacebookSettings:
        shared = read_graph_keys(table, self.kind)
        return FacebookSettings(
            **common_values(common),
            **shared,  # type: ignore[arg-type]
            human_agent=table.get("human_agent", boolean, False),
            messenger=table.get("messenger", boolean, True),
            lookback_days=table.get("lookback_days", integer(1, 365), 14),
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        owners = (
            "facebook and instagram channels use" if key in INSTAGRAM_KEYS else "only facebook channels use"
        )
        refuse_when_set(table, key, _CHECKS[key], f"{owners} {key} (this one is {kind})", empty_too=True)

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.facebook.channel import FacebookChannel

        assert isinstance(settings, FacebookSettings)
        return FacebookChannel(
            settings.name, settings.base_url, token.reveal(), page_id=settings.page_id or "",
            human_agent=settings.human_agent, messenger=settings.messenger,
            lookback_days=settings.lookback_days, timeout=settings.timeout,
        )  # fmt: skip

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return (
            f"ecoinbox asks Meta for: {', '.join(FACEBOOK_SCOPES)}; it keeps only the Page's token "
            "(revoke it in Facebook's Settings > Business integrations)."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        if paste:
            return paste_token(settings)
        assert isinstance(settings, FacebookSettings)
        return run_device_login(settings, FACEBOOK_SCOPES)

    def reply_refusal(self, settings: ChannelSettings, parent: Message, now: datetime) -> str | None:
        """Why a reply to `parent` would be refused now (Messenger's 24-hour window), for the
        reply box; None when it may go."""
        from ecoinbox.channels.facebook.messenger import window_refusal

        human_agent = isinstance(settings, FacebookSettings) and settings.human_agent
        return window_refusal(parent, now, human_agent=human_agent)


def run_device_login(settings: FacebookSettings, scopes: tuple[str, ...]) -> Secret:
    """Facebook Login for Devices for this channel, then its Page token. The app's client token is
    asked here, not kept: Meta calls it no secret, but ecoinbox keeps nothing named a token in the
    config."""
    from ecoinbox import secrets
    from ecoinbox.channels.facebook.device_login import DeviceLogin, device_login

    if not settings.app_id or not settings.page_id:
        raise FlowError(
            f"channel {settings.name} needs app_id (your Meta app, with Login from Devices on) and "
            f"page_id in the config; or run `ecoinbox auth {settings.name} --paste` with a Page token"
        )
    client = secrets.prompt_token("Your Meta app's client token (App settings > Advanced > Client token): ")
    login = DeviceLogin(settings.name, settings.base_url, settings.app_id, client.reveal().strip(),
                        settings.page_id, scopes)  # fmt: skip
    import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

    return asyncio.run(device_login(login))


UNIT: Final = FacebookUnit()
