"""The LinkedIn unit: an organization page's comments (Community Management API), its settings
and its token, pasted from LinkedIn's token generator (the API needs LinkedIn's approval of the
developer app: see README, "Configuring LinkedIn")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, paste_token, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, integer, nonempty_string

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["LINKEDIN_API_URL", "LINKEDIN_VERSION", "UNIT", "LinkedInSettings", "organization_urn"]

LINKEDIN_API_URL: Final = "https://api.linkedin.com"
LINKEDIN_VERSION: Final = "202611"
"""The API version asked for by default (LinkedIn serves each monthly version for a year)."""
SCOPES: Final = ("r_organization_social_feed", "w_organization_social_feed")


@dataclass(frozen=True, slots=True)
class LinkedInSettings(ChannelSettings):
    """A LinkedIn organization page, through an app approved for the Community Management API."""

    organization: str | None = None
    """LinkedIn (required there): the page's organization id, as in its admin URL
    linkedin.com/company/12345678/admin (or "urn:li:organization:12345678")."""
    linkedin_version: str = LINKEDIN_VERSION
    """LinkedIn: the API version sent in the LinkedIn-Version header, "YYYYMM". LinkedIn serves a
    version for about a year; when it stops, `ecoinbox check` says to raise this."""
    posts: int = 20
    """LinkedIn: how many of the page's newest posts are watched for new comments (1-100); each
    watched post costs a request per poll when it has new comments."""


def organization_urn(value: object) -> str:
    """An organization id or URN, as the URN the API takes."""
    text = nonempty_string(value).strip()
    found = re.fullmatch(r"(?:urn:li:organization:)?(\d{1,20})", text)
    if found is None:
        raise Invalid('expected the page\'s organization id, e.g. "12345678" (from its admin URL)')
    return f"urn:li:organization:{found.group(1)}"


def api_version(value: object) -> str:
    text = nonempty_string(value).strip()
    if re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", text) is None:
        raise Invalid('expected a monthly version "YYYYMM", e.g. "202611"')
    return text


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "organization": organization_urn,
    "linkedin_version": api_version,
    "posts": integer(1, 100),
}


class LinkedInUnit:
    kind: Final = "linkedin"
    description: Final = "LinkedIn: comments on the organization page's posts (needs LinkedIn's approval)."
    default_name: Final = "linkedin"
    questions: Final = (Question("organization", "The page's organization id (from its admin URL)"),)
    auth_modes: Final = ("token",)
    settings_type: Final = LinkedInSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = LINKEDIN_API_URL
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> LinkedInSettings:
        organization = table.get("organization", organization_urn, None)
        version = table.get("linkedin_version", api_version, LINKEDIN_VERSION)
        posts = table.get("posts", integer(1, 100), 20)
        if organization is None and "organization" not in table.data:
            table.problem("organization", "missing (required for linkedin: the page's organization id)")
        if common.hashtags or common.search:
            table.problem(
                "search" if common.search else "hashtags",
                "LinkedIn's API offers no search of members' posts: only comments on the page's own posts",
            )
        return LinkedInSettings(**common_values(common), organization=organization, linkedin_version=version,
                                posts=posts)  # fmt: skip

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, _CHECKS[key], f"only linkedin channels use {key} (this one is {kind})")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.linkedin.channel import LinkedInChannel

        assert isinstance(settings, LinkedInSettings)
        return LinkedInChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            organization=settings.organization or "",
            version=settings.linkedin_version,
            posts=settings.posts,
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return (
            f"A member access token with {' and '.join(SCOPES)}, from an administrator of the page: "
            "LinkedIn's token generator (linkedin.com/developers/tools/oauth) makes one for your "
            "approved app. It lasts 60 days; paste a new one with `ecoinbox auth` then."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        return paste_token(settings)


UNIT: Final = LinkedInUnit()
