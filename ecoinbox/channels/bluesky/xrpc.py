"""Bluesky's XRPC session: the app password exchanged for access and refresh JWTs, kept in memory.

`createSession` is allowed 30 times in 5 minutes: an expired access token (400 ExpiredToken) is
renewed with `refreshSession`; only when the refresh token is refused is a new session created, at
most once per request, never in a loop, and never again with a password the server refused until
another one is given (`set_password`). A session opened with the account's main password (scope
`com.atproto.access`, full access) is ended and refused, in words, unless the channel allows it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ecoinbox.channels.base import (
    AuthError,
    ChannelError,
    PermanentError,
    RateLimited,
    TransientError,
)
from ecoinbox.channels.http import (
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
    redact,
    register_secret,
)
from ecoinbox.channels.json_values import as_dict

log = channel_logger(__name__)

# createSession is limited to 30 per 5 minutes per account: we allow ourselves a third of it.
SESSION_BUDGET = 10
SESSION_WINDOW = timedelta(minutes=5)


# Errors that mean "this access token no longer works" (renew and try once more).
_STALE_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
# The access JWT's `scope` claim of a session opened with the account's main password (an app
# password's is "com.atproto.appPass" or "com.atproto.appPassPrivileged"): atproto's PDS,
# packages/pds/src/auth-scope.ts.
MAIN_PASSWORD_SCOPE = "com.atproto.access"


# How a PDS says a record is not there: the lexicon's name, or older PDSes' InvalidRequest.
_NOT_FOUND_MESSAGE = "Could not locate record"


class XrpcRefusal(PermanentError):
    """A 400 answer: the request was refused for good; `error` is the lexicon's error name
    ("RecordNotFound", "NotFound", "InvalidRequest"...)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True, slots=True)
class Session:
    """An open session: its JWTs (secrets), and who it signed in as."""

    access: str
    refresh: str
    did: str
    handle: str


class XrpcSession:
    """XRPC calls to one PDS as one account, with a session opened from the app password.

    The password and the session's JWTs live only here, in memory: never in `repr`, an error or
    a log line (they are registered as secrets for redaction)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        handle: str,
        password: str,
        *,
        timeout: float,
        clock: Callable[[], datetime],
        account_password: bool,
    ) -> None:
        self.name = name
        self.handle = handle
        self.host = urlsplit(base_url).netloc
        self._clock = clock
        self._password = password
        self._account_password = account_password
        register_secret(password)
        self.http = HttpClient(name, base_url, timeout=timeout, clock=clock)
        self.session: Session | None = None
        self._lock = asyncio.Lock()
        self._password_refused: AuthError | None = None
        self.sign_ins: list[datetime] = []  # when createSession was asked lately (SESSION_BUDGET)

    def __repr__(self) -> str:
        return f"XrpcSession(name={self.name!r}, host={self.host!r}, handle={self.handle!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    def set_password(self, password: str) -> bool:
        """Sign in with `password` from now on; False when it is the one in use."""
        if password == self._password:
            return False
        register_secret(password)
        self._password = password
        self._password_refused = None
        self.session = None  # the new password may belong to another account: sign in again
        return True

    async def call(self, method: str, nsid: str, *, params: Any = None, body: Any = None) -> HttpResponse:
        """One XRPC call with the session's access token; a stale token is renewed once."""
        session = await self.current()
        response = await self._send(method, nsid, session.access, params=params, body=body)
        if _stale_token(response):
            session = await self._renew(session)
            response = await self._send(method, nsid, session.access, params=params, body=body)
            if _stale_token(response):  # a fresh token refused at once: clocks disagree, or worse
                raise TransientError(
                    f"channel {self.name}: {response.where} refused a fresh session "
                    f"({_error_text(response)}); trying again later"
                )
        self.raise_for(response)
        return response

    async def _send(
        self, method: str, nsid: str, token: str | None, *, params: Any = None, body: Any = None
    ) -> HttpResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return await self.http.request(
            method, "/xrpc/" + nsid, params=params, json=body, headers=headers, check=False
        )

    async def current(self) -> Session:
        """The session in use, opened now if there is none."""
        if self.session is not None:
            return self.session
        async with self._lock:
            if self.session is None:
                self.session = await self._create_session()
            return self.session

    async def _renew(self, stale: Session) -> Session:
        """A session whose access token works: another task's renewal, a refreshed one, or, if
        the refresh token is refused, a new one (one createSession, no more)."""
        async with self._lock:
            if self.session is not None and self.session is not stale:
                return self.session  # renewed meanwhile by another request
            response = await self._send("POST", "com.atproto.server.refreshSession", stale.refresh)
            if 200 <= response.status < 300:
                self.session = self._parse_session(response, fallback=stale)
                return self.session
            if response.status not in (400, 401):
                self.raise_for(response)  # 429, 5xx: try again later with the same session
            log.info(
                "channel %s: the refresh token was refused (%s); signing in again",
                self.name,
                _error_name(response) or response.status,
            )
            self.session = None
            self.session = await self._create_session()
            return self.session

    async def _create_session(self) -> Session:
        if self._password_refused is not None:
            raise self._password_refused  # no request: the same password would be refused again
        now = self._clock()
        self.sign_ins = [at for at in self.sign_ins if now - at < SESSION_WINDOW]
        if len(self.sign_ins) >= SESSION_BUDGET:
            retry_at = self.sign_ins[0] + SESSION_WINDOW
            raise RateLimited(
                f"channel {self.name}: signed in {SESSION_BUDGET} times in 5 minutes; the next "
                f"sign-in waits until {retry_at.astimezone(UTC):%H:%M:%S} UTC",
                retry_at,
            )
        self.sign_ins.append(now)
        response = await self._send(
            "POST",
            "com.atproto.server.createSession",
            None,
            body={"identifier": self.handle, "password": self._password},
        )
        if response.status == 401 or (response.status == 400 and _error_name(response) in _SIGN_IN_REFUSALS):
            self._password_refused = self._sign_in_refused(response)
            raise self._password_refused
        self.raise_for(response)
        session = self._parse_session(response)
        if session_scope(session.access) == MAIN_PASSWORD_SCOPE and not self._account_password:
            await self._end_session(session)
            self._password_refused = self._main_password_refused()
            raise self._password_refused
        return session

    def _main_password_refused(self) -> AuthError:
        return AuthError(
            f"channel {self.name}: this is the main password of @{self.handle}, not an app "
            f"password; ecoinbox does not use it (it could change the account's password or "
            f"delete the account). Create an app password in Bluesky's Settings > Privacy and "
            f"security > App passwords, then run `ecoinbox auth {self.name}`. (A PDS without app "
            f'passwords: set auth = "account_password" for this channel to accept it.)'
        )

    async def _end_session(self, session: Session) -> None:
        """Sign a session out (best effort): a full-access session must not linger unused."""
        try:
            await self._send("POST", "com.atproto.server.deleteSession", session.refresh)
        except ChannelError as exc:
            log.info("channel %s: could not end the refused session: %s", self.name, exc)

    def _sign_in_refused(self, response: HttpResponse) -> AuthError:
        error = _error_name(response)
        why = _SIGN_IN_REFUSALS.get(error, "the handle or the app password is wrong")
        return AuthError(
            f"{self.host} refused to sign channel {self.name} in as @{self.handle} ({why}): create "
            f"an app password in Bluesky's Settings > Privacy and security > App passwords, then "
            f"run `ecoinbox auth {self.name}`",
            status=response.status,
        )

    def _parse_session(self, response: HttpResponse, fallback: Session | None = None) -> Session:
        data = as_dict(response.json())
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        did = data.get("did") or (fallback.did if fallback else None)
        handle = data.get("handle") or (fallback.handle if fallback else self.handle)
        if not (isinstance(access, str) and isinstance(refresh, str) and isinstance(did, str)):
            raise TransientError(f"channel {self.name}: malformed session from {self.host}")
        if not (access and refresh and did):
            raise TransientError(f"channel {self.name}: malformed session from {self.host}")
        register_secret(access)
        register_secret(refresh)
        return Session(access=access, refresh=refresh, did=did, handle=str(handle))

    def raise_for(self, response: HttpResponse) -> None:
        """Map an XRPC error answer: 400s carry the lexicon's error name and message."""
        if 200 <= response.status < 300:
            return
        if response.status == 400:
            said = _error_text(response)
            raise XrpcRefusal(
                f"channel {self.name}: {response.where} refused the request ({said or 400})",
                _error_name(response),
            )
        if response.status == 401:
            said = _error_text(response)
            raise AuthError(
                f"channel {self.name}: {response.where} refused the session ({said or 401}): "
                f"run `ecoinbox auth {self.name}` if it happens again",
                status=401,
            )
        self.http.raise_for_status(response)


