"""A Facebook reply goes out once through the real outbox: its answer lost and the read-back right
after failing too, it is uncertain, and the next round finds it on the Page instead of resending."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fakes import Clock

from ecoinbox.channels.facebook.channel import FacebookChannel
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import PAGE_ID, GraphServer
from ecoinbox.engine.outbox import OutboxSender
from ecoinbox.model import OutboxState
from ecoinbox.store import open_store

TOKEN = "fb-outbox-page-token-0123456789"
ZOE = Person("7100000000000055", "Zoé Lambert", "zoe")


async def test_a_lost_answer_is_found_on_the_page_not_sent_again(tmp_path: Path) -> None:
    clock = Clock()
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    async with GraphServer(seed=None, now=clock, page_token=TOKEN) as server:
        channel = FacebookChannel(
            "facebook", server.base_url, TOKEN, page_id=PAGE_ID, clock=clock, timeout=1.0
        )
        try:
            post = server.add_post(server.page, "Our new kettle", clock() - timedelta(hours=2))
            question = server.add_comment(
                post.id, ZOE, "Does it ship to Canada?", clock() - timedelta(hours=1)
            )
            polled = await channel.poll({})
            result = await store.ingest(polled.messages, cursor=("facebook", polled.cursor))
            (conversation,) = result.conversation_ids
            parent = await store.message("facebook", question.id)
            assert parent is not None
            item = await store.queue_reply(conversation, parent, "Yes, from next month!")
            out = OutboxSender(store, {"facebook": channel}, owner="test", clock=clock)

            server.drop_answer_after_post = 1  # made, and the answer never comes
            server.inject(f"/v23.0/{post.id}/comments", status=503, times=1,
                          body='{"error":{"message":"busy","code":2,"type":"OAuthException"}}')  # fmt: skip
            await out.send_due()
            (unsure,) = await store.outbox_items()
            assert unsure.state is OutboxState.UNKNOWN
            assert len([w for w in server.sent if "comment" in w]) == 1

            clock.advance(minutes=30)
            await out.send_due()
            (done,) = await store.outbox_items()
            [sent] = [w for w in server.sent if "comment" in w]
            assert done.id == item.id and done.state is OutboxState.SENT and done.remote_id == sent["comment"]
        finally:
            await channel.aclose()
            await store.close()
