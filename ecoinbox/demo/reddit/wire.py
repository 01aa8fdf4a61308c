"""How the local Reddit reads credentials and words its answers: rate-limit headers, errors, pages."""

from __future__ import annotations

import base64
import html
import math
from datetime import datetime
from typing import Any

from aiohttp import web

from ecoinbox.demo.loopback import FixedWindow, Handler, json_response
from ecoinbox.demo.reddit.records import ApiError


def rate_headers(window: FixedWindow, used: int, start: float, now: datetime) -> dict[str, str]:
    """Reddit's X-Ratelimit-* headers: the reset in seconds from now, the remaining a float."""
    reset = max(1, math.ceil(start + window.seconds - now.timestamp()))
    return {
        "X-Ratelimit-Used": str(used),
        "X-Ratelimit-Remaining": f"{max(0, window.limit - used):.1f}",
        "X-Ratelimit-Reset": str(reset),
    }


def bounded_int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return max(low, min(high, value))


def errors_answer(error: list[str]) -> web.Response:
    return json_response({"json": {"errors": [error]}})


def jquery_error(code: str, field: str, said: str) -> dict[str, Any]:
    """A refused write in Reddit's jquery format: calls that show `.error.CODE.field-FIELD`
    with the words, and `success` false (the status is still 200)."""
    return {
        "jquery": [
            [0, 1, "call", ["body"]], [1, 2, "attr", "find"], [2, 3, "call", [".status"]],
            [3, 4, "attr", "hide"], [4, 5, "call", []], [5, 6, "attr", "html"], [6, 7, "call", [""]],
            [7, 8, "attr", "end"], [8, 9, "call", []], [0, 10, "attr", "find"],
            [10, 11, "call", [f".error.{code}.field-{field}"]], [11, 12, "attr", "show"],
            [12, 13, "call", []], [11, 14, "attr", "text"], [14, 15, "call", [said]],
            [15, 16, "attr", "end"], [16, 17, "call", []],
        ],
        "success": False,
    }  # fmt: skip


def jquery_done(name: str) -> dict[str, Any]:
    """A comment made, answered in the jquery format: no `things`, only calls naming it."""
    return {
        "jquery": [
            [0, 1, "call", ["body"]], [1, 2, "attr", "find"], [2, 3, "call", [".status"]],
            [3, 4, "attr", "hide"], [4, 5, "call", []], [5, 6, "attr", "html"], [6, 7, "call", [""]],
            [7, 8, "attr", "end"], [8, 9, "call", []], [0, 10, "attr", "replace_things"],
            [10, 11, "call", [[{"kind": "t1", "data": {"id": name.removeprefix("t1_"), "name": name}}],
                              False, True]],
        ],
        "success": True,
    }  # fmt: skip


async def call_handler(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return json_response(error.body, status=error.status)


def bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def basic_user(request: web.Request) -> str | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user


def html_page(title: str, message: str, status: int) -> web.Response:
    body = f"<!DOCTYPE html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
    return web.Response(status=status, text=body, content_type="text/html")
