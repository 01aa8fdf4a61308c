"""The Reddit channel against the local Reddit server, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fakes import Clock

from ecoinbox import __version__
from ecoinbox.channels import build_channel
from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    PermanentError,
    RateLimited,
    ReconcilingChannel,
    RenewableChannel,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.reddit import (
    RedditChannel,
    RedirectListener,
    authorize_url,
    client_auth,
    exchange_code,
    new_state,
)
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.demo.reddit.server import HABITS, RedditServer
from ecoinbox.model import Message, Origin
from ecoinbox.secrets import Secret

CLIENT_ID = "test-client-id"
REFRESH = "refresh-token-3f9a1c7e-never-in-messages"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[RedditServer]:
    """An empty Reddit (only the brand account), once per habit set: each test adds what it needs."""
    habits = HABITS[request.param]
    async with RedditServer(
        seed=None, client_id=CLIENT_ID, refresh_token=REFRESH, now=clock, **habits
    ) as running:
        yield running


@pytest.fixture
async def connect(clock: Clock) -> AsyncIterator[Callable[..., RedditChannel]]:
    channels: list[RedditChannel] = []

    def make(server: RedditServer, **kwargs: object) -> RedditChannel:
        kwargs.setdefault("account", "acme")
        kwargs.setdefault("client_id", CLIENT_ID)
        kwargs.setdefault("auth_url", server.base_url)
        kwargs.setdefault("clock", clock)
        token = str(kwargs.pop("token", REFRESH))
        channel = RedditChannel("reddit", server.base_url, token, **kwargs)  # type: ignore[arg-type]
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def requests_to(server: RedditServer, path: str) -> list:
    return [r for r in server.requests if r.path == path]


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def a_thread(server: RedditServer, subreddit: str = "gadgets") -> str:
    return server.add_post(
        author="op_person", subreddit=subreddit, title="Thoughts on Acme?", selftext="Curious."
    )


def minutes_ago(clock: Clock, minutes: float) -> datetime:
    return clock() - timedelta(minutes=minutes)


# --- protocol, identity, tokens ------------------------------------------------------------


async def test_is_a_reconciling_renewable_channel_with_honest_capabilities(server, connect) -> None:
    channel = connect(server)
    assert isinstance(channel, Channel)
    assert isinstance(channel, RenewableChannel) and isinstance(channel, ReconcilingChannel)
    capabilities = await channel.capabilities()
    assert capabilities.reply and capabilities.reconcile
    assert capabilities.idempotency_window is None  # Reddit has no idempotency key
    assert capabilities.max_length == 10_000 and capabilities.length_counting == "characters"
    assert any("looked up among the parent's replies" in line for line in capabilities.safeguards)
    assert any("RATELIMIT inside a 200" in line for line in capabilities.safeguards)
    assert capabilities.search is False
    assert (await connect(server, subreddits=("gadgets",)).capabilities()).search is True


async def test_check_says_who_we_are_with_reddit_user_agent(server, connect) -> None:
    host = server.base_url.removeprefix("http://")
    assert await connect(server).check() == f"u/acme on {host} (Reddit)"
    (grant,) = requests_to(server, "/api/v1/access_token")
    (me,) = requests_to(server, "/api/v1/me")
    expected = f"{sys.platform}:ecoinbox:{__version__} (by /u/acme)"
    assert me.headers["User-Agent"] == expected and grant.headers["User-Agent"] == expected
    assert me.headers["Authorization"].startswith("bearer ")
    assert grant.headers["Authorization"] == client_auth(CLIENT_ID)["Authorization"]


async def test_check_refuses_a_token_of_another_account(server, connect) -> None:
    with pytest.raises(PermanentError, match="belongs to u/acme, not u/someone"):
        await connect(server, account="someone").check()


async def test_a_revoked_refresh_token_is_an_auth_error_that_never_shows_it(server, connect) -> None:
    server.revoke()
    channel = connect(server)
    errors: list[ChannelError] = []
    for attempt in (channel.check, lambda: channel.poll({})):
        with pytest.raises(AuthError) as caught:
            await attempt()
        errors.append(caught.value)
    for error in errors:
        assert "invalid_grant" in str(error) and "run `ecoinbox auth reddit`" in str(error)
        assert REFRESH not in str(error) and REFRESH not in repr(error)
    assert REFRESH not in repr(channel) and REFRESH not in str(channel)
    assert not requests_to(server, "/message/mentions")  # nothing asked with no access token


async def test_an_unknown_client_id_says_to_check_the_config(server, connect) -> None:
    with pytest.raises(AuthError, match="check `client_id`"):
        await connect(server, client_id="not-approved").check()


async def test_an_empty_refresh_token_is_refused_before_any_request() -> None:
    with pytest.raises(AuthError, match="no refresh token for channel reddit"):
        RedditChannel("reddit", "http://127.0.0.1:9", " \n", client_id=CLIENT_ID, account="acme")


async def test_an_access_token_is_reused_and_renewed_once_after_a_401(server, connect) -> None:
    channel = connect(server)
    await channel.poll({})
    await channel.poll({})
    assert server.token_grants == 1
    server.expire_access_tokens()
    server.add_comment(author="zoe", parent=a_thread(server), body="hey u/acme")
    result = await channel.poll({})
    assert texts(result.messages) == ["hey u/acme"]
    assert server.token_grants == 2  # renewed once, then every source went through


async def test_concurrent_401s_renew_the_access_token_once(server, connect) -> None:
    posts = [a_thread(server) for _ in range(4)]
    channel = connect(server)
    await channel.check()
    server.expire_access_tokens()
    threads = await asyncio.gather(*(channel.context(post) for post in posts))
    assert [t[0].remote_id for t in threads] == posts
    assert server.token_grants == 2


async def test_an_access_token_is_renewed_before_it_expires(server, connect, clock) -> None:
    channel = connect(server)
    await channel.poll({})
    clock.advance(minutes=59)  # inside the renewal margin of the one-hour token
    await channel.poll({})
    assert server.token_grants == 2
    statuses = [r.path for r in server.requests]
    assert statuses.count("/api/v1/access_token") == 2


async def test_a_new_refresh_token_from_the_token_source_is_taken(server, connect) -> None:
    server.revoke()
    channel = connect(server)
    with pytest.raises(AuthError):
        await channel.poll({})
    server.add_refresh_token("a-brand-new-refresh-token")
    assert channel.set_token("a-brand-new-refresh-token\n") is True
    assert channel.set_token("a-brand-new-refresh-token") is False
    assert (await channel.poll({})).messages == []


# --- polling -------------------------------------------------------------------------------


async def test_first_poll_gets_mentions_and_replies_then_nothing_new(server, connect) -> None:
    post = a_thread(server)
    mention = server.add_comment(author="zoe", parent=post, body="Ask u/acme about it")
    ours = server.add_comment(author="acme", parent=mention, body="Happy to help!")
    reply = server.add_comment(author="zoe", parent=ours, body="Thanks!")
    own_post = server.add_post(author="acme", subreddit="acme", title="Weekly support thread")
    on_post = server.add_comment(author="lina", parent=own_post, body="Where is the CSV export?")
    server.add_comment(author="bob", parent=post, body="unrelated chatter")
    channel = connect(server)

    result = await channel.poll({})

    assert [m.remote_id for m in result.messages] == [mention, reply, on_post]
    assert {m.origin for m in result.messages} == {Origin.MENTION}
    first = result.messages[0]
    assert (first.author.label, first.author.handle) == ("u/zoe", "zoe") and first.in_reply_to == post
    assert first.thread_ref == post  # read from the inbox item's context link
    assert first.url and first.url.startswith("https://www.reddit.com/r/gadgets/comments/")
    assert result.messages[1].in_reply_to == ours
    for source in ("mentions", "comments", "selfreply"):
        (request,) = requests_to(server, f"/message/{source}")
        assert request.query["mark"] == ["false"] and request.query["raw_json"] == ["1"]
    assert result.cursor["mentions"] == mention and float(result.cursor["mentions_utc"]) > 0

    asked = len(server.requests)
    again = await channel.poll(result.cursor)
    assert again.messages == [] and again.cursor == result.cursor
    assert len(server.requests) - asked == 3  # one look at the top of each listing
    assert requests_to(server, "/message/mentions")[-1].query["limit"] == ["5"]
    newer = server.add_comment(author="sam", parent=post, body="u/acme me too")
    assert [m.remote_id for m in (await channel.poll(result.cursor)).messages] == [newer]
    assert requests_to(server, "/message/mentions")[-1].query["before"] == [mention]


async def test_a_restart_resumes_without_gaps_or_repeats(server, connect) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme one")
    cursor = (await connect(server).poll({})).cursor
    server.add_comment(author="zoe", parent=post, body="u/acme two")
    server.add_comment(author="sam", parent=post, body="u/acme three")
    restarted = connect(server)  # a new process with the stored cursor
    result = await restarted.poll(cursor)
    assert texts(result.messages) == ["u/acme two", "u/acme three"]
    assert (await restarted.poll(result.cursor)).messages == []


async def test_a_long_backlog_is_paged_with_before_oldest_first_none_twice(server, connect, clock) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme start", created_at=minutes_ago(clock, 300))
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    for number in range(250):
        server.add_comment(author=f"user{number}", parent=post, body=f"u/acme number {number}",
                           created_at=minutes_ago(clock, 250 - number))  # fmt: skip
    result = await channel.poll(cursor)
    assert texts(result.messages) == [f"u/acme number {n}" for n in range(250)]
    befores = [r.query["before"] for r in requests_to(server, "/message/mentions") if "before" in r.query]
    assert len(befores) == 3 and befores[0] == [cursor["mentions"]]  # 100 + 100 + 50


async def test_a_first_run_takes_only_the_newest_mentions(server, connect, clock) -> None:
    post = a_thread(server)
    for number in range(150):
        server.add_comment(
            author="zoe", parent=post, body=f"u/acme {number}", created_at=minutes_ago(clock, 200 - number)
        )
    result = await connect(server).poll({})
    assert texts(result.messages) == [f"u/acme {n}" for n in range(50, 150)]


async def test_a_deleted_cursor_item_falls_back_to_a_scan_from_the_top(server, connect, clock) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme older", created_at=minutes_ago(clock, 30))
    newest = server.add_comment(
        author="sam", parent=post, body="u/acme newest", created_at=minutes_ago(clock, 20)
    )
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    assert cursor["mentions"] == newest
    server.delete(newest)  # Reddit now answers before=<it> with an empty listing
    server.add_comment(author="ann", parent=post, body="u/acme after one", created_at=minutes_ago(clock, 5))
    server.add_comment(author="bea", parent=post, body="u/acme after two", created_at=minutes_ago(clock, 4))

    result = await channel.poll(cursor)

    assert texts(result.messages) == ["u/acme after one", "u/acme after two"]  # none of the old
    assert result.cursor["mentions"] != newest
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_deleted_cursor_item_with_nothing_new_then_a_new_mention(server, connect, clock) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme older", created_at=minutes_ago(clock, 30))
    newest = server.add_comment(
        author="sam", parent=post, body="u/acme newest", created_at=minutes_ago(clock, 20)
    )
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    server.delete(newest)
    quiet = await channel.poll(cursor)
    assert quiet.messages == []
    server.add_comment(author="ann", parent=post, body="u/acme later")
    assert texts((await channel.poll(quiet.cursor)).messages) == ["u/acme later"]


async def test_a_page_shortened_by_deleted_items_does_not_end_the_walk(server, connect, clock) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme start", created_at=minutes_ago(clock, 300))
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    new = [
        server.add_comment(author=f"user{n}", parent=post, body=f"u/acme number {n}",
                           created_at=minutes_ago(clock, 200 - n))
        for n in range(150)
    ]  # fmt: skip
    server.delete(new[10])  # on reddit.com the first page now holds 99 of 100: not the end
    result = await channel.poll(cursor)
    assert texts(result.messages) == [f"u/acme number {n}" for n in range(150) if n != 10]
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_deleted_newest_item_does_not_hide_a_new_one(server, connect, clock) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme start", created_at=minutes_ago(clock, 30))
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    server.add_comment(author="ann", parent=post, body="u/acme new", created_at=minutes_ago(clock, 20))
    spam = [
        server.add_comment(
            author=f"spam{n}", parent=post, body="u/acme spam", created_at=minutes_ago(clock, 9 - n)
        )
        for n in range(6)
    ]
    for name in spam:  # removed: on reddit.com the top of the inbox is all vanished items
        server.delete(name, removed=True)
    assert texts((await channel.poll(cursor)).messages) == ["u/acme new"]


async def test_a_comment_removed_as_spam_carries_reddits_verdict(server, connect, clock) -> None:
    """Issue 15, item 4: a moderator's listing says "spam": true; the spam filter reads it."""
    post = a_thread(server)
    ham = server.add_comment(
        author="zoe", parent=post, body="u/acme my order?", created_at=minutes_ago(clock, 9)
    )
    spam = server.add_comment(
        author="bot", parent=post, body="u/acme cheap pills", created_at=minutes_ago(clock, 8)
    )
    server.mark_spam(spam)
    verdicts = {m.remote_id: m.platform_verdict for m in (await connect(server).poll({})).messages}
    assert verdicts == {ham: "", spam: "spam"}


