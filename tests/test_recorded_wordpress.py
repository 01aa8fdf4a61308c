"""The WordPress channel reads answers recorded from a real WordPress (tests/data/recorded/wordpress).

A small loopback server plays them back at the routes the channel asks for, so the channel
parses them through its normal HTTP path: the `Link` header that names `?rest_route=`, a held
comment, a kses-escaped name, anonymous refusals, a 201 under a parent that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ecoinbox.channels.base import AuthError, PermanentError
from ecoinbox.channels.wordpress import WordPressChannel
from ecoinbox.demo.loopback import LoopbackServer
from ecoinbox.model import Author, Message, Origin

RECORDED = Path(__file__).parent / "data" / "recorded" / "wordpress"
PASSWORD = "abcd efgh ijkl mnop qrst uvwx"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"{name}.json").read_text())


class Playback(LoopbackServer):
    """Answers (method, rest_route) with a recorded answer; the home page with its Link header."""

    def __init__(self, answers: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.answers = {"HEAD /": "home_head", **{f"{m} {r}": name for (m, r), name in answers.items()}}

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/{tail:.*}", self._play)

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        return await handler(request)

    async def _play(self, request: web.Request) -> web.StreamResponse:
        route = request.query.get("rest_route", request.path if request.path == "/" else "")
        name = self.answers.get(f"{request.method} {route}")
        if name is None and request.method == "GET" and route == "/":
            name = "home_head"
        if name is None:
            return web.json_response({"code": "rest_no_route", "message": "not recorded"}, status=404)
        answer = recorded(name)
        body = answer["body"]
        text = body if isinstance(body, str) else json.dumps(body)
        headers = {k: v for k, v in answer["headers"].items() if k != "content-type"}
        content_type = answer["headers"].get("content-type", "application/json").split(";")[0]
        return web.Response(status=answer["status"], text=text, content_type=content_type, headers=headers)


@pytest.fixture
async def play() -> AsyncIterator[Any]:
    servers: list[Playback] = []
    channels: list[WordPressChannel] = []

    async def start(answers: dict[tuple[str, str], str]) -> tuple[Playback, WordPressChannel]:
        server = Playback(answers)
        await server.start()
        channel = WordPressChannel("blog", server.base_url, PASSWORD, account="brand_admin")
        servers.append(server)
        channels.append(channel)
        return server, channel

    yield start
    for channel in channels:
        await channel.aclose()
    for server in servers:
        await server.stop()


ME = {("GET", "/wp/v2/users/me"): "users_me_edit"}
PARENT = {**ME, ("GET", "/wp/v2/comments/2"): "comment_edit"}  # the parent of the recorded reply
POLL = {**ME, ("GET", "/wp/v2/comments"): "comments_all", ("GET", "/wp/v2/posts"): "posts_include"}


def parent(comment_id: int, post: int = 4) -> Message:
    from datetime import UTC, datetime

    return Message(
        channel="blog",
        remote_id=str(comment_id),
        author=Author(channel="blog", remote_id="guest:x", handle="x", display_name="x"),
        text="question",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        thread_ref=str(post),
    )


async def test_a_real_first_poll_held_comments_names_and_titles(play):
    server, channel = await play(POLL)
    assert "?rest_route=" in await channel.check()
    result = await channel.poll({})
    by_id = {m.remote_id: m for m in result.messages}
    assert [m.remote_id for m in result.messages] == ["1", "2", "3"]
    assert by_id["3"].held and not by_id["2"].held
    assert by_id["2"].author.handle == "Ben & Jerry's"
    assert by_id["2"].title == "Launch day & what\u2019s next"
    newest = max(c["date_gmt"] for c in recorded("comments_all")["body"])
    assert (result.cursor["date_gmt"], result.cursor["id"]) == (newest, "3")
    assert all(r.query.get("rest_route") for r in server.requests if r.method == "GET" and r.path != "/")


async def test_a_real_wrong_password_is_anonymous_and_pauses(play):
    _, channel = await play({("GET", "/wp/v2/users/me"): "users_me_wrong_password"})
    with pytest.raises(AuthError, match="anonymous"):
        await channel.poll({})


async def test_a_real_anonymous_listing_of_held_comments_is_lost_auth_not_a_downgrade(play):
    _, channel = await play({**ME, ("GET", "/wp/v2/comments"): "comments_all_anonymous"})
    with pytest.raises(AuthError, match="rest_forbidden_param"):
        await channel.poll({})


async def test_a_real_reply_created_and_its_duplicate(play):
    _, channel = await play({**PARENT, ("POST", "/wp/v2/comments"): "reply_created"})
    sent = await channel.reply(parent(2), "Thanks & see the footer", "key-1")
    assert sent.origin is Origin.OURS and sent.remote_id == "5" and sent.in_reply_to == "2"
    assert sent.author.handle == "Acme Team"
    _, again = await play({**PARENT, ("POST", "/wp/v2/comments"): "reply_duplicate",
                           ("GET", "/wp/v2/comments"): "comments_all"})  # fmt: skip
    with pytest.raises(PermanentError, match="comment_duplicate"):  # the list holds no copy of ours
        await again.reply(parent(2), "Thanks & see the footer", "key-1")


async def test_real_parents_nobody_sees_are_refused(play):
    """WordPress answered 201 under parent 999 (reply_missing_parent.json): the channel asks first."""
    assert recorded("reply_missing_parent")["status"] == 201
    _, channel = await play({**ME, ("GET", "/wp/v2/comments/999"): "comment_missing",
                             ("GET", "/wp/v2/comments/4"): "comment_trashed_edit",
                             ("POST", "/wp/v2/comments"): "reply_missing_parent"})  # fmt: skip
    with pytest.raises(PermanentError, match="deleted"):
        await channel.reply(parent(999), "hello", "key-1")
    with pytest.raises(PermanentError, match="trash"):
        await channel.reply(parent(4), "hello", "key-1")


async def test_real_approve_and_its_refusal(play):
    _, channel = await play({**ME, ("POST", "/wp/v2/comments/3"): "approve"})
    await channel.approve("3")
    _, member = await play({**ME, ("POST", "/wp/v2/comments/3"): "approve_forbidden"})
    with pytest.raises(PermanentError, match="may not moderate"):
        await member.approve("3")


async def test_a_real_anonymous_send_is_an_auth_error_so_the_reply_waits(play):
    _, channel = await play({**PARENT, ("POST", "/wp/v2/comments"): "reply_anonymous"})
    with pytest.raises(AuthError):
        await channel.reply(parent(2), "hello", "key-1")
