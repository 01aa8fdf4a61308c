"""The Reddit channel parsing real Reddit answers (PRAW's recorded cassettes), over loopback HTTP.

Each answer is served as Reddit sent it (tests/data/recorded/reddit/SOURCES.md) so the channel reads
it through its normal request path: token, listing, thread, comment.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from fakes import Clock
from recorded import Answer, RecordedServer, recorded, recorded_json

from ecoinbox.channels.base import AuthError
from ecoinbox.channels.reddit import RedditChannel
from ecoinbox.model import Author, Message, Origin

REFRESH = "recorded-refresh-token-never-shown"


def empty_listing() -> Answer:
    """An empty Listing as Reddit sent it (the comment listing of a thread whose only comment
    was deleted)."""
    return Answer(json.dumps(recorded_json("reddit", "thread_deleted_comment")[1]).encode())


def token() -> Answer:
    return recorded("reddit", "access_token")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 6, 20, tzinfo=UTC))


@pytest.fixture
async def inbox() -> AsyncIterator[RecordedServer]:
    """Mentions and comment replies as recorded; the comment replies' second page (`after`) and
    the post replies are empty listings."""

    def comments(request):  # type: ignore[no-untyped-def]
        return empty_listing() if request.query.get("after") else recorded("reddit", "comment_replies_page")

    routes = {
        ("POST", "/api/v1/access_token"): token(),
        ("GET", "/message/mentions"): recorded("reddit", "mentions"),
        ("GET", "/message/comments"): comments,
        ("GET", "/message/selfreply"): empty_listing(),
    }
    async with RecordedServer(routes) as server:
        yield server


def channel_for(server: RecordedServer, clock: Clock, account: str = "brand") -> RedditChannel:
    return RedditChannel(
        "reddit", server.base_url, REFRESH, client_id="cid", account=account, auth_url=server.base_url,
        clock=clock,
    )  # fmt: skip


async def test_recorded_inbox_mentions_and_comment_replies(inbox, clock) -> None:
    channel = channel_for(inbox, clock)
    try:
        result = await channel.poll({})
    finally:
        await channel.aclose()
    by_id = {m.remote_id: m for m in result.messages}
    assert set(by_id) == {"t1_da2g9oh", "t1_mynqwvd", "t1_mynqw2i", "t1_mynqvbt"}
    mention = by_id["t1_da2g9oh"]
    assert mention.author.handle == "PyAPITestUser3" and mention.author.label == "u/PyAPITestUser3"
    # The rendered body: HTML comments (SC_OFF) dropped, the u/ link kept as written.
    assert mention.text == "But seriously, /u/pyapitestuser2, donde esta?"
    assert mention.in_reply_to == "t3_5d7tk7" and mention.thread_ref == "t3_5d7tk7"  # from `context`
    assert mention.title == "Calling test" and mention.origin is Origin.MENTION
    assert mention.url == "https://www.reddit.com/r/PRAW_73oy54eo3a/comments/5d7tk7/calling_test/da2g9oh/"
    assert mention.created_at == datetime.fromtimestamp(1479278253.0, UTC)
    assert mention.edited_at is None and not mention.deleted  # "edited" absent in inbox items
    reply = by_id["t1_mynqwvd"]
    assert reply.author.remote_id == "t2_3ebyblla" and reply.in_reply_to == "t1_myngt77"
    assert reply.thread_ref == "t3_1j7g9uj" and reply.text == "Comment Body"
    # The listing said more follows (`after`): the channel asked for it, and got an empty page.
    (second,) = [s for s in inbox.asked("/message/comments") if "after" in s.query]
    assert second.query["after"] == "t1_mynm218"
    assert [m.remote_id for m in result.messages][-1] == "t1_mynqwvd"  # oldest first
    assert result.cursor["comments"] == "t1_mynqwvd" and result.cursor["mentions"] == "t1_da2g9oh"


async def test_recorded_rate_limit_headers_leave_the_host_open(inbox, clock) -> None:
    channel = channel_for(inbox, clock)
    try:
        await channel.poll({})
        assert channel._http.paused_until() is None  # 596 requests left: no pause
    finally:
        await channel.aclose()


def parent_comment() -> Message:
    author = Author("reddit", "t2_x", "someone")
    return Message("reddit", "t1_d1616q2", author, "parent", datetime(2016, 3, 20, tzinfo=UTC))


async def test_recorded_comment_answer_is_our_reply_with_a_link(clock) -> None:
    routes = {
        ("POST", "/api/v1/access_token"): token(),
        ("POST", "/api/comment"): recorded("reddit", "comment_reply"),
    }
    async with RecordedServer(routes) as server:
        channel = channel_for(server, clock, account="<USERNAME>")
        try:
            sent = await channel.reply(parent_comment(), "Comment reply", "key")
        finally:
            await channel.aclose()
    assert sent.remote_id == "t1_d1680wu" and sent.in_reply_to == "t1_d1616q2"
    assert sent.origin is Origin.OURS and sent.text == "Comment reply" and sent.thread_ref == "t3_4b1tfm"
    assert sent.edited_at is None
    # 2016's answer has no permalink: the link is built from the post and comment ids.
    assert sent.url == "https://www.reddit.com/comments/4b1tfm/_/d1680wu/"


async def test_recorded_deleted_comment_is_marked_deleted_in_its_thread(clock) -> None:
    routes = {
        ("POST", "/api/v1/access_token"): token(),
        ("GET", "/api/info"): recorded("reddit", "info_deleted_comment"),
        ("GET", "/comments/52o2fl"): recorded("reddit", "thread_deleted_comment"),
    }
    async with RecordedServer(routes) as server:
        channel = channel_for(server, clock)
        try:
            thread = await channel.context("t1_d7ltvl0")
        finally:
            await channel.aclose()
    # Reddit leaves a deleted comment out of its thread; /api/info still has it, as [deleted].
    assert [m.remote_id for m in thread] == ["t3_52o2fl", "t1_d7ltvl0"]
    post, gone = thread
    assert post.title == "testing define bot!" and post.text == "testing define bot!\n\ntest"
    assert not post.deleted and post.author.handle == "CorvetteCole"
    assert gone.deleted and gone.in_reply_to == "t3_52o2fl" and gone.author.handle == "[deleted]"


async def test_recorded_401_renews_the_access_token_once_then_says_what_to_do(clock) -> None:
    routes = {
        ("POST", "/api/v1/access_token"): token(),
        ("GET", "/api/v1/me"): recorded("reddit", "unauthorized", status=401),
    }
    async with RecordedServer(routes) as server:
        channel = channel_for(server, clock)
        try:
            with pytest.raises(AuthError, match="run `ecoinbox auth reddit`") as caught:
                await channel.check()
        finally:
            await channel.aclose()
    assert caught.value.status == 401 and REFRESH not in str(caught.value)
    assert len(server.asked("/api/v1/access_token")) == 2 and len(server.asked("/api/v1/me")) == 2


async def test_recorded_edited_comment_has_its_edit_time(clock) -> None:
    """`edited` is false, or the time of the last edit (here from /api/editusertext, whose
    answer has the same shape as a comment's)."""
    routes = {
        ("POST", "/api/v1/access_token"): token(),
        ("POST", "/api/comment"): recorded("reddit", "edited_comment"),
    }
    author = Author("reddit", "t2_op", "op")
    post = Message("reddit", "t3_4b1tfm", author, "a post", datetime(2016, 3, 19, tzinfo=UTC))
    async with RecordedServer(routes) as server:
        channel = channel_for(server, clock, account="<USERNAME>")
        try:
            sent = await channel.reply(post, "New text", "key")
        finally:
            await channel.aclose()
    assert sent.remote_id == "t1_d1616q2" and sent.text == "New text"
    assert sent.edited_at == datetime.fromtimestamp(1458444463.0, UTC)
    assert sent.created_at == datetime.fromtimestamp(1458421476.0, UTC)
