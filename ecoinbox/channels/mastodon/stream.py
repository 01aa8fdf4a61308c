"""Live mentions on Mastodon: the user's notifications, pushed over server-sent events.

A stream event never becomes a message by itself: it wakes the channel's poll (the engine's
`PushChannel.watch` hook), and the poll reads /api/v1/notifications from the stored cursor as it
always does. So a mention that came by the stream and one that came by a timed poll take the
same ingest path and the same threading, and the cursor stays exact: a stream may drop, repeat
or reorder events, and replays nothing after a reconnect, yet nothing is lost or stored twice.
The price is one REST request per burst of mentions (the engine folds wakes that arrive during
a poll into one more poll), a few milliseconds on loopback, tens over the internet.

Every connection, first or after a cut, also wakes a poll once the server has answered: what
arrived before the subscription began (or while the stream was down) comes in then. Reconnects
back off (jittered, 1 s doubling to RETRY_MAX_S); the engine's timed polls go on all the while,
since a stream can miss events silently (a proxy that buffers, a streaming server restarted).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource, SSEError

from ecoinbox.channels.base import AuthError, ChannelError, PermanentError
from ecoinbox.channels.http import HttpClient, channel_logger, one_line
from ecoinbox.channels.json_values import as_dict, text_or_none
from ecoinbox.channels.reconnect import REFUSED_FAILURES, backoff

log = channel_logger(__name__)

STREAM_PATH = "/api/v1/streaming/user/notification"
# Mastodon sends ":thump" every 15 s; this long without a byte and the stream counts as dead.
SILENCE_S = 60.0
# The notification types the poll reads (mentions, and edits of posts we were mentioned in).
WAKING_TYPES = frozenset({"mention", "update"})


class NotificationStream:
    """The streaming connection of one Mastodon channel, reconnected until cancelled.

    `live` says whether the stream is connected now (`ecoinbox check` and status lines). The
    token is the channel's `HttpClient`'s: it never appears here, in a log or in an error.
    """

    def __init__(self, channel: str, http: HttpClient, *, silence: float = SILENCE_S) -> None:
        self.channel = channel
        self.silence = silence
        self._http = http
        self._url: tuple[str, bool] | None = None  # the stream's URL, and whether it is another origin
        self.live = False
        self.connections = 0  # how many times the stream was opened (tests, bench)
        # Set when a poll succeeded with the token: the stream never tries a token the platform
        # refused (a paused channel makes no request), and waits for the poll to say it works.
        self._token_ok = asyncio.Event()

    def token_accepted(self) -> None:
        """A request with the current token succeeded: the stream may connect with it."""
        self._token_ok.set()

    async def run(self, wake: Callable[[], None]) -> None:
        """Hold the stream open, calling `wake` on each connection and on each new mention or
        edit; reconnect with backoff on any failure. Starts once a poll has worked with the
        token (`token_accepted`), and waits for that again after a refusal. Returns only by
        cancellation."""
        failures, said = 0, False
        self._token_ok.clear()  # a token that worked before may have been revoked since
        while True:
            await self._token_ok.wait()
            connections = self.connections
            refused = False
            try:
                await self._listen(wake)
                why = "the server closed the stream"
            except AuthError as exc:
                self._token_ok.clear()  # the next poll that works says when to try again
                log.info("channel %s: live mentions wait for a working token: %s", self.channel, exc)
                continue
            except PermanentError as exc:  # e.g. a 404 from a proxy that does not route streaming
                why, refused = str(exc), True
            except ChannelError as exc:
                why = str(exc)
            except SSEError:
                why = "the server did not answer with an event stream"
            # A stream that worked and was then cut starts the backoff afresh; a refusal will
            # not change within seconds: a minute or two, doubling.
            failures = 1 if self.connections != connections else failures + 1
            if refused:
                failures = max(failures, REFUSED_FAILURES)
            delay = backoff(failures)
            # One line per outage in the log, not one per attempt.
            level, said = (log.debug if said and self.connections == connections else log.info), True
            level("channel %s: live mentions stopped (%s); polling meanwhile, next try in %.0f s",
                  self.channel, why, delay)  # fmt: skip
            await asyncio.sleep(delay)
            if self._url is not None and failures % 4 == 0:
                self._url = None  # the instance may have moved its streaming host

    async def _listen(self, wake: Callable[[], None]) -> None:
        url, elsewhere = await self._stream_url()
        async with self._http.stream(url, silence=self.silence, with_auth=elsewhere) as response:
            if not _is_event_stream(response):
                raise SSEError("not an event stream")  # e.g. a proxy's HTML page with a 200
            self.live = True
            self.connections += 1
            try:
                wake()  # subscribed from here: the poll reads what came before
                async for event in EventSource(response).aiter_sse():
                    if event.event == "notification" and _wakes(event.data):
                        wake()
            finally:
                self.live = False

    async def probe(self) -> str | None:
        """Open the stream once and close it: None when it works, else why not (in words)."""
        try:
            url, elsewhere = await self._stream_url()
            async with self._http.stream(url, silence=self.silence, with_auth=elsewhere) as response:
                if not _is_event_stream(response):
                    return "the server did not answer with an event stream"
        except AuthError as exc:
            return f"the token was refused for streaming ({exc.status or 'no status'})"
        except ChannelError as exc:
            return str(exc)
        return None

    async def _stream_url(self) -> tuple[str, bool]:
        """Where the instance streams (`configuration.urls.streaming`, which may be another
        host), and whether that is another origin than the API's. The token goes there only
        when it is the API's own host or a host of the same domain, over https."""
        if self._url is None:
            base = self._http.base_url
            announced = await self._announced_streaming_url()
            target = _http_url(announced) if announced else None
            if target is None or _origin(target) == _origin(base):
                self._url = (STREAM_PATH, False)
            elif _may_receive_token(target, base):
                self._url = (target.rstrip("/") + STREAM_PATH, True)
            else:
                log.info("channel %s: the instance streams from %s, which is not its own domain: "
                         "streaming from %s instead", self.channel, one_line(target), one_line(base))  # fmt: skip
                self._url = (STREAM_PATH, False)
        return self._url

    async def _announced_streaming_url(self) -> str | None:
        try:
            data = await self._http.get_json("/api/v2/instance")
            return text_or_none(
                as_dict(as_dict(as_dict(data).get("configuration")).get("urls")).get("streaming")
            )
        except AuthError:
            raise
        except PermanentError:
            pass  # no v2 (Akkoma, old servers): v1 says it as urls.streaming_api
        data = await self._http.get_json("/api/v1/instance")
        return text_or_none(as_dict(as_dict(data).get("urls")).get("streaming_api"))


