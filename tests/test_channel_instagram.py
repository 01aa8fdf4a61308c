"""The Instagram channel against the local Graph server, over real loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from configs import channel_toml, config_toml
from fakes import Clock

from ecoinbox.channels.base import HidingChannel, PermanentError, ReconcilingChannel
from ecoinbox.channels.instagram.channel import InstagramChannel
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import IG_USER_ID, PAGE_ID, GraphServer
from ecoinbox.model import Message, Origin

TOKEN = "ig-page-token-77aa-never-in-messages"
LEA = Person("7200000000000001", "Léa", "lea.makes")
SAM = Person("7200000000000002", "Sam", "sam_k")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["documented", "short pages"])
async def server(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[GraphServer]:
    short = request.param != "documented"
    async with GraphServer(seed=None, now=clock, page_token=TOKEN, short_pages=short) as running:
        yield running


@pytest.fixture
async def connect(clock: Clock) -> AsyncIterator[Callable[..., InstagramChannel]]:
    made: list[InstagramChannel] = []

    def make(server: GraphServer, **kwargs: object) -> InstagramChannel:
        channel = InstagramChannel(
            "instagram", server.base_url, TOKEN, page_id=PAGE_ID, clock=clock, **kwargs
        )  # type: ignore[arg-type]
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


def by_id(messages: list[Message]) -> dict[str, Message]:
    return {message.remote_id: message for message in messages}


async def test_comments_and_replies_on_the_media_come_in_once(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    media = server.add_media("Sunday coffee", clock() - timedelta(hours=3))
    older = server.add_media("Lab tour", clock() - timedelta(hours=5))
    question = server.add_comment(media.id, LEA, "Dispo sur iPad ?", clock() - timedelta(hours=2))
    answer = server.add_comment(
        media.id, SAM, "@lea.makes yes it is", clock() - timedelta(hours=1), reply_to=question.id
    )
    others = [
        server.add_comment(older.id, SAM, f"nice {n}", clock() - timedelta(minutes=100 - n))
        for n in range(60)
    ]
    channel = connect(server)
    first = await channel.poll({})
    got = by_id(first.messages)
    assert set(got) == {question.id, answer.id, *(c.id for c in others)}  # media found by the Page
    assert (
        got[question.id].in_reply_to is None and got[question.id].thread_ref == media.id
    )  # its own conversation
    assert got[question.id].title == media.caption
    assert got[answer.id].in_reply_to == question.id and got[answer.id].author.handle == "sam_k"
    assert channel.ig_user_id == IG_USER_ID
    assert (await channel.poll(first.cursor)).messages == []
    clock.advance(minutes=5)
    new = server.add_comment(media.id, SAM, "Love it")
    assert [m.remote_id for m in (await channel.poll(first.cursor)).messages] == [new.id]


async def test_a_reply_goes_under_the_top_level_comment_once_even_when_its_answer_is_lost(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    media = server.add_media("New mug", clock() - timedelta(hours=3))
    question = server.add_comment(media.id, LEA, "Is it dishwasher safe?", clock() - timedelta(hours=2))
    follow = server.add_comment(
        media.id, SAM, "Same question", clock() - timedelta(hours=1), reply_to=question.id
    )
    channel = connect(server)
    assert isinstance(channel, ReconcilingChannel)
    got = by_id((await channel.poll({})).messages)
    assert channel.reply_prefix(got[follow.id]) == "@sam_k " and channel.reply_prefix(got[question.id]) == ""
    sent = await channel.reply(got[follow.id], "@sam_k Yes, it is!", "k1")
    assert sent.is_ours and sent.in_reply_to == follow.id
    assert server.comments[sent.remote_id].parent == question.id  # Instagram nests one level
    server.drop_answer_after_post = 1
    again = await channel.reply(got[question.id], "Yes, up to 60°C.", "k2")
    assert again.text == "Yes, up to 60°C." and again.origin is Origin.OURS
    assert [w["message"] for w in server.sent if "reply" in w] == ["@sam_k Yes, it is!", "Yes, up to 60°C."]


async def test_hide_and_unhide_never_delete(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    media = server.add_media("Giveaway", clock() - timedelta(hours=1))
    spam = server.add_comment(media.id, SAM, "DM us for 10k followers", clock() - timedelta(minutes=5))
    channel = connect(server)
    assert isinstance(channel, HidingChannel)
    await channel.hide(spam.id, spam=True)
    assert server.comments[spam.id].hidden
    await channel.unhide(spam.id)
    assert not server.comments[spam.id].hidden and spam.id in server.comments
    assert not [r for r in server.requests if r.method == "DELETE"]


async def test_a_page_without_a_linked_account_is_said_in_words(
    server: GraphServer, connect: Callable[..., InstagramChannel]
) -> None:
    server.inject(f"/v23.0/{PAGE_ID}", status=200, body=json.dumps({"id": PAGE_ID}))
    with pytest.raises(PermanentError, match="no Instagram professional account linked"):
        await connect(server).poll({})


async def test_check_names_the_account_and_what_is_missing(
    clock: Clock, connect: Callable[..., InstagramChannel]
) -> None:
    async with GraphServer(
        seed=None, now=clock, page_token=TOKEN, permissions=("instagram_basic",)
    ) as server:
        said = await connect(server).check()
    assert said.startswith("@acme on ") and "missing: instagram_manage_comments" in said
    assert "instagram (business use case)" in said


def test_the_config_reads_an_account_and_refuses_its_key_elsewhere() -> None:
    settings = parse_config(
        config_toml(channel_toml(kind="instagram", name="ig", base_url=None, page_id="1"))
    )
    assert settings.channels[0].base_url == "https://graph.facebook.com"
    with pytest.raises(ConfigError, match="only instagram channels use ig_user_id"):
        parse_config(config_toml(channel_toml(ig_user_id="17841400000000001")))


async def test_direct_messages_come_in_and_are_answered_once_within_the_window(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    server.add_message(LEA, "Vous livrez en Belgique ?", clock() - timedelta(hours=1), instagram=True)
    server.add_message(SAM, "Facebook, not Instagram", clock() - timedelta(hours=1))
    channel = connect(server, messages=True)
    first = await channel.poll({})
    [message] = first.messages
    assert message.visibility == "direct" and message.author.handle == "lea.makes"
    assert (await channel.poll(first.cursor)).messages == []
    server.drop_answer_after_post = 1
    sent = await channel.reply(message, "Oui, en 3 jours !", "k")
    assert sent.is_ours and sent.visibility == "direct"
    assert [w["text"] for w in server.sent if "text" in w] == ["Oui, en 3 jours !"]
    clock.advance(hours=24)
    assert channel.reply_refusal(message) is not None
    with pytest.raises(PermanentError, match="Instagram allows a business to answer within 24 hours"):
        await channel.reply(message, "Encore là ?", "k2")
    assert len([w for w in server.sent if "text" in w]) == 1


async def test_direct_messages_without_their_permission_are_a_warning(
    clock: Clock, connect: Callable[..., InstagramChannel]
) -> None:
    granted = ("instagram_basic", "instagram_manage_comments", "pages_show_list", "pages_read_engagement")
    async with GraphServer(seed=None, now=clock, page_token=TOKEN, permissions=granted) as server:
        channel = connect(server, messages=True)
        result = await channel.poll({})
        said = await channel.check()
    assert "Instagram direct messages are not read" in result.warnings[0]
    assert "missing: instagram_manage_messages (read and answer direct messages)" in said


async def test_older_media_are_read_again_only_when_their_comments_count_moves(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    media = [server.add_media(f"post {n}", clock() - timedelta(hours=20 - n)) for n in range(8)]
    for each in media:
        server.add_comment(each.id, LEA, f"nice {each.caption}", each.created + timedelta(minutes=5))
    channel = connect(server)
    first = await channel.poll({})
    assert len(first.messages) == 8

    def comment_reads() -> int:
        return len([r for r in server.requests if r.path.endswith("/comments")])

    before = comment_reads()
    second = await channel.poll(first.cursor)
    assert second.messages == [] and comment_reads() - before == 5  # the five newest only
    clock.advance(minutes=1)
    late = server.add_comment(media[0].id, SAM, "still love this one")  # the oldest media
    third = await channel.poll(second.cursor)
    assert [m.remote_id for m in third.messages] == [late.id]


async def test_a_direct_message_is_measured_in_bytes_and_refused_past_1000_before_anything_is_sent(
    server: GraphServer, connect: Callable[..., InstagramChannel], clock: Clock
) -> None:
    server.add_message(LEA, "Vous livrez en Belgique ?", clock() - timedelta(hours=1), instagram=True)
    channel = connect(server, messages=True)
    [message] = (await channel.poll({})).messages
    limit = channel.reply_limit(message)
    assert limit is not None and (limit.max_length, limit.unit) == (1000, "bytes")
    assert limit.count("é" * 600) == 1200  # 600 characters, 1,200 bytes: over Instagram's limit
    with pytest.raises(PermanentError, match="Instagram takes at most 1,000 bytes in a message"):
        await channel.reply(message, "é" * 600, "k")
    assert [w for w in server.sent if "text" in w] == []
    await channel.reply(message, "é" * 500, "k2")  # 1,000 bytes: the most it takes
    assert [len(w["text"]) for w in server.sent if "text" in w] == [500]
    comment = Message(channel="instagram", remote_id="c1", author=message.author, text="nice",
                      created_at=clock(), origin=Origin.MENTION)  # fmt: skip
    assert channel.reply_limit(comment) is None  # a comment: the channel's 2,200 characters
