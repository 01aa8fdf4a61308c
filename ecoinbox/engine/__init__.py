"""Polling, threading and sending: the headless heart of ecoinbox (no Textual here)."""

from ecoinbox.engine.engine import ChannelStatus, Engine, EngineRole
from ecoinbox.engine.outbox import OutboxSender

__all__ = ["ChannelStatus", "Engine", "EngineRole", "OutboxSender"]
