"""The Facebook Page channel against the local Graph server, over real loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from configs import channel_toml, config_toml
from fakes import Clock

from ecoinbox.channels import build_channel
from ecoinbox.channels.base import (
    AuthError,
    HidingChannel,
    PermanentError,
    RateLimited,
    ReconcilingChannel,
    UncertainSend,
)
from ecoinbox.channels.facebook.channel import FacebookChannel
from ecoinbox.channels.facebook.device_login import DeviceLogin, device_login
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import (
    ALL_PERMISSIONS,
    DEMO_APP_ID,
    DEMO_CLIENT_TOKEN,
    PAGE_ID,
    GraphServer,
)
from ecoinbox.engine import Engine
from ecoinbox.model import Message, Origin, View
from ecoinbox.secrets import Secret
from ecoinbox.store import open_store

TOKEN = "page-token-5e1f-never-in-messages"
ZOE = Person("7100000000000099", "Zoé Lambert", "zoe")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["documented", "short pages"])
async def server(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[GraphServer]:
    """An empty Page (no posts), once as documented and once with Meta's short pages."""
    async with GraphServer(
        seed=None, now=clock, page_token=TOKEN, short_pages=request.param != "documented"
    ) as s:
        yield s


@pytest.fixture
async def connect(clock: Clock) -> AsyncIterator[Callable[..., FacebookChannel]]:
    made: list[FacebookChannel] = []

    def make(server: GraphServer, **kwargs: object) -> FacebookChannel:
        token = str(kwargs.pop("token", TOKEN))
        channel = FacebookChannel("facebook", server.base_url, token, page_id=PAGE_ID, clock=clock, **kwargs)  # type: ignore[arg-type]
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


def ids(messages: list[Message]) -> list[str]:
    return [message.remote_id for message in messages]


