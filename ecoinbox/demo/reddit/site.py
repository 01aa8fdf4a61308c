"""The demo's Reddit: one local server plays both hosts (the token endpoint and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.demo import DEMO_REDDIT_REFRESH_TOKEN
from ecoinbox.demo.site import BRAND, DemoContext, DemoSite, ServerSite, TomlValue

if TYPE_CHECKING:
    from ecoinbox.demo.reddit.server import RedditServer

TOKENS = {"reddit": DEMO_REDDIT_REFRESH_TOKEN}


class RedditSite(ServerSite):
    kind = "reddit"
    every = (2, 1)
    token = DEMO_REDDIT_REFRESH_TOKEN

    def __init__(self, server: RedditServer, context: DemoContext) -> None:
        super().__init__("reddit", server, context)
        self.reddit = server

    def settings(self) -> dict[str, TomlValue]:
        return {
            "auth_url": self.base_url,
            "account": BRAND,
            "client_id": self.reddit.client_id,
            "subreddits": ["BuyItForLife", "gadgets", "france"],
            "search": [BRAND],
            "poll_interval": 4,
        }


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.reddit.server import RedditServer

    return [
        RedditSite(
            RedditServer(brand=BRAND, seed=context.seed, refresh_token=DEMO_REDDIT_REFRESH_TOKEN), context
        )
    ]
