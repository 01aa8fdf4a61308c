"""The whole product in one test: a local Mastodon server, the store, the engine and the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.store import Store, open_store

TOKEN = "test-token-0123456789"


@dataclass
class Stack:
    server: MastodonServer
    store: Store
    channel: MastodonChannel
    engine: Engine
    settings: object


def recorded_notices(app: Any) -> list[str]:
    """What `app` notifies from now on, in order (each notice still shown as usual)."""
    said: list[str] = []
    show = app.notify

    def notify(message: str, **options: Any) -> None:
        said.append(str(message))
        show(message, **options)

    app.notify = notify
    return said


async def polled_once(db: Path, base_url: str, token: str = TOKEN) -> None:
    """The store at `db` as an inbox leaves it after one poll of the Mastodon server at `base_url`."""
    store = await open_store(db)
    try:
        engine = Engine(store, {"mastodon": MastodonChannel("mastodon", base_url, token, account="acme")})
        await engine.poll_all_once()
        await engine.stop()
    finally:
        await store.close()


def settings_for(base_url: str, db: Path, extra_ui: str = "", extra: str = "") -> object:
    """A config for one local Mastodon channel; `extra_ui` goes in [ui], `extra` at the end.

    Replies go out at once (`send_delay = 0`) unless `extra_ui` sets a delay: the tests of undo
    send do; the others check what reached the server without waiting out a hold."""
    if "send_delay" not in extra_ui:
        extra_ui = "send_delay = 0\n" + extra_ui
    return parse_config(
        f"""
[brand]
name = "Acme"
handles = ["acme@social.example"]
keywords = ["acme"]
[ui]
{extra_ui}
[store]
path = "{db}"
[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{base_url}"
account = "acme"
poll_interval = 3600
keyring = false
token_env = "UNUSED"
{extra}""",
        Path("test.toml"),
    )


@asynccontextmanager
async def running_stack(tmp_path: Path, *, seed: int | None = None, extra_ui: str = "",
                        clock: Callable[[], datetime] | None = None) -> AsyncIterator[Stack]:  # fmt: skip
    server = MastodonServer(seed=seed, token=TOKEN)
    await server.start()
    store = await open_store(tmp_path / "inbox.db")
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
    engine = Engine(store, {"mastodon": channel}, poll_intervals={"mastodon": 3600}, clock=clock)
    try:
        yield Stack(
            server, store, channel, engine, settings_for(server.base_url, tmp_path / "inbox.db", extra_ui)
        )
    finally:
        await engine.stop()
        await store.close()
        await server.stop()


async def wait_until(condition: Callable[[], object], *, timeout: float = 10.0, pilot=None) -> None:
    """Wait for something the engine does in the background (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        if pilot is not None:
            await pilot.pause(0.05)
        else:
            await asyncio.sleep(0.05)


FIXED_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # in the past: replies sent now sort after it