async def test_comments_and_their_replies_come_in_once_newest_last(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    post = server.add_post(server.page, "Our new kettle is here", clock() - timedelta(hours=1))
    question = server.add_comment(post.id, ZOE, "Does it ship to Canada?", clock() - timedelta(minutes=50))
    answer = server.add_comment(
        post.id, server.page, "Yes!", clock() - timedelta(minutes=40), reply_to=question.id
    )
    channel = connect(server)
    first = await channel.poll({})
    assert ids(first.messages) == [question.id, answer.id]  # the Page's own post only titles them
    by_id = {m.remote_id: m for m in first.messages}
    # Each top-level comment opens its own conversation, titled with the post's first words.
    assert by_id[question.id].in_reply_to is None and by_id[question.id].origin is Origin.MENTION
    assert by_id[question.id].title == "Our new kettle is here"
    assert by_id[answer.id].in_reply_to == question.id and by_id[answer.id].is_ours
    assert {m.thread_ref for m in first.messages} == {post.id}
    assert (await channel.poll(first.cursor)).messages == []
    clock.advance(minutes=10)
    later = server.add_comment(post.id, ZOE, "Great, thanks", reply_to=answer.id)
    assert ids((await channel.poll(first.cursor)).messages) == [later.id]


async def test_no_comment_is_skipped_across_pages_and_late_ones_are_found(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    """250 comments on one post (three pages of 100, fewer with short pages), then one that Meta
    shows late with an older time than the newest seen."""
    post = server.add_post(server.page, "Giveaway!", clock() - timedelta(hours=5))
    made = [
        server.add_comment(post.id, ZOE, f"me {n}", clock() - timedelta(minutes=250 - n)) for n in range(250)
    ]
    channel = connect(server)
    first = await channel.poll({})
    assert ids(first.messages) == [c.id for c in made]
    late = server.add_comment(post.id, ZOE, "late one", clock() - timedelta(minutes=3))
    assert ids((await channel.poll(first.cursor)).messages) == [late.id]


async def test_a_visitor_post_is_a_conversation_of_its_own(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    visit = server.add_post(ZOE, "Is there a student discount?", clock() - timedelta(minutes=5))
    [message] = (await connect(server).poll({})).messages
    assert message.remote_id == visit.id and message.origin is Origin.MENTION and message.in_reply_to is None


async def test_a_reply_reaches_the_page_once_and_a_lost_answer_is_read_back_not_resent(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    post = server.add_post(server.page, "New colours", clock() - timedelta(hours=1))
    question = server.add_comment(post.id, ZOE, "Any in green?", clock() - timedelta(minutes=30))
    channel = connect(server)
    assert isinstance(channel, ReconcilingChannel) and (await channel.capabilities()).reconcile
    parent = {m.remote_id: m for m in (await channel.poll({})).messages}[question.id]
    sent = await channel.reply(parent, "Yes, sage green!", "key-1")
    assert sent.is_ours and sent.in_reply_to == question.id and sent.text == "Yes, sage green!"
    assert [w for w in server.sent if "comment" in w] == [{"comment": sent.remote_id, "to": question.id,
                                                           "message": "Yes, sage green!"}]  # fmt: skip
    server.drop_answer_after_post = 1
    again = await channel.reply(parent, "And in navy.", "key-2")
    assert again.text == "And in navy." and again.is_ours
    assert [w["message"] for w in server.sent if "comment" in w] == ["Yes, sage green!", "And in navy."]
    assert await channel.find_sent(parent, "Never sent", "", clock() - timedelta(minutes=1)) is None


async def test_an_uncertain_reply_not_found_stays_uncertain(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    post = server.add_post(server.page, "News", clock() - timedelta(hours=1))
    question = server.add_comment(post.id, ZOE, "When?", clock() - timedelta(minutes=30))
    channel = connect(server)
    parent = {m.remote_id: m for m in (await channel.poll({})).messages}[question.id]
    server.inject(f"/v23.0/{question.id}/comments", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "Tomorrow", "k")
    assert not [w for w in server.sent if "comment" in w]


async def test_hiding_a_comment_hides_it_and_never_deletes_it(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    post = server.add_post(server.page, "Sale", clock() - timedelta(hours=1))
    spam = server.add_comment(post.id, ZOE, "FREE iPhone click here", clock() - timedelta(minutes=5))
    channel = connect(server)
    assert isinstance(channel, HidingChannel)
    await channel.hide(spam.id, spam=True)
    assert server.comments[spam.id].hidden
    await channel.hide(spam.id, spam=True)  # idempotent
    assert server.comments[spam.id].hidden
    await channel.unhide(spam.id)
    assert not server.comments[spam.id].hidden and spam.id in server.comments
    assert not [r for r in server.requests if r.method == "DELETE"]
    with pytest.raises(PermanentError, match="comments only"):
        await channel.hide(post.id, spam=False)


async def test_messenger_replies_within_the_window_and_refuses_after_it_in_words(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    server.add_message(ZOE, "Hello, my order is late", clock() - timedelta(hours=2))
    channel = connect(server)
    [message] = (await channel.poll({})).messages
    assert message.visibility == "direct" and message.thread_ref
    sent = await channel.reply(message, "Sorry Zoé, checking now", "k")
    assert sent.visibility == "direct" and sent.mentions == (ZOE.id,)
    assert [w["text"] for w in server.sent if "text" in w] == ["Sorry Zoé, checking now"]
    clock.advance(hours=23)  # 25 hours after her message
    assert channel.reply_refusal(message) is not None
    posts_before = len([r for r in server.requests if r.method == "POST"])
    with pytest.raises(PermanentError, match="within 24 hours") as refused:
        await channel.reply(message, "Any news?", "k2")
    assert "Zoé Lambert wrote 25 hours ago" in str(refused.value)
    assert len([r for r in server.requests if r.method == "POST"]) == posts_before


async def test_the_human_agent_tag_allows_seven_days_where_granted(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    server.human_agent = True
    server.add_message(ZOE, "Still waiting for the refund", clock() - timedelta(days=1.5))
    channel = connect(server, human_agent=True)
    [message] = (await channel.poll({})).messages
    await channel.reply(message, "The refund left today", "k")
    assert [(w["text"], w["tagged"]) for w in server.sent if "text" in w] == [("The refund left today", True)]
    clock.advance(days=6)
    with pytest.raises(PermanentError, match="Both have passed"):
        await channel.reply(message, "Hello?", "k2")


async def test_a_lost_messenger_answer_is_read_back(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    server.add_message(ZOE, "Hi", clock() - timedelta(minutes=5))
    channel = connect(server)
    [message] = (await channel.poll({})).messages
    server.drop_answer_after_post = 1
    sent = await channel.reply(message, "Hello Zoé!", "k")
    assert sent.text == "Hello Zoé!" and sent.is_ours
    assert len([w for w in server.sent if "text" in w]) == 1


async def test_throttling_waits_as_long_as_meta_says_without_calling(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    channel = connect(server)
    await channel.poll({})
    server.throttle(minutes=7)
    with pytest.raises(RateLimited) as limited:
        await channel.poll({})
    assert limited.value.retry_at >= clock() + timedelta(minutes=6)
    assert "80001" in str(limited.value)
    asked = len(server.requests)
    with pytest.raises(RateLimited):
        await channel.poll({})
    assert len(server.requests) == asked
    assert "throttled by Meta until" in channel.graph.usage_words()


async def test_a_refused_token_says_what_to_do_and_never_shows_the_token(
    server: GraphServer, connect: Callable[..., FacebookChannel]
) -> None:
    channel = connect(server, token="wrong-token-7c1d")
    with pytest.raises(AuthError) as refused:
        await channel.poll({})
    assert "ecoinbox auth facebook" in str(refused.value) and "code 190" in str(refused.value)
    assert "wrong-token-7c1d" not in str(refused.value)


async def test_an_unreadable_comment_is_skipped_and_said(
    server: GraphServer,
    connect: Callable[..., FacebookChannel],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    post = server.add_post(server.page, "Poll", clock() - timedelta(hours=1))
    broken = server.add_comment(post.id, ZOE, "odd", clock() - timedelta(minutes=20))
    broken.broken = True
    fine = server.add_comment(post.id, ZOE, "fine", clock() - timedelta(minutes=10))
    with caplog.at_level(logging.WARNING):
        result = await connect(server).poll({})
    assert ids(result.messages) == [fine.id]
    assert "skipped an unreadable comment" in caplog.text


async def test_check_lists_permissions_missing_and_the_throttling_state(
    clock: Clock, connect: Callable[..., FacebookChannel]
) -> None:
    granted = tuple(p for p in ALL_PERMISSIONS if p != "pages_messaging")
    async with GraphServer(seed=None, now=clock, page_token=TOKEN, permissions=granted) as server:
        said = await connect(server).check()
    assert "Page Acme" in said and "pages_manage_engagement" in said
    assert "missing: pages_messaging (read and answer Messenger)" in said
    assert "pages (business use case): 1% of the limit used" in said


async def test_messenger_without_its_permission_is_a_warning_not_a_failure(
    clock: Clock, connect: Callable[..., FacebookChannel]
) -> None:
    granted = tuple(p for p in ALL_PERMISSIONS if p != "pages_messaging")
    async with GraphServer(seed=None, now=clock, page_token=TOKEN, permissions=granted) as server:
        server.add_post(ZOE, "Hello", clock() - timedelta(minutes=1))
        result = await connect(server).poll({})
    assert len(result.messages) == 1 and "Messenger is not read" in result.warnings[0]


async def test_device_login_gives_the_page_token_after_the_code_is_entered(clock: Clock) -> None:
    async with GraphServer(seed=None, now=clock, page_token=TOKEN) as server:
        server.approve_devices = False
        said: list[str] = []
        polls = 0

        async def sleep(seconds: float) -> None:
            nonlocal polls
            polls += 1
            server.approve_devices = polls >= 2  # entered between the first and second poll

        login = DeviceLogin(
            "facebook", server.base_url, DEMO_APP_ID, DEMO_CLIENT_TOKEN, PAGE_ID, ("pages_show_list",)
        )
        token = await device_login(login, say=said.append, sleep=sleep)
    assert isinstance(token, Secret) and token.reveal() == TOKEN
    assert any("A1B2C3" in line for line in said) and polls == 2
    assert all(TOKEN not in line for line in said)


def test_the_config_reads_a_page_and_refuses_what_is_wrong() -> None:
    base = {"kind": "facebook", "name": "fb", "base_url": None}
    settings = parse_config(config_toml(channel_toml(**base, page_id="100200300400", human_agent=True)))
    [page] = settings.channels
    assert page.base_url == "https://graph.facebook.com" and page.human_agent and page.auth == "page_token"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as wrong:
        parse_config(config_toml(channel_toml(**base, lookback_days=0)))
    assert "channels[0].page_id: missing" in str(wrong.value) and "lookback_days" in str(wrong.value)
    with pytest.raises(ConfigError, match="facebook and instagram channels use page_id"):
        parse_config(config_toml(channel_toml(page_id="1")))
    with pytest.raises(ConfigError, match="only facebook channels use messenger"):
        parse_config(config_toml(channel_toml(messenger=False)))
    with pytest.raises(ConfigError, match="facebook and instagram channels use human_agent"):
        parse_config(config_toml(channel_toml(human_agent=True)))


async def test_the_unit_builds_the_channel(server: GraphServer) -> None:
    settings = parse_config(config_toml(channel_toml(kind="facebook", name="fb", base_url=server.base_url,
                                                     page_id=PAGE_ID)))  # fmt: skip
    channel = build_channel(settings.channels[0], Secret(TOKEN))
    try:
        assert isinstance(channel, FacebookChannel) and (await channel.poll({})).messages == []
    finally:
        await channel.aclose()


async def test_the_feed_is_read_past_its_first_page_as_meta_pages_it_by_time(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    """A Page feed has no cursors: `next` carries `until` and `__paging_token` (and the token)."""
    posts = [server.add_post(ZOE, f"visit {n}", clock() - timedelta(minutes=90 - n)) for n in range(60)]
    result = await connect(server).poll({})
    assert ids(result.messages) == [p.id for p in posts]
    feed = [r for r in server.requests if r.path.endswith("/feed")]
    assert len(feed) >= 3 and "__paging_token" in feed[1].query and "access_token" not in feed[1].query


async def test_a_post_with_more_new_comments_than_a_poll_reads_goes_on_next_poll_without_a_gap(
    server: GraphServer,
    connect: Callable[..., FacebookChannel],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ecoinbox.channels.facebook.channel as facebook

    monkeypatch.setattr(facebook, "MAX_COMMENT_PAGES", 1)  # a poll reads one page of a post's comments
    post = server.add_post(server.page, "Giveaway!", clock() - timedelta(hours=5))
    made = [
        server.add_comment(post.id, ZOE, f"me {n}", clock() - timedelta(minutes=250 - n)) for n in range(250)
    ]
    channel = connect(server)
    cursor: dict[str, str] = {}
    seen: list[str] = []
    for _ in range(4):
        result = await channel.poll(cursor)
        seen += ids(result.messages)
        cursor = result.cursor
        clock.advance(minutes=1)
    newer = server.add_comment(post.id, ZOE, "and me", clock())
    seen += ids((await channel.poll(cursor)).messages)
    assert sorted(seen) == sorted([*(c.id for c in made), newer.id])
    assert len(seen) == len(set(seen))


async def test_a_post_tagging_the_page_comes_in_and_is_answered_under_it(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    tagged = server.add_tagged_post(ZOE, "Loving my new @Acme kettle!", clock() - timedelta(minutes=30))
    channel = connect(server)
    first = await channel.poll({})
    [message] = first.messages
    assert message.remote_id == tagged.id and message.origin is Origin.MENTION and message.in_reply_to is None
    assert (await channel.poll(first.cursor)).messages == []
    sent = await channel.reply(message, "Thank you Zoé!", "k")
    assert sent.in_reply_to == tagged.id and server.comments[sent.remote_id].on == tagged.id


async def test_escapes_and_markup_in_a_comment_never_reach_the_text_raw(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock
) -> None:
    post = server.add_post(server.page, "Dark mode!", clock() - timedelta(hours=1))
    nasty = "\x1b]0;pwned\x07[bold red]Where[/] is \u202eit\u202c? https://acme.example/help"
    server.add_comment(post.id, Person("7100000000000123", "Evil\x1b[2J Eve", "eve"), nasty, clock())
    [comment] = (await connect(server).poll({})).messages
    assert "\x1b" not in comment.text and "\u202e" not in comment.text and comment.hidden_characters
    assert "[bold red]Where[/]" in comment.text  # shown as typed, never as markup
    assert comment.links == ("https://acme.example/help",)


async def test_a_messenger_conversation_older_than_the_first_poll_stays_one_conversation(
    server: GraphServer, connect: Callable[..., FacebookChannel], clock: Clock, tmp_path: Path
) -> None:
    """The message before the cursor comes along as context: the new one answers it, and the engine
    (which would ask `context` for an unknown parent) files both in one conversation."""
    old = server.add_message(ZOE, "My order 4471?", clock() - timedelta(days=5))
    new = server.add_message(ZOE, "Still nothing, hello?", clock() - timedelta(hours=1))
    channel = connect(server)
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"facebook": channel}, poll_intervals={"facebook": 3600}, leased=False)
    try:
        await engine.poll_all_once()
        [row] = await store.conversation_page(View.INBOX)
        thread = await store.conversation(row.id)
        assert [m.message.remote_id for m in thread.messages] == [old.id, new.id]
        assert thread.messages[1].message.in_reply_to == old.id
        assert await channel.context(new.id) == []
    finally:
        await engine.stop()
        await store.close()


def test_ecoinbox_auth_asks_the_client_token_and_keeps_only_the_page_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pty_terminal import serving_in_a_thread

    from ecoinbox import secrets
    from ecoinbox.channels.registry import unit

    asked: list[str] = []

    def prompt_token(prompt: str) -> Secret:
        asked.append(prompt)
        return Secret(DEMO_CLIENT_TOKEN)

    monkeypatch.setattr(secrets, "prompt_token", prompt_token)
    server = GraphServer(seed=None, page_token=TOKEN)
    server.device_interval = 0
    with serving_in_a_thread(server):
        settings = parse_config(config_toml(channel_toml(kind="facebook", name="fb", base_url=server.base_url,
                                                         page_id=PAGE_ID, app_id=DEMO_APP_ID)))  # fmt: skip
        token = unit("facebook").obtain_token(settings.channels[0], paste=False)
    assert token.reveal() == TOKEN and "client token" in asked[0]
    out = capsys.readouterr().out
    assert "A1B2C3" in out and "Signed in: Page Acme." in out and TOKEN not in out