async def test_after_null_mid_listing_loses_nothing_down_to_the_cursor(server, connect, clock) -> None:
    post = a_thread(server)
    start = server.add_comment(
        author="zoe", parent=post, body="u/acme start", created_at=minutes_ago(clock, 300)
    )
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    new = [
        server.add_comment(author=f"user{n}", parent=post, body=f"u/acme number {n}",
                           created_at=minutes_ago(clock, 200 - n))
        for n in range(130)
    ]  # fmt: skip
    server.delete(start)  # before=<cursor> is empty now: the channel reads from the top down
    server.delete(new[60])  # ... and on reddit.com the first page comes back with `after` null
    result = await channel.poll(cursor)
    assert texts(result.messages) == [f"u/acme number {n}" for n in range(130) if n != 60]


async def test_listening_searches_the_subreddits_in_one_request(server, connect, clock) -> None:
    hit = server.add_post(
        author="op", subreddit="gadgets", title="Acme widget review", created_at=minutes_ago(clock, 9)
    )
    server.add_post(
        author="op", subreddit="gadgets", title="Other brand review", created_at=minutes_ago(clock, 8)
    )
    server.add_post(
        author="op", subreddit="elsewhere", title="Acme elsewhere", created_at=minutes_ago(clock, 7)
    )
    phrase = server.add_post(author="op", subreddit="BuyItForLife", title="Is the acme kettle good",
                             selftext="My **acme kettle** broke", created_at=minutes_ago(clock, 6))  # fmt: skip
    channel = connect(
        server, subreddits=("gadgets", "r/BuyItForLife"), search_terms=("acme widget", "kettle")
    )

    result = await channel.poll({})

    assert [m.remote_id for m in result.messages] == [hit, phrase]
    assert {m.origin for m in result.messages} == {Origin.SEARCH}
    assert result.messages[1].title == "Is the acme kettle good"
    assert result.messages[1].text == "Is the acme kettle good\n\nMy acme kettle broke"
    (search,) = requests_to(server, "/r/gadgets+BuyItForLife/search")
    assert search.query["q"] == ['"acme widget" OR kettle'] and search.query["restrict_sr"] == ["1"]
    assert search.query["sort"] == ["new"]
    later = server.add_post(author="op", subreddit="gadgets", title="acme widget again")
    assert [m.remote_id for m in (await channel.poll(result.cursor)).messages] == [later]


