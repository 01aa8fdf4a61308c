"""`ecoinbox demo`: the real product on local servers that speak the platforms' APIs.

It starts the servers in this process on 127.0.0.1, writes a config and a store in a temporary
directory, keeps new mentions arriving, and opens the inbox on them. Replies really go to the
local servers and come back into the threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from ecoinbox.demo import DEMO_TOKEN
from ecoinbox.demo.mastodon_server import MastodonServer
DEMO_BRAND = "acme"
DEMO_DOMAIN = "social.example"


def demo_config(mastodon_url: str, data_dir: Path) -> str:
    """The TOML the demo runs on: the same parser and code paths as a real setup."""
    python = sys.executable.replace("\\", "\\\\").replace('"', '\\"')
    store = str(data_dir / "ecoinbox.db").replace("\\", "\\\\").replace('"', '\\"')
    return f"""\
# Written by `ecoinbox demo`: a local Mastodon-compatible server on loopback.
[brand]
name = "Acme"
handles = ["{DEMO_BRAND}@{DEMO_DOMAIN}"]
keywords = ["acme"]

[store]
path = "{store}"

[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{mastodon_url}"
account = "{DEMO_BRAND}"
hashtags = ["acme"]
search = ["acme"]
poll_interval = 3
keyring = false
# The demo server's token is a public constant; a command prints it, so no file holds it.
token_cmd = ["{python}", "-m", "ecoinbox.demo", "token"]
"""


class Demo:
    """The demo servers, their traffic, and the config that points at them."""

    def __init__(self, *, seed: int = 1, data_dir: Path | None = None, traffic: bool = True,
                 tick_every: float = 5.0) -> None:  # fmt: skip
        self.seed = seed
        self.traffic = traffic
        self.tick_every = tick_every
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="ecoinbox-demo-"))
        self.mastodon = MastodonServer(brand=DEMO_BRAND, domain=DEMO_DOMAIN, seed=seed, token=DEMO_TOKEN)
        self.config_path = self.data_dir / "config.toml"
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> Demo:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        url = await self.mastodon.start()
        self.config_path.write_text(demo_config(url, self.data_dir), encoding="utf-8")
        if self.traffic:
            self._ticker = asyncio.create_task(self._keep_talking(), name="demo-traffic")
        return self

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.mastodon.stop()

    def cleanup(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> Demo:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _keep_talking(self) -> None:
        while True:
            await asyncio.sleep(self.tick_every)
            self.mastodon.tick()


def run_demo(*, seed: int, servers_only: bool, data_dir: Path | None, traffic: bool = True) -> int:
    return asyncio.run(_run_demo(seed=seed, servers_only=servers_only, data_dir=data_dir, traffic=traffic))


async def _run_demo(*, seed: int, servers_only: bool, data_dir: Path | None, traffic: bool) -> int:
    from ecoinbox.cli import _inbox, resolve_tokens
    from ecoinbox.config import load_config

    from ecoinbox.logs import setup_logging

    demo = Demo(seed=seed, data_dir=data_dir, traffic=traffic)
    setup_logging(demo.data_dir / "ecoinbox.log")
    try:
        async with demo:
            if servers_only:
                print(f"mastodon: {demo.mastodon.base_url}", flush=True)
                print(f"config:   {demo.config_path}", flush=True)
                print(f"open the inbox with: ecoinbox --config {demo.config_path}", flush=True)
                print("Ctrl+C stops the servers.", flush=True)
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
                return 0
            settings = load_config(demo.config_path)
            tokens = await asyncio.to_thread(resolve_tokens, settings)
            return await _inbox(settings, tokens)
    finally:
        demo.cleanup()
