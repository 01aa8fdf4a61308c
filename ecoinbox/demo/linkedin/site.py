"""The demo's LinkedIn page: the brand's posts and the comments members leave on them."""

from __future__ import annotations

from ecoinbox.demo.linkedin.seed import ORGANIZATION_ID, TOKEN
from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

TOKENS = {"linkedin": TOKEN}


class LinkedInSite(ServerSite):
    kind = "linkedin"
    every = (3, 1)  # a page's comments come slower than mentions on social media
    token = TOKEN

    def settings(self) -> dict[str, TomlValue]:
        return {"organization": str(ORGANIZATION_ID), "poll_interval": 5}


def sites(context: DemoContext) -> list[DemoSite]:
    from ecoinbox.demo.linkedin.server import LinkedInServer

    # The demo shows members' names, as an app LinkedIn lets read profiles would.
    return [LinkedInSite("linkedin", LinkedInServer(people_names=True), context)]
