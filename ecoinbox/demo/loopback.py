"""What every local platform server shares: a loopback listener, a request log, injected faults.

Each server (Mastodon, Discourse, ...) subclasses `LoopbackServer`, adds its routes in
`_add_routes` and answers in `_answer` (auth, rate limits); faults and recording happen here,
before and after, the same way for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import web
from multidict import CIMultiDict, MultiMapping

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_LOG_LIMIT = 10_000  # a demo left polling all day must not grow without end


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it, for tests to inspect."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)


@dataclass(slots=True)
class _Fault:
    prefix: str
    status: int
    body: bytes
    headers: dict[str, str]
    remaining: int
    delay: float
    after_handling: bool

    def response(self) -> web.Response:
        headers = CIMultiDict(self.headers)
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return web.Response(status=self.status, body=self.body, headers=headers)


class LoopbackServer:
    """An in-process aiohttp server on 127.0.0.1 that records requests and fails on demand."""

    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        # Up to this many seconds (random) before and again after handling each write request:
        # a crash test's kills then land before, during and after the platform acts.
        self.write_latency = 0.0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, ssl_context: ssl.SSLContext | None = None) -> str:
        """Listen on 127.0.0.1 on a free port (HTTPS with `ssl_context`); returns `base_url`."""
        if self._runner is not None:
            return self.base_url
        self._closing.clear()
        runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
        self._runner = runner
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        """Close the listener and any request still waiting on an injected delay."""
        if self._runner is None:
            return
        self._closing.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        path_prefix: str,
        *,
        status: int = 500,
        body: str | bytes = "",
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        after_handling: bool = False,
    ) -> None:
        """Answer the next `times` requests whose path starts with `path_prefix` with this
        response instead of the real one, after sleeping `delay` seconds.

        With `after_handling`, the request is handled for real first (a post is created),
        then the injected answer is sent: the request reached the server, the client never
        saw the result. The body defaults to JSON content type unless `headers` says otherwise.
        """
        raw = body.encode() if isinstance(body, str) else body
        self._faults = [fault for fault in self._faults if fault.remaining > 0]
        self._faults.append(
            _Fault(path_prefix, status, raw, dict(headers or {}), times, delay, after_handling)
        )

    def clear_faults(self) -> None:
        """Forget every injected fault: the server answers for real again (it "came back")."""
        self._faults = []

    # -- the web application -----------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise NotImplementedError

    def _build_app(self) -> web.Application:
        @web.middleware
        async def dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._dispatch(request, handler)

        app = web.Application(middlewares=[dispatch])
        self._add_routes(app.router)
        return app

    async def _dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self._record(request)
        fault = self._take_fault(request.path)
        if fault is not None and not fault.after_handling:
            await self._pause(fault.delay)
            return fault.response()
        writes = self.write_latency > 0 and request.method not in ("GET", "HEAD")
        if writes:
            await self._pause(random.uniform(0, self.write_latency))
        response = await self._answer(request, handler)
        if writes:
            await self._pause(random.uniform(0, self.write_latency))
        if fault is not None:
            await self._pause(fault.delay)
            return fault.response()
        return response

    def _record(self, request: web.Request) -> None:
        if len(self.requests) >= REQUEST_LOG_LIMIT:
            del self.requests[: REQUEST_LOG_LIMIT // 2]
        query: dict[str, Any] = {key: request.query.getall(key) for key in request.query}
        self.requests.append(
            RecordedRequest(request.method, request.path, query, CIMultiDict(request.headers))
        )

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and path.startswith(fault.prefix):
                fault.remaining -= 1
                return fault
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops (so `stop()` never waits on a fault)."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)


class FixedWindow:
    """Requests per key in fixed windows aligned on multiples of `seconds` (how Mastodon's
    rack-attack, Reddit and the Bluesky PDS count); each server words its own headers."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._used: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, now: datetime) -> tuple[int, float]:
        """Count one request: how many this window holds now (over `limit`: refuse it), and
        when the window started (epoch seconds)."""
        start = self._start(now)
        window, used = self._used.get(key, (start, 0))
        used = (used if window == start else 0) + 1
        self._used[key] = (start, used)
        return used, start

    def exhaust(self, key: str, now: datetime) -> None:
        """Use up the window, as if `limit` requests had come."""
        self._used[key] = (self._start(now), self.limit)

    def _start(self, now: datetime) -> float:
        seconds = now.timestamp()
        return seconds - seconds % self.seconds


def form_value(form: MultiMapping[Any], key: str) -> Any:
    """One form field as the platforms read it: `key[]` is a list, otherwise the last value."""
    values = [v for v in form.getall(key) if isinstance(v, str)]
    if key.endswith("[]"):
        return values
    return values[-1] if values else None


def param(params: Mapping[str, Any], key: str) -> str | None:
    """A scalar request parameter as text (JSON booleans as "true"/"false"), or None."""
    value = params.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_text(value: Any, **options: Any) -> str:
    """JSON as the platforms write it: characters as they are, not `\\u` escapes."""
    return json.dumps(value, ensure_ascii=False, **options)


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer (application/json; charset=utf-8)."""
    return web.json_response(body, status=status, headers=headers, dumps=json_text)


def iso_millis(at: datetime) -> str:
    """A time as the platforms' APIs write it: UTC, milliseconds, Z (2026-01-31T09:05:00.123Z)."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def int_param(raw: str | None, default: int) -> int:
    """A whole-number query parameter; `default` when it is missing or not a number."""
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default