async def test_listening_without_words_takes_every_new_post_of_the_subreddits(server, connect) -> None:
    post = server.add_post(author="op", subreddit="acme", title="Hello team")
    result = await connect(server, subreddits=("acme",)).poll({})
    assert [m.remote_id for m in result.messages] == [post]
    assert requests_to(server, "/r/acme/new")


async def test_a_private_subreddit_skips_listening_but_not_mentions(server, connect) -> None:
    server.make_private("secretsub")
    server.add_comment(author="zoe", parent=a_thread(server), body="u/acme hi")
    channel = connect(server, subreddits=("secretsub",), search_terms=("acme",))
    result = await channel.poll({})
    assert texts(result.messages) == ["u/acme hi"]
    assert not any(key.startswith("search:") for key in result.cursor)


# --- content -------------------------------------------------------------------------------


async def test_markdown_and_escapes_arrive_as_written(server, connect) -> None:
    server.add_comment(
        author="zoe", parent=a_thread(server),
        body="Fish & chips <3, **bold** claim, see [docs](https://docs.example/x) and r/acme, u/acme",
    )  # fmt: skip
    (message,) = (await connect(server).poll({})).messages
    assert message.text == "Fish & chips <3, bold claim, see docs (https://docs.example/x) and r/acme, u/acme"
    assert message.links == ("https://docs.example/x",)


async def test_entity_escaped_html_is_unescaped_once_when_raw_json_is_ignored(server, connect) -> None:
    legacy = {
        "kind": "Listing",
        "data": {"after": None, "before": None, "children": [{"kind": "t1", "data": {
            "name": "t1_k2abc", "author": "alice", "body": "u/acme 5 &lt; 6 &amp; more",
            "body_html": "&lt;div class=\"md\"&gt;&lt;p&gt;u/acme 5 &amp;lt; 6 &amp;amp; more&lt;/p&gt;&lt;/div&gt;",
            "subreddit": "gadgets", "parent_id": "t3_1cxyz",
            "context": "/r/gadgets/comments/1cxyz/_/k2abc/?context=3", "new": True, "was_comment": True,
            "subject": "username mention", "created_utc": 1714557600.0,
        }}]},
    }  # fmt: skip
    server.inject("/message/mentions", status=200, body=json.dumps(legacy))
    (message,) = (await connect(server).poll({})).messages
    assert message.text == "u/acme 5 < 6 & more"
    assert message.thread_ref == "t3_1cxyz" and message.in_reply_to == "t3_1cxyz"


