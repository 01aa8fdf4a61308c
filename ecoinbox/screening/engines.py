"""Spam engines outside the program (SpamAssassin's spamd, Akismet), asked beside the built-in filter.

An engine's verdict is one more `Signal` of the message's verdict (`joined`): its weight in
log-odds is set by hand (no labelled set has these engines' answers) and its reason says what it
found ("SpamAssassin: 7.3 of 5.0 (GTUBE, MISSING_DATE)"). Engines do network I/O, so `Engines`
asks them in a thread of its own with an event loop of its own, never on the inbox's loop nor in
the screener's thread, each within its timeout. An engine that fails (unreachable, too slow, a
refused key) is said once in the log, left out for `RETRY_S` seconds (ingest never waits on it
again meanwhile), and the messages are screened without it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol

from ecoinbox.model import Message
from ecoinbox.screening.spam import Signal, Verdict

if TYPE_CHECKING:
    from ecoinbox.config import Settings

__all__ = ["RETRY_S", "Engine", "EngineDown", "Engines", "engines_from_settings", "joined"]

log = logging.getLogger(__name__)

RETRY_S: Final = 60.0
"""Seconds an engine that failed is left out before it is asked again."""


class EngineDown(Exception):
    """An engine could not answer; the message says what happened in a manager's words (never a key).
    `partial`: the answers it gave before failing (None where it gave none), if any."""

    def __init__(self, message: str, partial: Sequence[Signal | None] = ()) -> None:
        super().__init__(message)
        self.partial = tuple(partial)


class Engine(Protocol):
    """A spam engine. Its methods run in the engines' thread only, one call at a time."""

    name: str

    def wants(self, message: Message) -> bool:
        """Whether this engine judges `message` (its channel is one it is configured for)."""
        ...

    def check(self, messages: Sequence[Message]) -> list[Signal | None]:
        """A signal per message (None: no opinion), within the engine's timeout; EngineDown else."""
        ...

    def teach(self, message: Message, is_spam: bool) -> None:
        """The manager marked `message` spam or not spam: tell the engine, where it learns."""
        ...

    def probe(self) -> str:
        """For `ecoinbox check`: one line saying it answers (EngineDown when it does not)."""
        ...

    def close(self) -> None: ...


@dataclass(slots=True)
class _Health:
    down_until: float = 0.0
    said: str = ""  # the failure the log said last (said once, until the engine answers again)


class Engines:
    """The configured engines, asked in their own thread (`consult`), each failure said once."""

    def __init__(self, engines: Sequence[Engine], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.engines = tuple(engines)
        self.clock = clock  # for the retry delay
        self._health = {engine.name: _Health() for engine in self.engines}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.engines)

    def _submit(self, call: Callable[..., object], *args: object) -> Future[object]:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoinbox-engines")
            return self._pool.submit(call, *args)

    async def consult(self, messages: Sequence[Message]) -> list[tuple[Signal, ...]]:
        """Each message's engine signals (empty where no engine judged it), from the engines' thread."""
        if not self.engines or not any(engine.wants(m) for engine in self.engines for m in messages):
            return [() for _ in messages]
        answer = await asyncio.wrap_future(self._submit(self.consult_now, list(messages)))
        return answer  # type: ignore[return-value]  # consult_now's own

    def consult_now(self, messages: Sequence[Message]) -> list[tuple[Signal, ...]]:
        """`consult` in the calling thread (the engines' thread, or a script's)."""
        found: list[list[Signal]] = [[] for _ in messages]
        for engine in self.engines:
            chosen = [index for index, message in enumerate(messages) if engine.wants(message)]
            if not chosen or not self._usable(engine):
                continue
            try:
                answers: Sequence[Signal | None] = engine.check([messages[index] for index in chosen])
            except EngineDown as exc:
                self._failed(engine, str(exc), len(chosen))
                answers = exc.partial
            except Exception:  # a bug in an engine must not stop ingest either
                log.exception("%s failed; new messages are screened without it", engine.name)
                self._health[engine.name].down_until = self._now() + RETRY_S
                continue
            else:
                self._answered(engine)
            for index, signal in zip(chosen, answers, strict=False):
                if signal is not None:
                    found[index].append(signal)
        return [tuple(signals) for signals in found]

    def teach(self, message: Message, is_spam: bool) -> None:
        """Tell the engines that judge `message` about the manager's mark, in their thread, without
        waiting (a failure is logged once)."""
        for engine in self.engines:
            if engine.wants(message):
                self._submit(self._teach_now, engine, message, is_spam)

    def _teach_now(self, engine: Engine, message: Message, is_spam: bool) -> None:
        if not self._usable(engine):
            return
        try:
            engine.teach(message, is_spam)
        except EngineDown as exc:
            self._failed(engine, str(exc), 0)
        except Exception:
            log.exception("telling %s about a spam mark failed", engine.name)

    def status(self) -> list[tuple[bool, str]]:
        """For `ecoinbox check`: (ok, one line) per engine, asked now (in the caller's thread)."""
        lines: list[tuple[bool, str]] = []
        for engine in self.engines:
            try:
                lines.append((True, f"{engine.name}: ok, {engine.probe()}"))
            except EngineDown as exc:
                lines.append((False, f"{engine.name}: FAILED: {exc}"))
        return lines

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        for engine in self.engines:
            engine.close()

    # ---- health: each failure said once ----------------------------------------------------

    def _now(self) -> float:
        return self.clock()

    def _usable(self, engine: Engine) -> bool:
        return self._now() >= self._health[engine.name].down_until

    def _failed(self, engine: Engine, why: str, count: int) -> None:
        health = self._health[engine.name]
        health.down_until = self._now() + RETRY_S
        if why != health.said:
            health.said = why
            left = f"; {count} new message(s) screened without it" if count else ""
            log.warning("%s: %s%s (asked again in %d s)", engine.name, why, left, RETRY_S)

    def _answered(self, engine: Engine) -> None:
        health = self._health[engine.name]
        if health.said:
            log.info("%s answers again", engine.name)
            health.said = ""


def joined(verdict: Verdict, signals: Sequence[Signal], threshold: float) -> Verdict:
    """`verdict` with the engines' `signals` added to its log-odds: its score, side and reasons
    follow (the engines' reasons first: they are what changed it)."""
    if not signals:
        return verdict
    score = min(1.0 - 1e-9, max(1e-9, verdict.score))
    logit = math.log(score / (1.0 - score)) + sum(signal.weight for signal in signals)
    score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    reasons = (*(signal.reason for signal in signals), *verdict.reasons)
    return replace(
        verdict, is_spam=score >= threshold, score=score, reasons=reasons,
        signals=(*verdict.signals, *signals),
    )  # fmt: skip


def engines_from_settings(settings: Settings) -> Engines:
    """The engines [screening] configures (none: an empty `Engines`). Builds no connection yet."""
    engines: list[Engine] = []
    screening = settings.screening
    if screening.spamassassin is not None and screening.spamassassin.channels:
        from ecoinbox.screening.spamassassin import SpamAssassin

        engines.append(SpamAssassin(screening.spamassassin))
    if screening.akismet is not None and screening.akismet.channels:
        from ecoinbox.screening.akismet import Akismet

        kinds = {channel.name: channel.kind for channel in settings.channels}
        engines.append(Akismet(screening.akismet, kinds=kinds))
    return Engines(engines)
