"""How the local WordPress reads REST parameters and bodies, and words its errors and pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ecoinbox.demo.loopback import json_response
from ecoinbox.demo.wordpress.records import User, WpError

REQUEST_USER: web.RequestKey[User | None] = web.RequestKey("user")  # who the request authenticated as
ROUTE_ID = web.RequestKey("route_id", int)  # the id in a route such as /wp/v2/comments/<id>
BY_QUERY = web.RequestKey("by_query", bool)  # came as ?rest_route=


def int_value(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def id_list(values: list[str]) -> set[int]:
    found: set[int] = set()
    for value in values:
        for part in value.split(","):
            number = int_value(part)
            if number is not None:
                found.add(number)
    return found


def bounded(value: str, name: str, low: int, high: int) -> int:
    number = int_value(value)
    if number is None or not low <= number <= high:
        raise invalid_param(name, f"{name} must be between {low} ({'inclusive'}) and {high} (inclusive)")
    return number


def invalid_param(name: str, detail: str) -> WpError:
    error = WpError(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
    error.body["data"]["params"] = {name: detail}  # type: ignore[index]
    return error


def with_page(query: Mapping[str, str], page: int) -> str:
    from urllib.parse import urlencode

    pairs = [(k, v) for k, v in query.items() if k != "page"] + [("page", str(page))]
    return urlencode(pairs)


def denied(user: User | None) -> int:
    """rest_authorization_required_code(): 401 when not logged in, 403 when not allowed."""
    return 403 if user is not None else 401


def logged_in(request: web.Request) -> User:
    user: User | None = request[REQUEST_USER]
    if user is None:
        raise WpError(401, "rest_not_logged_in", "You are not currently logged in.")
    return user


async def request_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise WpError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
        return data if isinstance(data, dict) else {}
    form = await request.post()
    return {key: form.get(key) for key in form}


def error_answer(error: WpError) -> web.Response:
    return json_response(error.body, status=error.status)
