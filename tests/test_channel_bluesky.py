"""The Bluesky channel against the local PDS, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from configs import channel_toml, config_toml

import ecoinbox.channels.bluesky.reader as bluesky_reader
import ecoinbox.channels.bluesky.xrpc as bluesky_xrpc
from ecoinbox.channels.base import (
    AuthError,
    Channel,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.bluesky import (
    BlueskyChannel,
    bluesky_length,
    byte_index,
    count_graphemes,
    deletions,
    find_facets,
    record_key,
    session_scope,
    tid,
    tid_micros,
)
from ecoinbox.demo.bluesky.server import BlueskyServer
from ecoinbox.model import Message, Origin

PASSWORD = "abcd-efgh-ijkl-mnop"
BRAND = "acme.bsky.example"


# The local PDS with the habits of the servers the channel meets (see BlueskyServer's docstring).
HABITS: dict[str, dict[str, object]] = {
    # This repository's PDS as it always was: strict about reply refs, 400 for a taken key.
    "pds-default": {},
    # The real PDS: 500 InternalServerError for a taken record key, reply refs unchecked, and
    # (older versions) InvalidRequest "Could not locate record" from getRecord.
    "pds-real-habits": {
        "reused_rkey_status": 500,
        "checks_reply_refs": False,
        "record_not_found_error": "InvalidRequest",
    },
    # A PDS with an explicit conflict answer for a taken key.
    "pds-conflict-409": {"reused_rkey_status": 409},
}


@pytest.fixture(params=sorted(HABITS))
def habits(request: pytest.FixtureRequest) -> dict[str, object]:
    return HABITS[request.param]


@pytest.fixture
async def server(habits: dict[str, object]) -> AsyncIterator[BlueskyServer]:
    """An empty PDS (only the brand account): each test adds what it needs."""
    pds = BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, **habits)  # type: ignore[arg-type]
    async with pds as running:
        yield running


@pytest.fixture
async def seeded(habits: dict[str, object]) -> AsyncIterator[BlueskyServer]:
    pds = BlueskyServer(brand=BRAND, seed=1, app_password=PASSWORD, **habits)  # type: ignore[arg-type]
    async with pds as running:
        yield running


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., BlueskyChannel]]:
    channels: list[BlueskyChannel] = []

    def make(server: BlueskyServer, **kwargs: object) -> BlueskyChannel:
        kwargs.setdefault("handle", BRAND)
        password = str(kwargs.pop("password", PASSWORD))
        channel = BlueskyChannel("bsky", server.base_url, password, **kwargs)  # type: ignore[arg-type]
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def mention(server: BlueskyServer, who: str, text: str, **options: object) -> dict:
    return server.add_post(author=who, text=text, mention_brand=True, **options)  # type: ignore[arg-type]


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def queries(server: BlueskyServer, nsid: str) -> list[dict[str, list[str]]]:
    return [r.query for r in server.requests if r.path == f"/xrpc/{nsid}"]


# --- pure pieces ---------------------------------------------------------------------------


def test_tid_encodes_like_the_reference_codec() -> None:
    # Vectors from the atcute TID codec's documentation.
    assert tid(1724171495793000, 512) == "3l25zusnsfck2"
    assert tid_micros("3l25zusnsfctk") == 1724171495793000
    assert tid_micros("not-a-tid") is None and tid_micros("zzzzzzzzzzzzz") is None


def test_record_key_is_a_stable_tid_near_the_parent() -> None:
    parent = "at://did:plc:alice/app.bsky.feed.post/3l25zusnsfctk"
    key = record_key("outbox-key-1", parent)
    assert key == record_key("outbox-key-1", parent)  # every attempt names the same record
    assert key != record_key("outbox-key-2", parent)
    assert tid_micros(key) is not None
    offset = tid_micros(key) - 1724171495793000  # type: ignore[operator]
    assert 0 <= offset < 2**32  # within ~71 minutes after the parent
    # A parent whose key is not a TID still gives a valid, stable TID.
    odd = record_key("k", "at://did:plc:alice/app.bsky.feed.post/self")
    assert tid_micros(odd) is not None and odd == record_key(
        "k", "at://did:plc:alice/app.bsky.feed.post/self"
    )


def test_graphemes_and_bytes_are_counted_like_bluesky() -> None:
    assert count_graphemes("👩‍👩‍👧 🇫🇷 e\u0301") == 5  # a family, a space, a flag, a space, é
    assert bluesky_length("a" * 300) == 300
    assert bluesky_length("é" * 300) == 300  # 600 bytes: graphemes are the limit
    zalgo = "a" + "\u0301" * 20
    assert count_graphemes(zalgo * 10) == 10
    assert bluesky_length(zalgo * 10) == 41  # 410 bytes: the byte limit is nearer


def test_facets_are_utf8_byte_offsets_after_emoji_and_accents() -> None:
    text = "Très déçue 😞 @zoe.bsky.example (https://x.example/a). #acme #123 @nobody e@mail.example"
    spans = find_facets(text)
    assert [(s.kind, s.value) for s in spans] == [
        ("mention", "zoe.bsky.example"),
        ("link", "https://x.example/a"),
        ("tag", "acme"),
    ]
    data = text.encode("utf-8")
    for span, shown in zip(spans, ("@zoe.bsky.example", "https://x.example/a", "#acme"), strict=True):
        index = byte_index(text, span.start, span.end)
        assert data[index["byteStart"] : index["byteEnd"]].decode() == shown
    assert byte_index(text, spans[0].start, spans[0].end)["byteStart"] == len("Très déçue 😞 ".encode())


# --- protocol, identity, sessions ----------------------------------------------------------


async def test_is_a_channel_and_reports_what_it_can_do_without_a_request(server, connect) -> None:
    channel = connect(server, search_terms=("acme",))
    assert isinstance(channel, Channel)
    caps = await channel.capabilities()
    assert (caps.max_length, caps.length_counting) == (300, "graphemes")
    assert caps.reply and caps.search and caps.reconcile
    assert caps.idempotency_window == timedelta(hours=24)
    assert not server.requests
    assert channel.length("🌿" * 300) == 300 and channel.length("🌿" * 301) == 301
    assert channel.length("👩‍💻" * 300) == 330  # 3300 bytes: over the 3000-byte limit too


async def test_check_signs_in_once_and_says_who_we_are(server, connect) -> None:
    channel = connect(server)
    host = server.base_url.removeprefix("http://")
    said = await channel.check()
    assert said == f"@{BRAND} on {host} ({server.brand.did})"
    await channel.check()
    await channel.poll({})
    assert server.sessions_created == 1
    sent = json.dumps([dict(r.headers) for r in server.requests])
    assert PASSWORD not in sent.replace('"password"', "")  # only in the createSession body


async def test_an_expired_access_token_is_refreshed_not_recreated(server, connect) -> None:
    channel = connect(server)
    await channel.poll({})
    for round_number in (1, 2):  # the second refresh needs the rotated refresh token
        server.expire_access_tokens()
        mention(server, "zoe.bsky.example", f"hello {round_number}")
        await channel.poll({})
        assert server.sessions_refreshed == round_number
    assert server.sessions_created == 1


async def test_concurrent_calls_share_one_refresh(server, connect) -> None:
    channel = connect(server)
    await channel.check()
    server.expire_access_tokens()
    await asyncio.gather(channel.check(), channel.check(), channel.poll({}))
    assert (server.sessions_created, server.sessions_refreshed) == (1, 1)


async def test_a_refused_refresh_falls_back_to_one_new_session(server, connect) -> None:
    channel = connect(server)
    await channel.check()
    server.expire_access_tokens()
    server.expire_refresh_tokens()
    await channel.check()
    assert server.sessions_created == 2
    assert server.calls("com.atproto.server.refreshSession") == 1


async def test_a_wrong_password_is_an_auth_error_asked_once_and_never_shown(server, connect, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-pass-word-1234"
    channel = connect(server, password=wrong)
    for attempt in (channel.check, lambda: channel.poll({}), lambda: channel.context("at://x")):
        with pytest.raises(AuthError) as caught:
            await attempt()
        assert "ecoinbox auth bsky" in str(caught.value) and "app password" in str(caught.value)
        assert wrong not in str(caught.value) and wrong not in repr(caught.value)
    assert server.calls("com.atproto.server.createSession") == 1  # no loop on a refused password
    assert wrong not in repr(channel) and wrong not in caplog.text
    assert channel.set_token(PASSWORD) is True
    assert channel.set_token(PASSWORD) is False
    assert (await channel.check()).startswith(f"@{BRAND}")


async def test_check_refuses_a_password_of_another_account(server, connect) -> None:
    server.actor("other.bsky.example")
    with pytest.raises(AuthError):  # the PDS signs the handle in, not whoever the password is for
        await connect(server, handle="other.bsky.example").check()


async def test_an_empty_password_is_refused_before_any_request(server) -> None:
    with pytest.raises(AuthError, match="no app password for channel bsky"):
        BlueskyChannel("bsky", server.base_url, " \n", handle=BRAND)
    assert not server.requests


async def test_sign_in_is_rate_limited_by_the_pds_and_by_ourselves(server, connect) -> None:
    channel = connect(server)
    server._session_limits.exhaust(BRAND, datetime.now(UTC))
    with pytest.raises(RateLimited) as caught:
        await channel.check()
    assert caught.value.retry_at > datetime.now(UTC)
    # Our own budget: a session that keeps being refused is not recreated in a loop.
    ours = connect(server)
    ours._xrpc.sign_ins = [datetime.now(UTC)] * bluesky_xrpc.SESSION_BUDGET
    before = server.calls("com.atproto.server.createSession")
    with pytest.raises(RateLimited, match="signed in 10 times in 5 minutes"):
        await ours.check()
    assert server.calls("com.atproto.server.createSession") == before


# --- polling ----------------------------------------------------------------------------------


async def test_first_poll_brings_mentions_replies_and_quotes_then_nothing_twice(seeded, connect) -> None:
    channel = connect(seeded)
    first = await channel.poll({})
    by_text = {m.text.split("\n")[0]: m for m in first.messages}
    quote = next(m for m in first.messages if "[quoting:" in m.text)
    assert quote.author.handle == "zoe.bsky.example" and quote.in_reply_to is None
    # A handle is a domain the account proved it controls: a proof for contacts across channels.
    assert quote.author.proofs == ("https://bsky.app/profile/zoe.bsky.example", "https://zoe.bsky.example")
    assert any(link.startswith("https://bsky.app/profile/") for link in quote.links)
    reply = by_text["got it, thanks for the quick answer 🙏"]
    assert reply.in_reply_to is not None and reply.origin is Origin.MENTION
    french = next(m for m in first.messages if m.text.startswith("Très déçue"))
    assert french.language == "fr" and "[image: une tasse fendue en deux]" in french.text
    assert [m.created_at for m in first.messages] == sorted(m.created_at for m in first.messages)
    assert queries(seeded, "app.bsky.notification.listNotifications")[0]["reasons"] == [
        "mention",
        "reply",
        "quote",
    ]
    again = await channel.poll(first.cursor)
    assert again.messages == [] and again.cursor == first.cursor
    new = seeded.tick()
    later = await channel.poll(again.cursor)
    assert [m.remote_id for m in later.messages] == [new["uri"]]


async def test_a_restart_resumes_from_the_stored_cursor(server, connect) -> None:
    mention(server, "zoe.bsky.example", "one")
    first = await connect(server).poll({})
    stored = json.loads(json.dumps(first.cursor))  # as the store keeps it
    mention(server, "zoe.bsky.example", "two 🌿")
    restarted = await connect(server).poll(stored)
    assert texts(restarted.messages) == [f"@{BRAND} two 🌿"]


async def test_posts_at_the_same_instant_as_the_mark_are_neither_lost_nor_repeated(server, connect) -> None:
    at = datetime.now(UTC).replace(microsecond=123000)
    mention(server, "zoe.bsky.example", "first", indexed_at=at)
    channel = connect(server)
    first = await channel.poll({})
    mention(server, "priya.bsky.example", "same millisecond", indexed_at=at)
    second = await channel.poll(first.cursor)
    assert texts(second.messages) == [f"@{BRAND} same millisecond"]
    assert (await channel.poll(second.cursor)).messages == []


async def test_a_backlog_longer_than_a_poll_is_finished_later_without_gaps(
    server, connect, monkeypatch
) -> None:
    monkeypatch.setattr(bluesky_reader, "NOTIFICATIONS_PAGE", 4)
    monkeypatch.setattr(bluesky_reader, "MAX_PAGES", 2)
    channel = connect(server)
    mention(server, "zoe.bsky.example", "before")
    cursor = (await channel.poll({})).cursor
    start = datetime.now(UTC)
    for number in range(19):
        mention(server, "zoe.bsky.example", f"backlog {number}", indexed_at=start + timedelta(seconds=number))
    seen: list[str] = []
    for _ in range(3):
        result = await channel.poll(cursor)
        seen += texts(result.messages)
        cursor = result.cursor
    mention(server, "zoe.bsky.example", "after the backlog", indexed_at=start + timedelta(minutes=5))
    for _ in range(2):
        result = await channel.poll(cursor)
        seen += texts(result.messages)
        cursor = result.cursor
    expected = [f"@{BRAND} backlog {n}" for n in range(19)] + [f"@{BRAND} after the backlog"]
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)


async def test_notifications_the_inbox_does_not_want_are_left_out(connect) -> None:
    async with BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, honour_reasons=False) as server:
        own = server.add_post(author=BRAND, text="new mugs in the shop ☕")
        server.like(own["uri"], "zoe.bsky.example")
        mention(server, "marcus.bsky.example", "question")
        result = await connect(server).poll({})
        assert texts(result.messages) == [f"@{BRAND} question"]


async def test_search_and_hashtags_listen_with_their_own_cursors(server, connect) -> None:
    server.add_post(author="mo.bsky.example", text="loving the acme dark mode 🐈")
    server.add_post(author="lea.bsky.example", text="nouvelle tasse #Acme ☕")
    channel = connect(server, search_terms=("acme",), hashtags=("#acme",))
    first = await channel.poll({})
    origins = {m.text: m.origin for m in first.messages}
    assert origins["loving the acme dark mode 🐈"] is Origin.SEARCH
    assert origins["nouvelle tasse #Acme ☕"] is Origin.SEARCH  # the search saw it first
    assert set(first.cursor) == {"notifications", "search:acme", "tag:acme"}
    tag_queries = [q for q in queries(server, "app.bsky.feed.searchPosts") if "tag" in q]
    assert tag_queries[0]["tag"] == ["acme"] and tag_queries[0]["q"] == ["#acme"]
    server.add_post(author="lea.bsky.example", text="encore une #acme")
    second = await channel.poll(first.cursor)
    assert [(m.text, m.origin) for m in second.messages] == [("encore une #acme", Origin.SEARCH)]
    assert all("since" in q for q in queries(server, "app.bsky.feed.searchPosts")[-2:])


async def test_a_refused_search_is_skipped_and_the_mentions_still_come(server, connect) -> None:
    mention(server, "zoe.bsky.example", "hi")
    channel = connect(server, search_terms=("acme",))
    server.inject("/xrpc/app.bsky.feed.searchPosts", status=400,
                  body='{"error":"InvalidRequest","message":"search is disabled here"}')  # fmt: skip
    result = await channel.poll({})
    assert texts(result.messages) == [f"@{BRAND} hi"]
    assert "search:acme" not in result.cursor
    await channel.poll(result.cursor)
    assert len(queries(server, "app.bsky.feed.searchPosts")) == 1  # not asked again


async def test_server_errors_and_malformed_pages_are_transient(server, connect) -> None:
    channel = connect(server)
    await channel.check()
    server.inject("/xrpc/app.bsky.notification.listNotifications", status=502,
                  body='{"error":"UpstreamFailure","message":"appview down"}')  # fmt: skip
    with pytest.raises(TransientError, match="502"):
        await channel.poll({})
    server.inject("/xrpc/app.bsky.notification.listNotifications", status=200, body="{not json")
    with pytest.raises(TransientError, match="malformed"):
        await channel.poll({})
    server.inject("/xrpc/app.bsky.notification.listNotifications", status=200, body='{"notifications": {}}')
    with pytest.raises(TransientError, match="malformed"):
        await channel.poll({})


async def test_a_429_pauses_the_host_until_its_reset(server, connect) -> None:
    channel = connect(server)
    await channel.check()
    server.exhaust_rate_limit()
    with pytest.raises(RateLimited) as caught:
        await channel.poll({})
    window_end = datetime.fromtimestamp(datetime.now(UTC).timestamp() // 300 * 300 + 300, UTC)
    assert abs((caught.value.retry_at - window_end).total_seconds()) <= 2
    calls = len(server.requests)
    with pytest.raises(RateLimited):
        await channel.poll({})
    assert len(server.requests) == calls  # paused: no request until the window resets


async def test_broken_and_hostile_items_are_skipped_or_defused(server, connect) -> None:
    mention(server, "zoe.bsky.example", "a real one")
    now = datetime.now(UTC)
    server.add_raw_notification({"uri": "at://did:plc:x/app.bsky.feed.post/3k", "reason": "mention"}, now)
    server.add_raw_notification({"uri": "at://did:plc:x/app.bsky.feed.post/3j", "reason": "mention",
                                 "indexedAt": "yesterday"}, now)  # fmt: skip
    server.add_raw_notification({"uri": 42, "reason": "mention", "indexedAt": "2026-01-01T00:00:00Z"}, now)
    server.add_raw_notification({"uri": "at://did:plc:x/app.bsky.feed.post/3i", "reason": "mention",
                                 "indexedAt": "2026-01-01T00:00:00Z", "author": {"did": "did:plc:x"},
                                 "record": {"text": "bad facets 😞", "createdAt": "2099-01-01T00:00:00Z",
                                            "facets": [{"index": {"byteStart": 12, "byteEnd": 13},
                                                        "features": [{"$type": "app.bsky.richtext.facet#link",
                                                                      "uri": "https://cut.example"}]},
                                                       {"index": {"byteStart": 5, "byteEnd": 999},
                                                        "features": [{"$type": "app.bsky.richtext.facet#link",
                                                                      "uri": "javascript:alert(1)"}]}]}},
                                now)  # fmt: skip
    text = f"@{BRAND} the help page acme.example/help \x1b]0;pwned\x07 is down\u202e"
    start = text.encode().index(b"acme.example/help")
    server.add_post(author="glitch.bsky.example", text=text, facets=[
        {"index": {"byteStart": 0, "byteEnd": len(BRAND) + 1},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": server.brand.did}]},
        {"index": {"byteStart": start, "byteEnd": start + len(b"acme.example/help")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/phish"}]}])  # fmt: skip
    result = await connect(server).poll({})
    by_author = {m.author.handle: m for m in result.messages}
    assert set(by_author) == {"zoe.bsky.example", "did:plc:x", "glitch.bsky.example"}
    odd = by_author["did:plc:x"]
    assert odd.created_at == datetime(2026, 1, 1, tzinfo=UTC)  # a future createdAt does not win
    assert odd.text.startswith("bad facets")
    hostile = by_author["glitch.bsky.example"]
    assert "\x1b" not in hostile.text and "\u202e" not in hostile.text and hostile.hidden_characters
    assert "acme.example/help (https://evil.example/phish)" in hostile.text
    assert hostile.links == ("https://evil.example/phish",)


# --- threads ----------------------------------------------------------------------------------


async def test_context_gives_ancestors_the_post_and_its_replies_oldest_first(server, connect) -> None:
    root = mention(server, "marcus.bsky.example", "order late 😩")
    answer = server.add_post(author=BRAND, text="Checking!", reply_to=root["uri"])
    back = server.add_post(author="marcus.bsky.example", text="thanks 🙏", reply_to=answer["uri"])
    server.add_post(author="zoe.bsky.example", text="same here", reply_to=back["uri"])
    thread = await connect(server).context(back["uri"])
    assert texts(thread) == [f"@{BRAND} order late 😩", "Checking!", "thanks 🙏", "same here"]
    assert [m.origin for m in thread] == [Origin.CONTEXT, Origin.OURS, Origin.CONTEXT, Origin.CONTEXT]
    assert thread[2].in_reply_to == answer["uri"] and thread[2].thread_ref == root["uri"]
    assert (
        thread[2].url == f"https://bsky.app/profile/marcus.bsky.example/post/{back['uri'].rsplit('/', 1)[1]}"
    )


async def test_context_of_a_deleted_post_is_empty(server, connect) -> None:
    assert await connect(server).context(f"at://{server.brand.did}/app.bsky.feed.post/3kgone22222aa") == []


# --- replying ---------------------------------------------------------------------------------


async def _polled(server: BlueskyServer, channel: BlueskyChannel, uri: str) -> Message:
    for message in (await channel.poll({})).messages:
        if message.remote_id == uri:
            return message
    return next(m for m in await channel.context(uri) if m.remote_id == uri)


async def test_a_reply_carries_root_and_parent_refs_and_byte_offset_facets(server, connect) -> None:
    root = mention(server, "marcus.bsky.example", "order late 😩")
    answer = server.add_post(author=BRAND, text="Checking!", reply_to=root["uri"])
    back = server.add_post(
        author="lea.bsky.example", text="toujours rien 😞", reply_to=answer["uri"], langs=("fr",)
    )
    channel = connect(server)
    parent = await _polled(server, channel, back["uri"])
    text = "Désolée Léa 😞🙏 @lea.bsky.example regardez https://acme.example/suivi #acme @ghost.example"
    sent = await channel.reply(parent, text, "outbox-1")
    (created,) = server.created
    record = created.record
    assert record["reply"]["parent"] == {"uri": back["uri"], "cid": back["cid"]}
    assert record["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert record["langs"] == ["fr"] and created.rkey == record_key("outbox-1", back["uri"])
    data = text.encode()
    shown = {f["features"][0]["$type"].rsplit("#", 1)[1]: data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
             for f in record["facets"]}  # fmt: skip
    assert shown == {"mention": "@lea.bsky.example", "link": "https://acme.example/suivi", "tag": "#acme"}
    mentioned = next(f for f in record["facets"] if f["features"][0]["$type"].endswith("#mention"))
    assert mentioned["features"][0]["did"] == server.actor("lea.bsky.example").did
    assert sent.remote_id == created.uri and sent.is_ours and sent.in_reply_to == back["uri"]
    assert sent.text == text and sent.thread_ref == root["uri"]


async def test_a_resend_with_the_same_key_returns_the_first_post(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    first = await channel.reply(parent, "Hello Zoe 🌿", "same-key")
    again = await channel.reply(parent, "Hello Zoe 🌿", "same-key")  # the PDS refuses the taken key
    assert again.remote_id == first.remote_id and len(server.created) == 1
    assert server.calls("com.atproto.repo.createRecord") == 2
    other = await channel.reply(parent, "Hello Zoe 🌿", "another-key")  # another reply, same words
    assert other.remote_id != first.remote_id and len(server.created) == 2


async def test_an_answer_lost_after_the_post_landed_is_read_back_not_resent(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server, timeout=0.5)
    parent = await _polled(server, channel, post["uri"])
    server.inject("/xrpc/com.atproto.repo.createRecord", status=504, after_handling=True)
    sent = await channel.reply(parent, "Hello after a 504", "k-504")
    server.inject("/xrpc/com.atproto.repo.createRecord", status=200, delay=2.0, after_handling=True)
    late = await channel.reply(parent, "Hello after a timeout", "k-timeout")
    assert [c.uri for c in server.created] == [sent.remote_id, late.remote_id]


async def test_an_uncertain_send_that_cannot_be_checked_is_settled_by_the_resend(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server, timeout=0.5)
    parent = await _polled(server, channel, post["uri"])
    server.inject("/xrpc/com.atproto.repo.createRecord", status=200, delay=2.0, after_handling=True)
    server.inject("/xrpc/com.atproto.repo.getRecord", status=503, times=1,
                  body='{"error":"InternalServerError","message":"busy"}')  # fmt: skip
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "Hello, maybe", "k-unsure")
    # The outbox resends under the same key: the post is found, not doubled.
    resent = await channel.reply(parent, "Hello, maybe", "k-unsure")
    assert [c.uri for c in server.created] == [resent.remote_id]


async def test_refusals_are_permanent_and_publish_nothing(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    with pytest.raises(PermanentError, match="300 graphemes"):
        await channel.reply(parent, "🌿" * 301, "k-long")
    gone = Message(channel="bsky", remote_id=f"at://{server.brand.did}/app.bsky.feed.post/3kgone22222aa",
                   author=parent.author, text="", created_at=parent.created_at)  # fmt: skip
    with pytest.raises(PermanentError, match="deleted"):
        await channel.reply(gone, "hello?", "k-gone")
    assert server.created == []


async def test_find_sent_reconciles_by_reading_the_thread(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    since = datetime.now(UTC)
    sent = await channel.reply(parent, "Found me?", "k-find")
    found = await channel.find_sent(parent, "Found me?", "", since)
    assert found is not None and found.remote_id == sent.remote_id
    assert await channel.find_sent(parent, "Another text", "", since) is None
    assert await channel.find_sent(parent, "Found me?", "", since + timedelta(hours=1)) is None
    assert channel.reply_prefix(parent) == ""


# --- config and `ecoinbox auth` ---------------------------------------------------------------


def test_config_requires_the_handle_of_a_bluesky_channel() -> None:
    from ecoinbox.config import ConfigError, parse_config

    block = config_toml(channel_toml(kind="bluesky", name="bsky", base_url="https://bsky.social"))
    with pytest.raises(
        ConfigError, match=r"channels\[0\]\.account: missing \(Bluesky signs in with the handle"
    ):
        parse_config(block)
    with pytest.raises(ConfigError, match="not an auth mode of bluesky"):
        parse_config(block + 'account = "acme.bsky.social"\nauth = "oauth"\n')
    channel = parse_config(block + 'account = "acme.bsky.social"\nhashtags = ["#acme"]\n').channels[0]
    assert (channel.kind, channel.account, channel.auth, channel.hashtags) == (
        "bluesky",
        "acme.bsky.social",
        "app_password",
        ("acme",),
    )


def test_auth_checks_the_app_password_before_storing_it(
    tmp_path, capsys, monkeypatch, isolated_environment
) -> None:
    from test_cli import server_in_a_thread, write_config

    from ecoinbox.cli import main
    from ecoinbox.secrets import KEYRING_SERVICE, Secret

    with server_in_a_thread(BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD)) as server:
        path = write_config(
            tmp_path, channel_toml(kind="bluesky", name="bsky", base_url=server.base_url, account=BRAND)
        )
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret("wrong-wrong-wrong-wrong"))
        assert main(["--config", str(path), "auth", "bsky"]) == 1
        refused = capsys.readouterr()
        assert "not stored:" in refused.err and "refused to sign channel bsky in" in refused.err
        assert "wrong-wrong" not in refused.out + refused.err
        assert (KEYRING_SERVICE, "bsky") not in isolated_environment.passwords
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret(PASSWORD + "\n"))
        assert main(["--config", str(path), "auth", "bsky"]) == 0
    assert isolated_environment.passwords[(KEYRING_SERVICE, "bsky")].strip() == PASSWORD
    out = capsys.readouterr().out
    assert "App passwords" in out and f"Signed in as @{BRAND}" in out and PASSWORD not in out


# --- what real servers do (issue 12) -----------------------------------------------------------

MAIN_PASSWORD = "the-account-main-password"


async def test_a_reply_under_a_threadgate_is_refused_before_sending(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "my order?")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    server.gate_replies(post["uri"])
    with pytest.raises(
        PermanentError, match=r"^@zoe\.bsky\.example turned replies off on this post: not sent$"
    ):
        await channel.reply(parent, "Hello Zoe", "k-gated")
    assert server.created == [] and server.calls("com.atproto.repo.createRecord") == 0


async def test_a_threadgate_on_the_root_closes_the_whole_thread_but_not_to_its_author(
    server, connect
) -> None:
    root = server.add_post(author="marcus.bsky.example", text="What do you think of acme?")
    inner = mention(server, "zoe.bsky.example", "ask them", reply_to=root["uri"])
    ours = server.add_post(author=BRAND, text="Our announcement")
    under_ours = mention(server, "priya.bsky.example", "love it", reply_to=ours["uri"])
    channel = connect(server)
    parent = await _polled(server, channel, inner["uri"])
    server.gate_replies(root["uri"])
    server.gate_replies(ours["uri"])
    with pytest.raises(PermanentError, match=r"@marcus\.bsky\.example turned replies off"):
        await channel.reply(parent, "Hello Zoe", "k-gated-thread")
    # The brand's own thread: a gate keeps others out, never its author.
    own_thread = await _polled(server, channel, under_ours["uri"])
    sent = await channel.reply(own_thread, "Thanks Priya!", "k-own-thread")
    assert [c.uri for c in server.created] == [sent.remote_id]


async def test_a_reply_that_landed_before_the_gate_is_returned_not_refused(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    first = await channel.reply(parent, "Hello Zoe", "k-before-gate")
    server.gate_replies(post["uri"])
    again = await channel.reply(parent, "Hello Zoe", "k-before-gate")  # an uncertain send resent
    assert again.remote_id == first.remote_id and len(server.created) == 1


@pytest.mark.parametrize(
    ("parent_langs", "text", "expected"),
    [
        (("fr",), "Thank you for your patience, your parcel left our warehouse this morning.", ["en"]),
        (("en",), "Merci beaucoup, votre colis est parti de notre entrepôt ce matin.", ["fr"]),
        (("fr",), "👍🙏", None),  # nothing to tell a language from: no langs, not the parent's
    ],
)
async def test_a_reply_is_tagged_with_its_own_language(server, connect, parent_langs, text, expected) -> None:
    post = mention(server, "lea.bsky.example", "un message", langs=parent_langs)
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    sent = await channel.reply(parent, text, "k-lang")
    (created,) = server.created
    assert created.record.get("langs") == expected
    assert sent.language == (expected[0] if expected else None)


def test_session_scope_reads_the_access_jwt_claim() -> None:
    def jwt(claims: object) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJIUzI1NiJ9.{payload}.c2lnbmF0dXJl"

    assert session_scope(jwt({"scope": "com.atproto.appPass", "sub": "did:plc:x"})) == "com.atproto.appPass"
    assert session_scope(jwt({"scope": "com.atproto.access"})) == "com.atproto.access"
    assert session_scope(jwt(["not", "claims"])) is None
    assert session_scope("opaque-token") is None and session_scope("a.%%%.c") is None


async def test_the_main_password_is_refused_and_its_session_ended(habits, connect, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, account_password=MAIN_PASSWORD,
                             **habits) as server:  # type: ignore[arg-type]  # fmt: skip
        channel = connect(server, password=MAIN_PASSWORD)
        for attempt in (channel.check, lambda: channel.poll({})):
            with pytest.raises(AuthError) as caught:
                await attempt()
            said = str(caught.value)
            assert "main password of @acme.bsky.example, not an app password" in said
            assert "App passwords" in said and "ecoinbox auth bsky" in said and MAIN_PASSWORD not in said
        assert server.sessions_created == 1 and server.sessions_deleted == 1  # signed out at once
        assert server.calls("app.bsky.notification.listNotifications") == 0
        assert MAIN_PASSWORD not in caplog.text
        # An app password of the same account works.
        assert channel.set_token(PASSWORD) is True
        assert (await channel.check()).startswith(f"@{BRAND}")


async def test_a_reply_to_a_deleted_post_is_refused_and_the_next_poll_marks_it_deleted(
    server, connect
) -> None:
    post = mention(server, "zoe.bsky.example", "my order is late")
    channel = connect(server)
    first = await channel.poll({})
    parent = next(m for m in first.messages if m.remote_id == post["uri"])
    server.delete_post(post["uri"])
    with pytest.raises(
        PermanentError, match=r"@zoe\.bsky\.example deleted the post this replies to: not sent"
    ):
        await channel.reply(parent, "Hello Zoe", "k-deleted")
    assert server.created == []
    for _ in range(deletions.DELETION_POLLS):  # again on the next polls, should a store have missed one
        marked = (await channel.poll(first.cursor)).messages
        assert [(m.remote_id, m.deleted, m.author) for m in marked] == [(post["uri"], True, parent.author)]
    assert (await channel.poll(first.cursor)).messages == []


async def test_a_post_hidden_from_the_brand_is_refused_but_not_marked_deleted(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    first = await channel.poll({})
    parent = first.messages[0]
    server.inject("/xrpc/app.bsky.feed.getPosts", status=200, body='{"posts": []}')  # blocked, taken down
    with pytest.raises(PermanentError, match="hides the post this replies to"):
        await channel.reply(parent, "Hello Zoe", "k-hidden")
    assert (await channel.poll(first.cursor)).messages == [] and post["uri"] == parent.remote_id


async def test_a_parent_deleted_while_the_reply_goes_out_is_marked_deleted(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    first = await channel.poll({})
    parent = first.messages[0]
    # What a PDS that checks reply refs answers when the parent went between getPosts and the send.
    refusal = {"error": "InvalidRequest", "message": f"Could not locate record: {post['uri']}"}
    server.inject("/xrpc/com.atproto.repo.createRecord", status=400, body=json.dumps(refusal))
    with pytest.raises(PermanentError, match="deleted the post this replies to"):
        await channel.reply(parent, "Hello Zoe", "k-race")
    marked = (await channel.poll(first.cursor)).messages
    assert [(m.remote_id, m.deleted) for m in marked] == [(post["uri"], True)]


async def test_find_sent_on_a_deleted_parent_marks_it_deleted(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    first = await channel.poll({})
    server.delete_post(post["uri"])
    assert await channel.find_sent(first.messages[0], "Hello", "", datetime.now(UTC)) is None
    marked = (await channel.poll(first.cursor)).messages
    assert [(m.remote_id, m.deleted) for m in marked] == [(post["uri"], True)]


async def test_a_reused_record_key_never_publishes_twice_nor_fails_the_reply(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server, timeout=0.5)
    parent = await _polled(server, channel, post["uri"])
    # The first attempt lands but its answer is lost; the resend meets the taken key (400, 409 or
    # the real PDS's 500) and reads the post back.
    server.inject("/xrpc/com.atproto.repo.createRecord", status=200, delay=2.0, after_handling=True)
    server.inject("/xrpc/com.atproto.repo.getRecord", status=503, times=1,
                  body='{"error":"InternalServerError","message":"busy"}')  # fmt: skip
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "Hello once", "k-once")
    resent = await channel.reply(parent, "Hello once", "k-once")
    assert [c.uri for c in server.created] == [resent.remote_id]
    assert server.calls("com.atproto.repo.createRecord") == 2


async def test_a_server_error_before_anything_landed_stays_uncertain_not_failed(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    parent = await _polled(server, channel, post["uri"])
    server.inject("/xrpc/com.atproto.repo.createRecord", status=500,
                  body='{"error":"InternalServerError","message":"Internal Server Error"}')  # fmt: skip
    with pytest.raises(UncertainSend):  # read back: not there (whatever name getRecord gives that)
        await channel.reply(parent, "Hello", "k-crash")
    sent = await channel.reply(parent, "Hello", "k-crash")
    assert [c.uri for c in server.created] == [sent.remote_id]


async def test_capabilities_state_the_safeguards(server, connect) -> None:
    caps = await connect(server).capabilities()
    said = " ".join(caps.safeguards)
    for words in ("500", "record key", "threadgate", "main password", "deleted"):
        assert words in said
    assert not server.requests


def test_auth_refuses_the_main_password_and_stores_nothing(
    tmp_path, capsys, monkeypatch, isolated_environment
) -> None:
    from test_cli import server_in_a_thread, write_config

    from ecoinbox.cli import main
    from ecoinbox.secrets import KEYRING_SERVICE, Secret

    pds = BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, account_password=MAIN_PASSWORD)
    with server_in_a_thread(pds) as server:
        path = write_config(
            tmp_path, channel_toml(kind="bluesky", name="bsky", base_url=server.base_url, account=BRAND)
        )
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret(MAIN_PASSWORD))
        assert main(["--config", str(path), "auth", "bsky"]) == 1
    refused = capsys.readouterr()
    assert "not stored:" in refused.err and "main password of @acme.bsky.example" in refused.err
    assert "App passwords" in refused.err and MAIN_PASSWORD not in refused.out + refused.err
    assert (KEYRING_SERVICE, "bsky") not in isolated_environment.passwords
    assert server.sessions_deleted == 1


async def test_the_store_marks_a_deleted_post_deleted_and_keeps_its_author(server, connect, tmp_path) -> None:
    from ecoinbox.store import open_store

    post = mention(server, "zoe.bsky.example", "my order is late", display_name="Zoe 🌿")
    channel = connect(server)
    store = await open_store(tmp_path / "inbox.db")
    try:
        first = await channel.poll({})
        await store.ingest(first.messages, cursor=("bsky", first.cursor))
        parent = await store.message("bsky", post["uri"])
        assert parent is not None and not parent.deleted
        server.delete_post(post["uri"])
        with pytest.raises(PermanentError, match="deleted the post"):
            await channel.reply(parent, "Hello Zoe", "k-store")
        second = await channel.poll(await store.cursor("bsky"))
        await store.ingest(second.messages, cursor=("bsky", second.cursor))
        stored = await store.message("bsky", post["uri"])
        assert stored is not None and stored.deleted
        assert (stored.author.handle, stored.author.display_name) == ("zoe.bsky.example", "Zoe 🌿")
    finally:
        await store.close()


async def test_a_pds_without_app_passwords_can_be_allowed_the_main_password(habits, connect) -> None:
    from ecoinbox.config import parse_config

    bluesky = channel_toml(
        kind="bluesky", name="bsky", base_url="https://pds.example", account="acme.example"
    )
    settings = parse_config(config_toml(bluesky + 'auth = "account_password"\n')).channels[0]
    assert settings.auth == "account_password"
    async with BlueskyServer(brand=BRAND, seed=None, app_password=PASSWORD, account_password=MAIN_PASSWORD,
                             **habits) as server:  # type: ignore[arg-type]  # fmt: skip
        channel = connect(server, password=MAIN_PASSWORD, account_password=True)
        said = (await channel.check()).splitlines()
        assert said[0].startswith(f"@{BRAND} on ") and "main password (full access)" in said[1]
        assert server.sessions_deleted == 0
        assert (await connect(server).check()).count("\n") == 0  # an app password: no warning


async def test_a_missing_parent_that_cannot_be_checked_is_retried_not_failed(server, connect) -> None:
    post = mention(server, "zoe.bsky.example", "hi")
    channel = connect(server)
    first = await channel.poll({})
    server.inject("/xrpc/app.bsky.feed.getPosts", status=200, body='{"posts": []}')
    server.inject("/xrpc/com.atproto.repo.getRecord", status=502,
                  body='{"error":"UpstreamFailure","message":"down"}')  # fmt: skip
    with pytest.raises(
        TransientError, match="checking whether the post this replies to was deleted"
    ) as caught:
        await channel.reply(first.messages[0], "Hello", "k-unsure-parent")
    assert not isinstance(caught.value, PermanentError) and server.created == []
    assert (await channel.poll(first.cursor)).messages == [] and post["uri"] == first.messages[0].remote_id


async def test_find_deleted_checks_stored_posts_in_batches(server, connect, monkeypatch) -> None:
    monkeypatch.setattr(deletions, "GET_POSTS_LIMIT", 2)
    posts = [mention(server, "zoe.bsky.example", f"question {n}") for n in range(5)]
    channel = connect(server)
    stored = sorted((await channel.poll({})).messages, key=lambda m: m.text)
    server.delete_post(posts[1]["uri"])
    server.delete_post(posts[4]["uri"])
    # The first batch (posts 0 and 1): the AppView leaves both out, post 0 hidden (a block, a
    # takedown) but not deleted.
    server.inject("/xrpc/app.bsky.feed.getPosts", status=200, body='{"posts": []}')
    hidden = posts[0]["uri"]
    gone = await channel.find_deleted(stored)
    assert sorted(m.remote_id for m in gone) == sorted([posts[1]["uri"], posts[4]["uri"]])
    assert all(m.deleted and m.author.handle == "zoe.bsky.example" for m in gone)
    assert hidden not in [m.remote_id for m in gone]
    assert server.calls("app.bsky.feed.getPosts") == 3  # 5 posts, 2 a request
