"""The YouTube Data API as the channel calls it: Google's access tokens renewed from the refresh
token, every call counted against the day's quota, and the API's errors in words."""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import AuthError, PermanentError, RateLimited, TransientError
from ecoinbox.channels.http import Clock, HttpClient, HttpResponse, one_line
from ecoinbox.channels.json_values import as_dict, json_or_none, objects
from ecoinbox.channels.youtube import quota as units
from ecoinbox.channels.youtube.oauth import Grant, parse_secret, refresh_access_token

__all__ = ["DataApi"]

TOKEN_MARGIN: Final = timedelta(minutes=2)
RATE_PAUSE: Final = timedelta(seconds=60)  # rateLimitExceeded says no time: wait a minute


class DataApi:
    """One channel's connection to the Data API (`base_url`) and Google's token endpoint."""

    def __init__(
        self, name: str, base_url: str, secret: str, *, client_id: str, token_url: str, quota: units.Quota,
        timeout: float, clock: Clock,
    ) -> None:  # fmt: skip
        self._grant: Grant = parse_secret(secret, name)
        if not client_id.strip():
            raise AuthError(f"channel {name}: no client_id (your Google OAuth client's id) in the config")
        self.name = name
        self.client_id = client_id.strip()
        self.quota = quota
        self._clock = clock
        self._http = HttpClient(name, base_url, timeout=timeout, clock=clock)
        self._token_http = HttpClient(name, token_url, timeout=timeout, clock=clock)
        self._access_expires: datetime | None = None
        self._generation = 0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._token_http.aclose()

    def forget_access(self) -> None:
        """The next call renews the access token first (`check` proves the refresh token works)."""
        self._access_expires = None

    def set_secret(self, secret: str) -> bool:
        """Use a renewed secret from now on; False when it is empty, unreadable or the one in use."""
        try:
            grant = parse_secret(secret, self.name)
        except AuthError:
            return False
        if hmac.compare_digest(grant.refresh_token.encode(), self._grant.refresh_token.encode()):
            return False
        self._grant = grant
        self._access_expires = None
        self._http.set_auth_headers({})
        return True

    def _client_form(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self._grant.client_secret:
            form["client_secret"] = self._grant.client_secret
        return form

    async def _ensure_access(self, refused: int | None = None) -> int:
        async with self._token_lock:
            expires = self._access_expires
            fresh = expires is not None and expires - TOKEN_MARGIN > self._clock()
            if fresh and refused != self._generation:
                return self._generation
            token, lifetime = await refresh_access_token(
                self._token_http, self.name, self._client_form(), self._grant.refresh_token
            )
            self._http.set_auth_headers({"Authorization": f"Bearer {token}"})
            self._access_expires = self._clock() + lifetime
            self._generation += 1
            return self._generation

    async def call(
        self,
        method: str,
        path: str,
        cost: int,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        reserve: int = 0,
    ) -> HttpResponse:
        """One API call, counted against the quota (refused here, without the network, when the
        day's units are used up), with a fresh access token (renewed once on a 401)."""
        now = self._clock()
        blocked = self.quota.blocked_until(cost, now, reserve=reserve)
        if blocked is not None:
            raise RateLimited(f"channel {self.name}: {self.quota.blocked_words(now)}", blocked)
        generation = await self._ensure_access()
        response = await self._http.request(method, path, params=params, json=json, check=False)
        self.quota.spend(cost, self._clock())  # every request costs, even a refused one
        if response.status == 401:
            await self._ensure_access(refused=generation)
            response = await self._http.request(method, path, params=params, json=json, check=False)
            self.quota.spend(cost, self._clock())
        self._raise_for(response)
        return response

    def _raise_for(self, response: HttpResponse) -> None:
        if 200 <= response.status < 300:
            return
        error = as_dict(as_dict(json_or_none(response.content)).get("error"))
        reasons = {str(e.get("reason")) for e in objects(error.get("errors"))}
        said = one_line(str(error.get("message") or ""), limit=120)
        now = self._clock()
        if response.status == 401:
            raise AuthError(
                f"channel {self.name}: YouTube refused a fresh access token (401): "
                f"run `ecoinbox auth {self.name}`",
                status=401,
            )
        if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
            until = self.quota.refused(now)
            raise RateLimited(f"channel {self.name}: {self.quota.paused_words(now)}", until)
        if reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
            raise RateLimited(
                f"channel {self.name}: YouTube asks ecoinbox to slow down; it tries again in a minute",
                now + RATE_PAUSE,
            )
        if "commentsDisabled" in reasons:
            raise PermanentError(f"channel {self.name}: comments are turned off on this video")
        if reasons & {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}:
            raise AuthError(
                f"channel {self.name}: the authorization lacks the right to manage comments: "
                f"run `ecoinbox auth {self.name}` again",
                status=response.status,
            )
        if response.status == 403:
            raise PermanentError(
                f"channel {self.name}: YouTube refused ({said or 'forbidden'}): is the account "
                "authorized the owner of the channel (or one of its moderators)?"
            )
        if response.status == 404 and reasons & {"commentNotFound", "parentCommentNotFound"}:
            raise PermanentError(f"channel {self.name}: that comment is no longer on YouTube")
        self._http.raise_for_status(response)

    async def get(self, path: str, params: dict[str, str], *, reserve: int = 0) -> dict[str, Any]:
        response = await self.call("GET", path, units.LIST, params=params, reserve=reserve)
        body = json_or_none(response.content)
        if not isinstance(body, dict):
            raise TransientError(f"channel {self.name}: malformed answer from {response.where}")
        return body
