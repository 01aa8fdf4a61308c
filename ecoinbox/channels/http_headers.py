"""HTTP headers a platform answers with, parsed: Link (pagination), Retry-After and the rate limit
headers each platform names its own way, and a reset time said in a JSON body."""

from __future__ import annotations

import email.utils
import json as jsonlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import httpx

# Remaining/reset header pairs seen across platforms (httpx headers are case-insensitive).
RATE_LIMIT_HEADERS = (
    ("x-ratelimit-remaining", "x-ratelimit-reset"),  # Mastodon, GoToSocial, Reddit
    ("ratelimit-remaining", "ratelimit-reset"),  # Bluesky, IETF draft
    ("x-rate-limit-remaining", "x-rate-limit-reset"),  # X
)


_LINK_PARAM = re.compile(r'\s*;\s*([^\s=;,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?')


_LINK_SEPARATOR = re.compile(r"[^,<]*,?")


def parse_link_header(value: str | None, base: str | None = None) -> dict[str, str]:
    """Parse an RFC 8288 `Link` header into {rel: url}; the first link for a rel wins.

    Relation types are lower-cased and a link with several (`rel="next last"`) is filed under
    each. Relative targets are resolved against `base` when given.
    """
    links: dict[str, str] = {}
    for target, params in link_header_entries(value, base):
        for rel in params.get("rel", "").split():
            links.setdefault(rel.lower(), target)
    return links


def link_header_entries(value: str | None, base: str | None = None) -> list[tuple[str, dict[str, str]]]:
    """Every link of an RFC 8288 `Link` header as (url, its parameters), in order: for a rel
    that can come several times with different types (`rel="alternate"; type=...`)."""
    entries: list[tuple[str, dict[str, str]]] = []
    position = 0
    while value and (start := value.find("<", position)) >= 0:
        end = value.find(">", start)
        if end < 0:
            break
        target = value[start + 1 : end].strip()
        params, position = _link_params(value, end + 1)
        entries.append((urljoin(base, target) if base else target, params))
    return entries


def _link_params(value: str, position: int) -> tuple[dict[str, str], int]:
    params: dict[str, str] = {}
    while match := _LINK_PARAM.match(value, position):
        name, raw = match.group(1).lower(), match.group(2) or ""
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params.setdefault(name, raw)
        position = match.end()
    separator = _LINK_SEPARATOR.match(value, position)
    return params, separator.end() if separator else position


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """`Retry-After` (seconds, or an HTTP-date) as an aware datetime; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_reset(value: str | None, now: datetime) -> datetime | None:
    """A rate-limit reset header as an aware datetime.

    Accepts ISO-8601 (Mastodon/GoToSocial: "2024-05-01T12:00:00.123456Z"), epoch seconds (X,
    Bluesky) or a delay in seconds (Reddit, IETF draft); None if absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number > 1_000_000_000:
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=max(number, 0.0))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rate_limit_reset(headers: httpx.Headers, now: datetime) -> tuple[int | None, datetime | None]:
    """(remaining, reset) from whichever rate-limit header family the response carries."""
    for remaining_name, reset_name in RATE_LIMIT_HEADERS:
        if remaining_name in headers or reset_name in headers:
            return int_or_none(headers.get(remaining_name)), parse_reset(headers.get(reset_name), now)
    return None, None


def body_retry_after(content: bytes, now: datetime) -> datetime | None:
    """The wait a 429's JSON body asks for when no header does: Discourse's
    `extras.wait_seconds`, Matrix's `retry_after_ms`; None if it names none."""
    try:
        data = jsonlib.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    extras = data.get("extras")
    seconds = extras.get("wait_seconds") if isinstance(extras, dict) else None
    if seconds is None and isinstance(data.get("retry_after_ms"), int | float):
        seconds = data["retry_after_ms"] / 1000
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=float(seconds))
    return None


def int_or_none(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


__all__ = [
    "RATE_LIMIT_HEADERS",
    "body_retry_after",
    "int_or_none",
    "link_header_entries",
    "parse_link_header",
    "parse_reset",
    "parse_retry_after",
    "rate_limit_reset",
]
