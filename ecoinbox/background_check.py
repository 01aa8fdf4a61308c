"""The store's quick check at the lowest CPU priority, beside the inbox.

SQLite's quick check reads the whole file: about a second of CPU at a million messages. Its
thread lets go of the GIL, but it still takes one of the machine's cores from the keys: measured
at 1M on 2 busy cores, a `j` in the first seconds took up to 230 ms to its last byte against 160
ms without the check. Here the check runs in a thread of its own at nice 19 (Linux gives each
thread its own nice value, and SQLite's worker thread, started from it, inherits it): the kernel
runs it only when the inbox does not need the core. The same check (`check_integrity`), its
problems or its error in the same words, started as soon as before (a process of its own took
half a second to start, and the engine waits for the verdict).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

from ecoinbox.store import SQLiteStore

LOWEST_PRIORITY = 19


def lower_this_thread() -> None:
    """This thread (and the threads it starts) at the lowest CPU priority, where the system allows."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: it runs at the inbox's priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


async def check_store_file(path: Path) -> list[str]:
    """SQLite's quick check of the store at `path`, at the lowest priority: what is wrong with the
    file, [] when it is sound. Raises what `SQLiteStore.check_integrity` raises (StoreTooNew, a
    disk that cannot be read). Cancelling it interrupts the check."""
    loop = asyncio.get_running_loop()
    verdict: asyncio.Future[list[str]] = loop.create_future()
    started = threading.Event()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[list[str]]]] = []

    def settle(result: list[str] | None, error: BaseException | None) -> None:
        if verdict.done():
            return
        if error is None:
            verdict.set_result(result or [])
        else:
            verdict.set_exception(error)

    async def check() -> list[str]:
        task = asyncio.current_task()
        assert task is not None
        running.append((asyncio.get_running_loop(), task))
        started.set()
        try:
            return await SQLiteStore(path).check_integrity()
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # SQLite's worker thread posts its last answers into this loop
            raise

    def in_thread() -> None:
        lower_this_thread()
        try:
            result = asyncio.run(check())
        except BaseException as exc:  # noqa: BLE001 (handed to the awaiting task, in the inbox's loop)
            started.set()
            with contextlib.suppress(RuntimeError):  # the inbox's loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, None)

    # A daemon: a check still reading a big file never holds up the manager's exit.
    threading.Thread(target=in_thread, name="store check", daemon=True).start()
    try:
        return await verdict
    except asyncio.CancelledError:
        started.wait(5)
        for checker_loop, task in running:
            with contextlib.suppress(RuntimeError):
                checker_loop.call_soon_threadsafe(task.cancel)  # check_integrity interrupts SQLite
        raise
