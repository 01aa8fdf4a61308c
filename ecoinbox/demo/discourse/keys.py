"""Discourse's user API keys: the authorization page that hands an encrypted key back, revoking."""

from __future__ import annotations

import html

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from ecoinbox.demo.discourse.records import (
    ALLOWED_AUTH_REDIRECTS,
    ALLOWED_SCOPES,
    AUTH_API_VERSION,
    ApiError,
)
from ecoinbox.demo.discourse.state import DiscourseState
from ecoinbox.demo.discourse.wire import encrypt_payload, key_page
from ecoinbox.demo.loopback import (
    json_response,
)


class UserApiKeyRoutes(DiscourseState):
    # -- handlers: user API keys -------------------------------------------------------------

    async def _authorize_user_api_key(self, request: web.Request) -> web.StreamResponse:
        """The brand is signed in and approves at once. Without `auth_redirect` the page shows
        the encrypted payload to copy, as Discourse does for apps with no redirect."""
        if request.method == "HEAD":
            return web.Response(headers={"Auth-Api-Version": str(AUTH_API_VERSION)})
        query = request.query
        for name in ("public_key", "nonce", "scopes", "client_id", "application_name"):
            if not query.get(name):
                return key_page("Error", f"<p>param is missing or the value is empty: {name}</p>", 400)
        if not set(query["scopes"].split(",")) <= ALLOWED_SCOPES:
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 403)
        try:
            public_key = serialization.load_pem_public_key(query["public_key"].encode())
        except ValueError:
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 400)
        if not isinstance(public_key, rsa.RSAPublicKey):
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 400)
        redirect = query.get("auth_redirect")
        if redirect is not None and not redirect.startswith(ALLOWED_AUTH_REDIRECTS):
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 403)
        self._user_key_revoked = False
        payload = encrypt_payload(
            public_key,
            {"key": self._user_api_key, "nonce": query["nonce"], "push": False, "api": AUTH_API_VERSION},
            oaep=query.get("padding") == "oaep",
        )
        if redirect is not None:
            raise web.HTTPFound(str(URL(redirect).update_query(payload=payload)))
        name = html.escape(query["application_name"])
        return key_page(
            "User API Key",
            f"<p>Thank you for authorizing {name}. Please copy the key below and paste it in "
            f'the application.</p>\n<div class="user-api-key-display">\n'
            f'  <code id="user-api-key-payload">{payload}</code>\n</div>',
        )

    async def _revoke_user_api_key(self, request: web.Request) -> web.Response:
        if self._caller(request).via != "user_api_key":
            raise ApiError.not_found()
        self._user_key_revoked = True
        return json_response({"success": "OK"})
