"""A Bluesky reply goes out once through the real outbox, whatever the PDS answers a reused
record key (400, 409 or the real PDS's 500) and however late the AppView shows the reply."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from fakes import Clock
from test_channel_bluesky import BRAND, HABITS, PASSWORD

from ecoinbox.channels.bluesky import BlueskyChannel
from ecoinbox.demo.bluesky.server import BlueskyServer
from ecoinbox.engine.outbox import OutboxSender
from ecoinbox.model import OutboxState
from ecoinbox.store import open_store


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest) -> AsyncIterator[BlueskyServer]:
    habits: dict = HABITS[request.param]
    pds = BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, **habits)
    async with pds as running:
        yield running


async def test_a_lost_answer_and_a_late_appview_still_publish_the_reply_once(server, tmp_path) -> None:
    clock = Clock()
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    channel = BlueskyChannel("bsky", server.base_url, PASSWORD, handle=BRAND, timeout=0.5)
    try:
        post = server.add_post(author="zoe.bsky.example", text="where is my order?", mention_brand=True)
        polled = await channel.poll({})
        result = await store.ingest(polled.messages, cursor=("bsky", polled.cursor))
        (conversation,) = result.conversation_ids
        parent = await store.message("bsky", post["uri"])
        assert parent is not None
        item = await store.queue_reply(conversation, parent, "Sorry Zoe, it ships today")
        out = OutboxSender(store, {"bsky": channel}, owner="test", clock=clock)

        # The post is made but its answer never comes, and the check right after fails too.
        server.inject("/xrpc/com.atproto.repo.createRecord", status=200, delay=2.0, after_handling=True)
        server.inject("/xrpc/com.atproto.repo.getRecord", status=503, times=1,
                      body='{"error":"InternalServerError","message":"busy"}')  # fmt: skip
        await out.send_due()
        (unsure,) = await store.outbox_items()
        assert unsure.state is OutboxState.UNKNOWN and len(server.created) == 1

        # The AppView has not indexed the reply yet: the thread read says "not there".
        lagging = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": server.post(post["uri"]),
                              "replies": []}}  # fmt: skip
        server.inject("/xrpc/app.bsky.feed.getPostThread", status=200, body=json.dumps(lagging))
        clock.advance(minutes=30)
        await out.send_due()

        (done,) = await store.outbox_items()
        (created,) = server.created  # the resend met the taken record key and read the post back
        assert done.id == item.id and done.state is OutboxState.SENT and done.remote_id == created.uri
        assert server.calls("com.atproto.repo.createRecord") == 2
    finally:
        await channel.aclose()
        await store.close()
