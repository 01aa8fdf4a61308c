"""The YouTube channel against the local YouTube server, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fakes import Clock

from ecoinbox.channels import build_channel
from ecoinbox.channels.base import (
    AuthError,
    HidingChannel,
    ModeratedChannel,
    RateLimited,
    ReconcilingChannel,
    RenewableChannel,
    UncertainSend,
)
from ecoinbox.channels.youtube import YouTubeChannel
from ecoinbox.channels.youtube.quota import next_reset
from ecoinbox.channels.youtube.unit import YouTubeSettings, youtube_oauth
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.demo.youtube.server import API, BRAND_CHANNEL, HABITS, YouTubeServer
from ecoinbox.model import Message
from ecoinbox.secrets import Secret

CLIENT_ID = "test-client.apps.googleusercontent.example"
CLIENT_SECRET = "client-secret-5d1e-never-in-messages"
REFRESH = "refresh-token-9c2b-never-in-messages"
SECRET = json.dumps({"client_secret": CLIENT_SECRET, "refresh_token": REFRESH})
# 2026-12-07 20:00 UTC is 12:00 Pacific: the quota resets 12 hours later.
NOON_PACIFIC = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON_PACIFIC)


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[YouTubeServer]:
    """An empty channel (no comments), once per habit set: each test adds what it needs."""
    async with YouTubeServer(
        seed=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH, now=clock,
        **HABITS[request.param],
    ) as running:  # fmt: skip
        yield running


@pytest.fixture
async def connect(server: YouTubeServer, clock: Clock) -> AsyncIterator[Callable[..., YouTubeChannel]]:
    made: list[YouTubeChannel] = []

    def make(**options: object) -> YouTubeChannel:
        values: dict[str, object] = {"quota_per_poll": 200, **options}
        channel = YouTubeChannel(
            "youtube", server.base_url + API, str(values.pop("secret", SECRET)), channel_id=BRAND_CHANNEL,
            client_id=CLIENT_ID, token_url=server.base_url + "/token", clock=clock, **values,  # type: ignore[arg-type]
        )  # fmt: skip
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


def ago(clock: Clock, minutes: float) -> datetime:
    return clock() - timedelta(minutes=minutes)


def by_id(messages: list[Message]) -> dict[str, Message]:
    return {m.remote_id: m for m in messages}


# ---- polling ------------------------------------------------------------------------------------


async def test_poll_reads_threads_replies_and_held_comments(server, connect, clock) -> None:
    question = server.add_comment(author="lea", text="Le mien s'éteint tout seul", at=ago(clock, 50))
    answer = server.add_reply(
        parent=question, author="acme", text="Merci Léa, on regarde.", at=ago(clock, 40)
    )
    held = server.add_comment(author="tom", text="Charged twice!", at=ago(clock, 30), status="heldForReview")
    spam = server.add_comment(
        author="gains", text="DM me on telegram", at=ago(clock, 20), status="likelySpam"
    )
    channel = connect()
    assert isinstance(channel, ReconcilingChannel) and isinstance(channel, RenewableChannel)
    result = await channel.poll({})
    got = by_id(result.messages)
    assert set(got) == {question, answer, held, spam}
    assert got[answer].in_reply_to == question and got[answer].is_ours and got[answer].thread_ref == question
    assert got[question].text == "Le mien s'éteint tout seul" and not got[question].held
    assert got[held].held and got[held].platform_verdict == ""
    assert got[spam].held and got[spam].platform_verdict == "spam"
    assert got[question].url and "lc=" + question in got[question].url
    assert [m.created_at for m in result.messages] == sorted(m.created_at for m in result.messages)
    asked = {
        r.query.get("moderationStatus", ["published"])[0]
        for r in server.requests
        if r.path.endswith("Threads")
    }
    assert asked == {"published", "heldForReview", "likelySpam"}


async def test_poll_pages_down_to_the_last_comment_seen_and_skips_nothing(server, connect, clock) -> None:
    first = [server.add_comment(author=f"p{i}", text=f"old {i}", at=ago(clock, 600 - i)) for i in range(5)]
    channel = connect(include_held=False)
    cursor = (await channel.poll({})).cursor
    new = [server.add_comment(author=f"n{i}", text=f"new {i}", at=ago(clock, 300 - i)) for i in range(130)]
    result = await channel.poll(cursor)
    assert {m.remote_id for m in result.messages} >= set(new)
    assert not {m.remote_id for m in result.messages} & set(first[:-1])  # stopped at the mark
    pages = [r for r in server.requests if r.path.endswith("commentThreads")]
    assert any("pageToken" in r.query for r in pages)


async def test_a_walk_cut_by_the_poll_budget_goes_on_at_the_next_poll(server, connect, clock) -> None:
    channel = connect(include_held=False, quota_per_poll=1)
    cursor = (await channel.poll({})).cursor
    new = [server.add_comment(author=f"n{i}", text=f"new {i}", at=ago(clock, 300 - i)) for i in range(250)]
    seen: set[str] = set()
    for _ in range(20):
        result = await channel.poll(cursor)
        seen |= {m.remote_id for m in result.messages}
        cursor = result.cursor
        if not result.warnings:
            break
        assert "quota budget" in result.warnings[0]
    # A comment written during the walk comes with the next walk, not lost under the old mark.
    late = server.add_comment(author="late", text="late one", at=clock())
    assert set(new) <= seen
    assert late in {m.remote_id for m in (await channel.poll(cursor)).messages}


async def test_replies_past_the_embedded_ones_are_read_with_parent_id(server, connect, clock) -> None:
    top = server.add_comment(author="sam", text="Battery died", at=ago(clock, 60))
    replies = [
        server.add_reply(parent=top, author=f"r{i}", text=f"same {i}", at=ago(clock, 50 - i))
        for i in range(8)
    ]
    channel = connect(include_held=False)
    got = by_id((await channel.poll({})).messages)
    assert set(replies) <= set(got)
    assert any(r.query.get("parentId") == [top] for r in server.requests)


async def test_answers_in_a_thread_we_replied_in_come_in_however_old_it_is(server, connect, clock) -> None:
    old = server.add_comment(author="marco", text="Old dock?", at=ago(clock, 3000))
    channel = connect(include_held=False)
    result = await channel.poll({})
    parent = by_id(result.messages)[old]
    await channel.reply(parent, "The old dock works.", "key-1")
    answer = server.add_reply(parent=old, author="marco", text="Thanks!", at=clock())
    clock.advance(minutes=10)  # the threads we answered are read again every 10 minutes
    assert answer in {m.remote_id for m in (await channel.poll(result.cursor)).messages}


async def test_a_malformed_thread_is_skipped_and_the_rest_read(server, connect, clock) -> None:
    good = server.add_comment(author="ok", text="fine", at=ago(clock, 5))
    body = {"items": [{"id": "broken", "snippet": {"topLevelComment": {"id": "x"}}},
                      {"id": "bad2", "snippet": "nope"}]}  # fmt: skip
    server.inject(f"{API}/commentThreads", status=200, body=json.dumps(body))
    channel = connect(include_held=False)
    first = await channel.poll({})
    assert first.messages == []
    assert good in {m.remote_id for m in (await channel.poll({})).messages}


# ---- replying exactly once -----------------------------------------------------------------------


async def test_a_reply_goes_under_the_top_level_comment_once(server, connect, clock) -> None:
    top = server.add_comment(author="sam", text="Battery?", at=ago(clock, 60))
    other = server.add_reply(parent=top, author="kenji", text="same here", at=ago(clock, 50))
    channel = connect(include_held=False)
    got = by_id((await channel.poll({})).messages)
    assert channel.reply_prefix(got[other]) == "@kenji " and channel.reply_prefix(got[top]) == ""
    sent = await channel.reply(got[other], "@kenji a fix ships Monday.", "key-1")
    assert server.posted == [sent.remote_id] and sent.in_reply_to == top and sent.is_ours
    assert server.text_of(sent.remote_id) == "@kenji a fix ships Monday."
    assert server.used_today() >= 50


async def test_a_reply_whose_answer_was_lost_is_read_back_not_sent_again(server, connect, clock) -> None:
    top = server.add_comment(author="sam", text="Battery?", at=ago(clock, 60))
    channel = connect(include_held=False)
    parent = by_id((await channel.poll({})).messages)[top]
    server.drop_answer_after_post = 1
    asked = clock()
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "A fix ships  Monday.", "key-1")
    assert len(server.posted) == 1
    found = await channel.find_sent(parent, "A fix ships Monday.", "", asked)
    assert found is not None and found.remote_id == server.posted[0]
    assert await channel.find_sent(parent, "Another text", "", asked) is None
    assert len(server.posted) == 1  # reading back posted nothing


# ---- quota ---------------------------------------------------------------------------------------


async def test_quota_exceeded_pauses_until_midnight_pacific_in_words(server, connect, clock) -> None:
    server.add_comment(author="a", text="hello", at=ago(clock, 5))
    channel = connect()
    server.exhaust_quota()
    with pytest.raises(RateLimited) as refused:
        await channel.poll({})
    assert refused.value.retry_at == next_reset(clock()) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert "daily quota is used up" in str(refused.value) and "00:00 Pacific (in 12 h)" in str(refused.value)
    before = len(server.requests)
    with pytest.raises(RateLimited):  # not asked again before the reset
        await channel.poll({})
    assert len(server.requests) == before
    clock.advance(hours=12, minutes=1)
    server.quota_used.clear()
    assert (await channel.poll({})).messages


async def test_polls_leave_the_reserve_for_replies_and_check_says_what_was_used(
    server, connect, clock
) -> None:
    top = server.add_comment(author="a", text="hello", at=ago(clock, 5))
    channel = connect(quota_per_day=1100)
    result = await channel.poll({})
    assert result.cursor["quota_used"] == str(server.used_today())
    said = await channel.check()
    assert (
        "Acme (UCacme" in said
        and "of 1,100 quota units used today, resets at 00:00 Pacific (in 12 h)" in said
    )
    channel.quota.used = 1100 - 1000  # what polling may spend is spent: replies still go out
    with pytest.raises(RateLimited) as waits:
        await channel.poll(result.cursor)
    assert "100 of 1,100 quota units used today: polling waits until 00:00 Pacific (in 12 h)" in str(
        waits.value
    )
    await channel.reply(by_id(result.messages)[top], "Hi!", "k")
    assert len(server.posted) == 1


async def test_a_poll_says_the_quota_used_once_most_of_the_day_is_spent(server, connect, clock) -> None:
    channel = connect(quota_per_day=6000)
    assert (await channel.poll({})).warnings == ()
    channel.quota.used = 4800
    said = (await channel.poll({})).warnings
    assert said == ("4,803 of 6,000 quota units used today, resets at 00:00 Pacific (in 12 h)",)


async def test_the_quota_count_survives_a_restart_through_the_cursor(server, connect, clock) -> None:
    channel = connect()
    cursor = (await channel.poll({})).cursor
    used = int(cursor["quota_used"])
    again = connect()
    cursor = (await again.poll(cursor)).cursor
    assert int(cursor["quota_used"]) == used + 3


# ---- auth ----------------------------------------------------------------------------------------


async def test_a_revoked_grant_says_to_run_auth_and_never_the_token(server, connect) -> None:
    channel = connect()
    server.revoke()
    with pytest.raises(AuthError) as refused:
        await channel.poll({})
    said = str(refused.value)
    assert "ecoinbox auth youtube" in said and "7-day" in said
    assert REFRESH not in said and CLIENT_SECRET not in said and REFRESH not in repr(channel)


async def test_an_expired_access_token_is_renewed_once(server, connect) -> None:
    channel = connect()
    await channel.poll({})
    server.expire_access_tokens()
    await channel.poll({})
    assert sum(1 for r in server.requests if r.path == "/token") == 2


async def test_the_installed_app_flow_gets_a_refresh_token(server, tmp_path: Path) -> None:
    settings = YouTubeSettings(
        kind="youtube", name="youtube", base_url=server.base_url + API, channel_id=BRAND_CHANNEL,
        client_id=CLIENT_ID, token_url=server.base_url + "/token",
        authorize_url=server.base_url + "/o/oauth2/v2/auth",
    )  # fmt: skip
    said: list[str] = []

    async def browser() -> None:
        while not any("code_challenge=" in line for line in said):
            await asyncio.sleep(0.01)
        url = next(line.strip() for line in said if "code_challenge=" in line)
        async with httpx.AsyncClient(follow_redirects=True) as client:
            assert (await client.get(url)).status_code == 200

    secret, _ = await asyncio.gather(
        youtube_oauth(settings, CLIENT_SECRET, say=said.append, timeout=10), browser()
    )
    grant = json.loads(secret.reveal())
    assert grant["client_secret"] == CLIENT_SECRET and grant["refresh_token"]
    channel = build_channel(settings, secret)
    try:
        assert "Acme" in await channel.check()
    finally:
        await channel.aclose()


async def test_the_paste_flow_reads_the_code_from_the_pasted_address(server) -> None:
    settings = YouTubeSettings(
        kind="youtube", name="youtube", base_url=server.base_url + API, channel_id=BRAND_CHANNEL,
        client_id=CLIENT_ID, token_url=server.base_url + "/token",
        authorize_url=server.base_url + "/o/oauth2/v2/auth",
    )  # fmt: skip
    said: list[str] = []

    def paste() -> str:  # the browser cannot reach 127.0.0.1 here: the manager copies the address
        url = next(line.strip() for line in said if "code_challenge=" in line)
        answer = httpx.get(url, follow_redirects=False)
        return answer.headers["location"] + "\n"

    secret = await youtube_oauth(settings, CLIENT_SECRET, paste=True, say=said.append, read=paste, timeout=10)
    assert json.loads(secret.reveal())["refresh_token"]


# ---- moderation ----------------------------------------------------------------------------------


async def test_moderation_publishes_hides_and_never_deletes(server, connect, clock) -> None:
    held = server.add_comment(author="tom", text="Charged twice", at=ago(clock, 5), status="heldForReview")
    rude = server.add_comment(author="x", text="You are all idiots", at=ago(clock, 4))
    spam = server.add_comment(author="y", text="FREE gift cards", at=ago(clock, 3))
    channel = connect()
    assert isinstance(channel, ModeratedChannel) and isinstance(channel, HidingChannel)
    await channel.approve(held)
    await channel.hide(rude, spam=False)
    await channel.hide(spam, spam=True)
    assert [server.status_of(i) for i in (held, rude, spam)] == ["published", "heldForReview", "rejected"]
    await channel.unhide(spam)
    assert server.status_of(spam) == "published" and server.deleted == []


# ---- config --------------------------------------------------------------------------------------


def youtube_config(**keys: object) -> str:
    from configs import channel_toml, config_toml

    values: dict[str, object] = {"kind": "youtube", "name": "youtube", "base_url": None,
                                 "channel_id": BRAND_CHANNEL, "client_id": CLIENT_ID}  # fmt: skip
    values.update(keys)
    return config_toml(channel_toml(**values))


def test_config_reads_the_youtube_settings() -> None:
    settings = parse_config(youtube_config(quota_per_poll=20, held_comments=False), Path("c.toml"))
    channel = settings.channels[0]
    assert isinstance(channel, YouTubeSettings)
    assert channel.base_url == "https://www.googleapis.com/youtube/v3" and channel.quota_per_poll == 20
    assert channel.token_url == "https://oauth2.googleapis.com/token" and not channel.held_comments


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ({"channel_id": None}, "channel_id: missing (required for youtube"),
        ({"channel_id": "acme"}, 'channel_id: expected a YouTube channel id: "UC"'),
        ({"client_id": None}, "client_id: missing (required for youtube"),
        ({"quota_per_poll": 20_000}, "quota_per_poll: must not be more than quota_per_day (10000)"),
        ({"quota_per_day": 0}, "quota_per_day: must be between 1 and"),
        ({"search": ["acme"]}, "search: every comment on the channel's videos comes in already"),
    ],
)
def test_config_refuses_bad_youtube_settings_with_their_line(keys: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(youtube_config(**keys), Path("c.toml"))
    assert words in str(refused.value) and "c.toml:" in str(refused.value)


def test_youtube_keys_are_refused_on_other_channels() -> None:
    from configs import channel_toml, config_toml

    with pytest.raises(ConfigError) as refused:
        parse_config(config_toml(channel_toml(channel_id=BRAND_CHANNEL)), Path("c.toml"))
    assert "only youtube channels use channel_id" in str(refused.value)


def test_a_secret_that_is_not_ours_is_refused_in_words() -> None:
    with pytest.raises(AuthError) as refused:
        YouTubeChannel("youtube", "https://x.example", '{"nope": 1}', channel_id=BRAND_CHANNEL,
                       client_id=CLIENT_ID, token_url="https://x.example/token")  # fmt: skip
    assert "ecoinbox auth youtube" in str(refused.value)
    assert Secret  # the unit returns a Secret (checked in the flow tests)


async def test_a_comment_published_or_held_from_ecoinbox_comes_back_with_its_new_status(
    server, connect, clock
) -> None:
    held = server.add_comment(author="tom", text="Charged twice", at=ago(clock, 5), status="heldForReview")
    rude = server.add_comment(author="x", text="Idiots", at=ago(clock, 4))
    channel = connect()
    first = await channel.poll({})
    assert by_id(first.messages)[held].held and not by_id(first.messages)[rude].held
    await channel.approve(held)
    await channel.hide(rude, spam=False)
    again = by_id((await channel.poll(first.cursor)).messages)
    assert not again[held].held and again[rude].held
    assert held not in by_id((await channel.poll(first.cursor)).messages)  # asked once


async def test_context_of_a_reply_brings_its_top_level_comment(server, connect, clock) -> None:
    top = server.add_comment(author="sam", text="Battery?", at=ago(clock, 60))
    reply = server.add_reply(parent=top, author="kenji", text="same", at=ago(clock, 50))
    channel = connect()
    chain = await channel.context(reply)
    assert [m.remote_id for m in chain] == [top, reply]
    assert chain[1].thread_ref == top and chain[0].thread_ref == top
    assert await channel.context("UgzNotThere") == []


async def test_a_conversation_is_titled_with_its_video(server, connect, clock) -> None:
    top = server.add_comment(
        author="lea", text="Bonjour", video="Acme Pulse 3 : le test complet", at=ago(clock, 5)
    )
    reply = server.add_reply(parent=top, author="acme", text="Bonjour Léa", at=ago(clock, 4))
    channel = connect(include_held=False)
    got = by_id((await channel.poll({})).messages)
    assert got[top].title == "Acme Pulse 3 : le test complet" and got[reply].title == ""
    asked = [r for r in server.requests if r.path.endswith("/videos")]
    assert len(asked) == 1
    await channel.poll({})
    assert len([r for r in server.requests if r.path.endswith("/videos")]) == 1  # kept, not asked again
