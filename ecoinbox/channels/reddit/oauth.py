"""Reddit OAuth for `ecoinbox auth` (an installed app: code flow, loopback redirect, no secret) and
the renewal of access tokens from the refresh token the channel keeps."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    PermanentError,
    TransientError,
)
from ecoinbox.channels.http import (
    HttpClient,
    one_line,
    platform_error,
    register_secret,
)
from ecoinbox.channels.json_values import as_dict, json_or_none
from ecoinbox.channels.oauth_page import send_page

SCOPES = ("identity", "read", "history", "privatemessages", "submit")
DEFAULT_TOKEN_LIFETIME = timedelta(hours=1)


def authorize_url(auth_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The page where the brand account approves ecoinbox (a permanent grant: a refresh token)."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "state": state,
            "redirect_uri": redirect_uri,
            "duration": "permanent",
            "scope": " ".join(SCOPES),
        }
    )
    return f"{auth_url.rstrip('/')}/api/v1/authorize?{query}"


def new_state() -> str:
    """An unguessable `state` for one authorization (checked when the browser comes back)."""
    return secrets.token_urlsafe(24)


async def exchange_code(client: HttpClient, channel: str, code: str, redirect_uri: str) -> tuple[str, str]:
    """Trade the authorization code for (refresh token, access token)."""
    data = await _token_request(
        client, channel, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    )
    refresh = data.get("refresh_token")
    access = data.get("access_token")
    if not isinstance(refresh, str) or not refresh or not isinstance(access, str) or not access:
        raise AuthError(f"channel {channel}: Reddit gave no refresh token (was duration=permanent refused?)")
    register_secret(refresh)
    return refresh, access


async def refresh_access_token(client: HttpClient, channel: str, refresh_token: str) -> tuple[str, timedelta]:
    """A fresh access token and its lifetime, from the refresh token."""
    data = await _token_request(
        client, channel, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise TransientError(f"channel {channel}: malformed answer from the token host")
    register_secret(token)
    lifetime = data.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else 0
    return token, timedelta(seconds=seconds) if seconds > 0 else DEFAULT_TOKEN_LIFETIME


async def _token_request(client: HttpClient, channel: str, form: dict[str, str]) -> dict[str, Any]:
    """POST /api/v1/access_token (Basic client_id, empty password). Reddit answers a bad code or
    refresh token with a 200 carrying {"error": "invalid_grant"}, a bad client id with 401."""
    response = await client.request("POST", "/api/v1/access_token", data=form, check=False)
    if response.status == 401:
        raise AuthError(
            f"channel {channel}: Reddit does not know this client_id (401): check `client_id` in "
            "the config (an installed app's id, approved by Reddit)",
            status=401,
        )
    if response.status == 400 or (
        200 <= response.status < 300 and "error" in as_dict(json_or_none(response.content))
    ):
        said = platform_error(response.content) or str(response.status)
        raise AuthError(
            f"channel {channel}: Reddit refused the grant ({said}): run `ecoinbox auth {channel}`",
            status=response.status if response.status >= 400 else None,
        )
    client.raise_for_status(response)
    data = json_or_none(response.content)
    if not isinstance(data, dict):
        raise TransientError(f"channel {channel}: malformed answer from the token host")
    return data


class RedirectListener:
    """The loopback listener the browser comes back to after the brand approves ecoinbox.

    Binds the host and port of `redirect_uri` (which must match the app's registered redirect
    URI exactly) on loopback only; `wait` returns the code once a request with the right `state`
    arrives. A wrong state, or an error from Reddit, is refused and said in words.
    """

    def __init__(self, redirect_uri: str, state: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise PermanentError("the redirect URI must be http://localhost:PORT or http://127.0.0.1:PORT")
        self.host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._state = state
        self._result: asyncio.Future[str] | None = None
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        except OSError as exc:
            raise PermanentError(
                f"cannot listen on {self.host}:{self.port} for the browser's return "
                f"({exc.strerror or type(exc).__name__}); is another program using that port?"
            ) from None

    async def wait(self, timeout: float) -> str:
        """The authorization code; TransientError after `timeout` seconds without one."""
        assert self._result is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise TransientError(f"no answer from the browser within {timeout:g} s") from None

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request_line = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
            status, page = self._take(request_line.decode("latin-1"))
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            status, page = "400 Bad Request", "Bad request."
        await send_page(writer, status, page)

    def _take(self, request_line: str) -> tuple[str, str]:
        parts = request_line.split()
        if len(parts) != 3 or parts[0] != "GET":
            return "405 Method Not Allowed", "Only the browser's return is expected here."
        target = urlsplit(parts[1])
        if target.path != self.path:
            return "404 Not Found", "Not here."
        query = {key: values[0] for key, values in parse_qs(target.query).items()}
        state = query.get("state", "")
        if not hmac.compare_digest(state.encode(), self._state.encode()):
            return "400 Bad Request", "This answer does not belong to the authorization ecoinbox started."
        result = self._result
        if result is None or result.done():
            return "409 Conflict", "ecoinbox already has its answer; you can close this tab."
        if "error" in query:
            said = one_line(query["error"], limit=60)
            result.set_exception(AuthError(f"Reddit did not authorize ecoinbox ({said})"))
            return "200 OK", f"Reddit did not authorize ecoinbox ({said}). You can close this tab."
        code = query.get("code", "")
        if not code:
            return "400 Bad Request", "No authorization code in this answer."
        result.set_result(code)
        return "200 OK", "ecoinbox is authorized. You can close this tab and go back to the terminal."


__all__ = [
    "SCOPES",
    "RedirectListener",
    "authorize_url",
    "exchange_code",
    "new_state",
    "refresh_access_token",
]
