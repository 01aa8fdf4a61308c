"""The X channel against the local X server, over real loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fakes import Clock

from ecoinbox.channels.base import (
    AuthError,
    DeletionCheckingChannel,
    PermanentError,
    RateLimited,
    ReconcilingChannel,
    RenewableChannel,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.x import XChannel, search_query, weighted_length
from ecoinbox.channels.x.unit import XSettings, x_oauth
from ecoinbox.demo.x.server import HABITS, XServer
from ecoinbox.model import Message, Origin

CLIENT_ID = "x-test-client-id"
REFRESH = "x-refresh-token-9c1e5b7a-never-in-messages"
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[XServer]:
    """An empty X (only the brand account), once per habit set; refresh tokens rotate for real."""
    async with XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH, now=clock,
                       keep_first_refresh=False, **HABITS[request.param]) as running:  # fmt: skip
        yield running


@pytest.fixture
async def connect(clock: Clock, tmp_path: Path) -> AsyncIterator[Callable[..., XChannel]]:
    channels: list[XChannel] = []

    def make(server: XServer, **kwargs: object) -> XChannel:
        kwargs.setdefault("account", "acme")
        kwargs.setdefault("client_id", CLIENT_ID)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("ledger", tmp_path / "reads.json")
        token = str(kwargs.pop("token", REFRESH))
        channel = XChannel("x", server.base_url, token, **kwargs)  # type: ignore[arg-type]
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def mentions(server: XServer, count: int, clock: Clock, *, author: str = "fan") -> list[str]:
    ids = []
    for n in range(count):
        clock.advance(seconds=1)
        ids.append(server.add_post(author=f"{author}{n % 7}", text=f"@acme question number {n}"))
    clock.advance(seconds=60)  # past any timeline lag
    return ids


async def test_polls_every_mention_across_pages_and_polls_without_skipping_one(server, connect, clock):
    channel = connect(server)
    first = mentions(server, 3, clock)
    result = await channel.poll({})
    assert [m.remote_id for m in result.messages] == first
    assert result.cursor["mentions"] == first[-1]
    many = mentions(server, 640, clock)  # more than MAX_PAGES pages of 100: the walk goes on next poll
    seen: list[str] = []
    cursor = result.cursor
    for _ in range(6):
        result = await channel.poll(cursor)
        seen += [m.remote_id for m in result.messages]
        cursor = result.cursor
        if not cursor.get("mentions_walk"):
            break
    assert sorted(seen, key=int) == many
    assert cursor["mentions"] == many[-1] and not cursor["mentions_walk"]
    later = mentions(server, 2, clock)
    assert [m.remote_id for m in (await channel.poll(cursor)).messages] == later


async def test_a_mention_reads_as_the_person_wrote_it(server, connect, clock):
    parent = server.add_post(author="acme", text="We ship on Monday")
    post = server.add_post(author="zoe_k", text="@acme 5 > 3 & <b>not</b> https://example.com/a?b=1 日本",
                           reply_to=parent, lang="en")  # fmt: skip
    clock.advance(minutes=1)
    [message] = (await connect(server).poll({})).messages
    assert message.remote_id == post and message.in_reply_to == parent and message.thread_ref == parent
    assert message.text == "@acme 5 > 3 & <b>not</b> https://example.com/a?b=1 日本"
    assert message.links == ("https://example.com/a?b=1",)
    assert (message.author.handle, message.author.url) == ("zoe_k", "https://x.com/zoe_k")
    assert message.url == f"https://x.com/zoe_k/status/{post}" and message.origin is Origin.MENTION


async def test_search_hits_come_from_the_words_and_hashtags_and_a_thread_from_its_parents(
    server, connect, clock
):
    root = server.add_post(author="kim", text="Who makes good kettles?")
    answer = server.add_post(author="lee", text="#acme does, mine is 5 years old", reply_to=root)
    server.add_post(author="ann", text="acmeish is not a word")
    clock.advance(minutes=1)
    channel = connect(server, search_terms=["acme kettle", "widget"], hashtags=["acme"])
    assert channel.query == '("acme kettle" OR widget OR #acme) -is:retweet -from:acme'
    result = await channel.poll({})
    assert [(m.remote_id, m.origin) for m in result.messages] == [(answer, Origin.SEARCH)]
    before = len(server.requests)
    thread = await channel.context(answer)
    assert [m.remote_id for m in thread] == [root, answer]
    assert len(server.requests) - before == 0, "the parent came included with the search: no request"


async def test_a_reply_goes_out_once_under_its_parent(server, connect, clock):
    [parent] = mentions(server, 1, clock)
    channel = connect(server)
    [message] = (await channel.poll({})).messages
    sent = await channel.reply(message, "Thanks! See https://example.com/help", "key-1")
    [posted] = server.posted
    assert (sent.remote_id, sent.in_reply_to, sent.origin) == (posted.id, parent, Origin.OURS)
    assert sent.text == "Thanks! See https://example.com/help" and sent.links == ("https://example.com/help",)
    assert posted.reply_to is not None and posted.reply_to.id == parent


async def test_an_uncertain_reply_is_read_back_not_sent_again(server, connect, clock):
    [parent_id] = mentions(server, 1, clock)
    channel = connect(server)
    assert isinstance(channel, ReconcilingChannel) and (await channel.capabilities()).reconcile
    [parent] = (await channel.poll({})).messages
    server.drop_answer_after_post = 1
    asked = clock()
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "We are on it", "key-1")
    assert len(server.posted) == 1
    if server.timeline_lag:
        with pytest.raises(TransientError, match="checked again"):
            await channel.find_sent(parent, "We are on it", "", asked)
        clock.advance(seconds=40)
    found = await channel.find_sent(parent, "We are on it", "", asked)
    assert found is not None and found.remote_id == server.posted[0].id and found.in_reply_to == parent_id
    assert len(server.posted) == 1
    clock.advance(seconds=40)  # past X's timeline lag: an absence now proves it was not posted
    assert await channel.find_sent(parent, "Another text", "", asked) is None


async def test_a_reply_x_refuses_says_why(server, connect, clock):
    lurker = server.add_post(author="lurker", text="acme kettles are fine I guess")
    clock.advance(minutes=1)
    channel = connect(server, search_terms=["acme"])
    [message] = (await channel.poll({})).messages
    assert message.remote_id == lurker
    with pytest.raises(PermanentError, match="not been mentioned") as refused:
        await channel.reply(message, "Hi!", "key")
    assert not isinstance(refused.value, AuthError) and not server.posted


async def test_the_weighted_length_counts_as_x_does(server, connect):
    channel = connect(server)
    caps = await channel.capabilities()
    assert (caps.max_length, caps.length_counting, caps.url_length) == (280, "weighted", 23)
    assert channel.length("a" * 280) == 280
    assert channel.length("日本語") == 6 and channel.length("👍🏽") == 2
    assert channel.length("see https://example.com/" + "x" * 80) == 4 + 23
    assert weighted_length("é") == 1


async def test_rate_limits_come_from_the_headers(server, connect, clock):
    channel = connect(server)
    await channel.poll({})
    remaining, limit, reset = channel.limits["/2/users/:id/mentions"]
    assert (remaining, limit) == (449, 450) and reset is not None and reset > clock()
    server.exhaust_rate_limit("mentions")
    with pytest.raises(RateLimited) as limited:
        await channel.poll({})
    assert limited.value.retry_at == reset
    assert "rate-limited until" in str(limited.value)


async def test_a_usage_cap_says_what_to_do(server, connect):
    channel = connect(server)
    server.usage_capped = True
    with pytest.raises(RateLimited, match="usage cap for your app is reached.*add credits"):
        await channel.poll({})


async def test_the_daily_read_budget_stops_reading_until_midnight_utc(server, connect, clock, tmp_path):
    mentions(server, 30, clock)
    kept: list[str] = []
    channel = connect(server, daily_reads=20, save_token=kept.append)
    first = await channel.poll({})
    assert len(first.messages) == 30  # a first page may overshoot: X bills what it sends
    mentions(server, 5, clock)
    with pytest.raises(RateLimited, match="read budget is used up") as spent:
        await channel.poll(first.cursor)
    assert spent.value.retry_at == datetime(2026, 12, 8, tzinfo=UTC)
    again = connect(server, daily_reads=20, token=kept[-1])  # a restart: the count is kept
    assert "30 of 20 post reads used today" in await again.check()
    clock.advance(hours=13)
    assert len((await again.poll(first.cursor)).messages) == 5
    assert "5 of 20 post reads" in (await again.check())


async def test_access_tokens_are_renewed_and_rotated_refresh_tokens_kept(server, connect, clock):
    kept: list[str] = []
    channel = connect(server, save_token=kept.append)
    assert isinstance(channel, RenewableChannel)
    await channel.poll({})
    assert len(kept) == 1 and kept[0] != REFRESH
    server.expire_access_tokens()
    await channel.poll({})
    assert len(kept) == 2 and server.token_grants == 2
    stale = connect(server)  # the first refresh token was spent by the rotation
    with pytest.raises(AuthError, match="run `ecoinbox auth x`") as refused:
        await stale.poll({})
    assert REFRESH not in str(refused.value)
    assert channel.set_token(kept[-1]) is False and channel.set_token("") is False


async def test_a_revoked_app_says_to_authorize_again(server, connect, caplog):
    channel = connect(server)
    server.revoke()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError, match="X refused the authorization.*ecoinbox auth x") as refused:
        await channel.check()
    assert REFRESH not in str(refused.value) and REFRESH not in caplog.text


async def test_an_unreadable_post_is_skipped_and_said(server, connect, clock, caplog):
    good = mentions(server, 1, clock)
    server.add_post(author="broken", text="@acme half a post", broken=True)
    clock.advance(minutes=1)
    with caplog.at_level(logging.WARNING):
        result = await connect(server).poll({})
    assert [m.remote_id for m in result.messages] == good
    assert "skipped an unreadable post" in caplog.text


async def test_a_malformed_answer_is_transient(server, connect):
    channel = connect(server)
    server.inject("/2/users/", status=200, body="<html>oops</html>", times=2)
    with pytest.raises(TransientError, match="malformed"):
        await channel.poll({})


async def test_check_names_the_account_and_the_budget(server, connect):
    kept: list[str] = []
    line = await connect(server, daily_reads=500, save_token=kept.append).check()
    assert line.startswith("@acme on 127.0.0.1:")
    assert "0 of 500 post reads used today (X bills each), resets at 00:00 UTC (in 12 h)" in line
    with pytest.raises(PermanentError, match="belongs to @acme, not @other"):
        await connect(server, account="other", token=kept[-1]).check()


def test_a_search_too_long_for_x_is_refused_in_words():
    assert search_query([], [], "acme") == ""
    with pytest.raises(PermanentError, match="over X's 512: keep fewer"):
        search_query([f"word{n}" for n in range(100)], [], "acme")


async def test_the_authorization_finishes_by_pasting_the_address(server, clock, connect):
    settings = XSettings(kind="x", name="x", base_url=server.base_url, account="acme", client_id=CLIENT_ID,
                         auth_url=server.base_url, redirect_uri=server.redirect_uri)  # fmt: skip
    said: list[str] = []

    def browser(prompt: str) -> str:
        url = next(line.strip() for line in said if "/i/oauth2/authorize?" in line)
        answer = httpx.get(url, follow_redirects=False)
        assert answer.status_code == 302
        return answer.headers["location"]  # what the manager copies from the address bar

    secret = await x_oauth(settings, say=said.append, ask=browser)
    assert "paste" in " ".join(said).lower() and secret.reveal() != REFRESH
    channel = connect(server, token=secret.reveal())
    assert (await channel.check()).startswith("@acme")


async def test_a_pasted_address_from_another_authorization_is_refused(server):
    from ecoinbox.channels.unit import FlowError

    settings = XSettings(kind="x", name="x", base_url=server.base_url, account="acme", client_id=CLIENT_ID,
                         auth_url=server.base_url, redirect_uri=server.redirect_uri)  # fmt: skip
    with pytest.raises(FlowError, match="does not belong to this authorization"):
        await x_oauth(
            settings, say=lambda _: None, ask=lambda _: f"{server.redirect_uri}?state=other&code=abc"
        )


def message_for(post_id: str) -> Message:
    from ecoinbox.model import Author

    return Message("x", post_id, Author("x", "1", "someone"), "", datetime.now(UTC) - timedelta(minutes=1))


async def test_a_reply_to_something_not_a_post_is_refused(server, connect):
    with pytest.raises(PermanentError, match="cannot reply"):
        await connect(server).reply(message_for("t1_abc"), "hi", "key")


async def test_a_budget_spent_mid_walk_keeps_what_was_read_and_goes_on_the_next_day(server, connect, clock):
    mentions(server, 3, clock)
    channel = connect(server, daily_reads=110)
    cursor = (await channel.poll({})).cursor
    many = mentions(server, 150, clock)
    seen: list[str] = []
    polls = 0
    for _ in range(8):
        try:
            result = await channel.poll(cursor)
        except RateLimited as spent:
            clock.at = spent.retry_at  # the next UTC day
            continue
        polls += 1
        seen += [m.remote_id for m in result.messages]
        cursor = result.cursor
        if cursor.get("mentions") == many[-1]:
            break
    assert sorted(seen, key=int) == many, "every mention once: none skipped, none read twice"
    assert polls >= 2


async def test_direct_messages_come_threaded_and_are_answered_once(server, connect, clock):
    first = server.add_dm(author="zoe_k", text="Hi, my serial is AK-1 & the box is open")
    clock.advance(minutes=1)
    channel = connect(server, direct_messages=True)
    result = await channel.poll({})
    [dm] = [m for m in result.messages if m.visibility == "direct"]
    assert (dm.remote_id, dm.author.handle, dm.in_reply_to) == (first, "zoe_k", None)
    assert dm.text == "Hi, my serial is AK-1 & the box is open"
    second = server.add_dm(author="zoe_k", text="Also: it was a gift")
    clock.advance(minutes=1)
    [later] = (await channel.poll(result.cursor)).messages
    assert (later.remote_id, later.in_reply_to, later.thread_ref) == (second, first, dm.thread_ref)
    sent = await channel.reply(later, "Thanks Zoe, a new one ships today", "key")
    [event] = server.sent_dms
    assert (sent.remote_id, sent.visibility, sent.in_reply_to) == (event.id, "direct", second)
    assert event.conversation_id == dm.thread_ref and not server.posted


async def test_a_direct_message_takes_10000_plain_characters_where_a_post_takes_280_weighted(
    server, connect, clock
):
    server.add_dm(author="zoe_k", text="Can you explain the warranty terms in full?")
    clock.advance(minutes=1)
    channel = connect(server, direct_messages=True)
    [dm] = [m for m in (await channel.poll({})).messages if m.visibility == "direct"]
    limit = channel.reply_limit(dm)
    assert (
        limit is not None
        and limit.max_length == 10_000
        and limit.count("https://a.example " + "é" * 300) == 318
    )
    long_answer = "Here are the terms, point by point. " * 30  # 1,080 characters: a DM, not a post
    await channel.reply(dm, long_answer, "key")
    assert [event.text for event in server.sent_dms] == [long_answer]
    with pytest.raises(PermanentError, match="X takes at most 10,000 characters"):
        await channel.reply(dm, "x" * 10_001, "key2")
    assert len(server.sent_dms) == 1
    post = Message(channel=dm.channel, remote_id="1", author=dm.author, text="hi", created_at=dm.created_at)
    assert channel.reply_limit(post) is None  # a post: the channel's 280 weighted characters


async def test_an_uncertain_direct_message_is_read_back_not_sent_again(server, connect, clock):
    server.add_dm(author="zoe_k", text="hello?")
    clock.advance(minutes=1)
    channel = connect(server, direct_messages=True)
    [dm] = (await channel.poll({})).messages
    server.drop_answer_after_post = 1
    asked = clock()
    with pytest.raises(UncertainSend):
        await channel.reply(dm, "Hi Zoe!", "key")
    found = await channel.find_sent(dm, "Hi Zoe!", "", asked)
    assert found is not None and found.remote_id == server.sent_dms[0].id and len(server.sent_dms) == 1
    clock.advance(seconds=40)
    assert await channel.find_sent(dm, "Something else", "", asked) is None


async def test_direct_messages_the_app_may_not_read_are_said_and_mentions_still_come(server, connect, clock):
    [mention] = mentions(server, 1, clock)
    server.dms_allowed = False
    result = await connect(server, direct_messages=True).poll({})
    assert [m.remote_id for m in result.messages] == [mention]
    [warning] = result.warnings
    assert "direct messages are not read" in warning and "direct_messages = false" in warning
    assert "dms" not in result.cursor


async def test_a_direct_message_is_not_answered_when_they_are_off(server, connect):
    from ecoinbox.model import Author

    dm = Message("x", "1790000000000000001", Author("x", "1000007", "zoe_k"), "hello?", NOON,
                 visibility="direct", thread_ref="1000000-1000007")  # fmt: skip
    with pytest.raises(PermanentError, match="direct messages are off"):
        await connect(server).reply(dm, "Hi", "key")
    assert not server.sent_dms and not server.posted


async def test_deleted_posts_are_found_and_rereading_them_the_same_day_costs_nothing(server, connect, clock):
    kept, removed = mentions(server, 2, clock)
    channel = connect(server)
    assert isinstance(channel, DeletionCheckingChannel)
    messages = (await channel.poll({})).messages
    server.delete(removed)
    used = channel.budget.used
    [gone] = await channel.find_deleted(messages)
    assert (gone.remote_id, gone.deleted) == (removed, True)
    assert channel.budget.used == used, "the post still there was read today already: not billed again"
    clock.advance(days=1)
    assert [m.remote_id for m in await channel.find_deleted(messages)] == [removed]
    assert channel.budget.used == 1 and kept


async def test_a_busy_brand_s_reply_is_found_in_the_conversation(server, connect, clock, monkeypatch):
    import ecoinbox.channels.x.channel as x_channel

    monkeypatch.setattr(x_channel, "FIND_SENT_PAGES", 1)  # our own posts: one page only
    [mention] = mentions(server, 1, clock)
    channel = connect(server)
    [parent] = (await channel.poll({})).messages
    server.drop_answer_after_post = 1
    asked = clock()
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "On its way!", "key")
    for n in range(120):  # the brand answers elsewhere: our reply is past the first page of its posts
        clock.advance(seconds=1)
        server.add_post(author="acme", text=f"Announcement {n}")
    clock.advance(seconds=60)
    found = await channel.find_sent(parent, "On its way!", "", asked)
    assert found is not None and found.remote_id == server.posted[0].id and found.in_reply_to == mention
    assert any(r.path == "/2/tweets/search/recent" and "conversation_id:" in r.query["query"][0]
               for r in server.requests)  # fmt: skip
