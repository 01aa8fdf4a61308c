"""How the local Mastodon reads parameters and tokens and words its answers: paging, rate limits, OAuth pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ecoinbox.demo.loopback import FixedWindow, Handler, form_value, int_param, json_response
from ecoinbox.demo.mastodon.records import ApiError
from ecoinbox.demo.mastodon.text import escape_html


def rate_headers(window: FixedWindow, used: int, start: float) -> dict[str, str]:
    """Mastodon's X-RateLimit-* headers: the reset is an ISO date."""
    reset = datetime.fromtimestamp(start + window.seconds, UTC)
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(max(0, window.limit - used)),
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


async def call_handler(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return json_response(error.body, status=error.status)


def hang_up(request: web.Request) -> web.Response:
    """Close the connection without a word: the client sees it reset, not an answer."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=204)  # never reaches the client


def bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def read_params(request: web.Request) -> dict[str, Any]:
    """Form (urlencoded or multipart) or JSON body, as Rails accepts both."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise ApiError(400, "Error occurred while parsing request parameters") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Error occurred while parsing request parameters")
        return data
    form = await request.post()
    return {key: form_value(form, key) for key in form}


def parse_redirect_uris(params: Mapping[str, Any]) -> tuple[str, ...]:
    raw = params.get("redirect_uris", params.get("redirect_uris[]"))
    items: Iterable[Any] = raw if isinstance(raw, list) else str(raw or "").split()
    return tuple(str(item) for item in items if str(item).strip())


def oauth_state(query: Mapping[str, str]) -> dict[str, str]:
    return {"state": query["state"]} if "state" in query else {}


def paginate(
    items: Sequence[Any],
    query: Mapping[str, str],
    *,
    default_limit: int,
    max_limit: int,
    offset: bool = False,
) -> list[Any]:
    """Mastodon's keyset paging over items sorted by ascending id; the page is newest first.

    `max_id`: older than; `since_id`: the newest page above it; `min_id`: the oldest page
    above it (the page right after the cursor), still returned newest first.
    """
    max_id, since_id, min_id = (_cursor(query, name) for name in ("max_id", "since_id", "min_id"))
    chosen = [
        item
        for item in items
        if (max_id is None or int(item.id) < max_id)
        and (since_id is None or int(item.id) > since_id)
        and (min_id is None or int(item.id) > min_id)
    ]
    limit = _limit(query.get("limit"), default_limit, max_limit)
    if min_id is not None:
        return chosen[:limit][::-1]
    newest_first = chosen[::-1]
    skip = int_param(query.get("offset"), 0) if offset else 0
    return newest_first[skip : skip + limit]


def _cursor(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None


def _limit(raw: str | None, default: int, maximum: int) -> int:
    return min(abs(int_param(raw, default)), maximum)


def oauth_page(title: str, body: str, status: int = 200) -> web.Response:
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape_html(title)}</title></head>\n"
        f'<body><div class="form-container"><h2>{escape_html(title)}</h2>\n{body}\n</div>'
        "</body></html>\n"
    )
    return web.Response(status=status, text=page, content_type="text/html")
