"""`ecoinbox demo`: the real product on local servers that speak the platforms' APIs.

It starts the servers on 127.0.0.1, writes a config and a store in a temporary directory, keeps
new mentions arriving, and opens the inbox on them. Replies really go to the local servers and
come back into the threads. `ecoinbox demo` runs the servers in a child process started first
(`ecoinbox.demo.servers_process`), so that they and the inbox start on two cores; with
`--servers-only` they run in this process.

With `--messages N` the store starts as a copy of a generated store of N messages (a year of a
brand's traffic, see `ecoinbox.demo.generate`), made once in the cache directory and reused;
`--store PATH` starts from one made by `bench/generate.py`. The servers' own conversations
arrive on top of it, as new traffic does.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Self, TextIO, TypeVar

import platformdirs

from ecoinbox.demo.clone import Cloned, SpareMaker, clone_store
from ecoinbox.demo.site import DemoContext, DemoSite, SiteUnavailable, find_sites, site_modules, toml_string

if TYPE_CHECKING:
    from ecoinbox.config import Settings
    from ecoinbox.demo.servers_process import ServersProcess
    from ecoinbox.secrets import Secret

log = logging.getLogger(__name__)
T = TypeVar("T")


def demo_config(sites: Sequence[DemoSite], data_dir: Path) -> str:
    """The TOML the demo runs on: the same parser and code paths as a real setup."""
    handles = ", ".join(toml_string(handle) for site in sites for handle in site.handles)
    channels = "".join(site.channel_toml() for site in sites)
    return f"""\
# Written by `ecoinbox demo`: local servers that speak the platforms' APIs, on loopback.
# The demo servers' tokens are public constants; a command prints them, so no file holds one.
[brand]
name = "Acme"
handles = [{handles}]
keywords = ["acme"]

[store]
path = {toml_string(str(data_dir / "ecoinbox.db"))}

[team]
me = "Sam"
members = ["Alex", "Kim"]

[replies]
agent = "Sam from Acme"
{channels}{DEMO_VIEWS}{DEMO_CANNED}{DEMO_RULES}"""


# Saved searches: tabs after Inbox, Done and Spam.
DEMO_VIEWS = """
[[views]]
name = "Orders"
query = "order* -is:done"

[[views]]
name = "Français"
query = "lang:fr"
"""


# Screening rules: what a manager writes once so the inbox sorts itself (`ecoinbox rules` lists them).
# Besides them, the spam filter sends the seeded spam to Spam with its reasons, and complaints
# float up with a "!" (the thread header says why).
DEMO_RULES = """
[[rules]]
name = "refunds"
[rules.match]
words = ["refund", "refunded", "remboursement", "money back"]
[rules.actions]
tag = "billing"
canned = "refund"

[[rules]]
name = "no-followback"
[rules.match]
words = ["follow for follow", "follow back", "f4f"]
[rules.actions]
spam = true
"""


# Canned replies pointing at the demo forum's help topics (their ids never change).
DEMO_CANNED = """
[[canned]]
name = "refund"
title = "Refunds and returns"
text = "Sorry about this, {author_name}. Here is how refunds work, and the fastest way to get one: {link}"
link = "{forum_url}/t/refunds-and-returns-policy/3"
keywords = ["refund", "money back", "never arrived", "missing", "damaged", "return"]
tags = ["billing", "orders"]
[canned.variants]
fr = "Désolés, {author_name}. Voici comment fonctionnent les remboursements, et le plus rapide pour en obtenir un : {forum_url}/t/remboursements-et-retours/5"

[[canned]]
name = "track-order"
title = "Track your order"
text = "Hi {author_name}, you can follow your parcel step by step here: {link}. If it is still stuck tomorrow, tell us!"
link = "{forum_url}/t/how-to-track-your-order/1"
keywords = ["order", "parcel", "package", "delivery", "tracking", "shipping", "livraison", "commande", "colis"]
tags = ["orders"]
[canned.variants]
fr = "Bonjour {author_name}, vous pouvez suivre votre colis étape par étape ici : {forum_url}/t/suivre-votre-commande/4. S'il est encore bloqué demain, dites-le-nous !"