_SIGN_IN_REFUSALS = {
    "AuthenticationRequired": "the handle or the app password is wrong",
    "AuthFactorTokenRequired": "the account password needs an email code: use an app password",
    "AccountTakedown": "the account was taken down",
    "AccountDeactivated": "the account is deactivated",
    "InvalidRequest": "the handle or the app password is wrong",
}


def session_scope(jwt: str) -> str | None:
    """The `scope` claim of a PDS access JWT (its payload is plain base64url JSON; no signature
    check: only the PDS could, and it just made it), or None when the token is not a JWT."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    scope = as_dict(claims).get("scope")
    return scope if isinstance(scope, str) else None


def record_not_found(exc: XrpcRefusal) -> bool:
    """A `getRecord` refusal that means "no such record" (RecordNotFound, or older PDSes'
    InvalidRequest with the same message)."""
    return exc.error == "RecordNotFound" or (exc.error == "InvalidRequest" and _NOT_FOUND_MESSAGE in str(exc))


def parent_missing(exc: ChannelError, parent_uri: str) -> bool:
    """A `createRecord` refusal because the reply's parent is not there any more."""
    return isinstance(exc, XrpcRefusal) and _NOT_FOUND_MESSAGE in str(exc) and parent_uri in str(exc)


def _stale_token(response: HttpResponse) -> bool:
    return response.status in (400, 401) and _error_name(response) in _STALE_TOKEN_ERRORS


def _error_json(response: HttpResponse) -> dict[str, Any]:
    try:
        return as_dict(json.loads(response.content))
    except (ValueError, UnicodeDecodeError):
        return {}


def _error_name(response: HttpResponse) -> str:
    name = _error_json(response).get("error")
    return name if isinstance(name, str) else ""


def _error_text(response: HttpResponse) -> str:
    """The "Name: message" of an XRPC error body, as one short, token-free line."""
    data = _error_json(response)
    parts = [str(data[key]) for key in ("error", "message") if isinstance(data.get(key), str) and data[key]]
    return one_line(redact(": ".join(parts)))


__all__ = [
    "MAIN_PASSWORD_SCOPE",
    "SESSION_BUDGET",
    "Session",
    "XrpcRefusal",
    "XrpcSession",
    "parent_missing",
    "record_not_found",
    "session_scope",
]