async def test_hostile_text_is_defused_and_flagged(server, connect) -> None:
    server.add_comment(author="glitch", parent=a_thread(server),
                       body="u/acme \x1b]0;pwned\x07 hi \x1b[2J [bold red]ADMIN[/] \u202eevil")  # fmt: skip
    (message,) = (await connect(server).poll({})).messages
    assert "\x1b" not in message.text and "\u202e" not in message.text
    assert "[bold red]ADMIN[/]" in message.text  # kept as text: never markup
    assert message.hidden_characters is True


async def test_malformed_items_are_skipped_and_the_rest_kept(server, connect) -> None:
    post = a_thread(server)
    good = server.add_comment(author="zoe", parent=post, body="u/acme fine")
    good_json = server.comment(good)
    broken = {
        "kind": "Listing",
        "data": {"after": None, "children": [
            {"kind": "t1", "data": {**good_json, "created_utc": "yesterday"}},
            {"kind": "t1", "data": {"body": "no name at all"}},
            {"kind": "t1", "data": "not an object"},
            "not a thing",
            {"kind": "t1", "data": good_json},
        ]},
    }  # fmt: skip
    server.inject("/message/mentions", status=200, body=json.dumps(broken))
    result = await connect(server).poll({})
    assert [m.remote_id for m in result.messages] == [good]


@pytest.mark.parametrize("body", ["<html>oops</html>", '{"kind": "t1"}', "[1, 2]"])
async def test_a_malformed_listing_is_transient(server, connect, body) -> None:
    for path in ("/message/mentions", "/message/comments", "/message/selfreply"):
        server.inject(path, status=200, body=body)
    with pytest.raises(TransientError, match="malformed"):
        await connect(server).poll({})


async def test_a_failing_source_keeps_its_cursor_while_others_go_on(server, connect) -> None:
    post = a_thread(server)
    server.add_comment(author="zoe", parent=post, body="u/acme first")
    own = server.add_post(author="acme", subreddit="acme", title="Support thread")
    server.add_comment(author="lina", parent=own, body="question")
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    server.add_comment(author="zoe", parent=post, body="u/acme second")
    server.add_comment(author="lina", parent=own, body="another question")
    server.inject("/message/selfreply", status=503, body='{"message": "Service Unavailable", "error": 503}')
    result = await channel.poll(cursor)
    assert texts(result.messages) == ["u/acme second"]
    assert result.cursor["selfreply"] == cursor["selfreply"]
    assert texts((await channel.poll(result.cursor)).messages) == ["another question"]


async def test_every_source_failing_raises(server, connect) -> None:
    for path in ("/message/mentions", "/message/comments", "/message/selfreply"):
        server.inject(path, status=500, body='{"message": "Internal Server Error", "error": 500}')
    with pytest.raises(TransientError, match="server error 500"):
        await connect(server).poll({})


# --- rate limits ---------------------------------------------------------------------------


async def test_a_429_pauses_the_host_until_the_reset_seconds(server, connect, clock) -> None:
    channel = connect(server)
    await channel.check()
    server.exhaust_rate_limit()
    with pytest.raises(RateLimited) as caught:
        await channel.poll({})
    window_end = (clock().timestamp() // 600 + 1) * 600
    assert abs(caught.value.retry_at.timestamp() - window_end) <= 1.5
    asked = len(server.requests)
    with pytest.raises(RateLimited):  # paused: no request leaves until the reset
        await channel.poll({})
    assert len(server.requests) == asked


async def test_the_last_allowed_request_pauses_before_a_429(connect, clock) -> None:
    async with RedditServer(
        seed=None, client_id=CLIENT_ID, refresh_token=REFRESH, now=clock, rate_limit=2
    ) as tight:
        channel = connect(tight)
        await channel.check()  # me: 1 of 2
        with pytest.raises(RateLimited):
            await channel.poll({})  # mentions: 2 of 2, "Remaining: 0.0" -> paused before comments
        paths = [r.path for r in tight.requests]
        assert paths.count("/message/mentions") == 1 and "/message/comments" not in paths


# --- threads -------------------------------------------------------------------------------


async def test_context_walks_a_deep_chain_to_the_post(server, connect) -> None:
    post = a_thread(server)
    chain = [post]
    for depth in range(12):
        chain.append(server.add_comment(author=f"u{depth % 2}", parent=chain[-1], body=f"level {depth}"))
    messages = await connect(server).context(chain[-1])
    assert [m.remote_id for m in messages] == chain
    assert [m.in_reply_to for m in messages[1:]] == chain[:-1]
    assert {m.origin for m in messages} == {Origin.CONTEXT}
    assert len(requests_to(server, f"/comments/{post[3:]}")) == 2  # 8 levels per request
    assert len(requests_to(server, "/api/info")) == 1  # the post of an unseen comment, asked once


async def test_context_shows_deleted_and_removed_ancestors(server, connect) -> None:
    post = a_thread(server)
    gone = server.add_comment(author="troll", parent=post, body="something awful")
    removed = server.add_comment(author="spammer", parent=gone, body="buy now")
    reply = server.add_comment(author="zoe", parent=removed, body="u/acme what happened here?")
    server.delete(gone)
    server.delete(removed, removed=True)
    channel = connect(server)
    await channel.poll({})  # learns the reply's post from its inbox item
    messages = await channel.context(reply)
    assert [(m.text, m.deleted, m.author.handle) for m in messages[1:3]] == [
        ("[deleted]", True, "[deleted]"),
        ("[removed]", True, "[deleted]"),
    ]
    assert not requests_to(server, "/api/info")


async def test_deleted_accounts_are_not_one_person(server, connect) -> None:
    post = a_thread(server)
    first = server.add_comment(author="zoe", parent=post, body="u/acme first")
    second = server.add_comment(author="sam", parent=first, body="u/acme second")
    server.delete(first)
    server.delete(second)
    thread = {m.remote_id: m for m in await connect(server).context(second)}
    assert thread[first].deleted and thread[second].deleted
    assert thread[first].author.handle == thread[second].author.handle == "[deleted]"
    assert thread[first].author.remote_id != thread[second].author.remote_id


async def test_context_of_a_post_is_the_post(server, connect) -> None:
    post = a_thread(server)
    (message,) = await connect(server).context(post)
    assert message.remote_id == post and message.title == "Thoughts on Acme?" and message.in_reply_to is None


async def test_engine_threads_a_mention_under_its_post(server, connect, tmp_path) -> None:
    from ecoinbox.engine import Engine
    from ecoinbox.model import View
    from ecoinbox.store import open_store

    post = a_thread(server)
    mention = server.add_comment(author="zoe", parent=post, body="u/acme is this good?")
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"reddit": connect(server)}, leased=False)
    try:
        await engine.poll_channel("reddit")
        (row,) = await store.conversation_page(View.INBOX)
        conversation = await store.conversation(row.id)
        assert [s.message.remote_id for s in conversation.messages] == [post, mention]
        assert row.channel == "reddit" and row.message_count == 2
    finally:
        await engine.stop()
        await store.close()


