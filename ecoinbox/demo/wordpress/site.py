"""The brand's WordPress blog, answered through its REST API with an application password."""

from __future__ import annotations

from ecoinbox.demo import DEMO_BLOG_PASSWORD
from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

TOKENS = {"blog": DEMO_BLOG_PASSWORD}


class BlogSite(ServerSite):
    kind = "wordpress"
    every = (4, 0)  # blog comments are quieter than the forum
    token = DEMO_BLOG_PASSWORD

    def settings(self) -> dict[str, TomlValue]:
        return {"account": "acme_team", "poll_interval": 5}


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.wordpress.server import WordPressServer

    server = WordPressServer(seed=context.seed, app_password=DEMO_BLOG_PASSWORD)
    return [BlogSite("blog", server, context)]
