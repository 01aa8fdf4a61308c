"""The local Mastodon server, over real loopback HTTP, as a Mastodon client would see it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fakes import Clock

from ecoinbox.demo.mastodon.server import MastodonServer, countable_length

TOKEN = "test-token"
START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FILTERED_AUTHORS = {
    "helpmepls@new.example",
    "jeanne@petit.example",
    "bestdeals@spam.example",
    "cryptoking@spam.example",
}


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def server(clock: Clock) -> AsyncIterator[MastodonServer]:
    async with MastodonServer(token=TOKEN, now=clock) as running:
        yield running


@pytest.fixture
async def client(server: MastodonServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=5) as http:
        yield http


async def all_notifications(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Sync from the beginning with min_id until an empty page, as an inbox does."""
    found: list[dict[str, Any]] = []
    cursor = "0"
    while True:
        query = {**params, "min_id": cursor}
        page = (await client.get("/api/v1/notifications", params=query)).json()
        if not page:
            return found
        found.extend(reversed(page))
        cursor = page[0]["id"]


def expected_mentions(server: MastodonServer) -> list[dict[str, Any]]:
    """Statuses that notify the brand, derived from the threads alone: not the brand's own, and
    either mentioning it or replying to it."""
    statuses = {s["id"]: s for thread in server.threads() for s in thread}
    brand_id = next(s["account"]["id"] for s in statuses.values() if s["account"]["acct"] == "acme")
    return [
        s
        for s in statuses.values()
        if s["account"]["id"] != brand_id
        and (any(m["acct"] == "acme" for m in s["mentions"]) or s["in_reply_to_account_id"] == brand_id)
    ]


def customer_status(server: MastodonServer) -> dict[str, Any]:
    return next(t[0] for t in server.threads() if "order #48213" in t[0]["content"])


# -- auth and instance -----------------------------------------------------------------------


