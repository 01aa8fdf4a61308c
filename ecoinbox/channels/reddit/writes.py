"""What Reddit answers to a write (a comment, /api/morechildren): the things it made, or why not.

Reddit answers a refused write with a 200 too: errors inside `json.errors` (api_type=json) or as
a `.error.CODE` call in its older jquery format, RATELIMIT included."""

from __future__ import annotations

from typing import Any

from ecoinbox.channels.base import ChannelError, PermanentError, RateLimited, TransientError, UncertainSend
from ecoinbox.channels.http import Clock, HttpResponse, one_line
from ecoinbox.channels.json_values import as_dict
from ecoinbox.channels.reddit.listings import jquery_error, write_wait


def write_result(response: HttpResponse, channel: str, host: str, clock: Clock) -> list[dict[str, Any]]:
    """The `things` of a write answered with api_type=json, or its `json.errors` raised."""
    body = as_dict(response.json())
    if "jquery" in body:
        raise jquery_outcome(response, body, channel, host, clock)
    result = as_dict(body.get("json"))
    errors = [e for e in result.get("errors") or [] if isinstance(e, list) and e]
    if errors:
        code = str(errors[0][0])
        said = "; ".join(one_line(" ".join(str(part) for part in e[1:2])) for e in errors)
        if code == "RATELIMIT":
            until = clock() + write_wait(result, errors[0])
            raise RateLimited(
                f"channel {channel}: Reddit asks to wait before commenting again ({said})", until
            )
        raise PermanentError(f"channel {channel}: Reddit refused the reply ({one_line(code)}: {said})")
    data = as_dict(result.get("data"))
    return [t for t in data.get("things") or [] if isinstance(t, dict)]


def jquery_outcome(
    response: HttpResponse, body: dict[str, Any], channel: str, host: str, clock: Clock
) -> ChannelError:
    """A write answered in Reddit's jquery format (still a 200): its `.error.CODE` call is
    the refusal, RATELIMIT included; without one the comment was made but not described,
    so it is read back from the thread before anything is sent again."""
    refusal = jquery_error(body.get("jquery"))
    if refusal is not None:
        code, said = refusal
        if code == "RATELIMIT":
            until = clock() + write_wait({}, [code, said])
            return RateLimited(
                f"channel {channel}: Reddit asks to wait before commenting again ({said})", until
            )
        return PermanentError(f"channel {channel}: Reddit refused the reply ({one_line(code)}: {said})")
    if response.method == "GET":
        return TransientError(f"channel {channel}: malformed response from {response.where}")
    return UncertainSend(
        f"channel {channel}: the reply was sent but {host} did not describe it; it is looked up in the thread"
    )
