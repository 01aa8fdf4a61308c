"""One unit per platform (`ecoinbox/channels/<kind>/`), all behind the `Channel` protocol in
`base`; `registry` lists the kinds, `unit` says what a unit offers, `settings` what every
channel's settings have."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.channels.settings import ChannelSettings
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["build_channel"]


def build_channel(settings: ChannelSettings, token: Secret, brand: BrandSettings | None = None) -> Channel:
    """The channel object for one configured account (imports only the platform it needs).
    `brand`: whose names mark the brand's own posts where a platform cannot say (feeds)."""
    from ecoinbox.channels.registry import KINDS, unit

    if settings.kind not in KINDS:
        raise ValueError(f"no channel module for kind {settings.kind!r}")
    return unit(settings.kind).build(settings, token, brand)
