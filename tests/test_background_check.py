"""The store's quick check runs in a process of its own at the lowest priority (issue 16, goal 6):
the inbox's keys never wait for a core it holds. Same verdicts as `SQLiteStore.check_integrity`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from damage import break_page, fill_store

from ecoinbox.background_check import LOWEST_PRIORITY, check_store_file
from ecoinbox.cli import check_then_start
from ecoinbox.store import SQLiteStore, open_store


async def test_a_sound_store_is_sound_and_a_broken_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    assert await check_store_file(path) == []
    break_page(path, "messages_by_conversation")
    problems = await check_store_file(path)
    assert problems and all(isinstance(problem, str) for problem in problems)


async def test_the_check_does_not_run_in_the_inbox_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    break_page(path, "messages_by_conversation")

    async def sound(self: SQLiteStore) -> list[str]:
        return []  # what a check in this process would say

    class Engine:
        started = False

        async def start(self) -> None:
            self.started = True

    store = await open_store(path)
    monkeypatch.setattr(SQLiteStore, "check_integrity", sound)
    engine = Engine()
    try:
        assert await check_then_start(store, engine) is False  # the other process read the file
        assert store.read_only_reason is not None and not engine.started
    finally:
        await store.close()


async def test_the_check_runs_at_the_lowest_priority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "inbox.db"
    await fill_store(path)
    asked: list[tuple[int, int]] = []
    real = os.setpriority

    def setpriority(which: int, who: int, priority: int) -> None:
        asked.append((who, priority))
        real(which, who, priority)

    monkeypatch.setattr(os, "setpriority", setpriority)
    assert await check_store_file(path) == []
    assert [priority for _, priority in asked] == [LOWEST_PRIORITY] and asked[0][0] != os.getpid()
