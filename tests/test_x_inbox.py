"""The inbox on an X channel: its conversation shows, the reply box counts X's weighted 280, and
a reply typed key by key reaches the local X once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from stack import FIXED_NOW, settings_for, wait_until
from textual.widgets import Static

from ecoinbox.channels.x import XChannel
from ecoinbox.demo.x.server import XServer
from ecoinbox.engine import Engine
from ecoinbox.store import Store, open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen

REFRESH = "x-inbox-refresh-token-0123456789"
CLIENT_ID = "x-inbox-client"


@asynccontextmanager
async def inbox_on(tmp_path: Path, channel: XChannel) -> AsyncIterator[tuple[Store, Engine, EcoInboxApp]]:
    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"x": channel}, poll_intervals={"x": 3600}, leased=False)
    try:
        await engine.poll_all_once()
        settings = settings_for("http://127.0.0.1:9", tmp_path / "inbox.db")
        yield store, engine, EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)  # type: ignore[arg-type]
    finally:
        await engine.stop()
        await store.close()


def keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


async def test_an_x_mention_is_answered_from_the_inbox_once(tmp_path: Path) -> None:
    async with XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH) as server:
        mention = server.add_post(author="zoe_k", text="@acme my kettle leaks, order 4821",
                                  created_at=FIXED_NOW - timedelta(hours=2))  # fmt: skip
        channel = XChannel("x", server.base_url, REFRESH, client_id=CLIENT_ID, account="acme",
                           ledger=tmp_path / "reads.json")  # fmt: skip
        async with inbox_on(tmp_path, channel) as (_store, engine, app):
            await engine.start()
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
                assert "my kettle leaks" in app.inbox.thread.conversation.messages[-1].message.text
                await pilot.press("r")
                assert isinstance(app.screen, ComposeScreen)
                await pilot.press(*keys("Sorry Zoe! 日本 https://example.com/" + "x" * 40))
                counter = str(app.screen.query_one("#compose-count", Static).render())
                assert counter == f"{len('Sorry Zoe! ') + 4 + 1 + 23}/280", counter
                await pilot.press("ctrl+s")
                await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
                await wait_until(lambda: len(server.posted) == 1, pilot=pilot)
                await pilot.pause(0.3)
        await channel.aclose()
    [posted] = server.posted
    assert posted.reply_to is not None and posted.reply_to.id == mention
    assert posted.urls == [("https://t.co/" + posted.urls[0][0][13:], "https://example.com/" + "x" * 40)]
    assert posted.text.startswith("Sorry Zoe! 日本 https://t.co/")
