"""The local Graph server answers as graph.facebook.com documents it: versions, errors, device
login, permissions (what the channels' tests rely on, checked on the wire)."""

from __future__ import annotations

import httpx

from ecoinbox.demo.facebook.server import DEMO_APP_ID, DEMO_CLIENT_TOKEN, PAGE_ID, GraphServer

TOKEN = "graph-server-token-0123"


async def test_versions_tokens_and_missing_permissions_are_answered_as_meta_does() -> None:
    async with GraphServer(seed=None, page_token=TOKEN, permissions=("pages_show_list",)) as server:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            old = await http.get(f"/v19.0/{PAGE_ID}", headers=auth)
            assert old.status_code == 400 and old.json()["error"]["code"] == 2635
            bad = await http.get(f"/v23.0/{PAGE_ID}", headers={"Authorization": "Bearer nope"})
            assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
            assert bad.json()["error"]["type"] == "OAuthException" and bad.json()["error"]["fbtrace_id"]
            page = await http.get(f"/v23.0/{PAGE_ID}", params={"access_token": TOKEN})
            assert page.json() == {"id": PAGE_ID, "name": "Acme"}
            assert "pages" in page.headers["X-Business-Use-Case-Usage"]
            inbox = await http.get(f"/v23.0/{PAGE_ID}/conversations", headers=auth)
            assert inbox.status_code == 403 and inbox.json()["error"]["code"] == 200


async def test_a_device_login_is_pending_until_the_code_is_entered_and_then_spent() -> None:
    async with GraphServer(seed=None, page_token=TOKEN) as server:
        server.approve_devices = False
        app = {"access_token": f"{DEMO_APP_ID}|{DEMO_CLIENT_TOKEN}"}
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            started = (await http.post("/v23.0/device/login", data=app | {"scope": "pages_show_list"})).json()
            status = await http.post("/v23.0/device/login_status", data=app | {"code": started["code"]})
            assert status.json()["error"]["error_subcode"] == 1349174
            server.approve_devices = True
            status = await http.post("/v23.0/device/login_status", data=app | {"code": started["code"]})
            assert status.json()["access_token"] == server.user_token
            spent = await http.post("/v23.0/device/login_status", data=app | {"code": started["code"]})
            assert spent.json()["error"]["error_subcode"] == 1349152
            wrong = await http.post("/v23.0/device/login", data={"access_token": f"{DEMO_APP_ID}|nope"})
            assert wrong.json()["error"]["code"] == 190
