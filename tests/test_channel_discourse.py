"""The Discourse channel against the local Discourse server, over real loopback HTTP."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from fakes import Clock

from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.discourse import (
    POLL_BUDGET,
    DiscourseChannel,
    decrypt_payload,
    generate_key_pair,
    new_nonce,
    user_api_key_url,
)
from ecoinbox.channels.discourse import Position as _Position
from ecoinbox.channels.discourse import Walked as _Walked
from ecoinbox.channels.discourse import advance as _advance
from ecoinbox.demo.discourse.server import HABITS, DiscourseServer
from ecoinbox.model import Author, Message, Origin

API_KEY = "demo-api-key-5e1f0c7a-never-in-messages"
USER_KEY = "demo-user-key-9b2d4e6f-never-in-messages"
BRAND = "acme_team"


def forum(**kwargs: object) -> DiscourseServer:
    kwargs.setdefault("seed", None)
    return DiscourseServer(api_key=API_KEY, user_api_key=USER_KEY, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest) -> AsyncIterator[DiscourseServer]:
    """An empty forum (the brand, the categories), once per habit set: each test adds what it needs."""
    async with forum(**HABITS[request.param]) as running:
        yield running


@pytest.fixture(params=sorted(HABITS))
async def seeded(request: pytest.FixtureRequest) -> AsyncIterator[DiscourseServer]:
    async with forum(seed=1, **HABITS[request.param]) as running:
        yield running


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., DiscourseChannel]]:
    """A channel on a server; the admin key by default, `user_key=True` for a user API key."""
    channels: list[DiscourseChannel] = []

    def make(server: DiscourseServer, *, user_key: bool = False, **kwargs: object) -> DiscourseChannel:
        if user_key:
            kwargs.setdefault("auth", "user_api_key")
            token = str(kwargs.pop("token", USER_KEY))
        else:
            kwargs.setdefault("auth", "api_key")
            kwargs.setdefault("username", BRAND)
            token = str(kwargs.pop("token", API_KEY))
        channel = DiscourseChannel("forum", server.base_url, token, **kwargs)  # type: ignore[arg-type]
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def requests_to(server: DiscourseServer, path: str, method: str = "GET") -> list:
    return [r for r in server.requests if r.path == path and r.method == method]


def ids(messages: list[Message], origin: Origin | None = None) -> list[str]:
    return [m.remote_id for m in messages if origin is None or m.origin is origin]


def assert_oldest_first(messages: list[Message]) -> None:
    keys = [(m.created_at, len(m.remote_id), m.remote_id) for m in messages]
    assert keys == sorted(keys)


def filler(n: int) -> str:
    return f"Just another message for the test, number {n}."


# --- protocol, identity, limits ------------------------------------------------------------


async def test_is_a_channel_and_reports_what_it_can_do(server, connect) -> None:
    channel = connect(server, keywords=("refund",))
    assert isinstance(channel, Channel)
    assert channel.kind == "discourse"
    capabilities = await channel.capabilities()
    assert capabilities.reply and capabilities.search
    assert capabilities.topics and capabilities.reconcile
    assert capabilities.idempotency_window is None
    assert capabilities.max_length == 32_000
    assert capabilities.length_counting == "characters"
    assert any("read back" in line for line in capabilities.safeguards)
    assert any("extras.wait_seconds" in line for line in capabilities.safeguards)
    await channel.capabilities()
    assert len(requests_to(server, "/site.json")) == 1  # asked once
    assert (await connect(server).capabilities()).search is False


async def test_check_in_both_auth_modes(server, connect) -> None:
    host = server.base_url.removeprefix("http://")
    admin = connect(server)
    said = f"@acme_team on {host} (Discourse, staff)"
    if not server.brand_is_staff:  # a second line says what a member account cannot count on
        said = (
            f"@acme_team on {host} (Discourse, trust level 2)\nthe account is not staff: the forum "
            "refuses the same words from it twice within minutes (in any topic), and posts staff "
            "delete vanish from what it reads"
        )
    assert await admin.check() == said
    sent = requests_to(server, "/session/current.json")[-1].headers
    assert sent["Api-Key"] == API_KEY and sent["Api-Username"] == BRAND
    assert "User-Api-Key" not in sent

    user = connect(server, user_key=True)
    assert await user.check() == said
    sent = requests_to(server, "/session/current.json")[-1].headers
    assert sent["User-Api-Key"] == USER_KEY and "Api-Key" not in sent


async def test_check_refuses_a_key_of_another_account(server, connect) -> None:
    with pytest.raises(PermanentError, match="belongs to @acme_team, not @someone"):
        await connect(server, user_key=True, username="someone").check()


@pytest.mark.parametrize("user_key", [False, True])
async def test_a_bad_key_is_an_auth_error_that_never_shows_it(server, connect, user_key) -> None:
    wrong = "wrong-key-4b7a9c1d-secret-value"
    channel = connect(server, user_key=user_key, token=wrong)
    errors: list[ChannelError] = []
    for attempt in (channel.check, lambda: channel.poll({})):
        with pytest.raises(AuthError) as caught:
            await attempt()
        errors.append(caught.value)
    for error in errors:
        assert "run `ecoinbox auth forum`" in str(error)
        for shown in (str(error), repr(error), *map(str, error.args)):
            assert wrong not in shown
    assert wrong not in repr(channel) and wrong not in str(channel)


def test_construction_refuses_what_cannot_work() -> None:
    with pytest.raises(AuthError, match="no token for channel forum"):
        DiscourseChannel("forum", "http://127.0.0.1:9", "  ")
    with pytest.raises(AuthError, match="needs the username"):
        DiscourseChannel("forum", "http://127.0.0.1:9", API_KEY, auth="api_key")
    with pytest.raises(PermanentError, match="unknown auth"):
        DiscourseChannel("forum", "http://127.0.0.1:9", API_KEY, auth="oauth")


# --- notifications --------------------------------------------------------------------------


async def _thread(server: DiscourseServer) -> dict[str, dict]:
    """A support topic: zoe asks, the brand answers, zoe answers the brand, max chimes in."""
    asked = server.add_topic(
        author="zoe", title="Where is my order 1234?", raw="It left the warehouse a week ago."
    )
    topic_id = asked["topic_id"]
    answer = server.add_post(
        topic_id=topic_id, author=BRAND, raw="Sorry Zoe! Could you send the order number?",
        reply_to_post_number=1,
    )  # fmt: skip
    back = server.add_post(
        topic_id=topic_id, author="zoe", raw="Sure, it is #1234, thanks.", reply_to_post_number=2
    )
    aside = server.add_post(topic_id=topic_id, author="max", raw="Same problem here, no reply_to.")
    return {"asked": asked, "answer": answer, "back": back, "aside": aside}


async def test_notifications_become_one_conversation_per_topic(server, connect) -> None:
    posts = await _thread(server)
    channel = connect(server)

    result = await channel.poll({})

    asked, answer, back = (str(posts[k]["post_id"]) for k in ("asked", "answer", "back"))
    aside = str(posts["aside"]["post_id"])
    # The brand watches Support for first posts (asked), zoe replied to it (back), and it
    # watches nothing else: max's post is no notification.
    assert ids(result.messages, Origin.MENTION) == [asked, back]
    assert ids(result.messages) == [asked, answer, back]  # the brand's answer comes as context
    assert_oldest_first(result.messages)
    by_id = {m.remote_id: m for m in result.messages}
    assert by_id[answer].origin is Origin.OURS
    assert [by_id[i].in_reply_to for i in (asked, answer, back)] == [None, asked, answer]
    topic_id = str(posts["asked"]["topic_id"])
    assert {m.thread_ref for m in result.messages} == {topic_id}
    assert {m.title for m in result.messages} == {"Where is my order 1234?"}
    zoe = by_id[back]
    assert zoe.text == "Sure, it is #1234, thanks."
    assert zoe.author.handle == "zoe" and zoe.author.channel == "forum"
    assert zoe.author.url == f"{server.base_url}/u/zoe"
    assert zoe.author.proofs == (f"{server.base_url}/u/zoe",)  # the forum's own page for her
    assert zoe.url == f"{server.topic_url(posts['asked']['topic_id'])}/3"
    assert zoe.visibility == "public" and not zoe.deleted and zoe.edited_at is None
    assert result.cursor["notifications"]
    assert len(requests_to(server, f"/t/{topic_id}.json")) == 1  # one read for the topic

    # A post that answers nobody in particular hangs under the first post.
    context = {m.remote_id: m for m in await channel.context(aside)}
    assert context[aside].in_reply_to == asked
    assert (await channel.poll(result.cursor)).messages == []


async def test_seeded_forum_first_poll_then_nothing_new(seeded, connect) -> None:
    channel = connect(seeded)
    first = await channel.poll({})
    mentions = [m for m in first.messages if m.origin is Origin.MENTION]
    assert len(mentions) > 20
    assert len(ids(first.messages)) == len(set(ids(first.messages)))
    assert_oldest_first(first.messages)
    by_id = {m.remote_id: m for m in first.messages}
    for message in first.messages:  # every chain reaches a first post inside the batch
        current = message
        while current.in_reply_to is not None:
            current = by_id[current.in_reply_to]
        assert current.url and current.url.endswith("/1")
        assert current.thread_ref == message.thread_ref
    assert {m.origin for m in first.messages} <= {Origin.MENTION, Origin.OURS, Origin.CONTEXT}
    assert all(m.author.handle != BRAND for m in mentions)
    assert all(m.author.handle == BRAND for m in first.messages if m.origin is Origin.OURS)

    before = len(seeded.requests)
    second = await channel.poll(first.cursor)
    assert second.messages == [] and second.cursor == first.cursor
    assert len(seeded.requests) - before == 1  # no keywords: only /notifications.json


async def test_a_new_mention_arrives_exactly_once(seeded, connect) -> None:
    channel = connect(seeded)
    cursor = (await channel.poll({})).cursor
    topic_id = seeded.topic_ids()[3]
    made = seeded.add_post(
        topic_id=topic_id, author="priya", raw="@acme_team any news on this one? Still stuck."
    )
    arrived = await channel.poll(cursor)
    assert ids(arrived.messages, Origin.MENTION) == [str(made["post_id"])]
    mention = next(m for m in arrived.messages if m.origin is Origin.MENTION)
    assert mention.thread_ref == str(topic_id)
    assert mention.in_reply_to in ids(arrived.messages)  # its chain came along, for free
    assert int(arrived.cursor["notifications"]) > int(cursor["notifications"])
    assert (await channel.poll(arrived.cursor)).messages == []


async def _notified_post_ids(server: DiscourseServer, after: int) -> set[str]:
    """The posts the forum notified the brand of (asked directly, not through the channel)."""
    headers = {"Api-Key": API_KEY, "Api-Username": BRAND}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        data = (await client.get("/notifications.json")).json()
    return {
        str(n["data"]["original_post_id"])
        for n in data["notifications"]
        if n["id"] > after and n["notification_type"] in (1, 2, 3, 6, 9, 15, 17)
    }


async def test_ticks_arrive_without_gaps(seeded, connect) -> None:
    channel = connect(seeded, keywords=("order",))
    cursor = (await channel.poll({})).cursor
    start = int(cursor["notifications"])
    for _ in range(12):
        seeded.tick()
    expected = await _notified_post_ids(seeded, start)
    assert expected  # the stream talks to the brand now and then
    seen: list[str] = []
    for _ in range(3):
        result = await channel.poll(cursor)
        seen += ids(result.messages, Origin.MENTION)
        cursor = result.cursor
    assert sorted(seen, key=int) == sorted(expected, key=int)  # each once, none missed
    assert (await channel.poll(cursor)).messages == []


async def test_a_topic_with_more_than_twenty_posts_is_read_whole(server, connect) -> None:
    made = server.add_topic(
        author="nina", title="Known issue: app crashes on start",
        raw="The app crashes right after the splash screen.", category="feedback",
    )  # fmt: skip
    topic_id = made["topic_id"]
    numbers = [server.add_post(topic_id=topic_id, author=f"user{n % 5}", raw=filler(n)) for n in range(2, 46)]
    late = server.add_post(
        topic_id=topic_id, author="hana", raw="@acme_team still crashing for me, see above.",
        reply_to_post_number=30,
    )  # fmt: skip
    channel = connect(server)

    result = await channel.poll({})

    assert ids(result.messages, Origin.MENTION) == [str(late["post_id"])]
    mention = next(m for m in result.messages if m.origin is Origin.MENTION)
    assert mention.in_reply_to == str(numbers[28]["post_id"])  # post 30, beyond the first chunk
    assert_rooted_in(result.messages, str(made["post_id"]))

    thread = await channel.context(str(late["post_id"]))

    assert len(thread) == 46
    assert ids(thread)[0] == str(made["post_id"]) and ids(thread)[-1] == str(late["post_id"])
    assert [(m.url or "").rsplit("/", 1)[1] for m in thread] == [str(n) for n in range(1, 47)]
    assert {m.origin for m in thread} == {Origin.CONTEXT}
    assert all(m.in_reply_to == str(made["post_id"]) for m in thread[1:-1])
    chunks = requests_to(server, f"/t/{topic_id}/posts.json")
    assert chunks and all(len(r.query["post_ids[]"]) <= 20 for r in chunks)


def assert_rooted_in(messages: list[Message], first: str) -> None:
    by_id = {m.remote_id: m for m in messages}
    for message in messages:
        current = message
        while current.in_reply_to is not None:
            current = by_id[current.in_reply_to]
        assert current.remote_id == first


async def test_a_private_message_is_direct() -> None:
    forum_json = _tiny_forum(archetype="private_message", notification_type=6)
    async with _serve(forum_json) as base_url:
        channel = DiscourseChannel("forum", base_url, API_KEY, auth="api_key", username=BRAND)
        try:
            [message, *_] = (await channel.poll({})).messages
            assert message.visibility == "direct"
        finally:
            await channel.aclose()


# --- listening: the latest posts ------------------------------------------------------------


async def test_keyword_listening_pages_back_without_a_gap(server, connect) -> None:
    chatter = server.add_topic(
        author="mike", title="General chatter about coffee", raw="Let us talk about beans.",
        category="feedback",
    )  # fmt: skip
    topic_id = chatter["topic_id"]
    channel = connect(server, keywords=("refund", "rembourse"))
    early = server.add_post(topic_id=topic_id, author="kate", raw="Asked for a REFUND yesterday.")
    first = await channel.poll({})
    # A first run reads the latest page; the topic's first post, on that page, comes as context.
    assert [(m.remote_id, m.origin) for m in first.messages] == [
        (str(chatter["post_id"]), Origin.CONTEXT),
        (str(early["post_id"]), Origin.SEARCH),
    ]
    assert first.cursor["posts"] == str(early["post_id"])

    hits = []
    made: dict = {}
    for n in range(130):  # 2.6 pages of /posts.json
        if n % 10 == 3:
            raw = f"Still no refund for order {n}, what is going on?"
        elif n % 10 == 7:
            raw = f"J'ai été REMBOURSÉ pour la commande {n}, merci."
        elif n % 10 == 5:
            raw = f"Is this refundable at all? Asking for order {n}."  # not the word
        else:
            raw = filler(n)
        made = server.add_post(topic_id=topic_id, author=f"user{n % 4}", raw=raw)
        if n % 10 in (3, 7):
            hits.append(str(made["post_id"]))

    result = await channel.poll(first.cursor)

    assert ids(result.messages) == hits
    assert {m.origin for m in result.messages} == {Origin.SEARCH}
    # The topic's first post came with the first run: no topic read is needed to thread them.
    assert {m.in_reply_to for m in result.messages} == {str(chatter["post_id"])}
    assert not requests_to(server, f"/t/{topic_id}.json")
    pages = requests_to(server, "/posts.json")[1:]
    assert len(pages) == 3
    assert "before" not in pages[0].query
    assert pages[1].query["before"] and pages[2].query["before"]
    assert result.cursor["posts"] == str(made["post_id"])  # the newest post
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_long_backlog_is_read_over_several_polls(server, connect) -> None:
    chatter = server.add_topic(
        author="mike", title="General chatter about coffee", raw="Let us talk about beans.",
        category="feedback",
    )  # fmt: skip
    channel = connect(server, keywords=("refund",))
    cursor = (await channel.poll({})).cursor
    wanted, last = [], ""
    for n in range(400):  # 8 pages: more than one poll reads
        raw = f"refund me please, {n}" if n % 7 == 0 else filler(n)
        last = str(server.add_post(topic_id=chatter["topic_id"], author="kate", raw=raw)["post_id"])
        if n % 7 == 0:
            wanted.append(last)

    first = await channel.poll(cursor)
    assert "posts_walk" in first.cursor  # stopped above the floor: the rest next time
    second = await channel.poll(first.cursor)
    assert "posts_walk" not in second.cursor

    got = ids(first.messages, Origin.SEARCH) + ids(second.messages, Origin.SEARCH)
    assert sorted(got, key=int) == wanted  # every hit once, no gap
    assert second.cursor["posts"] == last
    assert (await channel.poll(second.cursor)).messages == []


async def test_category_listening(server, connect) -> None:
    channel = connect(server, categories=("Feedback",))
    cursor = (await channel.poll({})).cursor
    idea = server.add_topic(
        author="devon", title="Idea: dark mode for the app", raw="Please add a dark mode.",
        category="feedback",
    )  # fmt: skip
    server.add_topic(author="devon", title="Off topic: weekend plans", raw="Anyone hiking?",
              category="uncategorized")  # fmt: skip
    result = await channel.poll(cursor)
    assert [(m.remote_id, m.origin) for m in result.messages] == [(str(idea["post_id"]), Origin.SEARCH)]
    assert len(requests_to(server, "/categories.json")) == 1


async def test_a_mention_that_is_also_a_keyword_hit_is_a_mention(server, connect) -> None:
    channel = connect(server, keywords=("refund",))
    cursor = (await channel.poll({})).cursor
    both = server.add_topic(author="zoe", title="Refund for a broken mug",
                     raw="@acme_team I want a refund please.")  # fmt: skip
    ours = server.add_post(topic_id=both["topic_id"], author=BRAND,
                           raw="Of course, your refund is on its way.")  # fmt: skip
    result = await channel.poll(cursor)
    assert [(m.remote_id, m.origin) for m in result.messages] == [
        (str(both["post_id"]), Origin.MENTION),
        (str(ours["post_id"]), Origin.OURS),  # the brand's own keyword hit
    ]
    assert result.messages[1].in_reply_to == str(both["post_id"])


# --- budget ---------------------------------------------------------------------------------


async def test_a_steady_poll_costs_at_most_two_requests(seeded, connect) -> None:
    channel = connect(seeded, keywords=("refund", "commande"), categories=("support",))
    cursor: dict[str, str] = {}
    for _ in range(10):  # the first import may take more than one poll
        result = await channel.poll(cursor)
        if result.cursor == cursor:
            break
        cursor = result.cursor
    before = len(seeded.requests)
    result = await channel.poll(cursor)
    assert result.messages == []
    assert len(seeded.requests) - before <= 2


async def test_a_user_key_poll_stays_within_its_budget_and_loses_nothing(connect) -> None:
    async with forum(seed=1, user_key_rate_limit=10_000) as seeded:
        everything = (await connect(seeded).poll({})).messages  # an admin key: one poll will do
        mentions = set(ids(everything, Origin.MENTION))
        channel = connect(seeded, user_key=True)
        cursor: dict[str, str] = {}
        seen: list[str] = []
        polls = 0
        while polls < 20:
            polls += 1
            before = len(seeded.requests)
            result = await channel.poll(cursor)
            assert len(seeded.requests) - before <= POLL_BUDGET["user_api_key"]
            seen += ids(result.messages, Origin.MENTION)
            if result.cursor == cursor:
                break
            cursor = result.cursor
        assert polls > 2  # the budget did spread the first import over several polls
        assert len(seen) == len(set(seen))  # no mention twice
        assert set(seen) == mentions  # and none lost


# --- replying -------------------------------------------------------------------------------


async def _mention(server: DiscourseServer, channel: DiscourseChannel) -> Message:
    cursor = (await channel.poll({})).cursor
    made = server.add_topic(author="zoe", title="Wrong size delivered to me",
                     raw="I ordered a large and got a small.", category="feedback")  # fmt: skip
    reply = server.add_post(topic_id=made["topic_id"], author="zoe",
                            raw="@acme_team can you help? Exchange please.")  # fmt: skip
    messages = (await channel.poll(cursor)).messages
    return next(m for m in messages if m.remote_id == str(reply["post_id"]))


async def test_reply_lands_once_in_the_right_place(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    assert channel.reply_prefix(parent, BRAND) == ""
    text = "Hi Zoe, we are sending the right size today."

    sent = await channel.reply(parent, text, "key-1")

    assert len(server.posted) == 1
    posted = server.posted[0]
    assert posted.topic_id == int(parent.thread_ref or 0)
    assert posted.reply_to_post_number == 2 and posted.raw == text and posted.username == BRAND
    assert sent.remote_id == str(posted.id) and sent.origin is Origin.OURS
    assert sent.in_reply_to == parent.remote_id and sent.thread_ref == parent.thread_ref
    assert sent.title == "Wrong size delivered to me" and sent.text == text
    assert sent.url == f"{server.topic_url(posted.topic_id)}/{posted.post_number}"
    request = requests_to(server, "/posts.json", "POST")[0]
    assert request.headers["Content-Type"] == "application/json"


async def test_reply_to_a_message_this_process_never_saw(server, connect) -> None:
    made = server.add_topic(author="zoe", title="Question about gift cards",
                     raw="Can gift cards be used online?")  # fmt: skip
    stranger = Message(
        channel="forum", remote_id=str(made["post_id"]), author=Author("forum", "9", "zoe"),
        text="", created_at=datetime.now(UTC),
    )  # fmt: skip
    sent = await connect(server).reply(stranger, "Yes, at checkout, in the payment step.", "k")
    assert server.posted[0].topic_id == made["topic_id"]
    assert server.posted[0].reply_to_post_number == 1
    assert sent.in_reply_to == str(made["post_id"])
    assert requests_to(server, f"/posts/{made['post_id']}.json")  # it asked where the post is


async def test_create_topic_in_the_right_category(server, connect) -> None:
    channel = connect(server)
    text = "Zoe asked how to export her orders. Here is how, step by step."
    first = await channel.create_topic("How do I export my orders?", text, "support", "k-1")

    [posted] = server.posted
    assert posted.title == "How do I export my orders?" and posted.category == "support"
    assert posted.raw == text and posted.post_number == 1
    assert first.remote_id == str(posted.id) and first.thread_ref == str(posted.topic_id)
    assert first.origin is Origin.OURS and first.in_reply_to is None
    assert first.title == "How do I export my orders?"
    assert channel.topic_url(first) == server.topic_url(posted.topic_id)

    await channel.create_topic("Une question en français", text + " (fr)", "Entraide", "k-2")
    await channel.create_topic("A question by category id", text + " (id)", "4", "k-3")
    assert [p.category for p in server.posted] == ["support", "entraide", "feedback"]
    assert len(requests_to(server, "/categories.json")) == 1  # read once

    with pytest.raises(PermanentError, match="no category 'Nowhere'"):
        await channel.create_topic("A topic nowhere at all", text, "Nowhere", "k-4")
    assert len(server.posted) == 3


async def test_validation_errors_are_permanent_with_the_forums_words(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    with pytest.raises(PermanentError, match=r"Body is too short \(minimum is 20 characters\)"):
        await channel.reply(parent, "ok", "k")
    with pytest.raises(PermanentError) as caught:
        await channel.create_topic("Short", "A body that is long enough to pass.", None, "k")
    assert "Title is too short (minimum is 15 characters)" in str(caught.value)
    assert not isinstance(caught.value, AuthError)
    assert server.posted == []


async def test_rate_limit_gives_retry_at_and_pauses_the_host(server, connect) -> None:
    channel = connect(server)
    await channel.check()
    server.exhaust_rate_limit()
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        await channel.poll({})
    after = datetime.now(UTC)
    # The server's window is 60 s and was just filled: Retry-After says 60.
    assert before + timedelta(seconds=59) <= caught.value.retry_at <= after + timedelta(seconds=61)
    seen = len(server.requests)
    with pytest.raises(RateLimited):
        await channel.poll({})
    with pytest.raises(RateLimited):
        await channel.create_topic("A topic while paused", "Some text long enough here.", None, "k")
    assert len(server.requests) == seen  # paused: nothing sent
    assert server.posted == []


async def test_a_429_on_a_reply_is_rate_limited_not_uncertain(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    server.inject(
        "/posts.json", status=429,
        headers={"Retry-After": "30", "Discourse-Rate-Limit-Error-Code": "create_post"},
        body='{"errors":["You’ve performed this action too many times."],"error_type":"rate_limit"}',
    )  # fmt: skip
    start = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        await channel.reply(parent, "A reply that is long enough to post.", "k")
    assert timedelta(seconds=29) <= caught.value.retry_at - start <= timedelta(seconds=32)
    assert server.posted == []


@pytest.mark.parametrize("habits", sorted(HABITS))
async def test_a_429_waits_as_long_as_the_forum_says(connect, habits) -> None:
    async with forum(rate_window=300.0, **HABITS[habits]) as server:
        channel = connect(server)
        await channel.check()
        server.exhaust_rate_limit()
        before = datetime.now(UTC)
        with pytest.raises(RateLimited) as caught:
            await channel.poll({})
        after = datetime.now(UTC)
    # Retry-After or, without it, the body's extras.wait_seconds: 300, not a guess of 60.
    assert before + timedelta(seconds=299) <= caught.value.retry_at <= after + timedelta(seconds=301)


# --- uncertain sends and reconciling --------------------------------------------------------


async def test_a_reply_whose_answer_is_lost_is_found_not_resent(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    since = datetime.now(UTC)
    text = "We found your parcel, it arrives tomorrow."
    server.inject("/posts.json", after_handling=True, status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(UncertainSend):
        await channel.reply(parent, text, "key-lost")
    assert len(server.posted) == 1  # it did go out

    found = await channel.find_sent(parent, text, "", since)
    assert found is not None
    assert found.remote_id == str(server.posted[0].id)
    assert found.origin is Origin.OURS and found.in_reply_to == parent.remote_id
    assert found.thread_ref == parent.thread_ref

    assert await channel.find_sent(parent, "Another text that was never sent.", "", since) is None
    assert len(server.posted) == 1  # never posted again


async def test_a_post_whose_connection_closes_after_it_is_made_is_found(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    since = datetime.now(UTC)
    text = "Your exchange is booked, the courier comes on Monday."
    server.drop_answer_after_post = 1
    with pytest.raises(UncertainSend):
        await channel.reply(parent, text, "key")
    (posted,) = server.posted
    found = await channel.find_sent(parent, text, "", since)
    assert found is not None and found.remote_id == str(posted.id)


async def test_the_outbox_publishes_a_reply_once_when_its_answer_is_lost(server, connect, tmp_path) -> None:
    from ecoinbox.engine import Engine
    from ecoinbox.model import OutboxState, View
    from ecoinbox.store import open_store

    clock = Clock(datetime.now(UTC))
    channel = connect(server)
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    engine = Engine(store, {"forum": channel}, clock=clock, leased=False)
    try:
        made = server.add_topic(author="zoe", title="My parcel never came", raw="Nothing yet. @acme_team")
        await engine.poll_channel("forum")
        (row,) = await store.conversation_page(View.INBOX)
        parent = (await store.conversation(row.id)).messages[-1].message
        assert parent.remote_id == str(made["post_id"])
        await store.queue_reply(row.id, parent, "Sorry Zoe! We are sending a new parcel today.")
        server.drop_answer_after_post = 1  # published, then the connection closes
        await engine.sender.send_due()
        (item,) = await store.outbox_items()
        assert item.state is OutboxState.UNKNOWN
        clock.advance(seconds=31)  # the outbox lets a post settle before reading back
        await engine.sender.send_due()  # read back from the topic, not sent again
        (item,) = await store.outbox_items()
        assert item.state is OutboxState.SENT and len(server.posted) == 1
        assert item.remote_id == str(server.posted[0].id)
    finally:
        await engine.stop()
        await store.close()


async def test_a_resend_refused_as_too_similar_is_the_reply_already_there(connect) -> None:
    async with forum(brand_is_staff=False) as server:
        channel = connect(server)
        parent = await _mention(server, channel)
        text = "Hi Zoe, the right size leaves our warehouse today."
        first = await channel.reply(parent, text, "key-1")
        # A resend of the same words (a manager's "send again"): the forum says 422, too similar.
        again = await channel.reply(parent, text, "key-2")
        assert again.remote_id == first.remote_id and again.in_reply_to == parent.remote_id
        assert len(server.posted) == 1
        # The same words to another topic within minutes are refused for good, in words.
        made = server.add_topic(author="ann", title="Another wrong size here", raw="Same problem for me.")
        other = Message(
            "forum", str(made["post_id"]), parent.author, "Same problem for me.", parent.created_at,
            thread_ref=str(made["topic_id"]),
        )  # fmt: skip
        with pytest.raises(PermanentError, match="same words a few minutes ago"):
            await channel.reply(other, text, "key-3")
        assert len(server.posted) == 1


async def test_edits_deletions_and_hidden_posts_reach_the_thread(server, connect) -> None:
    made = server.add_topic(author="zoe", title="Strap broke after a week", raw="The strap broke. @acme_team")
    topic = made["topic_id"]
    edited = server.add_post(topic_id=topic, author="bob", raw="Mine too, the left one.")["post_id"]
    withdrawn = server.add_post(topic_id=topic, author="cat", raw="Something I regret saying.")["post_id"]
    hidden = server.add_post(topic_id=topic, author="dan", raw="Buy cheap straps at spam.example")["post_id"]
    removed = server.add_post(topic_id=topic, author="eve", raw="Rude words removed by staff.")["post_id"]
    channel = connect(server)
    server.edit_post(edited, "Mine too, the left one. Edit: and the right one.")
    server.delete_post(withdrawn, by_author=True)
    server.hide_post(hidden)
    server.delete_post(removed)
    thread = {m.remote_id: m for m in await channel.context(str(made["post_id"]))}
    assert thread[str(edited)].edited_at is not None and "right one" in thread[str(edited)].text
    assert thread[str(withdrawn)].deleted and not thread[str(made["post_id"])].deleted
    # Hidden by flags is not "held": a reply to it is public, and there is nothing to approve.
    assert not thread[str(hidden)].held and not thread[str(hidden)].deleted
    # Hidden by flags is the readers' verdict: the spam filter reads it (issue 15, item 4).
    assert thread[str(hidden)].platform_verdict == "flagged"
    assert thread[str(edited)].platform_verdict == ""
    if server.brand_is_staff:  # staff still see a post staff deleted, marked so
        assert thread[str(removed)].deleted
    else:  # a member no longer sees it at all
        assert str(removed) not in thread


async def test_a_timeout_after_the_request_left_is_found(server, connect) -> None:
    channel = connect(server, timeout=0.5)
    parent = await _mention(server, channel)
    since = datetime.now(UTC)
    text = "Thanks for waiting, a refund is on its way."
    server.inject("/posts.json", after_handling=True, status=200, delay=3.0)
    with pytest.raises(UncertainSend):
        await channel.reply(parent, text, "key-slow")
    found = await channel.find_sent(parent, text, "", since)
    assert found is not None and found.remote_id == str(server.posted[0].id)
    assert len(server.posted) == 1


async def test_a_reply_that_never_landed_is_not_found(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    since = datetime.now(UTC)
    text = "This reply is lost before the forum saw it."
    server.inject("/posts.json", status=502, body="<html>Bad Gateway</html>")
    with pytest.raises(UncertainSend):
        await channel.reply(parent, text, "key-gone")
    assert server.posted == []
    assert await channel.find_sent(parent, text, "", since) is None
    assert server.posted == []


async def test_the_same_text_to_another_post_is_not_a_match(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    first_post = Message(
        channel="forum", remote_id=str(int(parent.remote_id) - 1), author=parent.author, text="",
        created_at=parent.created_at, thread_ref=parent.thread_ref,
    )  # fmt: skip
    since = datetime.now(UTC)
    text = "Thanks, we are looking into it right now."
    await channel.reply(first_post, text, "k-1")  # the same canned words, to another post
    assert await channel.find_sent(parent, text, "", since) is None
    assert (await channel.find_sent(first_post, text, "", since)) is not None


async def test_old_posts_of_ours_are_not_taken_for_the_lost_one(server, connect) -> None:
    channel = connect(server)
    parent = await _mention(server, channel)
    text = "Thanks, we are looking into it right now."
    await channel.reply(parent, text, "k-1")
    later = datetime.now(UTC) + timedelta(minutes=5)  # a send that started after that post
    assert await channel.find_sent(parent, text, "", later) is None


async def test_a_new_topic_whose_answer_is_lost_is_found(server, connect) -> None:
    channel = connect(server)
    since = datetime.now(UTC)
    title, text = "Exporting orders to a spreadsheet", "Here is how to export your orders to CSV."
    for n in range(60):  # others keep posting: the topic is not on the first page any more
        server.add_topic(author="sam", title=f"Unrelated question number {n}", raw=filler(n))
    server.inject("/posts.json", after_handling=True, status=504, body="")
    with pytest.raises(UncertainSend):
        await channel.create_topic(title, text, "support", "key-topic")
    for n in range(60):
        server.add_topic(author="sam", title=f"Another unrelated question {n}", raw=filler(n))
    assert len(server.posted) == 1

    found = await channel.find_sent(None, text, title, since)
    assert found is not None
    assert found.remote_id == str(server.posted[0].id)
    assert found.thread_ref == str(server.posted[0].topic_id) and found.title == title
    assert channel.topic_url(found) == server.topic_url(server.posted[0].topic_id)

    assert await channel.find_sent(None, text, "Some other title entirely", since) is None
    assert len(server.posted) == 1


# --- failures -------------------------------------------------------------------------------


async def test_malformed_json_is_transient_and_the_cursor_holds(server, connect) -> None:
    channel = connect(server)
    server.add_topic(author="zoe", title="First question of the day", raw="Hello there!")
    cursor = (await channel.poll({})).cursor
    made = server.add_topic(author="zoe", title="Second question of the day", raw="Hi again!")
    server.inject("/notifications.json", status=200, body='{"notifications": [{"id": 1, ')
    with pytest.raises(TransientError, match="malformed response"):
        await channel.poll(cursor)
    assert ids((await channel.poll(cursor)).messages) == [str(made["post_id"])]


async def test_a_failing_topic_read_keeps_the_cursor(server, connect) -> None:
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    made = server.add_topic(author="zoe", title="Question while it breaks", raw="Is it down?")
    server.inject("/t/", status=500, body='{"errors":["Internal Server Error"]}')
    with pytest.raises(TransientError, match="500") as caught:
        await channel.poll(cursor)
    assert not isinstance(caught.value, PermanentError)
    assert ids((await channel.poll(cursor)).messages) == [str(made["post_id"])]


async def test_context_of_an_unknown_post_is_permanent(server, connect) -> None:
    with pytest.raises(PermanentError, match="404"):
        await connect(server).context("999999")
    with pytest.raises(PermanentError, match="not a post id"):
        await connect(server).context("abc")


# --- content --------------------------------------------------------------------------------


def _tiny_forum(*, archetype: str = "regular", notification_type: int = 1) -> dict[str, object]:
    """A forum whose only post's cooked HTML is hostile, and which says the post was edited."""
    cooked = (
        "<p>Hello &#x1b;]0;PWNED&#7; <script>alert(1)</script>"
        '[bold red]fake[/] \u202eevil\u202c <a href="https://real.example/x">bank.example</a></p>'
        '<aside class="quote" data-username="max"><blockquote><p>quoted words</p></blockquote></aside>'
        "<p>" + "A" * 5000 + "</p>"
    )
    post = {
        "id": 7, "topic_id": 3, "post_number": 1, "username": "mallory", "name": "\x1b[31mMal",
        "user_id": 42, "created_at": "2026-05-01T10:00:00.000Z", "updated_at": "2026-05-01T11:00:00.000Z",
        "version": 2, "cooked": cooked, "reply_to_post_number": None, "post_type": 1,
    }  # fmt: skip
    deleted = {**post, "id": 8, "post_number": 2, "cooked": "<p>(post deleted by author)</p>",
               "deleted_at": "2026-05-01T12:00:00.000Z", "version": 1}  # fmt: skip
    topic = {
        "id": 3, "title": "Hostile", "slug": "hostile", "archetype": archetype,
        "post_stream": {"posts": [post, deleted], "stream": [7, 8]},
    }  # fmt: skip
    notifications = {
        "notifications": [
            {"id": 5, "notification_type": notification_type, "topic_id": 3, "post_number": 1,
             "data": {"original_post_id": 7}},
            {"id": 6, "notification_type": 2, "topic_id": 3, "post_number": 2, "data": {}},
            {"id": 4, "notification_type": 5, "topic_id": 3, "post_number": 1, "data": {}},  # a like
        ],
        "total_rows_notifications": 3,
    }  # fmt: skip
    return {"/notifications.json": notifications, "/t/3.json": topic}


