"""Starting the inbox: its tokens, its store (read-only when it must be), its engine and the app.

Shared by the command line (`ecoinbox`) and the demo (`ecoinbox demo`), which opens the same inbox
on its local servers. Heavy imports (Textual, the channels) happen inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

from ecoinbox.config import Settings
from ecoinbox.sanitize import sanitize
from ecoinbox.secrets import Secret, SecretError
from ecoinbox.store import SQLiteStore, StoreError

if TYPE_CHECKING:
    from ecoinbox.engine import Engine
    from ecoinbox.screening.inbound import Screener
    from ecoinbox.tui.app import EcoInboxApp

log = logging.getLogger(__name__)

ENGINE_BUILD_WAIT_S = 10.0  # at quit, for an engine still being built (its clients are closed)


class CliError(Exception):
    """A failure to report in one or a few lines, then exit non-zero."""


class InboxCrashed(Exception):
    """The inbox stopped on an error of its own; the message is what Textual wrote about it."""


def resolve_tokens(settings: Settings) -> dict[str, Secret]:
    """Every channel's token, before any screen appears (a locked keyring must not hang the TUI)."""
    from ecoinbox.secrets import resolve_token_sync

    tokens, problems = {}, []
    for channel in settings.channels:
        try:
            tokens[channel.name] = resolve_token_sync(channel)
        except SecretError as exc:
            problems.append(str(exc))
    if problems:
        raise CliError("\n\n".join(problems))
    return tokens


async def open_inbox(settings: Settings, tokens: dict[str, Secret], notices: Sequence[str] = ()) -> int:
    """The inbox on `settings`; `notices` are said on its screen once it shows. Its rows come from
    the store alone: the engine (every channel's client) is built and started after them."""
    from ecoinbox.tui.app import EcoInboxApp

    store = await open_inbox_store(settings, read_only_ok=True, screening=False)  # it comes after the rows
    store.expect_screener()  # the spam marks made before it comes teach it once it does
    try:
        if store.read_only_reason is not None:
            # Nothing to poll into and nothing to send from: the inbox only reads, under a banner.
            await run_app(EcoInboxApp(settings, store, None, notices=notices))
            return 0
        app = EcoInboxApp(settings, store, None, notices=notices, engine_coming=True)
        later = EngineStart(settings, tokens, store)
        starting = asyncio.create_task(later.run(app), name="engine start")
        try:
            await run_app(app)
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await later.stop()
    finally:
        await store.close()
    return 0


class EngineStart:
    """The inbox's engine, once its first rows are on screen: built in a thread (the channels'
    imports, their clients), attached to the app, then started once the store's file is sound."""

    def __init__(self, settings: Settings, tokens: dict[str, Secret], store: SQLiteStore) -> None:
        self.settings, self.tokens, self.store = settings, tokens, store
        self.building: asyncio.Future[Engine] | None = None

    async def run(self, app: EcoInboxApp) -> bool:
        """True once the engine started (polling and sending, or standing by for another inbox)."""
        await app.rows_shown.wait()
        self.building = asyncio.ensure_future(
            asyncio.to_thread(build_engine, self.settings, self.tokens, self.store)
        )
        try:
            engine = await asyncio.shield(self.building)  # a quit meanwhile: `stop` closes what it built
        except Exception as exc:
            log.exception("the engine could not be built")
            # In the app's own turn, as for a key. A channel's error is written for the manager,
            # without its token; any other's words stay in the log (they might quote one).
            from ecoinbox.channels.base import ChannelError

            reason = sanitize(str(exc)) if isinstance(exc, ChannelError) else type(exc).__name__
            app.call_later(app.engine_failed, reason)
            return False
        app.call_later(app.attach_engine, engine)
        return await check_then_start(self.store, engine, self.settings)

    async def stop(self) -> None:
        """Stop the engine, waiting for it first if it is still being built."""
        if self.building is None:
            return
        try:
            engine = await asyncio.wait_for(asyncio.shield(self.building), ENGINE_BUILD_WAIT_S)
        except TimeoutError:
            log.warning("the engine was still being built at quit: its channels were not closed")
            return
        except Exception:  # noqa: BLE001 - it failed to build: logged and said when it did
            return
        await engine.stop()


async def run_app(app: EcoInboxApp) -> None:
    import signal

    # A dropped SSH connection (SIGHUP) or a polite kill (SIGTERM) quits as `q` does: the boxes
    # still open are saved as drafts first (typing saves them anyway within half a second).
    loop = asyncio.get_running_loop()
    hangups = (signal.SIGHUP, signal.SIGTERM)
    for signum in hangups:
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(app.hang_up()))
    try:
        await app.run_async()
    finally:
        for signum in hangups:
            loop.remove_signal_handler(signum)
    if app.farewell:  # the drafts it kept: the manager sees it once the terminal is theirs again
        with contextlib.suppress(OSError):  # no terminal any more (the connection dropped)
            print(app.farewell, file=sys.stderr)
    report = app.crash_report()
    if report:
        # Platform text may be quoted in it: stripped of escapes before it reaches a log file.
        raise InboxCrashed(sanitize(report))


