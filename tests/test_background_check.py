"""The store's quick check runs beside the inbox at the lowest CPU priority (issue 16, goal 6):
the inbox's keys never wait for a core it holds. Same verdicts as `SQLiteStore.check_integrity`."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from damage import break_page, fill_store

from ecoinbox.app_start import check_then_start
from ecoinbox.background_check import LOWEST_PRIORITY, check_store_file
from ecoinbox.config import parse_config
from ecoinbox.store import open_store


class Engine:
    started = False

    async def start(self) -> None:
        self.started = True


async def test_a_sound_store_is_sound_and_a_broken_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    assert await check_store_file(path) == []
    break_page(path, "messages_by_conversation")
    problems = await check_store_file(path)
    assert problems and all(isinstance(problem, str) for problem in problems)


async def test_the_inbox_checks_at_the_lowest_priority_in_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    asked: list[tuple[int, int]] = []
    real = os.setpriority

    def setpriority(which: int, who: int, priority: int) -> None:
        asked.append((who, priority))
        real(which, who, priority)

    monkeypatch.setattr(os, "setpriority", setpriority)
    store, engine = await open_store(path), Engine()
    try:
        assert await check_then_start(store, engine) is True and engine.started
    finally:
        await store.close()
    assert [priority for _, priority in asked] == [LOWEST_PRIORITY]
    assert asked[0][0] not in (os.getpid(), threading.get_native_id())  # not the inbox's own thread


async def test_screening_is_attached_after_the_check_and_before_the_first_poll(tmp_path: Path) -> None:
    """The inbox opens its store without spam and priority screening (its imports would delay
    the first rows); every message the engine polls is screened all the same."""
    path = tmp_path / "inbox.db"
    await fill_store(path)
    store = await open_store(path)
    screened_at_start: list[bool] = []

    class Polling(Engine):
        async def start(self) -> None:
            screened_at_start.append(store.screener is not None)
            await super().start()

    settings = parse_config('[brand]\nname = "Acme"\n', Path("test.toml"))
    try:
        assert store.screener is None
        assert await check_then_start(store, Polling(), settings) is True
    finally:
        await store.close()
    assert screened_at_start == [True]


async def test_a_damaged_store_stops_the_engine_from_starting(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    break_page(path, "messages_by_conversation")
    store, engine = await open_store(path), Engine()
    try:
        assert await check_then_start(store, engine) is False
        assert store.read_only_reason is not None and not engine.started
    finally:
        await store.close()


async def test_cancelling_the_check_returns_at_once(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    check = asyncio.create_task(check_store_file(path))
    await asyncio.sleep(0)
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(check, 10)
