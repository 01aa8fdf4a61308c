"""Live notifications on Discourse: MessageBus, the long poll Discourse's own web client uses.

`POST /message-bus/{client_id}/poll` with `{"/notification/{user_id}": last_id}` answers at once
when the channel has messages past `last_id`, else holds the request (25 s by default) until one
comes or the time is up; starting from -1, a `/__status` message gives the channel's last id.
Each message on the brand's notification channel wakes the channel's poll, as Mastodon's stream
does (see `ecoinbox.channels.mastodon.stream`): the poll reads /notifications.json from the
stored cursor, so nothing arrives by a second path. MessageBus keeps a backlog, so after a cut
the next long poll, sent with the last id seen, gets what was missed; the first answer of a
subscription (its status) wakes a poll too. `Dont-Chunk` asks for one JSON array per answer.
Failures back off like the Mastodon stream; timed polls go on all along. The cost: one request
of a user API key's 20 a minute every 25 s, plus the polls it wakes (one per burst).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable

from ecoinbox.channels.base import AuthError, ChannelError, PermanentError, TransientError
from ecoinbox.channels.http import HttpClient, channel_logger
from ecoinbox.channels.json_values import as_dict
from ecoinbox.channels.reconnect import REFUSED_FAILURES, backoff

log = channel_logger(__name__)

LONG_POLL_S = 60.0  # the most one long poll may take to answer (Discourse holds it 25 s)
STATUS_CHANNEL = "/__status"


class NotificationBus:
    """The MessageBus subscription of one Discourse channel to its user's notifications."""

    def __init__(self, channel: str, http: HttpClient, user_id: Callable[[], Awaitable[int]]) -> None:
        self.channel = channel
        self._http = http
        self._user_id = user_id
        self._client_id = secrets.token_hex(16)
        self._seq = 0
        self.polls = 0  # long polls answered (tests, bench)
        self.live = False
        self._token_ok = asyncio.Event()

    def token_accepted(self) -> None:
        """A request with the current token succeeded: the subscription may use it."""
        self._token_ok.set()

    async def run(self, wake: Callable[[], None]) -> None:
        """Long-poll until cancelled, calling `wake` on each notification and when a
        subscription (re)starts; back off on failures. Starts once a poll has worked with the
        token, and waits for that again after a refusal."""
        failures, last = 0, -1
        self._token_ok.clear()
        while True:
            await self._token_ok.wait()
            refused = False
            try:
                channel = f"/notification/{await self._user_id()}"
                while True:
                    last = await self._long_poll(channel, last, wake)
                    failures = 0
            except AuthError as exc:
                self._token_ok.clear()
                log.info("channel %s: live notifications wait for a working token: %s", self.channel, exc)
                continue
            except PermanentError as exc:  # e.g. a 404: no MessageBus behind this proxy
                why, refused = str(exc), True
            except ChannelError as exc:
                why = str(exc)
            finally:
                self.live = False
            failures = max(failures + 1, REFUSED_FAILURES if refused else 0)
            delay = backoff(failures)
            level = log.info if failures in (1, REFUSED_FAILURES) else log.debug
            level("channel %s: live notifications stopped (%s); polling meanwhile, next try in %.0f s",
                  self.channel, why, delay)  # fmt: skip
            await asyncio.sleep(delay)

    async def _long_poll(self, channel: str, last: int, wake: Callable[[], None]) -> int:
        """One long poll; returns the last message id to ask from next time."""
        self._seq += 1
        body = {channel: last, "__seq": self._seq}
        async with self._http.stream(
            f"/message-bus/{self._client_id}/poll", method="POST", json=body, silence=LONG_POLL_S,
            answer_within=LONG_POLL_S, headers={"Dont-Chunk": "true"},
        ) as response:  # fmt: skip
            content = await response.aread()
        try:
            messages = json.loads(content)
        except ValueError:
            raise TransientError(f"channel {self.channel}: malformed answer from MessageBus") from None
        self.polls += 1
        self.live = True
        for message in messages if isinstance(messages, list) else []:
            if not isinstance(message, dict):
                continue
            if message.get("channel") == STATUS_CHANNEL:
                said = as_dict(message.get("data")).get(channel)
                last = said if isinstance(said, int) else last
                wake()  # a subscription (re)started: the poll reads what came before it
            elif message.get("channel") == channel:
                said = message.get("message_id")
                last = said if isinstance(said, int) and said > last else last
                wake()
        return last


__all__ = ["NotificationBus"]
