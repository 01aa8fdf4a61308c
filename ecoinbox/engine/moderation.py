"""Carrying out what the manager asked platforms to do with messages (hide, as spam or not, show
again): the store's `platform_actions`, claimed one at a time like the outbox's replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    HidingChannel,
    PermanentError,
    RateLimited,
)
from ecoinbox.store.base import Store
from ecoinbox.store.moderation import SPAM, UNHIDE, PlatformAction

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)


class ModerationRunner:
    """Runs the waiting requests of the channels that can hide messages (`HidingChannel`)."""

    def __init__(self, store: Store, channels: Mapping[str, Channel], clock: Callable[[], datetime]) -> None:
        self.store = store
        self.hiding = sorted(name for name, channel in channels.items() if isinstance(channel, HidingChannel))
        self.others = sorted(set(channels) - set(self.hiding))
        self.channels = channels
        self._clock = clock
        self._refusals: list[tuple[str, str]] = []  # (channel, words) not yet shown to the manager

    def take_refusals(self) -> list[tuple[str, str]]:
        """What platforms refused for good since the last call: (channel, what to tell the manager)."""
        refusals, self._refusals = self._refusals, []
        return refusals

    async def run_due(self) -> int:
        """Every request due now; how many were tried."""
        await self.store.skip_moderation(self.others)
        tried = 0
        while (action := await self.store.claim_moderation(self.hiding)) is not None:
            tried += 1
            await self.run(action)
        return tried

    async def next_due(self) -> datetime | None:
        return await self.store.next_moderation_due(self.hiding)

    async def run(self, action: PlatformAction) -> None:
        channel = self.channels[action.channel]
        assert isinstance(channel, HidingChannel)
        try:
            if action.action == UNHIDE:
                await channel.unhide(action.remote_id)
            else:
                await channel.hide(action.remote_id, spam=action.action == SPAM)
        except RateLimited as exc:
            await self.store.finish_moderation(action, error=str(exc), retry_at=exc.retry_at)
        except PermanentError as exc:
            if isinstance(exc, AuthError):  # a renewed token may work: try again later
                await self.store.finish_moderation(action, error=str(exc), retry_at=self._later(action))
            else:
                log.info(
                    "channel %s: %s of %s refused: %s", action.channel, action.action, action.remote_id, exc
                )
                await self.store.finish_moderation(action, error=str(exc))
                verb = "show again" if action.action == UNHIDE else "hide"
                self._refusals.append((action.channel, f"could not {verb} a message there: {exc}"))
        except ChannelError as exc:
            await self.store.finish_moderation(action, error=str(exc), retry_at=self._later(action))
        else:
            await self.store.finish_moderation(action)

    def _later(self, action: PlatformAction) -> datetime:
        wait: timedelta = min(RETRY_BASE * (2 ** min(action.attempts - 1, 10)), RETRY_MAX)
        later: datetime = self._clock() + wait
        return later
