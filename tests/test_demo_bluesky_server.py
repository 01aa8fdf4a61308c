"""The local Bluesky PDS itself: what the channel tests rely on it to get right."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from ecoinbox.demo.bluesky.server import DEMO_APP_PASSWORD, BlueskyServer

BRAND = "acme.bsky.example"
POST = "app.bsky.feed.post"


@pytest.fixture
async def seeded() -> AsyncIterator[BlueskyServer]:
    async with BlueskyServer(brand=BRAND, seed=3) as running:
        yield running


async def session(client: httpx.AsyncClient) -> dict:
    response = await client.post(
        "/xrpc/com.atproto.server.createSession", json={"identifier": BRAND, "password": DEMO_APP_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_seeded_traffic_is_deterministic_and_its_facets_are_byte_offsets() -> None:
    async with BlueskyServer(seed=3) as one, BlueskyServer(seed=3) as two:
        texts_one = [p["record"]["text"] for p in one.brand_posts()]
        assert texts_one == [p["record"]["text"] for p in two.brand_posts()]
    async with BlueskyServer(seed=3) as server:
        checked = 0
        for entry in server._notifications:
            record = entry[2]["record"]
            data = record["text"].encode("utf-8")
            for facet in record.get("facets", []):
                feature = facet["features"][0]
                shown = data[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
                if feature["$type"].endswith("#mention"):
                    assert shown == f"@{BRAND}"
                    checked += 1
        assert checked >= 8  # emoji and accents come before several of them


async def test_notifications_page_backwards_without_overlap(seeded) -> None:
    async with httpx.AsyncClient(base_url=seeded.base_url) as client:
        token = (await session(client))["accessJwt"]
        seen: list[str] = []
        cursor = None
        for _ in range(20):
            params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/xrpc/app.bsky.notification.listNotifications", params=params,
                                     headers=bearer(token))).json()  # fmt: skip
            times = [n["indexedAt"] for n in page["notifications"]]
            assert times == sorted(times, reverse=True)
            seen += [n["uri"] for n in page["notifications"]]
            cursor = page.get("cursor")
            if not page["notifications"]:
                break
        assert len(seen) == len(set(seen)) == len(seeded._notifications) and cursor is None


async def test_tokens_expire_rotate_and_carry_rate_limit_headers(seeded) -> None:
    async with httpx.AsyncClient(base_url=seeded.base_url) as client:
        first = await session(client)
        answer = await client.get("/xrpc/com.atproto.server.getSession", headers=bearer(first["accessJwt"]))
        assert answer.status_code == 200
        assert int(answer.headers["RateLimit-Reset"]) > 1_700_000_000  # epoch seconds
        assert answer.headers["RateLimit-Policy"] == "3000;w=300"
        seeded.expire_access_tokens()
        expired = await client.get("/xrpc/com.atproto.server.getSession", headers=bearer(first["accessJwt"]))
        assert (expired.status_code, expired.json()["error"]) == (400, "ExpiredToken")
        refreshed = await client.post(
            "/xrpc/com.atproto.server.refreshSession", headers=bearer(first["refreshJwt"])
        )
        assert refreshed.status_code == 200
        reused = await client.post(
            "/xrpc/com.atproto.server.refreshSession", headers=bearer(first["refreshJwt"])
        )
        assert (reused.status_code, reused.json()["error"]) == (400, "InvalidToken")  # rotated: spent
        wrong = await client.post("/xrpc/com.atproto.server.createSession",
                                  json={"identifier": BRAND, "password": "nope-nope-nope-nope"})  # fmt: skip
        assert (wrong.status_code, wrong.json()["error"]) == (401, "AuthenticationRequired")


async def test_create_record_refuses_what_a_careless_client_sends(seeded) -> None:
    target = next(p for p in seeded.brand_posts() if not p["record"].get("reply"))
    async with httpx.AsyncClient(base_url=seeded.base_url) as client:
        auth = bearer((await session(client))["accessJwt"])

        async def create(record: dict, rkey: str | None = None) -> httpx.Response:
            body = {"repo": seeded.brand.did, "collection": "app.bsky.feed.post", "record": record}
            if rkey:
                body["rkey"] = rkey
            return await client.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=auth)

        base = {"$type": "app.bsky.feed.post", "createdAt": "2026-05-01T10:00:00Z"}
        cut = await create({**base, "text": "é @x", "facets": [
            {"index": {"byteStart": 1, "byteEnd": 5}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]}]})  # fmt: skip
        assert cut.status_code == 400 and "UTF-8" in cut.json()["message"]
        ref = {"uri": target["uri"], "cid": target["cid"]}
        stale = await create(
            {**base, "text": "hi", "reply": {"root": ref, "parent": {**ref, "cid": "bafyreiwrong"}}}
        )
        assert stale.status_code == 400 and "cid" in stale.json()["message"]
        ok = await create({**base, "text": "hi", "reply": {"root": ref, "parent": ref}}, rkey="3l25zusnsfck2")
        assert ok.status_code == 200 and ok.json()["uri"].endswith("/3l25zusnsfck2")
        again = await create(
            {**base, "text": "hi", "reply": {"root": ref, "parent": ref}}, rkey="3l25zusnsfck2"
        )
        assert again.status_code == 400 and "already exists" in again.json()["message"]
        assert len(seeded.created) == 1


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_the_main_password_gets_a_full_access_session_and_an_app_password_does_not() -> None:
    server = BlueskyServer(brand=BRAND, seed=None, account_password="main-password-1")
    async with server, httpx.AsyncClient(base_url=server.base_url) as client:
        app = await session(client)
        signed_in = {"identifier": BRAND, "password": "main-password-1"}
        main = (await client.post("/xrpc/com.atproto.server.createSession", json=signed_in)).json()
        assert claims(app["accessJwt"])["scope"] == "com.atproto.appPass"
        assert claims(main["accessJwt"])["scope"] == "com.atproto.access"
        assert claims(main["refreshJwt"])["scope"] == "com.atproto.refresh"
        refreshed = (await client.post("/xrpc/com.atproto.server.refreshSession",
                                       headers=bearer(main["refreshJwt"]))).json()  # fmt: skip
        assert claims(refreshed["accessJwt"])["scope"] == "com.atproto.access"  # kept on refresh
        ended = await client.post(
            "/xrpc/com.atproto.server.deleteSession", headers=bearer(refreshed["refreshJwt"])
        )
        assert ended.status_code == 200
        again = await client.post(
            "/xrpc/com.atproto.server.refreshSession", headers=bearer(refreshed["refreshJwt"])
        )
        assert again.json()["error"] == "InvalidToken"


async def test_a_threadgate_says_reply_disabled_takes_the_reply_and_shows_it_to_nobody() -> None:
    async with BlueskyServer(brand=BRAND, seed=None) as server:
        root = server.add_post(author="zoe.bsky.example", text="no replies please")
        server.gate_replies(root["uri"])
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            auth = bearer((await session(client))["accessJwt"])
            view = (await client.get("/xrpc/app.bsky.feed.getPosts", params={"uris": root["uri"]},
                                     headers=auth)).json()["posts"][0]  # fmt: skip
            assert view["viewer"]["replyDisabled"] is True and view["threadgate"]["record"]["allow"] == []
            ref = {"uri": root["uri"], "cid": root["cid"]}
            record = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-05-01T10:00:00Z",
                      "reply": {"root": ref, "parent": ref}}  # fmt: skip
            taken = await client.post("/xrpc/com.atproto.repo.createRecord", headers=auth,
                                      json={"repo": BRAND, "collection": POST, "record": record})  # fmt: skip
            assert taken.status_code == 200  # the PDS does not look at threadgates
            thread = (await client.get("/xrpc/app.bsky.feed.getPostThread", params={"uri": root["uri"]},
                                       headers=auth)).json()["thread"]  # fmt: skip
            assert thread["replies"] == []  # the AppView hides it


async def test_a_deleted_post_is_gone_from_every_read_and_its_place_kept_in_threads() -> None:
    async with BlueskyServer(brand=BRAND, seed=None, record_not_found_error="InvalidRequest") as server:
        gone = server.add_post(author="zoe.bsky.example", text=f"@{BRAND} help", mention_brand=True)
        child = server.add_post(author="marcus.bsky.example", text="same", reply_to=gone["uri"])
        server.delete_post(gone["uri"])
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            auth = bearer((await session(client))["accessJwt"])
            posts = (
                await client.get("/xrpc/app.bsky.feed.getPosts", params={"uris": gone["uri"]}, headers=auth)
            ).json()
            assert posts == {"posts": []}
            missing = await client.get(
                "/xrpc/app.bsky.feed.getPostThread", params={"uri": gone["uri"]}, headers=auth
            )
            assert (missing.status_code, missing.json()["error"]) == (400, "NotFound")
            thread = (await client.get("/xrpc/app.bsky.feed.getPostThread", params={"uri": child["uri"]},
                                       headers=auth)).json()["thread"]  # fmt: skip
            assert thread["parent"] == {
                "$type": "app.bsky.feed.defs#notFoundPost",
                "uri": gone["uri"],
                "notFound": True,
            }
            did, _, rkey = gone["uri"].removeprefix("at://").partition("/app.bsky.feed.post/")
            record = await client.get("/xrpc/com.atproto.repo.getRecord", headers=auth,
                                      params={"repo": did, "collection": POST, "rkey": rkey})  # fmt: skip
            assert record.status_code == 400
            assert record.json() == {
                "error": "InvalidRequest",
                "message": f"Could not locate record: {gone['uri']}",
            }
            notes = (await client.get("/xrpc/app.bsky.notification.listNotifications", headers=auth)).json()
            assert gone["uri"] not in [n["uri"] for n in notes["notifications"]]


@pytest.mark.parametrize(("status", "error"), [(400, "InvalidRequest"), (409, "RecordAlreadyExists"),
                                               (500, "InternalServerError")])  # fmt: skip
async def test_a_reused_record_key_is_answered_as_the_habit_says(status: int, error: str) -> None:
    async with (
        BlueskyServer(brand=BRAND, seed=None, reused_rkey_status=status, checks_reply_refs=False) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        auth = bearer((await session(client))["accessJwt"])
        body = {"repo": BRAND, "collection": "app.bsky.feed.post", "rkey": "3l25zusnsfck2",
                "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-05-01T10:00:00Z",
                           "reply": {"root": {"uri": "at://did:plc:nobody/app.bsky.feed.post/3l25zusnsfck2",
                                              "cid": "bafyreinothere"},
                                     "parent": {"uri": "at://did:plc:nobody/app.bsky.feed.post/3l25zusnsfck2",
                                                "cid": "bafyreinothere"}}}}  # fmt: skip
        first = await client.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=auth)
        assert first.status_code == 200  # unchecked refs: a reply to nothing is taken, as on the real PDS
        again = await client.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=auth)
        assert (again.status_code, again.json()["error"]) == (status, error)
        assert len(server.created) == 1
