"""MessageBus long polls: a client's channels and positions in, the messages after them out."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from ecoinbox.demo.discourse.records import (
    ApiError,
)
from ecoinbox.demo.discourse.state import DiscourseState
from ecoinbox.demo.discourse.wire import bus_request


class MessageBusRoutes(DiscourseState):
    # -- MessageBus --------------------------------------------------------------------------

    async def _message_bus_poll(self, request: web.Request) -> web.Response:
        if not self.message_bus:
            raise ApiError.not_found()
        user = self._caller(request).user
        wanted = await bus_request(request)
        own = f"/notification/{user.id}" if user is not None else None
        deadline = asyncio.get_running_loop().time() + self.long_poll
        while True:
            answer = self._bus_answer(wanted, own)
            left = deadline - asyncio.get_running_loop().time()
            if answer or left <= 0 or request.query.get("dlp") == "t":
                self.bus_polls += 1
                return web.json_response(answer)
            waiter = (asyncio.get_running_loop(), asyncio.Event())
            self._bus_waiters.append(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(left, 1.0)):  # 1 s steps: a stopping server ends it
                        await waiter[1].wait()
            finally:
                self._bus_waiters.remove(waiter)

    def _bus_answer(self, wanted: dict[str, int], own: str | None) -> list[dict[str, Any]]:
        """The messages past each last id asked; a status for channels asked from -1 or from
        beyond their end. Only the caller's own notification channel has messages for them."""
        answer: list[dict[str, Any]] = []
        status: dict[str, int] = {}
        for channel, last in wanted.items():
            backlog = self._bus.get(channel, []) if channel == own else []
            end = backlog[-1]["message_id"] if backlog else 0
            if last < 0 or last > end:
                status[channel] = end
            else:
                answer.extend(m for m in backlog if m["message_id"] > last)
        if status:
            answer.append({"global_id": -1, "message_id": -1, "channel": "/__status", "data": status})
        return answer
