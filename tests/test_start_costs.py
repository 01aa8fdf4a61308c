"""What the inbox's start paid one after another, or once per channel, and now pays beside or once
(issue 16, goals 1 and 8: bench/scale.py's start with six channels, bench/demo_start.py)."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ecoinbox import app_start, background_check
from ecoinbox.app_start import check_then_start
from ecoinbox.channels.http import HttpClient
from ecoinbox.config import Settings, parse_config
from ecoinbox.screening.inbound import Screener
from ecoinbox.store import open_store


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


class Polling:
    started = False

    async def start(self) -> None:
        self.started = True


async def test_screening_is_built_while_the_store_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both come before the first poll: one after the other, the demo's first rows waited for both."""
    building = threading.Event()
    real = app_start.new_screener

    def spied(settings: Settings) -> Screener:
        building.set()
        return real(settings)

    async def check_waiting_for_the_build(path: Path) -> list[str]:
        built_beside = await asyncio.to_thread(building.wait, 5)
        return [] if built_beside else ["the screener was built after the check"]  # as a problem: no start

    monkeypatch.setattr(app_start, "new_screener", spied)
    monkeypatch.setattr(background_check, "check_store_file", check_waiting_for_the_build)
    store, engine = await open_store(tmp_path / "inbox.db"), Polling()
    try:
        settings = parse_config('[brand]\nname = "Acme"\n', Path("test.toml"))
        assert await check_then_start(store, engine, settings) is True  # type: ignore[arg-type]
        assert store.screener is not None and engine.started
    finally:
        await store.close()


X_BUILT = """
import json, sys
from pathlib import Path
from ecoinbox.channels import build_channel
from ecoinbox.config import parse_config
from ecoinbox.secrets import Secret
settings = parse_config(sys.argv[1], Path("test.toml"))
build_channel(settings.channel("x"), Secret("token"), settings.brand)
print(json.dumps("twitter_text" in sys.modules))
"""


def test_an_x_channel_is_built_without_its_length_rules(tmp_path: Path) -> None:
    """The inbox builds every channel before its first frame; X's length rules load at the first count."""
    config = (
        '[brand]\nname = "Acme"\n[[channels]]\nkind = "x"\nname = "x"\nbase_url = "http://127.0.0.1:9"\n'
        'auth_url = "http://127.0.0.1:9"\naccount = "acme"\nclient_id = "app"\nkeyring = false\n'
        'token_env = "UNUSED_X_TOKEN"\n'
    )
    argv = [sys.executable, "-c", X_BUILT, config]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "false"
