"""The demo's X: one local server plays x.com (the authorize page) and api.x.com."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.demo.site import BRAND, DemoContext, DemoSite, ServerSite, TomlValue

if TYPE_CHECKING:
    from ecoinbox.demo.x.server import XServer

__all__ = ["TOKENS", "sites"]

DEMO_X_REFRESH_TOKEN = "demo-x-refresh-token"  # public: the local X's, worth nothing elsewhere
TOKENS = {"x": DEMO_X_REFRESH_TOKEN}


class XSite(ServerSite):
    kind = "x"
    every = (2, 0)
    token = DEMO_X_REFRESH_TOKEN

    def __init__(self, server: XServer, context: DemoContext) -> None:
        super().__init__("x", server, context)
        self.x = server

    def settings(self) -> dict[str, TomlValue]:
        return {
            "auth_url": self.base_url,
            "account": BRAND,
            "client_id": self.x.client_id,
            "search": [BRAND],
            "hashtags": [BRAND],
            "daily_reads": 100_000,
            "direct_messages": True,
            "poll_interval": 4,
        }


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.x.server import XServer

    return [XSite(XServer(brand=BRAND, seed=context.seed, refresh_token=DEMO_X_REFRESH_TOKEN), context)]
