"""MediaWiki's Action API (api.php) for one channel: sign-in, tokens, and errors in words.

Two ways in. A bot password (Special:BotPasswords): `action=login` with a login token, then the
session cookie the wiki sets (kept by the channel's one HTTP client) carries every request; a
session the wiki forgot (`assertuserfailed`) signs in again once. An OAuth 2.0 owner-only access
token (Special:OAuthConsumerRegistration): sent as `Authorization: Bearer`, nothing to sign in.

Every request asks `assert=user` (the wiki refuses rather than act anonymously) and `maxlag`
(a lagged wiki says so with `Retry-After`, and the channel waits that long: the etiquette the
wiki asks of bots). Errors come back as JSON `{"error": {"code": ...}}` with status 200.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from ecoinbox.channels.base import AuthError, PermanentError, RateLimited, TransientError
from ecoinbox.channels.http import (
    HttpClient,
    HttpResponse,
    one_line,
    parse_retry_after,
    register_secret,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, text_or_none

__all__ = ["AUTH_MODES", "BOT_PASSWORD", "MAXLAG", "OAUTH2", "EditConflict", "WikiApi", "WikiError"]

BOT_PASSWORD: Final = "bot_password"
OAUTH2: Final = "oauth2"
AUTH_MODES: Final = (BOT_PASSWORD, OAUTH2)
MAXLAG: Final = "5"  # seconds of replication lag past which the wiki asks bots to wait
MAXLAG_WAIT: Final = timedelta(seconds=5)  # when its Retry-After says nothing
THROTTLE_WAIT: Final = timedelta(seconds=60)  # `ratelimited`: the wiki says no more than that
SESSION_LOST: Final = frozenset({"assertuserfailed", "assertnameduserfailed", "notloggedin"})
TOKEN_REFUSED: Final = frozenset({
    "mwoauth-invalid-authorization", "mwoauth-invalid-authorization-invalid-user",
    "mwoauth-invalid-authorization-wrong-user", "mwoauth-invalid-authorization-not-approved",
})  # fmt: skip
DENIED: Final = {
    "permissiondenied": "the account may not do this",
    "protectedpage": "the page is protected",
    "cascadeprotected": "the page is protected",
    "blocked": "the account is blocked on this wiki",
    "autoblocked": "the account's address is blocked on this wiki",
    "readapidenied": "the account may not read this wiki",
    "writeapidenied": "the account may not edit through the API (its grants)",
    "mwoauth-invalid-authorization-blocked-user": "the account is blocked on this wiki",
}


class WikiError(PermanentError):
    """The wiki refused a request; `code` is its error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class EditConflict(TransientError):
    """Someone saved the page between our read and our edit: read it again and retry."""


