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

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    Channel,
    ChannelError,
    DeletionCheckingChannel,
    PushChannel,
    RateLimited,
    RenewableChannel,
)
from ecoinbox.engine.live import warm_up
from ecoinbox.engine.moderation import ModerationRunner
from ecoinbox.engine.outbox import UNCERTAIN_SETTLE_SECONDS, OutboxSender
from ecoinbox.engine.threading import complete_threads
from ecoinbox.model import Lease, Message
from ecoinbox.secrets import SecretError, TokenSource
from ecoinbox.store import Change, ChangeKind, IngestResult, Store, StoreError

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 900.0
SENDER_IDLE_S = 30.0
PURGE_CHECK_S = 3600.0
# Unannounced deletions: every so often, this many of the newest posts of the last days.
DELETION_CHECK_S = 900.0
DELETION_CHECK_POSTS = 40
DELETION_CHECK_DAYS = 7
SNOOZE_CHECK_S = 60.0  # the longest a due snooze waits to wake (the loop sleeps until the next one is due)
# One process polls and sends for a store: the holder of this lease. It renews the lease every
# LEASE_RENEW_S; others check every STANDBY_CHECK_S and take over when it expires or when its
# holder, on this host, is no longer running.
ENGINE_LEASE = "engine"
LEASE_SECONDS = 60.0
LEASE_RENEW_S = 15.0
STANDBY_CHECK_S = 2.0
# How often the active engine looks for replies other processes queued.
EXTERNAL_CHECK_S = 1.0
# How often a channel paused on a refused token reads its token source again (no network).
TOKEN_RECHECK_S = 60.0
# How long a poll's warning (e.g. a feed that overflowed) stays in the channel's status after it.
WARNING_SHOWN_S = 3600.0
# A task still running this long after its cancel lost it: on Python 3.11 a library's timeout or
# cancel scope can swallow a cancel that meets its own (seen: a demo that never quit on SIGHUP).
STOP_AGAIN_S = 1.0
STOP_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class EngineRole:
    """Whether this process polls and sends, or another one does (`holder`)."""

    active: bool
    holder: Lease | None = None

    def describe(self) -> str:
        if self.active or self.holder is None:
            return "polling and sending"
        return f"another ecoinbox (pid {self.holder.pid} on {self.holder.host}) polls and sends"


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """How one channel is doing, in words the manager can act on."""

    name: str
    kind: str
    state: str = "starting"  # starting, ok, waiting (rate limited), error, paused (token refused)
    detail: str = ""
    last_success: datetime | None = None
    next_poll: datetime | None = None
    failures: int = 0
    # What a successful poll said may have gone wrong (PollResult.warnings), for WARNING_SHOWN_S;
    # it is in `detail` too, after what the poll brought.
    warning: str = ""
    warned_at: datetime | None = None


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
        leased: bool = True,
        token_sources: Mapping[str, TokenSource] | None = None,
        token_recheck: float = TOKEN_RECHECK_S,
        purge_deleted_after: float | None = None,
        uncertain_settle: float = UNCERTAIN_SETTLE_SECONDS,
        deletion_check: float = DELETION_CHECK_S,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.poll_intervals = dict(poll_intervals or {})
        self.token_sources = dict(token_sources or {})
        self.token_recheck = token_recheck
        self.purge_deleted_after = purge_deleted_after  # seconds; None keeps deleted posts' text
        self.deletion_check = deletion_check  # seconds between checks for unannounced deletions
        self._clock = clock or (lambda: datetime.now(UTC))
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.leased = leased  # False: poll and send without asking the store (tests, one-shot runs)
        self.sender = OutboxSender(
            store, self.channels, owner=self.owner, fence=ENGINE_LEASE if leased else None,
            retry_max=retry_max, clock=self._clock, on_token_refused=self._on_send_refused,
            uncertain_settle=uncertain_settle,
        )  # fmt: skip
        self.moderation = ModerationRunner(store, self.channels, self._clock)  # hides on the platform
        self._moderation_wake = asyncio.Event()
        self.statuses = {name: ChannelStatus(name, ch.kind) for name, ch in self.channels.items()}
        self.capabilities: dict[str, Capabilities] = {}
        self.role = EngineRole(active=False)
        self._status_listeners: list[Callable[[ChannelStatus], None]] = []
        self._role_listeners: list[Callable[[EngineRole], None]] = []
        self._tasks: list[asyncio.Task[None]] = []  # pollers and sender: only while active
        self._lease_task: asyncio.Task[None] | None = None
        self._sender_wake = asyncio.Event()
        self._poll_wake = {name: asyncio.Event() for name in self.channels}
        self.poll_warnings: dict[str, tuple[str, ...]] = {}  # each channel's last poll's warnings
        # Channels the manager asked to poll now (R): their token source is read again first.
        self._asked: set[str] = set()

    # ---- lifetime --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start polling and sending, or stand by while another process does (see `role`)."""
        self.store.add_listener(self._on_store_change)
        if not self.leased:
            await self._activate()
            return
        await self._lease_tick()
        self._lease_task = asyncio.create_task(self._lease_loop(), name="engine lease")

    async def stop(self) -> None:
        self.store.remove_listener(self._on_store_change)
        if self._lease_task is not None:
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
            self._lease_task = None
        was_active = self.role.active
        await self._deactivate()
        if self.leased and was_active:
            try:  # hand over at once instead of making the next process wait for the expiry
                await self.store.release_lease(ENGINE_LEASE, self.owner)
            except Exception:
                log.warning("could not release the engine lease; it expires by itself", exc_info=True)
        await asyncio.gather(*(ch.aclose() for ch in self.channels.values()), return_exceptions=True)

    def add_status_listener(self, listener: Callable[[ChannelStatus], None]) -> None:
        self._status_listeners.append(listener)

    def add_role_listener(self, listener: Callable[[EngineRole], None]) -> None:
        self._role_listeners.append(listener)

    # ---- the engine lease: one process polls and sends ---------------------------------------

    async def _activate(self) -> None:
        self._set_role(EngineRole(active=True))
        try:
            await self.sender.recover()
        except StoreError as exc:  # e.g. a full disk: polling and sending must start anyway
            log.warning("replies left 'sending' by a previous run were not recovered: %s", exc)
        for name, channel in self.channels.items():
            self._tasks.append(asyncio.create_task(self._poll_loop(name), name=f"poll:{name}"))
            if isinstance(channel, PushChannel):
                self._tasks.append(asyncio.create_task(self._watch(name, channel), name=f"push:{name}"))
        if any(isinstance(channel, PushChannel) for channel in self.channels.values()):
            self._tasks.append(asyncio.create_task(warm_up(), name="language model"))
        self._tasks.append(asyncio.create_task(self._send_loop(), name="outbox"))
        # Always: with no channel that can hide, it drops what the spam key asked of the others.
        self._tasks.append(asyncio.create_task(self._moderation_loop(), name="platform moderation"))
        self._tasks.append(asyncio.create_task(self._snooze_loop(), name="snoozes"))
        for name, channel in self.channels.items():
            if isinstance(channel, DeletionCheckingChannel):
                self._tasks.append(
                    asyncio.create_task(self._deletion_loop(name, channel), name=f"deleted:{name}")
                )
        if self.purge_deleted_after is not None:
            self._tasks.append(asyncio.create_task(self._purge_loop(self.purge_deleted_after), name="purge"))
        if self.leased:
            self._tasks.append(asyncio.create_task(self._watch_other_processes(), name="outbox watch"))

    async def _snooze_loop(self) -> None:
        """Wake snoozed conversations when their time comes; at once for those that ran out
        while ecoinbox was closed."""
        while True:
            due = None
            try:
                await self.store.wake_snoozed()
                due = await self.store.next_wake()
            except StoreError:
                log.warning("could not wake snoozed conversations; trying again", exc_info=True)
            wait = SNOOZE_CHECK_S
            if due is not None:
                wait = min(wait, max(0.5, (due - self.store.now()).total_seconds()))
            await asyncio.sleep(wait)

    async def _deletion_loop(self, name: str, channel: DeletionCheckingChannel) -> None:
        """Now and then, ask the platform whether the newest posts people wrote there are still
        there: Mastodon and Bluesky announce no deletion, and a deleted post must not wait on us."""
        while True:
            await asyncio.sleep(self.deletion_check)
            if self.statuses[name].state == "paused":
                continue
            try:
                since = self._clock() - timedelta(days=DELETION_CHECK_DAYS)
                recent = await self.store.recent_inbound(name, since, DELETION_CHECK_POSTS)
                if gone := await channel.find_deleted(recent):
                    await self.store.ingest(gone)
                    log.info("channel %s: %d posts were deleted on the platform", name, len(gone))
            except (ChannelError, StoreError) as exc:  # the next round tries again
                log.info("channel %s: could not check for deleted posts: %s", name, exc)

    async def _purge_loop(self, after: float) -> None:
        """Forget the text of posts deleted on their platform once `after` seconds have passed."""
        while True:
            try:
                if purged := await self.store.purge_deleted(timedelta(seconds=after)):
                    log.info("purged the text of %d deleted posts", purged)
            except StoreError:
                log.warning("could not purge deleted posts; trying again", exc_info=True)
            await asyncio.sleep(min(PURGE_CHECK_S, after))

    async def _deactivate(self) -> None:
        """Stop every loop, asking again any that lost its cancel, so that a quit never hangs."""
        tasks, self._tasks = list(self._tasks), []
        pending = set(tasks)
        for _ in range(STOP_ROUNDS):
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=STOP_AGAIN_S) if pending else ((), set())
            if not pending:
                break
            log.warning("asked again to stop: %s", ", ".join(sorted(task.get_name() for task in pending)))
        else:
            log.error("left running at stop: %s", ", ".join(sorted(task.get_name() for task in pending)))
        await asyncio.gather(*(task for task in tasks if task.done()), return_exceptions=True)

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(LEASE_RENEW_S if self.role.active else STANDBY_CHECK_S)
            try:
                await self._lease_tick()
            except Exception:  # a busy or full disk: keep the current role and try again
                log.warning("engine lease check failed", exc_info=True)

    async def _lease_tick(self) -> None:
        """Renew the lease, or take it when its holder is gone; start or stop accordingly."""
        lease = await self._contend()
        if lease.owner == self.owner:
            if not self.role.active:
                log.info("this process now polls and sends (engine lease taken)")
                await self._activate()
            return
        if self.role.active:
            log.warning("engine lease lost to pid %s on %s; standing by", lease.pid, lease.host)
            await self._deactivate()
        self._set_role(EngineRole(active=False, holder=lease))

    async def _contend(self) -> Lease:
        """Take or renew the engine lease if we may; return whoever holds it afterwards."""
        holder = await self.store.lease(ENGINE_LEASE)
        replacing = None
        if holder is not None and holder.owner != self.owner:
            if holder.host == self.host and not process_alive(holder.pid):
                replacing = holder.owner  # it died without releasing (a crash, kill -9)
            elif holder.expires_at > self.store.now():
                return holder  # a live holder: a read, no write
        return await self.store.take_lease(
            ENGINE_LEASE, self.owner, host=self.host, pid=self.pid, seconds=LEASE_SECONDS, replacing=replacing
        )

    async def send_once(self) -> int | None:
        """Send what is due now (one-shot runs); None if another process is the engine."""
        if not self.leased:
            return await self.sender.send_due()
        lease = await self._contend()
        if lease.owner != self.owner:
            self._set_role(EngineRole(active=False, holder=lease))
            return None
        try:
            await self.sender.recover()
            return await self.sender.send_due()
        finally:
            await self.store.release_lease(ENGINE_LEASE, self.owner)

    def _set_role(self, role: EngineRole) -> None:
        if role == self.role:
            return
        self.role = role
        for listener in list(self._role_listeners):
            listener(role)

    async def _watch_other_processes(self) -> None:
        """Another inbox on this store queues replies: send them without waiting for the idle timer."""
        seen = await self.store.external_version()
        while True:
            await asyncio.sleep(EXTERNAL_CHECK_S)
            try:
                version = await self.store.external_version()
            except StoreError:
                log.debug("could not read the store's version; trying again", exc_info=True)
                continue
            if version != seen:
                seen = version
                self._sender_wake.set()
                self._moderation_wake.set()  # a hide asked from the other inbox

    def poll_now(self, name: str | None = None) -> None:
        """Ask one channel (or all) to poll at once instead of waiting for its interval."""
        for channel_name, event in self._poll_wake.items():
            if name in (None, channel_name):
                self._asked.add(channel_name)
                event.set()

    async def _watch(self, name: str, channel: PushChannel) -> None:
        """Poll a channel as soon as its platform says something arrived (polling goes on too)."""
        try:
            # Not poll_now: a push is no request of the manager's to read the token source again.
            await channel.watch(self._poll_wake[name].set)
        except ChannelError as exc:
            log.info("channel %s: no push, polling only: %s", name, exc)
        except Exception:  # a broken push must not stop the engine: polling still works
            log.exception("push watch of channel %s failed; polling only", name)

    # ---- polling ---------------------------------------------------------------------------

    async def poll_channel(self, name: str) -> IngestResult:
        """One poll of one channel: fetch, complete threads, store batch and cursor together."""
        channel = self.channels[name]
        cursor = await self.store.cursor(name)
        polled = await channel.poll(cursor)
        self.poll_warnings[name] = polled.warnings
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
            if isinstance(result, AuthError):
                self.sender.paused.add(name)  # its replies would meet the same refusal
            outcome[name] = result
        return outcome

    async def _poll_loop(self, name: str) -> None:
        interval = self.poll_intervals.get(name, 60.0)
        while True:
            delay = await self._poll_and_report(name, interval)
            if self.statuses[name].state == "paused":
                await self._until_token_renewed(name)
                continue
            self._set_status(name, next_poll=self._clock() + timedelta(seconds=delay))
            wake = self._poll_wake[name]
            with contextlib.suppress(TimeoutError):
                # Not wait_for: on Python 3.11 it can swallow stop()'s cancel when the event is
                # set at the same moment, and the loop would then never end.
                async with asyncio.timeout(delay):
                    await wake.wait()
            wake.clear()
            if name in self._asked:
                self._asked.discard(name)
                # A token that still works may have been replaced (token_cmd prints a new one).
                await self._take_renewed_token(name)

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
            self._pause(name, exc, failures + 1)
            return 0.0
        except ChannelError as exc:
            self._set_status(name, state="error", detail=str(exc), failures=failures + 1)
            return _jittered_backoff(interval, failures + 1)
        except StoreError as exc:  # a full disk, a damaged file: neither the batch nor its cursor was saved
            log.warning("the poll of channel %s could not be saved: %s", name, exc)
            self._set_status(name, state="error", detail=str(exc), failures=failures + 1)
            return _jittered_backoff(interval, failures + 1)
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("poll of channel %s failed", name)
            self._set_status(
                name, state="error", detail=f"internal error: {type(exc).__name__}", failures=failures + 1
            )
            return _jittered_backoff(interval, failures + 1)
        detail = f"{result.new} new" if result.new else "up to date"
        warning, warned_at = self._warning(name)
        self._set_status(name, state="ok", detail=f"{detail}; {warning}" if warning else detail,
                         last_success=self._clock(), failures=0, warning=warning, warned_at=warned_at)  # fmt: skip
        if name in self.sender.paused:  # the token works (again): its replies may go out
            self.sender.paused.discard(name)
            self._sender_wake.set()
        return interval

    def _warning(self, name: str) -> tuple[str, datetime | None]:
        """This poll's warnings, else the last ones while they are recent enough to be shown."""
        now, status = self._clock(), self.statuses[name]
        if said := "; ".join(self.poll_warnings.get(name, ())):
            return said, now
        if status.warned_at is not None and now - status.warned_at < timedelta(seconds=WARNING_SHOWN_S):
            return status.warning, status.warned_at
        return "", None

    # ---- a refused token -------------------------------------------------------------------

    def _pause(self, name: str, exc: AuthError, failures: int) -> None:
        """Stop polling and sending on a channel whose token was refused, saying how to fix it."""
        self.sender.paused.add(name)
        self.sender.forget_holds(name)
        self._poll_wake[name].clear()  # this poll's verdict answers any earlier wish to poll
        source = self.token_sources.get(name)
        hint = source.hint if source is not None else f"run `ecoinbox auth {name}`"
        code = f" ({exc.status})" if exc.status else ""
        log.warning("channel %s paused until its token is renewed: %s", name, exc)
        self._set_status(name, state="paused", detail=f"token refused{code}: {hint}", failures=failures,
                         next_poll=None)  # fmt: skip

    async def _until_token_renewed(self, name: str) -> None:
        """Wait, without a request, until the manager asks for a poll (R) or the token source
        gives another token. A refused token does not heal: polling on a timer would only
        hammer the platform with it."""
        wake = self._poll_wake[name]
        recheck = self.token_recheck if name in self.token_sources else None
        while True:
            try:
                await asyncio.wait_for(wake.wait(), timeout=recheck)
            except TimeoutError:
                if await self._take_renewed_token(name):
                    return
                continue
            wake.clear()
            await self._take_renewed_token(name)  # the manager may just have renewed it
            return

    async def _take_renewed_token(self, name: str) -> bool:
        """Read the channel's token source again (no network); True if it gave another token,
        which the channel then uses."""
        source, channel = self.token_sources.get(name), self.channels[name]
        if source is None or not isinstance(channel, RenewableChannel):
            return False
        try:
            token = await source.resolve()
        except SecretError as exc:  # says which source failed, never what it printed
            log.info("channel %s: could not read its token again: %s", name, exc)
            return False
        if not channel.set_token(token.reveal()):
            return False
        log.info("channel %s: its token source gives another token; polling again", name)
        return True

    def _on_send_refused(self, name: str) -> None:
        if self.statuses.get(name, ChannelStatus(name, "")).state == "paused":
            self.sender.forget_holds(name)  # its polls know already: the token is refused
        elif name in self._poll_wake:
            # One poll now tells a refused token from a refused reply.
            self._poll_wake[name].set()

    def _set_status(self, name: str, **changes: object) -> None:
        status = replace(self.statuses[name], **changes)  # type: ignore[arg-type]
        self.statuses[name] = status
        for listener in list(self._status_listeners):
            listener(status)

    # ---- sending ---------------------------------------------------------------------------

    def _on_store_change(self, change: Change) -> None:
        if change.kind is ChangeKind.OUTBOX:
            self._sender_wake.set()
        if change.kind is ChangeKind.STATE:
            self._moderation_wake.set()

    async def _moderation_loop(self) -> None:
        """Hide (or show again) messages on their platform as the manager asked, in order."""
        while True:
            self._moderation_wake.clear()
            due = None
            try:
                await self.moderation.run_due()
                for name, said in self.moderation.take_refusals():  # said in the status line, once
                    if self.statuses[name].state == "ok":
                        self._set_status(name, detail=said, warning=said, warned_at=self._clock())
                due = await self.moderation.next_due()
            except Exception:  # the store may be briefly unavailable; never let the loop die
                log.exception("platform moderation failed; retrying")
            timeout = SENDER_IDLE_S
            if due is not None:
                timeout = min(timeout, max(0.05, (due - self._clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # not wait_for: see _poll_loop
                    await self._moderation_wake.wait()

    async def _send_loop(self) -> None:
        while True:
            self._sender_wake.clear()
            try:
                await self.sender.send_due()
                due = await self.sender.next_due()
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
    from ecoinbox.language import detect_languages

    theirs = [m for m in messages if not m.is_ours]
    found = iter(detect_languages([m.text for m in theirs], [m.language for m in theirs]))
    return [m if m.is_ours else replace(m, language=next(found) or m.language) for m in messages]


def _jittered_backoff(interval: float, failures: int) -> float:
    """Exponential backoff with jitter, so many clients do not retry in lockstep."""
    ceiling = min(MAX_BACKOFF_S, interval * 2 ** min(failures, 10))
    return random.uniform(max(interval, ceiling / 2), ceiling)


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): kill(0) said it exists
