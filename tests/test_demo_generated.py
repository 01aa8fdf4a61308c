"""`ecoinbox demo --messages N`: the demo on a generated store (issue 5's "a new user feels no lag").

The store is made once in the cache directory and reused; each demo starts from a copy of it,
with the demo's servers running on top. A reply to a generated Mastodon conversation reaches
the demo server (its posts were never there: the server answers a stand-in) and comes back.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3

from stack import wait_until

from ecoinbox.cli import build_engine, resolve_tokens
from ecoinbox.config import load_config
from ecoinbox.demo.generate import manifest
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.demo.runner import Demo, generated_store
from ecoinbox.model import OutboxState, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp

MESSAGES = 2000


async def test_the_demo_opens_on_a_generated_store_and_replies_there(tmp_path):
    said = io.StringIO()
    made = await asyncio.to_thread(generated_store, MESSAGES, cache=tmp_path / "cache", out=said)
    assert "Generating a demo store of 2,000 messages" in said.getvalue() and "100%" in said.getvalue()
    stamp = manifest(made).stat().st_mtime_ns
    said = io.StringIO()
    assert await asyncio.to_thread(generated_store, MESSAGES, cache=tmp_path / "cache", out=said) == made
    assert said.getvalue() == "" and manifest(made).stat().st_mtime_ns == stamp  # reused, not made again
    with sqlite3.connect(made) as db:
        pristine = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert pristine == MESSAGES

    async with Demo(data_dir=tmp_path / "demo", traffic=False, generated=made) as demo:
        settings = load_config(demo.config_path)
        assert settings.store.path == demo.data_dir / "ecoinbox.db"
        store = await open_store(settings.store.path)
        engine = build_engine(settings, await asyncio.to_thread(resolve_tokens, settings), store)
        try:
            # The config's channels are the generated store's own channel names.
            with sqlite3.connect(settings.store.path) as db:
                generated_channels = {c for (c,) in db.execute("SELECT DISTINCT channel FROM messages")}
                target, parent_id = db.execute(
                    "SELECT c.id, m.remote_id FROM conversations c"
                    " JOIN messages m ON m.conversation_id = c.id"
                    " WHERE c.channel = 'mastodon' AND c.state = 'open' AND m.origin != 'ours'"
                    " ORDER BY c.last_activity DESC, m.created_at DESC LIMIT 1"
                ).fetchone()
            # (the servers of the platforms the generator leaves out come on top: the fan blog...)
            assert generated_channels <= {c.name for c in settings.channels}
            polled = await engine.poll_all_once()
            assert all(result.new > 0 for result in polled.values()), polled  # the servers' traffic on top
            app = EcoInboxApp(settings, store, engine)
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: app.inbox.conversations.selected_row is not None, pilot=pilot)
                assert await store.count_conversations(View.INBOX) > 50
            parent = await store.message("mastodon", parent_id)
            await store.queue_reply(target, parent, "Thanks, we are on it!")
            assert await engine.send_once() == 1
            (posted,) = demo.server("mastodon", MastodonServer).posted
            assert posted.in_reply_to_id == parent_id
            (item,) = [i for i in await store.outbox_items() if i.conversation_id == target]
            assert item.state is OutboxState.SENT
        finally:
            await engine.stop()
            await store.close()
    with sqlite3.connect(made) as db:  # the demo wrote to its copy, never to the generated store
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == pristine
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