class _serve:
    """A tiny forum of fixed JSON answers on loopback."""

    def __init__(self, routes: dict[str, object]) -> None:
        self.routes = routes
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> str:
        async def handle(request: web.Request) -> web.Response:
            if request.path not in self.routes:
                return web.json_response({"errors": ["not found"]}, status=404)
            return web.json_response(self.routes[request.path])

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_hostile_cooked_html_becomes_safe_text() -> None:
    async with _serve(_tiny_forum()) as base_url:
        channel = DiscourseChannel("forum", base_url, API_KEY, auth="api_key", username=BRAND)
        try:
            result = await channel.poll({})
        finally:
            await channel.aclose()
    hostile, deleted = result.messages
    assert result.cursor == {"notifications": "6"}  # the like moved the cursor, made nothing
    for bad in ("\x1b", "\x07", "\u202e", "<script>"):
        assert bad not in hostile.text
    assert "Hello" in hostile.text and "> quoted words" in hostile.text
    assert hostile.hidden_characters and not deleted.hidden_characters  # the reader is told
    assert "bank.example (https://real.example/x)" in hostile.text
    assert hostile.links == ("https://real.example/x",)
    assert hostile.edited_at == datetime(2026, 5, 1, 11, tzinfo=UTC)
    assert hostile.author.remote_id == "42" and hostile.visibility == "public"
    assert deleted.deleted and deleted.in_reply_to == "7"