def _is_event_stream(response: httpx.Response) -> bool:
    kind = str(response.headers.get("content-type", ""))
    return kind.partition(";")[0].strip().lower() == "text/event-stream"


def _wakes(data: str) -> bool:
    """Whether a notification event is one the poll reads (a mention or an edit); a payload that
    is not JSON wakes the poll anyway: asking costs one request, missing costs a mention."""
    try:
        payload = json.loads(data)
    except ValueError:
        return True
    kind = payload.get("type") if isinstance(payload, dict) else None
    return not isinstance(kind, str) or kind in WAKING_TYPES


def _http_url(url: str) -> str | None:
    """The streaming URL for server-sent events: wss:// and ws:// become https:// and http://."""
    parts = urlsplit(url.strip())
    scheme = {"wss": "https", "ws": "http", "https": "https", "http": "http"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        return None
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _may_receive_token(target: str, base: str) -> bool:
    """A streaming host of the instance's own domain, over https: streaming.social.example for
    social.example, or streaming.example.com for social.example.com."""
    target_parts, base_parts = urlsplit(target), urlsplit(base)
    host, own = (target_parts.hostname or "").lower(), (base_parts.hostname or "").lower()
    if target_parts.scheme != "https" or not host or not own:
        return False
    if host == own or host.endswith("." + own):
        return True
    parent, own_parent = host.partition(".")[2], own.partition(".")[2]
    return own_parent.count(".") >= 1 and parent == own_parent


__all__ = ["NotificationStream", "backoff"]
