"""Facebook Login for Devices, then the Page token: how `ecoinbox auth` signs a Page in over SSH.

The app asks for a code (`POST /device/login` with APP_ID|CLIENT_TOKEN and the scopes), the
manager enters it at facebook.com/device on any phone or computer, and the app polls
`/device/login_status` every `interval` seconds until Meta hands out a user token. The Page
token derived from it (`GET /{page-id}?fields=access_token`) is the channel's secret; the user
token is forgotten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from ecoinbox.channels.base import ChannelError
from ecoinbox.channels.graph import GRAPH_VERSION, GraphClient, GraphError
from ecoinbox.channels.http import HttpClient, one_line, register_secret
from ecoinbox.channels.json_values import as_dict, as_int, json_or_none
from ecoinbox.channels.unit import FlowError
from ecoinbox.secrets import Secret

__all__ = ["DeviceLogin", "device_login"]

PENDING: Final = 1349174  # the manager has not entered the code yet
SLOW_DOWN: Final = 1349172  # polled too often
EXPIRED: Final = 1349152  # the code expired


@dataclass(frozen=True, slots=True)
class DeviceLogin:
    """What a device login needs: the app, the Page, the scopes, where Graph is."""

    channel: str
    base_url: str
    app_id: str
    client_token: str
    page_id: str
    scopes: tuple[str, ...]


async def device_login(
    login: DeviceLogin,
    *,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Secret:
    """Run the device flow and return the Page access token."""
    app_token = f"{login.app_id}|{login.client_token}"
    register_secret(app_token)
    http = HttpClient(login.channel, login.base_url)
    try:
        started = await _post(
            http, "device/login", {"access_token": app_token, "scope": ",".join(login.scopes)}
        )
        code, user_code = str(started.get("code") or ""), str(started.get("user_code") or "")
        if not code or not user_code:
            raise FlowError("Facebook gave no device code: check that Login from Devices is on in your app")
        register_secret(code)
        where = str(started.get("verification_uri") or "https://www.facebook.com/device")
        say(f"1. On any phone or computer, open {where}")
        say(f"2. Enter the code {user_code}, log in as an admin of the Page and allow ecoinbox.")
        said = as_int(started.get("interval"))
        interval = float(5 if said is None else max(0, said))
        for _ in range(max(1, int((as_int(started.get("expires_in")) or 420) / max(interval, 1.0)))):
            await sleep(interval)
            status = await http.request(
                "POST", f"/{GRAPH_VERSION}/device/login_status",
                data={"access_token": app_token, "code": code}, check=False,
            )  # fmt: skip
            body = as_dict(json_or_none(status.content))
            token = body.get("access_token")
            if isinstance(token, str) and token:
                register_secret(token)
                return await _page_token(login, token, say)
            error = GraphError.of(status)
            if error.subcode == SLOW_DOWN:
                interval += 5
            elif error.subcode == EXPIRED:
                break
            elif error.subcode != PENDING:
                raise FlowError(f"Facebook refused the login: {error.words}")
        raise FlowError("the code expired before it was entered: run `ecoinbox auth` again")
    except ChannelError as exc:
        raise FlowError(f"the Facebook login failed: {exc}") from exc
    finally:
        await http.aclose()


async def _post(http: HttpClient, path: str, data: dict[str, str]) -> dict[str, object]:
    response = await http.request("POST", f"/{GRAPH_VERSION}/{path}", data=data, check=False)
    if response.status >= 400:
        raise FlowError(f"Facebook refused to start the login: {GraphError.of(response).words}")
    return as_dict(json_or_none(response.content))


async def _page_token(login: DeviceLogin, user_token: str, say: Callable[[str], None]) -> Secret:
    """The Page's own token, derived from the user token (which is not kept)."""
    graph = GraphClient(login.channel, login.base_url, user_token)
    try:
        page = await graph.get(login.page_id, {"fields": "id,name,access_token"})
    finally:
        await graph.aclose()
    token = page.get("access_token")
    if not isinstance(token, str) or not token:
        raise FlowError(
            f"the account that logged in does not manage Page {login.page_id} (no Page token): "
            "log in as one of its admins"
        )
    register_secret(token)
    say(f"Signed in: Page {one_line(str(page.get('name') or login.page_id))}.")
    return Secret(token)
