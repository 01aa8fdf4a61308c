"""One X channel's calls to API v2: the access token (renewed from the rotating refresh token,
which is saved at once), X's errors in words, the rate limits it announces, and the daily read
budget every read is counted against."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import AuthError, PermanentError, RateLimited, TransientError
from ecoinbox.channels.http import (
    Clock,
    HttpClient,
    HttpResponse,
    channel_logger,
    platform_error,
    register_secret,
    renewed_token,
    utc_now,
)
from ecoinbox.channels.http_headers import int_or_none, parse_reset
from ecoinbox.channels.json_values import as_dict, json_or_none, objects, text_or_none
from ecoinbox.channels.x.budget import ReadBudget, in_words
from ecoinbox.channels.x.oauth import refresh_grant
from ecoinbox.channels.x.tweets import USER_FIELDS
from ecoinbox.model import Author

__all__ = ["XApi", "billed_posts"]

log = channel_logger(__name__)

TOKEN_MARGIN: Final = timedelta(minutes=2)  # renew an access token this long before it expires
USAGE_CAPPED_PAUSE: Final = timedelta(hours=1)


def billed_posts(body: Any) -> list[str]:
    """The posts (or DM events) X bills for an answer, by id: its data and the posts it includes."""
    data = as_dict(body).get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    items = [*items, *objects(as_dict(as_dict(body).get("includes")).get("tweets"))]
    return [str(item.get("id")) for item in items if isinstance(item, dict)]


class XApi:
    """Calls to X with a valid access token. The refresh and access tokens live only in HTTP
    headers and form bodies: never in `repr`, `str` or an error."""

    def __init__(
        self,
        name: str,
        base_url: str,
        refresh_token: str,
        *,
        client_id: str,
        budget: ReadBudget,
        save_token: Callable[[str], None] | None = None,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        refresh_token = refresh_token.strip()
        if not refresh_token:
            raise AuthError(f"no refresh token for channel {name}: run `ecoinbox auth {name}`")
        if not client_id.strip():
            raise AuthError(f"channel {name}: no client_id (your X app's OAuth 2.0 client id) in the config")
        register_secret(refresh_token)
        self.name = name
        self.client_id = client_id.strip()
        self.budget = budget
        self.limits: dict[str, tuple[int, int, datetime | None]] = {}  # path -> (remaining, limit, reset)
        self._save_token = save_token
        self._clock = clock
        self._http = HttpClient(name, base_url, timeout=timeout, clock=clock)
        self._token_http = HttpClient(name, base_url, timeout=timeout, clock=clock)  # no Bearer there
        self._refresh_token = refresh_token
        self._access_expires: datetime | None = None
        self._generation = 0  # counts access tokens, so concurrent 401s renew only once
        self._token_lock = asyncio.Lock()
        self._me: Author | None = None

    def __repr__(self) -> str:
        return f"XApi(name={self.name!r})"

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._token_http.aclose()

    def set_token(self, token: str) -> bool:
        """Use a renewed refresh token from now on; False when it is empty or the one in use."""
        renewed = renewed_token(token, self._refresh_token)
        if renewed is None:
            return False
        self._refresh_token = renewed
        self._access_expires = None
        self._http.set_auth_headers({})
        return True

    # -- calls ---------------------------------------------------------------------------

    async def read(self, path: str, params: dict[str, str]) -> Any:
        """One billed read (its JSON), refused before it is made when today's budget is spent."""
        now = self._clock()
        if self.budget.left(now) <= 0:
            raise RateLimited(
                f"channel {self.name}: today's X read budget is used up ({in_words(self.budget, now)}); "
                "reading resumes then (raise daily_reads to read more)",
                self.budget.resets_at(now),
            )
        body = (await self.request("GET", path, params=params)).json()
        self.budget.spend(billed_posts(body), self._clock())
        return body

    async def post(self, path: str, body: Any) -> Any:
        """One write (its JSON answer; a lost or unreadable one is UncertainSend)."""
        return (await self.request("POST", path, json=body)).json()

    async def whoami(self, *, renew: bool = False) -> Author:
        """The brand's account as X knows it (asked once; `renew` asks again with a new token)."""
        if renew:
            self._access_expires, self._me = None, None
        if self._me is not None:
            return self._me
        response = await self.request("GET", "/2/users/me", params={"user.fields": USER_FIELDS})
        data = as_dict(as_dict(response.json()).get("data"))
        user_id, username = text_or_none(data.get("id")), text_or_none(data.get("username"))
        if user_id is None or username is None or not user_id.isdigit():
            raise TransientError(f"channel {self.name}: malformed answer from {response.where}")
        profile = f"https://x.com/{username}"
        self._me = Author(self.name, user_id, username, str(data.get("name") or ""), profile, (profile,))
        return self._me

    async def request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None
    ) -> HttpResponse:
        """One API call with a valid access token, renewed once if X refuses it."""
        generation = await self._ensure_access()
        response = await self._http.request(method, path, params=params, json=json, check=False)
        if response.status == 401:
            await self._ensure_access(refused=generation)
            response = await self._http.request(method, path, params=params, json=json, check=False)
        self._note_limits(path, response)
        self._raise_for(response)
        return response

    # -- tokens --------------------------------------------------------------------------

    async def _ensure_access(self, refused: int | None = None) -> int:
        """An access token valid for a while yet, and its generation; `refused` renews even an
        unexpired one, unless another call already did. The rotated refresh token is saved first."""
        async with self._token_lock:
            expires = self._access_expires
            fresh = expires is not None and expires - TOKEN_MARGIN > self._clock()
            if fresh and refused != self._generation:
                return self._generation
            grant = await refresh_grant(self._token_http, self.name, self.client_id, self._refresh_token)
            if grant.refresh != self._refresh_token:
                self._refresh_token = grant.refresh
                await self._keep(grant.refresh)
            self._http.set_auth_headers({"Authorization": f"Bearer {grant.access}"})
            self._access_expires = self._clock() + grant.lifetime
            self._generation += 1
            return self._generation

    async def _keep(self, refresh: str) -> None:
        """Save the refresh token X rotated in (the old one is spent): a failure is said, since the
        next start would need `ecoinbox auth` again."""
        if self._save_token is None:
            return
        try:
            await asyncio.to_thread(self._save_token, refresh)
        except Exception as exc:  # noqa: BLE001  the keyring's many failures: the channel goes on
            log.warning(
                "channel %s: could not keep X's new refresh token (%s): after a restart, run "
                "`ecoinbox auth %s` again", self.name, type(exc).__name__, self.name,
            )  # fmt: skip

    # -- answers -------------------------------------------------------------------------

    def _note_limits(self, path: str, response: HttpResponse) -> None:
        remaining = int_or_none(response.headers.get("x-rate-limit-remaining"))
        limit = int_or_none(response.headers.get("x-rate-limit-limit"))
        if remaining is not None and limit is not None:
            reset = parse_reset(response.headers.get("x-rate-limit-reset"), self._clock())
            self.limits[_family(path)] = (remaining, limit, reset)

    def _raise_for(self, response: HttpResponse) -> None:
        """X's errors in words: 401 after a renewal, 403 (a refusal of this request, not the
        token, unless it names a permission), 429 for a usage cap (credits), the rest as usual."""
        status, where = response.status, response.where
        if 200 <= status < 300:
            return
        said = platform_error(response.content)
        kind = str(as_dict(json_or_none(response.content)).get("type") or "")
        if status == 401:
            raise AuthError(
                f"channel {self.name}: {where} refused a fresh access token (401): run `ecoinbox auth {self.name}`",
                status=401,
            )
        if status == 403:
            if any(word in said.casefold() for word in ("scope", "permission", "oauth")):
                raise AuthError(
                    f"channel {self.name}: the token lacks a permission {where} needs ({said}): "
                    f"run `ecoinbox auth {self.name}` again",
                    status=403,
                )
            raise PermanentError(f"channel {self.name}: X refused this ({said or '403'})")
        if status == 429 and "usage-capped" in kind:
            raise RateLimited(
                f"channel {self.name}: X's usage cap for your app is reached ({said or 'usage capped'}): "
                "add credits or wait for the cap's reset in the developer console; retrying in 1 h",
                self._clock() + USAGE_CAPPED_PAUSE,
            )
        self._http.raise_for_status(response)


def _family(path: str) -> str:
    """A path with its ids out: the rate limit it counts against ("/2/users/:id/mentions")."""
    return "/".join(":id" if part.isdigit() and len(part) > 1 else part for part in path.split("/"))
