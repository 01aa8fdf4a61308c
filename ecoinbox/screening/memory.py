"""Signatures of recent texts with a label each, found again by similarity (MinHash + LSH).

The spam filter remembers the messages the manager marked (label: the mark), and `Screener` the
texts that came in lately (label: who wrote them), to notice the same text posted again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Final

from ecoinbox.screening._text import resemblance

__all__ = ["Memory"]

_BAND: Final = 2  # MinHash rows per band: 16 bands find most pairs from a resemblance of 0.5


class Memory:
    """The signatures of the last `capacity` messages with a label each (a mark, an author),
    with a banded index (LSH) so that finding similar ones does not compare against all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[int, tuple[tuple[int, ...], Hashable]] = {}  # insertion order = age
        self._bands: dict[tuple[int, tuple[int, ...]], set[int]] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], Hashable]]:
        return iter(list(self._entries.values()))

    def _keys(self, signature: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        return [(start, signature[start : start + _BAND]) for start in range(0, len(signature), _BAND)]

    def add(self, signature: tuple[int, ...], label: Hashable) -> None:
        if self.capacity <= 0:
            return
        while len(self._entries) >= self.capacity:
            self._drop(next(iter(self._entries)))
        key = self._next
        self._next += 1
        self._entries[key] = (signature, label)
        bands = self._bands
        for band in self._keys(signature):
            found = bands.get(band)
            if found is None:
                bands[band] = {key}
            else:
                found.add(key)

    def remove(self, signature: tuple[int, ...], label: Hashable) -> None:
        for key, entry in reversed(self._entries.items()):
            if entry == (signature, label):
                self._drop(key)
                return

    def _drop(self, key: int) -> None:
        signature, _ = self._entries.pop(key)
        for band in self._keys(signature):
            keys = self._bands.get(band)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._bands[band]

    def _candidates(self, signature: tuple[int, ...]) -> set[int]:
        candidates: set[int] = set()
        bands = self._bands
        for band in self._keys(signature):
            found = bands.get(band)
            if found is not None:
                candidates |= found
        return candidates

    def similar(self, signature: tuple[int, ...], at: float) -> list[Hashable]:
        """The labels of the remembered signatures that resemble `signature` at least `at`."""
        return [
            self._entries[key][1]
            for key in self._candidates(signature)
            if resemblance(signature, self._entries[key][0]) >= at
        ]

    def count_similar(self, signature: tuple[int, ...], at: float) -> int:
        """How many remembered signatures resemble `signature` at least `at` (via the bands)."""
        return len(self.similar(signature, at))

    def nearest(self, signature: tuple[int, ...]) -> tuple[float, Hashable | None]:
        best, label = 0.0, None
        for key in sorted(self._candidates(signature), reverse=True):  # newest first: latest wins a tie
            remembered, value = self._entries[key]
            similarity = resemblance(signature, remembered)
            if similarity > best:
                best, label = similarity, value
        return best, label
