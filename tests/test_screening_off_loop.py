"""Screening runs off the event loop and outside the write transaction: the inbox keeps reading while
a long post is judged, a message that runs over its budget is stored unscreened with a note saying
so, and the poll's cursor is saved either way (a restart never loops on the same post).

Before: the store judged each message on the event loop inside the ingest transaction, so one
200,000-character post froze the inbox (14 minutes) and, never committed, came back at each start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pty_terminal import mastodon_in_a_thread
from stack import TOKEN

import ecoinbox.store.screening as store_screening
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.runner import DEMO_CANNED, DEMO_RULES
from ecoinbox.engine import Engine
from ecoinbox.model import Author, Message, State, View
from ecoinbox.screening.inbound import Assessment, Screener

LAG_S = 0.1  # the longest the event loop may stay busy while a message is judged
SLOW_S = 0.25  # CPU time a deliberately slow screening spends on a message

CONFIG = f'[brand]\nname = "Acme"\nkeywords = ["acme"]\n{DEMO_RULES}\n{DEMO_CANNED}'


class SlowScreener(Screener):
    """The real screener, but a message saying "slow" costs SLOW_S of pure-Python CPU (a stand-in
    for any pattern or model that takes long: it holds the interpreter as they do)."""

    def assess(self, message: Message, **kwargs: Any) -> Assessment:
        if "slow" in message.text:
            until = time.thread_time() + SLOW_S
            while time.thread_time() < until:
                pass
        return super().assess(message, **kwargs)


def screener(kind: type[Screener] = Screener) -> Screener:
    settings = parse_config(CONFIG, Path("test.toml"))
    built = Screener.from_settings(settings)
    return kind(built.spam_filter, built.rules)


def msg(remote_id: str, text: str, *, who: str = "zoe") -> Message:
    return Message("m", remote_id, Author("m", who, who, who), text, datetime(2026, 12, 1, 9, tzinfo=UTC))


async def worst_lag_during(work: Awaitable[Any], store: Any) -> tuple[Any, float, float]:
    """Run `work` while a heartbeat (every 5 ms) and the inbox's reads go on; return its result,
    the longest gap between two heartbeats and the slowest read."""
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    reads: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    async def read() -> None:
        while not done.is_set():
            started = loop.time()
            await store.conversation_page(View.INBOX, limit=50)
            reads.append(loop.time() - started)
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(heartbeat()), asyncio.create_task(read())]
    await asyncio.sleep(0.02)  # both are running before the work starts
    try:
        result = await work
        await asyncio.sleep(0.02)
    finally:
        done.set()
        await asyncio.gather(*tasks)
    return result, max(gaps), max(reads)


@pytest.fixture
def server():
    # On its own loop: its serving of the long post is not the inbox's loop lag.
    with mastodon_in_a_thread(TOKEN) as server:
        yield server


async def test_a_200000_character_post_through_the_engine_never_stops_the_inbox(store, server) -> None:
    await store.attach_screener(screener())
    await store.ingest([msg("0", "warm up: refund please")])  # the language model and patterns load
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme", timeout=30)
    engine = Engine(store, {"mastodon": channel})
    server.add_status(author="flood@remote.example", text="@acme " + "a." * 100_000)
    try:
        result, lag, slowest_read = await worst_lag_during(engine.poll_channel("mastodon"), store)
    finally:
        await engine.stop()
    assert result.new == 1
    assert lag <= LAG_S, f"the event loop stopped for {lag * 1000:.0f} ms"
    assert slowest_read <= LAG_S, f"a read of the inbox waited {slowest_read * 1000:.0f} ms"
    assert await store.cursor("mastodon"), "the cursor moved past the post"


async def test_slow_screening_runs_off_the_event_loop(store, monkeypatch: pytest.MonkeyPatch) -> None:
    # A budget no loaded machine runs out of: this test is about the loop, the next about the budget.
    monkeypatch.setattr(store_screening, "SCREENING_BUDGET_S", 30.0)
    await store.attach_screener(screener(SlowScreener))
    await store.ingest([msg("0", "warm up")])
    _, lag, _ = await worst_lag_during(store.ingest([msg("1", "slow: my refund never arrived")]), store)
    assert lag <= LAG_S, f"the event loop stopped for {lag * 1000:.0f} ms"
    row = await store.conversation_row(2)
    assert row is not None and row.priority == 1, "it was still judged"


async def test_a_message_over_its_budget_is_stored_unscreened_with_a_note_and_the_cursor_saved(
    store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_screening, "SCREENING_BUDGET_S", 0.02)
    monkeypatch.setattr(store_screening, "SCREENING_GRACE_S", 0.05)
    await store.attach_screener(screener(SlowScreener))
    # No timing here (a loaded machine makes any bound flaky): "skipped" below is what an ingest
    # that waited for the slow judgment could not have written.
    await store.ingest(
        [msg("1", "slow: follow back f4f"), msg("2", "this arrived broken, refund please", who="ann")],
        cursor=("m", {"since": "2"}),
    )
    assert await store.cursor("m") == {"since": "2"}
    first = await store.conversation(1)
    assert first is not None and first.row.state is State.OPEN, "not judged: it stays in the inbox"
    assert "screening skipped: too long" in first.screening_notes
    assert any(
        entry[1:] == ("screening", "screening", None, "skipped: too long") for entry in await store.history(1)
    )
    second = await store.conversation(2)
    assert second is not None and "screening skipped: too long" in second.screening_notes, (
        "judged after it: late too"
    )
    monkeypatch.undo()  # the usual budget: the next batch waits for the slow message's end, then is judged
    await store.ingest([msg("3", "my order never arrived, refund please", who="bob")])
    third = await store.conversation(3)
    assert third is not None and third.row.priority == 1
    assert "screening skipped: too long" not in third.screening_notes


async def test_a_text_beyond_the_cap_is_not_screened_at_all(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_screening, "MAX_SCREENING_CHARS", 100)
    await store.attach_screener(screener())
    await store.ingest([msg("1", "follow back f4f " + "x" * 200)], cursor=("m", {"since": "1"}))
    conversation = await store.conversation(1)
    assert conversation is not None and conversation.row.state is State.OPEN
    assert conversation.screening_notes == ["screening skipped: too long"]
    assert await store.cursor("m") == {"since": "1"}


async def test_marks_taught_from_the_inbox_go_through_the_screeners_thread(store) -> None:
    await store.attach_screener(screener())
    await store.ingest([msg("1", "grab cheap watches at my shop", who="spammer")])
    await store.set_state([1], State.SPAM, actor="manager")
    assert store.screener is not None and len(store.screener.spam_filter.marks) == 1
