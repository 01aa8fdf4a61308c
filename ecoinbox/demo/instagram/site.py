"""The Instagram account of the demo: a local Graph server (as Facebook's site runs), read by the
Instagram channel through the Page's token."""

from __future__ import annotations

from typing import Final

from ecoinbox.demo.facebook.site import PAGE_TOKEN, GraphSite
from ecoinbox.demo.site import DemoContext, DemoSite

__all__ = ["TOKENS", "sites"]

TOKENS: Final = {"instagram": PAGE_TOKEN}


def sites(context: DemoContext) -> list[DemoSite]:
    """The demo's Instagram professional account."""
    return [GraphSite(context, "instagram", "instagram")]