# --- user API keys --------------------------------------------------------------------------


async def _payload_page(url: str) -> str:
    async with httpx.AsyncClient() as browser:
        page = (await browser.get(url)).text
    found = re.search(r'<code id="user-api-key-payload">(.*?)</code>', page, re.DOTALL)
    assert found is not None, page
    return html.unescape(found.group(1))


async def test_user_api_key_flow_end_to_end(server) -> None:
    private_pem, public_pem = generate_key_pair()
    nonce = new_nonce()
    url = user_api_key_url(server.base_url, public_pem, nonce, "ecoinbox-test-client")
    assert "auth_redirect" not in url
    assert "scopes=read%2Cwrite%2Cnotifications%2Csession_info&" in url  # no one_time_password: unused
    assert "application_name=ecoinbox" in url

    payload = await _payload_page(url)
    assert "\n" in payload.strip()  # Ruby-style line breaks: the paste is cleaned up
    key = decrypt_payload(private_pem, payload, nonce)
    assert key == USER_KEY

    channel = DiscourseChannel("forum", server.base_url, key)
    try:
        assert (await channel.check()).startswith("@acme_team on ")
    finally:
        await channel.aclose()

    with pytest.raises(AuthError, match="nonce does not match") as wrong_nonce:
        decrypt_payload(private_pem, payload, "another-nonce")
    compact = "".join(payload.split())
    flipped = compact[:40] + ("A" if compact[40] != "A" else "B") + compact[41:]
    with pytest.raises(AuthError, match="cannot be decrypted") as tampered:
        decrypt_payload(private_pem, flipped, nonce)
    with pytest.raises(AuthError, match="not the payload"):
        decrypt_payload(private_pem, "hello, this is not it!", nonce)
    with pytest.raises(AuthError, match="cannot be decrypted"):
        decrypt_payload(generate_key_pair()[0], payload, nonce)
    for error in (wrong_nonce.value, tampered.value):
        assert USER_KEY not in str(error) and USER_KEY not in repr(error)


