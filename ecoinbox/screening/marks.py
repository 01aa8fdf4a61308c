"""What the manager's spam marks taught the filter (`SpamMarks`): the learned part of
`ecoinbox.screening.spam.SpamFilter`, kept in the store as bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from ecoinbox.screening.memory import Memory

__all__ = ["SpamMarks"]


class SpamMarks:
    """The learned part of the spam filter: what the manager's marks changed, serializable.

    Each mark takes a passive-aggressive step (Crammer et al., 2006): the smallest change of the
    weights of the message's n-grams, words, link hosts and author name that puts it `_MARGIN`
    past the threshold on the marked side (none if it already is), capped. It works from the
    first mark, on one side only too. `forget` takes a mark's step back. The MinHash signatures
    of the last `remember` marked messages make a near-identical message follow a mark at once.
    """

    VERSION: Final = 2

    def __init__(self, *, remember: int = 2000) -> None:
        self.delta: dict[str, float] = {}  # "kind:feature" -> change to the shipped weight
        self.steps: dict[str, float] = {}  # mark key -> the signed step it took, for `forget`
        self.marks = [0, 0]  # messages marked spam, not spam
        self.remembered = Memory(remember)
        self.version = 0  # bumped on every change: the filter's merged weights follow it

    def __len__(self) -> int:
        return self.marks[0] + self.marks[1]

    def step(self, values: Mapping[str, float], amount: float) -> None:
        for key, value in values.items():
            total = self.delta.get(key, 0.0) + value * amount
            if abs(total) < 1e-9:
                self.delta.pop(key, None)
            else:
                self.delta[key] = total
        self.version += 1

    def nearest(self, signature: tuple[int, ...]) -> tuple[float, bool | None]:
        """The resemblance of the most similar marked message, and its mark."""
        similarity, label = self.remembered.nearest(signature)
        return similarity, None if label is None else bool(label)

    def to_bytes(self) -> bytes:
        """The state as UTF-8 JSON, for the store."""
        state = {
            "version": self.VERSION,
            "remember": self.remembered.capacity,
            "delta": dict(sorted(self.delta.items())),
            "steps": self.steps,
            "marks": self.marks,
            "remembered": [[list(signature), bool(label)] for signature, label in self.remembered],
        }
        return json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SpamMarks:
        """Read what `to_bytes` wrote; ValueError if it is not that (marks of version 1, naive
        Bayes counts, cannot become steps: the filter starts afresh from the shipped model)."""
        try:
            state: Any = json.loads(data.decode("utf-8"))
            if not isinstance(state, dict) or state.get("version") != cls.VERSION:
                raise ValueError("not a version 2 spam state")
            marks = cls(remember=int(state["remember"]))
            marks.delta = {str(k): float(v) for k, v in state["delta"].items()}
            marks.steps = {str(k): float(v) for k, v in state["steps"].items()}
            marks.marks = [int(v) for v in state["marks"]][:2]
            for signature, is_spam in state["remembered"]:
                marks.remembered.add(tuple(int(v) for v in signature), bool(is_spam))
        except (
            UnicodeDecodeError,
            json.JSONDecodeError,
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
        ) as exc:
            raise ValueError(f"unreadable spam state: {exc}") from None
        if len(marks.marks) != 2:
            raise ValueError("unreadable spam state: marks need two values")
        return marks
