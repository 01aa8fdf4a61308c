"""The HTTP layer every channel owns exactly one of.

`HttpClient` wraps one `httpx.AsyncClient` with the rules all channels need and httpx does not
give by itself: an overall deadline per request (httpx timeouts are per read), a response size
cap, a per-host concurrency cap, a per-host pause after 429 (or 503 + Retry-After), no redirects
(credentials never cross origins), and errors mapped to `ecoinbox.channels.base` with messages
that name the channel, host and path but never a token, a query string or a header.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ecoinbox import __version__
from ecoinbox.channels.base import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http_headers import (
    body_retry_after,
    int_or_none,
    link_header_entries,
    parse_link_header,
    parse_reset,
    parse_retry_after,
    rate_limit_reset,
)

USER_AGENT = f"ecoinbox/{__version__}"
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_PER_HOST = 4
MAX_PAUSE = timedelta(minutes=15)
# A 429 that says nothing about when to come back: wait this long.
DEFAULT_RATE_LIMIT_PAUSE = timedelta(seconds=60)
MIN_PAUSE = timedelta(seconds=1)
# Methods a timeout may safely retry: anything else may have published something.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_MESSAGE_LIMIT = 200

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: an aware UTC datetime."""
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# Logging: quiet httpx, mask secrets


_known_secrets: set[str] = set()
_REDACTED = "[redacted]"
_SECRET_KEYS = r"access_token|refresh_token|id_token|client_secret|api[-_]?key|password|passwd"
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer x", "'authorization': 'Basic x'", "Authorization=..."
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+"), r"\1" + _REDACTED),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + _REDACTED),
    # access_token=x, "client_secret": "x", Api-Key: x, api_key=x
    (
        re.compile(rf"(?i)(\b(?:{_SECRET_KEYS})['\"]?\s*[:=]\s*['\"]?)[^\s&'\",;}}]+"),
        r"\1" + _REDACTED,
    ),
    # Telegram-style tokens in the path: /bot123456:ABC...
    (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), "/bot" + _REDACTED),
)


def register_secret(value: str) -> None:
    """Remember a secret so `redact` masks it wherever it appears, whatever the format."""
    if len(value) >= 8:  # short values would mask ordinary words
        _known_secrets.add(value)


def renewed_token(offered: str, current: str) -> str | None:
    """`offered`, stripped, when it is another token than `current` (registered as a secret from
    now on); None when it is empty or the one in use (compared in constant time)."""
    import hmac

    token = offered.strip()
    if not token or hmac.compare_digest(token.encode(), current.encode()):
        return None
    register_secret(token)
    return token


def redact(text: str) -> str:
    """`text` with tokens, auth headers and registered secrets masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks tokens and auth headers in records (message, args, traceback).

    A filter on a logger only sees records created on that very logger, so `channel_logger` puts
    one on each ecoinbox logger it hands out; handlers that the CLI creates should carry one too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad format arguments must not break the caller
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _has_redacting_filter(target: logging.Logger | logging.Handler) -> bool:
    return any(isinstance(existing, RedactingFilter) for existing in target.filters)


def install_log_redaction() -> None:
    """Quiet the httpx/httpcore loggers to WARNING and mask secrets on ecoinbox's loggers.

    Idempotent; `HttpClient` calls it, and the CLI may call it before configuring handlers.
    """
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for name in ("ecoinbox", "httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not _has_redacting_filter(logger):
            logger.addFilter(RedactingFilter())


def channel_logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)` with a `RedactingFilter` on it (once)."""
    logger = logging.getLogger(name)
    if not _has_redacting_filter(logger):
        logger.addFilter(RedactingFilter())
    return logger


log = channel_logger(__name__)


# ---------------------------------------------------------------------------------------------
# Messages


