"""X's OAuth 2.0 for `ecoinbox auth` (authorization code with PKCE, a public client: no secret)
and the renewal of access tokens: X rotates refresh tokens, so every renewal hands back a new one
that replaces the old (which is spent)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ecoinbox.channels.base import AuthError, PermanentError, TransientError
from ecoinbox.channels.http import HttpClient, one_line, platform_error, register_secret
from ecoinbox.channels.json_values import json_or_none, text_or_none

__all__ = [
    "SCOPES",
    "TOKEN_PATH",
    "Grant",
    "Pkce",
    "authorize_url",
    "code_from_paste",
    "exchange_code",
    "new_pkce",
    "refresh_grant",
]

SCOPES = ("tweet.read", "users.read", "tweet.write", "offline.access")
TOKEN_PATH = "/2/oauth2/token"
AUTHORIZE_PATH = "/i/oauth2/authorize"
DEFAULT_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Pkce:
    """One authorization's secrets: the `state` checked on return and the PKCE verifier."""

    state: str
    verifier: str

    @property
    def challenge(self) -> str:
        """S256 of the verifier, base64url without padding (RFC 7636)."""
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Grant:
    """What the token endpoint hands out (never shown: `repr` names no token)."""

    access: str
    refresh: str
    lifetime: timedelta

    def __repr__(self) -> str:
        return f"Grant(lifetime={self.lifetime})"


def new_pkce() -> Pkce:
    """A fresh state and a 64-character verifier (43 to 128 allowed)."""
    return Pkce(secrets.token_urlsafe(24), secrets.token_urlsafe(48))


def authorize_url(
    auth_url: str, client_id: str, redirect_uri: str, pkce: Pkce, scopes: tuple[str, ...] = SCOPES
) -> str:
    """The page where the brand account approves ecoinbox (offline.access: a refresh token)."""
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": " ".join(scopes), "state": pkce.state, "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    })  # fmt: skip
    return f"{auth_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def code_from_paste(pasted: str, pkce: Pkce) -> str:
    """The code in what the manager pasted: the whole address the browser came back to (its
    state checked), or the code alone. PermanentError, in words, for anything else."""
    text = pasted.strip()
    if "://" not in text and "=" not in text:
        if not text:
            raise PermanentError("nothing was pasted")
        return text
    query = parse_qs(urlsplit(text).query if "://" in text else text.lstrip("?"))
    said = query.get("error", [""])[0]
    if said:
        raise AuthError(f"X did not authorize ecoinbox ({one_line(said, 60)})")
    state = query.get("state", [""])[0]
    if not hmac.compare_digest(state.encode(), pkce.state.encode()):
        raise PermanentError(
            "that address does not belong to this authorization (its state differs): start again"
        )
    code = query.get("code", [""])[0]
    if not code:
        raise PermanentError("that address has no code=...: paste the whole address the browser shows")
    return code


async def exchange_code(
    client: HttpClient, channel: str, client_id: str, code: str, redirect_uri: str, pkce: Pkce
) -> Grant:
    """Trade the authorization code (valid 30 s) and the PKCE verifier for tokens."""
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier, "client_id": client_id,
    }  # fmt: skip
    grant = await _token_request(client, channel, form)
    if not grant.refresh:
        raise AuthError(
            f"channel {channel}: X gave no refresh token (was offline.access refused?): "
            f"run `ecoinbox auth {channel}` again"
        )
    return grant


async def refresh_grant(client: HttpClient, channel: str, client_id: str, refresh_token: str) -> Grant:
    """A fresh access token, and the refresh token that replaces `refresh_token` (X rotates them:
    the old one is spent once this answers)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    grant = await _token_request(client, channel, form)
    return grant if grant.refresh else Grant(grant.access, refresh_token, grant.lifetime)


async def _token_request(client: HttpClient, channel: str, form: dict[str, str]) -> Grant:
    """POST /2/oauth2/token. X answers a bad code, verifier or refresh token with 400
    invalid_request, an unknown client with 401."""
    response = await client.request("POST", TOKEN_PATH, data=form, check=False)
    if response.status in (400, 401):
        said = platform_error(response.content) or str(response.status)
        raise AuthError(
            f"channel {channel}: X refused the authorization ({said}): check client_id in the config, "
            f"then run `ecoinbox auth {channel}`",
            status=response.status,
        )
    client.raise_for_status(response)
    data: Any = json_or_none(response.content)
    access = text_or_none(data.get("access_token")) if isinstance(data, dict) else None
    if not isinstance(data, dict) or access is None:
        raise TransientError(f"channel {channel}: malformed answer from X's token endpoint")
    refresh = text_or_none(data.get("refresh_token")) or ""
    register_secret(access)
    register_secret(refresh)
    expires = data.get("expires_in")
    seconds = expires if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0 else 0
    return Grant(access, refresh, timedelta(seconds=seconds) if seconds else DEFAULT_LIFETIME)
