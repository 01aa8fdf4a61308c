"""The store's boundary: the values it hands to the rest of ecoinbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecoinbox.model import (
    State,
)


@dataclass(frozen=True, slots=True)
class Change:
    """What a committed write touched, for listeners (the inbox redraws, the sender wakes)."""

    kind: str  # "ingest", "state", "outbox"
    conversation_ids: frozenset[int] = frozenset()


@dataclass(slots=True)
class IngestResult:
    """What one batch did to the store."""

    new: int = 0
    updated: int = 0
    conversation_ids: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)
    urgent: set[int] = field(default_factory=set)  # new high-priority conversations (not muted, not spam)
    spam: set[int] = field(default_factory=set)  # conversations that triage sent to Spam


@dataclass(frozen=True, slots=True)
class StateChange:
    """One conversation's state before and after a change, so the change can be undone."""

    conversation_id: int
    old: State
    new: State