# --- replies -------------------------------------------------------------------------------


async def polled(
    server: RedditServer, channel: RedditChannel, body: str = "u/acme my kettle leaks"
) -> Message:
    comment = server.add_comment(author="zoe", parent=a_thread(server), body=body)
    messages = (await channel.poll({})).messages
    return next(m for m in messages if m.remote_id == comment)


async def test_a_reply_goes_to_the_comment_with_thing_id(server, connect) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    sent = await channel.reply(parent, "Sorry! Which **model** is it?", "key-1")
    (posted,) = server.posted
    assert posted.thing_id == parent.remote_id and posted.text == "Sorry! Which **model** is it?"
    assert sent.remote_id == posted.name and sent.in_reply_to == parent.remote_id
    assert sent.origin is Origin.OURS and sent.text == "Sorry! Which model is it?"
    assert server.replies_to(parent.remote_id) == [posted.name]
    assert channel.reply_prefix(parent) == ""


async def test_a_reply_to_a_post(server, connect) -> None:
    channel = connect(server, subreddits=("gadgets",))
    post = a_thread(server)
    (parent,) = (await channel.poll({})).messages
    sent = await channel.reply(parent, "We read this, thanks!", "key-2")
    assert server.replies_to(post) == [sent.remote_id] and sent.in_reply_to == post


@pytest.mark.parametrize(("in_json", "seconds"), [(True, 312.5), (False, 300.0)])
async def test_a_ratelimit_error_inside_a_200_is_rate_limited(
    server, connect, clock, in_json, seconds
) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    server.limit_writes(312.5, in_json=in_json)  # the words say "5 minutes"
    with pytest.raises(RateLimited, match="wait before commenting") as caught:
        await channel.reply(parent, "hello", "key")
    if server.comment_answer == "jquery":  # only the words say how long: "5 minutes"
        seconds = 300.0
    assert caught.value.retry_at == clock() + timedelta(seconds=seconds)
    assert server.posted == []
    await channel.reply(parent, "hello", "key")  # the read host was never paused
    assert len(server.posted) == 1


@pytest.mark.parametrize(
    ("setup", "code"),
    [("delete", "DELETED_COMMENT"), ("lock", "THREAD_LOCKED"), ("long", "TOO_LONG"), ("empty", "NO_TEXT")],
)
async def test_refusals_inside_a_200_are_permanent(server, connect, setup, code) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    text = {"long": "x" * 10_001, "empty": " "}.get(setup, "hello")
    if setup == "delete":
        server.delete(parent.remote_id)
    if setup == "lock":
        server.lock(parent.thread_ref or "")
    with pytest.raises(PermanentError, match=code):
        await channel.reply(parent, text, "key")
    assert server.posted == []


async def test_a_reply_answered_oddly_is_uncertain(server, connect) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    server.inject(
        "/api/comment",
        status=200,
        body='{"json": {"errors": [], "data": {"things": []}}}',
        after_handling=True,
    )
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "hello", "key")
    assert len(server.posted) == 1


async def test_a_lost_answer_is_uncertain_then_found_by_reading_the_thread(server, connect, clock) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    since = clock()
    server.inject("/api/comment", status=504, body="<html>gateway timeout</html>", after_handling=True)
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "We are on it,\nsorry!", "key")
    (posted,) = server.posted
    found = await channel.find_sent(parent, "We are on it, sorry!", "", since)
    assert found is not None and found.remote_id == posted.name and found.origin is Origin.OURS
    clock.advance(seconds=31)  # absence proves something once Reddit's copy is newer than the send
    assert await channel.find_sent(parent, "Some other words", "", since) is None


async def test_a_send_that_never_landed_is_not_found(server, connect, clock) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    server.inject("/api/comment", status=502, body="bad gateway")
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "hello there", "key")
    assert server.posted == []
    since = clock()
    with pytest.raises(TransientError, match="copy of the thread"):  # Reddit's copy may be older
        await channel.find_sent(parent, "hello there", "", since)
    clock.advance(seconds=31)
    assert await channel.find_sent(parent, "hello there", "", since) is None


