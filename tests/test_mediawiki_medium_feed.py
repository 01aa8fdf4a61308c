"""Medium through the feed channel: a publication's RSS, as Medium serves it, read over loopback
(tests/data/mediawiki/medium-publication.rss). Medium has no API for responses: read-only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from ecoinbox.channels.base import PermanentError
from ecoinbox.channels.feed import FeedChannel
from ecoinbox.demo.loopback import Handler, LoopbackServer

RECORDED = Path(__file__).parent / "data" / "mediawiki" / "medium-publication.rss"
FEED = "/feed/acme-engineering"


class Medium(LoopbackServer):
    """medium.com's feed path, answering the recorded feed."""

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(FEED, self._feed)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    async def _feed(self, request: web.Request) -> web.Response:
        return web.Response(body=RECORDED.read_bytes(), content_type="text/xml", charset="utf-8")


@pytest.fixture
async def medium() -> AsyncIterator[Medium]:
    async with Medium() as server:
        yield server


async def test_a_publications_stories_come_in_read_only_with_their_authors(medium):
    channel = FeedChannel("medium", medium.base_url, feeds=(FEED,))
    try:
        messages = (await channel.poll({})).messages
        assert (await channel.capabilities()).reply is False
        with pytest.raises(PermanentError, match="read-only"):
            await channel.reply(messages[0], "Thanks!", "key")
    finally:
        await channel.aclose()

    by_author = {message.author.label: message for message in messages}
    assert sorted(by_author) == ["Camille Roux", "Nadia Haddad"]
    story = by_author["Nadia Haddad"]
    assert story.title == "Why the Acme X2 battery drained after firmware 2.1"
    assert "A wake lock in the sync service kept the radio on." in story.text
    assert "stat?event" not in story.text and "<" not in story.text  # the tracking pixel is no text
    assert story.url is not None and story.url.startswith(
        "https://medium.com/acme-engineering/why-the-acme-x2"
    )
    assert story.created_at == datetime(2026, 12, 7, 17, 40, 3, tzinfo=UTC)
    assert "https://forum.acme.example/t/battery" in story.links
    assert by_author["Camille Roux"].text.startswith("Une mise à jour interrompue")
