"""The engine: polls every channel on its own schedule and runs the outbox sender.

It runs headless (the CLI's `poll`, later `daemon`) or inside the TUI's event loop; the TUI
never calls a channel itself, it writes intents to the store and the engine carries them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ecoinbox.channels.base import AuthError, Capabilities, Channel, ChannelError, RateLimited
from ecoinbox.engine.outbox import OutboxSender
from ecoinbox.engine.threading import complete_threads
from ecoinbox.model import Message
from ecoinbox.store import Change, IngestResult, Store, StoreError

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 900.0
SENDER_IDLE_S = 30.0


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """How one channel is doing, in words the manager can act on."""

    name: str
    kind: str
    state: str = "starting"  # starting, ok, waiting (rate limited), error
    detail: str = ""
    last_success: datetime | None = None
    next_poll: datetime | None = None
    failures: int = 0


class Engine:
    """Poll schedulers (one task per channel) and the outbox sender, on one store."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        poll_intervals: Mapping[str, float] | None = None,
        retry_max: float = 600.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.poll_intervals = dict(poll_intervals or {})
        self._clock = clock or (lambda: datetime.now(UTC))
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.sender = OutboxSender(store, self.channels, owner=owner, retry_max=retry_max, clock=self._clock)
        self.statuses = {name: ChannelStatus(name, ch.kind) for name, ch in self.channels.items()}
        self.capabilities: dict[str, Capabilities] = {}
        self._status_listeners: list[Callable[[ChannelStatus], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._sender_wake = asyncio.Event()
        self._poll_wake = {name: asyncio.Event() for name in self.channels}

    # ---- lifetime --------------------------------------------------------------------------

    async def start(self) -> None:
        self.store.add_listener(self._on_store_change)
        try:
            await self.sender.recover()
        except StoreError as exc:  # e.g. a full disk: polling and sending must start anyway
            log.warning("replies left 'sending' by a previous run were not recovered: %s", exc)
        for name in self.channels:
            self._tasks.append(asyncio.create_task(self._poll_loop(name), name=f"poll:{name}"))
        self._tasks.append(asyncio.create_task(self._send_loop(), name="outbox"))

    async def stop(self) -> None:
        self.store.remove_listener(self._on_store_change)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await asyncio.gather(*(ch.aclose() for ch in self.channels.values()), return_exceptions=True)

    def add_status_listener(self, listener: Callable[[ChannelStatus], None]) -> None:
        self._status_listeners.append(listener)

    def poll_now(self, name: str | None = None) -> None:
        """Ask one channel (or all) to poll at once instead of waiting for its interval."""
        for channel_name, event in self._poll_wake.items():
            if name in (None, channel_name):
                event.set()

    # ---- polling ---------------------------------------------------------------------------

    async def poll_channel(self, name: str) -> IngestResult:
        """One poll of one channel: fetch, complete threads, store batch and cursor together."""
        channel = self.channels[name]
        cursor = await self.store.cursor(name)
        polled = await channel.poll(cursor)
        batch = await complete_threads(self.store, channel, polled.messages)
        # Detection costs ~0.1 ms a message (and loads its model once): off the event loop.
        batch = await asyncio.to_thread(with_languages, batch)
        return await self.store.ingest(batch, cursor=(name, polled.cursor))

    async def poll_all_once(self) -> dict[str, IngestResult | ChannelError]:
        """Poll every channel once, concurrently; one broken channel does not stop the others."""
        names = list(self.channels)
        results = await asyncio.gather(*(self.poll_channel(n) for n in names), return_exceptions=True)
        outcome: dict[str, IngestResult | ChannelError] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, ChannelError):
                raise result
            outcome[name] = result
        return outcome

    async def _poll_loop(self, name: str) -> None:
        interval = self.poll_intervals.get(name, 60.0)
        while True:
            delay = await self._poll_and_report(name, interval)
            self._set_status(name, next_poll=self._clock() + timedelta(seconds=delay))
            wake = self._poll_wake[name]
            with contextlib.suppress(TimeoutError):
                # Not wait_for: on Python 3.11 it can swallow stop()'s cancel when the event is
                # set at the same moment, and the loop would then never end.
                async with asyncio.timeout(delay):
                    await wake.wait()
            wake.clear()

    async def _poll_and_report(self, name: str, interval: float) -> float:
        """Poll once and return how long to wait before the next poll."""
        failures = self.statuses[name].failures
        try:
            if name not in self.capabilities:
                self.capabilities[name] = await self.channels[name].capabilities()
            result = await self.poll_channel(name)
        except RateLimited as exc:
            wait = max(1.0, (exc.retry_at - self._clock()).total_seconds())
            self._set_status(name, state="waiting", detail=str(exc))
            return min(wait, MAX_BACKOFF_S)
        except AuthError as exc:
            self._set_status(name, state="error", detail=str(exc), failures=failures + 1)
            return max(interval, 300.0)
        except ChannelError as exc:
            self._set_status(name, state="error", detail=str(exc), failures=failures + 1)
            return _jittered_backoff(interval, failures + 1)
        except StoreError as exc:  # a full disk, a damaged file: neither the batch nor its cursor was saved
            log.warning("the poll of channel %s could not be saved: %s", name, exc)
            self._set_status(name, state="error", detail=str(exc), failures=failures + 1)
            return _jittered_backoff(interval, failures + 1)
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("poll of channel %s failed", name)
            self._set_status(name, state="error", detail=f"internal error: {type(exc).__name__}", failures=failures + 1)
            return _jittered_backoff(interval, failures + 1)
        detail = f"{result.new} new" if result.new else "up to date"
        self._set_status(name, state="ok", detail=detail, last_success=self._clock(), failures=0)
        return interval

    def _set_status(self, name: str, **changes: object) -> None:
        status = replace(self.statuses[name], **changes)  # type: ignore[arg-type]
        self.statuses[name] = status
        for listener in list(self._status_listeners):
            listener(status)

    # ---- sending ---------------------------------------------------------------------------

    def _on_store_change(self, change: Change) -> None:
        if change.kind == "outbox":
            self._sender_wake.set()

    async def _send_loop(self) -> None:
        while True:
            self._sender_wake.clear()
            try:
                await self.sender.send_due()
                due = await self.store.next_reply_due()
            except Exception:  # the store may be briefly unavailable; never let the sender die
                log.exception("outbox sender failed; retrying")
                due = None
            timeout = SENDER_IDLE_S
            if due is not None:
                timeout = min(timeout, max(0.05, (due - self._clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # not wait_for: see _poll_loop
                    await self._sender_wake.wait()


def with_languages(messages: list[Message]) -> list[Message]:
    """The person's messages with their language detected (the platform's own tag is a hint:
    accounts often keep the default "en" whatever they write in)."""
    from ecoinbox.language import detect_language

    return [
        m if m.is_ours else replace(m, language=detect_language(m.text, hint=m.language) or m.language)
        for m in messages
    ]


def _jittered_backoff(interval: float, failures: int) -> float:
    """Exponential backoff with jitter, so many clients do not retry in lockstep."""
    ceiling = min(MAX_BACKOFF_S, interval * 2 ** min(failures, 10))
    return random.uniform(max(interval, ceiling / 2), ceiling)
