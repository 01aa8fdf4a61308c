"""The Mastodon channel against the local Mastodon server, over real loopback HTTP."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web

from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.mastodon import (
    SCOPES,
    MastodonChannel,
    authorize_url,
    count_graphemes,
    exchange_code,
    mastodon_length,
    register_app,
    reply_visibility,
)
from ecoinbox.contacts import claim
from ecoinbox.demo.mastodon.server import HABITS, MastodonServer
from ecoinbox.model import Message, Origin

TOKEN = "demo-token-6f1c2b9e-never-in-messages"


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest) -> AsyncIterator[MastodonServer]:
    """An empty instance (only the brand account), with each real server's habits in turn
    (`tests/test_mastodon_real_habits.py`): each test adds what it needs."""
    async with MastodonServer(seed=None, token=TOKEN, **HABITS[request.param]) as running:
        yield running


@pytest.fixture
async def seeded() -> AsyncIterator[MastodonServer]:
    async with MastodonServer(seed=1, token=TOKEN) as running:
        yield running


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., MastodonChannel]]:
    channels: list[MastodonChannel] = []

    def make(server: MastodonServer, **kwargs: object) -> MastodonChannel:
        kwargs.setdefault("account", "acme")
        token = str(kwargs.pop("token", TOKEN))
        channel = MastodonChannel(
            "masto",
            server.base_url,
            token,
            **kwargs,  # type: ignore[arg-type]
        )
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def requests_to(server: MastodonServer, path: str) -> list:
    return [r for r in server.requests if r.path == path]


def assert_oldest_first(messages: list[Message]) -> None:
    keys = [(m.created_at, len(m.remote_id), m.remote_id) for m in messages]
    assert keys == sorted(keys)


# --- protocol, identity, limits ------------------------------------------------------------


async def test_is_a_channel_and_reports_what_it_can_do(server, connect) -> None:
    channel = connect(server, search_terms=("refund",))
    assert isinstance(channel, Channel)
    assert channel.kind == "mastodon"
    capabilities = await channel.capabilities()
    assert capabilities.max_length == 500
    assert capabilities.url_length == 23
    # The key is sent, but not every server honours it: an uncertain reply is reconciled.
    assert capabilities.idempotency_window is None and capabilities.reconcile
    assert capabilities.reply and capabilities.search
    await channel.capabilities()
    assert len(requests_to(server, "/api/v2/instance")) == 1  # asked once


async def test_capabilities_follow_the_instance(connect) -> None:
    async with MastodonServer(seed=None, token=TOKEN, max_characters=5000) as big:
        capabilities = await connect(big).capabilities()
        assert capabilities.max_length == 5000
        assert capabilities.search is False


async def test_check_says_who_we_are(server, connect) -> None:
    host = server.base_url.removeprefix("http://")
    said = f"@acme on {host} (Mastodon 4.3.2); new mentions arrive live (streaming)"
    assert await connect(server).check() == said
    assert await connect(server, stream=False).check() == f"@acme on {host} (Mastodon 4.3.2)"


async def test_check_refuses_a_token_of_another_account(server, connect) -> None:
    with pytest.raises(PermanentError, match="belongs to @acme, not @someone"):
        await connect(server, account="someone").check()


async def test_wrong_token_is_an_auth_error_that_never_shows_it(server, connect) -> None:
    wrong = "wrong-token-4b7a9c1d-secret"
    channel = connect(server, token=wrong)
    errors: list[ChannelError] = []
    for attempt in (channel.check, lambda: channel.poll({})):
        with pytest.raises(AuthError) as caught:
            await attempt()
        errors.append(caught.value)
    for error in errors:
        assert "run `ecoinbox auth masto`" in str(error)
        for shown in (str(error), repr(error), *map(str, error.args)):
            assert wrong not in shown
    assert wrong not in repr(channel) and wrong not in str(channel)


async def test_an_empty_token_is_refused_before_any_request() -> None:
    with pytest.raises(AuthError, match="no token for channel masto"):
        MastodonChannel("masto", "http://127.0.0.1:9", "", account="acme")


# --- polling mentions ----------------------------------------------------------------------


async def test_first_poll_gets_recent_mentions_including_filtered_ones(server, connect) -> None:
    server.add_status(author="zoe@remote.example", text="Where is my order?")
    server.add_status(author="newbie@spam.example", text="first time here", filtered=True)
    server.add_status(author="sam", text="Love the new blend", language="fr")
    channel = connect(server)

    result = await channel.poll({})

    assert texts(result.messages) == [
        "@acme Where is my order?",
        "@acme first time here",
        "@acme Love the new blend",
    ]
    assert_oldest_first(result.messages)
    assert {m.origin for m in result.messages} == {Origin.MENTION}
    zoe, _, sam = result.messages
    assert zoe.author.handle == "zoe@remote.example"
    assert sam.author.handle == "sam@social.example"  # local accounts are qualified
    assert sam.language == "fr" and sam.visibility == "public"
    assert zoe.channel == "masto" and zoe.author.channel == "masto"
    assert zoe.url and zoe.url.startswith("https://remote.example/@zoe/")
    assert result.cursor["notifications"]
    query = requests_to(server, "/api/v1/notifications")[0].query
    assert query["types[]"] == ["mention", "update"] and query["include_filtered"] == ["true"]

    assert (await channel.poll(result.cursor)).messages == []


async def test_filtered_mentions_can_be_left_out(server, connect) -> None:
    server.add_status(author="newbie@spam.example", text="buy followers", filtered=True)
    server.add_status(author="zoe@remote.example", text="hello")
    result = await connect(server, include_filtered=False).poll({})
    assert texts(result.messages) == ["@acme hello"]


async def test_seeded_instance_first_poll_then_nothing_new(seeded, connect) -> None:
    channel = connect(seeded)
    first = await channel.poll({})
    assert 0 < len(first.messages) <= 200
    ids = [m.remote_id for m in first.messages]
    assert len(ids) == len(set(ids))
    assert_oldest_first(first.messages)
    assert all(isinstance(m.remote_id, str) for m in first.messages)

    second = await channel.poll(first.cursor)
    assert second.messages == []
    assert second.cursor == first.cursor
    last = requests_to(seeded, "/api/v1/notifications")[-1]
    assert last.query["min_id"] == [first.cursor["notifications"]]


async def test_a_new_mention_arrives_exactly_once(seeded, connect) -> None:
    channel = connect(seeded)
    cursor = (await channel.poll({})).cursor
    status = seeded.add_status(author="zoe@remote.example", text="Still waiting on my refund")
    arrived = await channel.poll(cursor)
    assert [m.remote_id for m in arrived.messages] == [status["id"]]
    assert arrived.cursor["notifications"] != cursor["notifications"]
    assert (await channel.poll(arrived.cursor)).messages == []


async def test_ticks_arrive_in_order(seeded, connect) -> None:
    channel = connect(seeded)
    cursor = (await channel.poll({})).cursor
    made = [seeded.tick()["id"] for _ in range(5)]
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == made


async def test_paging_across_many_new_mentions_has_no_gap_and_no_duplicate(server, connect) -> None:
    channel = connect(server)
    server.add_status(author="zoe@remote.example", text="before")
    cursor = (await channel.poll({})).cursor
    asked_before = len(requests_to(server, "/api/v1/notifications"))
    made = [
        server.add_status(author=f"user{n}@remote.example", text=f"mention number {n}")["id"]
        for n in range(170)
    ]

    result = await channel.poll(cursor)

    assert [m.remote_id for m in result.messages] == made
    pages = requests_to(server, "/api/v1/notifications")[asked_before:]
    full = min(80, server.page_cap)  # Mastodon: 80 + 80 + 10; GoToSocial, Akkoma: 40 x 4 + 10
    assert len(pages) == math.ceil(170 / full) + 1  # only an empty page ends the walk
    assert [p.query["limit"] for p in pages] == [["80"]] * len(pages)
    assert pages[0].query["min_id"] == [cursor["notifications"]]
    assert (await channel.poll(result.cursor)).messages == []


async def test_first_run_imports_the_mentions_back_to_the_backfill_horizon(server, connect) -> None:
    now = datetime.now(UTC)
    for days in (20, 16):  # older than the 14 days of backfill: left out
        server.add_status(author="old@remote.example", text="long ago", created_at=now - timedelta(days=days))
    made = [server.add_status(author="zoe@remote.example", text=f"n{n}")["id"] for n in range(250)]
    channel = connect(server)
    result = await channel.poll({})
    assert [m.remote_id for m in result.messages] == made  # all 250, not a first page or two
    pages = requests_to(server, "/api/v1/notifications")
    assert "max_id" not in pages[0].query and "max_id" in pages[1].query
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_quiet_account_still_gets_its_newest_mentions_whatever_their_age(server, connect) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=90)
    made = [
        server.add_status(author="zoe@remote.example", text=f"n{n}", created_at=long_ago)["id"]
        for n in range(3)
    ]
    assert [m.remote_id for m in (await connect(server).poll({})).messages] == made


async def test_backfill_is_a_setting(server, connect) -> None:
    now = datetime.now(UTC)
    server.add_status(author="old@remote.example", text="three days ago", created_at=now - timedelta(days=3))
    an_hour_ago = now - timedelta(hours=1)
    recent = [
        server.add_status(author="zoe@remote.example", text=f"n{n}", created_at=an_hour_ago)["id"]
        for n in range(200)  # the 200 imported whatever their age are all recent here
    ]
    result = await connect(server, backfill=timedelta(days=2)).poll({})
    assert [m.remote_id for m in result.messages] == recent


async def test_brand_posts_are_ours(server, connect) -> None:
    root = server.add_status(author="zoe@remote.example", text="Is the shop open? #acmecoffee")
    server.add_status(
        author="acme",
        text="@zoe@remote.example Yes, until 6! #acmecoffee",
        in_reply_to_id=root["id"],
    )
    result = await connect(server, hashtags=("#acmecoffee",)).poll({})
    origins = {m.text.split()[1]: m.origin for m in result.messages}
    assert origins == {"Is": Origin.MENTION, "Yes,": Origin.OURS}
    ours = result.messages[1]
    assert ours.is_ours and ours.in_reply_to == root["id"]
    assert ours.author.handle == "acme@social.example"


# --- listening: hashtags and search ---------------------------------------------------------


async def test_hashtag_listening_and_dedupe_with_mentions(server, connect) -> None:
    channel = connect(server, hashtags=("AcmeCoffee",))
    first = await channel.poll({})
    assert first.messages == []

    heard = server.add_status(
        author="max@other.example",
        text="Best espresso",
        mention_brand=False,
        hashtags=("acmecoffee",),
    )
    both = server.add_status(author="zoe@remote.example", text="Help please", hashtags=("acmecoffee",))
    result = await channel.poll(first.cursor)

    assert [(m.remote_id, m.origin) for m in result.messages] == [
        (heard["id"], Origin.HASHTAG),
        (both["id"], Origin.MENTION),  # both a mention and a hashtag hit: a mention
    ]
    assert result.cursor["tag:acmecoffee"] == both["id"]
    assert requests_to(server, "/api/v1/timelines/tag/AcmeCoffee")
    assert (await channel.poll(result.cursor)).messages == []

    later = server.add_status(
        author="max@other.example", text="Again", mention_brand=False, hashtags=("acmecoffee",)
    )
    again = await channel.poll(result.cursor)
    assert [m.remote_id for m in again.messages] == [later["id"]]
    tag_requests = requests_to(server, "/api/v1/timelines/tag/AcmeCoffee")
    assert [r.query["min_id"] for r in tag_requests[-2:]] == [[both["id"]], [later["id"]]]


async def test_search_listening(server, connect) -> None:
    channel = connect(server, search_terms=("refund",))
    server.add_status(author="max@other.example", text="no refund from acme yet", mention_brand=False)
    server.add_status(author="max@other.example", text="unrelated chatter", mention_brand=False)
    first = await channel.poll({})
    assert [(m.text, m.origin) for m in first.messages] == [("no refund from acme yet", Origin.SEARCH)]
    assert "search:refund" in first.cursor
    assert (await channel.poll(first.cursor)).messages == []

    newer = server.add_status(author="ann@else.example", text="refund took 3 weeks", mention_brand=False)
    result = await channel.poll(first.cursor)
    assert [m.remote_id for m in result.messages] == [newer["id"]]
    search = requests_to(server, "/api/v2/search")[-2].query  # the last: an empty page after it
    assert search["type"] == ["statuses"] and search["q"] == ["refund"]
    assert search["min_id"] == [first.cursor["search:refund"]]


async def test_search_that_refuses_min_id_is_filtered_locally(server, connect) -> None:
    channel = connect(server, search_terms=("refund",))
    server.add_status(author="max@other.example", text="refund one", mention_brand=False)
    cursor = (await channel.poll({})).cursor
    newer = server.add_status(author="max@other.example", text="refund two", mention_brand=False)
    server.inject("/api/v2/search", status=422, body='{"error":"min_id is not supported"}')
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [newer["id"]]
    assert result.cursor["search:refund"] == newer["id"]


async def test_unsupported_search_is_skipped_without_breaking_the_poll(server, connect) -> None:
    channel = connect(server, search_terms=("refund",))
    server.inject("/api/v2/search", status=400, body='{"error":"Search is not enabled"}', times=5)
    server.add_status(author="zoe@remote.example", text="refund please")
    result = await channel.poll({})
    assert [(m.text, m.origin) for m in result.messages] == [("@acme refund please", Origin.MENTION)]
    assert "search:refund" not in result.cursor
    searched = len(requests_to(server, "/api/v2/search"))
    await channel.poll(result.cursor)
    assert len(requests_to(server, "/api/v2/search")) == searched  # no longer asked


# --- threads --------------------------------------------------------------------------------


async def test_context_of_a_reply_whose_parent_is_unknown(server, connect) -> None:
    root = server.add_status(author="zoe@remote.example", text="My grinder broke", mention_brand=False)
    answer = server.add_status(
        author="acme", text="@zoe@remote.example Sorry! Which model?", in_reply_to_id=root["id"]
    )
    back = server.add_status(
        author="zoe@remote.example",
        text="The Mini",
        in_reply_to_id=answer["id"],
        mention_brand=False,
    )
    after = server.add_status(
        author="sam",
        text="@zoe@remote.example same here",
        in_reply_to_id=back["id"],
        mention_brand=False,
    )
    channel = connect(server)
    polled = (await channel.poll({})).messages
    assert [m.remote_id for m in polled] == [back["id"]]  # a reply to the brand: a notification
    assert polled[0].in_reply_to == answer["id"]

    thread = await channel.context(back["id"])

    assert [m.remote_id for m in thread] == [root["id"], answer["id"], back["id"], after["id"]]
    assert [m.origin for m in thread] == [
        Origin.CONTEXT,
        Origin.OURS,
        Origin.CONTEXT,
        Origin.CONTEXT,
    ]
    assert [m.in_reply_to for m in thread] == [None, root["id"], answer["id"], back["id"]]


async def test_context_of_a_status_that_is_gone_says_it_was_deleted(server, connect) -> None:
    (gone,) = await connect(server).context("999999999999999999")
    assert gone.remote_id == "999999999999999999" and gone.deleted and gone.text == ""


# --- replying -------------------------------------------------------------------------------


async def _mention(server: MastodonServer, channel: MastodonChannel, **kwargs: object) -> Message:
    cursor = (await channel.poll({})).cursor
    status = server.add_status(**kwargs)  # type: ignore[arg-type]
    messages = (await channel.poll(cursor)).messages
    assert [m.remote_id for m in messages] == [status["id"]]
    return messages[0]


async def test_reply_prefix_mentions_everyone_but_the_brand(server, connect) -> None:
    channel = connect(server)
    server.add_status(author="sam", text="hi all", mention_brand=False)  # @sam must exist
    parent = await _mention(
        server,
        channel,
        author="zoe@remote.example",
        text="@acme @max@other.example @sam @zoe@remote.example @acme is this yours?",
    )
    assert channel.reply_prefix(parent) == "@zoe@remote.example @max@other.example @sam "
    assert channel.reply_prefix(parent, "acme@social.example") == channel.reply_prefix(parent)

    local = await _mention(server, channel, author="sam", text="hello")
    assert channel.reply_prefix(local, "@acme") == "@sam "


async def test_reply_prefix_of_a_message_this_process_never_saw(connect, server) -> None:
    channel = connect(server)
    await channel.capabilities()
    parent = Message(
        channel="masto",
        remote_id="1",
        author=(await _mention(server, channel, author="zoe@remote.example", text="x")).author,
        text="@acme @max@other.example look",
        created_at=datetime.now(UTC),
    )
    assert channel.reply_prefix(parent, "acme") == "@zoe@remote.example @max@other.example "


async def test_reply_prefix_leaves_the_brand_out_before_the_instance_said_its_domain(server, connect) -> None:
    """A reply begun in the inbox's first second, before the channel's first answer: the
    address's host (127.0.0.1 here) is not the instance's domain (social.example)."""
    author = (await _mention(server, connect(server), author="zoe@remote.example", text="x")).author
    fresh = connect(server)  # has asked the instance nothing yet
    parent = Message(
        channel="masto",
        remote_id="1",
        author=author,
        text="@acme@social.example @max@other.example look",
        created_at=datetime.now(UTC),
    )
    assert fresh.reply_prefix(parent) == "@zoe@remote.example @max@other.example "


async def test_reply_sends_one_status_with_the_parents_visibility(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(
        server,
        channel,
        author="zoe@remote.example",
        text="my order?",
        visibility="unlisted",
        language="fr",
    )
    text = channel.reply_prefix(parent) + "Merci, on regarde !"

    sent = await channel.reply(parent, text, "key-1")

    assert len(server.posted) == 1
    posted = server.posted[0]
    assert posted.in_reply_to_id == parent.remote_id
    assert posted.text == "@zoe@remote.example Merci, on regarde !"
    assert posted.visibility == "unlisted"
    assert posted.language == "fr"
    assert posted.idempotency_key == "key-1"
    assert sent.remote_id == posted.id
    assert sent.origin is Origin.OURS and sent.in_reply_to == parent.remote_id
    assert sent.author.handle == "acme@social.example"
    request = requests_to(server, "/api/v1/statuses")[0]
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["Content-Type"] == "application/json"


async def test_a_reply_is_never_more_public_than_its_parent(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel, author="zoe@remote.example", text="psst", visibility="private")
    await channel.reply(parent, "@zoe@remote.example ok", "key-2", visibility="public")
    await channel.reply(parent, "@zoe@remote.example ok", "key-3", visibility="direct")
    assert [p.visibility for p in server.posted] == ["private", "direct"]


async def test_a_retried_reply_after_a_lost_answer_posts_once(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel, author="zoe@remote.example", text="hello?")
    server.inject("/api/v1/statuses", after_handling=True, status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(UncertainSend) as caught:
        await channel.reply(parent, "@zoe@remote.example Hi!", "key-lost")
    assert isinstance(caught.value, TransientError)
    assert len(server.posted) == 1  # it did go out

    if not server.honours_idempotency_key:  # GoToSocial: a resend would publish it again
        since = datetime.now(UTC) - timedelta(minutes=1)
        found = await channel.find_sent(parent, "@zoe@remote.example Hi!", "", since)
        assert found is not None and found.remote_id == server.posted[0].id
        return
    sent = await channel.reply(parent, "@zoe@remote.example Hi!", "key-lost")
    assert len(server.posted) == 1
    assert sent.remote_id == server.posted[0].id


async def test_a_timeout_after_the_request_left_is_uncertain(server) -> None:
    channel = MastodonChannel("masto", server.base_url, TOKEN, account="acme", timeout=0.5)
    try:
        server.add_status(author="zoe@remote.example", text="hello?")
        parent = (await channel.poll({})).messages[0]
        server.inject("/api/v1/statuses", delay=5.0, after_handling=True, status=200)
        with pytest.raises(UncertainSend):
            await channel.reply(parent, "@zoe@remote.example Hi!", "key-slow")
    finally:
        await channel.aclose()


async def test_validation_errors_are_permanent_with_the_servers_words(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel, author="zoe@remote.example", text="hi")
    with pytest.raises(PermanentError) as blank:
        await channel.reply(parent, "   ", "key-blank")
    assert "Validation failed: Text can't be blank" in str(blank.value)
    with pytest.raises(PermanentError, match="character limit of 500 exceeded"):
        await channel.reply(parent, "x" * 501, "key-long")
    assert server.posted == []


async def test_length_counts_like_mastodon(server, connect) -> None:
    channel = connect(server)
    await channel.capabilities()
    text = "@zoe@remote.example see https://example.com/a/very/long/path/indeed?x=1, thanks"
    assert channel.length(text) == len("@zoe see ") + 23 + len(", thanks")
    assert mastodon_length("café 👍🏽 🇫🇷 👨‍👩‍👧") == len("café x x x")
    assert count_graphemes("e\u0301") == 1
    assert mastodon_length("") == 0
    # The local server counts the same way: a status at the limit passes, one more fails.
    parent = await _mention(server, channel, author="zoe@remote.example", text="hi")
    body = "@zoe@remote.example https://example.com/" + "y" * 100 + " "
    filler = "z" * (500 - channel.length(body))
    await channel.reply(parent, body + filler, "key-full")
    with pytest.raises(PermanentError, match="character limit"):
        await channel.reply(parent, body + filler + "!", "key-over")


def test_reply_visibility_rules() -> None:
    assert reply_visibility("unlisted", None) == "unlisted"
    assert reply_visibility("private", "public") == "private"
    assert reply_visibility("public", "direct") == "direct"
    assert reply_visibility(None, "unlisted") == "unlisted"
    assert reply_visibility("local", "public") == "local"


# --- failures -------------------------------------------------------------------------------


async def test_rate_limit_gives_retry_at_from_the_iso_reset(connect) -> None:
    # The server's clock sits just after the start of the next 5-minute window, so its reset
    # is 5 to 10 minutes ahead of the real clock: never clamped, never in the past.
    window_start = (math.floor(datetime.now(UTC).timestamp() / 300) + 1) * 300
    frozen = datetime.fromtimestamp(window_start + 1, UTC)
    async with MastodonServer(seed=None, token=TOKEN, now=lambda: frozen) as server:
        channel = connect(server)
        await channel.check()
        server.exhaust_rate_limit()
        with pytest.raises(RateLimited) as caught:
            await channel.poll({})
        expected = datetime.fromtimestamp(window_start + 300, UTC)
        assert caught.value.retry_at == expected
        seen = len(server.requests)
        with pytest.raises(RateLimited):
            await channel.poll({})
        assert len(server.requests) == seen  # paused: nothing sent


async def test_server_error_is_transient_and_the_cursor_holds(server, connect) -> None:
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    status = server.add_status(author="zoe@remote.example", text="are you there?")
    server.inject("/api/v1/notifications", status=500, body='{"error":"We are sorry"}')
    with pytest.raises(TransientError) as caught:
        await channel.poll(cursor)
    assert not isinstance(caught.value, PermanentError)
    assert "500" in str(caught.value)
    assert [m.remote_id for m in (await channel.poll(cursor)).messages] == [status["id"]]


async def test_malformed_json_is_transient_and_nothing_is_lost(server, connect) -> None:
    channel = connect(server)
    server.add_status(author="zoe@remote.example", text="one")
    cursor = (await channel.poll({})).cursor
    status = server.add_status(author="zoe@remote.example", text="two")
    server.inject("/api/v1/notifications", status=200, body='[{"id": "1", "status": ')
    with pytest.raises(TransientError, match="malformed response"):
        await channel.poll(cursor)
    assert [m.remote_id for m in (await channel.poll(cursor)).messages] == [status["id"]]


async def test_a_failing_hashtag_keeps_its_cursor_and_mentions_still_arrive(server, connect) -> None:
    channel = connect(server, hashtags=("acme",))
    server.add_status(author="max@other.example", text="x", mention_brand=False, hashtags=("acme",))
    cursor = (await channel.poll({})).cursor
    mention = server.add_status(author="zoe@remote.example", text="help")
    server.inject("/api/v1/timelines/tag/", status=503, body="{}")
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [mention["id"]]
    assert result.cursor["tag:acme"] == cursor["tag:acme"]


# --- content --------------------------------------------------------------------------------


async def test_html_becomes_text_with_the_real_link_targets(server, connect) -> None:
    server.add_status(
        author="zoe@remote.example",
        text="ignored",
        html=(
            '<p><span class="h-card"><a href="https://social.example/@acme" class="u-url mention">'
            "@<span>acme</span></a></span> look at "
            '<a href="https://real.example/target?x=1" rel="nofollow">'
            '<span class="invisible">https://</span>'
            '<span class="">shown.example/elsewhere</span></a>'
            "</p><p>second &amp; last</p>"
        ),
        spoiler_text="order trouble",
    )
    message = (await connect(server).poll({})).messages[0]
    assert "look at" in message.text and "second & last" in message.text
    assert "<" not in message.text
    assert "https://real.example/target?x=1" in message.links
    assert message.spoiler == "order trouble"


async def test_decoding_comes_before_sanitizing_and_is_flagged(server, connect) -> None:
    """Entities in the HTML and JSON escapes in the account are decoded first: what they hid is
    then removed from the text (and flagged), and the name keeps it for the display to clean.
    (RFC 2047 headers come with the email channel: its tests must show the same for a subject
    or a name like =?utf-8?q?=1B]0;x=07?=.)"""
    server.add_status(
        author="eve@evil.example", display_name="Eve\x1b]0;PWNED\x07", text="unused",
        html="<p>order &#27;[31mFAILED&#x1b;[0m invoice&#x202e;fdp.exe &#x1b;]52;c;ZXZpbA==&#7;</p>",
    )  # fmt: skip
    server.add_status(author="zoe@remote.example", text="my order is late")
    async with httpx.AsyncClient() as raw:
        wire = (await raw.get(f"{server.base_url}/api/v1/notifications",
                              headers={"Authorization": f"Bearer {TOKEN}"})).text  # fmt: skip
    assert "Eve\\u001b]0;PWNED\\u0007" in wire and "&#27;[31m" in wire  # escaped on the wire
    eve, zoe = sorted((await connect(server).poll({})).messages, key=lambda m: m.author.handle)
    assert eve.text == "order FAILED invoicefdp.exe" and eve.hidden_characters
    assert eve.author.display_name == "Eve\x1b]0;PWNED\x07"  # raw: sanitized where it is shown
    assert zoe.text == "@acme my order is late" and not zoe.hidden_characters


# --- Akkoma and other Mastodon-API servers --------------------------------------------------


@pytest.fixture
async def akkoma() -> AsyncIterator[str]:
    """A tiny Akkoma look-alike: no /api/v2/instance, flake ids, a plain-text rendition, and a
    server that ignores `types[]` (it answers a favourite among the mentions)."""
    brand = {"id": "AbCdEf0123456789", "acct": "acme", "username": "acme", "display_name": "Acme"}
    zoe = {"id": "Zz9", "acct": "zoe@remote.example", "display_name": "Zoé", "url": None}
    status = {
        "id": "AQlqVhz2Qs5tM8ZbTk",
        "created_at": "2025-03-01T10:00:00.000Z",
        "edited_at": "2025-03-01T10:05:00.000Z",
        "account": zoe,
        "content": "<p>ignored html</p>",
        "pleroma": {"content": {"text/plain": "@acme plain text wins"}},
        "visibility": "direct",
        "language": None,
        "mentions": [{"id": brand["id"], "acct": "acme"}],
        "media_attachments": [
            {"type": "image", "url": "https://remote.example/m/1.jpg", "description": "receipt"}
        ],
    }
    notifications = [
        {"id": "AQlqW0", "type": "favourite", "account": zoe, "status": {**status, "id": "Other"}},
        {"id": "AQlqVz", "type": "mention", "account": zoe, "status": status},
    ]

    async def handle(request: web.Request) -> web.Response:
        routes = {
            "/api/v1/instance": {
                "uri": "akkoma.example",
                "version": "2.7.2 (compatible; Akkoma 3.13.2)",
                "max_toot_chars": 5000,
            },
            "/api/v1/accounts/verify_credentials": brand,
            "/api/v1/notifications": [] if "min_id" in request.query else notifications,
        }
        if request.path not in routes:
            return web.json_response({"error": "Not found"}, status=404)
        return web.json_response(routes[request.path])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_akkoma_differences(akkoma: str) -> None:
    channel = MastodonChannel("fedi", akkoma, TOKEN, account="acme")
    try:
        capabilities = await channel.capabilities()
        assert capabilities.max_length == 5000 and capabilities.url_length == 23
        who, streaming = (await channel.check()).splitlines()
        assert who.endswith("(Akkoma 3.13.2)")
        assert streaming.startswith("streaming does not work here")  # this fake has no SSE
        result = await channel.poll({})
        [message] = result.messages  # the favourite is not a mention
        assert message.remote_id == "AQlqVhz2Qs5tM8ZbTk"  # flake ids stay strings
        assert message.text == "@acme plain text wins\n[image: receipt]"
        assert message.links == ("https://remote.example/m/1.jpg",)
        assert message.visibility == "direct" and message.language is None
        assert message.edited_at == datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
        assert message.author.handle == "zoe@remote.example" and message.author.label == "Zoé"
        assert result.cursor == {"notifications": "AQlqW0"}
        assert channel.reply_prefix(message) == "@zoe@remote.example "
    finally:
        await channel.aclose()


# --- OAuth ----------------------------------------------------------------------------------


async def test_oauth_out_of_band_flow(server) -> None:
    client = HttpClient("masto", server.base_url)
    try:
        client_id, client_secret = await register_app(server.base_url, client)
        url = authorize_url(server.base_url, client_id)
        assert "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in url
        assert "scope=read%3Anotifications+read%3Astatuses" in url and "response_type=code" in url
        async with httpx.AsyncClient() as browser:
            page = (await browser.get(url)).text
        code = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page)
        assert code is not None
        code_value = code.group(1)
        token = await exchange_code(server.base_url, client_id, client_secret, code_value, client)
        assert token == TOKEN and server.token_scopes == set(SCOPES.split())  # what was asked, no more

        with pytest.raises(AuthError) as refused:  # a code works once
            await exchange_code(server.base_url, client_id, client_secret, code_value, client)
        assert "invalid_grant" in str(refused.value) or "grant is invalid" in str(refused.value)
        assert client_secret not in str(refused.value)
    finally:
        await client.aclose()

    channel = MastodonChannel("masto", server.base_url, token, account="acme")
    try:
        assert (await channel.check()).startswith("@acme on ")
    finally:
        await channel.aclose()


# --- hygiene --------------------------------------------------------------------------------


async def test_the_token_never_shows_in_errors_or_reprs(server, connect) -> None:
    channel = connect(server)
    shown = [repr(channel), str(channel), repr(channel._http)]
    server.inject("/api/v1/notifications", status=500, body=f'{{"error":"bad {TOKEN}"}}')
    server.inject("/api/v1/accounts/verify_credentials", status=401, body=f'{{"error":"{TOKEN}"}}')
    for call in (channel.check, lambda: channel.poll({}), lambda: channel.poll({})):
        try:
            await call()
        except ChannelError as error:
            shown += [str(error), repr(error)]
    assert len(shown) >= 5
    for text in shown:
        assert TOKEN not in text


async def test_verified_profile_links_are_proofs_and_unverified_ones_are_not(server, connect) -> None:
    """Contacts across channels rest on what Mastodon verified (rel="me"), never on what a
    profile merely says."""
    server.add_status(author="sophie@mamot.example", display_name="Sophie", text="hello")
    server.add_profile_link("sophie@mamot.example", "Forum", "https://forum.example/u/sophie_l?a=1&b=2")
    server.add_profile_link("sophie@mamot.example", "Shop", "https://shop.example/", verified=False)
    message = (await connect(server).poll({})).messages[0]
    forum = "https://forum.example/u/sophie_l?a=1&b=2"
    assert message.author.proofs == ("https://mamot.example/@sophie", claim(forum))
