"""Python's full collection waits for the keys to rest (issue 16, goal 3: it ran within a `j` now
and then, up to 154 ms at 10k: the slowest moves). Times live in bench/keys.py."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ecoinbox.tui.gc_pacing import BY_COUNT_NEVER, FULL_AFTER, IDLE_S, GarbagePacing


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pacing() -> Iterator[tuple[GarbagePacing, Clock]]:
    clock = Clock()
    pacing = GarbagePacing(clock)
    before = gc.get_threshold()
    yield pacing, clock
    pacing.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def young_collections(count: int) -> None:
    for _ in range(count):
        gc.collect(1)  # each counts towards the full one, as the allocation-driven ones do


def test_start_freezes_start_up_and_takes_the_full_collection_off_the_count(
    pacing: tuple[GarbagePacing, Clock],
) -> None:
    garbage, _ = pacing
    garbage.start()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[2] == BY_COUNT_NEVER


def test_the_full_collection_runs_only_when_the_keys_rest(
    pacing: tuple[GarbagePacing, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    garbage, clock = pacing
    garbage.start()
    young_collections(FULL_AFTER)
    garbage.key()
    clock.now += IDLE_S / 2
    assert not garbage.tick(), "a full collection while keys come"
    clock.now += IDLE_S
    assert garbage.tick(), "no full collection once the keys rest"
    assert gc.get_count()[2] == 0
    clock.now += IDLE_S * 10
    assert not garbage.tick(), "a full collection with nothing new to collect"


def test_before_start_and_after_stop_python_paces_as_usual(pacing: tuple[GarbagePacing, Clock]) -> None:
    garbage, clock = pacing
    young_collections(FULL_AFTER)
    clock.now += IDLE_S * 2
    assert not garbage.tick()
    garbage.start()
    garbage.stop()
    assert not garbage.paced and not garbage.tick()
