"""The feed channel against the local WordPress site's RSS and Atom comment feeds, over loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from configs import channel_toml, config_file
from stack import wait_until

import ecoinbox.channels.feed.channel as feed_module
from ecoinbox.channels import build_channel
from ecoinbox.channels.base import Channel, PermanentError, RateLimited, TransientError
from ecoinbox.channels.feed import FeedChannel
from ecoinbox.channels.feed.unit import FeedSettings
from ecoinbox.config import BrandSettings
from ecoinbox.demo.loopback import LoopbackServer
from ecoinbox.demo.wordpress.server import FEED_SIZE, WordPressServer
from ecoinbox.engine import Engine
from ecoinbox.model import Origin
from ecoinbox.secrets import Secret
from ecoinbox.store import open_store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RSS, ATOM = "/comments/feed/", "/comments/feed/atom/"


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
    with pytest.raises(PermanentError, match="no feed") as missing:
        await connect(blog).poll({})
    assert "?feed=comments-rss2" in str(missing.value)  # where plain permalinks put it


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
    async with httpx.AsyncClient() as client:
        return (await client.get(site.base_url + RSS)).content


# ---- names as WordPress stores them ---------------------------------------------------------


@pytest.mark.parametrize("path", [RSS, ATOM])
async def test_html_escaped_author_names_are_read_as_written(blog, connect, path):
    """WordPress keeps a comment's author name HTML-escaped and its RSS feed quotes it so, in
    CDATA: `<dc:creator><![CDATA[Ben &amp; Jerry's]]>`."""
    blog.add_comment(post=blog.review, author="Ben &amp; Jerry&#039;s", text="<p>Love it</p>", created_at=NOW)
    newest = (await connect(blog, feeds=(path,)).poll({})).messages[-1]
    assert newest.author.handle == newest.author.display_name == "Ben & Jerry's"


# ---- finding the comments feed of a site ----------------------------------------------------


class PlainPermalinkSite(LoopbackServer):
    """A WordPress site with plain permalinks in front of a WordPressServer: `/comments/feed/`
    is a 404 and the comments feed is `/?feed=comments-rss2` (real WordPress does this when
    Settings > Permalinks is "Plain", and its REST API then answers only at `?rest_route=`).

    Habits: `names_feed_in_page` (the theme prints WordPress's `<link rel="alternate">` tags, as
    `feed_links` does by default; False: a theme that removed them), `link_header_feed` (a
    `Link: <...>; rel="alternate"; type="application/rss+xml"` header, as some sites' caches or
    plugins send)."""

    def __init__(self, blog: WordPressServer, *, names_feed_in_page: bool = True,
                 link_header_feed: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.blog = blog
        self.names_feed_in_page = names_feed_in_page
        self.link_header_feed = link_header_feed

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self._front)

    async def _answer(self, request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
        return await handler(request)

    async def _front(self, request: web.Request) -> web.StreamResponse:
        feed = request.query.get("feed")
        if feed in ("comments-rss2", "comments-atom"):
            return await self._relay(request, RSS if feed == "comments-rss2" else ATOM)
        links = [f'<{self.base_url}/?rest_route=/>; rel="https://api.w.org/"']
        if self.link_header_feed:
            links.append(
                f'<{self.base_url}/?feed=comments-rss2>; rel="alternate"; type="application/rss+xml"'
            )
        tags = (
            f'<link rel="alternate" type="application/rss+xml" title="Widget Fans &raquo; Feed" '
            f'href="{self.base_url}/?feed=rss2" />\n'
            f'<link rel="alternate" type="application/rss+xml" title="Widget Fans &raquo; Comments Feed" '
            f'href="{self.base_url}/?feed=comments-rss2" />'
        ) if self.names_feed_in_page else ""  # fmt: skip
        page = (f"<!DOCTYPE html><html><head><title>Widget Fans</title>{tags}"
                f"<link rel='stylesheet' href='{self.base_url}/wp-content/themes/x/style.css' /></head>"
                "<body><h1>Widget Fans</h1></body></html>")  # fmt: skip
        return web.Response(text=page, content_type="text/html", headers={"Link": ", ".join(links)})

    async def _relay(self, request: web.Request, path: str) -> web.Response:
        asked = {
            k: v for k, v in request.headers.items() if k.lower() in ("if-none-match", "if-modified-since")
        }
        async with httpx.AsyncClient() as client:
            answer = await client.get(self.blog.base_url + path, headers=asked)
        kept = {
            k: v for k, v in answer.headers.items() if k.lower() in ("etag", "last-modified", "content-type")
        }
        return web.Response(status=answer.status_code, body=answer.content, headers=kept)


@pytest.mark.parametrize(
    "habits",
    [{}, {"names_feed_in_page": False}, {"names_feed_in_page": False, "link_header_feed": True}],
    ids=["feed named in the page", "WordPress without feed links", "feed named in a Link header"],
)
async def test_a_site_url_finds_its_comments_feed_with_plain_permalinks(blog, habits):
    async with PlainPermalinkSite(blog, **habits) as site:
        channel = FeedChannel("fans", site.base_url)  # no `feeds`: the site is asked
        try:
            first = await channel.poll({})
            again = await channel.poll(first.cursor)
            said = await channel.check()
        finally:
            await channel.aclose()
    assert channel.feeds == (site.base_url + "/?feed=comments-rss2",)
    assert [m.author.handle for m in first.messages] == ["Nadia", "Widget Fans"]
    assert again.messages == [] and set(first.cursor) == {"feed:" + site.base_url + "/?feed=comments-rss2"}
    assert "1 feed(s)" in said and "RSS" in said


async def test_a_pretty_permalink_site_keeps_its_comments_feed_and_its_cursor(blog):
    """The site's home page does not answer (the demo site has none): /comments/feed/ as before."""
    channel = FeedChannel("fans", blog.base_url)
    try:
        result = await channel.poll({})
    finally:
        await channel.aclose()
    assert len(result.messages) == 2 and set(result.cursor) == {"feed:" + blog.base_url + RSS}