async def test_missing_or_wrong_token_gets_401_but_instance_is_public(
    server: MastodonServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        missing = await anonymous.get("/api/v1/notifications")
        wrong = await anonymous.get("/api/v1/notifications", headers={"Authorization": "Bearer nope"})
        instance = await anonymous.get("/api/v2/instance")
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json() == {"error": "The access token is invalid"}
    assert "X-RateLimit-Limit" not in wrong.headers
    assert instance.status_code == 200


async def test_instance_reports_version_limits_and_streaming(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v2/instance")).json()
    assert body["domain"] == "social.example"
    assert body["version"] == "4.3.2"
    assert body["configuration"]["statuses"] == {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    assert body["configuration"]["urls"]["streaming"].startswith("ws://127.0.0.1:")
    v1 = (await client.get("/api/v1/instance")).json()
    assert v1["configuration"]["statuses"]["max_characters"] == 500


async def test_verify_credentials_is_the_brand_account(client: httpx.AsyncClient) -> None:
    account = (await client.get("/api/v1/accounts/verify_credentials")).json()
    assert account["username"] == account["acct"] == "acme"
    assert account["url"] == "https://social.example/@acme"
    assert re.fullmatch(r"\d{18}", account["id"])


async def test_unknown_routes_are_404_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    assert (await client.get("/api/v1/statuses/123")).json() == {"error": "Record not found"}


# -- notifications ---------------------------------------------------------------------------


async def test_min_id_sync_returns_every_mention_once_in_order(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    pages: list[list[dict[str, Any]]] = []
    cursor = "0"
    while page := (
        await client.get(
            "/api/v1/notifications",
            params={"types[]": "mention", "include_filtered": "true", "limit": 30, "min_id": cursor},
        )
    ).json():
        pages.append(page)
        cursor = page[0]["id"]
    ids = [n["id"] for page in pages for n in reversed(page)]
    assert all(len(page) == 30 for page in pages[:-1])
    for page in pages:
        assert [n["id"] for n in page] == sorted((n["id"] for n in page), reverse=True)
    assert ids == sorted(ids, key=int) == sorted(ids)  # numeric and lexical order agree
    assert len(set(ids)) == len(ids)
    mentioned = sorted(n["status"]["id"] for page in pages for n in page)
    assert mentioned == sorted(s["id"] for s in expected_mentions(server))
    assert all(n["type"] == "mention" for page in pages for n in page)


async def test_filtered_mentions_are_listed_only_with_include_filtered(
    client: httpx.AsyncClient,
) -> None:
    everything = await all_notifications(client, include_filtered="true")
    default = await all_notifications(client)
    held = {n["id"] for n in everything} - {n["id"] for n in default}
    assert 0 < len(held) < len(everything)
    assert {n["account"]["acct"] for n in everything if n["id"] in held} <= FILTERED_AUTHORS
    assert {n["id"] for n in default} < {n["id"] for n in everything}


async def test_link_headers_walk_to_older_and_newer_pages(client: httpx.AsyncClient) -> None:
    params = {"types[]": "mention", "include_filtered": "true", "limit": 25}
    first = await client.get("/api/v1/notifications", params=params)
    older: list[str] = [n["id"] for n in first.json()]
    response = first
    while "next" in response.links:
        response = await client.get(response.links["next"]["url"])
        older.extend(n["id"] for n in response.json())
    assert response.json() == []  # the empty page past the oldest has no Link
    assert "link" not in response.headers
    assert older == sorted(older, reverse=True)
    assert len(older) == len(await all_notifications(client, include_filtered="true"))

    # From the oldest page, rel="prev" walks back up to the newest, keeping the other params.
    response = await client.get("/api/v1/notifications", params={**params, "min_id": "0"})
    newer = list(reversed([n["id"] for n in response.json()]))
    while response.json():
        prev = response.links["prev"]["url"]
        assert "include_filtered=true" in prev and "limit=25" in prev
        assert prev.startswith(str(client.base_url).rstrip("/") + "/api/v1/notifications?")
        response = await client.get(prev)
        newer.extend(reversed([n["id"] for n in response.json()]))
    assert newer == sorted(older)


async def test_since_id_gives_the_newest_page_and_min_id_the_next_page(
    client: httpx.AsyncClient,
) -> None:
    ids = [n["id"] for n in await all_notifications(client, include_filtered="true")]
    cursor = ids[10]
    query = {"include_filtered": "true", "limit": 5}
    since = (await client.get("/api/v1/notifications", params={**query, "since_id": cursor})).json()
    after = (await client.get("/api/v1/notifications", params={**query, "min_id": cursor})).json()
    before = (await client.get("/api/v1/notifications", params={**query, "max_id": cursor})).json()
    assert [n["id"] for n in since] == ids[-5:][::-1]
    assert [n["id"] for n in after] == ids[11:16][::-1]
    assert [n["id"] for n in before] == ids[5:10][::-1]


async def test_type_filters_and_limit_bounds(client: httpx.AsyncClient) -> None:
    follows = await client.get("/api/v1/notifications", params={"types[]": "follow"})
    assert follows.json() == [] and "link" not in follows.headers
    excluded = await client.get("/api/v1/notifications", params={"exclude_types[]": "mention"})
    assert excluded.json() == []
    assert len((await client.get("/api/v1/notifications")).json()) == 40
    many = await client.get("/api/v1/notifications", params={"limit": 500, "include_filtered": "true"})
    assert len(many.json()) == 80


async def test_notification_entities_have_mastodon_shape(client: httpx.AsyncClient) -> None:
    notification = (await client.get("/api/v1/notifications", params={"limit": 1})).json()[0]
    assert set(notification) >= {"id", "type", "created_at", "account", "status"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", notification["created_at"])
    status = notification["status"]
    for key in ("id", "created_at", "in_reply_to_id", "in_reply_to_account_id", "visibility",
                "language", "uri", "url", "content", "spoiler_text", "sensitive", "edited_at",
                "account", "mentions", "tags", "filtered"):  # fmt: skip
        assert key in status
    assert set(status["account"]) >= {"id", "username", "acct", "display_name", "url", "avatar"}
    assert any(m["acct"] == "acme" for m in status["mentions"]) or status["in_reply_to_id"]


# -- hashtag, search, threads ----------------------------------------------------------------


async def test_tag_timeline_is_case_insensitive_and_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/timelines/tag/ACME", params={"limit": 2})
    statuses = response.json()
    assert len(statuses) == 2
    assert all(any(t["name"] == "acme" for t in s["tags"]) for s in statuses)
    older = (await client.get(response.links["next"]["url"])).json()
    everything = statuses + older
    assert [s["id"] for s in everything] == sorted((s["id"] for s in everything), reverse=True)
    # Some are found only this way: they do not mention the brand.
    assert any(not any(m["acct"] == "acme" for m in s["mentions"]) for s in everything)
    assert "#<span>" in everything[0]["content"]


async def test_search_finds_keyword_posts_that_do_not_mention_the_brand(
    client: httpx.AsyncClient,
) -> None:
    query = {"q": "ACME", "type": "statuses", "limit": 40}
    body = (await client.get("/api/v2/search", params=query)).json()
    assert body["accounts"] == [] and body["hashtags"] == []
    statuses = body["statuses"]
    assert [s["id"] for s in statuses] == sorted((s["id"] for s in statuses), reverse=True)
    unmentioned = [s for s in statuses if not any(m["acct"] == "acme" for m in s["mentions"])]
    assert any("logging into acme" in s["content"] for s in unmentioned)
    query = {"q": "logging acme", "type": "statuses"}
    narrow = (await client.get("/api/v2/search", params=query)).json()
    assert len(narrow["statuses"]) == 1
    older = await client.get(
        "/api/v2/search", params={"q": "acme", "type": "statuses", "max_id": statuses[1]["id"]}
    )
    assert older.json()["statuses"][0]["id"] == statuses[2]["id"]
    accounts = await client.get("/api/v2/search", params={"q": "acme", "type": "accounts"})
    assert accounts.json()["statuses"] == []


async def test_context_gives_ancestors_oldest_first_and_descendants_in_thread_order(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    thread = next(t for t in server.threads() if len(t) == 12)
    middle = next(s for s in thread if s["in_reply_to_id"] and s["replies_count"])
    context = (await client.get(f"/api/v1/statuses/{middle['id']}/context")).json()
    chain = [s["id"] for s in context["ancestors"]]
    assert chain[0] == thread[0]["id"]
    assert chain[-1] == middle["in_reply_to_id"]
    root_context = (await client.get(f"/api/v1/statuses/{thread[0]['id']}/context")).json()
    assert root_context["ancestors"] == []
    assert [s["id"] for s in root_context["descendants"]] == [s["id"] for s in thread[1:]]
    # Thread order: every descendant comes after its parent.
    seen = {thread[0]["id"]}
    for status in root_context["descendants"]:
        assert status["in_reply_to_id"] in seen
        seen.add(status["id"])
    single = (await client.get(f"/api/v1/statuses/{middle['id']}")).json()
    assert single == middle
    missing = await client.get("/api/v1/statuses/999/context")
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}


# -- posting ---------------------------------------------------------------------------------


async def test_reply_by_form_and_by_json(server: MastodonServer, client: httpx.AsyncClient) -> None:
    parent = customer_status(server)
    before = [n["id"] for n in await all_notifications(client, include_filtered="true")]
    form = await client.post(
        "/api/v1/statuses",
        data={
            "status": "@zoe@remote.example we're on it",
            "in_reply_to_id": parent["id"],
            "visibility": "unlisted",
            "language": "en",
        },
    )
    as_json = await client.post(
        "/api/v1/statuses", json={"status": "Merci ! https://example.com/x", "language": "fr"}
    )
    assert form.status_code == as_json.status_code == 200
    reply = form.json()
    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == parent["account"]["id"]
    assert reply["account"]["acct"] == "acme"
    assert reply["visibility"] == "unlisted"
    assert reply["mentions"][0]["acct"] == "zoe@remote.example"
    assert (
        '<span class="h-card" translate="no"><a href="https://remote.example/@zoe" '
        'class="u-url mention">@<span>zoe</span></a></span> we&#39;re on it'
    ) in reply["content"]
    assert '<span class="invisible">https://</span>' in as_json.json()["content"]
    assert [(p.id, p.text, p.in_reply_to_id, p.visibility, p.language) for p in server.posted] == [
        (reply["id"], "@zoe@remote.example we're on it", parent["id"], "unlisted", "en"),
        (as_json.json()["id"], "Merci ! https://example.com/x", None, "public", "fr"),
    ]
    assert server.posted[0].json == reply
    posted = {p.id for p in server.posted}
    seeded = [s["id"] for t in server.threads() for s in t if s["id"] not in posted]
    assert min(posted) > max(seeded)  # new posts sort after the seeded day
    # The brand's own posts never notify the brand.
    assert [n["id"] for n in await all_notifications(client, include_filtered="true")] == before
    context = (await client.get(f"/api/v1/statuses/{parent['id']}/context")).json()
    assert reply["id"] in [s["id"] for s in context["descendants"]]


async def test_posting_validates_like_mastodon(server: MastodonServer, client: httpx.AsyncClient) -> None:
    blank = await client.post("/api/v1/statuses", data={"status": "   "})
    assert (blank.status_code, blank.json()) == (422, {"error": "Validation failed: Text can't be blank"})
    too_long = await client.post("/api/v1/statuses", json={"status": "x" * 501})
    assert (too_long.status_code, too_long.json()) == (
        422,
        {"error": "Validation failed: Text character limit of 500 exceeded"},
    )
    orphan = await client.post("/api/v1/statuses", json={"status": "hi", "in_reply_to_id": "42"})
    assert orphan.status_code == 404
    # A link counts as 23 characters whatever its length, a remote mention without its domain.
    long_url = "https://example.com/" + "a" * 600
    fits = await client.post(
        "/api/v1/statuses", json={"status": "@zoe@remote.example " + "y" * 450 + " " + long_url}
    )
    assert fits.status_code == 200
    visible = "example.com/" + "a" * 18  # 30 characters shown, the rest hidden
    elided = f'<span class="ellipsis">{visible}</span><span class="invisible">a'
    assert elided in fits.json()["content"]
    assert len(server.posted) == 1


def test_countable_length_counts_links_mentions_and_graphemes() -> None:
    assert countable_length("see https://example.com/" + "a" * 100) == 4 + 23
    assert countable_length("@zoe@remote.example hi") == len("@zoe hi")
    assert countable_length("e\u0301" * 3) == 3
    assert countable_length("👍🏽") == 1


async def test_idempotency_key_replays_for_an_hour(
    server: MastodonServer, client: httpx.AsyncClient, clock: Clock
) -> None:
    headers = {"Idempotency-Key": "reply-1"}
    first = await client.post("/api/v1/statuses", data={"status": "hello"}, headers=headers)
    clock.advance(minutes=59)
    again = await client.post("/api/v1/statuses", data={"status": "hello"}, headers=headers)
    assert again.json() == first.json()
    assert len(server.posted) == 1
    assert server.posted[0].idempotency_key == "reply-1"
    clock.advance(minutes=2)
    later = await client.post("/api/v1/statuses", data={"status": "hello"}, headers=headers)
    assert later.status_code == 200
    assert later.json()["id"] != first.json()["id"]
    assert len(server.posted) == 2


async def test_a_customer_reply_to_the_brand_notifies_it(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    seen = await all_notifications(client)
    sent = await client.post("/api/v1/statuses", data={"status": "@zoe@remote.example sorry!"})
    ours = sent.json()
    back = server.add_status(
        author="zoe@remote.example", text="thanks", in_reply_to_id=ours["id"], mention_brand=False
    )
    new = (await client.get("/api/v1/notifications", params={"min_id": seen[-1]["id"]})).json()
    assert [n["status"]["id"] for n in new] == [back["id"]]


async def test_tick_adds_a_new_mention_deterministically(clock: Clock) -> None:
    one, two = MastodonServer(now=clock), MastodonServer(now=clock)
    ticks = [one.tick() for _ in range(12)]
    assert ticks == [two.tick() for _ in range(12)]
    assert all(t["account"]["acct"] != "acme" for t in ticks)
    assert len({t["id"] for t in ticks}) == 12
    expected_ids = {s["id"] for s in expected_mentions(one)}
    assert {t["id"] for t in ticks} <= expected_ids
    assert any(t["in_reply_to_id"] for t in ticks) and any(not t["in_reply_to_id"] for t in ticks)


# -- rate limits and faults ------------------------------------------------------------------


async def test_rate_limit_headers_and_429_without_retry_after(clock: Clock) -> None:
    async with (
        MastodonServer(token=TOKEN, now=clock, seed=None, rate_limit=3) as server,
        httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        answers = [await client.get("/api/v1/notifications") for _ in range(4)]
        clock.advance(minutes=5)
        fresh = await client.get("/api/v1/notifications")
        server.exhaust_rate_limit()
        exhausted = await client.get("/api/v1/accounts/verify_credentials")
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.json() == {"error": "Too many requests"}
    assert "retry-after" not in limited.headers
    assert limited.headers["X-RateLimit-Limit"] == "3"
    reset = limited.headers["X-RateLimit-Reset"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", reset)
    assert datetime.fromisoformat(reset) == START + timedelta(minutes=5)
    assert fresh.status_code == 200 and fresh.headers["X-RateLimit-Remaining"] == "2"
    assert exhausted.status_code == 429


async def test_injected_errors_replace_the_answer_then_stop(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    server.inject("/api/v1/notifications", status=500, body='{"error":"boom"}')
    server.inject("/api/v1/timelines", status=503, headers={"Retry-After": "30"}, times=2)
    server.inject("/api/v2/search", status=200, body='{"statuses": [ {"id": ')
    assert (await client.get("/api/v1/notifications")).status_code == 500
    assert (await client.get("/api/v1/notifications")).status_code == 200
    throttled = [await client.get("/api/v1/timelines/tag/acme") for _ in range(3)]
    assert [r.status_code for r in throttled] == [503, 503, 200]
    assert throttled[0].headers["Retry-After"] == "30"
    malformed = await client.get("/api/v2/search", params={"q": "acme"})
    assert malformed.status_code == 200
    assert malformed.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    paths = [r.path for r in server.requests[-2:]]
    assert paths == ["/api/v1/timelines/tag/acme", "/api/v2/search"]


async def test_injected_delay_times_the_client_out_and_does_not_hold_stop(clock: Clock) -> None:
    server = MastodonServer(token=TOKEN, now=clock, seed=None)
    await server.start()
    server.inject("/api/v1/notifications", status=200, body="[]", delay=30)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=0.2
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/api/v1/notifications")
        assert (await client.get("/api/v1/notifications")).status_code == 200
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 2


async def test_after_handling_fault_lets_an_idempotent_retry_find_the_post(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    headers = {"Idempotency-Key": "k-42"}
    server.inject(
        "/api/v1/statuses", status=504, body="<html>Gateway Time-out</html>",
        headers={"Content-Type": "text/html"}, after_handling=True,
    )  # fmt: skip
    lost = await client.post("/api/v1/statuses", data={"status": "sent once"}, headers=headers)
    assert lost.status_code == 504
    assert len(server.posted) == 1
    retry = await client.post("/api/v1/statuses", data={"status": "sent once"}, headers=headers)
    assert retry.status_code == 200
    assert retry.json()["id"] == server.posted[0].id
    assert len(server.posted) == 1

    server.inject("/api/v1/statuses", status=200, delay=30, after_handling=True)
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/api/v1/statuses", data={"status": "timed out"}, timeout=0.2)
    assert [p.text for p in server.posted] == ["sent once", "timed out"]


async def test_requests_are_recorded_with_query_and_headers(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    await client.get("/api/v1/notifications", params=[("types[]", "mention"), ("limit", "5")])
    recorded = server.requests[-1]
    assert (recorded.method, recorded.path) == ("GET", "/api/v1/notifications")
    assert recorded.query == {"types[]": ["mention"], "limit": ["5"]}
    assert recorded.headers["authorization"] == f"Bearer {TOKEN}"


# -- OAuth -----------------------------------------------------------------------------------


async def test_oauth_out_of_band_flow_yields_the_token(server: MastodonServer) -> None:
    oob = "urn:ietf:wg:oauth:2.0:oob"
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        app = (
            await anonymous.post(
                "/api/v1/apps",
                data={
                    "client_name": "ecoinbox",
                    "redirect_uris": oob,
                    "scopes": "read write",
                    "website": "https://ecoinbox.example",
                },
            )
        ).json()
        assert set(app) >= {"id", "name", "client_id", "client_secret", "redirect_uri"}
        page = await anonymous.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": app["client_id"],
                "redirect_uri": oob,
                "scope": "read write",
            },
        )
        assert page.headers["Content-Type"].startswith("text/html")
        code = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page.text)
        assert code is not None
        grant = {"grant_type": "authorization_code", "code": code[1], "client_id": app["client_id"],
                 "client_secret": app["client_secret"], "redirect_uri": oob}  # fmt: skip
        token = await anonymous.post("/oauth/token", data=grant)
        reused = await anonymous.post("/oauth/token", data=grant)
        bad = await anonymous.post("/oauth/token", data={**grant, "code": "nope"})
    assert token.status_code == 200
    assert token.json()["access_token"] == TOKEN
    assert token.json()["token_type"] == "Bearer"
    assert token.json()["scope"] == "read write"
    assert reused.status_code == bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"


# -- the seeded day --------------------------------------------------------------------------


async def test_same_seed_serves_identical_notifications(clock: Clock) -> None:
    bodies = []
    for seed in (7, 7, 8):
        async with (
            MastodonServer(token=TOKEN, now=clock, seed=seed) as server,
            httpx.AsyncClient(
                base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as client,
        ):
            bodies.append(await all_notifications(client, include_filtered="true"))
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_seeded_day_is_realistic(clock: Clock) -> None:
    server = MastodonServer(now=clock)
    threads = server.threads()
    statuses = [s for t in threads for s in t]
    assert len(threads) >= 60
    assert all(1 <= len(t) <= 12 for t in threads)
    assert {1, 12} <= {len(t) for t in threads}
    assert {t[0]["language"] for t in threads} == {"en", "fr"}
    times = [datetime.fromisoformat(s["created_at"]) for s in statuses]
    assert START - timedelta(hours=24) <= min(times) and max(times) < START
    authors = {s["account"]["acct"] for s in statuses} - {"acme"}
    assert len(authors) >= 30
    assert any("@" in a for a in authors) and any("@" not in a for a in authors)
    # Threads where the brand answered and the customer came back.
    assert any(
        s["account"]["acct"] == t[0]["account"]["acct"]
        and any(p["account"]["acct"] == "acme" for p in t[: t.index(s)])
        for t in threads
        for s in t[1:]
    )
    contents = " ".join(s["content"] for s in statuses)
    names = " ".join(s["account"]["display_name"] for s in statuses)
    for hostile in ("\x1b]0;PWNED\x07", "\x1b[2J", "\x1b]52;c;ZXZpbA==\x07", "&#x1b;[31m",
                    "\u200b", "[bold red]"):  # fmt: skip
        assert hostile in contents
    for hostile in ("[ @click=app.quit]x[/]", "\u202e", "Асme Support"):
        assert hostile in names
    assert any(len(s["content"]) >= 5000 and "<br" not in s["content"] for s in statuses)
    assert any(s["spoiler_text"] for s in statuses)
    assert '<span class="ellipsis">' in contents and '<span class="invisible">https://' in contents
    assert any(s["visibility"] == "direct" for s in statuses)
    assert sum(1 for s in statuses if s["account"]["acct"] == "acme") >= 30


# --- habits of real servers -----------------------------------------------------------------


async def habit_server(clock: Clock, **habits: Any) -> MastodonServer:
    server = MastodonServer(seed=None, token=TOKEN, now=clock, **habits)
    await server.start()
    return server


def authed(server: MastodonServer) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=5)


async def test_a_server_that_ignores_the_idempotency_key_publishes_each_repeat(clock: Clock) -> None:
    server = await habit_server(clock, honours_idempotency_key=False)
    try:
        async with authed(server) as http:
            for _ in range(3):
                await http.post("/api/v1/statuses", json={"status": "hi"}, headers={"Idempotency-Key": "k"})
        assert len(server.posted) == 3 and len({p.id for p in server.posted}) == 3
    finally:
        await server.stop()


async def test_page_cap_shortens_pages_whatever_limit_asks(clock: Clock) -> None:
    server = await habit_server(clock, page_cap=40)
    try:
        for n in range(45):
            server.add_status(author=f"u{n}@remote.example", text=f"hello {n}")
        async with authed(server) as http:
            page = (await http.get("/api/v1/notifications", params={"limit": "80"})).json()
            assert len(page) == 40
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("status", "body"), [(401, "Unauthorized: token not supplied"), (400, "Invalid Bearer token")]
)
async def test_a_bad_token_is_refused_as_the_server_does(clock: Clock, status: int, body: str) -> None:
    server = await habit_server(clock, bad_token_status=status, bad_token_body=body)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
            answer = await http.get("/api/v1/notifications", headers={"Authorization": "Bearer wrong"})
        assert answer.status_code == status and answer.json() == {"error": body}
    finally:
        await server.stop()


async def test_drop_answer_after_post_publishes_then_hangs_up_n_times(clock: Clock) -> None:
    server = await habit_server(clock, drop_answer_after_post=1)
    try:
        async with authed(server) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post("/api/v1/statuses", json={"status": "one"})
            assert (await http.post("/api/v1/statuses", json={"status": "two"})).status_code == 200
        assert [p.text for p in server.posted] == ["one", "two"]
    finally:
        await server.stop()


async def test_edits_notify_deletions_are_gone_blocks_show_in_relationships(
    server: MastodonServer, client: httpx.AsyncClient
) -> None:
    made = server.add_status(author="zoe@remote.example", text="first")
    edited = server.edit_status(made["id"], "@acme second")
    assert edited["edited_at"] and "second" in edited["content"]
    kinds = [n["type"] for n in (await client.get("/api/v1/notifications", params={"limit": "2"})).json()]
    assert kinds == ["update", "mention"]
    only_mentions = await client.get("/api/v1/notifications", params={"types[]": "mention", "limit": "1"})
    assert only_mentions.json()[0]["type"] == "mention"

    zoe_id = made["account"]["id"]
    server.block_brand("zoe@remote.example")
    (relation,) = (await client.get("/api/v1/accounts/relationships", params={"id[]": zoe_id})).json()
    assert relation["id"] == zoe_id and relation["blocked_by"] is True and relation["blocking"] is False

    server.delete_status(made["id"])
    assert (await client.get(f"/api/v1/statuses/{made['id']}")).status_code == 404
    assert all(n["status"]["id"] != made["id"] for n in await all_notifications(client))


async def test_account_statuses_page_newest_first(server: MastodonServer, client: httpx.AsyncClient) -> None:
    brand_id = (await client.get("/api/v1/accounts/verify_credentials")).json()["id"]
    before = (await client.get(f"/api/v1/accounts/{brand_id}/statuses", params={"limit": "40"})).json()
    posted = (await client.post("/api/v1/statuses", json={"status": "newest"})).json()
    answer = await client.get(f"/api/v1/accounts/{brand_id}/statuses", params={"limit": "2"})
    assert answer.json()[0]["id"] == posted["id"]
    assert "max_id=" in answer.headers["Link"]
    assert len(before) <= 40


async def test_search_without_full_text_finds_no_status(clock: Clock) -> None:
    server = await habit_server(clock, full_text_search=False)
    try:
        server.add_status(author="max@other.example", text="refund please", mention_brand=False)
        async with authed(server) as http:
            found = (await http.get("/api/v2/search", params={"q": "refund", "type": "statuses"})).json()
        assert found["statuses"] == []
    finally:
        await server.stop()