async def test_find_sent_expands_more_stubs_on_a_busy_parent(server, connect, clock) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    since = clock()
    ours = (await channel.reply(parent, "Our answer", "key")).remote_id
    for number in range(150):  # newer replies push ours behind a `more` stub
        clock.advance(seconds=1)
        server.add_comment(author=f"crowd{number}", parent=parent.remote_id, body=f"+1 ({number})")
    found = await channel.find_sent(parent, "Our answer", "", since)
    assert found is not None and found.remote_id == ours
    assert requests_to(server, "/api/morechildren")


async def test_find_sent_ignores_an_older_identical_reply(server, connect, clock) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    await channel.reply(parent, "Thanks!", "key")
    clock.advance(hours=2)
    since = clock()
    clock.advance(seconds=31)
    assert await channel.find_sent(parent, "Thanks!", "", since) is None


async def test_find_sent_on_a_post(server, connect, clock) -> None:
    channel = connect(server, subreddits=("gadgets",))
    a_thread(server)
    (parent,) = (await channel.poll({})).messages
    since = clock()
    server.add_comment(author="acme", parent=parent.remote_id, body="Noted, thanks")
    found = await channel.find_sent(parent, "Noted, thanks", "", since)
    assert found is not None and found.in_reply_to == parent.remote_id


async def test_a_reply_whose_connection_closes_after_the_post_is_read_back(server, connect, clock) -> None:
    channel = connect(server)
    parent = await polled(server, channel)
    since = clock()
    server.drop_answer_after_post = 1
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "We are on it", "key")
    (posted,) = server.posted
    found = await channel.find_sent(parent, "We are on it", "", since)
    assert found is not None and found.remote_id == posted.name


async def test_the_outbox_reconciles_an_uncertain_reply_without_a_double(
    server, connect, clock, tmp_path
) -> None:
    from ecoinbox.engine import Engine
    from ecoinbox.model import OutboxState, View
    from ecoinbox.store import open_store

    server.add_comment(author="zoe", parent=a_thread(server), body="u/acme where is my order?")
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    engine = Engine(store, {"reddit": connect(server, timeout=1.0)}, clock=clock, leased=False)
    try:
        await engine.poll_channel("reddit")
        (row,) = await store.conversation_page(View.INBOX)
        thread = await store.conversation(row.id)
        await store.queue_reply(row.id, thread.messages[-1].message, "Sorry! DM us your order number.")
        server.inject("/api/comment", status=502, delay=3.0, after_handling=True)  # lands, answer lost
        await engine.sender.send_due()
        (item,) = await store.outbox_items()
        assert item.state is OutboxState.UNKNOWN
        clock.advance(seconds=30)
        await engine.sender.send_due()
        (item,) = await store.outbox_items()
        assert item.state is OutboxState.SENT and len(server.posted) == 1
        assert item.remote_id == server.posted[0].name
    finally:
        await engine.stop()
        await store.close()


async def test_a_lost_answer_read_back_from_a_cached_thread_is_not_sent_twice(
    server, connect, clock, tmp_path
) -> None:
    """Reddit serves a thread from a copy up to ~30 s old: read back at once, a reply just made
    is not there yet. That must not count as "not published" (f82ea21 then sent it again)."""
    from ecoinbox.engine import Engine
    from ecoinbox.model import OutboxState, View
    from ecoinbox.store import open_store

    store = await open_store(tmp_path / "inbox.db", clock=clock)
    channel = connect(server, timeout=1.0)
    engine = Engine(store, {"reddit": channel}, clock=clock, leased=False)
    try:
        server.add_comment(author="zoe", parent=a_thread(server), body="u/acme where is my order?")
        await engine.poll_channel("reddit")
        (row,) = await store.conversation_page(View.INBOX)
        parent = (await store.conversation(row.id)).messages[-1].message
        # Someone (or ecoinbox) read the thread a moment before: Reddit keeps that copy a while.
        await channel.find_sent(parent, "nothing", "", clock() - timedelta(hours=1))
        await store.queue_reply(row.id, parent, "Sorry! DM us your order number.")
        server.drop_answer_after_post = 1  # made, then the connection closes
        await engine.sender.send_due()
        await engine.sender.send_due()  # the uncertain reply is checked at once
        clock.advance(seconds=31)
        await engine.sender.send_due()
        (item,) = await store.outbox_items()
        assert len(server.posted) == 1
        assert item.state is OutboxState.SENT and item.remote_id == server.posted[0].name
    finally:
        await engine.stop()
        await store.close()


# --- OAuth: `ecoinbox auth` ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def follow_to_listener(authorize: str) -> httpx.Response:
    """What the browser does: the authorize page redirects back to the loopback listener."""
    async with httpx.AsyncClient(trust_env=False) as browser:
        approved = await browser.get(authorize)
        assert approved.status_code == 302
        return await browser.get(approved.headers["location"])


async def test_the_code_flow_yields_a_refresh_token_that_works(clock, connect) -> None:
    redirect = f"http://localhost:{free_port()}/authorize_callback"
    async with RedditServer(seed=None, client_id=CLIENT_ID, redirect_uri=redirect, now=clock) as reddit:
        state = new_state()
        listener = RedirectListener(redirect, state)
        await listener.start()
        try:
            url = authorize_url(reddit.base_url, CLIENT_ID, redirect, state)
            assert "duration=permanent" in url and "scope=identity+read+history+privatemessages+submit" in url
            page = await follow_to_listener(url)
            assert page.status_code == 200 and "authorized" in page.text
            code = await listener.wait(5)
        finally:
            await listener.aclose()
        client = HttpClient("reddit", reddit.base_url, auth_headers=client_auth(CLIENT_ID))
        try:
            refresh, _ = await exchange_code(client, "reddit", code, redirect)
            with pytest.raises(AuthError, match="invalid_grant"):  # a code is good once
                await exchange_code(client, "reddit", code, redirect)
        finally:
            await client.aclose()
        assert await connect(reddit, token=refresh).check() == f"u/acme on {reddit.base_url[7:]} (Reddit)"