# ---- a feed that overflows between polls, and the brand's own comments -----------------------


def add_comments(site: WordPressServer, count: int, start: datetime) -> None:
    for number in range(count):
        site.add_comment(post=site.review, author=f"Reader {number}", text=f"<p>Comment {number}</p>",
                         created_at=start + timedelta(minutes=number))  # fmt: skip


async def test_more_comments_than_the_feed_holds_between_polls_are_said_to_be_missing(blog, connect):
    channel = connect(blog)
    cursor = (await channel.poll({})).cursor
    add_comments(blog, FEED_SIZE - 1, NOW)  # the question's answer is still in the feed: no gap
    steady = await channel.poll(cursor)
    assert len(steady.messages) == FEED_SIZE - 1 and steady.warnings == ()
    add_comments(blog, FEED_SIZE + 2, NOW + timedelta(hours=1))
    overflowed = await channel.poll(steady.cursor)
    assert len(overflowed.messages) == FEED_SIZE  # two were never in the feed when it was read
    (warning,) = overflowed.warnings
    assert "may be missing" in warning and blog.base_url.split("//")[1] in warning
    assert (await channel.poll(overflowed.cursor)).warnings == ()  # said once, when it happened


async def test_deleted_comments_are_no_gap(blog, connect):
    channel = connect(blog)
    cursor = (await channel.poll({})).cursor
    for comment in (blog.question, blog.answer):
        blog.set_status(comment, "trash")
    blog.add_comment(post=blog.review, author="Oscar", text="<p>Mine too</p>", created_at=NOW)
    result = await channel.poll(cursor)
    assert [m.author.handle for m in result.messages] == ["Oscar"] and result.warnings == ()


