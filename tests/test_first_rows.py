"""The inbox's first rows come from the store alone; the engine is built and attached after them.

Every channel's client (httpx, each platform's code) used to be built before the first frame: 0.5 s
more with six channels (issue 16, goal 1). Keys that need the engine, typed before it is there,
wait for it in order: none lost, no reply sent twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stack import TOKEN, polled_once, recorded_notices, settings_for, wait_until

from ecoinbox import app_start
from ecoinbox.channels.base import AuthError
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.secrets import Secret
from ecoinbox.store import open_store

ZOE = ("zoe@remote.example", "Zoé", "my parcel never came, what now?")
SAM = ("sam@remote.example", "Sam", "is the shop open on sunday?")


def post(server: MastodonServer, person: tuple[str, str, str], minutes_ago: int) -> None:
    handle, name, text = person
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    server.add_status(author=handle, display_name=name, text=text, created_at=when)


async def seeded(server: MastodonServer, db: Path) -> None:
    """The store as a previous inbox left it: Zoé's mention polled."""
    await polled_once(db, server.base_url, TOKEN)


async def handles(db: Path) -> set[str]:
    store = await open_store(db, read_only=True)
    try:
        rows = [await store.conversation_row(i) for i in range(1, 10)]
        return {row.author_handle for row in rows if row is not None}
    finally:
        await store.close()


async def polled(db: Path) -> bool:
    return await handles(db) == {ZOE[0], SAM[0]}


