"""Mastodon OAuth for `ecoinbox auth` (out-of-band: the server shows a code to paste): the app's
registration, the authorization URL and the exchange of the code for a token."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    TransientError,
)
from ecoinbox.channels.http import (
    HttpClient,
    platform_error,
    register_secret,
)
from ecoinbox.channels.json_values import as_dict

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = "read:notifications read:statuses read:accounts read:search read:follows write:statuses"
APP_NAME = "ecoinbox"


async def register_app(base_url: str, client: HttpClient) -> tuple[str, str]:
    """Register ecoinbox on the instance; return (client_id, client_secret)."""
    response = await client.request(
        "POST",
        _absolute(base_url, "/api/v1/apps"),
        data={
            "client_name": APP_NAME,
            "redirect_uris": OOB_REDIRECT,
            "scopes": SCOPES,
        },
    )
    data = as_dict(response.json())
    client_id, client_secret = data.get("client_id"), data.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise TransientError(f"malformed response from {urlsplit(base_url).netloc}/api/v1/apps")
    register_secret(client_secret)
    return client_id, client_secret


def authorize_url(base_url: str, client_id: str) -> str:
    """The page where the brand account approves ecoinbox and is shown a code to paste.

    `force_login` makes the server ask which account to use: a manager's browser is often
    logged in as themselves, not as the brand.
    """
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": OOB_REDIRECT,
            "scope": SCOPES,
            "force_login": "true",
        }
    )
    return _absolute(base_url, "/oauth/authorize") + "?" + query


async def exchange_code(
    base_url: str, client_id: str, client_secret: str, code: str, client: HttpClient
) -> str:
    """Trade the pasted authorization code for an access token."""
    response = await client.request(
        "POST",
        _absolute(base_url, "/oauth/token"),
        data={
            "grant_type": "authorization_code",
            "code": code.strip(),
            "redirect_uri": OOB_REDIRECT,
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": SCOPES,
        },
        check=False,
    )
    if response.status in (400, 401):  # OAuth errors: invalid_grant, invalid_client
        said = platform_error(response.content) or str(response.status)
        raise AuthError(
            f"{urlsplit(base_url).netloc} refused the authorization code ({said}): "
            "open the authorization page again and paste the new code"
        )
    client.raise_for_status(response)
    token = as_dict(response.json()).get("access_token")
    if not isinstance(token, str) or not token:
        raise TransientError(f"malformed response from {urlsplit(base_url).netloc}/oauth/token")
    register_secret(token)
    return token


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


__all__ = ["APP_NAME", "OOB_REDIRECT", "SCOPES", "authorize_url", "exchange_code", "register_app"]
