"""The Instagram unit: comments on a professional account's media, through its linked Page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox.channels.facebook.unit import GRAPH_URL, graph_id, read_graph_keys
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, paste_token, refuse_when_set
from ecoinbox.config.validate import Table, base_url, boolean

if TYPE_CHECKING:
    from datetime import datetime

    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.model import Message
    from ecoinbox.secrets import Secret

__all__ = ["INSTAGRAM_SCOPES", "UNIT", "InstagramSettings"]

INSTAGRAM_SCOPES: Final = (
    "instagram_basic", "instagram_manage_comments", "pages_show_list", "pages_read_engagement",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class InstagramSettings(ChannelSettings):
    """An Instagram professional account, read through the Facebook Page it is linked to."""

    page_id: str | None = None
    """Facebook and Instagram (required): the numeric id of the brand's Facebook Page (Instagram:
    the Page linked to the professional account, whose token reads it)."""
    app_id: str | None = None
    """Facebook and Instagram: your Meta app's id, for `ecoinbox auth` (Facebook Login for Devices)."""
    ig_user_id: str | None = None
    """Instagram: the professional account's id (default: the one linked to the Page, asked once)."""
    messages: bool = False
    """Instagram: read and answer the account's direct messages, through the Messenger Platform
    (needs instagram_manage_messages, which Meta grants through App Review)."""
    human_agent: bool = False
    """Facebook and Instagram: Meta granted your app the human agent permission, so a direct reply
    may go out up to 7 days after the person's last message (otherwise 24 hours)."""


_CHECKS: Final[dict[str, Callable[[object], object]]] = {"ig_user_id": graph_id, "messages": boolean}


class InstagramUnit:
    kind: Final = "instagram"
    description: Final = "Instagram professional account: comments on its media, hidden not deleted."
    default_name: Final = "instagram"
    questions: Final = (
        Question("page_id", "The numeric id of the Facebook Page linked to the account"),
        Question("app_id", "Your Meta app's id (developers.facebook.com/apps)"),
    )
    auth_modes: Final = ("page_token",)
    settings_type: Final = InstagramSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = GRAPH_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> InstagramSettings:
        shared = read_graph_keys(table, self.kind)
        return InstagramSettings(
            **common_values(common),
            **shared,  # type: ignore[arg-type]
            ig_user_id=table.get("ig_user_id", graph_id, None),
            messages=table.get("messages", boolean, False),
            human_agent=table.get("human_agent", boolean, False),
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(
            table,
            key,
            _CHECKS[key],
            f"only instagram channels use {key} (this one is {kind})",
            empty_too=True,
        )

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.instagram.channel import InstagramChannel

        assert isinstance(settings, InstagramSettings)
        return InstagramChannel(
            settings.name, settings.base_url, token.reveal(), page_id=settings.page_id or "",
            ig_user_id=settings.ig_user_id, messages=settings.messages, human_agent=settings.human_agent,
            timeout=settings.timeout,
        )  # fmt: skip

    def reply_refusal(self, settings: ChannelSettings, parent: Message, now: datetime) -> str | None:
        """Why a direct reply to `parent` would be refused now (the 24-hour window), for the reply box."""
        from ecoinbox.channels.facebook.messenger import window_refusal

        human_agent = isinstance(settings, InstagramSettings) and settings.human_agent
        return window_refusal(parent, now, human_agent=human_agent, platform="Instagram")

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return (
            f"ecoinbox asks Meta for: {', '.join(INSTAGRAM_SCOPES)}; it keeps only the linked Page's "
            "token (revoke it in Facebook's Settings > Business integrations)."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        from ecoinbox.channels.facebook.unit import FacebookSettings, run_device_login

        if paste:
            return paste_token(settings)
        assert isinstance(settings, InstagramSettings)
        page = FacebookSettings(**common_values(settings), page_id=settings.page_id, app_id=settings.app_id)
        return run_device_login(
            page, INSTAGRAM_SCOPES + (("instagram_manage_messages",) if settings.messages else ())
        )


UNIT: Final = InstagramUnit()