[[canned]]
name = "export-csv"
title = "Export your data to CSV"
text = "Good question, {author_name}! Exporting to CSV takes a minute, the steps are here: {link}"
link = "{forum_url}/t/export-your-data-to-csv/2"
keywords = ["export", "csv", "download", "data", "api", "exporter"]
tags = ["how-to"]

[[canned]]
name = "app-crash"
title = "Known issue: app crash on settings"
text = "Thanks for the report, {author_name}. It is a known issue, the fix and a workaround are here: {link}"
link = "{forum_url}/t/known-issue-app-crash-on-settings-screen/6"
keywords = ["crash", "crashes", "bug", "settings", "freeze", "plante", "appli"]
tags = ["app"]
[canned.variants]
fr = "Merci pour le signalement, {author_name}. C'est un problème connu, le correctif et une solution de contournement sont ici : {link}"

[[canned]]
name = "forum-topic"
title = "We opened a forum topic for you"
text = "Thanks {author_name}! I've opened a topic on our forum for this, so our team and the community can help you there: {topic_url}"
redirect = false
[canned.variants]
fr = "Merci {author_name} ! J'ai ouvert un sujet sur notre forum pour cela, l'équipe et la communauté pourront vous y aider : {topic_url}"

[[canned]]
name = "order-number"
title = "Ask for the order number"
text = "Could you send us your order number by DM? We will look at it right away."
tags = ["orders"]
[canned.variants]
fr = "Pourriez-vous nous envoyer votre numéro de commande en message privé ? Nous regardons tout de suite."
"""


DEMO_SNOOZE_S = 60
"""The demo snoozes one conversation after its first poll for this long, to show it waking."""
SNOOZE_WAIT_S = 120
"""Seconds the demo waits for a first poll to store something it can snooze."""
SNOOZE_AFTER_S = 5.0
"""The snooze looks at the store this long after the start: not while the inbox's first rows,
store check and first polls need the CPU (its first look imports the store's modules)."""


class Demo:
    """The demo servers, their traffic, and the config that points at them: one site per
    platform that has a demo (`ecoinbox.demo.site`), in the registry's order."""

    def __init__(self, *, seed: int = 1, data_dir: Path | None = None, traffic: bool = True,
                 tick_every: float = 5.0, generated: Path | None = None,
                 spares: Path | None = None) -> None:  # fmt: skip
        self.seed = seed
        self.generated = generated
        self.traffic = traffic
        self.tick_every = tick_every
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="ecoinbox-demo-"))
        self.context = DemoContext(seed, sys.executable, generated=generated is not None)
        self._sites: list[DemoSite] | None = None
        self.left_out: list[str] = []
        """Why a site could not run here (e.g. no Dovecot), one line each."""
        self.config_path = self.data_dir / "config.toml"
        self._ticker: asyncio.Task[None] | None = None
        self._spare: asyncio.Task[Path | None] | None = None
        self._spare_maker: SpareMaker | None = None
        self.spares = spares or demo_cache() / "spares"
        self.cloned: Cloned | None = None
        self._snoozer: asyncio.Task[int | None] | None = None

    @property
    def sites(self) -> list[DemoSite]:
        """Every site, in the registry's order (made at the first look: each imports its server)."""
        if self._sites is None:
            self._sites = find_sites(self.context)
        return self._sites

    @sites.setter
    def sites(self, sites: list[DemoSite]) -> None:
        self._sites = sites

    def site(self, name: str) -> DemoSite:
        """The site whose channel is `name` (KeyError if none)."""
        found = {site.name: site for site in self.sites}
        return found[name]

    def server(self, name: str, kind: type[T]) -> T:
        """The local server of the site `name`, as `kind` (for tests that look inside it)."""
        server = getattr(self.site(name), "server", None)
        if not isinstance(server, kind):
            raise TypeError(f"the {name} site's server is {type(server).__name__}, not {kind.__name__}")
        return server

    async def start(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = self.data_dir / "ecoinbox.db"
        # Side by side: Dovecot's start (a process, half a second) used to hold up everything else.
        cloning = asyncio.create_task(self._clone(store), name="demo-store")
        # Every start ends before any failure is raised: then nothing is left running.
        starting = await self._start_sites()
        *started, cloned = await asyncio.gather(*starting, cloning, return_exceptions=True)
        for site, outcome in zip(self.sites, started, strict=True):
            if isinstance(outcome, SiteUnavailable):
                self.left_out.append(f"The {site.name} channel is left out: {outcome}.")
        self.sites = [
            s
            for s, outcome in zip(self.sites, started, strict=True)
            if not isinstance(outcome, SiteUnavailable)
        ]
        for outcome in (*started, cloned):
            if isinstance(outcome, BaseException) and not isinstance(outcome, SiteUnavailable):
                await self.stop()
                raise outcome
        by_name = {site.name: site for site in self.sites}
        for site in self.sites:
            site.meet(by_name)
        self.config_path.write_text(demo_config(self.sites, self.data_dir), encoding="utf-8")
        if self.traffic:
            self._ticker = asyncio.create_task(self._keep_talking(), name="demo-traffic")
            self._snoozer = asyncio.create_task(snooze_later(store), name="demo-snooze")
        return self

    async def _start_sites(self) -> list[asyncio.Future[None]]:
        """Each site's start, under way, in the registry's order. Sites not made yet are made here,
        a module at a time, those that start slowly (`STARTS_FIRST`: Dovecot, a process that takes
        a second to listen) first: they start while the others' servers are imported."""
        if self._sites is not None:
            return [asyncio.ensure_future(site.start()) for site in self._sites]
        modules = site_modules()
        order = sorted(modules, key=lambda module: not getattr(module, "STARTS_FIRST", False))
        made: dict[str, list[tuple[DemoSite, asyncio.Future[None]]]] = {}
        try:
            for module in order:
                # In a thread, so that the loop serves the sites already starting (Dovecot's seeding)
                await asyncio.to_thread(import_server, module)
                sites = module.sites(self.context)
                made[module.__name__] = [(site, asyncio.ensure_future(site.start())) for site in sites]
                await asyncio.sleep(0)  # its start runs up to its first wait (Dovecot's process spawned)
        except BaseException:  # a module that cannot load: stop what started before raising
            pairs = [pair for each in made.values() for pair in each]
            await asyncio.gather(*(future for _, future in pairs), return_exceptions=True)
            for site, _ in pairs:
                with contextlib.suppress(Exception):
                    await site.stop()
            raise
        pairs = [pair for module in modules for pair in made[module.__name__]]
        self._sites = [site for site, _ in pairs]
        return [future for _, future in pairs]

    async def _clone(self, store: Path) -> None:
        """The demo's own store from the generated one, which stays as it was made for the next demo."""
        if self.generated is None or store.exists():
            return
        self.cloned = await asyncio.to_thread(clone_store, self.generated, store, self.spares)
        log.info("the demo's store: %s of %s", self.cloned.value, self.generated)
        os.chmod(store, 0o600)
        if self.cloned is not Cloned.REFLINK:  # the next demo takes a spare instead of copying
            self._spare_maker = SpareMaker(self.generated, self.spares)
            self._spare = asyncio.create_task(self._spare_maker.run(), name="demo-spare")

    async def stop(self) -> None:
        if self._spare is not None and not (self._spare_maker and self._spare_maker.copying):
            self._spare.cancel()  # a spare under way is finished: the next demo starts at once
        for task in (self._ticker, self._snoozer, self._spare):
            if task is not None:
                if task is not self._spare:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for site in self.sites:
            await site.stop()

    def cleanup(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _keep_talking(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self.tick_every)
            ticks += 1
            for site in self.sites:
                every, phase = site.every
                if ticks % every == phase % every:
                    try:
                        await site.tick()
                    except Exception:  # one server's hiccup never stops the others' traffic
                        log.exception("the demo's %s traffic failed", site.name)


def import_server(module: ModuleType) -> None:
    """Import the server module beside a site module (`<kind>/server.py`, where there is one)."""
    package = getattr(module, "__package__", None)
    if package and importlib.util.find_spec(f"{package}.server") is not None:
        importlib.import_module(f"{package}.server")


async def snooze_later(path: Path) -> int | None:
    await asyncio.sleep(SNOOZE_AFTER_S)
    return await snooze_one(path)


async def snooze_one(path: Path, *, attempts: int = SNOOZE_WAIT_S) -> int | None:
    """Once the first poll stored conversations, snooze the oldest one in the Inbox for a
    minute: the demo shows it under Snoozed, then waking back into the Inbox by itself ("woke
    from snooze"). Through the store, as a second ecoinbox on the same file would. Its id."""
    from ecoinbox.model import State, View
    from ecoinbox.store import StoreError, open_store

    with contextlib.suppress(StoreError):
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(1)
            if not path.exists():
                continue
            store = await open_store(path)
            try:
                rows = await store.conversation_page_last(View.INBOX, limit=1)
                if rows:
                    wake = store.now() + timedelta(seconds=DEMO_SNOOZE_S)
                    await store.apply_triage(
                        [rows[0].id], state=State.SNOOZED, snoozed_until=wake, actor="demo"
                    )
                    return rows[0].id
            finally:
                await store.close()
    return None


def demo_cache() -> Path:
    """Where generated stores and their spare copies are kept between demos."""
    return platformdirs.user_cache_path("ecoinbox", appauthor=False) / "demo"


def generated_store(
    messages: int, seed: int = 1, *, cache: Path | None = None, out: TextIO | None = None
) -> Path:
    """The generated store of `messages` messages in the cache directory, made the first time
    (with a progress line on `out`, stderr by default: 2-3 minutes for a million) and reused after."""
    from ecoinbox.demo.generate import GENERATOR_VERSION, manifest
    from ecoinbox.demo.ram_build import build_store

    out = out or sys.stderr
    folder = cache or demo_cache()
    path = folder / f"{messages}-seed{seed}-v{GENERATOR_VERSION}.db"
    if path.exists() and manifest(path).exists():
        upgrade_generated(path, out)
        return path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.stem + ".partial.db")
    for leftover in (partial, manifest(partial), Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)  # an interrupted earlier try
    started = time.monotonic()
    shown = -1

    def progress(done: int, total: int) -> None:
        nonlocal shown
        percent = done * 100 // total
        if percent != shown:
            shown = percent
            print(f"\rGenerating a demo store of {total:,} messages in {folder}: {percent}% "
                  f"({time.monotonic() - started:.0f} s)", end="", file=out, flush=True)  # fmt: skip

    # The newest day is today, so the inbox reads "2 min ago", not "last year". Built in RAM
    # where there is room, then copied once: in place, SQLite would write 28 times its size.
    asyncio.run(build_store(partial, messages, seed, end=datetime.now(UTC), progress=progress))
    manifest(partial).replace(manifest(path))
    partial.replace(path)
    # Where the filesystem has no clone, the first demo takes this copy instead of making one.
    SpareMaker(path, folder / "spares").make_now()
    print(f"\nDone in {time.monotonic() - started:.0f} s; the next demo starts at once.", file=out,
          flush=True)  # fmt: skip
    return path


def upgrade_generated(path: Path, out: TextIO) -> None:
    """A generated store written by an older ecoinbox gets this one's migrations once, here,
    instead of in every demo's copy of it (at a million messages a migration can take seconds);
    the spare copy is made again from it."""
    from ecoinbox.store import needs_upgrade, open_store

    if not needs_upgrade(path):
        return
    print(f"Upgrading the demo store {path.name} to this version (once)…", file=out, flush=True)

    async def upgrade() -> None:
        await (await open_store(path)).close()

    asyncio.run(upgrade())
    SpareMaker(path, path.parent / "spares").make_now()


def run_demo(
    *,
    seed: int,
    servers_only: bool,
    data_dir: Path | None,
    traffic: bool = True,
    generated: Path | None = None,
    apart: bool = False,
) -> int:
    """The demo; with `apart` (what `ecoinbox demo` does) its servers run in a child process."""
    if apart and not servers_only:
        return asyncio.run(_run_apart(seed=seed, data_dir=data_dir, traffic=traffic, generated=generated))
    return asyncio.run(_run_demo(seed=seed, servers_only=servers_only, data_dir=data_dir, traffic=traffic,
                                 generated=generated))  # fmt: skip


async def _run_apart(*, seed: int, data_dir: Path | None, traffic: bool, generated: Path | None) -> int:
    """The inbox here, the servers in a child process started first: both cores work on the start."""
    from ecoinbox.demo.servers_process import ServersProcess, serve_argv
    from ecoinbox.logs import setup_logging

    own_dir = data_dir is None
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="ecoinbox-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = serve_argv(seed=seed, data_dir=data_dir, traffic=traffic, generated=generated)
    servers = await ServersProcess.start(argv)
    try:
        setup_logging(data_dir / "ecoinbox.log")
        log.info("the demo's servers run in process %d", servers.process.pid)
        return await _inbox_beside(servers, warm_early=generated is None)
    finally:
        await servers.stop()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


async def _inbox_beside(servers: ServersProcess, *, warm_early: bool) -> int:
    """The inbox on the config the servers' process writes, its modules loaded meanwhile."""
    from ecoinbox.app_start import CliError
    from ecoinbox.app_start import open_inbox as _inbox
    from ecoinbox.config import load_config
    from ecoinbox.demo.servers_process import ServersFailed
    from ecoinbox.engine.live import warm_up

    loading = asyncio.create_task(asyncio.to_thread(load_inbox_modules))
    warming = asyncio.create_task(warm_up(), name="demo-language-model") if warm_early else None
    try:
        try:
            ready = await servers.ready()
        except ServersFailed as exc:
            raise CliError(str(exc)) from None
        settings = load_config(ready.config_path)
        tokens = await demo_tokens(settings)
        await loading
        return await _inbox(settings, tokens, notices=ready.left_out)
    finally:
        await asyncio.gather(loading, return_exceptions=True)
        if warming is not None:
            await asyncio.gather(warming, return_exceptions=True)


async def serve(*, seed: int, data_dir: Path, traffic: bool, generated: Path | None) -> int:
    """The servers' process of `ecoinbox demo` (`python -m ecoinbox.demo serve`): start them, say
    where the config is on stdout, and stop them when stdin closes or a signal comes."""
    import signal

    from ecoinbox.demo.servers_process import ready_line
    from ecoinbox.logs import setup_logging

    setup_logging(data_dir / "ecoinbox.log")
    loop, stopping = asyncio.get_running_loop(), asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # a closed terminal reaches both
        loop.add_signal_handler(signum, stopping.set)

    def read_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # the inbox closed it, or died
            loop.remove_reader(sys.stdin.fileno())
            stopping.set()

    loop.add_reader(sys.stdin.fileno(), read_stdin)
    demo = Demo(seed=seed, data_dir=data_dir, traffic=traffic, generated=generated)
    try:
        await demo.start()
    except Exception as exc:
        log.exception("the demo's servers could not start")
        print(ready_line(None, [], error=str(exc) or type(exc).__name__), flush=True)
        return 1
    try:
        print(ready_line(demo.config_path, demo.left_out), flush=True)
        await stopping.wait()
    finally:
        await demo.stop()
    return 0


async def _run_demo(
    *,
    seed: int,
    servers_only: bool,
    data_dir: Path | None,
    traffic: bool,
    generated: Path | None = None,
) -> int:
    from ecoinbox.app_start import open_inbox as _inbox
    from ecoinbox.config import load_config
    from ecoinbox.engine.live import warm_up
    from ecoinbox.logs import setup_logging

    demo = Demo(seed=seed, data_dir=data_dir, traffic=traffic, generated=generated)
    setup_logging(demo.data_dir / "ecoinbox.log")
    # The inbox's modules load while the servers start (Dovecot is a process: it waits, we don't).
    loading = None if servers_only else asyncio.create_task(asyncio.to_thread(load_inbox_modules))
    # On an empty store the first rows wait for the first poll, whose messages need the language
    # model (1.6-2 s): it loads beside the start. A generated store has rows at once: not before them.
    warm_early = not servers_only and generated is None
    warming = asyncio.create_task(warm_up(), name="demo-language-model") if warm_early else None
    try:
        async with demo:
            left_out = demo.left_out
            if servers_only:
                for notice in left_out:
                    print(notice, file=sys.stderr, flush=True)
                for site in demo.sites:
                    for label, url in site.addresses():
                        print(f"{label + ':':<10}{url}", flush=True)
                print(f"config:   {demo.config_path}", flush=True)
                print(f"open the inbox with: ecoinbox --config {demo.config_path}", flush=True)
                print("Ctrl+C stops the servers.", flush=True)
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
                return 0
            settings = load_config(demo.config_path)
            tokens = await demo_tokens(settings)
            if loading is not None:
                await loading
            # Said inside the inbox: a line printed before it would be hidden behind the screen.
            return await _inbox(settings, tokens, notices=left_out)
    finally:
        if warming is not None:
            await asyncio.gather(warming, return_exceptions=True)  # long done, unless quit at once
        if servers_only and await store_in_use(demo.data_dir / "ecoinbox.db"):
            # An inbox opened on the printed config still works on this store: never pull it away.
            print(f"The demo's store stays in {demo.data_dir}: an inbox is still open on it. "
                  f"Delete that directory once it is closed.", file=sys.stderr, flush=True)  # fmt: skip
        else:
            demo.cleanup()


INBOX_MODULES = ("ecoinbox.engine", "ecoinbox.channels", "ecoinbox.secrets", "ecoinbox.tui.app")


def load_inbox_modules() -> None:
    """Import what the inbox needs on its way to the first frame (Textual, screens, engine, and
    each platform's unit and channel: reading the config and building the channels came after
    the servers' start)."""
    from ecoinbox.channels.registry import UNIT_MODULES

    for name in INBOX_MODULES:
        importlib.import_module(name)
    site_modules()  # the public tokens' modules
    for kind, unit in UNIT_MODULES.items():
        importlib.import_module(unit)  # what reading the config's [[channels]] needs
        channel = f"ecoinbox.channels.{kind}.channel"
        if importlib.util.find_spec(channel) is not None:
            importlib.import_module(channel)


async def demo_tokens(settings: Settings) -> dict[str, Secret]:
    """Every channel's token, its token command run beside the others' (each starts a Python:
    one after another they took a third of the demo's start)."""
    from ecoinbox.app_start import CliError
    from ecoinbox.demo.site import all_tokens, token_command
    from ecoinbox.secrets import Secret, SecretError, resolve_token_sync

    channels = settings.channels
    # The demo's own token command prints a public constant of this process's sites: it is read
    # here, where starting a Python for each (a fifth of the demo's start) would print the same.
    public, python = all_tokens(), sys.executable
    own = {c.name for c in channels if c.name in public and c.token_cmd == token_command(python, c.name)}
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=max(1, len(channels)), thread_name_prefix="demo-token") as pool:
        ran = iter(await asyncio.gather(
            *(loop.run_in_executor(pool, resolve_token_sync, c) for c in channels if c.name not in own),
            return_exceptions=True,
        ))  # fmt: skip
    found = [Secret(public[c.name]) if c.name in own else next(ran) for c in channels]
    problems = [str(result) for result in found if isinstance(result, SecretError)]
    if problems:
        raise CliError("\n\n".join(problems))
    tokens: dict[str, Secret] = {}
    for channel, result in zip(channels, found, strict=True):
        if isinstance(result, BaseException):
            raise result
        tokens[channel.name] = result
    return tokens


async def store_in_use(path: Path) -> bool:
    """Whether another live process (an inbox, `ecoinbox poll`) polls and sends on the store at
    `path`: it holds the engine lease, unexpired, and its process is still there."""
    from ecoinbox.engine.engine import ENGINE_LEASE
    from ecoinbox.store import StoreError, open_store

    if not path.exists():
        return False
    try:
        store = await open_store(path, read_only=True)
        try:
            lease = await store.lease(ENGINE_LEASE)
        finally:
            await store.close()
    except StoreError:
        return False
    if lease is None or lease.expires_at <= datetime.now(UTC) or lease.pid == os.getpid():
        return False
    if lease.host != socket.gethostname():
        return True  # another machine's process: it cannot be asked, so it is taken as alive
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
