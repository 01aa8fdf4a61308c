"""The Mastodon channel parses answers recorded from a real Mastodon server, through its normal
HTTP path (a tiny loopback server replays them). Sources: tests/data/recorded/mastodon/SOURCES.md."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.model import Author, Message, Origin

RECORDED = Path(__file__).parent / "data" / "recorded" / "mastodon"
OWN_ID = "109440137734600341"  # mastodonpy_test, whose token recorded them
# Not recorded: the instance answer is a stub, only so the channel knows its domain.
INSTANCE_STUB = '{"domain": "localhost", "version": "4.0.2"}'


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def answer(body: str, **headers: str) -> web.Response:
    return web.Response(text=body, content_type="application/json", headers=headers)


def replaying(name: str, seen: list[web.Request]):
    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        if name == "notifications_mention_and_follow.json" and {"max_id", "min_id"} & set(request.query):
            return answer("[]")  # nothing older or newer than the recorded page
        link = RECORDED / name.replace(".json", ".link")
        headers = {"Link": link.read_text().strip()} if link.exists() else {}
        return answer(INSTANCE_STUB if name == "instance" else recorded(name), **headers)

    return handler


@pytest.fixture
async def replay() -> AsyncIterator[tuple[str, list[web.Request]]]:
    seen: list[web.Request] = []
    app = web.Application()
    for method, path, name in (
        ("GET", "/api/v2/instance", "instance"),
        ("GET", "/api/v1/accounts/verify_credentials", "verify_credentials.json"),
        ("GET", "/api/v1/accounts/relationships", "relationships.json"),
        ("GET", "/api/v1/notifications", "notifications_mention_and_follow.json"),
        ("GET", "/api/v1/statuses/109440147874866834", "status_edited.json"),
        ("GET", "/api/v1/statuses/{id}/context", "context_empty.json"),
        ("POST", "/api/v1/statuses", "status_posted.json"),
    ):
        app.router.add_route(method, path, replaying(name, seen))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


@pytest.fixture
async def channel(replay) -> AsyncIterator[MastodonChannel]:
    made = MastodonChannel(
        "masto", replay[0], "recorded-token-0123", account="mastodonpy_test", timeout=5,
        clock=lambda: datetime(2022, 12, 2, tzinfo=UTC),  # the day after the recording: in backfill
    )  # fmt: skip
    yield made
    await made.aclose()


async def test_a_recorded_notifications_page_becomes_one_mention(channel, replay) -> None:
    result = await channel.poll({})

    (message,) = result.messages  # the follow notification is not a message
    assert message.remote_id == "109440144213643619"
    assert message.text == "@mastodonpy_test hello!"
    assert message.author.handle == "admin@localhost" and message.author.remote_id == "109440137501589086"
    assert message.origin is Origin.MENTION and message.visibility == "public" and message.language == "en"
    assert message.created_at == datetime(2022, 12, 1, 19, 47, 55, 526000, tzinfo=UTC)
    assert message.mentions == ("mastodonpy_test@localhost",)
    assert message.url == "http://localhost:3000/@admin/109440144213643619"
    assert result.cursor["notifications"] == "17"  # from the recorded Link rel="prev"
    assert channel.reply_prefix(message) == "@admin "


async def test_a_recorded_edited_status_keeps_its_edit_time(channel) -> None:
    (edited,) = await channel.context("109440147874866834")
    assert edited.text == "the best editor? why, of course it is the KDE Advanced Text Editor, Kate"
    assert edited.edited_at == datetime(2022, 12, 1, 19, 48, 51, 473000, tzinfo=UTC)
    assert edited.origin is Origin.OURS and edited.language == "ja"


async def test_a_recorded_relationship_and_posted_status_let_a_reply_through(channel, replay) -> None:
    parent = Message(
        channel="masto", remote_id="109440144213643619", text="@mastodonpy_test hello!",
        author=Author("masto", "109440137501589086", "admin@localhost"), created_at=datetime.now(UTC),
    )  # fmt: skip
    sent = await channel.reply(parent, "@admin Toot!", "key-1")
    assert sent.remote_id == "109440146735213821" and sent.text == "Toot!" and sent.is_ours
    asked = [r.path for r in replay[1]]
    assert "/api/v1/accounts/relationships" in asked  # read, and blocked_by false: sent
