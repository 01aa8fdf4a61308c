"""How the local forum words its answers: rate-limit refusals, error JSON, user API key payloads."""

from __future__ import annotations

import base64
import contextlib
import html
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ecoinbox.demo.discourse.records import ApiError
from ecoinbox.demo.loopback import (
    form_value,
    json_response,
)


def rate_limited(wait: int, error_code: str) -> ApiError:
    time_left = f"{wait} second" if wait == 1 else f"{wait} seconds"
    if wait >= 60:
        minutes = wait // 60
        time_left = f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    error = ApiError.typed(
        429,
        f"You’ve performed this action too many times. Please wait {time_left} before trying again.",
        "rate_limit",
        wait_seconds=wait,
        time_left=time_left,
    )
    error.headers = {"Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": error_code}
    return error


def encrypt_payload(public_key: rsa.RSAPublicKey, payload: Mapping[str, Any], *, oaep: bool) -> str:
    """RSA-encrypt the JSON payload and base64 it with a line break every 60 characters, as
    Ruby's Base64.encode64 does (so a client must drop whitespace before decoding)."""
    scheme: padding.AsymmetricPadding = (
        padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        if oaep
        else padding.PKCS1v15()
    )
    encrypted = public_key.encrypt(json.dumps(payload, separators=(",", ":")).encode(), scheme)
    encoded = base64.b64encode(encrypted).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def key_page(title: str, body: str, status: int = 200) -> web.Response:
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body><div id="main-outlet" class="wrap">\n{body}\n</div></body></html>\n'
    )
    return web.Response(status=status, text=page, content_type="text/html")


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "t", "yes")


def error_json(error: ApiError) -> web.Response:
    return json_response(error.body, status=error.status, headers=error.headers)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Form (urlencoded or multipart) or JSON body, as Rails accepts both."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise ApiError.typed(400, "Invalid JSON in the request body", "invalid_parameters") from None
        if not isinstance(data, dict):
            raise ApiError.typed(400, "Invalid JSON in the request body", "invalid_parameters")
        return data
    form = await request.post()
    return {key: form_value(form, key) for key in form}


async def bus_request(request: web.Request) -> dict[str, int]:
    """The channels a MessageBus poll asks for, with their last ids (JSON or a form, as
    Discourse's client sends either); `__seq` and the like are not channels."""
    try:
        raw = (
            await request.json() if request.content_type == "application/json" else dict(await request.post())
        )
    except ValueError:
        raise ApiError(400, {"errors": ["invalid MessageBus request"]}) from None
    wanted: dict[str, int] = {}
    for channel, last in raw.items() if isinstance(raw, dict) else []:
        if isinstance(channel, str) and channel.startswith("/"):
            with contextlib.suppress(TypeError, ValueError):
                wanted[channel] = int(last)
    return wanted
