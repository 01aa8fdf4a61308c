"""How the local PDS reads XRPC parameters and bodies and counts requests against its rate limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from ecoinbox.demo.bluesky.atproto import XrpcError
from ecoinbox.demo.loopback import FixedWindow


def limited(window: FixedWindow, key: str, now: datetime) -> tuple[bool, dict[str, str]]:
    """Count a request against `window`: whether it may go on, and the headers to send."""
    used, start = window.hit(key, now)
    return used <= window.limit, rate_headers(window, used, start, now)


def rate_headers(window: FixedWindow, used: int, start: float, now: datetime) -> dict[str, str]:
    """The PDS's RateLimit-* headers (reset in epoch seconds); a refusal adds Retry-After."""
    reset = int(start + window.seconds)
    headers = {
        "RateLimit-Limit": str(window.limit),
        "RateLimit-Remaining": str(max(0, window.limit - used)),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{window.limit};w={int(window.seconds)}",
    }
    if used > window.limit:
        headers["Retry-After"] = str(max(1, reset - int(now.timestamp())))
    return headers


def limit_param(raw: str | None, default: int, maximum: int, *, minimum: int = 1) -> int:
    value = strict_int(raw, default)
    if not minimum <= value <= maximum:
        raise XrpcError(400, "InvalidRequest", f"limit must be between {minimum} and {maximum}")
    return value


def strict_int(raw: str | None, default: int) -> int:
    """A whole-number parameter; the PDS refuses one that is not a number (400)."""
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise XrpcError(400, "InvalidRequest", f"not a number: {raw[:20]!r}") from None


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise XrpcError(400, "InvalidRequest", "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise XrpcError(400, "InvalidRequest", "Request body must be an object")
    return data