class WikiApi:
    """api.php of one wiki, signed in as the brand's account."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        secret: str,
        *,
        auth: str,
        login_name: str | None,
        timeout: float,
        clock: Any = utc_now,
        http: HttpClient | None = None,
    ) -> None:
        if not secret.strip():
            raise AuthError(f"no credentials for channel {channel}: run `ecoinbox auth {channel}`")
        if auth == BOT_PASSWORD and not (login_name or "").strip():
            raise AuthError(
                f'channel {channel}: set `account` to the bot password\'s login name, e.g. "Acme@ecoinbox"'
            )
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.login_name = (login_name or "").strip()
        self.clock = clock
        self._secret = secret.strip()
        register_secret(self._secret)
        headers = {"Authorization": f"Bearer {self._secret}"} if auth == OAUTH2 else {}
        self.http = http or HttpClient(
            channel, self.base_url, auth_headers=headers, timeout=timeout, clock=clock
        )
        self.user = ""  # the account's user name, once known (what its signature links to)
        self._signed_in = auth == OAUTH2
        self._csrf: str | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- requests --------------------------------------------------------------------------------

    async def get(self, **params: str) -> dict[str, Any]:
        """A read: `params` of api.php, the JSON answer."""
        return await self._call("GET", params)

    async def post(self, **params: str) -> dict[str, Any]:
        """A write, with the CSRF token; a token the wiki no longer takes is fetched once again."""
        for attempt in range(2):
            token = await self.csrf_token()
            try:
                return await self._call("POST", {**params, "token": token})
            except WikiError as exc:
                if exc.code != "badtoken" or attempt:
                    raise
                self._csrf = None
        raise AssertionError("unreachable")

    async def _call(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        if not self._signed_in:
            await self.sign_in()
        for attempt in range(2):
            try:
                return await self._once(method, params)
            except WikiError as exc:
                if exc.code not in SESSION_LOST or self.auth != BOT_PASSWORD or attempt:
                    raise
                self._signed_in, self._csrf = False, None  # the wiki forgot the session: once more
                await self.sign_in()
        raise AssertionError("unreachable")

    async def _once(self, method: str, params: dict[str, str], *, signed: bool = True) -> dict[str, Any]:
        query = {"format": "json", "formatversion": "2", "maxlag": MAXLAG, **params}
        if signed:
            query["assert"] = "user"
        if method == "GET":
            response = await self.http.request("GET", "/api.php", params=query)
        else:
            response = await self.http.request("POST", "/api.php", data=query)
        data = as_dict(response.json())
        error = _first_error(data)
        if error is not None:
            raise self._error(response, *error)
        return data

    def _error(self, response: HttpResponse, code: str, said: str) -> Exception:
        where = f"{self.http.channel}: {response.where}"
        if code == "maxlag":
            now = self.clock()
            until = parse_retry_after(response.headers.get("retry-after"), now) or now + MAXLAG_WAIT
            return RateLimited(
                f"channel {where}: the wiki's database is lagging ({said}); waiting as it asks", until
            )
        if code in ("ratelimited", "actionthrottled"):
            return RateLimited(f"channel {where}: the wiki's edit rate limit was reached ({said})",
                               self.clock() + THROTTLE_WAIT)  # fmt: skip
        if code == "editconflict":
            return EditConflict(f"channel {where}: edit conflict ({said})")
        if code in TOKEN_REFUSED:
            return AuthError(f"the OAuth token for channel {self.channel} was refused ({said}): "
                             f"run `ecoinbox auth {self.channel}`", status=response.status)  # fmt: skip
        if code in DENIED:
            return WikiError(f"channel {where}: {DENIED[code]} ({said})", code)
        if code in SESSION_LOST and self.auth == OAUTH2:
            return AuthError(f"channel {self.channel}: the wiki does not take the OAuth token ({said}): "
                             f"run `ecoinbox auth {self.channel}`")  # fmt: skip
        return WikiError(f"channel {where} refused the request ({code}: {said})", code)

    # -- signing in ------------------------------------------------------------------------------

    async def sign_in(self) -> str:
        """Sign in with the bot password (a login token first); the account's user name."""
        if self.auth == OAUTH2:
            info = await self.get(action="query", meta="userinfo")
            self.user = str(as_dict(as_dict(info.get("query")).get("userinfo")).get("name") or "")
            return self.user
        tokens = await self._once("GET", {"action": "query", "meta": "tokens", "type": "login"}, signed=False)
        login_token = text_or_none(as_dict(as_dict(tokens.get("query")).get("tokens")).get("logintoken"))
        if login_token is None:
            raise TransientError(f"channel {self.channel}: the wiki gave no login token")
        answer = await self._once("POST", {"action": "login", "lgname": self.login_name,
                                           "lgpassword": self._secret, "lgtoken": login_token}, signed=False)  # fmt: skip
        login = as_dict(answer.get("login"))
        if login.get("result") != "Success":
            reason = one_line(str(login.get("reason") or login.get("result") or "no reason given"))
            raise AuthError(
                f"the wiki refused the bot password of channel {self.channel} ({reason}): check `account` "
                f'("User@app", as Special:BotPasswords shows it) and run `ecoinbox auth {self.channel}`'
            )
        self.user = str(login.get("lgusername") or self.login_name.partition("@")[0])
        self._signed_in = True
        return self.user

    async def csrf_token(self) -> str:
        if self._csrf is None:
            tokens = await self.get(action="query", meta="tokens")
            token = text_or_none(as_dict(as_dict(tokens.get("query")).get("tokens")).get("csrftoken"))
            if token is None or token == "+\\":  # "+\" is the anonymous token: the session is gone
                raise TransientError(f"channel {self.channel}: the wiki gave no edit token")
            self._csrf = token
        return self._csrf

    async def whoami(self) -> str:
        """The account's user name (signs in if needed)."""
        if not self.user:
            await self.sign_in()
        return self.user


def _first_error(data: dict[str, Any]) -> tuple[str, str] | None:
    """(code, text) of an error answer: `error` (formatversion 2) or `errors` (errorformat)."""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or "unknown"), one_line(
            str(error.get("info") or error.get("text") or "")
        )
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("code") or "unknown"), one_line(
            str(first.get("text") or first.get("info") or "")
        )
    return None
