"""Recorded real answers (tests/data/recorded/<platform>/, see SOURCES.md there), served on loopback.

`RecordedServer` answers each (method, path) with a recorded body exactly as the platform sent it,
so a channel parses it through its normal HTTP path. Nothing here invents an answer: a route
serves a file, or an answer the test names itself (a status without a body, for a source the
test is not about).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from aiohttp import web

RECORDED = Path(__file__).parent / "data" / "recorded"


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: a status, headers and the body bytes."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def recorded(platform: str, name: str, status: int = 200) -> Answer:
    """The recorded answer `name` of `platform`: its body, its headers when they were kept
    (`<name>.headers.json`), with the status SOURCES.md gives for it."""
    folder = RECORDED / platform
    headers_file = folder / f"{name}.headers.json"
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    return Answer((folder / f"{name}.json").read_bytes(), status, headers)


def recorded_json(platform: str, name: str) -> Any:
    return json.loads(recorded(platform, name).body)


Route = Answer | Callable[[web.Request], Answer]


@dataclass(slots=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]


class RecordedServer:
    """A loopback server answering routes {("GET", "/path"): Answer or callable}; 404 otherwise."""

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.seen: list[Seen] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def asked(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.path, dict(request.query)))
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.json_response({"error": "not recorded"}, status=404)
        answer = route(request) if callable(route) else route
        headers = {"Content-Type": "application/json; charset=UTF-8", **answer.headers}
        return web.Response(status=answer.status, body=answer.body, headers=headers)
