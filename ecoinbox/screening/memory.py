"""Signatures of recent texts with a label each, found again by similarity (MinHash + LSH).

The spam filter remembers the messages the manager marked (label: the mark), and `Screener` the
texts that came in lately (label: who wrote them), to notice the same text posted again.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Hashable, Iterator
from typing import Final

from ecoinbox.screening._text import resemblance

__all__ = ["Memory", "bands_needed"]

_BAND: Final = 2  # MinHash rows per band: 16 bands find most pairs from a resemblance of 0.5

Band = tuple[int, ...]


def _bands(signature: tuple[int, ...]) -> list[Band]:
    """The signature cut in bands of `_BAND` values (the last one shorter if it must)."""
    if len(signature) % _BAND == 0 and _BAND == 2:
        return list(zip(signature[0::2], signature[1::2], strict=True))  # one C loop
    return [signature[start : start + _BAND] for start in range(0, len(signature), _BAND)]


@functools.lru_cache(maxsize=64)
def bands_needed(size: int, at: float) -> int:
    """How many of its bands a signature of `size` values shares, at least, with one that
    `resemblance` puts at `at` or more: each unequal value breaks one band at most."""
    equal = next((e for e in range(size + 1) if e / size >= at), size + 1) if size else 0
    return max(1, -(-size // _BAND) - (size - equal))


class Memory:
    """The signatures of the last `capacity` messages with a label each (a mark, an author),
    with a banded index (LSH) so that finding similar ones does not compare against all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # key -> (signature, label, its bands); insertion order = age
        self._entries: dict[int, tuple[tuple[int, ...], Hashable, list[Band]]] = {}
        self._bands: list[dict[Band, set[int]]] = []  # one index per band position
        self._next = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], Hashable]]:
        return iter([(signature, label) for signature, label, _ in self._entries.values()])

    def add(self, signature: tuple[int, ...], label: Hashable, *, bands: list[Band] | None = None) -> None:
        """Remember `signature` with `label`. `bands`: `_bands(signature)` if the caller has them."""
        if self.capacity <= 0:
            return
        while len(self._entries) >= self.capacity:
            self._drop(next(iter(self._entries)))
        key = self._next
        self._next += 1
        bands = _bands(signature) if bands is None else bands
        self._entries[key] = (signature, label, bands)
        while len(self._bands) < len(bands):
            self._bands.append({})
        for index, band in zip(self._bands, bands):
            found = index.get(band)
            if found is None:
                index[band] = {key}
            else:
                found.add(key)

    def remove(self, signature: tuple[int, ...], label: Hashable) -> None:
        for key, entry in reversed(self._entries.items()):
            if entry[:2] == (signature, label):
                self._drop(key)
                return

    def _drop(self, key: int) -> None:
        _, _, bands = self._entries.pop(key)
        for index, band in zip(self._bands, bands):
            keys = index.get(band)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[band]

    def _hits(self, bands: list[Band]) -> Counter[int]:
        """The remembered signatures sharing a band with `bands`, with how many bands each."""
        found = [keys for keys in map(dict.get, self._bands, bands) if keys]
        return Counter(itertools.chain.from_iterable(found))  # counted in one C loop

    def _candidates(self, signature: tuple[int, ...]) -> set[int]:
        return set(self._hits(_bands(signature)))

    def similar(
        self, signature: tuple[int, ...], at: float, *, bands: list[Band] | None = None
    ) -> list[Hashable]:
        """The labels of the remembered signatures that resemble `signature` at least `at`.
        Only those sharing enough bands to reach `at` are compared (`bands_needed`)."""
        bands = _bands(signature) if bands is None else bands
        need = bands_needed(len(signature), at)
        entries = self._entries
        return [
            entries[key][1]
            for key, count in self._hits(bands).items()
            if count >= need and resemblance(signature, entries[key][0]) >= at
        ]

    def similar_then_add(self, signature: tuple[int, ...], at: float, label: Hashable) -> list[Hashable]:
        """`similar(signature, at)`, then `add(signature, label)`: its bands are cut once."""
        bands = _bands(signature)
        found = self.similar(signature, at, bands=bands)
        self.add(signature, label, bands=bands)
        return found

    def count_similar(self, signature: tuple[int, ...], at: float) -> int:
        """How many remembered signatures resemble `signature` at least `at` (via the bands)."""
        return len(self.similar(signature, at))

    def nearest(self, signature: tuple[int, ...]) -> tuple[float, Hashable | None]:
        best, label = 0.0, None
        entries = self._entries
        for key in sorted(self._candidates(signature), reverse=True):  # newest first: latest wins a tie
            remembered, value, _ = entries[key]
            similarity = resemblance(signature, remembered)
            if similarity > best:
                best, label = similarity, value
        return best, label