async def test_a_payload_padded_with_oaep_is_accepted_too(server) -> None:
    private_pem, public_pem = generate_key_pair()
    nonce = new_nonce()
    url = user_api_key_url(server.base_url, public_pem, nonce, "client") + "&padding=oaep"
    assert decrypt_payload(private_pem, await _payload_page(url), nonce) == USER_KEY


# --- the cursor walk ------------------------------------------------------------------------


def test_position_round_trips_through_the_cursor() -> None:
    cursor: dict[str, str] = {"other": "x"}
    _Position(10, 90, 40, 120).store(cursor, "notifications")
    assert cursor == {"other": "x", "notifications": "10", "notifications_walk": "90:40:120"}
    assert _Position.load(cursor, "notifications") == _Position(10, 90, 40, 120)
    _Position(90).store(cursor, "notifications")
    assert cursor == {"other": "x", "notifications": "90"}
    assert _Position.load({"notifications": "x", "notifications_walk": "a:b"}, "notifications") == (
        _Position(None)
    )


def test_a_walk_never_moves_past_what_is_not_done() -> None:
    items = {i: {"id": i} for i in (11, 12, 13, 14)}
    reached = _Walked(dict(items), 14, True, None, 1)
    assert _advance(_Position(10), reached, {11, 12, 13, 14}) == _Position(14)
    assert _advance(_Position(10), reached, {11, 12, 14}) == _Position(12)  # 13 waits
    assert _advance(_Position(10), reached, set()) == _Position(10)
    cut = _Walked(dict(items), 14, False, 11, 1)  # a page limit stopped above the floor
    assert _advance(_Position(10), cut, {11, 12, 13, 14}) == _Position(10, 14, 11, 11)
    assert _advance(_Position(10), cut, {11, 12}) == _Position(10, 12, 11, 11)
    assert _advance(_Position(10), cut, {12}) == _Position(10)
    resumed = _Walked({5: {"id": 5}}, 5, True, None, 1)
    assert _advance(_Position(4, 14, 6, 6), resumed, {5}) == _Position(14)
    assert _advance(_Position(4), _Walked({}, None, False, None, 0), set()) == _Position(4)


# --- hygiene --------------------------------------------------------------------------------


async def test_the_key_never_shows_in_errors_or_reprs(server, connect) -> None:
    channel = connect(server, user_key=True)
    shown = [repr(channel), str(channel), repr(channel._http)]
    server.inject("/notifications.json", status=500, body=f'{{"errors":["bad {USER_KEY}"]}}')
    server.inject("/session/current.json", status=403, body=f'{{"errors":["{USER_KEY}"]}}')
    for call in (channel.check, lambda: channel.poll({}), lambda: channel.poll({})):
        try:
            await call()
        except ChannelError as error:
            shown += [str(error), repr(error)]
    assert len(shown) >= 5
    for text in shown:
        assert USER_KEY not in text
