"""Snapshots of the inbox as a manager sees it, at 80x24 (SSH) and 120x40 (thread beside)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from stack import FIXED_NOW, TOKEN, settings_for

from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.store import SQLiteStore, open_store
from ecoinbox.tui.app import EcoInboxApp

PEOPLE = [
    (
        "lea@piaille.example",
        "Léa Martin",
        "ma commande n'est jamais arrivée, c'est la deuxième fois. Commande #48213.",
        "fr",
    ),
    ("sam", "Sam Okafor", "how do I export my data to CSV? The docs link is broken", "en"),
    ("priya@hachyderm.example", "Priya 🌱", "the app crashes when I open settings 😩 iOS 18", "en"),
    (
        "x@evil.example",
        "[ @click=app.quit]x[/]",
        "\x1b]0;PWNED\x07hello \x1b[2J[bold red]markup[/] \u202eevil",
        "en",
    ),
    ("jonas", "Jonas", "thanks, that fixed it!", "en"),
]


async def build_store(tmp_path) -> str:
    """Ingest a fixed set of conversations through the real channel and engine."""
    async with MastodonServer(seed=None, token=TOKEN) as server:
        for minutes, (handle, name, text, lang) in enumerate(PEOPLE):
            server.add_status(author=handle, display_name=name, text=f"@acme {text}", language=lang,
                              created_at=FIXED_NOW - timedelta(minutes=10 * minutes + 2))  # fmt: skip
        store = await open_store(tmp_path / "inbox.db")
        engine = Engine(
            store, {"mastodon": MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")}
        )
        await engine.poll_all_once()
        await engine.stop()
        await store.close()
        return server.base_url


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_inbox_snapshot(tmp_path, snap_compare, size):
    base_url = asyncio.run(build_store(tmp_path))
    store = SQLiteStore(tmp_path / "inbox.db")
    asyncio.run(store.open())
    try:
        app = EcoInboxApp(settings_for(base_url, tmp_path / "inbox.db"), store, None, now=lambda: FIXED_NOW)
        assert snap_compare(app, terminal_size=size)
    finally:
        asyncio.run(store.close())


def test_thread_open_at_80x24_snapshot(tmp_path, snap_compare):
    base_url = asyncio.run(build_store(tmp_path))
    store = SQLiteStore(tmp_path / "inbox.db")
    asyncio.run(store.open())
    try:
        app = EcoInboxApp(settings_for(base_url, tmp_path / "inbox.db"), store, None, now=lambda: FIXED_NOW)
        assert snap_compare(app, terminal_size=(80, 24), press=["j", "j", "j", "enter"])
    finally:
        asyncio.run(store.close())


SAVED_VIEWS = '[[views]]\nname = "French"\nquery = "lang:fr"\n'


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(["slash", *"the", "enter"], id="results"),  # matched words marked, the tab and count
        pytest.param(["slash", *"the is:x", "enter"], id="mistake"),  # the line stays open and says why
    ],
)
def test_search_snapshot_at_80x24(tmp_path, snap_compare, keys):
    base_url = asyncio.run(build_store(tmp_path))
    store = SQLiteStore(tmp_path / "inbox.db")
    asyncio.run(store.open())
    try:
        settings = settings_for(base_url, tmp_path / "inbox.db", extra=SAVED_VIEWS)
        app = EcoInboxApp(settings, store, None, now=lambda: FIXED_NOW)
        assert snap_compare(app, terminal_size=(80, 24), press=keys)
    finally:
        asyncio.run(store.close())