async def test_a_first_poll_of_a_full_feed_is_no_gap(blog, connect):
    add_comments(blog, FEED_SIZE + 5, NOW)
    assert (await connect(blog).poll({})).warnings == ()


async def test_the_status_line_says_a_feed_overflowed_until_it_is_old_news(blog, connect, tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"fans": connect(blog)}, poll_intervals={"fans": 3600}, leased=False)
    try:
        await engine.start()
        await wait_until(lambda: engine.statuses["fans"].state == "ok")
        assert engine.statuses["fans"].warning == ""
        add_comments(blog, FEED_SIZE + 2, NOW + timedelta(hours=1))
        engine.poll_now("fans")
        await wait_until(lambda: engine.statuses["fans"].warning != "")
        status = engine.statuses["fans"]
        assert status.detail.startswith(f"{FEED_SIZE} new; ") and "may be missing" in status.detail
        engine.poll_now("fans")  # nothing new: the warning stays for a while
        await wait_until(lambda: engine.statuses["fans"].detail.startswith("up to date"))
        assert "may be missing" in engine.statuses["fans"].detail
    finally:
        await engine.stop()
        await store.close()


async def test_the_headless_poll_prints_the_overflow(blog, tmp_path):
    config = config_file(
        tmp_path, channel_toml(kind="feed", name="fans", base_url=blog.base_url, feeds=[RSS])
    )

    async def poll_once() -> str:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ecoinbox.cli", "--config", str(config), "poll", "--once",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(child.communicate(), timeout=60)
        assert child.returncode == 0, err.decode()
        return out.decode()

    assert "WARNING" not in await poll_once()
    add_comments(blog, FEED_SIZE + 2, NOW + timedelta(hours=1))
    said = await poll_once()
    assert f"fans: {FEED_SIZE} new" in said and "fans: WARNING: " in said and "may be missing" in said


async def test_check_says_when_a_feed_fills_within_the_hour(blog, connect):
    quiet = await connect(blog).check()
    assert "\n" not in quiet  # two comments a day apart: nothing to say
    add_comments(blog, FEED_SIZE, NOW)
    said = (await connect(blog).check()).splitlines()
    assert len(said) == 2 and f"only its newest {FEED_SIZE} comments" in said[1]
    assert "poll_interval" in said[1]


async def test_the_brands_own_comments_in_a_feed_are_ours(blog):
    """The brand answers on the fan blog as "Widget Fans" ([brand] name) or "acme" (a handle)."""
    blog.add_comment(post=blog.review, author="acme", text="<p>Fixed in 2.1</p>", created_at=NOW)
    settings = FeedSettings(kind="feed", name="fans", base_url=blog.base_url, feeds=(RSS,))
    brand = BrandSettings("Widget Fans", handles=("acme@social.example",))
    channel = build_channel(settings, Secret(""), brand)
    try:
        messages = (await channel.poll({})).messages
        capabilities = await channel.capabilities()
    finally:
        await channel.aclose()
    origins = {m.author.handle: m.origin for m in messages}
    assert origins == {"Nadia": Origin.MENTION, "Widget Fans": Origin.OURS, "acme": Origin.OURS}
    assert any("holds only its newest" in line for line in capabilities.safeguards)


# ---- recorded real feeds ---------------------------------------------------------------------


RECORDED = Path(__file__).parent / "data" / "recorded" / "feed"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("feedparser_rss_item_content_encoded.xml", [("Anonymous", "Example content")]),
        ("feedparser_rss_item_guid.xml", [("Anonymous", "")]),
        ("feedparser_rss_item_dc_creator.xml", []),  # an author and nothing to read: skipped
        ("feedparser_atom10_entry_author_name.xml", []),
    ],
)
async def test_recorded_feeds_parse(blog, connect, name, expected):
    body = (RECORDED / name).read_bytes()
    blog.inject(RSS, status=200, body=body, headers={"Content-Type": "application/xml"})
    messages = (await connect(blog).poll({})).messages
    assert [(m.author.handle, m.text) for m in messages] == expected
