"""Reading a platform's JSON defensively: a value of the wrong type becomes an empty one (or None)
instead of an exception in the middle of a poll. Shared by every platform unit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "as_dict",
    "as_dict_or_none",
    "as_int",
    "as_list",
    "aware_time",
    "json_or_none",
    "objects",
    "text_or_none",
]


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_dict_or_none(value: Any) -> dict[str, Any] | None:
    """`value` if it is a JSON object, else None."""
    return value if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any]:
    """`value` if it is a JSON list, else an empty one."""
    return value if isinstance(value, list) else []


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list ([] if it is not one)."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_int(value: Any) -> int | None:
    """An integer id from JSON (an int, or a string of digits); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def text_or_none(value: Any) -> str | None:
    """A string with something in it, else None."""
    return value if isinstance(value, str) and value.strip() else None


def aware_time(value: Any) -> datetime:
    """An ISO 8601 time, in UTC when it names no zone. Raises ValueError when it is not one."""
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_or_none(content: bytes) -> Any:
    """A response body as JSON, or None when it is not JSON (an HTML error page, a cut body)."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
