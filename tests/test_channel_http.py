"""The shared HTTP layer, against real loopback servers (aiohttp, and raw asyncio for drips)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web

from ecoinbox import __version__
from ecoinbox.channels.base import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import (
    HttpClient,
    RedactingFilter,
    channel_logger,
    link_header_entries,
    parse_link_header,
    parse_reset,
    parse_retry_after,
    redact,
)

TOKEN = "s3cret-T0ken-that-must-never-show"
API_KEY = "discourse-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Api-Key": API_KEY}
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeClock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Server:
    """A loopback aiohttp server that records what reached it."""

    url: str
    seen: list[web.Request] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def hits(self) -> int:
        return len(self.seen)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> Server:
        server = Server(url="")

        async def record(request: web.Request) -> web.StreamResponse:
            server.seen.append(request)
            server.headers.append(dict(request.headers))
            return await handler(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        server.url = f"http://127.0.0.1:{port}"
        return server

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., HttpClient]]:
    made: list[HttpClient] = []

    def make(base_url: str, **kwargs: object) -> HttpClient:
        kwargs.setdefault("auth_headers", AUTH)
        client = HttpClient("acme", base_url, **kwargs)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def json_answer(data: object, status: int = 200, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(data, status=status, headers=headers)

    return handler


def assert_no_secret(text: str) -> None:
    assert TOKEN not in text
    assert API_KEY not in text


# --- deadline, size cap, concurrency -------------------------------------------------------


@pytest.fixture
async def drip_server() -> AsyncIterator[str]:
    """Answers headers at once, then one body byte every 0.2 s, forever (a slow-drip server)."""

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: 100000\r\n\r\n")
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.2)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_overall_deadline_cuts_a_slow_drip(drip_server: str, clients) -> None:
    # Per-operation timeouts of 5 s never fire: each read gets a byte within 0.2 s.
    client = clients(drip_server, timeout=1.0, op_timeout=httpx.Timeout(5.0))
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        await client.request("GET", "/api/v1/notifications")
    assert time.monotonic() - started < 3.0
    assert type(caught.value) is TransientError
    assert "127.0.0.1" in str(caught.value) and "/api/v1/notifications" in str(caught.value)


async def test_deadline_after_the_request_left_makes_a_post_uncertain(drip_server: str, clients) -> None:
    client = clients(drip_server, timeout=0.5, op_timeout=httpx.Timeout(5.0))
    with pytest.raises(UncertainSend):
        await client.request("POST", "/api/v1/statuses", json={"status": "hi"})


async def test_response_size_cap_with_and_without_content_length(serve, clients) -> None:
    big = b"[" + b'"x",' * 300_000 + b'"x"]'

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=big, content_type="application/json")

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(big), 65536):
            await response.write(big[start : start + 65536])
        await response.write_eof()
        return response

    for handler in (declared, chunked):
        server = await serve(handler)
        client = clients(server.url, max_bytes=1024 * 1024)
        with pytest.raises(TransientError, match="larger than 1 MiB"):
            await client.request("GET", "/big")
    small = await serve(json_answer(["fits"]))
    assert await clients(small.url, max_bytes=1024).get_json("/small") == ["fits"]


async def test_at_most_four_requests_in_flight_per_host(serve, clients) -> None:
    in_flight = 0
    peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.json_response({})

    server = await serve(slow)
    client = clients(server.url)
    await asyncio.gather(*(client.get_json(f"/n/{n}") for n in range(12)))
    assert server.hits == 12
    assert peak == 4


async def test_user_agent_and_accept(serve, clients) -> None:
    server = await serve(json_answer({}))
    await clients(server.url).get_json("/x")
    assert server.headers[0]["User-Agent"] == f"ecoinbox/{__version__}"
    assert server.headers[0]["Accept"] == "application/json"


# --- credentials never cross origins -------------------------------------------------------


async def test_redirect_is_not_followed_and_credentials_stay_home(serve, clients) -> None:
    elsewhere = await serve(json_answer({"stolen": True}))

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(location=f"{elsewhere.url}/collect?from=home")

    home = await serve(redirect)
    client = clients(home.url)
    with pytest.raises(PermanentError) as caught:
        await client.request("GET", "/api/v1/notifications")
    assert elsewhere.hits == 0
    assert "redirects (302)" in str(caught.value) and "not followed" in str(caught.value)
    assert "from=home" not in str(caught.value)
    assert home.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    assert home.headers[0]["Api-Key"] == API_KEY

    # An absolute URL to another origin goes out without the auth headers.
    assert await client.get_json(f"{elsewhere.url}/page") == {"stolen": True}
    assert "Authorization" not in elsewhere.headers[0]
    assert "Api-Key" not in elsewhere.headers[0]


# --- rate limits ---------------------------------------------------------------------------


async def test_429_with_iso_reset_pauses_that_host_only(serve, clients) -> None:
    clock = FakeClock()
    reset = T0 + timedelta(seconds=120, microseconds=123456)
    limited = await serve(
        json_answer(
            {"error": "Too many requests"},
            status=429,
            **{
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        )
    )
    other = await serve(json_answer({"ok": True}))
    client = clients(limited.url, clock=clock)

    with pytest.raises(RateLimited) as first:
        await client.request("GET", "/api/v1/notifications")
    assert first.value.retry_at == reset
    assert limited.hits == 1

    with pytest.raises(RateLimited) as second:
        await client.request("GET", "/api/v1/timelines/tag/acme")
    assert second.value.retry_at == reset
    assert limited.hits == 1  # paused: the network was not touched
    assert client.paused_until() == reset

    assert await client.get_json(f"{other.url}/api/v1/instance") == {"ok": True}
    assert client.paused_until(other.url) is None

    clock.now = reset + timedelta(seconds=1)
    with pytest.raises(RateLimited):
        await client.request("GET", "/api/v1/notifications")
    assert limited.hits == 2  # the pause is over: it asked again


async def test_remaining_zero_pauses_before_the_429(serve, clients) -> None:
    clock = FakeClock()
    reset = T0 + timedelta(seconds=30)
    server = await serve(
        json_answer([], **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.isoformat()})
    )
    client = clients(server.url, clock=clock)
    assert await client.get_json("/api/v1/notifications") == []
    with pytest.raises(RateLimited) as caught:
        await client.get_json("/api/v1/notifications")
    assert caught.value.retry_at == reset
    assert server.hits == 1


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("30", T0 + timedelta(seconds=30)),
        ("Sat, 01 Mar 2025 12:02:00 GMT", T0 + timedelta(minutes=2)),
        ("86400", T0 + timedelta(minutes=15)),  # clamped to a sane maximum
        ("0", T0 + timedelta(seconds=1)),  # never a busy loop
    ],
)
async def test_503_with_retry_after(serve, clients, retry_after: str, expected: datetime) -> None:
    server = await serve(json_answer({"error": "busy"}, status=503, **{"Retry-After": retry_after}))
    client = clients(server.url, clock=FakeClock())
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", "/api/v1/notifications")
    assert caught.value.retry_at == expected
    with pytest.raises(RateLimited):
        await client.request("GET", "/api/v1/notifications")
    assert server.hits == 1


async def test_429_without_any_hint_pauses_a_minute(serve, clients) -> None:
    server = await serve(json_answer({"error": "Too many requests"}, status=429))
    client = clients(server.url, clock=FakeClock())
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", "/x")
    assert caught.value.retry_at == T0 + timedelta(seconds=60)


async def test_503_without_retry_after_is_transient_and_does_not_pause(serve, clients) -> None:
    server = await serve(json_answer({"error": "down"}, status=503))
    client = clients(server.url)
    for _ in range(2):
        with pytest.raises(TransientError) as caught:
            await client.request("GET", "/x")
        assert not isinstance(caught.value, RateLimited)
    assert server.hits == 2


# --- error mapping -------------------------------------------------------------------------


async def test_401_is_an_auth_error_without_the_token(serve, clients) -> None:
    # Even a server that echoes the token back does not get it into the message.
    server = await serve(json_answer({"error": f"The access token {TOKEN} is invalid"}, status=401))
    client = clients(server.url)
    with pytest.raises(AuthError) as caught:
        await client.request("GET", "/api/v1/accounts/verify_credentials")
    message = str(caught.value)
    assert "run `ecoinbox auth acme`" in message
    assert "The access token" in message
    assert_no_secret(message)
    assert_no_secret(repr(caught.value))
    assert_no_secret(repr(client))
    assert caught.value.transient is False


async def test_403_is_an_auth_error(serve, clients) -> None:
    server = await serve(json_answer({"error": "This action is outside the authorized scopes"}, status=403))
    with pytest.raises(AuthError, match="outside the authorized scopes"):
        await clients(server.url).request("GET", "/api/v2/search")


async def test_other_4xx_is_permanent_with_one_clean_line(serve, clients) -> None:
    hostile = "Record not found\x1b]0;PWNED\x07\u202e\n" + "x" * 5000
    server = await serve(json_answer({"error": hostile}, status=404))
    with pytest.raises(PermanentError) as caught:
        await clients(server.url).request("GET", "/api/v1/statuses/1")
    message = str(caught.value)
    assert type(caught.value) is PermanentError
    assert "404: Record not found" in message
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message
    assert "\n" not in message and len(message) < 400


async def test_error_messages_carry_no_query_string(serve, clients) -> None:
    server = await serve(json_answer({"error": "boom"}, status=500))
    with pytest.raises(TransientError) as caught:
        await clients(server.url).request(
            "GET", "/api/v1/streaming", params={"access_token": TOKEN, "stream": "user"}
        )
    message = str(caught.value)
    assert "/api/v1/streaming" in message and "500" in message
    assert "stream=" not in message
    assert_no_secret(message)


async def test_malformed_json_is_transient(serve, clients) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(text='[{"id": "1",', content_type="application/json")

    server = await serve(broken)
    client = clients(server.url)
    with pytest.raises(TransientError, match="malformed response from 127.0.0.1") as caught:
        await client.get_json("/api/v1/notifications")
    assert type(caught.value) is TransientError
    response = await client.request("POST", "/api/v1/statuses", json={"status": "hi"})
    with pytest.raises(UncertainSend):  # it was created: we just cannot read it
        response.json()


async def test_5xx_is_transient_but_a_post_behind_a_gateway_is_uncertain(serve, clients) -> None:
    server = await serve(json_answer({"error": "Bad gateway"}, status=502))
    client = clients(server.url)
    with pytest.raises(TransientError) as caught:
        await client.request("GET", "/api/v1/notifications")
    assert type(caught.value) is TransientError
    with pytest.raises(UncertainSend):
        await client.request("POST", "/api/v1/statuses", json={"status": "hi"})


async def test_connection_refused_is_transient_even_for_a_post(clients) -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    client = clients(f"http://127.0.0.1:{port}")
    with pytest.raises(TransientError) as caught:
        await client.request("POST", "/api/v1/statuses", json={"status": "hi"})
    assert type(caught.value) is TransientError  # the request never left: safe to resend


async def test_connection_dropped_after_the_request_makes_a_post_uncertain(clients) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        client = clients(f"http://127.0.0.1:{port}")
        with pytest.raises(UncertainSend) as caught:
            await client.request("POST", "/api/v1/statuses", json={"status": "hi"})
        assert "may or may not have been published" in str(caught.value)
        with pytest.raises(TransientError) as read:
            await client.request("GET", "/api/v1/notifications")
        assert type(read.value) is TransientError
    finally:
        listener.close()
        await listener.wait_closed()


# --- logging -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {TOKEN}",
        f"headers={{'authorization': 'Bearer {TOKEN}'}}",
        f"GET https://social.example/api/v1/streaming?stream=user&access_token={TOKEN}",
        f'{{"access_token": "{TOKEN}", "token_type": "Bearer"}}',
        f"Api-Key: {API_KEY}",
        f"{{'Api-Key': '{API_KEY}', 'Api-Username': 'system'}}",
        f"client_secret={TOKEN}&code=x",
    ],
)
def test_redaction_masks_secrets(line: str) -> None:
    masked = redact(line)
    assert_no_secret(masked)
    assert "[redacted]" in masked


def test_redaction_keeps_ordinary_text() -> None:
    line = "polled 12 mentions from social.example in 0.3 s"
    assert redact(line) == line


def test_redacting_filter_on_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = channel_logger("ecoinbox.tests.redaction")
    assert any(isinstance(f, RedactingFilter) for f in logger.filters)
    with caplog.at_level(logging.DEBUG, logger="ecoinbox"):
        logger.warning("sending %s", {"Authorization": f"Bearer {TOKEN}"})
        try:
            raise RuntimeError(f"failed with access_token={TOKEN}")
        except RuntimeError:
            logger.exception("request failed")
    assert len(caplog.records) == 2
    assert_no_secret(caplog.text)
    assert "[redacted]" in caplog.text
    assert "request failed" in caplog.text and "RuntimeError" in caplog.text


def test_http_loggers_are_quiet_and_ecoinbox_is_filtered(clients) -> None:
    clients("http://127.0.0.1:9")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
    assert any(isinstance(f, RedactingFilter) for f in logging.getLogger("ecoinbox").filters)


# --- header parsing ------------------------------------------------------------------------


def test_link_header_mastodon_style() -> None:
    value = (
        '<https://social.example/api/v1/notifications?max_id=109&types%5B%5D=mention>; rel="next", '
        '<https://social.example/api/v1/notifications?min_id=200&types%5B%5D=mention>; rel="prev"'
    )
    links = parse_link_header(value)
    assert links == {
        "next": "https://social.example/api/v1/notifications?max_id=109&types%5B%5D=mention",
        "prev": "https://social.example/api/v1/notifications?min_id=200&types%5B%5D=mention",
    }


def test_link_header_edge_cases() -> None:
    value = (
        '</page?a=1,2>; title="a, b; c"; rel="next last", '
        "<https://x.example/first>; rel=first; rel=ignored, "
        '<https://x.example/dup>; rel="NEXT"'
    )
    links = parse_link_header(value, base="https://x.example/api/list?page=3")
    assert links == {
        "next": "https://x.example/page?a=1,2",
        "last": "https://x.example/page?a=1,2",
        "first": "https://x.example/first",
    }
    assert parse_link_header(None) == {}
    assert parse_link_header("") == {}
    assert parse_link_header("garbage, <unterminated") == {}


def test_every_link_of_a_header_with_its_parameters() -> None:
    """A rel may come several times (feeds of several types): each link keeps its own params."""
    value = ('</wp-json/>; rel="https://api.w.org/", '
             '</?feed=comments-rss2>; rel="alternate"; type="application/rss+xml"; title="Comments, all", '
             '</?feed=comments-atom>; rel=alternate; type="application/atom+xml"')  # fmt: skip
    entries = link_header_entries(value, base="https://fans.example/")
    assert [url for url, _ in entries] == [
        "https://fans.example/wp-json/",
        "https://fans.example/?feed=comments-rss2",
        "https://fans.example/?feed=comments-atom",
    ]
    assert entries[1][1] == {"rel": "alternate", "type": "application/rss+xml", "title": "Comments, all"}
    assert link_header_entries(None) == [] and link_header_entries("garbage, <unterminated") == []


def test_reset_and_retry_after_formats() -> None:
    assert parse_reset("2025-03-01T12:05:00.123456Z", T0) == datetime(
        2025, 3, 1, 12, 5, 0, 123456, tzinfo=UTC
    )
    assert parse_reset("1740830700", T0) == datetime(2025, 3, 1, 12, 5, tzinfo=UTC)  # epoch
    assert parse_reset("42", T0) == T0 + timedelta(seconds=42)  # seconds from now
    assert parse_reset("soon", T0) is None
    assert parse_retry_after("120", T0) == T0 + timedelta(minutes=2)
    assert parse_retry_after("Sat, 01 Mar 2025 12:10:00 GMT", T0) == T0 + timedelta(minutes=10)
    assert parse_retry_after("not a date", T0) is None
    assert parse_retry_after(None, T0) is None


async def test_json_bodies_round_trip(serve, clients) -> None:
    async def echo(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"got": body, "key": request.headers.get("Idempotency-Key")})

    server = await serve(echo)
    response = await clients(server.url).request(
        "POST", "/api/v1/statuses", json={"status": "héllo"}, headers={"Idempotency-Key": "k1"}
    )
    assert response.status == 200
    assert response.json() == {"got": {"status": "héllo"}, "key": "k1"}
    assert json.loads(response.content)["key"] == "k1"
