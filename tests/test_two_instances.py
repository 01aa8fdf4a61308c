"""Two managers, one store: one engine polls and sends, both inboxes stay live, no reply doubles.

"Another process" is a second store opened on the same file (its own SQLite connections, as a
second ecoinbox has), or a real `ecoinbox poll` child killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from stack import TOKEN, running_stack, wait_until

import ecoinbox.engine.engine as engine_module
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.engine.engine import ENGINE_LEASE, process_alive
from ecoinbox.model import OutboxState, State, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen


@pytest.fixture(autouse=True)
def quick_leases(monkeypatch):
    monkeypatch.setattr(engine_module, "STANDBY_CHECK_S", 0.05)
    monkeypatch.setattr(engine_module, "EXTERNAL_CHECK_S", 0.05)


@pytest.fixture
async def server():
    async with MastodonServer(seed=None, token=TOKEN) as server:
        yield server


def engine_for(store, server) -> Engine:
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
    # No slow server here: an uncertain send is read back at once.
    return Engine(store, {"mastodon": channel}, poll_intervals={"mastodon": 3600}, uncertain_settle=0)


def polls(server: MastodonServer) -> int:
    return sum(1 for r in server.requests if r.path == "/api/v1/notifications")


async def queue_to_first(store, text: str):
    # Once our first reply is stored the conversation waits on them, in Pending.
    (row,) = await store.conversation_page(View.INBOX) or await store.conversation_page(View.PENDING)
    thread = await store.conversation(row.id)
    return await store.queue_reply(row.id, thread.messages[-1].message, text)


async def test_one_engine_polls_and_sends_and_the_other_takes_over_when_it_stops(server, tmp_path):
    server.add_status(author="zoe@remote.example", text="@acme is my order lost?")
    path = tmp_path / "inbox.db"
    first, second = await open_store(path), await open_store(path)
    a, b = engine_for(first, server), engine_for(second, server)
    try:
        await a.start()
        await b.start()
        assert a.role.active and not b.role.active
        assert b.role.holder is not None and b.role.holder.pid == os.getpid()
        assert "another ecoinbox" in b.role.describe()
        await wait_until(lambda: first.count_conversations(View.INBOX))
        polled = polls(server)
        assert polled >= 1

        # B's manager answers: A's engine sends it, without waiting for its idle timer.
        await queue_to_first(second, "@zoe@remote.example it ships tomorrow")
        await wait_until(lambda: len(server.posted) == 1)
        assert polls(server) == polled  # B never polled

        await a.stop()  # A quits: B takes over and polls
        await wait_until(lambda: b.role.active)
        await wait_until(lambda: polls(server) > polled)
        await queue_to_first(second, "@zoe@remote.example tracking: 123")
        await wait_until(lambda: len(server.posted) == 2)
        assert [p.text for p in server.posted][1].endswith("tracking: 123")
    finally:
        await b.stop()
        await a.stop()
        await first.close()
        await second.close()


async def test_a_dead_holder_is_replaced_at_once_and_its_half_sent_reply_lands_once(server, tmp_path):
    server.add_status(author="zoe@remote.example", text="@acme hello?")
    store = await open_store(tmp_path / "inbox.db")
    engine = engine_for(store, server)
    try:
        await engine.poll_channel("mastodon")
        item = await queue_to_first(store, "@zoe@remote.example hi!")
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        assert not process_alive(dead.pid)
        ghost = f"{engine.host}:{dead.pid}:ghost"
        await store.take_lease(ENGINE_LEASE, ghost, host=engine.host, pid=dead.pid, seconds=3600)
        claimed = await store.claim_next_reply(ghost, fence=ENGINE_LEASE)
        parent = await store.message("mastodon", claimed.parent_remote_id)
        await engine.channels["mastodon"].reply(parent, claimed.text, claimed.idempotency_key)  # then it died

        await engine.start()  # an hour of lease left, but its holder is gone
        assert engine.role.active
        await wait_until(lambda: store.outbox_items([OutboxState.SENT]))
        (sent,) = await store.outbox_items()
        assert sent.idempotency_key == item.idempotency_key
        assert len(server.posted) == 1  # read back and found: not sent again
    finally:
        await engine.stop()
        await store.close()


async def test_a_live_holder_elsewhere_is_waited_for_until_its_lease_expires(server, tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    engine = engine_for(store, server)
    try:
        await store.take_lease(ENGINE_LEASE, "other-host:1:x", host="other-host", pid=1, seconds=0.3)
        await engine.start()
        assert not engine.role.active and engine.role.holder.host == "other-host"
        assert await engine.send_once() is None  # one-shot runs leave the outbox to it too
        await wait_until(lambda: engine.role.active, timeout=5)
        assert (await store.lease(ENGINE_LEASE)).owner == engine.owner
    finally:
        await engine.stop()
    assert await store.lease(ENGINE_LEASE) is None  # released on a clean stop
    await store.close()


async def test_an_engine_that_lost_its_lease_stops_sending(server, tmp_path):
    server.add_status(author="zoe@remote.example", text="@acme hello?")
    store = await open_store(tmp_path / "inbox.db")
    engine = engine_for(store, server)
    try:
        await engine.start()
        assert engine.role.active
        await wait_until(lambda: store.count_conversations(View.INBOX))
        # Stalled past its expiry (a suspended laptop), another process took over.
        await store.take_lease(ENGINE_LEASE, "other-host:1:x", host="other-host", pid=1, seconds=3600,
                               replacing=engine.owner)  # fmt: skip
        await queue_to_first(store, "@zoe@remote.example hi")
        assert await engine.sender.send_due() == 0  # fenced: it claims nothing
        await engine._lease_tick()
        assert not engine.role.active
        assert server.posted == []
    finally:
        await engine.stop()
        await store.close()


@pytest.mark.slow
async def test_a_killed_ecoinbox_poll_is_replaced_and_nothing_is_lost(server, tmp_path):
    server.add_status(author="zoe@remote.example", text="@acme where is my parcel?")
    path = tmp_path / "inbox.db"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[brand]
name = "Acme"
handles = ["acme@social.example"]
[store]
path = "{path}"
[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{server.base_url}"
account = "acme"
poll_interval = 3600
keyring = false
token_env = "ECOINBOX_TEST_TOKEN"
""")
    env = dict(os.environ, ECOINBOX_TEST_TOKEN=TOKEN)
    child = subprocess.Popen([sys.executable, "-m", "ecoinbox", "--config", str(config), "poll"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    store = await open_store(path)
    engine = engine_for(store, server)
    try:
        await wait_until(lambda: store.count_conversations(View.INBOX), timeout=30)
        holder = await store.lease(ENGINE_LEASE)
        assert holder.pid == child.pid
        await engine.start()
        assert not engine.role.active
        await queue_to_first(store, "@zoe@remote.example on its way")
        await wait_until(lambda: len(server.posted) == 1, timeout=10)  # the child sent it
        child.send_signal(signal.SIGKILL)
        child.wait()
        await wait_until(lambda: engine.role.active, timeout=10)
        await queue_to_first(store, "@zoe@remote.example and a tracking number: 42")
        await wait_until(lambda: len(server.posted) == 2, timeout=10)
        assert {i.state for i in await store.outbox_items()} == {OutboxState.SENT}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        await engine.stop()
        await store.close()
    output = child.stdout.read().decode()
    assert "polling and sending" in output and "Traceback" not in output


async def test_the_inbox_follows_another_process_and_warns_before_a_colliding_reply(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(author="zoe@remote.example", text="@acme my order never arrived")
        await stack.engine.poll_channel("mastodon")
        other = await open_store(tmp_path / "inbox.db")  # the second manager's ecoinbox
        other_engine = engine_for(other, stack.server)
        await other_engine.start()  # it got there first: it polls and sends
        try:
            await stack.engine.start()
            app = EcoInboxApp(stack.settings, stack.store, stack.engine)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(lambda: "another ecoinbox" in str(app.inbox.query_one("#status").render()),
                                 pilot=pilot)  # fmt: skip
                await pilot.press("r")
                await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
                await pilot.press(*"sorry to hear that")
                # Meanwhile the other manager answers the same person.
                await queue_to_first(other, "@zoe@remote.example we are on it, DM us your order number")
                await pilot.press("ctrl+s")
                await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
                assert "DM us your order number" in str(app.screen.query_one("#confirm-detail").render())
                await pilot.press("n")  # keep editing: nothing of ours is queued
                await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
                assert len(await stack.store.outbox_items()) == 1
                await pilot.press("ctrl+s")
                await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
                await pilot.press("y")
                await wait_until(lambda: len(stack.server.posted) == 2, pilot=pilot)
                assert any(p.text.endswith("sorry to hear that") for p in stack.server.posted)

                # Both answered: it waits on Zoé, in Pending (where this inbox follows it).
                (row,) = await other.conversation_page(View.PENDING)
                await pilot.press("tab")
                await wait_until(lambda: app.inbox.conversations.selected_id == row.id, pilot=pilot)
                # The other manager closes the conversation: this inbox sees it leave.
                await other.set_state([row.id], State.DONE)
                await wait_until(lambda: app.inbox.conversations.selected_id is None, pilot=pilot)
                await pilot.press("q")
        finally:
            await other_engine.stop()
            await other.close()


async def test_two_processes_writing_at_once_never_see_a_locked_database_nor_lose_an_update(tmp_path):
    import asyncio
    from datetime import UTC, datetime, timedelta

    from ecoinbox.model import Author, Message, Origin

    path = tmp_path / "inbox.db"
    first, second = await open_store(path), await open_store(path)
    start = datetime(2026, 1, 15, tzinfo=UTC)

    def mention(n: int) -> Message:
        return Message(channel="m", remote_id=str(n), author=Author("m", str(n), f"p{n}"), text=f"@acme {n}",
                       created_at=start + timedelta(seconds=n), origin=Origin.MENTION)  # fmt: skip

    async def ingest_batches() -> None:  # the engine's process
        for batch in range(40):
            await first.ingest([mention(batch * 10 + i) for i in range(10)], cursor=("m", {"n": str(batch)}))

    async def triage() -> None:  # the other manager's inbox, marking done as conversations arrive
        done = 0
        while done < 400:
            rows = await second.conversation_page(View.INBOX, limit=50)
            if rows:
                await second.set_state([r.id for r in rows], State.DONE)
                done += len(rows)
            await asyncio.sleep(0)

    try:
        await asyncio.wait_for(asyncio.gather(ingest_batches(), triage()), timeout=60)
        assert await first.count_conversations(View.INBOX) == 0
        assert await first.count_conversations(View.DONE) == 400
        assert await second.cursor("m") == {"n": "39"}
    finally:
        await first.close()
        await second.close()