def one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """`text` as one short printable line: controls, BiDi and zero-width characters dropped."""
    flat = "".join(ch if ch.isprintable() else " " if ch.isspace() else "" for ch in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


UNREADABLE = (KeyError, TypeError, ValueError)
"""What reading one item of a platform's answer raises when the item is not as documented."""


def skipped_unreadable(log: logging.Logger, channel: str, what: str, item: object, exc: Exception) -> None:
    """One item that cannot be read must not block the inbox: it is skipped, and the log says so
    (its id cut to one short line, the error's kind: never its text, which may quote the item)."""
    log.warning("channel %s: skipped an unreadable %s %s (%s)", channel, what, one_line(str(item), 80),
                type(exc).__name__)  # fmt: skip


def platform_error(content: bytes) -> str:
    """The platform's own error text from a JSON error body, as one short line ("" if none)."""
    try:
        data = jsonlib.loads(content)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("error_description", "error", "errors", "message", "detail"):
        value = data.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("message") or value.get("error")
        if isinstance(value, str) and value.strip():
            return one_line(redact(value))
    return ""


# How servers word a refused token when they answer 400 instead of 401 (GoToSocial-like:
# "Invalid Bearer token", "Unauthorized: token not supplied").
_AUTH_REFUSAL = re.compile(
    r"(?i)\bunauthori[sz]ed\b"
    r"|\b(?:invalid|expired|revoked|missing|bad)\b[^.]{0,20}\b(?:bearer|token|credentials)\b"
    r"|\b(?:bearer|token|credentials)\b[^.]{0,20}\b(?:invalid|expired|revoked|not supplied)\b"
)


def is_auth_refusal(status: int, said: str) -> bool:
    """Whether an error answer refuses the credentials: 401 or 403, or a 400 whose own words
    say the token is wrong (some servers answer a revoked token so)."""
    if status in (401, 403):
        return True
    return status == 400 and bool(_AUTH_REFUSAL.search(said))


def _where(url: httpx.URL) -> str:
    """host[:port]/path for messages: never the query string, never userinfo."""
    host = url.host + (f":{url.port}" if url.port else "")
    return one_line(redact(host + url.path), limit=120)


def _origin(url: httpx.URL) -> str:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, 0)
    return f"{url.scheme}://{url.host}:{port}"


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S UTC")


# ---------------------------------------------------------------------------------------------
# Responses


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete (size-capped) response: status, headers, body and where it came from."""

    method: str
    status: int
    headers: httpx.Headers
    content: bytes
    url: httpx.URL
    channel: str

    @property
    def where(self) -> str:
        """host/path, safe for messages."""
        return _where(self.url)

    @property
    def links(self) -> dict[str, str]:
        """The `Link` header as {rel: absolute url}."""
        return parse_link_header(self.headers.get("link"), base=str(self.url))

    def json(self) -> Any:
        """The body as JSON; a malformed body is a TransientError (UncertainSend after a POST)."""
        try:
            return jsonlib.loads(self.content)
        except (ValueError, UnicodeDecodeError):
            error = _after_send_error(self.method, self.status)
            raise error(f"channel {self.channel}: malformed response from {self.where}") from None


def _after_send_error(method: str, status: int) -> type[TransientError]:
    """A response we could not use: was something published anyway?"""
    if method not in IDEMPOTENT_METHODS and 200 <= status < 300:
        return UncertainSend
    return TransientError


class _TooLarge(Exception):
    pass


class _SendTracker:
    """An httpcore `trace` hook that notes when request headers start to leave."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_headers.started"):
            self.sent = True


# ---------------------------------------------------------------------------------------------
# The client


