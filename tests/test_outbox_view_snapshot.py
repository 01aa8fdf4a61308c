"""The Outbox view at 80x24 (SSH): a reply retrying against a server that was down, and one the
platform refused to a hostile name, its error quoting escape sequences and markup."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from stack import FIXED_NOW, settings_for
from test_inbox_snapshots import build_store

from ecoinbox.model import View
from ecoinbox.store import SQLiteStore
from ecoinbox.tui.app import EcoInboxApp


async def queue_two(store: SQLiteStore) -> None:
    rows = {row.author_handle.split("@")[0]: row for row in await store.conversation_page(View.INBOX)}
    for handle, text in (("sam", "@sam Settings, then Export."), ("x", "@x@evil.example hello")):
        parent = (await store.conversation(rows[handle].id)).messages[-1].message
        await store.queue_reply(rows[handle].id, parent, text)
    retrying = await store.claim_next_reply("a sender")
    await store.reply_retry(retrying, "503 Service Unavailable", FIXED_NOW + timedelta(hours=1))
    refused = await store.claim_next_reply("a sender")
    await store.reply_failed(refused, "422 \x1b]0;PWNED\x07[bold red]Validation failed[/] \u202eevil")


def test_outbox_view_at_80x24_snapshot(tmp_path, snap_compare):
    base_url = asyncio.run(build_store(tmp_path))
    store = SQLiteStore(tmp_path / "inbox.db", clock=lambda: FIXED_NOW)
    asyncio.run(store.open())
    try:
        asyncio.run(queue_two(store))
        app = EcoInboxApp(settings_for(base_url, tmp_path / "inbox.db"), store, None, now=lambda: FIXED_NOW)
        assert snap_compare(app, terminal_size=(80, 24), press=["w"])
    finally:
        asyncio.run(store.close())
