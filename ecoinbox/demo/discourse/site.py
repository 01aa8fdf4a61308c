"""The brand's own forum (Discourse): where redirected people land, and the forum's own topics."""

from __future__ import annotations

from ecoinbox.demo import DEMO_FORUM_KEY
from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

TOKENS = {"forum": DEMO_FORUM_KEY}


class ForumSite(ServerSite):
    kind = "discourse"
    every = (3, 0)  # the forum is quieter than social media
    token = DEMO_FORUM_KEY

    def settings(self) -> dict[str, TomlValue]:
        return {"account": "acme_team", "auth": "api_key", "poll_interval": 5}

    def channel_toml(self) -> str:
        # Redirects and topics made from a question go here.
        return super().channel_toml() + f'\n[forum]\nchannel = "{self.name}"\ncategory = "support"\n'


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.discourse.server import DiscourseServer

    return [ForumSite("forum", DiscourseServer(seed=context.seed, api_key=DEMO_FORUM_KEY), context)]
