"""Live mentions: Mastodon's streaming API wakes the poll, over real loopback HTTP.

The engine polls once an hour here (poll_interval = 3600): whatever arrives within seconds
came because the stream said so, through the one ingest path polling uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from stack import TOKEN, wait_until

from ecoinbox.channels.discourse import DiscourseChannel
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.channels.mastodon.stream import STREAM_PATH, NotificationStream
from ecoinbox.cli import build_engine, resolve_tokens
from ecoinbox.config import ConfigError, load_config, parse_config
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.demo.runner import Demo
from ecoinbox.engine import Engine
from ecoinbox.model import Origin, View
from ecoinbox.store import Store, open_store

HOUR = 3600.0
RECORDED = Path(__file__).parent / "data" / "recorded" / "mastodon" / "stream_user.sse"


async def stored(store: Store) -> list[tuple[str, Origin]]:
    """Every message in the store, as (text, origin)."""
    found = []
    rows = [
        row for view in (View.INBOX, View.PENDING) for row in await store.conversation_page(view, limit=500)
    ]
    for row in rows:
        conversation = await store.conversation(row.id)
        assert conversation is not None
        found.extend((m.message.text, m.message.origin) for m in conversation.messages)
    return found


async def has_text(store: Store, text: str) -> bool:
    return any(t == text for t, _ in await stored(store))


def notification_polls(server: MastodonServer) -> int:
    return sum(1 for r in server.requests if r.path == "/api/v1/notifications")


def stream_requests(server: MastodonServer) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/api/v1/streaming"))


@asynccontextmanager
async def running(
    server: MastodonServer, tmp_path: Path, interval: float = HOUR
) -> AsyncIterator[tuple[Store, Engine]]:
    store = await open_store(tmp_path / "inbox.db")
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme", timeout=5)
    engine = Engine(store, {"mastodon": channel}, poll_intervals={"mastodon": interval}, leased=False)
    await engine.start()
    try:
        yield store, engine
    finally:
        await engine.stop()
        await store.close()


async def live(server: MastodonServer, engine: Engine) -> None:
    """The first poll is done and the stream is open."""
    await wait_until(lambda: engine.statuses["mastodon"].state == "ok" and server.stream_count == 1)


async def test_a_mention_posted_while_the_engine_runs_is_stored_within_two_seconds(tmp_path):
    async with MastodonServer(seed=None, token=TOKEN) as server, running(server, tmp_path) as (store, engine):
        await live(server, engine)
        loop = asyncio.get_running_loop()
        posted_at = loop.time()
        status = server.add_status(author="zoe@remote.example", text="my order never came")
        await wait_until(lambda: has_text(store, "@acme my order never came"), timeout=2.0)
        assert loop.time() - posted_at <= 2.0
        # Through the poll: stored once, as a mention, and the cursor is the notification's.
        assert await stored(store) == [("@acme my order never came", Origin.MENTION)]
        assert server.streamed == ["event: notification"]
        assert (await engine.poll_channel("mastodon")).new == 0  # the cursor is past it, exactly
        (thread,) = [await store.conversation(r.id) for r in await store.conversation_page(View.INBOX)]
        assert thread is not None and thread.messages[0].message.remote_id == status["id"]


async def test_a_reply_in_a_thread_streams_in_and_threads_like_a_polled_one(tmp_path):
    async with MastodonServer(seed=None, token=TOKEN) as server, running(server, tmp_path) as (store, engine):
        root = server.add_status(author="zoe@remote.example", text="is the X200 waterproof?")
        ours = server.add_status(
            author="acme",
            text="@zoe@remote.example yes, IPX7",
            in_reply_to_id=root["id"],
            mention_brand=False,
        )
        await live(server, engine)
        await wait_until(lambda: has_text(store, "@acme is the X200 waterproof?"), timeout=2.0)
        server.add_status(
            author="zoe@remote.example", text="it leaked after a week", in_reply_to_id=ours["id"]
        )
        await wait_until(lambda: has_text(store, "@acme it leaked after a week"), timeout=2.0)
        (row,) = await store.conversation_page(View.INBOX)  # the customer spoke last: it needs us again
        thread = await store.conversation(row.id)
        assert thread is not None
        assert [m.message.origin for m in thread.messages] == [Origin.MENTION, Origin.OURS, Origin.MENTION]
        assert thread.messages[2].parent_id == thread.messages[1].id
        assert thread.messages[1].parent_id == thread.messages[0].id


async def test_a_cut_stream_reconnects_and_nothing_is_lost_or_stored_twice(tmp_path):
    async with (
        MastodonServer(seed=None, token=TOKEN, drop_stream_after=1) as server,
        running(server, tmp_path) as (store, engine),
    ):
        await live(server, engine)
        # The next two reconnections fail: mentions meanwhile wait for the stream to come back.
        server.inject("/api/v1/streaming", status=502, times=2)
        server.add_status(author="zoe@remote.example", text="first, live")
        await wait_until(lambda: has_text(store, "@acme first, live"), timeout=2.0)
        await wait_until(lambda: server.stream_count == 0)  # cut after that event
        server.add_status(author="bob@remote.example", text="while it was down")
        server.add_status(author="eve@remote.example", text="also while it was down")
        assert server.stream_count == 0
        # Back: the reconnection's poll brings what was missed (well before the hourly poll).
        await wait_until(lambda: has_text(store, "@acme also while it was down"), timeout=15.0)
        await wait_until(lambda: server.stream_count == 1)
        server.add_status(author="zoe@remote.example", text="live again")
        await wait_until(lambda: has_text(store, "@acme live again"), timeout=2.0)
        texts = sorted(t for t, _ in await stored(store))
        assert texts == sorted(["@acme first, live", "@acme while it was down",
                                "@acme also while it was down", "@acme live again"])  # fmt: skip
        assert stream_requests(server) >= 4  # opened, two refused, opened again


async def test_a_404_streaming_endpoint_falls_back_to_polling_and_check_says_so_in_one_line(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="ecoinbox")
    async with MastodonServer(seed=None, token=TOKEN, streaming=False) as server:
        async with running(server, tmp_path, interval=0.5) as (store, engine):
            await wait_until(lambda: engine.statuses["mastodon"].state == "ok")
            server.add_status(author="zoe@remote.example", text="polled in")
            await wait_until(lambda: has_text(store, "@acme polled in"), timeout=5.0)
            await asyncio.sleep(1.0)
            assert stream_requests(server) == 1  # a refusal is tried again in a minute or two
        channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
        try:
            who, *rest = (await channel.check()).splitlines()
        finally:
            await channel.aclose()
        assert not who.endswith("(streaming)")
        (line,) = rest
        assert line.startswith("streaming does not work here (") and "404" in line
        assert "wait for the next poll" in line
    assert TOKEN not in caplog.text
    assert "live mentions stopped" in caplog.text


async def test_heartbeats_alone_do_not_trigger_polls(tmp_path):
    async with (
        MastodonServer(seed=None, token=TOKEN, heartbeat=0.02) as server,
        running(server, tmp_path) as (_store, engine),
    ):
        await live(server, engine)
        await wait_until(lambda: server.heartbeats >= 3)
        polls = notification_polls(server)
        await wait_until(lambda: server.heartbeats >= 40)
        assert notification_polls(server) == polls
        assert server.stream_count == 1  # one stream all along


async def test_stream_false_only_polls(tmp_path):
    async with MastodonServer(seed=None, token=TOKEN) as server:
        store = await open_store(tmp_path / "inbox.db")
        channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme", stream=False)
        engine = Engine(store, {"mastodon": channel}, poll_intervals={"mastodon": HOUR}, leased=False)
        await engine.start()
        try:
            await wait_until(lambda: engine.statuses["mastodon"].state == "ok")
            await asyncio.sleep(0.3)
            assert stream_requests(server) == 0 and not (await channel.capabilities()).stream
        finally:
            await engine.stop()
            await store.close()


CHANNEL = """
[brand]
name = "Acme"
[[channels]]
kind = "{kind}"
name = "x"
base_url = "https://social.example"
account = "acme"
{extra}
"""


def test_stream_is_a_mastodon_setting_true_by_default():
    parse = lambda kind, extra="": parse_config(CHANNEL.format(kind=kind, extra=extra), Path("t.toml"))
    assert parse("mastodon").channels[0].stream is True
    assert parse("mastodon", "stream = false").channels[0].stream is False
    with pytest.raises(ConfigError, match="stream"):
        parse("mastodon", 'stream = "yes"')
    assert parse("discourse", "stream = false").channels[0].stream is False
    with pytest.raises(ConfigError, match="only mastodon and discourse channels stream"):
        parse("wordpress", "stream = true")


async def test_a_recorded_stream_wakes_the_poll_on_connecting_and_on_each_mention_only():
    """Mastodon 4.0.2's own bytes (tests/data/recorded/mastodon): of its update, two mention
    notifications, status.update, delete and heartbeats, only the mentions wake the poll."""
    body = RECORDED.read_bytes()
    served: list[str] = []

    async def stream(request: web.Request) -> web.StreamResponse:
        served.append(request.headers.get("Authorization", ""))
        if len(served) > 1:  # once: the reconnection finds nothing
            return web.json_response({"error": "Not Found"}, status=404)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for start in range(0, len(body), 700):  # in pieces, as a network hands them over
            await response.write(body[start : start + 700])
            await asyncio.sleep(0.01)
        return response

    async def instance(request: web.Request) -> web.Response:
        return web.json_response({"configuration": {}})  # no streaming host named: this one

    app = web.Application()
    app.router.add_get("/api/v2/instance", instance)
    app.router.add_get(STREAM_PATH, stream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    http = HttpClient(
        "m", f"http://127.0.0.1:{runner.addresses[0][1]}", auth_headers={"Authorization": f"Bearer {TOKEN}"}
    )
    listener = NotificationStream("m", http)
    wakes: list[float] = []
    task = asyncio.create_task(listener.run(lambda: wakes.append(asyncio.get_running_loop().time())))
    try:
        await asyncio.sleep(0)
        listener.token_accepted()
        await wait_until(lambda: len(served) == 2)  # read to its end, then tried again
        assert len(wakes) == 3  # connected, and the two mentions
        assert served == [f"Bearer {TOKEN}"] * 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await http.aclose()
        await runner.cleanup()


async def test_the_demos_new_mentions_arrive_live(tmp_path):
    async with Demo(data_dir=tmp_path, traffic=False) as demo:
        settings = load_config(demo.config_path)
        store = await open_store(settings.store.path)
        engine = build_engine(settings, await asyncio.to_thread(resolve_tokens, settings), store)
        await engine.start()
        try:
            await wait_until(lambda: engine.statuses["mastodon"].state == "ok", timeout=30.0)
            mastodon = demo.server("mastodon", MastodonServer)
            await wait_until(lambda: mastodon.stream_count == 1)
            status = mastodon.tick()  # what the demo's traffic does every few seconds
            await wait_until(lambda: store.message("mastodon", status["id"]), timeout=2.0)
        finally:
            await engine.stop()
            await store.close()


# ---- Discourse: MessageBus ----------------------------------------------------------------------

FORUM_KEY = "forum-user-api-key-0123456789"


@asynccontextmanager
async def forum_engine(server: DiscourseServer, tmp_path: Path) -> AsyncIterator[tuple[Store, Engine]]:
    store = await open_store(tmp_path / "forum.db")
    channel = DiscourseChannel("forum", server.base_url, FORUM_KEY, auth="user_api_key", timeout=5)
    engine = Engine(store, {"forum": channel}, poll_intervals={"forum": HOUR}, leased=False)
    await engine.start()
    try:
        yield store, engine
    finally:
        await engine.stop()
        await store.close()


def bus_requests(server: DiscourseServer) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/message-bus/"))


async def test_a_forum_mention_arrives_by_messagebus_within_two_seconds(tmp_path):
    async with (
        DiscourseServer(seed=None, user_api_key=FORUM_KEY, long_poll=0.5) as server,
        forum_engine(server, tmp_path) as (store, engine),
    ):
        await wait_until(lambda: engine.statuses["forum"].state == "ok" and server.bus_polls >= 2)
        polls = sum(1 for r in server.requests if r.path == "/notifications.json")
        await asyncio.sleep(1.2)  # long polls that end with nothing new wake nothing
        assert sum(1 for r in server.requests if r.path == "/notifications.json") == polls
        loop = asyncio.get_running_loop()
        posted_at = loop.time()
        topic = server.add_topic(
            author="zoe", title="Charger broke", raw="My charger broke after a week", mention_brand=True
        )
        await wait_until(lambda: store.message("forum", str(topic["post_id"])), timeout=2.0)
        assert loop.time() - posted_at <= 2.0


async def test_a_forum_without_messagebus_is_polled_as_before(tmp_path):
    async with (
        DiscourseServer(seed=None, user_api_key=FORUM_KEY, message_bus=False) as server,
        forum_engine(server, tmp_path) as (store, engine),
    ):
        await wait_until(lambda: engine.statuses["forum"].state == "ok" and bus_requests(server) >= 1)
        engine.poll_now("forum")
        topic = server.add_topic(
            author="zoe", title="Charger broke", raw="My charger broke", mention_brand=True
        )
        engine.poll_now("forum")
        await wait_until(lambda: store.message("forum", str(topic["post_id"])), timeout=5.0)
        await asyncio.sleep(0.5)
        assert bus_requests(server) == 1  # a 404 is tried again in a minute or two


async def test_the_token_goes_to_an_announced_streaming_host_only_on_the_instances_own_domain_over_https(
    tmp_path,
):
    """An instance naming another origin (here plain http on another port: no https, not its
    domain) gets its stream asked on its own host; the other host never sees the token."""
    elsewhere: list[str] = []

    async def record(request: web.Request) -> web.Response:
        elsewhere.append(request.headers.get("Authorization", ""))
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    other = f"ws://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with (
            MastodonServer(seed=None, token=TOKEN, streaming_url=other) as server,
            running(server, tmp_path) as (store, engine),
        ):
            await live(server, engine)  # streaming from the API's own host
            server.add_status(author="zoe@remote.example", text="still live")
            await wait_until(lambda: has_text(store, "@acme still live"), timeout=2.0)
        assert elsewhere == []
    finally:
        await runner.cleanup()