@pytest.fixture
async def server() -> Any:
    server = MastodonServer(seed=None, token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_rows_show_while_the_channels_are_built_and_a_reply_typed_then_waits_for_them(
    tmp_path: Path, server: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "inbox.db"
    post(server, ZOE, 10)
    await seeded(server, db)
    post(server, SAM, 1)  # only the inbox's engine can bring it: it polls once attached
    building, release = threading.Event(), threading.Event()
    real_build = app_start.build_engine

    def blocked_build(*args: Any) -> Engine:  # a channel whose construction does not return yet
        building.set()
        assert release.wait(20), "the test never released the engine"
        return real_build(*args)

    monkeypatch.setattr(app_start, "build_engine", blocked_build)
    seen: dict[str, object] = {}

    async def run_app(app: Any) -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(building.is_set, pilot=pilot)  # asked for once the rows are shown
            seen["rows"] = app.inbox.position
            seen["status"] = str(app.inbox.query_one("#status").render())
            await pilot.press("r", *"on it", "ctrl+s")  # before the engine: the keys wait for it
            await pilot.pause(0.3)
            seen["before"] = (app.engine, list(server.posted), app.screen is app.inbox)
            release.set()
            await wait_until(lambda: app.engine is not None, pilot=pilot)
            await wait_until(lambda: len(server.posted) == 1, pilot=pilot)
            await wait_until(lambda: polled(db), pilot=pilot)  # Sam's mention: the engine polls
            await pilot.pause(0.5)  # a second send would have come by now
            await pilot.press("q")

    monkeypatch.setattr(app_start, "run_app", run_app)
    settings = settings_for(server.base_url, db)
    assert await app_start.open_inbox(settings, {"mastodon": Secret(TOKEN)}) == 0  # type: ignore[arg-type]
    assert seen["rows"] == (1, 1)
    assert "connecting to 1 channel…" in str(seen["status"])
    assert seen["before"] == (None, [], True)
    assert [status.text for status in server.posted] == ["@zoe@remote.example on it"]


@pytest.mark.parametrize(
    ("error", "said_why"),
    [
        (RuntimeError(f"bad token {TOKEN}"), "(RuntimeError)"),  # its words must not reach the screen
        # a channel's own error is written for the manager (and never quotes its token): said whole
        (AuthError("no token for channel mastodon: run `ecoinbox auth mastodon`"),
         "(no token for channel mastodon: run `ecoinbox auth mastodon`)"),
    ],
)  # fmt: skip
async def test_a_channel_that_cannot_be_built_leaves_the_inbox_reading_and_says_so(
    tmp_path: Path, server: MastodonServer, monkeypatch: pytest.MonkeyPatch, error: Exception, said_why: str
) -> None:
    db = tmp_path / "inbox.db"
    post(server, ZOE, 10)
    await seeded(server, db)

    def broken_build(*args: Any) -> Engine:
        raise error

    monkeypatch.setattr(app_start, "build_engine", broken_build)
    said: list[str] = []

    async def run_app(app: Any) -> None:
        nonlocal said
        said = recorded_notices(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("r", *"hi")
            await wait_until(lambda: said, pilot=pilot)
            await pilot.press("j")
            await pilot.pause(0.1)
            await pilot.press("q")

    monkeypatch.setattr(app_start, "run_app", run_app)
    settings = settings_for(server.base_url, db)
    assert await app_start.open_inbox(settings, {"mastodon": Secret(TOKEN)}) == 0  # type: ignore[arg-type]
    assert len(said) == 1 and f"could not start its channels {said_why}" in said[0]
    assert "typed while it started were dropped" in said[0] and TOKEN not in said[0]
    assert server.posted == []
    assert asyncio.iscoroutinefunction(app_start.open_inbox)


async def test_keys_that_waited_too_long_for_the_engine_are_dropped_and_said_so(
    tmp_path: Path, server: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel stuck in its construction must not keep the list from moving."""
    db = tmp_path / "inbox.db"
    post(server, SAM, 20)
    post(server, ZOE, 10)
    await seeded(server, db)
    release = threading.Event()
    real_build = app_start.build_engine

    def stuck_build(*args: Any) -> Engine:
        assert release.wait(20), "the test never released the engine"
        return real_build(*args)

    monkeypatch.setattr(app_start, "build_engine", stuck_build)
    monkeypatch.setattr("ecoinbox.tui.app.ENGINE_WAIT_S", 0.3)
    said: list[str] = []
    seen: dict[str, object] = {}

    async def run_app(app: Any) -> None:
        nonlocal said
        said = recorded_notices(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(app.rows_shown.is_set, pilot=pilot)
            await pilot.press("r", *"hi")
            await wait_until(lambda: said, pilot=pilot)
            await pilot.press("j")
            await wait_until(lambda: app.inbox.position == (2, 2), pilot=pilot)
            seen["screen"] = app.screen is app.inbox
            release.set()
            await wait_until(lambda: app.engine is not None, pilot=pilot)
            await pilot.pause(0.3)
            await pilot.press("q")

    monkeypatch.setattr(app_start, "run_app", run_app)
    settings = settings_for(server.base_url, db)
    assert await app_start.open_inbox(settings, {"mastodon": Secret(TOKEN)}) == 0  # type: ignore[arg-type]
    assert len(said) == 1 and "still connecting" in said[0] and "dropped" in said[0]
    assert seen["screen"] is True and server.posted == []


@pytest.mark.slow
def test_keys_typed_in_one_write_as_the_rows_show_all_land_in_order(tmp_path: Path) -> None:
    """The real inbox in a pty: a reply and a tag in ONE write the moment the rows and "connecting"
    show (the engine still being built): one reply to Zoé, then the tag on Sam's conversation."""
    from test_key_bursts import CTRL_S, ENTER, PEOPLE, inbox_in_a_pty, read_store, wait_posted

    with inbox_in_a_pty(tmp_path) as inbox:
        inbox.wait_for(b"connecting to 1 channel", after=0, what="the channels connecting")
        mark = inbox.burst("r" + "on it" + CTRL_S + "j" + "t" + "lost" + ENTER)
        wait_posted(inbox.server, 1)
        inbox.wait_for(b"#lost", after=mark, what="the tag")
        time.sleep(0.5)  # a second send would have come by now
        inbox.quit()
    assert [status.text for status in inbox.server.posted] == [f"@{PEOPLE[0][0]} on it"]
    conversations = asyncio.run(read_store(inbox.db))["conversations"]
    assert conversations[PEOPLE[1][0]][1] == ("lost",) and conversations[PEOPLE[0][0]][1] == ()


async def test_the_tabs_are_counted_once_the_first_rows_are_on_screen(
    tmp_path: Path, server: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tab counts (~60 ms at a million) come a frame after the rows, then exact."""
    from ecoinbox.model import View
    from ecoinbox.store import SQLiteStore
    from ecoinbox.tui.screens.inbox import VIEWS

    db = tmp_path / "inbox.db"
    post(server, SAM, 20)
    post(server, ZOE, 10)
    await seeded(server, db)
    apps: list[Any] = []
    counted_after_rows: list[bool] = []
    real_count = SQLiteStore.count_conversations

    async def count(store: SQLiteStore, view: View) -> int:
        counted_after_rows.append(apps[0].rows_shown.is_set())
        return await real_count(store, view)

    monkeypatch.setattr(SQLiteStore, "count_conversations", count)
    seen: dict[str, object] = {}

    async def run_app(app: Any) -> None:
        apps.append(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(lambda: View.INBOX in app.inbox.counts, pilot=pilot)
            seen["inbox"] = app.inbox.counts[View.INBOX]
            await pilot.press("q")

    monkeypatch.setattr(app_start, "run_app", run_app)
    settings = settings_for(server.base_url, db)
    assert await app_start.open_inbox(settings, {"mastodon": Secret(TOKEN)}) == 0  # type: ignore[arg-type]
    # Before the rows, only the list's own count of its view (the rows need it); the tabs' after.
    assert counted_after_rows.count(False) == 1 and counted_after_rows.count(True) >= len(VIEWS)
    assert seen["inbox"] == 2
