"""The feed channel against the local WordPress site's RSS and Atom comment feeds, over loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from ecoinbox.channels import feed as feed_module
from ecoinbox.channels.base import Channel, PermanentError, RateLimited, TransientError
from ecoinbox.channels.feed import FeedChannel
from ecoinbox.demo.wordpress_server import WordPressServer
from ecoinbox.model import Origin

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RSS, ATOM = "/comments/feed/", "/comments/feed/atom/"


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name.lower(), raising=False)
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def blog() -> AsyncIterator[WordPressServer]:
    """A fan blog: a review with a question, an answer to it, and a second post."""
    async with WordPressServer(seed=None, name="Widget Fans", public_url="https://fans.example") as site:
        review = site.add_post("review", "Acme Widget 2 review", NOW - timedelta(days=5))
        site.question = site.add_comment(  # type: ignore[attr-defined]
            post=review, author="Nadia", text="<p>Bluetooth drops with the Acme app?</p>",
            created_at=NOW - timedelta(days=2),
        )  # fmt: skip
        site.answer = site.add_comment(  # type: ignore[attr-defined]
            post=review, author="Widget Fans", text="<p>Not here, Nadia.</p>",
            parent=site.question, created_at=NOW - timedelta(days=1),  # type: ignore[attr-defined]
        )  # fmt: skip
        site.review = review  # type: ignore[attr-defined]
        yield site


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., FeedChannel]]:
    channels: list[FeedChannel] = []

    def make(site: WordPressServer, feeds=(RSS,), **kwargs) -> FeedChannel:
        channel = FeedChannel("fans", site.base_url, feeds=feeds, **kwargs)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def feed_requests(site: WordPressServer, path: str = RSS) -> list:
    return [r for r in site.requests if r.path == path]


async def test_it_is_a_read_only_channel(blog, connect):
    channel = connect(blog)
    assert isinstance(channel, Channel)
    assert (await channel.capabilities()).reply is False
    messages = (await channel.poll({})).messages
    with pytest.raises(PermanentError, match="read-only feed") as refused:
        await channel.reply(messages[0], "hi", "key")
    assert "https://fans.example/review/#comment-" in str(refused.value)  # where to reply instead


@pytest.mark.parametrize("path", [RSS, ATOM])
async def test_first_poll_reads_the_comments_with_their_thread(blog, connect, path):
    question, answer = (await connect(blog, feeds=(path,)).poll({})).messages
    assert (question.author.handle, question.text) == ("Nadia", "Bluetooth drops with the Acme app?")
    assert question.title == "Acme Widget 2 review" and question.origin is Origin.MENTION
    assert question.url == f"https://fans.example/review/#comment-{blog.question}"
    assert question.created_at == NOW - timedelta(days=2)
    assert question.in_reply_to is None  # Atom points a top-level comment at the post: no entry
    assert answer.in_reply_to == question.remote_id
    assert answer.text == "Not here, Nadia."  # WordPress's "In reply to Nadia." is the thread's job


async def test_rss_and_atom_of_one_site_give_each_comment_once(blog, connect):
    messages = (await connect(blog, feeds=(RSS, ATOM)).poll({})).messages
    assert len(messages) == 2


async def test_a_steady_poll_is_a_304_and_a_new_comment_comes_alone(blog, connect):
    channel = connect(blog)
    cursor = (await channel.poll({})).cursor
    state = json.loads(cursor["feed:" + blog.base_url + RSS])
    assert state["etag"] and state["modified"] and len(state["seen"]) == 2
    assert (await channel.poll(cursor)).messages == []
    conditional = feed_requests(blog)[-1]
    assert conditional.headers["If-None-Match"] == state["etag"]
    assert conditional.headers["If-Modified-Since"] == state["modified"]
    new = blog.add_comment(post=blog.review, author="Oscar", text="<p>Mine too</p>", created_at=NOW)
    result = await channel.poll(cursor)
    assert [m.url for m in result.messages] == [f"https://fans.example/review/#comment-{new}"]
    # A new process with the stored cursor repeats nothing.
    assert (await connect(blog).poll(result.cursor)).messages == []


async def test_entries_are_recognized_by_id_even_when_the_server_ignores_validators(blog, connect):
    channel = connect(blog)
    cursor = (await channel.poll({})).cursor
    state = json.loads(cursor["feed:" + blog.base_url + RSS])
    state["etag"], state["modified"] = None, None
    cursor["feed:" + blog.base_url + RSS] = json.dumps(state)
    assert (await channel.poll(cursor)).messages == []


async def test_a_forgotten_id_older_than_the_floor_does_not_come_back(blog, connect, monkeypatch):
    monkeypatch.setattr(feed_module, "SEEN_CAP", 1)
    channel = connect(blog)
    cursor = (await channel.poll({})).cursor
    state = json.loads(cursor["feed:" + blog.base_url + RSS])
    assert len(state["seen"]) == 1 and state["floor"] == int((NOW - timedelta(days=2)).timestamp())
    state["etag"] = state["modified"] = None
    cursor["feed:" + blog.base_url + RSS] = json.dumps(state)
    assert (await channel.poll(cursor)).messages == []


async def test_a_feed_that_fails_keeps_its_cursor_while_the_others_go_on(blog, connect):
    channel = connect(blog, feeds=(RSS, ATOM))
    blog.inject(
        ATOM, status=200, body="<html><body>Log in</body></html>", headers={"Content-Type": "text/html"}
    )
    result = await channel.poll({})
    assert len(result.messages) == 2  # from the RSS feed
    assert "feed:" + blog.base_url + ATOM not in result.cursor
    assert "feed:" + blog.base_url + RSS in result.cursor


async def test_every_feed_failing_fails_the_poll(blog, connect):
    blog.inject(RSS, status=502, body="Bad Gateway", headers={"Content-Type": "text/html"})
    with pytest.raises(TransientError):
        await connect(blog).poll({})
    blog.inject(RSS, status=404, body="{}")
    with pytest.raises(PermanentError, match="no feed"):
        await connect(blog).poll({})


async def test_429_with_retry_after_is_a_rate_limit(blog, connect):
    blog.inject(RSS, status=429, body="", headers={"Retry-After": "90"})
    with pytest.raises(RateLimited) as limited:
        await connect(blog).poll({})
    assert limited.value.retry_at > datetime.now(UTC) + timedelta(seconds=80)


async def test_a_malformed_feed_is_read_as_far_as_it_goes(blog, connect):
    body = (await _rss_body(blog)).replace(b"</channel></rss>", b"<item><title>broken &nbsp; <b>")
    blog.inject(RSS, status=200, body=body, headers={"Content-Type": "application/rss+xml"})
    messages = (await connect(blog).poll({})).messages
    assert {m.author.handle for m in messages} >= {"Nadia", "Widget Fans"}


async def test_a_body_naming_a_local_file_is_not_read_as_one(blog, connect, tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text(
        '<rss version="2.0"><channel><item><guid>LEAK</guid><title>leak</title></item></channel></rss>'
    )
    blog.inject(RSS, status=200, body=str(secret), headers={"Content-Type": "text/plain"})
    with pytest.raises(TransientError, match="not an RSS or Atom feed"):
        await connect(blog).poll({})


async def test_hostile_entries_are_sanitized(blog, connect):
    blog.add_comment(post=blog.review, author="\u202eEvil\u202c", created_at=NOW,
                     text='<p>hi\x1b]0;x\x07 <script>alert(1)</script><a href="javascript:alert(1)">click</a></p>')  # fmt: skip
    hostile = (await connect(blog, feeds=(ATOM,)).poll({})).messages[-1]
    assert "\u202e" not in hostile.author.handle and "\x1b" not in hostile.text
    assert "alert" not in hostile.text
    assert not any("javascript" in link for link in hostile.links)


async def test_basic_auth_goes_to_the_base_origin_only(blog, connect):
    blog.add_user("reader", "Reader", "s3cret pass", moderator=False)
    async with WordPressServer(seed=None) as elsewhere:
        channel = connect(
            blog, feeds=(RSS, elsewhere.base_url + RSS), account="reader", password="s3cret pass"
        )
        assert "s3cret" not in repr(channel)
        await channel.poll({})
    sent = feed_requests(blog)[-1].headers.get("Authorization")
    assert sent == "Basic " + base64.b64encode(b"reader:s3cret pass").decode()
    assert "Authorization" not in feed_requests(elsewhere)[-1].headers


async def test_context_has_nothing_more_to_give(blog, connect):
    assert await connect(blog).context("anything") == []


async def test_check_names_the_feeds(blog, connect):
    said = await connect(blog, feeds=(RSS, ATOM)).check()
    assert "2 feed(s)" in said and "RSS" in said and "Atom" in said and "Widget Fans" in said


async def _rss_body(site: WordPressServer) -> bytes:
    import httpx

    async with httpx.AsyncClient() as client:
        return (await client.get(site.base_url + RSS)).content
