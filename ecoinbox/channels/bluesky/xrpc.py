"""XRPC session (move only)."""

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
class _Session:
    access: str
    refresh: str
    did: str
    handle: str



    # -- session -----------------------------------------------------------------------------

    async def _call(self, method: str, nsid: str, *, params: Any = None, body: Any = None) -> HttpResponse:
        """One XRPC call with the session's access token; a stale token is renewed once."""
        session = await self._current_session()
        response = await self._send(method, nsid, session.access, params=params, body=body)
        if _stale_token(response):
            session = await self._renew(session)
            response = await self._send(method, nsid, session.access, params=params, body=body)
            if _stale_token(response):  # a fresh token refused at once: clocks disagree, or worse
                raise TransientError(
                    f"channel {self.name}: {response.where} refused a fresh session "
                    f"({_error_text(response)}); trying again later"
                )
        self._raise_for(response)
        return response

    async def _send(
        self, method: str, nsid: str, token: str | None, *, params: Any = None, body: Any = None
    ) -> HttpResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return await self._http.request(
            method, "/xrpc/" + nsid, params=params, json=body, headers=headers, check=False
        )

    async def _current_session(self) -> _Session:
        if self._session is not None:
            return self._session
        async with self._session_lock:
            if self._session is None:
                self._session = await self._create_session()
            return self._session

    async def _renew(self, stale: _Session) -> _Session:
        """A session whose access token works: another task's renewal, a refreshed one, or, if
        the refresh token is refused, a new one (one createSession, no more)."""
        async with self._session_lock:
            if self._session is not None and self._session is not stale:
                return self._session  # renewed meanwhile by another request
            response = await self._send("POST", "com.atproto.server.refreshSession", stale.refresh)
            if 200 <= response.status < 300:
                self._session = self._parse_session(response, fallback=stale)
                return self._session
            if response.status not in (400, 401):
                self._raise_for(response)  # 429, 5xx: try again later with the same session
            log.info(
                "channel %s: the refresh token was refused (%s); signing in again",
                self.name,
                _error_name(response) or response.status,
            )
            self._session = None
            self._session = await self._create_session()
            return self._session

    async def _create_session(self) -> _Session:
        if self._password_refused is not None:
            raise self._password_refused  # no request: the same password would be refused again
        now = self._clock()
        self._session_attempts = [at for at in self._session_attempts if now - at < SESSION_WINDOW]
        if len(self._session_attempts) >= SESSION_BUDGET:
            retry_at = self._session_attempts[0] + SESSION_WINDOW
            raise RateLimited(
                f"channel {self.name}: signed in {SESSION_BUDGET} times in 5 minutes; the next "
                f"sign-in waits until {retry_at.astimezone(UTC):%H:%M:%S} UTC",
                retry_at,
            )
        self._session_attempts.append(now)
        response = await self._send(
            "POST",
            "com.atproto.server.createSession",
            None,
            body={"identifier": self.handle, "password": self._password},
        )
        if response.status == 401 or (response.status == 400 and _error_name(response) in _SIGN_IN_REFUSALS):
            self._password_refused = self._sign_in_refused(response)
            raise self._password_refused
        self._raise_for(response)
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

    async def _end_session(self, session: _Session) -> None:
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

    def _parse_session(self, response: HttpResponse, fallback: _Session | None = None) -> _Session:
        data = as_dict(response.json())
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        did = data.get("did") or (fallback.did if fallback else None)
        handle = data.get("handle") or (fallback.handle if fallback else self.handle)
        if not all(isinstance(value, str) and value for value in (access, refresh, did)):
            raise TransientError(f"channel {self.name}: malformed session from {self.host}")
        register_secret(access)
        register_secret(refresh)
        return _Session(access=access, refresh=refresh, did=did, handle=str(handle))

    def _raise_for(self, response: HttpResponse) -> None:
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
        self._http.raise_for_status(response)


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


def _record_not_found(exc: XrpcRefusal) -> bool:
    """A `getRecord` refusal that means "no such record" (RecordNotFound, or older PDSes'
    InvalidRequest with the same message)."""
    return exc.error == "RecordNotFound" or (exc.error == "InvalidRequest" and _NOT_FOUND_MESSAGE in str(exc))


def _parent_missing(exc: ChannelError, parent_uri: str) -> bool:
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