def blocking_client(
    *, headers: Mapping[str, str], timeout: float, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A synchronous client for a library that takes one (Akismet's), built here like every other
    client of ecoinbox: certificates verified, SSL_CERT_FILE and proxies honoured, no redirects."""
    return httpx.Client(headers=dict(headers), timeout=timeout, transport=transport, verify=verified_tls(),
                        trust_env=True, follow_redirects=False)  # fmt: skip


_TLS: dict[tuple[str, str], ssl.SSLContext] = {}


def verified_tls() -> ssl.SSLContext:
    """The verified TLS context httpx makes for `verify=True` (its CAs, or SSL_CERT_FILE / _DIR), made
    once for every channel: each client loading the CA file cost 90 ms of a start, 0.6 s for seven."""
    import os

    trusted = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    if trusted not in _TLS:
        _TLS[trusted] = httpx.create_ssl_context(verify=True, trust_env=True)
    return _TLS[trusted]


class HttpClient:
    """One channel's HTTP connection to its platform (one shared `httpx.AsyncClient`).

    `auth_headers` are sent only to the origin of `base_url`; a request to any other origin
    (an absolute URL) goes without them, and redirects are never followed. Each request runs
    under an overall deadline of `timeout` seconds and a body cap of `max_bytes`. A 429 (or a
    503 with Retry-After), or `X-RateLimit-Remaining: 0`, pauses that host: calls to it raise
    `RateLimited` without touching the network until the pause ends.
    """

    def __init__(
        self,
        channel: str,
        base_url: str,
        *,
        auth_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 20.0,
        op_timeout: httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        per_host: int = DEFAULT_PER_HOST,
        max_pause: timedelta = MAX_PAUSE,
        clock: Clock = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        install_log_redaction()
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_pause = max_pause
        self.clock = clock
        self._per_host = per_host
        self._base_origin = _origin(httpx.URL(self.base_url))
        self._auth_headers: dict[str, str] = {}
        self.set_auth_headers(auth_headers or {})
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._paused_until: dict[str, datetime] = {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=op_timeout or httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            verify=verified_tls(),
            trust_env=True,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"HttpClient(channel={self.channel!r}, base_url={self.base_url!r})"

    def set_auth_headers(self, headers: Mapping[str, str]) -> bool:
        """Replace the credentials sent to the base origin (e.g. a renewed token); returns
        False when they are the ones already in use."""
        headers = dict(headers)
        for value in headers.values():
            register_secret(value)
            register_secret(value.partition(" ")[2])  # the token after "Bearer "
        if headers == self._auth_headers:
            return False
        self._auth_headers = headers
        return True

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._client.aclose()

    def paused_until(self, url: str | None = None) -> datetime | None:
        """When the host of `url` (default: the base host) may be called again, if paused."""
        origin = _origin(httpx.URL(self.base_url + "/").join(url or self.base_url))
        until = self._paused_until.get(origin)
        return until if until and until > self.clock() else None

    # -- requests ------------------------------------------------------------------------

    async def get_json(self, url: str, *, params: Any = None) -> Any:
        """GET `url` and return its JSON body."""
        return (await self.request("GET", url, params=params)).json()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> HttpResponse:
        """Send one request and return the whole response.

        A non-2xx answer raises a ChannelError, unless `check` is False: then the caller reads
        the statuses it expects and passes the rest to `raise_for_status`.
        """
        method = method.upper()
        request = self._build(method, url, params=params, json=json, data=data, headers=headers)
        origin = _origin(request.url)
        self._raise_if_paused(origin, request.url)
        async with self._gate(origin):
            self._raise_if_paused(origin, request.url)
            response = await self._exchange(method, request)
        self._note_rate_limit(origin, response.headers)
        if check:
            self.raise_for_status(response)
        return response

    def _build(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        try:
            request = self._client.build_request(
                method, url, params=params, json=json, data=data, headers=headers
            )
        except httpx.InvalidURL as exc:
            raise PermanentError(f"channel {self.channel}: invalid URL ({type(exc).__name__})") from None
        if _origin(request.url) == self._base_origin:
            request.headers.update(self._auth_headers)
        return request

    def _gate(self, origin: str) -> asyncio.Semaphore:
        gate = self._gates.get(origin)
        if gate is None:
            gate = self._gates[origin] = asyncio.Semaphore(self._per_host)
        return gate

    def _raise_if_paused(self, origin: str, url: httpx.URL) -> None:
        until = self._paused_until.get(origin)
        if until is None:
            return
        if until <= self.clock():
            del self._paused_until[origin]
            return
        raise RateLimited(
            f"channel {self.channel}: {_where(url)} is rate-limited until {_format_time(until)}",
            until,
        )

    async def _exchange(self, method: str, request: httpx.Request) -> HttpResponse:
        """Send and read the whole body under the overall deadline; map transport failures."""
        tracker = _SendTracker()
        request.extensions["trace"] = tracker
        status = 0
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.send(request, stream=True)
                status = response.status_code
                try:
                    content = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            why = f"no complete answer within {self.timeout:g} s"
            raise self._lost(method, request, tracker.sent, why) from None
        except _TooLarge:
            error = _after_send_error(method, status)
            raise error(
                f"channel {self.channel}: response from {_where(request.url)} is larger than "
                f"{self.max_bytes / 1024 / 1024:g} MiB"
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise self._lost(method, request, False, _describe(exc)) from None
        except httpx.HTTPError as exc:
            raise self._lost(method, request, tracker.sent, _describe(exc)) from None
        return HttpResponse(
            method, response.status_code, response.headers, content, request.url, self.channel
        )

    @asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        silence: float,
        with_auth: bool = False,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json: Any = None,
        answer_within: float | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request (GET `url` by default) and hold the response open for reading as it
        comes (server-sent events, a long poll). `answer_within`: seconds the head of the answer
        may take (default `timeout`; a long poll answers when something happens).

        `silence`: seconds without a byte after which the stream counts as dead (servers send
        heartbeats more often). The credentials go to the base origin, and to another origin
        only `with_auth` (the platform itself named it, e.g. its streaming host). A non-2xx
        answer raises its ChannelError; transport failures raise TransientError, token-free.
        Not under the per-host cap: a stream held for hours must not take a request's place.
        """
        request = self._build(method, url, params=None, json=json, data=None, headers=headers)
        within = self.timeout if answer_within is None else answer_within
        if with_auth:
            request.headers.update(self._auth_headers)
        origin = _origin(request.url)
        self._raise_if_paused(origin, request.url)
        connect = min(self.timeout, 10.0)
        request.extensions["timeout"] = httpx.Timeout(self.timeout, connect=connect, read=silence).as_dict()
        try:
            async with asyncio.timeout(within):  # the answer's head, not the whole stream
                response = await self._client.send(request, stream=True)
        except TimeoutError:
            # A subscription publishes nothing, whatever its method: a lost one is never uncertain.
            raise self._lost("GET", request, False, f"no answer within {within:g} s") from None
        except httpx.HTTPError as exc:
            raise self._lost("GET", request, False, _describe(exc)) from None
        try:
            if not 200 <= response.status_code < 300:
                try:
                    content = await self._read_capped(response)
                except (_TooLarge, httpx.HTTPError):
                    content = b""
                self.raise_for_status(
                    HttpResponse(
                        method, response.status_code, response.headers, content, request.url, self.channel
                    )
                )
            try:
                yield response
            except httpx.HTTPError as exc:  # while reading: cut, reset or silent too long
                raise self._lost("GET", request, False, _describe(exc)) from None
        finally:
            await response.aclose()

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = int_or_none(response.headers.get("content-length"))
        if declared is not None and declared > self.max_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _lost(self, method: str, request: httpx.Request, sent: bool, why: str) -> TransientError:
        where = _where(request.url)
        if sent and method not in IDEMPOTENT_METHODS:
            return UncertainSend(
                f"channel {self.channel}: {method} {where} may or may not have been published ({why})"
            )
        return TransientError(f"channel {self.channel}: {where} unreachable ({why})")

    # -- responses -----------------------------------------------------------------------

    def _note_rate_limit(self, origin: str, headers: httpx.Headers) -> None:
        """Pause the host ahead of time when the platform says no calls are left."""
        now = self.clock()
        remaining, reset = rate_limit_reset(headers, now)
        if remaining is not None and remaining <= 0 and reset is not None:
            self._pause(origin, reset, now)

    def _pause(self, origin: str, until: datetime, now: datetime) -> datetime:
        until = min(max(until, now + MIN_PAUSE), now + self.max_pause)
        self._paused_until[origin] = max(until, self._paused_until.get(origin, until))
        log.info("channel %s: pausing %s until %s", self.channel, origin, until.isoformat())
        return self._paused_until[origin]

    def _pause_from_headers(self, origin: str, headers: httpx.Headers, content: bytes = b"") -> datetime:
        now = self.clock()
        until = parse_retry_after(headers.get("retry-after"), now)
        if until is None:
            until = rate_limit_reset(headers, now)[1] or body_retry_after(content, now)
        return self._pause(origin, until or now + DEFAULT_RATE_LIMIT_PAUSE, now)

    def raise_for_status(self, response: HttpResponse) -> None:
        """Map a non-2xx response to its ChannelError (and pause the host on 429/503)."""
        status, where = response.status, response.where
        if 200 <= status < 300:
            return
        said = platform_error(response.content)
        detail = f"{status}: {said}" if said else str(status)
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            until = self._pause_from_headers(_origin(response.url), response.headers, response.content)
            raise RateLimited(
                f"channel {self.channel}: {where} is rate-limited until {_format_time(until)} ({detail})",
                until,
            )
        if 300 <= status < 400:
            raise PermanentError(self._redirect_message(response))
        if is_auth_refusal(status, said):
            raise AuthError(
                f"the token for channel {self.channel} was refused by {where} ({detail}): "
                f"run `ecoinbox auth {self.channel}`",
                status=status,
            )
        if status in (408, 425) or status >= 500:
            raise self._server_error(response, detail)
        raise PermanentError(f"channel {self.channel}: {where} refused the request ({detail})")

    def _server_error(self, response: HttpResponse, detail: str) -> TransientError:
        # A gateway error or a crash after a POST may hide a status that was created anyway.
        if response.method not in IDEMPOTENT_METHODS and response.status in (500, 502, 504):
            return UncertainSend(
                f"channel {self.channel}: {response.method} {response.where} may or may not have "
                f"been published (server error {detail})"
            )
        return TransientError(f"channel {self.channel}: {response.where} failed (server error {detail})")

    def _redirect_message(self, response: HttpResponse) -> str:
        location = response.headers.get("location", "")
        try:
            target = _origin(response.url.join(location)) if location else "elsewhere"
        except httpx.InvalidURL:
            target = "elsewhere"
        return (
            f"channel {self.channel}: {response.where} redirects ({response.status}) to "
            f"{one_line(target)}; redirects are not followed: check the channel's URL in the config"
        )


def _describe(exc: BaseException) -> str:
    """A short, token-free description of a transport failure."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "TLS certificate not trusted; set SSL_CERT_FILE if a proxy re-signs TLS"
        cause = cause.__cause__ or cause.__context__
    text = one_line(redact(str(exc)), limit=100)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = [
    "HttpClient",
    "HttpResponse",
    "RedactingFilter",
    "body_retry_after",
    "channel_logger",
    "install_log_redaction",
    "is_auth_refusal",
    "link_header_entries",
    "one_line",
    "parse_link_header",
    "parse_reset",
    "parse_retry_after",
    "platform_error",
    "redact",
    "register_secret",
]
