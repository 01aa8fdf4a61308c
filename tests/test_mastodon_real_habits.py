"""The Mastodon channel against the habits of real servers of the Mastodon API family.

Each habit set is a `MastodonServer` configured as a real server behaves (see its docstring):
Mastodon itself, GoToSocial (ignores `Idempotency-Key`, pages of 40, a bad token refused with
401 or with 400), Akkoma (pages of 40, 403 for a bad token). The channel must keep its two
promises on each: a reply goes out once, and no mention is silently dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import Clock

from ecoinbox.channels.base import AuthError, PermanentError, UncertainSend
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.mastodon.server import HABITS, MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import Message, OutboxState, View

TOKEN = "habits-token-5a7d3c1f-never-shown"


@pytest.fixture(params=sorted(HABITS))
async def server(request: pytest.FixtureRequest) -> AsyncIterator[MastodonServer]:
    async with MastodonServer(seed=None, token=TOKEN, **HABITS[request.param]) as running:
        yield running


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., MastodonChannel]]:
    channels: list[MastodonChannel] = []

    def make(server: MastodonServer, **kwargs: Any) -> MastodonChannel:
        kwargs.setdefault("account", "acme")
        kwargs.setdefault("timeout", 5.0)
        channel = MastodonChannel("mastodon", server.base_url, kwargs.pop("token", TOKEN), **kwargs)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


async def mention(server: MastodonServer, channel: MastodonChannel, **status: Any) -> Message:
    """Post a status and poll it in: the message as the inbox has it."""
    cursor = (await channel.poll({})).cursor
    made = server.add_status(**status)
    (message,) = [m for m in (await channel.poll(cursor)).messages if m.remote_id == made["id"]]
    return message


# --- 2. nothing lost: short pages are not the end ------------------------------------------


async def test_a_first_poll_brings_every_mention_whatever_the_page_cap(server, connect) -> None:
    made = [
        server.add_status(author=f"user{n}@remote.example", text=f"question {n}")["id"] for n in range(45)
    ]
    result = await connect(server).poll({})
    assert [m.remote_id for m in result.messages] == made  # 45 of 45, the oldest (a DM...) too


async def test_new_mentions_past_short_pages_all_arrive(server, connect) -> None:
    channel = connect(server)
    server.add_status(author="zoe@remote.example", text="before")
    cursor = (await channel.poll({})).cursor
    made = [server.add_status(author=f"user{n}@remote.example", text=f"n{n}")["id"] for n in range(130)]
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == made
    assert (await channel.poll(result.cursor)).messages == []


def test_backfill_is_a_mastodon_setting() -> None:
    base = (
        '[brand]\nname = "Acme"\n[[channels]]\nkind = "{kind}"\nname = "x"\nbase_url = "https://h.example"\n'
    )
    settings = parse_config(base.format(kind="mastodon") + 'backfill = "36h"\n')
    assert settings.channels[0].backfill == 36 * 3600
    assert parse_config(base.format(kind="mastodon")).channels[0].backfill == 14 * 86400
    with pytest.raises(Exception, match="backfill"):
        parse_config(base.format(kind="discourse") + 'backfill = "2d"\n')
    with pytest.raises(Exception, match="backfill"):
        parse_config(base.format(kind="mastodon") + 'backfill = "soon"\n')


# --- 3. a refused token is recognised, whatever the status ---------------------------------


async def test_a_refused_token_is_an_auth_error_on_every_server(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="hello?")
    server.set_token("a-renewed-token-0000")  # the old one is revoked
    with pytest.raises(AuthError) as polled:
        await channel.poll({})
    with pytest.raises(AuthError):
        await channel.reply(parent, "@zoe@remote.example hi", "key-1")
    assert TOKEN not in str(polled.value) and "ecoinbox auth mastodon" in str(polled.value)
    assert channel.set_token("a-renewed-token-0000")
    assert (await channel.poll({})).messages  # the renewed token is used from now on
    assert server.posted == []


def test_auth_refusals_are_recognised_by_their_words() -> None:
    from ecoinbox.channels.http import is_auth_refusal  # here: the rest of the file runs on main

    assert is_auth_refusal(400, "Invalid Bearer token")
    assert is_auth_refusal(400, "Unauthorized: token not supplied")
    assert is_auth_refusal(401, "")
    assert not is_auth_refusal(400, "Validation failed: Text can't be blank")
    assert not is_auth_refusal(422, "Unauthorized")  # only a 400 is read for its words


# --- 1. a reply published once -------------------------------------------------------------


async def test_find_sent_finds_a_reply_whose_answer_was_lost(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="where is my order?")
    since = datetime.now(UTC)
    text = "@zoe@remote.example Sorry! Tracking: https://acme.example/track/1234567890abcdefghijkl #help"
    server.drop_answer_after_post = 1
    with pytest.raises(UncertainSend):
        await channel.reply(parent, text, "key-1")
    (posted,) = server.posted

    found = await channel.find_sent(parent, text, "", since)

    assert found is not None and found.remote_id == posted.id and found.is_ours
    assert found.in_reply_to == parent.remote_id
    assert await channel.find_sent(parent, "@zoe@remote.example another text", "", since) is None
    assert await channel.find_sent(parent, text, "", since + timedelta(hours=1)) is None


async def test_find_sent_is_none_when_nothing_was_published(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="hi")
    other = await mention(server, channel, author="max@other.example", text="hi too")
    since = datetime.now(UTC)
    await channel.reply(other, "@max@other.example Thanks!", "key-2")  # same text, other parent
    assert await channel.find_sent(parent, "@zoe@remote.example Thanks!", "", since) is None
    assert await channel.find_sent(None, "text", "title", since) is None


async def test_find_sent_reads_our_statuses_page_after_page(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="hi")
    since = datetime.now(UTC)
    await channel.reply(parent, "@zoe@remote.example the one", "key-0")
    for n in range(90):  # newer posts of ours push it past two short pages
        server.add_status(author="acme", text=f"news number {n}")
    found = await channel.find_sent(parent, "@zoe@remote.example the one", "", since)
    assert found is not None and found.text.endswith("the one")
    pages = [r for r in server.requests if r.path.endswith("/statuses") and r.method == "GET"]
    assert len(pages) >= 3 and "max_id" in pages[-1].query


async def test_find_sent_reads_the_thread_when_our_statuses_do_not_show_it(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="hi")
    since = datetime.now(UTC)
    await channel.reply(parent, "@zoe@remote.example in the thread", "key-3")
    server.inject("/api/v1/accounts/", status=200, body="[]", times=1)  # a server that lists none
    found = await channel.find_sent(parent, "@zoe@remote.example in the thread", "", since)
    assert found is not None
    assert any(r.path.endswith("/context") for r in server.requests)


async def test_capabilities_say_what_is_not_relied_on(server, connect) -> None:
    capabilities = await connect(server).capabilities()
    assert capabilities.reconcile and capabilities.idempotency_window is None
    assert any("Idempotency-Key is not relied on" in line for line in capabilities.safeguards)
    assert any("Link next" in line for line in capabilities.safeguards)


@pytest.fixture
def clock() -> Clock:
    """One clock for the store, the engine and the server: a read-back waits for a slow server."""
    return Clock(datetime.now(UTC))


async def queue_reply_to(store: Any, remote_id: str, text: str) -> Any:
    for row in await store.conversation_page(View.INBOX, limit=100):
        thread = await store.conversation(row.id)
        for stored in thread.messages:
            if stored.message.remote_id == remote_id:
                return await store.queue_reply(row.id, stored.message, text)
    raise AssertionError(f"{remote_id} is not in the inbox")


async def send_until_settled(engine: Engine, store: Any, clock: Clock, rounds: int = 10) -> Any:
    for _ in range(rounds):
        await engine.send_once()
        clock.advance(minutes=1)  # past the read-back's wait for a slow server
        (item,) = await store.outbox_items()
        if item.state in (OutboxState.SENT, OutboxState.FAILED):
            return item
    return item


async def test_done_when_45_of_45_mentions_and_one_reply_against_a_server_that_ignores_the_key(
    store, connect, clock
) -> None:
    """Ignores Idempotency-Key, caps pages at 40, closes the connection after publishing the
    first reply: a first poll brings 45 of 45 mentions and the reply is published once."""
    async with MastodonServer(
        seed=None,
        token=TOKEN,
        honours_idempotency_key=False,
        page_cap=40,
        drop_answer_after_post=1,
        now=clock,
    ) as server:
        made = [
            server.add_status(author=f"user{n}@remote.example", text=f"help {n}")["id"] for n in range(45)
        ]
        engine = Engine(store, {"mastodon": connect(server, clock=clock)}, leased=False, clock=clock)

        await engine.poll_channel("mastodon")

        assert await store.known_remote_ids("mastodon", made) == set(made)
        await queue_reply_to(store, made[0], "@user0@remote.example on it!")
        item = await send_until_settled(engine, store, clock)
        assert item.state is OutboxState.SENT
        assert len(server.posted) == 1
        sent = await store.message("mastodon", server.posted[0].id)
        assert sent is not None and sent.is_ours


async def test_a_slow_answer_past_the_timeout_is_not_published_twice(store, connect, clock) -> None:
    async with MastodonServer(
        seed=None, token=TOKEN, honours_idempotency_key=False, post_answer_delay=3, now=clock
    ) as server:
        made = server.add_status(author="zoe@remote.example", text="hello")
        channel = connect(server, timeout=1.0, clock=clock)
        engine = Engine(store, {"mastodon": channel}, leased=False, clock=clock)
        await engine.poll_channel("mastodon")
        await queue_reply_to(store, made["id"], "@zoe@remote.example hi!")
        item = await send_until_settled(engine, store, clock)
        assert item.state is OutboxState.SENT and len(server.posted) == 1


# --- 4. everyone a thread addresses, after a restart too ----------------------------------


async def test_mentions_of_a_stored_parent_survive_a_restart(store, connect) -> None:
    async with MastodonServer(seed=None, token=TOKEN) as server:
        server.add_status(author="sam", text="hello all", mention_brand=False)  # a local account
        made = server.add_status(
            author="zoe@remote.example", text="@acme @max@other.example @sam the grinder broke"
        )
        first = connect(server)
        await Engine(store, {"mastodon": first}, leased=False).poll_channel("mastodon")
        await first.aclose()

        stored = await store.message("mastodon", made["id"])
        assert stored is not None
        assert set(stored.mentions) == {"acme@social.example", "max@other.example", "sam@social.example"}
        restarted = connect(server)  # a new process: nothing in memory
        await restarted.capabilities()  # as the compose box asks, before any poll
        assert restarted.reply_prefix(stored) == "@zoe@remote.example @max@other.example @sam "


# --- 5. edits and deletions ----------------------------------------------------------------


async def test_an_edit_arrives_as_the_same_message_with_its_new_text(server, connect) -> None:
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    made = server.add_status(author="zoe@remote.example", text="my order 123 is late")
    cursor = (await channel.poll(cursor)).cursor
    server.edit_status(made["id"], "@acme my order 124 is late (typo)")

    (edited,) = (await channel.poll(cursor)).messages

    assert edited.remote_id == made["id"] and edited.text == "@acme my order 124 is late (typo)"
    assert edited.edited_at is not None and edited.origin.value == "mention"


async def test_a_mention_and_its_edit_in_one_poll_give_the_edited_text(server, connect) -> None:
    channel = connect(server)
    cursor = (await channel.poll({})).cursor
    made = server.add_status(author="zoe@remote.example", text="first words")
    server.edit_status(made["id"], "@acme second words")
    (message,) = (await channel.poll(cursor)).messages
    assert message.text == "@acme second words" and message.edited_at is not None


async def test_edits_and_deletions_reach_the_store(store, connect) -> None:
    async with MastodonServer(seed=None, token=TOKEN) as server:
        channel = connect(server)
        engine = Engine(store, {"mastodon": channel}, leased=False)
        made = server.add_status(author="zoe@remote.example", text="rude words")
        await engine.poll_channel("mastodon")
        server.edit_status(made["id"], "@acme kinder words")
        await engine.poll_channel("mastodon")
        edited = await store.message("mastodon", made["id"])
        assert edited is not None and edited.text == "@acme kinder words" and edited.edited_at

        server.delete_status(made["id"])
        await store.ingest(await channel.context(made["id"]))  # the thread read again
        gone = await store.message("mastodon", made["id"])
        assert gone is not None and gone.deleted


async def test_find_deleted_tells_which_stored_statuses_are_gone(server, connect) -> None:
    channel = connect(server)
    kept = await mention(server, channel, author="zoe@remote.example", text="still here")
    gone = await mention(server, channel, author="max@other.example", text="soon gone")
    server.delete_status(gone.remote_id)
    (found,) = await channel.find_deleted([kept, gone])
    assert found.remote_id == gone.remote_id and found.deleted and found.text == gone.text


async def test_a_thread_read_again_carries_edited_at(server, connect) -> None:
    channel = connect(server)
    root = server.add_status(author="zoe@remote.example", text="q", mention_brand=False)
    server.add_status(author="max@other.example", text="a", in_reply_to_id=root["id"], mention_brand=False)
    server.edit_status(root["id"], "q (edited)")
    root_message, _ = await channel.context(root["id"])
    assert root_message.text == "q (edited)" and root_message.edited_at is not None


async def test_a_reply_to_a_deleted_post_says_so(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="hi")
    server.delete_status(parent.remote_id)
    with pytest.raises(PermanentError, match="deleted"):
        await channel.reply(parent, "@zoe@remote.example hi", "key-4")


# --- 6. blocks and visibility ---------------------------------------------------------------


async def test_a_reply_to_someone_who_blocks_the_brand_is_refused_in_words(server, connect) -> None:
    channel = connect(server)
    parent = await mention(server, channel, author="zoe@remote.example", text="you are awful")
    server.block_brand("zoe@remote.example")
    with pytest.raises(PermanentError) as refused:
        await channel.reply(parent, "@zoe@remote.example sorry to hear", "key-5")
    assert (
        str(refused.value) == "@zoe@remote.example blocks @acme: the reply cannot be seen by them; not sent"
    )
    assert server.posted == []


async def test_visibility_comes_from_the_status(server, connect) -> None:
    channel = connect(server)
    direct = await mention(
        server, channel, author="zoe@remote.example", text="my address", visibility="direct"
    )
    assert direct.visibility == "direct"


# --- 7. check says when keyword listening cannot work ---------------------------------------


async def test_check_says_when_search_does_not_index_statuses(connect) -> None:
    async with MastodonServer(seed=None, token=TOKEN, full_text_search=False) as server:
        server.add_status(author="acme", text="Our spring catalogue is out")
        lines = (await connect(server, search_terms=("acme widgets",)).check()).splitlines()
        assert lines[0].startswith("@acme on ")
        assert "search does not index statuses" in lines[1] and "finds nothing" in lines[1]


async def test_check_has_no_warning_where_search_works_or_is_unused(connect) -> None:
    async with MastodonServer(seed=None, token=TOKEN) as server:
        server.add_status(author="acme", text="Our spring catalogue is out")
        assert len((await connect(server, search_terms=("acme",)).check()).splitlines()) == 1
        assert len((await connect(server).check()).splitlines()) == 1


async def test_check_says_what_gotosocial_search_covers(connect) -> None:
    async with MastodonServer(
        seed=None,
        token=TOKEN,
        version="0.17.3",
        source_url="https://github.com/superseriousbusiness/gotosocial",
    ) as server:
        lines = (await connect(server, search_terms=("acme",)).check()).splitlines()
        assert "GoToSocial 0.17.3" in lines[0]
        assert "only our own posts and the replies to us" in lines[1]


async def test_a_server_that_ignores_the_cursor_is_not_walked_in_circles(server, connect) -> None:
    channel = connect(server)
    made = server.add_status(author="zoe@remote.example", text="hello")
    cursor = (await channel.poll({})).cursor
    page = f'[{{"id": "{cursor["notifications"]}", "type": "mention", "status": null}}]'
    server.inject("/api/v1/notifications", body=page, status=200, times=100)  # min_id ignored
    asked = len(server.requests)
    result = await channel.poll(cursor)
    assert len(server.requests) - asked <= 2 and result.cursor == cursor
    assert made["id"]
