"""The local Bluesky PDS itself: what the channel tests rely on it to get right."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ecoinbox.demo.bluesky_server import DEMO_APP_PASSWORD, BlueskyServer

BRAND = "acme.bsky.example"


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