async def test_the_listener_refuses_a_wrong_state_and_keeps_waiting(clock) -> None:
    redirect = f"http://127.0.0.1:{free_port()}"
    listener = RedirectListener(redirect, "the-right-state")
    await listener.start()
    try:
        async with httpx.AsyncClient(trust_env=False) as browser:
            forged = await browser.get(f"{redirect}/?code=stolen&state=forged")
            assert forged.status_code == 400
            with pytest.raises(TransientError, match="no answer from the browser"):
                await listener.wait(0.2)
            await browser.get(f"{redirect}/?code=good&state=the-right-state")
        assert await listener.wait(1) == "good"
    finally:
        await listener.aclose()


async def test_a_declined_authorization_is_an_auth_error(clock) -> None:
    redirect = f"http://localhost:{free_port()}"
    async with RedditServer(seed=None, client_id=CLIENT_ID, redirect_uri=redirect, now=clock) as reddit:
        reddit.deny_next_authorization()
        state = new_state()
        listener = RedirectListener(redirect, state)
        await listener.start()
        try:
            await follow_to_listener(authorize_url(reddit.base_url, CLIENT_ID, redirect, state))
            with pytest.raises(AuthError, match="access_denied"):
                await listener.wait(1)
        finally:
            await listener.aclose()


async def test_ecoinbox_auth_runs_the_flow_and_returns_the_refresh_token(clock, tmp_path) -> None:
    from ecoinbox.auth import reddit_oauth as _reddit_oauth

    port = free_port()
    redirect = f"http://localhost:{port}"
    async with RedditServer(seed=None, client_id=CLIENT_ID, redirect_uri=redirect, now=clock) as reddit:
        settings = parse_config(reddit_config(reddit.base_url, redirect_uri=redirect))
        said: list[str] = []
        browser: list[asyncio.Task[httpx.Response]] = []

        def say(line: str) -> None:
            said.append(line)
            if line.strip().startswith(reddit.base_url):
                browser.append(asyncio.create_task(follow_to_listener(line.strip())))

        secret = await _reddit_oauth(settings.channel("reddit"), say=say, timeout=5)
        assert isinstance(secret, Secret) and secret.reveal()
        assert f"ssh -L {port}:127.0.0.1:{port}" in "\n".join(said)
        await browser[0]
        channel = build_channel(settings.channel("reddit"), secret)
        try:
            assert (await channel.check()).startswith("u/acme on ")
        finally:
            await channel.aclose()


# --- config --------------------------------------------------------------------------------


def reddit_config(base_url: str | None = None, **extra: object) -> str:
    lines = ['[brand]\nname = "Acme"\n\n[[channels]]\nkind = "reddit"\nname = "reddit"\naccount = "acme"']
    if base_url:
        lines.append(f'base_url = "{base_url}"\nauth_url = "{base_url}"')
    extra.setdefault("client_id", CLIENT_ID)
    for key, value in extra.items():
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def test_config_defaults_to_reddit_hosts() -> None:
    channel = parse_config(reddit_config(subreddits=["r/gadgets", "BuyItForLife"])).channel("reddit")
    assert channel.base_url == "https://oauth.reddit.com" and channel.auth_url == "https://www.reddit.com"
    assert channel.redirect_uri == "http://localhost:8080" and channel.auth == "oauth"
    assert channel.subreddits == ("gadgets", "BuyItForLife") and channel.client_id == CLIENT_ID


@pytest.mark.parametrize(
    ("extra", "key", "says"),
    [
        ({"client_id": None}, "client_id", "missing (required for reddit"),
        (
            {"redirect_uri": "https://example.com/cb"},
            "redirect_uri",
            "expected a loopback address with a port",
        ),
        ({"redirect_uri": "http://localhost"}, "redirect_uri", "expected a loopback address with a port"),
        ({"subreddits": ["no spaces please"]}, "subreddits[0]", "a subreddit name"),
        ({"auth_url": "http://www.reddit.com"}, "auth_url", "plain http to a remote host"),
    ],
)
def test_config_errors_name_the_key(extra, key, says) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(reddit_config(**extra))
    assert f"channels[0].{key}: {says}" in str(caught.value)


def test_config_requires_the_account_for_the_user_agent() -> None:
    text = reddit_config().replace('account = "acme"\n', "")
    with pytest.raises(ConfigError, match=r"channels\[0\].account: missing \(required for reddit"):
        parse_config(text)


def test_config_refuses_reddit_settings_on_other_kinds() -> None:
    text = '[brand]\nname = "A"\n[[channels]]\nkind = "mastodon"\nname = "m"\nbase_url = "https://s.example"\nsubreddits = ["x1"]\n'
    with pytest.raises(ConfigError, match=r"channels\[0\].subreddits: only reddit channels use subreddits"):
        parse_config(text)


# --- the server's own behaviour ------------------------------------------------------------


async def test_server_listing_semantics_and_legacy_escaping(server) -> None:
    post = a_thread(server)
    names = [server.add_comment(author="zoe", parent=post, body=f"u/acme <{n}> & co") for n in range(5)]
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
        refused = await client.get("/message/mentions")
        assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]
        grant = await client.post("/api/v1/access_token", data={"grant_type": "refresh_token", "refresh_token": REFRESH},
                                  headers=client_auth(CLIENT_ID))  # fmt: skip
        headers = {"Authorization": f"bearer {grant.json()['access_token']}"}
        newest_first = [*reversed(names)]

        def page(**params: str) -> dict:
            return response_of(client.get("/message/mentions", params=params, headers=headers))

        async def response_of(request) -> dict:  # type: ignore[no-untyped-def]
            answer = await request
            assert float(answer.headers["X-Ratelimit-Remaining"]) >= 0
            assert 0 < int(answer.headers["X-Ratelimit-Reset"]) <= 600
            return answer.json()

        top = await page(limit="2")
        assert [c["data"]["name"] for c in top["data"]["children"]] == newest_first[:2]
        assert top["data"]["after"] == newest_first[1]
        newer = await page(before=names[1], limit="2")
        assert [c["data"]["name"] for c in newer["data"]["children"]] == [names[3], names[2]]
        server.delete(names[0])
        assert (await page(before=names[0]))["data"]["children"] == []
        escaped = (await page(limit="1"))["data"]["children"][0]["data"]
        assert escaped["body"] == "u/acme &lt;4&gt; &amp; co" and escaped["body_html"].startswith("&lt;div")
        raw = (await page(limit="1", raw_json="1"))["data"]["children"][0]["data"]
        assert raw["body"] == "u/acme <4> & co" and raw["body_html"].startswith('<div class="md">')
        assert "link_id" not in raw and raw["context"].endswith("/?context=3")


