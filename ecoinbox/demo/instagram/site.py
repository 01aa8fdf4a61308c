"""The demo's Instagram account: a local Graph server (as Facebook's site runs), read by the
Instagram channel through the linked Page's token."""

from __future__ import annotations

from typing import ClassVar, Final

from ecoinbox.demo.facebook.site import PAGE_TOKEN, GraphSite, graph_server
from ecoinbox.demo.site import DemoContext, DemoSite, TomlValue

__all__ = ["TOKENS", "InstagramSite", "sites"]

TOKENS: Final = {"instagram": PAGE_TOKEN}


class InstagramSite(GraphSite):
    kind: ClassVar[str] = "instagram"
    every = (4, 2)

    def settings(self) -> dict[str, TomlValue]:
        return {**super().settings(), "messages": True}  # the demo's app may read direct messages


def sites(context: DemoContext) -> list[DemoSite]:
    """The demo's Instagram professional account."""
    return [InstagramSite("instagram", graph_server(context), context)]
