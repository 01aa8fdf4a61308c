"""The demo's wiki: the Acme product wiki's talk pages, answered through DiscussionTools."""

from __future__ import annotations

from typing import Final

from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

DEMO_WIKI_LOGIN: Final = "Acme@ecoinbox"
DEMO_WIKI_BOT_PASSWORD: Final = "demo0wiki0bot0password0acme02026"  # public; base 32 as MediaWiki's are
TOKENS = {"wiki": DEMO_WIKI_BOT_PASSWORD}


class WikiSite(ServerSite):
    kind = "mediawiki"
    every = (3, 2)  # talk pages are slower than social media
    token = DEMO_WIKI_BOT_PASSWORD

    def settings(self) -> dict[str, TomlValue]:
        return {"account": DEMO_WIKI_LOGIN, "auth": "bot_password", "pages": ["Talk:Acme X2", "Talk:Acme X2/fr"],
                "poll_interval": 5}  # fmt: skip

    def channel_toml(self) -> str:
        # Talk:Acme Cloud comes in through its namespace (1, Talk:), as a followed namespace does.
        return super().channel_toml() + "namespaces = [1]\n"


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.mediawiki.seed import SeededWiki

    server = SeededWiki(seed=context.seed, bot_logins={DEMO_WIKI_LOGIN: DEMO_WIKI_BOT_PASSWORD})
    return [WikiSite("wiki", server, context)]
