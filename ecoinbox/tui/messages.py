"""Messages the app posts to its screens: "attributes down, messages up"."""

from __future__ import annotations

from textual.message import Message

from ecoinbox.engine import ChannelStatus, EngineRole
from ecoinbox.store import ChangeKind


class StoreChanged(Message):
    """The store committed a change (here or in another process); None means "anything"."""

    def __init__(self, kinds: frozenset[ChangeKind], conversation_ids: frozenset[int] | None) -> None:
        super().__init__()
        self.kinds = kinds
        self.conversation_ids = conversation_ids


class ChannelStatusChanged(Message):
    """A channel's poll status changed (ok, waiting on a rate limit, error)."""

    def __init__(self, status: ChannelStatus) -> None:
        super().__init__()
        self.status = status


class EngineRoleChanged(Message):
    """This process started or stopped polling and sending (another inbox on the store does)."""

    def __init__(self, role: EngineRole) -> None:
        super().__init__()
        self.role = role
