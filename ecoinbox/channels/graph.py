"""Meta's Graph API, as Facebook Pages and Instagram both speak it: one versioned client.

What both platforms share: the versioned base path (`/v23.0/...`), the token sent as a bearer
header (never in a URL, so it reaches no log), error objects (`code`, `error_subcode`,
`fbtrace_id`) turned into words and into the right ChannelError, the throttling headers
(`X-App-Usage`, `X-Business-Use-Case-Usage`) read on every answer so that a call at 100% waits
before Meta blocks it, and cursor paging (`paging.cursors.after`, `paging.next`). The `next`
URL is never followed as is: the real Graph writes the access token into it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    ChannelError,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import Clock, HttpClient, HttpResponse, one_line, register_secret, utc_now
from ecoinbox.channels.json_values import as_dict, as_int, json_or_none, objects

__all__ = [
    "AUTH_CODES",
    "GRAPH_URL",
    "GRAPH_VERSION",
    "OUTSIDE_WINDOW_SUBCODE",
    "THROTTLE_CODES",
    "GraphClient",
    "GraphError",
    "Page",
    "Usage",
    "graph_time",
    "parse_usage",
]

GRAPH_VERSION: Final = "v23.0"
GRAPH_URL: Final = "https://graph.facebook.com"
# Throttling: app (4), user (17), Page (32), custom (613), Pages and Instagram business use
# case (80001, 80002), Messenger (80006). Answered with 400 or 403, not always 429.
THROTTLE_CODES: Final = frozenset({4, 17, 32, 613, 80001, 80002, 80006})
AUTH_CODES: Final = frozenset({102, 190})  # the token is invalid, expired or revoked
PERMISSION_CODES: Final = frozenset({3, 10, 200, 210, 230})  # the token lacks a permission
OUTSIDE_WINDOW_SUBCODE: Final = 2018278  # Messenger: the 24-hour window has closed
DEFAULT_THROTTLE = timedelta(minutes=5)  # when Meta says it throttles but not for how long
MAX_THROTTLE = timedelta(hours=24)
FULL = 100  # percent: at this usage Meta starts refusing calls


@dataclass(frozen=True, slots=True)
class GraphError:
    """One Graph error object, as Meta documents it."""

    status: int
    code: int | None
    subcode: int | None
    message: str
    trace: str  # fbtrace_id: what Meta's support asks for

    @property
    def words(self) -> str:
        """The error as one line for a manager: Meta's message, its code and trace id."""
        code = f"code {self.code}" if self.code is not None else f"HTTP {self.status}"
        if self.subcode is not None:
            code += f", subcode {self.subcode}"
        trace = f", trace {self.trace}" if self.trace else ""
        return f"{self.message or 'no message'} ({code}{trace})"

    @classmethod
    def of(cls, response: HttpResponse) -> GraphError:
        error = as_dict(as_dict(json_or_none(response.content)).get("error"))
        message = error.get("error_user_msg") or error.get("message") or ""
        return cls(
            status=response.status,
            code=as_int(error.get("code")),
            subcode=as_int(error.get("error_subcode")),
            message=one_line(str(message), 160),
            trace=one_line(str(error.get("fbtrace_id") or ""), 40),
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """What Meta last said of our share of a rate limit, in percent (0-100)."""

    source: str  # "app" or the business use case type ("pages", "instagram", "messenger")
    call_count: int
    total_cputime: int
    total_time: int
    regain_minutes: int = 0  # estimated_time_to_regain_access

    @property
    def highest(self) -> int:
        return max(self.call_count, self.total_cputime, self.total_time)

    @property
    def words(self) -> str:
        what = "app" if self.source == "app" else f"{self.source} (business use case)"
        said = f"{what}: {self.highest}% of the limit used"
        if self.regain_minutes:
            said += f", blocked for about {self.regain_minutes} min more"
        return said


def parse_usage(headers: Mapping[str, str]) -> list[Usage]:
    """The usages in `X-App-Usage` (also the older `X-Page-Usage`) and
    `X-Business-Use-Case-Usage` (keyed by business object id: one list per id)."""
    found: list[Usage] = []
    for header, source in (("x-app-usage", "app"), ("x-page-usage", "page")):
        data = as_dict(_header_json(headers.get(header)))
        if data:
            found.append(_usage(source, data))
    for entries in as_dict(_header_json(headers.get("x-business-use-case-usage"))).values():
        for entry in objects(entries):
            found.append(_usage(str(entry.get("type") or "business"), entry))
    return found


def _header_json(value: str | None) -> Any:
    return json_or_none(value.encode()) if value else None


def _usage(source: str, data: dict[str, Any]) -> Usage:
    def percent(key: str) -> int:
        return max(0, min(as_int(data.get(key)) or 0, 10_000))

    return Usage(
        source, percent("call_count"), percent("total_cputime"), percent("total_time"),
        percent("estimated_time_to_regain_access"),
    )  # fmt: skip


def graph_time(value: Any) -> datetime:
    """A Graph time ("2026-05-01T10:00:00+0000") as an aware datetime; ValueError if not one."""
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00, which every Python reads
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a Graph time without a zone")
    return moment


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an edge: its items and what asks for the next page (None at the end): the
    `after` cursor, or for time-paged edges (a Page feed) `until` and `__paging_token`."""

    items: list[dict[str, Any]]
    next_params: dict[str, str] | None

    @property
    def after(self) -> str | None:
        return (self.next_params or {}).get("after")


NEXT_KEYS: Final = ("after", "until", "__paging_token")  # what a `next` URL says of the next page


class GraphClient:
    """One channel's Graph API client: versioned paths, bearer token, errors and throttling."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        token: str,
        *,
        version: str = GRAPH_VERSION,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        token = token.strip()
        register_secret(token)
        self.channel = channel
        self.version = version
        self.clock = clock
        self.usage: dict[str, Usage] = {}  # by source: the last word of each budget
        self.throttled_until: datetime | None = None
        self._http = HttpClient(
            channel, base_url.rstrip("/"), auth_headers={"Authorization": f"Bearer {token}"},
            timeout=timeout, clock=clock,
        )  # fmt: skip

    @property
    def host(self) -> str:
        return self._http.base_url.split("://", 1)[-1]

    def set_token(self, token: str) -> None:
        """Use another token from now on (the Page token derived from a user token)."""
        register_secret(token.strip())
        self._http.set_auth_headers({"Authorization": f"Bearer {token.strip()}"})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a node or an edge: its JSON object."""
        return await self._call("GET", path, params=params)

    async def post(self, path: str, data: Mapping[str, str] | None = None, *,
                   json_body: Any = None) -> dict[str, Any]:  # fmt: skip
        """POST to a node or an edge (a form, or JSON for the Send API)."""
        return await self._call("POST", path, data=data, json_body=json_body)

    async def pages(self, path: str, params: Mapping[str, str], *, max_pages: int) -> AsyncIterator[Page]:
        """The pages of an edge, following its cursors while `paging.next` says more."""
        following: dict[str, str] = {}
        for _ in range(max_pages):
            page = self.page_of(await self.get(path, dict(params) | following))
            yield page
            if page.next_params is None:
                return
            following = page.next_params

    @staticmethod
    def page_of(body: dict[str, Any]) -> Page:
        """The items of an edge's answer and what asks for the next page. A page may be short
        while more follow (Meta filters after paging): only a missing `next` ends the edge.
        The `next` URL itself is never called: Meta writes the access token into it."""
        paging = as_dict(body.get("paging"))
        items = objects(body.get("data"))
        following = paging.get("next")
        if not isinstance(following, str) or not following:
            return Page(items, None)
        after = as_dict(paging.get("cursors")).get("after")
        if isinstance(after, str) and after:
            return Page(items, {"after": after})
        query = dict(parse_qsl(urlsplit(following).query))
        said = {key: query[key] for key in NEXT_KEYS if query.get(key)}
        return Page(items, said or None)

    def usage_words(self) -> str:
        """Our share of Meta's rate limits as last seen, for `ecoinbox check`."""
        if self.throttled_until is not None and self.throttled_until > self.clock():
            return f"throttled by Meta until {self.throttled_until:%H:%M} UTC"
        if not self.usage:
            return "no usage reported by Meta yet"
        return "; ".join(usage.words for usage in self.usage.values())

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        now = self.clock()
        if self.throttled_until is not None and self.throttled_until > now:
            raise RateLimited(
                f"channel {self.channel}: Meta throttles this app until {self.throttled_until:%H:%M} UTC; "
                "ecoinbox waits until then",
                self.throttled_until,
            )
        url = f"/{self.version}/{path.lstrip('/')}"
        response = await self._http.request(
            method, url, params=dict(params or {}), data=data, json=json_body, check=False
        )
        self._note_usage(response)
        if 200 <= response.status < 300:
            body = json_or_none(response.content)
            if not isinstance(body, dict):
                what = UncertainSend if method == "POST" else TransientError
                raise what(
                    f"channel {self.channel}: {self.host} sent an unreadable answer to {method} {path}"
                )
            return body
        raise self._error(method, path, response)

    def _note_usage(self, response: HttpResponse) -> None:
        usage = parse_usage(response.headers)
        if not usage:
            return
        self.usage.update((each.source, each) for each in usage)
        blocked = [u for u in usage if u.regain_minutes or u.highest >= FULL]
        if blocked:
            minutes = max(u.regain_minutes for u in blocked)
            self._throttle(timedelta(minutes=minutes) if minutes else DEFAULT_THROTTLE)

    def _throttle(self, wait: timedelta) -> datetime:
        until = self.clock() + min(wait, MAX_THROTTLE)
        if self.throttled_until is None or until > self.throttled_until:
            self.throttled_until = until
        return self.throttled_until

    def _error(self, method: str, path: str, response: HttpResponse) -> ChannelError:
        error = GraphError.of(response)
        where = f"{self.host} ({method} {path.split('?')[0]})"
        if error.code in THROTTLE_CODES or response.status == 429:
            regain = max((u.regain_minutes for u in self.usage.values()), default=0)
            until = self._throttle(timedelta(minutes=regain) if regain else DEFAULT_THROTTLE)
            return RateLimited(
                f"channel {self.channel}: Meta throttles this app until {until:%H:%M} UTC ({error.words}); "
                "ecoinbox waits until then",
                until,
            )
        if error.code in AUTH_CODES or response.status == 401:
            return AuthError(
                f"channel {self.channel}: Meta refused the token ({error.words}): "
                f"run `ecoinbox auth {self.channel}`",
                status=response.status,
            )
        if error.code in PERMISSION_CODES and error.subcode != OUTSIDE_WINDOW_SUBCODE:
            return PermanentError(
                f"channel {self.channel}: the token lacks a permission for this ({error.words}); "
                f"`ecoinbox check` lists what is missing"
            )
        if response.status >= 500 or error.code in (1, 2):  # 1, 2: unknown or temporary API error
            if method == "POST":
                return UncertainSend(
                    f"channel {self.channel}: {where} may or may not have acted ({error.words})"
                )
            return TransientError(f"channel {self.channel}: {where} failed ({error.words})")
        return PermanentError(f"channel {self.channel}: {where} refused: {error.words}")


def post_title(text: str) -> str:
    """A post's (or a media's caption's) first words: the title of the conversations its
    comments open, one each, so the thread says what was commented."""
    from ecoinbox.channels.http import one_line

    return one_line(text, 80)
