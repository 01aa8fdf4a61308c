"""The demo's YouTube: one local server plays Google's token endpoint and the Data API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

if TYPE_CHECKING:
    from ecoinbox.demo.youtube.server import YouTubeServer

# The demo's public secret, as `ecoinbox auth` stores one: the desktop client's secret and the
# refresh token (both worth nothing outside the local server). Literal: printing it loads no server.
SECRET = json.dumps(
    {"client_secret": "demo-youtube-client-secret", "refresh_token": "demo-youtube-refresh-token"}
)
TOKENS = {"youtube": SECRET}
DEMO_QUOTA = 1_000_000


class YouTubeSite(ServerSite):
    kind = "youtube"
    every = (3, 2)  # a comment every 15 s: slower than the social networks
    token = SECRET

    def __init__(self, server: YouTubeServer, context: DemoContext) -> None:
        super().__init__("youtube", server, context)
        self.youtube = server

    @property
    def base_url(self) -> str:
        from ecoinbox.demo.youtube.server import API

        return self.server.base_url + API

    def settings(self) -> dict[str, TomlValue]:
        return {
            "token_url": self.server.base_url + "/token",
            "authorize_url": self.server.base_url + "/o/oauth2/v2/auth",
            "channel_id": self.youtube.channel_id,
            "client_id": self.youtube.client_id,
            "poll_interval": 4,
            # Polling every 4 s spends ~65,000 units a day: the demo's project has more quota.
            "quota_per_day": DEMO_QUOTA,
        }


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.youtube.server import YouTubeServer

    return [YouTubeSite(YouTubeServer(seed=context.seed, quota=DEMO_QUOTA), context)]
