"""A fan blog about the brand, read through its comment feeds (RSS and Atom): nothing to
answer there, but the manager sees what is said."""

from __future__ import annotations

from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

TOKENS: dict[str, str] = {}
FEEDS = ("/comments/feed/", "/comments/feed/atom/")


class FanBlogSite(ServerSite):
    kind = "feed"
    every = (9, 0)
    label = "fan blog"
    path = FEEDS[0]

    def settings(self) -> dict[str, TomlValue]:
        return {"feeds": FEEDS, "poll_interval": 5}


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.wordpress.server import WordPressServer

    server = WordPressServer(site="fans", seed=context.seed, name="Widget Fans",
                             public_url="https://widgetfans.example", login="widgetfans",
                             display_name="Widget Fans")  # fmt: skip
    return [FanBlogSite("fanblog", server, context)]
