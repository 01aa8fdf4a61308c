"""The demo's Facebook Page (with Messenger): a local Graph server and the channel reading it.

Instagram's site (`ecoinbox.demo.instagram.site`) runs the same kind of server for the Instagram
channel, so either platform can be shown alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

if TYPE_CHECKING:
    from ecoinbox.demo.facebook.server import GraphServer

__all__ = ["PAGE_TOKEN", "TOKENS", "GraphSite", "sites"]

PAGE_TOKEN: Final = (
    "demo-facebook-page-token"  # the demo server's Page token: public, worth nothing elsewhere
)
TOKENS: Final = {"facebook": PAGE_TOKEN}


class GraphSite(ServerSite):
    """A channel (Facebook, or Instagram in its subclass) over its own local Graph server."""

    kind: ClassVar[str] = "facebook"
    every = (3, 1)  # a comment or a message every 15 s
    token = PAGE_TOKEN

    def __init__(self, name: str, server: GraphServer, context: DemoContext) -> None:
        super().__init__(name, server, context)
        server.ticks_instagram = self.kind == "instagram"

    def settings(self) -> dict[str, TomlValue]:
        from ecoinbox.demo.facebook.server import PAGE_ID

        return {"page_id": PAGE_ID, "poll_interval": 4}


def graph_server(context: DemoContext) -> GraphServer:
    """A Graph server seeded with the demo's day (on a generated store too: its traffic comes on top)."""
    from ecoinbox.demo.facebook.server import GraphServer

    return GraphServer(seed=context.seed, page_token=PAGE_TOKEN)


def sites(context: DemoContext) -> list[DemoSite]:
    """The demo's Facebook Page."""
    return [GraphSite("facebook", graph_server(context), context)]
