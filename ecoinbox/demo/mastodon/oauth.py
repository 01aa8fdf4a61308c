"""Mastodon's OAuth: apps, the authorization page, codes and tokens (`/oauth/*`, `/api/v1/apps`)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import (
    json_response,
    param,
)
from ecoinbox.demo.mastodon.records import (
    ApiError,
    App,
    Grant,
)
from ecoinbox.demo.mastodon.state import MastodonState
from ecoinbox.demo.mastodon.wire import (
    oauth_page,
    oauth_state,
    parse_redirect_uris,
    read_params,
)

OAUTH_CODE_TTL = timedelta(minutes=10)
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"


class OAuthRoutes(MastodonState):
    # -- handlers: OAuth ---------------------------------------------------------------------

    async def _oauth_metadata(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "issuer": f"{self.base_url}/",
                "authorization_endpoint": f"{self.base_url}/oauth/authorize",
                "token_endpoint": f"{self.base_url}/oauth/token",
                "app_registration_endpoint": f"{self.base_url}/api/v1/apps",
                "scopes_supported": ["read", "write", "push", "profile"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def _create_app(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        name = param(params, "client_name")
        uris = parse_redirect_uris(params)
        if not name:
            raise ApiError(422, "Validation failed: Application name can't be blank")
        if not uris:
            raise ApiError(422, "Validation failed: Redirect URI can't be blank")
        app = App(
            id=self._ids.next(self._now()),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=uris,
            scopes=param(params, "scopes") or "read",
            website=param(params, "website"),
        )
        self._apps[app.client_id] = app
        return json_response(
            {
                "id": app.id,
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes.split(),
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": list(app.redirect_uris),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Approve at once (the demo user is signed in and consents) and show or send the code."""
        query = request.query
        app = self._apps.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if app is None or redirect_uri not in app.redirect_uris:
            return oauth_page(
                "Authorization error", "<p>invalid_client: unknown client or redirect URI.</p>", 400
            )
        if query.get("response_type") != "code":
            return oauth_page("Authorization error", "<p>unsupported_response_type</p>", 400)
        requested = query.get("scope") or app.scopes
        if not set(requested.split()) <= set(app.scopes.split()):
            # Mastodon: the app's registered scopes must include every scope asked for here.
            return oauth_page("Authorization error", "<p>invalid_scope: The requested scope is invalid, "
                               "unknown, or malformed.</p>", 400)  # fmt: skip
        code = secrets.token_urlsafe(32)
        self._grants[code] = Grant(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scopes=requested,
            expires_at=self._now() + OAUTH_CODE_TTL,
            code_challenge=query.get("code_challenge"),
        )
        if redirect_uri != OOB_REDIRECT:
            target = URL(redirect_uri).update_query(code=code, **oauth_state(query))
            raise web.HTTPFound(str(target))
        return oauth_page(
            "Authorization code",
            "<p>Copy this authorization code and paste it to the application.</p>\n"
            f'<input class="oauth-code" readonly type="text" value="{code}">',
        )

    async def _token_grant(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        if param(params, "grant_type") != "authorization_code":
            raise ApiError(
                400,
                "unsupported_grant_type",
                error_description="The authorization grant type is not supported by the "
                "authorization server.",
            )
        app = self._apps.get(param(params, "client_id") or "")
        if app is None or param(params, "client_secret") != app.client_secret:
            raise ApiError(
                401,
                "invalid_client",
                error_description="Client authentication failed due to unknown client, no client "
                "authentication included, or unsupported authentication method.",
            )
        grant = self._grants.pop(param(params, "code") or "", None)
        if grant is None or not self._grant_matches(grant, app, params):
            raise ApiError(
                400,
                "invalid_grant",
                error_description="The provided authorization grant is invalid, expired, revoked, "
                "does not match the redirection URI used in the authorization request, "
                "or was issued to another client.",
            )
        self.token_scopes = frozenset(grant.scopes.split())
        return json_response(
            {
                "access_token": self._token,
                "token_type": "Bearer",
                "scope": grant.scopes,
                "created_at": int(self._now().timestamp()),
            }
        )

    def _grant_matches(self, grant: Grant, app: App, params: Mapping[str, Any]) -> bool:
        if grant.client_id != app.client_id or grant.expires_at <= self._now():
            return False
        if param(params, "redirect_uri") != grant.redirect_uri:
            return False
        if grant.code_challenge is None:
            return True
        verifier = (param(params, "code_verifier") or "").encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        return digest.decode() == grant.code_challenge
