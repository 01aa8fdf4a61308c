"""Python's full garbage collection kept out of the keys' way (issue 16, goal 3).

A full collection scans every object the inbox holds; counted by allocations, it ran in the middle
of a `j` now and then: 3 passes in 120 moves at 10k, up to 154 ms each, the slowest moves of the
run (bench/keys.py's p95). After the first frame, what start-up made (modules, the screens, the
store's caches) is frozen out of the collector's scans, and the full collection waits until the
keys have rested for IDLE_S; the young generations run as before (well under a millisecond each).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

IDLE_S = 2.0  # no key for this long: a full collection now delays none
FULL_AFTER = 10  # young collections between two full ones (Python's own default)
BY_COUNT_NEVER = 1_000_000  # the full collection's threshold while paced: it never comes by count


class GarbagePacing:
    """Runs Python's full collection when the keys rest, not when an allocation count says so."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_key = clock()
        self._thresholds: tuple[int, int, int] | None = None  # as they were before start()

    @property
    def paced(self) -> bool:
        return self._thresholds is not None

    def start(self) -> None:
        """Freeze what exists now (start-up's objects live as long as the app) and pace the rest."""
        if self._thresholds is not None:
            return
        self._thresholds = gc.get_threshold()
        gc.freeze()
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, BY_COUNT_NEVER)

    def key(self) -> None:
        """A key came: a full collection waits until the keys rest again."""
        self._last_key = self._clock()

    def tick(self) -> bool:
        """Run the full collection if it is due and the keys rest (call it every second or so)."""
        if self._thresholds is None or self._clock() - self._last_key < IDLE_S:
            return False
        if gc.get_count()[2] < FULL_AFTER:
            return False
        gc.collect()
        return True

    def stop(self) -> None:
        """Back to Python's own pacing (the app has closed)."""
        if self._thresholds is None:
            return
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()
        self._thresholds = None
