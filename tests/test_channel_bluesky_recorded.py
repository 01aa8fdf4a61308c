"""The Bluesky channel reading answers recorded from Bluesky's real servers (tests/data/recorded/bluesky,
sources and licences in its SOURCES.md), served over loopback in place of the local PDS's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoinbox.channels.base import PermanentError
from ecoinbox.channels.bluesky import BlueskyChannel
from ecoinbox.demo.bluesky.server import BlueskyServer
from ecoinbox.model import Message

RECORDED = Path(__file__).parent / "data" / "recorded" / "bluesky"
PASSWORD = "abcd-efgh-ijkl-mnop"
BRAND = "acme.bsky.example"


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


@pytest.fixture
async def server() -> AsyncIterator[BlueskyServer]:
    async with BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD) as running:
        yield running


@pytest.fixture
async def channel(server: BlueskyServer) -> AsyncIterator[BlueskyChannel]:
    opened = BlueskyChannel("bsky", server.base_url, PASSWORD, handle=BRAND)
    yield opened
    await opened.aclose()


async def a_parent(server: BlueskyServer, channel: BlueskyChannel) -> Message:
    post = server.add_post(author="zoe.bsky.example", text="hello", mention_brand=True)
    return next(m for m in (await channel.poll({})).messages if m.remote_id == post["uri"])


def test_every_recorded_file_is_named_in_sources() -> None:
    sources = recorded("SOURCES.md")
    files = sorted(path.name for path in RECORDED.glob("*.json"))
    assert files and all(f"`{name}`" in sources for name in files)


async def test_a_recorded_thread_with_a_quote_and_an_image(server, channel) -> None:
    server.inject(
        "/xrpc/app.bsky.feed.getPostThread", status=200, body=recorded("getPostThread-recordWithMedia.json")
    )
    uri = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    (post,) = await channel.context(uri)
    quoted = "https://bsky.app/profile/did:plc:kvwvcn5iqfooopmyzvb4qzba/post/3kahesw26il2z"
    assert post.remote_id == uri and post.thread_ref == uri and post.in_reply_to is None
    assert (post.author.handle, post.author.display_name) == ("test.marshal.dev", "I love Python 3")
    assert post.text == f"[quoting: {quoted}] [image]" and post.links == (quoted,)
    assert post.language == "en" and post.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert post.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22" and not post.is_ours


async def test_a_recorded_thread_quoting_another_account(server, channel) -> None:
    server.inject(
        "/xrpc/app.bsky.feed.getPostThread", status=200, body=recorded("getPostThread-quote-with-images.json")
    )
    (post,) = await channel.context("at://did:plc:hbtuqflamm5j2i7yahtzsnue/app.bsky.feed.post/3k3ic43ucbq2f")
    assert post.author.handle == "raven.corvids.club"
    assert post.author.proofs == ("https://bsky.app/profile/raven.corvids.club", "https://raven.corvids.club")
    assert post.text.startswith(
        "[quoting: https://bsky.app/profile/did:plc:z2rokxrttw5254hogmucux2x/post/3k3hbh6k7752z]"
    )


async def test_a_recorded_handle_resolution_makes_the_mention_facet(server, channel) -> None:
    parent = await a_parent(server, channel)
    server.inject("/xrpc/com.atproto.identity.resolveHandle", status=200, body=recorded("resolveHandle.json"))
    await channel.reply(parent, "Thanks @bsky.app for the help", "k-resolve")
    (created,) = server.created
    (facet,) = created.record["facets"]
    assert facet["features"][0] == {
        "$type": "app.bsky.richtext.facet#mention",
        "did": "did:plc:z72i7hdynmk6r22z27h6tvur",
    }


async def test_the_real_pds_500_on_a_taken_record_key_is_read_back_not_failed(server, channel) -> None:
    parent = await a_parent(server, channel)
    # The post is made, then the answer is the real PDS's 500 for a record key already in use.
    server.inject("/xrpc/com.atproto.repo.createRecord", status=500, after_handling=True,
                  body=recorded("createRecord-existing-rkey-500.json"))  # fmt: skip
    sent = await channel.reply(parent, "Hello once", "k-500")
    assert [c.uri for c in server.created] == [sent.remote_id] and sent.is_ours


@pytest.mark.parametrize("name", ["getRecord-post.json", "getRecord-post-extra-field.json"])
async def test_a_recorded_record_that_is_not_our_reply_is_never_taken_for_it(server, channel, name) -> None:
    parent = await a_parent(server, channel)
    server.inject(
        "/xrpc/com.atproto.repo.createRecord",
        status=500,
        body=recorded("createRecord-existing-rkey-500.json"),
    )
    server.inject("/xrpc/com.atproto.repo.getRecord", status=200, body=recorded(name))
    with pytest.raises(PermanentError, match="holds another post"):
        await channel.reply(parent, "Hello", "k-other")
    assert server.created == []


@pytest.mark.parametrize("name", ["getRecord-post.json", "getRecord-post-extra-field.json"])
async def test_a_parent_the_appview_hides_but_the_pds_has_is_not_marked_deleted(
    server, channel, name
) -> None:
    parent = await a_parent(server, channel)
    server.inject("/xrpc/app.bsky.feed.getPosts", status=200, body='{"posts": []}')
    server.inject("/xrpc/com.atproto.repo.getRecord", status=200, body=recorded(name))
    with pytest.raises(PermanentError, match="hides the post this replies to"):
        await channel.reply(parent, "Hello", "k-hidden")
    assert server.created == []
