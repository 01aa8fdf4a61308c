"""The demo's Bluesky PDS: mentions, replies, search and hashtag chatter."""

from __future__ import annotations

from ecoinbox.demo import DEMO_BLUESKY_PASSWORD
from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

HANDLE = "acme.bsky.example"
TOKENS = {"bluesky": DEMO_BLUESKY_PASSWORD}


class BlueskySite(ServerSite):
    kind = "bluesky"
    every = (2, 1)
    token = DEMO_BLUESKY_PASSWORD

    def settings(self) -> dict[str, TomlValue]:
        return {"account": HANDLE, "search": ["acme"], "hashtags": ["acme"], "poll_interval": 4}


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.bluesky.server import BlueskyServer

    return [BlueskySite("bluesky", BlueskyServer(brand=HANDLE, seed=context.seed), context)]
