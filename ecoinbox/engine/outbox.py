"""The outbox sender: takes replies the manager wrote and gets each one out exactly once.

queued -> sending (a lease) -> sent | failed | unknown, and back to queued for a retry.
A reply is written to the store before the network is touched. A send whose outcome is
uncertain is never sent again before the channel has read back whether it went out (the
thread, our recent posts, the Sent folder): some servers ignore idempotency keys, so a key is
only a second safety. A channel that cannot read back leaves the reply "unknown" for a person.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    HeadedChannel,
    MailHeaders,
    ModeratedChannel,
    PermanentError,
    RateLimited,
    UncertainSend,
    WideningChannel,
)
from ecoinbox.model import Message, OutboxItem, OutboxState
from ecoinbox.store import Store

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
# How long an uncertain send is left to settle on the platform before it is read back.
UNCERTAIN_SETTLE_SECONDS = 30.0


class OutboxSender:
    """Sends due replies through their channels and records each outcome in the store."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        owner: str,
        fence: str | None = None,
        retry_max: float = 600.0,
        clock: Callable[[], datetime] | None = None,
        on_token_refused: Callable[[str], None] | None = None,
        uncertain_settle: float = UNCERTAIN_SETTLE_SECONDS,
    ) -> None:
        self.store = store
        self.channels = channels
        self.owner = owner
        self.fence = fence  # the store lease `owner` must hold for each claim (the engine's)
        self.retry_max = retry_max
        self.uncertain_settle = timedelta(seconds=uncertain_settle)
        self._clock = clock or (lambda: datetime.now(UTC))
        # Channels whose token was refused: their items wait, unclaimed, until it is renewed.
        self.paused: set[str] = set()
        self._on_token_refused = on_token_refused
        # Items given back once for a refused token (id -> channel); refused again after the
        # token proved good (`forget_holds` was not called), the refusal is about the item.
        self._held: dict[int, str] = {}

    async def recover(self) -> None:
        """Replies another sender left 'sending' (it died, or lost the engine lease) may have
        gone out: treat them as uncertain. Run before this sender sends anything."""
        for item in await self.store.orphaned_sends(self.owner):
            await self._uncertain(item, "ecoinbox stopped while this reply was being sent")

    async def send_due(self) -> int:
        """Reconcile uncertain sends that can be checked, then send every item due now.

        Returns how many items were attempted.
        """
        attempted = 0
        checkable = await self._reconcilable_channels()
        while checkable and (item := await self.store.claim_next_reply(
            self.owner, LEASE_SECONDS, state=OutboxState.UNKNOWN, channels=checkable, fence=self.fence,
            exclude=sorted(self.paused),  # a refused token pauses its channel mid-round
        )) is not None:  # fmt: skip
            attempted += 1
            await self.reconcile(item)
        while (item := await self.store.claim_next_reply(
            self.owner, LEASE_SECONDS, fence=self.fence, exclude=sorted(self.paused)
        )) is not None:  # fmt: skip
            attempted += 1
            await self.send(item)
        return attempted

    async def next_due(self) -> datetime | None:
        """When the next reply this sender may send or read back is due (a paused channel's do
        not count)."""
        read_back = await self._reconcilable_channels()
        return await self.store.next_reply_due(exclude=sorted(self.paused), read_back=read_back)

    def forget_holds(self, channel: str) -> None:
        """The channel's token is confirmed refused: its held items wait for a new one, however
        often they were held."""
        self._held = {item: name for item, name in self._held.items() if name != channel}

    async def _reconcilable_channels(self) -> list[str]:
        names = []
        for name, channel in self.channels.items():
            if name in self.paused:
                continue
            try:
                if (await channel.capabilities()).reconcile:
                    names.append(name)
            except ChannelError:
                continue  # unreachable now: its uncertain sends wait for the next round
        return names

    async def send(self, item: OutboxItem) -> None:
        channel = self.channels.get(item.channel)
        if channel is None:
            await self.store.reply_failed(item, f"channel {item.channel!r} is no longer configured")
            return
        parent = None
        if item.kind == "reply":
            parent = await self.store.message(item.channel, item.parent_remote_id)
            if parent is None:
                await self.store.reply_failed(item, "the message this replies to is no longer in the store")
                return
        try:
            if parent is None:
                sent = await channel.create_topic(item.title, item.text, item.category, item.idempotency_key)
            else:
                if item.approve_parent:
                    if not isinstance(channel, ModeratedChannel):
                        raise PermanentError(f"{item.channel} cannot approve the comment this answers")
                    # As wp-admin does: a reply to a held comment is seen once the comment is.
                    await channel.approve(parent.remote_id)
                sent = await _reply(channel, parent, item)
        except UncertainSend as exc:
            await self._uncertain(item, str(exc))
        except RateLimited as exc:
            await self.store.reply_retry(item, str(exc), exc.retry_at)
        except AuthError as exc:
            await self._token_refused(item, exc, OutboxState.QUEUED)
        except PermanentError as exc:
            await self.store.reply_failed(item, str(exc))
        except ChannelError as exc:
            await self.store.reply_retry(item, str(exc), self._backoff(item))
        except Exception as exc:  # a bug must not leave the reply stuck in "sending"
            log.exception("unexpected error while sending outbox item %s", item.id)
            await self._uncertain(item, f"internal error: {type(exc).__name__}")
        else:
            await self._sent(channel, item, sent)

    async def _sent(self, channel: Channel, item: OutboxItem, sent: Message) -> None:
        topic_url = None
        if item.kind == "topic":
            url_of = getattr(channel, "topic_url", None)
            topic_url = url_of(sent) if url_of is not None else sent.url
        await self.store.reply_sent(item, sent, topic_url=topic_url)

    async def reconcile(self, item: OutboxItem) -> None:
        """Read the thread to learn whether an uncertain send landed: never post blindly again."""
        channel = self.channels[item.channel]
        parent = None
        if item.kind == "reply":
            parent = await self.store.message(item.channel, item.parent_remote_id)
        since = item.first_attempt_at or item.created_at
        try:
            found = await channel.find_sent(parent, item.text, item.title, since)
        except AuthError as exc:
            await self._token_refused(item, exc, OutboxState.UNKNOWN)
            return
        except ChannelError as exc:
            # A platform that asked us to wait is not asked again before then: read-backs retried
            # on the backoff alone would spend the rate limit that the polls need too.
            check_at = self._backoff(item)
            if isinstance(exc, RateLimited):
                check_at = max(check_at, exc.retry_at)
            await self.store.reply_unknown(item, f"could not check the thread yet: {exc}", check_at=check_at)
            return
        if found is not None:
            await self._sent(channel, item, found)
        else:
            # Read and not there: sending now cannot make a second copy.
            await self.store.reply_retry(item, "it had not been published; sending again", self._clock())

    async def _token_refused(self, item: OutboxItem, exc: AuthError, state: OutboxState) -> None:
        """Hold the item, attempt not counted, and stop sending on its channel until the token is
        renewed: retrying against a refused token only burns attempts and the platform's patience.
        A refusal of an item held before, with a token that worked since, is the item's own."""
        if self._held.pop(item.id, None) is not None:
            if state is OutboxState.QUEUED:
                await self.store.reply_failed(item, str(exc))
            else:
                why = f"could not check the thread yet: {exc}"
                await self.store.reply_unknown(item, why, check_at=self._backoff(item))
            return
        self._held[item.id] = item.channel
        self.paused.add(item.channel)
        if state is OutboxState.QUEUED:
            why = f"waiting: {exc} (it goes out once the channel has a token that works)"
        else:
            why = item.error  # still uncertain; checked once the channel has a token that works
        await self.store.reply_held(item, why, state=state)
        log.warning("channel %s: token refused while sending; sending there is paused: %s", item.channel, exc)
        if self._on_token_refused is not None:
            self._on_token_refused(item.channel)

    async def _uncertain(self, item: OutboxItem, why: str) -> None:
        caps = None
        channel = self.channels.get(item.channel)
        if channel is not None:
            try:
                caps = await channel.capabilities()
            except ChannelError:
                caps = None
        if caps is None or caps.reconcile:
            # A slow server may still be writing it: reading back too soon would miss it. (A
            # channel unreachable now is asked whether it can read back once it answers.)
            check_at = self._clock() + self.uncertain_settle
            await self.store.reply_unknown(
                item, f"{why}; checking the thread before anything is resent", check_at=check_at
            )
            return
        await self.store.reply_unknown(
            item,
            f"{why}; it may have been published. Check the thread on the platform before resending.",
        )

    def _backoff(self, item: OutboxItem) -> datetime:
        """Exponential backoff with full jitter, capped by the configured maximum."""
        ceiling = min(self.retry_max, 2.0 ** min(item.attempts, 16))
        return self._clock() + timedelta(seconds=random.uniform(ceiling / 2, ceiling))


async def _reply(channel: Channel, parent: Message, item: OutboxItem) -> Message:
    """Send `item` as the manager addressed it: a mail's edited headers, a confirmed wider visibility."""
    if item.wider and item.visibility and isinstance(channel, WideningChannel):
        return await channel.reply_wider(parent, item.text, item.idempotency_key, item.visibility)
    if (item.to or item.cc or item.subject) and isinstance(channel, HeadedChannel):
        headers = MailHeaders(item.to, item.cc, item.subject or "")
        return await channel.reply_headed(parent, item.text, item.idempotency_key, headers)
    return await channel.reply(parent, item.text, item.idempotency_key, visibility=item.visibility)
