"""Mastodon's streaming API: the user stream's notifications as server-sent events, heartbeats."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ecoinbox.demo.mastodon.records import (
    ApiError,
)
from ecoinbox.demo.mastodon.state import MastodonState
from ecoinbox.demo.mastodon.wire import (
    hang_up,
)


class StreamingRoutes(MastodonState):
    # -- streaming ---------------------------------------------------------------------------

    async def stop(self) -> None:
        for loop, queue in list(self._subscribers):  # streams end before the listener closes
            loop.call_soon_threadsafe(queue.put_nowait, None)
        await super().stop()

    async def _streaming_health(self, request: web.Request) -> web.Response:
        if not self.streaming:
            raise ApiError(404, "Not Found")
        return web.Response(text="OK")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """The user's notifications as server-sent events, until the client or the server goes."""
        if not self.streaming:
            raise ApiError(404, "Not Found")
        if request.path == "/api/v1/streaming" and request.query.get("stream") not in (
            "user",
            "user:notification",
        ):
            raise ApiError(404, "Not Found")  # discovery: "Not Found" means stream from this host
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        await response.write(b":)\n")  # what Mastodon's streaming server writes first
        subscriber: tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]] = (
            asyncio.get_running_loop(), asyncio.Queue()
        )  # fmt: skip
        self._subscribers.append(subscriber)
        sent = 0
        try:
            while True:
                try:
                    async with asyncio.timeout(self.heartbeat):
                        frame = await subscriber[1].get()
                except TimeoutError:
                    self.heartbeats += 1
                    await response.write(b":thump\n")
                    continue
                if frame is None:  # the server stops
                    break
                await response.write(frame.encode())
                self.streamed.append(frame.partition("\n")[0])
                sent += 1
                if self.drop_stream_after and sent >= self.drop_stream_after:
                    hang_up(request)
                    break
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        finally:
            self._subscribers.remove(subscriber)
        return response

    @property
    def stream_count(self) -> int:
        """How many streams are open now."""
        return len(self._subscribers)
