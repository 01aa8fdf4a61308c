"""The local Discourse server, over real loopback HTTP, as a Discourse client would see it."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fakes import Clock

from ecoinbox.demo.discourse.markup import cook, slugify
from ecoinbox.demo.discourse.seed import HELP_TOPICS
from ecoinbox.demo.discourse.server import DiscourseServer

API_KEY = "test-api-key"
USER_API_KEY = "test-user-api-key"
BRAND = "acme_team"
START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ADMIN = {"Api-Key": API_KEY, "Api-Username": BRAND}
USER = {"User-Api-Key": USER_API_KEY}
A_BODY = "Thanks for reporting this, we are looking into it right now."


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def make_server(clock: Clock, **options: Any) -> DiscourseServer:
    """A generous rate limit unless a test asks otherwise: tests walk whole listings."""
    settings: dict[str, Any] = {"rate_limit": 10_000, "user_key_rate_limit": 10_000, **options}
    return DiscourseServer(api_key=API_KEY, user_api_key=USER_API_KEY, now=clock, **settings)


@pytest.fixture
async def server(clock: Clock) -> AsyncIterator[DiscourseServer]:
    async with make_server(clock) as running:
        yield running


@pytest.fixture
async def client(server: DiscourseServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=ADMIN, timeout=5) as http:
        yield http


@pytest.fixture
async def anonymous(server: DiscourseServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
        yield http


async def all_notifications(client: httpx.AsyncClient, limit: int = 60) -> list[dict[str, Any]]:
    """Follow `load_more_notifications` until an empty page, as an inbox catching up does."""
    found: list[dict[str, Any]] = []
    url = f"/notifications.json?limit={limit}"
    while True:
        body = (await client.get(url)).json()
        if not body["notifications"]:
            return found
        found.extend(body["notifications"])
        path, _, query = body["load_more_notifications"].partition("?")
        url = f"{path}.json?{query}"


async def all_latest_posts(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while page := (await client.get("/posts.json", params=params)).json()["latest_posts"]:
        found.extend(page)
        params = {"before": page[-1]["id"]}
    return found


async def create(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await client.post("/posts.json", json=fields)


# -- auth ------------------------------------------------------------------------------------


async def test_admin_key_acts_as_api_username_and_user_key_as_the_brand(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    brand = (await client.get("/session/current.json")).json()["current_user"]
    assert (brand["username"], brand["admin"], brand["moderator"]) == (BRAND, True, True)
    assert isinstance(brand["id"], int)
    member = await client.get("/session/current.json", headers={"Api-Username": "HANA"})
    assert member.json()["current_user"]["username"] == "hana"
    assert member.json()["current_user"]["admin"] is False
    async with httpx.AsyncClient(base_url=server.base_url, headers=USER) as user_client:
        via_user_key = (await user_client.get("/session/current.json")).json()["current_user"]
    assert via_user_key["username"] == BRAND


async def test_bad_keys_get_403_everywhere_and_anonymous_only_the_public_routes(
    anonymous: httpx.AsyncClient,
) -> None:
    wrong_admin = await anonymous.get("/site.json", headers={**ADMIN, "Api-Key": "nope"})
    unknown_user = await anonymous.get("/notifications.json", headers={**ADMIN, "Api-Username": "ghost"})
    wrong_user_key = await anonymous.get("/categories.json", headers={"User-Api-Key": "nope"})
    assert wrong_admin.status_code == unknown_user.status_code == wrong_user_key.status_code == 403
    assert (
        wrong_admin.json()
        == unknown_user.json()
        == {
            "errors": [
                "You are not permitted to view the requested resource. The API username or key is invalid."
            ],
            "error_type": "invalid_access",
        }
    )
    assert wrong_user_key.json() == {
        "errors": ["You are not permitted to view the requested resource."],
        "error_type": "invalid_access",
    }
    refused = await anonymous.get("/notifications.json")
    assert refused.json() == {
        "errors": ["You need to be logged in to do that."],
        "error_type": "not_logged_in",
    }
    refused_post = await anonymous.post("/posts.json", json={"topic_id": 1, "raw": A_BODY})
    assert refused_post.status_code == 403
    assert (await anonymous.get("/session/current.json")).status_code == 404
    for path in (
        "/site.json",
        "/about.json",
        "/categories.json",
        "/posts.json",
        "/t/1.json",
        "/t/how-to-track-your-order/1.json",
        "/posts/1.json",
        "/search.json?q=order",
    ):
        assert (await anonymous.get(path)).status_code == 200, path


async def test_unknown_routes_and_records_are_404_json(client: httpx.AsyncClient) -> None:
    not_found = {
        "errors": ["The requested URL or resource could not be found."],
        "error_type": "not_found",
    }
    for path in ("/nothing/here.json", "/t/999.json", "/posts/99999.json", "/t/999/posts.json"):
        response = await client.get(path)
        assert (response.status_code, response.json()) == (404, not_found), path
    assert (await client.delete("/posts.json")).status_code == 404


# -- site and categories ---------------------------------------------------------------------


async def test_categories_and_site(anonymous: httpx.AsyncClient) -> None:
    listing = (await anonymous.get("/categories.json")).json()["category_list"]["categories"]
    by_slug = {c["slug"]: c for c in listing}
    assert {"support", "feedback", "entraide", "announcements", "uncategorized"} <= set(by_slug)
    assert by_slug["support"]["name"] == "Support"
    assert "membres francophones" in by_slug["entraide"]["description_text"]
    assert all(isinstance(c["id"], int) and c["topic_count"] >= 0 for c in listing)
    assert by_slug["support"]["topic_count"] >= 10
    site = (await anonymous.get("/site.json")).json()
    assert [c["slug"] for c in site["categories"]] == [c["slug"] for c in listing]
    assert site["notification_types"]["mentioned"] == 1
    assert site["notification_types"]["watching_first_post"] == 17
    about = (await anonymous.get("/about.json")).json()["about"]
    assert about["title"] == "Acme Community"
    assert BRAND in [admin["username"] for admin in about["admins"]]


# -- notifications ---------------------------------------------------------------------------


async def test_notifications_are_the_brands_newest_first_with_discourse_types(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/notifications.json")).json()
    first = body["notifications"]
    assert len(first) == min(60, body["total_rows_notifications"])
    assert body["load_more_notifications"] == f"/notifications?limit=60&offset=60&username={BRAND}"
    stamps = [n["created_at"] for n in first]
    assert stamps == sorted(stamps, reverse=True)
    notification = first[0]
    assert set(notification) >= {
        "id",
        "notification_type",
        "read",
        "created_at",
        "post_number",
        "topic_id",
        "slug",
        "fancy_title",
        "data",
    }
    assert set(notification["data"]) >= {
        "original_post_id",
        "original_username",
        "display_username",
        "topic_title",
    }
    everything = await all_notifications(client)
    assert {n["notification_type"] for n in everything} >= {1, 2, 3, 9, 17}
    for n in everything:
        post = (await client.get(f"/posts/{n['data']['original_post_id']}.json")).json()
        assert (post["topic_id"], post["post_number"]) == (n["topic_id"], n["post_number"])
        assert post["username"] == n["data"]["original_username"] != BRAND
        if n["notification_type"] == 1:
            assert f"@{BRAND}" in post["raw"]
        if n["notification_type"] == 2:
            assert post["reply_to_user"]["username"] == BRAND
        if n["notification_type"] == 3:
            assert f'[quote="{BRAND},' in post["raw"]
        if n["notification_type"] == 17:
            assert post["post_number"] == 1


async def test_notification_offset_paging_has_no_gap_or_duplicate(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    for _ in range(30):  # more than one page of 60
        server.tick()
    whole = await all_notifications(client)
    paged = await all_notifications(client, limit=25)
    total = (await client.get("/notifications.json")).json()["total_rows_notifications"]
    assert total > 60
    assert [n["id"] for n in paged] == [n["id"] for n in whole]
    assert len({n["id"] for n in whole}) == len(whole) == total
    past_the_end = await client.get("/notifications.json", params={"offset": total})
    assert past_the_end.json()["notifications"] == []


async def test_new_mentions_replies_and_watched_topics_notify_the_brand(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    before = {n["id"] for n in await all_notifications(client)}
    ours = (
        await create(client, title="Welcome to the new forum home", raw=A_BODY, category="announcements")
    ).json()
    await create(client, topic_id=ours["topic_id"], raw="A follow-up from us, nothing to see here.")
    watched = server.add_post(
        topic_id=ours["topic_id"], author="bob_builds", raw="Congrats on the new forum, looks great!"
    )
    replied = server.add_post(
        topic_id=ours["topic_id"], author="kate_b", raw="Thanks for this!", reply_to_post_number=1
    )
    mentioned = server.add_topic(
        author="nina_w",
        title="Quick question about gift cards",
        raw="Do gift cards expire?",
        category="feedback",
        mention_brand=True,
    )
    unrelated = server.add_topic(
        author="nina_w",
        title="Anyone tried the new kettle yet?",
        raw="Thinking of buying one.",
        category="feedback",
    )
    new = [n for n in await all_notifications(client) if n["id"] not in before]
    assert [(n["data"]["original_post_id"], n["notification_type"]) for n in new] == [
        (mentioned["post_id"], 1),
        (replied["post_id"], 2),
        (watched["post_id"], 9),
    ]
    assert unrelated["post_id"] not in {n["data"]["original_post_id"] for n in new}


async def test_mark_read(client: httpx.AsyncClient) -> None:
    newest = (await client.get("/notifications.json")).json()["notifications"][0]
    assert newest["read"] is False
    assert (await client.put("/notifications/mark-read.json", json={"id": newest["id"]})).json() == {
        "success": "OK"
    }
    unread = (await client.get("/notifications.json", params={"filter": "unread"})).json()
    assert newest["id"] not in [n["id"] for n in unread["notifications"]]
    assert "filter=unread" in unread["load_more_notifications"]


# -- latest posts ----------------------------------------------------------------------------


async def test_latest_posts_page_back_with_before_without_gap_or_duplicate(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    first = (await client.get("/posts.json")).json()["latest_posts"]
    assert len(first) == 50
    walked = await all_latest_posts(client)
    ids = [p["id"] for p in walked]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    streams = [(await client.get(f"/t/{t}.json")).json()["post_stream"]["stream"] for t in server.topic_ids()]
    assert sorted(ids) == sorted(i for stream in streams for i in stream)
    # Ids grow with time: a cursor on the highest id never misses an older post.
    stamps = [p["created_at"] for p in walked]
    assert stamps == sorted(stamps, reverse=True)
    post = walked[0]
    assert {
        "id",
        "raw",
        "cooked",
        "topic_id",
        "topic_slug",
        "topic_title",
        "post_number",
        "username",
        "category_id",
        "reply_to_post_number",
        "created_at",
    } <= set(post)
    # A new post lands on top; paging from the old cursor does not repeat it.
    new = server.tick()
    again = (await client.get("/posts.json")).json()["latest_posts"]
    assert again[0]["id"] == new["id"] > ids[0]
    older = (await client.get("/posts.json", params={"before": ids[0]})).json()["latest_posts"]
    assert older[0]["id"] == ids[1]


# -- search ----------------------------------------------------------------------------------


async def test_search_words_prefixes_and_accents(client: httpx.AsyncClient) -> None:
    body = (await client.get("/search.json", params={"q": "csv export"})).json()
    topic_ids = [p["topic_id"] for p in body["posts"]]
    assert 2 in topic_ids  # "Export your data to CSV"
    assert [t["id"] for t in body["topics"]] == topic_ids
    assert len(set(topic_ids)) == len(topic_ids)  # one post per topic, as Discourse aggregates
    assert all("blurb" in p and isinstance(p["id"], int) for p in body["posts"])
    assert body["grouped_search_result"]["post_ids"] == [p["id"] for p in body["posts"]]
    refunds = (await client.get("/search.json", params={"q": "refund"})).json()
    assert 3 in [p["topic_id"] for p in refunds["posts"]]  # "refund" finds "Refunds"
    accents = (await client.get("/search.json", params={"q": "cafe"})).json()
    assert [p["topic_id"] for p in accents["posts"]]  # "Café" in the French CSV topic
    too_short = (await client.get("/search.json", params={"q": "ab"})).json()
    assert too_short["posts"] == []
    assert too_short["grouped_search_result"]["error"] == "Your search term is too short."


async def test_search_order_latest_and_after(client: httpx.AsyncClient) -> None:
    q = "crash order:latest"
    body = (await client.get("/search.json", params={"q": q})).json()
    stamps = [p["created_at"] for p in body["posts"]]
    assert stamps == sorted(stamps, reverse=True)
    known_issue = next(p for p in body["posts"] if p["topic_id"] == 6)
    assert known_issue["post_number"] > 1  # the newest matching post of the topic
    recent = (START - timedelta(days=3)).strftime("%Y-%m-%d")
    after = (await client.get("/search.json", params={"q": f"order after:{recent} order:latest"})).json()
    cutoff = datetime.strptime(recent, "%Y-%m-%d").replace(tzinfo=UTC)
    assert after["posts"]
    assert all(datetime.fromisoformat(p["created_at"]) > cutoff for p in after["posts"])
    french = (await client.get("/search.json", params={"q": "commande #entraide"})).json()
    assert french["topics"] and {t["category_id"] for t in french["topics"]} == {5}
    by_user = (await client.get("/search.json", params={"q": "@hana in:first"})).json()
    assert by_user["posts"] == []  # hana answers, she never opened a topic


async def test_search_pages_by_fifty(server: DiscourseServer, client: httpx.AsyncClient) -> None:
    for n in range(55):
        server.add_topic(
            author="bob_builds",
            title=f"Zebra pattern lamp number {n}",
            raw="Looking for the zebra lamp in stock again.",
        )
    first = (await client.get("/search.json", params={"q": "zebra"})).json()
    second = (await client.get("/search.json", params={"q": "zebra", "page": 2})).json()
    assert len(first["posts"]) == 50 and first["grouped_search_result"]["more_full_page_results"]
    assert len(second["posts"]) == 5 and second["grouped_search_result"]["more_full_page_results"] is None
    assert not {p["id"] for p in first["posts"]} & {p["id"] for p in second["posts"]}


# -- topics ----------------------------------------------------------------------------------


async def test_a_long_topic_gives_twenty_posts_then_the_rest_by_post_ids(
    client: httpx.AsyncClient,
) -> None:
    topic = (await client.get("/t/6.json")).json()
    stream = topic["post_stream"]["stream"]
    first = topic["post_stream"]["posts"]
    assert topic["posts_count"] == len(stream) > 20
    assert [p["id"] for p in first] == stream[:20]
    assert [p["post_number"] for p in first] == list(range(1, 21))
    assert topic["slug"] == "known-issue-app-crash-on-settings-screen"
    assert topic["chunk_size"] == 20 and "raw" not in first[0]
    rest = await client.get("/t/6/posts.json", params=[("post_ids[]", i) for i in stream[20:]])
    assert rest.json()["id"] == 6
    assert [p["id"] for p in rest.json()["post_stream"]["posts"]] == stream[20:]
    by_slug = (await client.get("/t/any-slug/6.json", params={"include_raw": 1})).json()
    assert by_slug["id"] == 6 and "raw" in by_slug["post_stream"]["posts"][0]
    replying = next(p for p in first if p["reply_to_post_number"])
    assert replying["reply_to_user"]["username"] == first[replying["reply_to_post_number"] - 1]["username"]
    one = (await client.get(f"/posts/{stream[3]}.json")).json()
    assert one["id"] == stream[3] and one["raw"] and one["cooked"].startswith("<p>")
    replies = (await client.get(f"/posts/{stream[13]}/replies.json")).json()
    assert {p["reply_to_post_number"] for p in replies} == {14}


# -- posting ---------------------------------------------------------------------------------


async def test_create_a_topic_then_reply_by_json_and_by_form(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    created = await create(client, title="How do I reset my Acme password?", raw=A_BODY, category=3)
    assert created.status_code == 200
    topic_post = created.json()
    assert topic_post["post_number"] == 1 and topic_post["yours"] is True
    assert topic_post["topic_slug"] == "how-do-i-reset-my-acme-password"
    topic_id = topic_post["topic_id"]
    assert server.topic_url(topic_id) == f"{server.base_url}/t/how-do-i-reset-my-acme-password/{topic_id}"
    form = {
        "topic_id": str(topic_id),
        "raw": "A reply sent as a form, to @hana.",
        "reply_to_post_number": "1",
    }
    by_form = await client.post("/posts.json", data=form)
    assert by_form.status_code == 200
    reply = by_form.json()
    assert (reply["topic_id"], reply["post_number"], reply["reply_to_post_number"]) == (topic_id, 2, 1)
    assert '<a class="mention" href="/u/hana">@hana</a>' in reply["cooked"]
    async with httpx.AsyncClient(base_url=server.base_url, headers=USER) as user_client:
        via_user_key = await user_client.post("/posts.json", json={"topic_id": 1, "raw": A_BODY})
    assert via_user_key.json()["username"] == BRAND
    posted = [
        (p.topic_id, p.post_number, p.title, p.category, p.reply_to_post_number, p.username)
        for p in server.posted
    ]
    assert posted == [
        (topic_id, 1, "How do I reset my Acme password?", "support", None, BRAND),
        (topic_id, 2, None, None, 1, BRAND),
        (1, via_user_key.json()["post_number"], None, None, None, BRAND),
    ]
    assert server.posted[0].json == topic_post and server.posted[0].id == topic_post["id"]
    topic = (await client.get(f"/t/{topic_id}.json")).json()
    assert topic["post_stream"]["stream"] == [topic_post["id"], reply["id"]]
    assert topic["category_id"] == 3


async def test_posting_validates_like_discourse(server: DiscourseServer, client: httpx.AsyncClient) -> None:
    async def errors(**fields: Any) -> tuple[int, Any]:
        response = await create(client, **fields)
        return response.status_code, response.json()

    assert await errors(title="Too short", raw=A_BODY) == (
        422,
        {"action": "create_post", "errors": ["Title is too short (minimum is 15 characters)"]},
    )
    assert await errors(topic_id=1, raw="too short") == (
        422,
        {"action": "create_post", "errors": ["Body is too short (minimum is 20 characters)"]},
    )
    assert (await errors(topic_id=1, raw="   "))[1]["errors"] == ["Body can't be blank"]
    assert (await errors(title="How to track your order", raw=A_BODY))[1]["errors"] == [
        "Title has already been used"
    ]
    assert (await errors(title="A perfectly fine title", raw=A_BODY, category=99))[1]["errors"] == [
        "Category not found"
    ]
    status, body = await errors(topic_id=99999, raw=A_BODY)
    assert status == 422 and body["errors"][0].startswith("Something has gone wrong.")
    assert (await errors(title="A" * 256, raw=A_BODY))[1]["errors"] == [
        "Title is too long (maximum is 255 characters)"
    ]
    assert server.posted == []


async def test_staff_may_post_the_same_body_twice_but_members_may_not(
    server: DiscourseServer, client: httpx.AsyncClient, clock: Clock
) -> None:
    once = await create(client, topic_id=1, raw=A_BODY)
    twice = await create(client, topic_id=1, raw=A_BODY)
    assert once.status_code == twice.status_code == 200
    assert once.json()["id"] != twice.json()["id"]  # a blind resend by the brand lands twice
    assert [p.raw for p in server.posted] == [A_BODY, A_BODY]
    member = {"Api-Username": "hana"}
    first = await client.post("/posts.json", json={"topic_id": 2, "raw": A_BODY}, headers=member)
    again = await client.post("/posts.json", json={"topic_id": 3, "raw": A_BODY}, headers=member)
    assert first.status_code == 200 and first.json()["username"] == "hana"
    assert (again.status_code, again.json()) == (
        422,
        {"action": "create_post", "errors": ["Body is too similar to what you recently posted"]},
    )
    clock.advance(minutes=5)
    later = await client.post("/posts.json", json={"topic_id": 3, "raw": A_BODY}, headers=member)
    assert later.status_code == 200


async def test_optional_memo_replays_identical_admin_posts_like_real_discourse(clock: Clock) -> None:
    async with (
        make_server(clock, seed=None, api_post_memo_secs=120) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        topic = (await create(client, title="Memo test topic title", raw=A_BODY)).json()
        reply = {"topic_id": topic["topic_id"], "raw": "The same reply, sent twice in a row."}
        first = (await create(client, **reply)).json()
        clock.advance(seconds=119)
        assert (await create(client, **reply)).json() == first
        clock.advance(seconds=2)
        assert (await create(client, **reply)).json()["id"] != first["id"]
        async with httpx.AsyncClient(base_url=server.base_url, headers=USER) as user_client:
            sent = [(await user_client.post("/posts.json", json=reply)).json() for _ in range(2)]
    assert sent[0]["id"] != sent[1]["id"]  # user API keys are never memoized
    assert len(server.posted) == 5


# -- rate limits and faults ------------------------------------------------------------------


async def test_admin_key_rate_limit_429_with_retry_after_and_error_code(clock: Clock) -> None:
    async with (
        make_server(clock, seed=None, rate_limit=3, rate_window=60) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        answers = []
        for _ in range(4):
            answers.append(await client.get("/session/current.json"))
            clock.advance(seconds=5)
        bad = await client.get("/session/current.json", headers={"Api-Key": "nope"})
        clock.advance(seconds=41)  # t=61 s: the request made at 0 s has left the window
        fresh = await client.get("/session/current.json")
        refused_again = await client.get("/session/current.json")
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["Retry-After"] == "45"
    assert limited.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
    assert limited.json() == {
        "errors": [
            "You’ve performed this action too many times. Please wait 45 seconds before trying again."
        ],
        "error_type": "rate_limit",
        "extras": {"wait_seconds": 45, "time_left": "45 seconds"},
    }
    assert bad.status_code == 403
    assert fresh.status_code == 200
    assert refused_again.status_code == 429  # a sliding window: 5 s, 10 s and 61 s are in it


async def test_user_key_rate_limit_is_per_minute(clock: Clock) -> None:
    async with make_server(clock, seed=None, user_key_rate_limit=2) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=USER) as client:
            answers = [await client.get("/notifications.json") for _ in range(3)]
            clock.advance(seconds=60)
            fresh = await client.get("/notifications.json")
            server.exhaust_rate_limit(user_api_key=True)
            exhausted = await client.get("/site.json")
        async with httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as admin:
            unaffected = await admin.get("/site.json")
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[-1].headers["Discourse-Rate-Limit-Error-Code"] == "user_api_key_limiter_60_secs"
    assert answers[-1].headers["Retry-After"] == "60"
    assert answers[-1].json()["extras"]["wait_seconds"] == 60
    assert fresh.status_code == 200
    assert exhausted.status_code == 429
    assert unaffected.status_code == 200


async def test_injected_errors_replace_the_answer_then_stop(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    server.inject(
        "/notifications.json",
        status=502,
        body="<html>Bad Gateway</html>",
        headers={"Content-Type": "text/html"},
    )
    server.inject("/posts.json", status=429, headers={"Retry-After": "7"}, times=2)
    server.inject("/search.json", status=200, body='{"posts": [ {"id": ')
    gateway = await client.get("/notifications.json")
    assert (gateway.status_code, gateway.headers["Content-Type"]) == (502, "text/html")
    assert (await client.get("/notifications.json")).status_code == 200
    throttled = [await client.get("/posts.json") for _ in range(3)]
    assert [r.status_code for r in throttled] == [429, 429, 200]
    assert throttled[0].headers["Retry-After"] == "7"
    malformed = await client.get("/search.json", params={"q": "order"})
    with pytest.raises(json.JSONDecodeError):
        malformed.json()


async def test_after_handling_the_post_exists_and_a_blind_resend_duplicates_it(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    server.inject(
        "/posts.json",
        status=504,
        body="<html>Gateway Time-out</html>",
        headers={"Content-Type": "text/html"},
        after_handling=True,
    )
    lost = await create(client, topic_id=1, raw=A_BODY)
    assert lost.status_code == 504
    assert len(server.posted) == 1
    # What a careful client does before resending: look for its own post.
    latest = (await client.get("/posts.json")).json()["latest_posts"][0]
    assert (latest["id"], latest["raw"], latest["yours"]) == (server.posted[0].id, A_BODY, True)
    resent = await create(client, topic_id=1, raw=A_BODY)
    assert resent.status_code == 200
    assert len(server.posted) == 2  # no idempotency on Discourse: the resend is a second post

    server.inject("/posts.json", status=200, delay=30, after_handling=True)
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/posts.json", json={"topic_id": 1, "raw": "Timed out, but posted."}, timeout=0.2)
    assert server.posted[-1].raw == "Timed out, but posted."


async def test_injected_delay_does_not_hold_stop(clock: Clock) -> None:
    server = make_server(clock, seed=None)
    await server.start()
    server.inject("/site.json", delay=30)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/site.json")
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 2


async def test_requests_are_recorded_with_query_and_headers(
    server: DiscourseServer, client: httpx.AsyncClient
) -> None:
    await client.get("/t/6/posts.json", params=[("post_ids[]", "1"), ("post_ids[]", "2")])
    recorded = server.requests[-1]
    assert (recorded.method, recorded.path) == ("GET", "/t/6/posts.json")
    assert recorded.query == {"post_ids[]": ["1", "2"]}
    assert recorded.headers["api-key"] == API_KEY and recorded.headers["API-USERNAME"] == BRAND


# -- user API keys ---------------------------------------------------------------------------


def _key_request(public_pem: str, **extra: str) -> dict[str, str]:
    return {
        "application_name": "ecoinbox",
        "client_id": "3f1c9a52-ecoinbox",
        "scopes": "read,write,notifications",
        "public_key": public_pem,
        "nonce": "n-0123456789abcdef",
        **extra,
    }


@pytest.fixture(scope="module")
def key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public_pem.decode()


async def test_user_api_key_no_redirect_flow_shows_an_encrypted_payload(
    anonymous: httpx.AsyncClient, key_pair: tuple[rsa.RSAPrivateKey, str]
) -> None:
    private, public_pem = key_pair
    page = await anonymous.get("/user-api-key/new", params=_key_request(public_pem))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    found = re.search(r'<code id="user-api-key-payload">([^<]+)</code>', page.text)
    assert found is not None
    assert "\n" in found[1].strip()  # Ruby's Base64.encode64 wraps at 60 characters
    encrypted = base64.b64decode("".join(found[1].split()))
    payload = json.loads(private.decrypt(encrypted, padding.PKCS1v15()))
    assert payload == {"key": USER_API_KEY, "nonce": "n-0123456789abcdef", "push": False, "api": 4}
    user_client = {"User-Api-Key": payload["key"], "User-Api-Client-Id": "3f1c9a52-ecoinbox"}
    me = await anonymous.get("/session/current.json", headers=user_client)
    assert me.json()["current_user"]["username"] == BRAND
    assert (await anonymous.post("/user-api-key/revoke", headers=user_client)).json() == {"success": "OK"}
    assert (await anonymous.get("/session/current.json", headers=user_client)).status_code == 403
    await anonymous.get("/user-api-key/new", params=_key_request(public_pem))  # authorize again
    assert (await anonymous.get("/session/current.json", headers=user_client)).status_code == 200


async def test_user_api_key_page_checks_its_parameters(
    anonymous: httpx.AsyncClient, key_pair: tuple[rsa.RSAPrivateKey, str]
) -> None:
    private, public_pem = key_pair
    missing = _key_request(public_pem)
    del missing["nonce"]
    assert (await anonymous.get("/user-api-key/new", params=missing)).status_code == 400
    bad_scope = _key_request(public_pem, scopes="read,admin")
    assert (await anonymous.get("/user-api-key/new", params=bad_scope)).status_code == 403
    bad_key = _key_request("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    assert (await anonymous.get("/user-api-key/new", params=bad_key)).status_code == 400
    head = await anonymous.head("/user-api-key/new")
    assert head.headers["Auth-Api-Version"] == "4"
    redirect = _key_request(public_pem, auth_redirect="discourse://auth_redirect", padding="oaep")
    answer = await anonymous.get("/user-api-key/new", params=redirect)
    assert answer.status_code == 302
    payload = httpx.URL(answer.headers["Location"]).params["payload"]
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert json.loads(private.decrypt(base64.b64decode(payload), oaep))["key"] == USER_API_KEY
    elsewhere = _key_request(public_pem, auth_redirect="https://evil.example/steal")
    assert (await anonymous.get("/user-api-key/new", params=elsewhere)).status_code == 403


# -- the seeded forum ------------------------------------------------------------------------


async def test_canonical_help_topics_have_stable_ids_and_slugs(clock: Clock) -> None:
    for seed in (1, 2):
        async with (
            make_server(clock, seed=seed) as server,
            httpx.AsyncClient(base_url=server.base_url) as client,
        ):
            for help_topic in HELP_TOPICS:
                topic = (await client.get(f"/t/{help_topic.topic_id}.json")).json()
                assert (topic["title"], topic["slug"]) == (help_topic.title, help_topic.slug)
                assert topic["details"]["created_by"]["username"] == BRAND
                assert server.topic_url(help_topic.topic_id).endswith(help_topic.path)
    assert [h.title for h in HELP_TOPICS] == [
        "How to track your order",
        "Export your data to CSV",
        "Refunds and returns policy",
        "Suivre votre commande",
        "Remboursements et retours",
        "Known issue: app crash on settings screen",
    ]


async def test_same_seed_serves_the_same_forum(clock: Clock) -> None:
    bodies = []
    for seed in (7, 7, 8):
        async with (
            make_server(clock, seed=seed) as server,
            httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
        ):
            bodies.append((await all_notifications(client), await all_latest_posts(client)))
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_tick_is_deterministic_and_realistic(clock: Clock) -> None:
    one, two = make_server(clock), make_server(clock)
    ticks = [one.tick() for _ in range(40)]
    assert ticks == [two.tick() for _ in range(40)]
    assert all(t["username"] != BRAND for t in ticks)
    assert len({t["id"] for t in ticks}) == 40
    assert any(t["post_number"] == 1 for t in ticks) and any(t["post_number"] > 1 for t in ticks)
    assert any(t.get("reply_to_user", {}).get("username") == BRAND for t in ticks)
    assert any(f"@{BRAND}" in t["cooked"] for t in ticks)
    empty = make_server(clock, seed=None)
    assert empty.tick()["post_number"] == 1  # an empty forum starts with a new topic


async def test_seeded_forum_is_realistic(server: DiscourseServer, client: httpx.AsyncClient) -> None:
    topics = [
        (await client.get(f"/t/{t}.json", params={"include_raw": 1})).json() for t in server.topic_ids()
    ]
    community = [t for t in topics if t["id"] > len(HELP_TOPICS)]
    assert len(community) >= 25
    assert all(1 <= t["posts_count"] <= 15 for t in community)
    assert min(t["posts_count"] for t in community) == 1
    categories = {c["id"]: c["slug"] for c in (await client.get("/site.json")).json()["categories"]}
    assert {categories[t["category_id"]] for t in community} >= {
        "support",
        "feedback",
        "entraide",
        "announcements",
    }
    two_weeks_ago = START - timedelta(days=14)
    assert all(datetime.fromisoformat(t["created_at"]) >= two_weeks_ago for t in community)
    posts = [p for t in topics for p in t["post_stream"]["posts"]]
    assert all(datetime.fromisoformat(p["created_at"]) < START for p in posts)
    french = [t for t in community if categories[t["category_id"]] == "entraide"]
    assert len(french) >= 5 and any("commande" in t["title"].lower() for t in french)
    raws = " ".join(p["raw"] for p in posts)
    for hostile in ("\x1b]0;x\x07", "<script>alert(1)</script>", "[bold]", "\u202e"):
        assert hostile in raws
    cooked = " ".join(p["cooked"] for p in posts)
    assert "<script>" not in cooked and "&lt;script&gt;alert(1)&lt;/script&gt;" in cooked
    assert '<aside class="quote no-group" data-username="acme_team"' in cooked
    # The brand answered some topics; members answered each other in others.
    brand_answered = [
        t for t in community if any(p["username"] == BRAND for p in t["post_stream"]["posts"][1:])
    ]
    members_only = [
        t
        for t in community
        if t["posts_count"] > 1 and all(p["username"] != BRAND for p in t["post_stream"]["posts"])
    ]
    assert len(brand_answered) >= 8 and len(members_only) >= 3


# -- cooking ---------------------------------------------------------------------------------


def test_cook_renders_discourse_like_html() -> None:
    def known(name: str) -> str | None:
        return {"hana": "hana"}.get(name.lower())

    html = cook(
        "Hi @Hana and @nobody, see https://example.com/a. and [docs](/t/x/1).\n"
        "**Bold** and *it* and `co<de>`\n\n"
        '[quote="hana, post:2, topic:7"]\nquoted <b>text</b>\n[/quote]\n\n- one\n- two',
        known,
    )
    assert html.startswith("<p>Hi ")
    assert '<a class="mention" href="/u/hana">@hana</a>' in html
    assert '<span class="mention">@nobody</span>' in html
    assert '<a href="https://example.com/a" rel="noopener nofollow ugc">https://example.com/a</a>.' in html
    assert '<a href="/t/x/1" rel="noopener nofollow ugc">docs</a>' in html
    assert "<br>\n<strong>Bold</strong> and <em>it</em> and <code>co&lt;de&gt;</code></p>" in html
    assert (
        '<aside class="quote no-group" data-username="hana" data-post="2" data-topic="7">' in html
        and "<blockquote>\n<p>quoted &lt;b&gt;text&lt;/b&gt;</p>\n</blockquote>\n</aside>" in html
    )
    assert html.endswith("<ul>\n<li>one</li>\n<li>two</li>\n</ul>")


def test_slugify_matches_discourse() -> None:
    assert slugify("Known issue: app crash on settings screen") == "known-issue-app-crash-on-settings-screen"
    assert slugify("Facture sans numéro de TVA") == "facture-sans-numero-de-tva"
    assert slugify("???") == "topic"


# -- habits of real forums -------------------------------------------------------------------


async def test_a_member_brand_gets_the_duplicate_body_422_in_any_topic(clock: Clock) -> None:
    async with (
        make_server(clock, seed=None, brand_is_staff=False) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        first = await create(client, title="A member brand posts here", raw=A_BODY)
        other = server.add_topic(author="zoe", title="Somebody else asks", raw="A question long enough.")
        again = await create(client, topic_id=other["topic_id"], raw=A_BODY)
        clock.advance(minutes=6)  # past unique_posts_mins
        later = await create(client, topic_id=other["topic_id"], raw=A_BODY)
        me = (await client.get("/session/current.json")).json()["current_user"]
    assert first.status_code == 200 and later.status_code == 200
    assert again.status_code == 422
    assert again.json() == {
        "action": "create_post",
        "errors": ["Body is too similar to what you recently posted"],
    }
    assert me["admin"] is False and me["moderator"] is False and me["trust_level"] == 2


async def test_a_429_without_retry_after_says_the_wait_in_its_body(clock: Clock) -> None:
    async with (
        make_server(clock, seed=None, rate_limit=1, rate_window=120, retry_after_header=False) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        await client.get("/session/current.json")
        limited = await client.get("/session/current.json")
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert limited.json()["extras"]["wait_seconds"] == 120
    assert limited.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"


@pytest.mark.parametrize("staff", [True, False])
async def test_edited_withdrawn_deleted_and_hidden_posts(clock: Clock, staff: bool) -> None:
    async with (
        make_server(clock, seed=None, brand_is_staff=staff) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        made = server.add_topic(author="zoe", title="Posts that change later", raw="The first post here.")
        ids = [
            server.add_post(topic_id=made["topic_id"], author=name, raw=f"A post by {name} here.")["post_id"]
            for name in ("bob", "cat", "dan", "eve")
        ]
        clock.advance(minutes=3)
        server.edit_post(ids[0], "A post by bob, edited.")
        server.delete_post(ids[1], by_author=True)
        server.hide_post(ids[2])
        server.delete_post(ids[3])
        topic = (await client.get(f"/t/{made['topic_id']}.json")).json()
        alone = await client.get(f"/posts/{ids[3]}.json")
    posts = {p["id"]: p for p in topic["post_stream"]["posts"]}
    edited = posts[ids[0]]
    assert edited["version"] == 2 and edited["updated_at"] != edited["created_at"]
    assert posts[ids[1]]["user_deleted"] is True and "deleted by author" in posts[ids[1]]["cooked"]
    assert posts[ids[2]]["hidden"] is True
    if staff:
        assert posts[ids[3]]["deleted_at"] is not None and alone.status_code == 200
        assert ids[3] in topic["post_stream"]["stream"]
    else:
        assert ids[3] not in posts and ids[3] not in topic["post_stream"]["stream"]
        assert alone.status_code == 404


async def test_a_post_whose_answer_is_dropped_exists(clock: Clock) -> None:
    async with (
        make_server(clock, seed=None, drop_answer_after_post=1) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as client,
    ):
        with pytest.raises(httpx.TransportError):
            await create(client, title="The answer never comes back", raw=A_BODY)
        answered = await create(client, title="This one is answered", raw=A_BODY + " Again.")
    assert len(server.posted) == 2 and answered.status_code == 200
