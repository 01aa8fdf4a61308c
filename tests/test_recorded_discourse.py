"""The Discourse channel parsing real Discourse answers (discourse_api's fixtures, the API docs'
examples), over loopback HTTP. Sources and licences: tests/data/recorded/discourse/SOURCES.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

from recorded import RecordedServer, recorded

from ecoinbox.channels.base import TransientError
from ecoinbox.channels.discourse import DiscourseChannel
from ecoinbox.model import Author, Message, Origin

KEY = "recorded-admin-key-never-shown"


def channel_for(server: RecordedServer, brand: str, **kwargs: object) -> DiscourseChannel:
    return DiscourseChannel(
        "forum",
        server.base_url,
        KEY,
        username=brand,
        auth="api_key",
        **kwargs,  # type: ignore[arg-type]
    )


def topic_post(base_url: str, number: int, post_id: int) -> Message:
    """A post of the recorded topic 57 as the store would hold it."""
    author = Author("forum", "15", "samsaffron")
    return Message(
        "forum", str(post_id), author, "Welcome!", datetime(2013, 2, 4, 20, 26, tzinfo=UTC),
        url=f"{base_url}/t/this-site-is-a-sandbox-it-is-reset-every-day/57/{number}", thread_ref="57",
    )  # fmt: skip


async def test_recorded_topic_reads_back_and_threads() -> None:
    async with RecordedServer({("GET", "/t/57.json"): recorded("discourse", "topic")}) as server:
        channel = channel_for(server, "nobody_here")
        try:
            first = topic_post(server.base_url, 1, 83)
            # Reconciling reads the topic back: nothing of ours in it, so nothing was published.
            since = datetime(2013, 1, 1, tzinfo=UTC)
            assert await channel.find_sent(first, "Thanks for the sandbox!", "", since) is None
            thread = await channel.context("226")
        finally:
            await channel.aclose()
    by_id = {m.remote_id: m for m in thread}
    assert list(by_id) == ["83", "84", "86", "226"]  # by post number
    welcome, last = by_id["83"], by_id["226"]
    assert welcome.title == "THIS SITE IS A SANDBOX -- it is reset every day" and welcome.in_reply_to is None
    assert welcome.created_at == datetime(2013, 2, 4, 20, 26, 26, 278000, tzinfo=UTC)  # from -05:00
    assert welcome.edited_at == datetime(2013, 4, 30, 18, 33, 37, 273000, tzinfo=UTC)  # version 5
    assert "http://www.discourse.org" in welcome.links and welcome.text.startswith("Welcome!")
    assert by_id["86"].edited_at is None and by_id["86"].in_reply_to == "83"
    assert last.in_reply_to == "83" and last.author.display_name == "Stefan Plattner"
    assert last.url == f"{server.base_url}/t/this-site-is-a-sandbox-it-is-reset-every-day/57/14"
    assert last.thread_ref == "57" and last.visibility == "public" and not last.deleted
    assert {m.origin for m in thread} == {Origin.CONTEXT}


async def test_recorded_latest_posts_feed_keyword_listening() -> None:
    routes = {
        ("GET", "/notifications.json"): recorded("discourse", "notifications_empty"),
        ("GET", "/posts.json"): recorded("discourse", "posts_latest"),
    }
    async with RecordedServer(routes) as server:
        channel = channel_for(server, "acme", keywords=("bullhonky", "hi there"))
        try:
            result = await channel.poll({})
        finally:
            await channel.aclose()
    assert [m.remote_id for m in result.messages] == ["14", "15"]
    opener, reply = result.messages
    assert opener.title == "This is an uncategorized title" and opener.text == "hi there. hi there. hi there."
    assert reply.in_reply_to == "14" and reply.author.display_name == "" and reply.author.handle == "johndoe"
    assert {m.origin for m in result.messages} == {Origin.SEARCH}
    assert result.cursor["posts"] == "15"


async def test_recorded_created_post_is_our_new_topic() -> None:
    routes = {("POST", "/posts.json"): recorded("discourse", "created_post")}
    async with RecordedServer(routes) as server:
        channel = channel_for(server, "discourse1")
        try:
            created = await channel.create_topic("Where is my order?", "591dcd02", None, "key")
        finally:
            await channel.aclose()
    assert created.remote_id == "20" and created.origin is Origin.OURS and created.thread_ref == "17"
    assert created.title == "Where is my order?" and created.in_reply_to is None
    assert created.url == f"{server.base_url}/t/b793cb62-e23e-c2da-7e55-9f332f3963d0/17/1"


async def test_recorded_notifications_of_2014_are_a_malformed_answer_in_words() -> None:
    """Discourse of 2014 answered /notifications.json with a bare list (no ids, no paging):
    the channel cannot keep a cursor on it and says so instead of guessing."""
    routes = {("GET", "/notifications.json"): recorded("discourse", "notifications_2014")}
    async with RecordedServer(routes) as server:
        channel = channel_for(server, "acme")
        try:
            try:
                await channel.poll({})
            except TransientError as exc:
                said = str(exc)
            else:
                raise AssertionError("a bare list was taken for notifications")
        finally:
            await channel.aclose()
    assert "malformed response" in said and "/notifications.json" in said