async def check_then_start(store: SQLiteStore, engine: Engine, settings: Settings | None = None) -> bool:
    """Check the store's file, attach spam and priority screening (`settings`'), then start polling
    and sending; True if the engine started.

    The quick check reads the whole file (0.1-0.2 s per 100 MB cached, seconds from a cold disk:
    too slow to make every start wait at a million messages), so the inbox shows first and this
    runs beside it; nothing is polled or sent, nothing written by the engine, until the file
    proves sound. A damaged one turns the inbox read-only (the store tells the screens).
    """
    from ecoinbox.background_check import check_store_file
    from ecoinbox.store import StoreDamaged

    # Built while the file is checked (both come before the first poll), attached once it is sound.
    screener = None if settings is None else asyncio.ensure_future(asyncio.to_thread(new_screener, settings))
    try:
        try:
            problems = await check_store_file(store.path)  # at the lowest priority: keys come first
        except StoreError as exc:  # e.g. the disk cannot be read: do not write to it either
            store.refuse_writes(str(exc))
            return False
        except Exception:  # a bug in the check must not leave the inbox without polling or sending
            log.exception("the store check failed; starting without it")
            problems = []
        if problems:
            store.refuse_writes(str(StoreDamaged(store.path, "; ".join(problems[:3]))))
            return False
        if screener is not None:
            await attach_screener_in_thread(store, screener)
    finally:
        if screener is not None and not screener.cancel() and not screener.cancelled():
            screener.exception()  # built, or failed, for a store found unsound: read, then dropped
    await engine.start()
    return True


def build_engine(settings: Settings, tokens: dict[str, Secret], store: SQLiteStore) -> Engine:
    """The engine for `settings`: one channel per config entry, with its schedule and token source."""
    from ecoinbox.channels import build_channel
    from ecoinbox.engine import Engine
    from ecoinbox.secrets import token_source

    return Engine(
        store,
        {c.name: build_channel(c, tokens[c.name], settings.brand) for c in settings.channels},
        poll_intervals={c.name: c.poll_interval for c in settings.channels},
        retry_max=settings.engine.outbox_retry_max,
        token_sources={c.name: token_source(c) for c in settings.channels},
        purge_deleted_after=settings.store.purge_deleted_after,
    )


async def open_inbox_store(
    settings: Settings, *, read_only_ok: bool = False, screening: bool = True
) -> SQLiteStore:
    """The store; with `read_only_ok`, a damaged or unwritable one is opened read-only instead,
    with the reason as its `read_only_reason`, so the manager can still read it. Without
    `screening` (commands that only read: list, show), the screener is neither imported nor built."""
    from ecoinbox.store import StoreDamaged, StoreNotWritable, open_store

    try:
        store = await open_store(settings.data_path)
        if screening:
            await attach_screener(store, settings)
        return store
    except (StoreDamaged, StoreNotWritable) as exc:
        if not read_only_ok:
            raise
        problem = exc
    try:
        store = await open_store(settings.data_path, read_only=True)
    except StoreError:
        raise problem from None  # its words say what to do; "cannot read either" adds nothing
    store.refuse_writes(str(problem))
    return store


async def open_sound_store(settings: Settings) -> SQLiteStore:
    """The store, once SQLite's quick check has read it through: the headless poll has no screen
    to show a damaged store read-only, so it refuses to write into one, as the inbox does."""
    from ecoinbox.store import StoreDamaged

    store = await open_inbox_store(settings)
    try:
        problems = await store.check_integrity()
    except BaseException:
        await store.close()
        raise
    if problems:
        await store.close()
        raise StoreDamaged(store.path, "; ".join(" ".join(problem.split()) for problem in problems[:3]))
    return store


async def attach_screener(store: SQLiteStore, settings: Settings) -> None:
    """Spam, priority and the config's rules judge every new message the store takes in."""
    from ecoinbox.screening.inbound import Screener

    try:
        await store.attach_screener(Screener.from_settings(settings))
    except BaseException:
        await store.close()
        raise


async def attach_screener_in_thread(store: SQLiteStore, building: Awaitable[Screener]) -> None:
    """`attach_screener` once the inbox shows: its imports (0.1-0.5 s) in a thread, not before its rows."""
    try:
        await store.attach_screener(await building)
    except Exception:  # polling without screening beats no polling: new messages stay in Inbox
        log.exception("spam and priority screening could not start; polling without it")
        await store.attach_screener(None)  # and no lessons wait for it any more


def new_screener(settings: Settings) -> Screener:
    from ecoinbox.screening.inbound import Screener

    return Screener.from_settings(settings)
