"""TLS is always verified (SSL_CERT_FILE is the only way to trust more) and proxies come from the
environment, against loopback HTTPS servers signed by a CA made in the test."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from tls import LocalCA, make_local_ca

from ecoinbox.channels.base import TransientError
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer

TOKEN = "tls-test-token-0123456789abcdef"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
PACKAGE = Path(__file__).resolve().parent.parent / "ecoinbox"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the developer's proxies nor their CA settings may decide these tests."""
    for name in (*PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return make_local_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
async def tls_mastodon(ca: LocalCA) -> AsyncIterator[MastodonServer]:
    server = MastodonServer(seed=None, token=TOKEN)
    await server.start(ssl_context=ca.server_context())
    yield server
    await server.stop()


# --- TLS -------------------------------------------------------------------------------------


async def test_an_untrusted_certificate_stops_the_channel_before_the_token_leaves(tls_mastodon) -> None:
    assert tls_mastodon.base_url.startswith("https://127.0.0.1:")
    channel = MastodonChannel("secure", tls_mastodon.base_url, TOKEN, account="acme", timeout=5)
    try:
        with pytest.raises(TransientError) as checked:
            await channel.check()
        with pytest.raises(TransientError) as polled:
            await channel.poll({})
    finally:
        await channel.aclose()
    for error in (checked.value, polled.value):
        message = str(error)
        assert "TLS certificate not trusted; set SSL_CERT_FILE if a proxy re-signs TLS" in message
        assert "127.0.0.1" in message and TOKEN not in message
    # The handshake failed, so no request (and no Authorization header) ever reached it.
    assert tls_mastodon.requests == []


async def test_ssl_cert_file_is_honoured(tls_mastodon, ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    channel = MastodonChannel("secure", tls_mastodon.base_url, TOKEN, account="acme", timeout=5)
    try:
        who = await channel.check()
    finally:
        await channel.aclose()
    assert who.startswith("@acme on 127.0.0.1:")
    assert tls_mastodon.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_certificate_for_another_host_is_refused_even_from_a_trusted_ca(
    tls_mastodon, ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostname checking is on: the CA is trusted, but its certificate names 127.0.0.1 only, so
    the same server reached as "localhost" is refused."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    port = tls_mastodon.base_url.rsplit(":", 1)[1]
    client = HttpClient(
        "secure", f"https://localhost:{port}", auth_headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with pytest.raises(TransientError) as caught:
            await client.get_json("/api/v1/accounts/verify_credentials")
    finally:
        await client.aclose()
    assert "TLS certificate not trusted" in str(caught.value) and TOKEN not in str(caught.value)
    assert tls_mastodon.requests == []


OPT_OUTS = [
    r"verify\s*=\s*False",
    r"CERT_NONE",
    r"check_hostname\s*=\s*False",
    r"_create_unverified_context",
    r"PYTHONHTTPSVERIFY",
    r"trust_env\s*=\s*False",
]


def test_the_code_has_no_way_to_turn_verification_off() -> None:
    """No flag, setting or environment variable of ours reaches an unverified context: the one
    HTTP client is built with verify=True and trust_env=True (SSL_CERT_FILE, proxies)."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    found = [
        f"{path.relative_to(PACKAGE)}: {pattern}"
        for path in sources
        for pattern in OPT_OUTS
        if re.search(pattern, path.read_text(encoding="utf-8"))
    ]
    assert found == []
    clients = [path.name for path in sources if "httpx.AsyncClient(" in path.read_text(encoding="utf-8")
               or "httpx.Client(" in path.read_text(encoding="utf-8")]  # fmt: skip
    assert clients == ["http.py"]
    http = (PACKAGE / "channels" / "http.py").read_text(encoding="utf-8")
    assert "verify=True," in http and "trust_env=True," in http


# --- proxies ---------------------------------------------------------------------------------


PROXY_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n"
    b'Connection: close\r\n\r\n{"via": "proxy"}'
)


@dataclass
class ForwardProxy:
    """A loopback HTTP proxy: tunnels CONNECT, and answers absolute-form requests itself."""

    url: str = ""
    request_lines: list[str] = field(default_factory=list)
    heads: list[bytes] = field(default_factory=list)
    tunnelled: bytearray = field(default_factory=bytearray)  # what the client sent inside CONNECT

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.request_lines.append(line)
            self.heads.append(head)
            method, target, _ = line.split(" ", 2)
            if method != "CONNECT":
                writer.write(PROXY_ANSWER)
                await writer.drain()
                return
            host, port = target.rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(
                _pipe(reader, upstream_writer, self.tunnelled), _pipe(upstream_reader, writer, bytearray())
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, seen: bytearray) -> None:
    try:
        while data := await source.read(65536):
            seen.extend(data)
            sink.write(data)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    forward = ForwardProxy()
    server = await asyncio.start_server(forward.handle, "127.0.0.1", 0)
    forward.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield forward
    server.close()
    await server.wait_closed()


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"via": "origin"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def get_via(base_url: str, path: str = "/api/v1/instance") -> object:
    client = HttpClient("proxied", base_url, auth_headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    try:
        return await client.get_json(path)
    finally:
        await client.aclose()


async def test_http_proxy_from_the_environment_is_used(proxy, origin, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert await get_via(origin) == {"via": "proxy"}
    assert proxy.request_lines == [f"GET {origin}/api/v1/instance HTTP/1.1"]


async def test_no_proxy_is_honoured(proxy, origin, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert await get_via(origin) == {"via": "origin"}
    assert proxy.request_lines == []


async def test_https_through_a_proxy_tunnels_and_the_proxy_never_sees_the_token(
    proxy, tls_mastodon, ca: LocalCA, monkeypatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    channel = MastodonChannel("secure", tls_mastodon.base_url, TOKEN, account="acme", timeout=5)
    try:
        assert (await channel.check()).startswith("@acme on 127.0.0.1:")
    finally:
        await channel.aclose()
    host_port = tls_mastodon.base_url.removeprefix("https://")
    assert proxy.request_lines and all(
        line == f"CONNECT {host_port} HTTP/1.1" for line in proxy.request_lines
    )
    assert tls_mastodon.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(proxy.tunnelled) > 100  # TLS went through the tunnel, encrypted
    assert TOKEN.encode() not in bytes(proxy.tunnelled) and TOKEN.encode() not in b"".join(proxy.heads)
