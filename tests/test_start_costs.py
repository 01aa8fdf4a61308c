"""What every start with channels paid once per channel and now pays once (issue 16, goals 1 and 8:
bench/scale.py's start with six channels, bench/demo_start.py)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from ecoinbox.channels.http import HttpClient


async def test_the_channels_share_one_verified_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))  # loads the CA file: 90 ms each on a busy machine
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    clients = [HttpClient(name, f"https://{name}.example") for name in ("one", "two", "three")]
    try:
        assert len(made) <= 1
        assert all(context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname for context in made)
    finally:
        for client in clients:
            await client.aclose()
