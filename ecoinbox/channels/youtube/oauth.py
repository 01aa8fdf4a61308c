"""Google OAuth 2.0 for an installed app, as YouTube needs it to answer and moderate comments.

Replying and moderating need the `youtube.force-ssl` scope, which Google's device flow (TVs,
limited input) does not allow; so `ecoinbox auth` runs the installed-app flow: a browser page,
a code that comes back to a loopback listener on a free port (Google accepts any port of
127.0.0.1 for a desktop client), PKCE, and the refresh token kept as the channel's secret. Over
SSH the browser's return cannot reach this machine: the manager pastes the address the browser
landed on ("This site can't be reached" is expected) and the code is read from it.

The secret is one JSON object, {"client_secret": "...", "refresh_token": "..."}: Google's desktop
clients carry a client secret that it does not count as confidential, but ecoinbox keeps it out
of the config with the token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

from ecoinbox.channels.base import AuthError, PermanentError, TransientError
from ecoinbox.channels.http import HttpClient, one_line, platform_error, register_secret
from ecoinbox.channels.json_values import as_dict, json_or_none
from ecoinbox.channels.oauth_page import send_page

__all__ = [
    "SCOPE",
    "Grant",
    "LoopbackReturn",
    "PkcePair",
    "authorize_url",
    "code_from_pasted",
    "exchange_code",
    "new_state",
    "parse_secret",
    "refresh_access_token",
    "secret_text",
]

SCOPE: Final = "https://www.googleapis.com/auth/youtube.force-ssl"
DEFAULT_LIFETIME: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Grant:
    """What the channel's secret holds; never printed (repr hides it)."""

    refresh_token: str
    client_secret: str = ""

    def __repr__(self) -> str:
        return "Grant(...)"


def new_state() -> str:
    """An unguessable `state` for one authorization (checked when the code comes back)."""
    return secrets.token_urlsafe(24)


def parse_secret(text: str, channel: str) -> Grant:
    """The channel's secret as stored: the JSON object, or a bare refresh token (a client without
    a secret). Raises AuthError, in words, when it is neither."""
    text = text.strip()
    if not text:
        raise AuthError(f"no refresh token for channel {channel}: run `ecoinbox auth {channel}`")
    if not text.startswith("{"):
        register_secret(text)
        return Grant(text)
    data = as_dict(json_or_none(text.encode()))
    refresh, client_secret = data.get("refresh_token"), data.get("client_secret", "")
    if not isinstance(refresh, str) or not refresh or not isinstance(client_secret, str):
        raise AuthError(
            f"the secret of channel {channel} is not what `ecoinbox auth {channel}` stores "
            '({"client_secret": ..., "refresh_token": ...}): run `ecoinbox auth ' + channel + "`"
        )
    register_secret(refresh)
    if client_secret:
        register_secret(client_secret)
    return Grant(refresh, client_secret)


def secret_text(grant: Grant) -> str:
    """The channel's secret to store, from a grant."""
    return json.dumps({"client_secret": grant.client_secret, "refresh_token": grant.refresh_token})


@dataclass(frozen=True, slots=True)
class PkcePair:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> PkcePair:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_url(base: str, client_id: str, redirect_uri: str, state: str, pkce: PkcePair) -> str:
    """The consent page: offline access (a refresh token), consent asked again so Google sends one."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}?{query}"


def code_from_pasted(text: str, state: str) -> str:
    """The authorization code in the address the browser landed on (or the bare code)."""
    text = text.strip()
    if "?" not in text and "=" not in text:
        return text
    query = {key: values[0] for key, values in parse_qs(urlsplit(text).query or text).items()}
    if "error" in query:
        raise AuthError(f"Google did not authorize ecoinbox ({one_line(query['error'], limit=60)})")
    if not hmac.compare_digest(query.get("state", "").encode(), state.encode()):
        raise AuthError("this address does not belong to the authorization ecoinbox started")
    code = query.get("code", "")
    if not code:
        raise AuthError("no authorization code in this address: paste the whole address bar")
    return code


async def exchange_code(
    client: HttpClient, channel: str, form: dict[str, str], code: str, redirect_uri: str, pkce: PkcePair
) -> str:
    """Trade the code for a refresh token. `form` holds client_id (and client_secret)."""
    data = await _token_request(
        client, channel,
        {**form, "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
         "code_verifier": pkce.verifier},
    )  # fmt: skip
    refresh = data.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise AuthError(
            f"channel {channel}: Google gave no refresh token: remove ecoinbox's access in your "
            "Google account's security page, then run the authorization again"
        )
    register_secret(refresh)
    return refresh


async def refresh_access_token(
    client: HttpClient, channel: str, form: dict[str, str], refresh_token: str
) -> tuple[str, timedelta]:
    """A fresh access token and its lifetime."""
    data = await _token_request(
        client, channel, {**form, "grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise TransientError(f"channel {channel}: malformed answer from Google's token endpoint")
    register_secret(token)
    lifetime = data.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else 0
    return token, timedelta(seconds=seconds) if seconds > 0 else DEFAULT_LIFETIME


async def _token_request(client: HttpClient, channel: str, form: dict[str, str]) -> dict[str, Any]:
    """POST the token endpoint. Google answers a revoked or expired grant with 400 invalid_grant
    (refresh tokens of an app in "Testing" expire after 7 days), a bad client with 401."""
    response = await client.request("POST", client.base_url, data=form, check=False)
    body = as_dict(json_or_none(response.content))
    error = body.get("error")
    if response.status in (400, 401) and isinstance(error, str):
        if error == "invalid_grant":
            raise AuthError(
                f"channel {channel}: Google refused the refresh token (revoked, or expired: an app "
                f'still in "Testing" gets 7-day tokens): run `ecoinbox auth {channel}`',
                status=response.status,
            )
        said = platform_error(response.content) or error
        raise AuthError(
            f"channel {channel}: Google refused the client ({one_line(said, limit=80)}): check "
            f"`client_id` in the config and the client secret given to `ecoinbox auth {channel}`",
            status=response.status,
        )
    client.raise_for_status(response)
    if not body:
        raise TransientError(f"channel {channel}: malformed answer from Google's token endpoint")
    return body


class LoopbackReturn:
    """The listener on 127.0.0.1 (a free port) the browser comes back to with the code."""

    def __init__(self, state: str) -> None:
        self._state = state
        self._result: asyncio.Future[str] | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        except OSError as exc:
            raise PermanentError(
                f"cannot listen on loopback ({exc.strerror or type(exc).__name__})"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def wait(self, timeout: float) -> str:
        assert self._result is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise TransientError(f"no answer from the browser within {timeout:g} s") from None

    def take(self, code_or_error: str | BaseException) -> None:
        """The code (or the refusal) from elsewhere: the address the manager pasted."""
        if self._result is not None and not self._result.done():
            if isinstance(code_or_error, BaseException):
                self._result.set_exception(code_or_error)
            else:
                self._result.set_result(code_or_error)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        page, status = "Bad request.", "400 Bad Request"
        try:
            async with asyncio.timeout(10):
                line = (await reader.readline()).decode("latin-1").split()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
            if len(line) == 3 and line[0] == "GET" and urlsplit(line[1]).path == "/":
                try:
                    self.take(code_from_pasted(line[1], self._state))
                    page, status = "ecoinbox is authorized. You can close this tab.", "200 OK"
                except AuthError as exc:
                    page = str(exc)
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        await send_page(writer, status, page)
