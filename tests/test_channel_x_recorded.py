"""The X channel reads answers of the real API (tweepy's recorded cassettes, tests/data/x), and
the local X serves the same shapes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ecoinbox.channels.x import XChannel
from ecoinbox.channels.x.tweets import read_page, to_message
from ecoinbox.demo.x.server import XServer
from ecoinbox.model import Author, Message, Origin

DATA = Path(__file__).parent / "data" / "x"
REFRESH = "x-recorded-refresh-token-0123456789"
CLIENT_ID = "x-recorded-client"


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"tweepy_{name}.json").read_text(encoding="utf-8"))
    return loaded


def channel_on(server: XServer, tmp_path: Path, account: str = "acme") -> XChannel:
    return XChannel("x", server.base_url, REFRESH, client_id=CLIENT_ID, account=account,
                    ledger=tmp_path / "reads.json")  # fmt: skip


def serve(server: XServer, path: str, name: str) -> None:
    answer = recorded(name)
    server.inject(path, status=answer["status"], body=json.dumps(answer["body"]), headers=answer["headers"])


@pytest.mark.parametrize("name", ["mentions", "search_recent", "users_tweets"])
def test_recorded_pages_read_with_their_paging(name: str) -> None:
    body = recorded(name)["body"]
    page = read_page(body)
    assert page.newest_id == body["meta"]["newest_id"] and page.next_token == body["meta"]["next_token"]
    assert len(page.tweets) == body["meta"]["result_count"] == page.reads
    with pytest.raises(KeyError):  # default fields only: no author_id, skipped (the poll says so)
        to_message(page.tweets[0], page.users, Origin.MENTION, "x", None)


async def test_a_recorded_mentions_page_is_polled_its_headers_read_its_posts_skipped_and_said(
    tmp_path, caplog
):
    async with XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        channel = channel_on(server, tmp_path)
        await channel.check()  # users/me first: the injected page answers the mentions request
        serve(server, "/2/users/", "mentions")
        with caplog.at_level(logging.WARNING):
            result = await channel.poll({})
        await channel.aclose()
    body = recorded("mentions")["body"]
    assert result.messages == [] and result.cursor == {"mentions": body["meta"]["newest_id"]}
    assert caplog.text.count("skipped an unreadable post") == len(body["data"])
    assert channel.limits["/2/users/:id/mentions"][:2] == (448, 450)
    assert channel.budget.used == len(body["data"])


async def test_the_recorded_answer_to_a_new_post_is_the_reply_made(tmp_path):
    async with XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        mention = server.add_post(author="zoe", text="@acme hello")
        channel = channel_on(server, tmp_path)
        parent = Message("x", mention, Author("x", "1", "zoe"), "@acme hello", datetime.now(UTC))
        serve(server, "/2/tweets", "create_tweet")
        sent = await channel.reply(parent, "Test Tweet", "key")
        await channel.aclose()
    assert sent.remote_id == recorded("create_tweet")["body"]["data"]["id"]
    assert (sent.text, sent.in_reply_to, sent.origin) == ("Test Tweet", mention, Origin.OURS)


async def test_the_recorded_users_me_names_the_account(tmp_path):
    async with XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        channel = channel_on(server, tmp_path, account="TweepyDev")
        serve(server, "/2/users/me", "users_me")
        said = await channel.check()
        await channel.aclose()
    assert said.startswith("@TweepyDev on 127.0.0.1:")


async def test_the_local_x_serves_the_recorded_shapes(tmp_path):
    async with XServer(seed=1, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        channel = channel_on(server, tmp_path)
        result = await channel.poll({})
        await channel.aclose()
        served = server.post(result.messages[-1].remote_id)
    for name in ("mentions", "search_recent", "users_tweets", "get_tweet"):
        body = recorded(name)["body"]
        post = body["data"][0] if isinstance(body["data"], list) else body["data"]
        assert set(post) <= set(served), name
