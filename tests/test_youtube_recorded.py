"""YouTube's documented answers (tests/data/youtube) read by the channel's parsers, and the local
server checked against the same shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ecoinbox.channels.base import PermanentError, RateLimited
from ecoinbox.channels.youtube import YouTubeChannel
from ecoinbox.channels.youtube.comments import comment_message, thread_comments
from ecoinbox.demo.youtube.server import API, BRAND_CHANNEL, DEMO_CLIENT_ID, YouTubeServer
from ecoinbox.model import Origin

DATA = Path(__file__).parent / "data" / "youtube"
SECRET = json.dumps(
    {"client_secret": "demo-youtube-client-secret", "refresh_token": "demo-youtube-refresh-token"}
)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_the_documented_thread_page_reads_as_messages() -> None:
    page = load("commentThreads_list.json")
    first, spam = page["items"]
    top, replies, total = thread_comments(first)
    message = comment_message(top, "youtube", BRAND_CHANNEL, thread=first["id"])
    assert (
        message.text == "Mine broke after a week & support won't answer\nOrder 7781"
    )  # textOriginal, unescaped
    assert message.author.handle == "alice" and message.author.label == "alice"
    assert message.edited_at == datetime(2026, 5, 1, 10, 5, tzinfo=UTC) and not message.held
    assert message.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAbCdEfGhIjKlMnOpQr4AaABAg"
    (reply,) = [comment_message(r, "youtube", BRAND_CHANNEL, thread=first["id"]) for r in replies]
    assert reply.in_reply_to == first["id"] and reply.origin is Origin.OURS
    assert total == 2 > len(replies)  # the rest come from comments.list
    held = comment_message(thread_comments(spam)[0], "youtube", BRAND_CHANNEL, thread=spam["id"])
    assert held.held and held.platform_verdict == "spam"


def keys(value: Any) -> Any:
    """The shape of a JSON value: its keys, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return type(value).__name__


@pytest.fixture
async def server():
    async with YouTubeServer(seed=None) as running:
        yield running


async def test_the_local_server_answers_in_the_documented_shapes(server: YouTubeServer) -> None:
    import httpx

    top = server.add_comment(author="alice", text="Mine broke", status="likelySpam")
    server.add_reply(parent=top, author="acme", text="Sorry")
    server.set_status(top, "published")
    server.add_comment(author="free_giftcards", text="FREE", status="likelySpam")
    server.add_comment(author="bob", text="Older", at=datetime(2026, 1, 1, tzinfo=UTC))
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        token = (await http.post("/token", data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                                  "client_secret": "demo-youtube-client-secret",
                                                  "refresh_token": "demo-youtube-refresh-token"})).json()  # fmt: skip
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        params = {"part": "snippet,replies", "allThreadsRelatedToChannelId": BRAND_CHANNEL, "maxResults": "1"}
        served = (await http.get(f"{API}/commentThreads", params=params, headers=auth)).json()
        held = (await http.get(f"{API}/commentThreads", params={**params, "moderationStatus": "likelySpam"},
                               headers=auth)).json()  # fmt: skip
    documented = load("commentThreads_list.json")
    assert set(served) == set(documented)
    assert keys(served["items"][0]) == keys(documented["items"][0])
    assert keys(held["items"][0]["snippet"]["topLevelComment"]) == keys(
        documented["items"][1]["snippet"]["topLevelComment"]
    )


async def test_the_documented_errors_are_said_in_words(server: YouTubeServer) -> None:
    channel = YouTubeChannel("youtube", server.base_url + API, SECRET, channel_id=BRAND_CHANNEL,
                             client_id=DEMO_CLIENT_ID, token_url=server.base_url + "/token")  # fmt: skip
    try:
        server.inject(
            f"{API}/commentThreads", status=403, body=(DATA / "error_quotaExceeded.json").read_bytes()
        )
        with pytest.raises(RateLimited) as quota:
            await channel.poll({})
        assert "daily quota is used up" in str(quota.value) and "00:00 Pacific" in str(quota.value)
        other = YouTubeChannel("youtube", server.base_url + API, SECRET, channel_id=BRAND_CHANNEL,
                               client_id=DEMO_CLIENT_ID, token_url=server.base_url + "/token")  # fmt: skip
        server.inject(
            f"{API}/commentThreads", status=403, body=(DATA / "error_commentsDisabled.json").read_bytes()
        )
        with pytest.raises(PermanentError) as disabled:
            await other.poll({})
        assert "comments are turned off on this video" in str(disabled.value)
        await other.aclose()
    finally:
        await channel.aclose()
