"""Answers recorded from graph.facebook.com (python-facebook's test data, Apache-2.0: see
tests/data/facebook/README.md) read by the Facebook and Instagram channels' own parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ecoinbox.channels.facebook.channel import FacebookChannel
from ecoinbox.channels.graph import GraphClient, GraphError
from ecoinbox.channels.http import HttpResponse
from ecoinbox.channels.instagram.channel import InstagramChannel
from ecoinbox.model import Origin

DATA = Path(__file__).parent / "data"
PAGE = "19292868552"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def test_page_posts_comments_and_messages_are_read() -> None:
    channel = FacebookChannel("fb", "https://graph.facebook.com", "t", page_id=PAGE)
    try:
        page = GraphClient.page_of(load("facebook/feed_fields_p1.json"))
        posts = [channel.to_post(item, Origin.MENTION) for item in page.items]
        assert posts[0].text == "Happy July 4th! 🇺🇸" and posts[0].created_at == datetime(
            2021, 7, 4, 19, 50, 58, tzinfo=UTC
        )
        assert page.next_params == {
            "until": "1624385168",
            "__paging_token": "__paging_token",
        }  # time-paged feed
        comments = [channel.to_comment(item, f"{PAGE}_10158371815748553", Origin.MENTION)
                    for item in load("facebook/comments_info.json").values()]  # fmt: skip
        assert comments[0].remote_id == "10158371815748553_10158371930463553"
        assert channel.post_of(comments[0].remote_id) == f"{PAGE}_10158371815748553"
        assert comments[1].url and comments[1].url.endswith("?comment_id=10158372268858553")
        assert comments[0].author.label == "Facebook user"  # no `from` asked: an author of its own
        created = channel.to_comment(load("facebook/comment_create_resp.json"), "245628824887810_245778718206154",
                                   Origin.OURS)  # fmt: skip
        assert created.text == "Message from api and updated"
        stream = GraphClient.page_of(load("facebook/comments_stream_p1.json"))
        assert len(stream.items) == 10 and all("id" not in item for item in stream.items)
        messages = [
            channel.to_direct(item, "t_587956915396498", None)
            for item in load("facebook/messages_info.json").values()
        ]
        assert {m.author.label for m in messages} == {"Kun Liu"} and all(
            m.visibility == "direct" for m in messages
        )
        assert messages[0].mentions == ("2121008874780932",)  # the Page it was written to
    finally:
        await channel.aclose()


def test_a_recorded_error_is_said_with_its_code_and_trace() -> None:
    body = json.dumps(load("facebook/error_data.json")).encode()
    url = httpx.URL("https://graph.facebook.com/v23.0/1")
    response = HttpResponse("GET", 400, httpx.Headers(), body, url, "fb")
    error = GraphError.of(response)
    assert (error.code, error.trace) == (100, "AQt_hJ68vFybS4TnupatNtX")
    assert error.words.endswith("(code 100, trace AQt_hJ68vFybS4TnupatNtX)")


async def test_instagram_comments_without_a_username_are_read() -> None:
    channel = InstagramChannel("ig", "https://graph.facebook.com", "t", page_id=PAGE, ig_user_id="1784")
    try:
        page = GraphClient.page_of(load("instagram/media_comments_p1.json"))
        comments = [channel.to_comment(item, "17846368219941692", Origin.MENTION) for item in page.items]
        assert [c.text for c in comments] == ["Beautiful!", "Beautiful!"]
        assert comments[0].author.remote_id != comments[1].author.remote_id  # nobody merged
        named = [
            channel.to_comment(i, "1", Origin.MENTION)
            for i in load("instagram/comments_fields.json").values()
        ]
        assert named[0].author.handle == "ikroskun" and named[0].in_reply_to is None
    finally:
        await channel.aclose()
