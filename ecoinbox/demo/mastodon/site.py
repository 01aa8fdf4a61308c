"""The demo's Mastodon instance: mentions, hashtag and search chatter, and one person whose
profile points at her forum account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ecoinbox.demo import DEMO_TOKEN
from ecoinbox.demo.site import BRAND, DemoContext, DemoSite, ServerSite, TomlValue

if TYPE_CHECKING:
    from ecoinbox.demo.mastodon.server import MastodonServer

DOMAIN = "social.example"
PERSON = "sophie@mamot.example"
"""The person seen across channels (see demo.mastodon.seed): her forum account is PERSON_ON_FORUM."""
PERSON_ON_FORUM = "sophie_l"  # see demo.discourse.seed

TOKENS = {"mastodon": DEMO_TOKEN}


class MastodonSite(ServerSite):
    kind = "mastodon"
    handles = (f"{BRAND}@{DOMAIN}",)
    token = DEMO_TOKEN

    def __init__(self, server: MastodonServer, context: DemoContext) -> None:
        super().__init__("mastodon", server, context)
        self.mastodon = server

    def settings(self) -> dict[str, TomlValue]:
        # New mentions stream in live; the poll is the safety net (and hashtags, searches).
        return {"account": BRAND, "hashtags": ["acme"], "search": ["acme"], "poll_interval": 30}

    def meet(self, others: Mapping[str, DemoSite]) -> None:
        # One person on two channels: Mastodon verified (rel="me") her forum profile, so her
        # accounts link by themselves (c shows her history on both); her namesakes elsewhere don't.
        if "forum" in others:
            self.mastodon.add_profile_link(PERSON, "Forum", f"{others['forum'].base_url}/u/{PERSON_ON_FORUM}")


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.mastodon.server import MastodonServer

    # A generated store's conversations were never posted on the demo server: it takes
    # replies to them as replies to posts it does not show.
    server = MastodonServer(brand=BRAND, domain=DOMAIN, seed=context.seed, token=DEMO_TOKEN,
                            stand_in_parents=context.generated)  # fmt: skip
    return [MastodonSite(server, context)]