async def test_server_thread_has_more_stubs_past_the_limit(server) -> None:
    post = a_thread(server)
    for n in range(6):
        server.add_comment(author="zoe", parent=post, body=f"c{n}")
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
        grant = await client.post("/api/v1/access_token", data={"grant_type": "refresh_token", "refresh_token": REFRESH},
                                  headers=client_auth(CLIENT_ID))  # fmt: skip
        headers = {"Authorization": f"bearer {grant.json()['access_token']}"}
        answer = (
            await client.get(f"/comments/{post[3:]}", params={"limit": "4", "sort": "new"}, headers=headers)
        ).json()
        things = answer[1]["data"]["children"]
        assert [t["kind"] for t in things] == ["t1"] * 4 + ["more"]
        assert len(things[-1]["data"]["children"]) == 2 and things[-1]["data"]["parent_id"] == post


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    grant = await client.post(
        "/api/v1/access_token", data={"grant_type": "refresh_token", "refresh_token": REFRESH},
        headers=client_auth(CLIENT_ID),
    )  # fmt: skip
    return {"Authorization": f"bearer {grant.json()['access_token']}"}


async def test_server_reddit_com_pages_drop_deleted_items_after_cutting(clock) -> None:
    async with RedditServer(
        seed=None, client_id=CLIENT_ID, refresh_token=REFRESH, now=clock, filters_after_paging=True
    ) as server:
        post = a_thread(server)
        names = [server.add_comment(author="zoe", parent=post, body=f"u/acme {n}") for n in range(6)]
        server.delete(names[3])
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            headers = await bearer(client)
            first = (await client.get("/message/mentions", params={"limit": "3"}, headers=headers)).json()
            rest = (
                await client.get(
                    "/message/mentions", params={"limit": "3", "after": names[3]}, headers=headers
                )
            ).json()
            on = await client.get(
                "/message/mentions", params={"limit": "3", "after": names[2]}, headers=headers
            )
    children = [c["data"]["name"] for c in first["data"]["children"]]
    assert children == [names[5], names[4]]  # 3 cut, then the deleted one dropped: 2 of 3
    assert first["data"]["after"] is None  # ... and no `after`, although 3 older ones follow
    assert rest["data"]["children"] == []  # a vanished anchor
    assert [c["data"]["name"] for c in on.json()["data"]["children"]] == [names[1], names[0]]


async def test_server_jquery_answers_and_cached_threads(clock) -> None:
    async with RedditServer(
        seed=None, client_id=CLIENT_ID, refresh_token=REFRESH, now=clock, comment_answer="jquery",
        listing_cache_seconds=30.0,
    ) as server:  # fmt: skip
        post = a_thread(server)
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            headers = await bearer(client)
            before = (await client.get(f"/comments/{post[3:]}", headers=headers)).json()
            form = {"thing_id": post, "text": "hello", "api_type": "json"}
            made = (await client.post("/api/comment", data=form, headers=headers)).json()
            cached = (await client.get(f"/comments/{post[3:]}", headers=headers)).json()
            clock.advance(seconds=31)
            fresh = (await client.get(f"/comments/{post[3:]}", headers=headers)).json()
            server.limit_writes(60)
            limited = await client.post("/api/comment", data=form, headers=headers)
    assert made["success"] is True and "json" not in made
    assert before[1]["data"]["children"] == cached[1]["data"]["children"] == []
    assert [t["data"]["body"] for t in fresh[1]["data"]["children"]] == ["hello"]
    assert limited.status_code == 200 and limited.json()["success"] is False
    calls = [c[3][0] for c in limited.json()["jquery"] if c[2] == "call" and c[3]]
    assert ".error.RATELIMIT.field-ratelimit" in calls


def test_server_seed_is_deterministic() -> None:
    def inbox(seed: int) -> list[tuple[str, str]]:
        fixed = Clock(datetime(2026, 5, 1, 12, tzinfo=UTC))
        made = RedditServer(seed=seed, now=fixed)
        return [(made.comment(n)["author"], made.comment(n)["body"]) for n in made.inbox_names()]

    assert inbox(1) == inbox(1)
    assert len(inbox(1)) >= 8


async def test_the_demo_runs_a_reddit_channel_that_polls_and_replies(tmp_path) -> None:
    from ecoinbox.config import load_config
    from ecoinbox.demo.reddit.server import RedditServer
    from ecoinbox.demo.runner import Demo
    from ecoinbox.demo.site import all_tokens

    async with Demo(data_dir=tmp_path, traffic=False) as demo:
        settings = load_config(demo.config_path)
        channel = build_channel(settings.channel("reddit"), Secret(all_tokens()["reddit"]))
        try:
            assert (await channel.check()).startswith("u/acme on 127.0.0.1:")
            result = await channel.poll({})
            origins = {m.origin for m in result.messages}
            assert origins == {Origin.MENTION, Origin.SEARCH}  # mentions, replies and threads found by search
            french = next(m for m in result.messages if "bouilloire" in m.text)
            sent = await channel.reply(french, "Bonjour ! Écrivez-nous en message privé.", "key")
            reddit = demo.server("reddit", RedditServer)
            assert reddit.posted[-1].name == sent.remote_id
            new = reddit.tick()
            assert [m.remote_id for m in (await channel.poll(result.cursor)).messages] == [new]
        finally:
            await channel.aclose()
