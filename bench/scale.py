"""The scale benchmarks of issue 5: one table at 10k, 100k and 1M messages.

    python bench/scale.py                          # 10k, 100k and 1M (stores cached)
    python bench/scale.py --sizes 10k,100k         # fewer sizes
    python bench/scale.py --rebuild                # build the stores again (new ingest numbers)
    python bench/scale.py --peers-up-to 1m         # notmuch and neomutt at 1M too (slow)

Stores come from bench/generate.py (through `SQLiteStore.ingest`) and are cached under
`--cache` (default ~/.cache/ecoinbox-bench), with their manifest: the ingest rate is the one
measured when the store was built, with the commit it was built by.

Rows (see bench/README.md for how each is measured):
- ingest with screening and language detection: messages per second as the engine takes a poll
  batch in (batches of 200): language detection (`engine.with_languages`), then
  `SQLiteStore.ingest` with the demo's screening attached (spam, priority, the demo's rules, run in
  the screener's thread before the write), threading, summaries and the search index; into a fresh
  store, up to `--screening-up-to` messages (default 100k: at 1M it takes minutes).
- ingest without screening or language detection: `SQLiteStore.ingest` alone, measured when the
  cached store was built.
- first paint: the real `ecoinbox` (bench/timed_inbox.py runs `ecoinbox.cli.main`) in a
  pseudo-terminal of 120x40 on a config with the store and no channels, from the process
  start to the first bytes that draw the top row of the inbox; and the same from the moment
  its imports were done. The second of two starts (the first warms the page cache).
- cursor move: 500 presses of `j`, one at a time: the time from writing the key to the last
  byte of the answer (the list, the status line and the thread beside it), once the terminal
  has been quiet for `QUIET_S`; and the bytes written for it.
- held key: `j` held down, as a terminal's key repeat sends it (30 a second), in bursts of
  HELD_KEYS rows: the bytes written per row, and the time from the last key to the last byte
  (the thread of the row it stopped on).
- page down: 40 presses of PageDown, the same way.
- thread: `store.conversation()` of the 200-message thread and its rendering by the thread
  view at the width it has at 120x40, until the screen is refreshed (Textual's Pilot); the
  first time (nothing of it wrapped yet), and again (its wrapped lines cached).
- peak RSS: VmHWM of the inbox process after all of the above.
- search: `store.search(query, limit=50)`, the first page (newest first), for a word, a phrase,
  a prefix and filtered queries (SEARCHES); the median of SEARCH_RUNS runs after a warm one.
- notmuch and neomutt, where installed: the same messages as a Maildir; `notmuch new`,
  `notmuch search --limit=50 WORD`, and neomutt opening the Maildir in the same pty, as
  ratios to ecoinbox's numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import fcntl
import json
import math
import os
import resource
import select
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import generate

from ecoinbox.model import View
from ecoinbox.sanitize import sanitize
from ecoinbox.store import open_store

COLUMNS, ROWS = 120, 40
MOVES, PAGES = 500, 40
HELD_BURSTS, HELD_KEYS, HELD_RATE = 5, 15, 30  # j held for half a second, five times; key repeat at 30/s
QUIET_S = 0.12  # an answer is over when the terminal has been quiet this long (the thread comes late)
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEARCH_WORD = "invoice"
SEARCH_RUNS = 7
# (what it shows, the query): {author} is the most frequent author's handle, {end} the store's
# newest day. `lang:nl channel:blog` matches almost nothing: it must not read the whole store.
SEARCHES = (
    ("a word", SEARCH_WORD), ("a phrase", '"never arrived"'), ("a prefix", "deliv*"),
    ("a word, a language", "refund lang:fr"), ("channel and state", "channel:reddit is:open"),
    ("a frequent author", "from:{author}"), ("the last 3 days", "after:3d"),
    ("filters only", "lang:de has:link"), ("a rare pair of filters", "lang:nl channel:blog"),
    ("the last 3 days, nothing in them", "after:3d", 30),
    ("long ago", "before:300d"),
)  # fmt: skip
# (the third field: days after the store's newest day the query is made, 0 if absent)
PAGE_DOWN = "\x1b[6~"

# Budgets of issue 5, at 1M messages.
FIRST_PAINT_S = 0.3
MOVE_S = 0.016
MOVE_BYTES = 2048
THREAD_S = 0.050
SEARCH_S = 0.020
BUILD_WRITES = 3.0  # bytes written to build a store, as a multiple of its size (issue 16)
INGEST_RATE = 20_000
RSS_MB = 200
RSS_GROWTH_MB = 50


# ---- a pseudo-terminal ------------------------------------------------------------------------


class Terminal:
    """A program on the child side of a pty of COLUMNS x ROWS; a thread drains and timestamps
    everything it writes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.fd, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env, cwd=cwd,
                                        start_new_session=True)  # fmt: skip
        os.close(child)
        self.output = bytearray()
        self.chunks: list[tuple[float, int]] = []  # (when read, length of the output after it)
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 1 << 20)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            now = time.monotonic()
            with self._lock:
                self.output.extend(data)
                self.chunks.append((now, len(self.output)))

    def length(self) -> int:
        with self._lock:
            return len(self.output)

    def last_chunk(self) -> tuple[float, int]:
        with self._lock:
            return self.chunks[-1] if self.chunks else (self.started, 0)

    def send(self, keys: str) -> tuple[float, int]:
        """Type `keys`; returns when, and how much output there was before."""
        mark = self.length()
        now = time.monotonic()
        os.write(self.fd, keys.encode())
        return now, mark

    def when_written(self, offset: int) -> float:
        """When the byte at `offset` was read from the terminal."""
        with self._lock:
            for when, length in self.chunks:
                if length > offset:
                    return when
        raise ValueError(offset)

    def wait_for(self, needle: bytes, *, after: int = 0, timeout: float = 60.0) -> int:
        """The offset just past the first `needle` after `after`; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self.output.find(needle, after)
            if found >= 0:
                return found + len(needle)
            if self.process.poll() is not None:
                raise RuntimeError(f"the program exited ({self.process.returncode}): {self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {needle!r} within {timeout:g} s: {self.tail()}")
            time.sleep(0.002)

    def settle(self, mark: int, *, timeout: float = 3.0) -> tuple[float, float, int]:
        """Wait for output past `mark`, then for QUIET_S of silence: (when the first and the last
        byte of the answer were read, how many bytes it was); NaN times if nothing came."""
        deadline = time.monotonic() + timeout
        while self.length() <= mark:
            if time.monotonic() > deadline:
                return float("nan"), float("nan"), 0
            time.sleep(0.0005)
        while True:
            when, length = self.last_chunk()
            if time.monotonic() - when >= QUIET_S:
                return self.when_written(mark), when, length - mark
            time.sleep(0.002)

    def quiet_cpu(self, *, idle_s: float = 0.3, timeout: float = 60.0) -> None:
        """Wait until the program stops using the CPU (the store's background check, first loads)."""
        deadline = time.monotonic() + timeout
        last = cpu_seconds(self.process.pid)
        while time.monotonic() < deadline:
            time.sleep(idle_s)
            now = cpu_seconds(self.process.pid)
            if now - last < idle_s * 0.05:
                return
            last = now

    def tail(self) -> str:
        with self._lock:
            return repr(bytes(self.output[-600:]))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           }  # fmt: skip
    # PYTHONDONTWRITEBYTECODE (set on this machine) would compile ecoinbox from source at every
    # start (~140 ms): an installed ecoinbox has its bytecode, so the children write and use it.
    for variable in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL", "ECOINBOX_CONFIG", "PYTHONDONTWRITEBYTECODE"):
        env.pop(variable, None)
    return env


# ---- the stores -------------------------------------------------------------------------------


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def store_for(cache: Path, messages: int, seed: int, rebuild: bool) -> tuple[Path, dict]:
    """The cached store of this size and seed, built (through the real ingest) if missing."""
    path = cache / f"{messages}-seed{seed}-v{generate.GENERATOR_VERSION}.db"
    info = generate.manifest(path)
    if rebuild or not info.exists():
        for suffix in ("", "-wal", "-shm", ".json"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(maildir_for(path), ignore_errors=True)
        print(f"building {path.name} ({messages:,} messages)…", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--messages", str(messages),
                        "--seed", str(seed), "--out", str(path)], check=True, stdout=sys.stderr)  # fmt: skip
        made = json.loads(info.read_text(encoding="utf-8"))
        made["commit"] = commit()
        info.write_text(json.dumps(made, indent=2) + "\n", encoding="utf-8")
    asyncio.run(_upgrade(path))
    return path, json.loads(info.read_text(encoding="utf-8"))


async def _upgrade(path: Path) -> None:
    """A store cached by an older commit gets this commit's migrations before it is measured
    (the measuring opens it read-only); their time is not in any row."""
    store = await open_store(path)
    await store.close()


def write_config(home: Path, store: Path, *, channels: bool = False) -> Path:
    """A config with the store and no channels; with `channels`, six accounts as a real config names
    them, on a closed loopback port (the inbox's polls fail at once; a read never asks for tokens)."""
    config = home / ("channels.toml" if channels else "config.toml")
    text = f'[brand]\nname = "Acme"\nhandles = ["acme@social.example"]\n[store]\npath = "{store}"\n'
    config.write_text(text + (CHANNELS if channels else ""), encoding="utf-8")
    return config


CHANNELS = """
[[channels]]
kind = "mastodon"
name = "social"
base_url = "http://127.0.0.1:9"
token_env = "ECOINBOX_BENCH_TOKEN"
[[channels]]
kind = "bluesky"
name = "sky"
base_url = "http://127.0.0.1:9"
account = "acme.example"
token_env = "ECOINBOX_BENCH_TOKEN"
[[channels]]
kind = "discourse"
name = "forum"
base_url = "http://127.0.0.1:9"
account = "acme"
token_env = "ECOINBOX_BENCH_TOKEN"
[[channels]]
kind = "reddit"
name = "reddit"
base_url = "http://127.0.0.1:9"
auth_url = "http://127.0.0.1:9"
subreddits = ["acme"]
client_id = "bench"
account = "acme"
token_env = "ECOINBOX_BENCH_TOKEN"
[[channels]]
kind = "feed"
name = "blog"
base_url = "http://127.0.0.1:9/feed"
[[channels]]
kind = "wordpress"
name = "site"
base_url = "http://127.0.0.1:9"
account = "acme"
token_env = "ECOINBOX_BENCH_TOKEN"
"""


async def first_row_text(store_path: Path) -> tuple[bytes, int]:
    """Bytes the top row of the inbox shows (the start of its snippet) and the view's size."""
    store = await open_store(store_path, read_only=True)
    try:
        rows = await store.conversation_page(View.INBOX, limit=1)
        total = await store.count_conversations(View.INBOX)
    finally:
        await store.close()
    snippet = sanitize(rows[0].snippet, single_line=True)
    return snippet[:14].encode(), total


# ---- ecoinbox in the pty ------------------------------------------------------------------------


@dataclass(slots=True)
class Inbox:
    """What one run of the inbox in the pty measured."""

    first_paint_s: float = float("nan")  # from the process start
    after_imports_s: float = float("nan")  # from the end of its imports
    imports_s: float = float("nan")
    move_s: list[float] = field(default_factory=list)  # key to the last byte of the answer
    move_first_s: list[float] = field(default_factory=list)  # key to its first frame (the list)
    move_bytes: list[int] = field(default_factory=list)
    held_bytes: list[float] = field(default_factory=list)  # per row, each burst of a held key
    held_rest_s: list[float] = field(default_factory=list)  # its last key to the last byte
    page_s: list[float] = field(default_factory=list)
    page_bytes: list[int] = field(default_factory=list)
    rss_mb: float = float("nan")
    exit_code: int | None = None


def run_inbox(store_path: Path, *, moves: int, pages: int) -> Inbox:
    needle, total = asyncio.run(first_row_text(store_path))
    result = Inbox()
    with tempfile.TemporaryDirectory(prefix="ecoinbox-bench-") as folder:
        home = Path(folder)
        config = write_config(home, store_path)
        marks = home / "marks"
        argv = [sys.executable, str(ROOT / "bench" / "timed_inbox.py"), str(marks), "--config", str(config)]
        for warm in (True, False):  # the first start fills the page cache; the second is measured
            terminal = Terminal(argv, child_env(home))
            try:
                end = terminal.wait_for(needle, timeout=120)
                painted = terminal.when_written(end - 1)
                started, imported = map(float, marks.read_text().split())
                if warm:
                    terminal.quiet_cpu()
                    terminal.send("q")
                    terminal.process.wait(30)
                    continue
                result.first_paint_s = painted - terminal.started
                result.after_imports_s = painted - imported
                result.imports_s = imported - started
                terminal.quiet_cpu()  # the store's quick check runs beside the first screen
                terminal.settle(terminal.length() - 1)
                for _ in range(min(moves, total - 1)):
                    sent, mark = terminal.send("j")
                    first, done, written = terminal.settle(mark)
                    result.move_first_s.append(first - sent)
                    result.move_s.append(done - sent)
                    result.move_bytes.append(written)
                terminal.send("g")  # back to the top: the held key and page downs start there too
                terminal.settle(terminal.length())
                held = min(HELD_KEYS, (total - 1) // HELD_BURSTS)
                for _ in range(HELD_BURSTS if held else 0):
                    start = terminal.length()
                    for _ in range(held):
                        sent, _ = terminal.send("j")
                        time.sleep(max(0.0, sent + 1 / HELD_RATE - time.monotonic()))
                    _, done, written = terminal.settle(start)
                    result.held_bytes.append(written / held)
                    result.held_rest_s.append(done - sent)
                terminal.send("g")
                terminal.settle(terminal.length())
                for _ in range(min(pages, max(0, total // ROWS - 1))):
                    sent, mark = terminal.send(PAGE_DOWN)
                    _, done, written = terminal.settle(mark)
                    result.page_s.append(done - sent)
                    result.page_bytes.append(written)
                result.rss_mb = peak_rss_mb(terminal.process.pid)
                terminal.send("q")
                result.exit_code = terminal.process.wait(30)
            finally:
                terminal.close()
    return result


# ---- commands, from outside the process (issue 16, goals 1 and 2) -------------------------------

COMMAND_RUNS = 15
COMMAND_S = 0.150  # `list`, `show`, `list --query`, spawn to exit, at 1M
START_S = 0.300  # the command `ecoinbox` to the inbox's first rows on the terminal, at 1M
BARE_APP = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class Bare(App):\n    def compose(self):\n        yield Static('a bare app, ready')\n"
    "Bare().run()\n"
)


@dataclass(slots=True)
class Commands:
    """Each command's seconds from spawn to exit (its output read) and CPU (user + system)."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)  # the 1-minute load average at each round's end


def timed_run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def timed_start(
    argv: list[str], env: dict[str, str], needle: bytes, quit_key: str, cwd: Path | None = None
) -> float:
    """Seconds from spawning `argv` in the pty to the last byte of the output that shows `needle`."""
    terminal = Terminal(argv, env, cwd=cwd)
    try:
        end = terminal.wait_for(needle, timeout=120)
        shown = terminal.when_written(end - 1) - terminal.started
        terminal.send(quit_key)
        terminal.process.wait(30)
        return shown
    finally:
        terminal.close()


async def top_conversation(store_path: Path) -> int:
    store = await open_store(store_path, read_only=True)
    try:
        return (await store.conversation_page(View.INBOX, limit=1))[0].id
    finally:
        await store.close()


def run_commands(
    store_path: Path,
    runs: int = COMMAND_RUNS,
    *,
    reads: bool = True,
    starts: bool = True,
    against: Path | None = None,
) -> Commands:
    """The CLI reads, notmuch's search of the same word, the inbox's start and a bare Textual app's,
    in interleaved rounds (the first one warms the page cache and writes ecoinbox's bytecode).
    Without `reads`, only the starts (the plain config, six channels, the bare app); without
    `starts`, only the reads. `against`: another tree's code (e.g. main's, `git archive main |
    tar -x -C DIR`, its hash in DIR/COMMIT) run the same way in the same rounds (from that tree or
    the temporary home: `python -m` looks in the working directory first)."""
    needle, _ = asyncio.run(first_row_text(store_path))
    top = asyncio.run(top_conversation(store_path))
    result = Commands()
    with tempfile.TemporaryDirectory(prefix="ecoinbox-bench-") as folder:
        home = Path(folder)
        config = str(write_config(home, store_path))
        env = child_env(home)
        ecoinbox = [sys.executable, "-m", "ecoinbox", "--config", config]
        with_channels = [
            sys.executable,
            "-m",
            "ecoinbox",
            "--config",
            str(write_config(home, store_path, channels=True)),
        ]
        # The same list through ecoinbox.cli, the way every command took before the quick read.
        full = [sys.executable, "-m", "ecoinbox.cli", "--config", config]
        commands = {
            "the interpreter alone, `python -c pass`": [sys.executable, "-c", "pass"],
            "`ecoinbox list`": [*ecoinbox, "list"],
            "`ecoinbox list`, a config of six channels": [*with_channels, "list"],
            "`ecoinbox list` the full way (`python -m ecoinbox.cli`, no quick read)": [*full, "list"],
            f"`ecoinbox list --query {SEARCH_WORD}`": [*ecoinbox, "list", "--query", SEARCH_WORD],
            "`ecoinbox list --query 'refund lang:fr'`": [*ecoinbox, "list", "--query", "refund lang:fr"],
            "`ecoinbox show ID` (the inbox's top conversation)": [*ecoinbox, "show", str(top)],
        }
        # The same reads by an earlier commit's code, taking turns with this one's: its tree first on
        # the path and as the working directory (`python -m` puts that first).
        places: dict[str, Path] = {}
        env_before = {**env, "PYTHONPATH": str(against)} if against is not None else env
        if against is not None:
            for label, argv in list(commands.items()):
                if label.startswith("`ecoinbox "):
                    commands[f"{label}, before ({before_commit(against)})"] = argv
                    places[f"{label}, before ({before_commit(against)})"] = against
        notmuch, root = shutil.which("notmuch"), maildir_for(store_path)
        if notmuch and (root / ".notmuch").exists():
            env_notmuch = {**os.environ, "NOTMUCH_CONFIG": str(root / "notmuch-config")}
            commands[f"`notmuch search --limit=50 {SEARCH_WORD}`"] = [
                notmuch,
                "search",
                "--limit=50",
                SEARCH_WORD,
            ]
        if not reads:
            commands = {}
        for round_ in range(runs + 1):
            for label, argv in commands.items():
                where = places.get(label)
                chosen = env_notmuch if argv[0] == notmuch else env_before if where else env
                wall, cpu = timed_run(argv, chosen, where)
                if round_:
                    result.wall.setdefault(label, []).append(wall)
                    result.cpu.setdefault(label, []).append(cpu)
            if not starts:
                if round_:
                    result.loads.append(os.getloadavg()[0])
                continue
            start = timed_start(ecoinbox, env, needle, "q")
            # A real config: its channels are built (their modules imported) before the first frame.
            start_channels = timed_start(with_channels, {**env, "ECOINBOX_BENCH_TOKEN": "bench"}, needle, "q")
            bare = timed_start([sys.executable, "-c", BARE_APP], env, b"a bare app, ready", "\x11")
            if against is not None:
                other = {**env, "PYTHONPATH": str(against), "ECOINBOX_BENCH_TOKEN": "bench"}
                earlier = [
                    timed_start(argv, other, needle, "q", cwd=home) for argv in (ecoinbox, with_channels)
                ]
                if round_:
                    for what, seconds in zip(("", ", a config of six channels"), earlier, strict=True):
                        label = f"`ecoinbox`{what}, the code at --against: to the first rows (pty)"
                        result.wall.setdefault(label, []).append(seconds)
            if round_:
                result.wall.setdefault("`ecoinbox`: the command to the inbox's first rows (pty)", []).append(
                    start
                )
                result.wall.setdefault("`ecoinbox`, a config of six channels: to the first rows (pty)",
                                       []).append(start_channels)  # fmt: skip
                result.wall.setdefault("a bare Textual app: the command to its first frame (pty)", []).append(
                    bare
                )
                result.loads.append(os.getloadavg()[0])
    return result


# ---- the thread view, in-process --------------------------------------------------------------


def thread_open_s(
    store_path: Path, conversation_id: int, repeats: int = 15, *, cached: bool = False
) -> list[float]:
    """store.conversation() plus the thread view's rendering, until Textual refreshed the screen;
    unless `cached`, with none of its messages wrapped before (the view keeps them per width)."""
    from textual.app import App

    from ecoinbox.tui.widgets.thread_view import ThreadView

    times: list[float] = []

    class ThreadOnly(App[None]):
        CSS = "ThreadView { width: 48; }"  # its width beside the list at 120 columns

        def compose(self):  # type: ignore[no-untyped-def]
            yield ThreadView(id="thread")

    async def measure() -> None:
        store = await open_store(store_path, read_only=True)
        app = ThreadOnly()
        try:
            async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
                thread = app.query_one(ThreadView)
                for _ in range(repeats + 1):
                    thread.show(None)
                    if not cached:
                        thread.forget_wrapped()
                    await pilot.pause()
                    started = time.perf_counter()
                    conversation = await store.conversation(conversation_id)
                    thread.show(conversation)
                    await pilot.pause()
                    times.append(time.perf_counter() - started)
        finally:
            await store.close()

    asyncio.run(measure())
    return times[1:]  # the first one warms the caches


# ---- search, in-process -------------------------------------------------------------------------


@dataclass(slots=True)
class Search:
    query: str
    seconds: float  # median, warm
    rows: int
    cpu_s: float = float("nan")  # median CPU of the process (its SQLite thread included)


def search_s(store_path: Path, end: datetime) -> list[Search]:
    """The first page of each of SEARCHES: the median of SEARCH_RUNS after one warm run."""
    from ecoinbox.query import parse_query

    async def measure() -> list[Search]:
        store = await open_store(store_path, read_only=True)
        try:
            author = frequent_author(store_path)
            results = []
            for _, text, *later in SEARCHES:
                text = text.format(author=author)
                query = parse_query(text, now=end + timedelta(days=later[0] if later else 0))
                times, cpu = [], []
                for _ in range(SEARCH_RUNS + 1):
                    started, used = time.perf_counter(), time.process_time()
                    rows, _ = await store.search(query, limit=50)
                    times.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - used)
                if later:
                    text += f" ({later[0]} days after the newest message)"
                results.append(
                    Search(text, statistics.median(times[1:]), len(rows), statistics.median(cpu[1:]))
                )
            return results
        finally:
            await store.close()

    return asyncio.run(measure())


def frequent_author(store_path: Path) -> str:
    """The handle of the person (not the brand) who wrote the most messages."""
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        row = db.execute(
            "SELECT a.handle FROM messages m JOIN authors a ON a.id = m.author_id WHERE m.origin != 'ours'"
            " GROUP BY m.author_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    return row[0] if row else "nobody"


# ---- notmuch and neomutt ------------------------------------------------------------------------


def maildir_for(store_path: Path) -> Path:
    return store_path.with_name(store_path.stem + ".maildir")


def export_maildir(store_path: Path) -> Path:
    """The store's messages as a Maildir (one file each, threaded by In-Reply-To), once."""
    root = maildir_for(store_path)
    done = root / ".exported"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    mail = root / "inbox"
    for sub in ("cur", "new", "tmp"):
        (mail / sub).mkdir(parents=True)
    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT m.id, m.channel, m.remote_id, m.parent_remote_id, m.text, m.title, m.created_at,"
        " a.handle, a.display_name FROM messages m JOIN authors a ON a.id = m.author_id ORDER BY m.id"
    )
    for number, channel, remote_id, parent, text, title, created, handle, name in rows:
        sender = handle if "@" in handle else f"{handle}@{channel}.example"
        subject = title or text[:60]
        headers = [
            f"From: {email.utils.formataddr((name, sender))}",
            "To: support@acme.example",
            f"Subject: {subject.replace(chr(10), ' ')}",
            f"Date: {email.utils.format_datetime(datetime.fromtimestamp(created / 1000, UTC))}",
            f"Message-ID: {message_id(channel, remote_id)}",
        ]
        if parent:
            headers.append(f"In-Reply-To: {message_id(channel, parent)}")
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: 8bit"]  # fmt: skip
        body = "\n".join(headers) + "\n\n" + text + "\n"
        (mail / "cur" / f"{number}.bench:2,S").write_bytes(body.encode("utf-8"))
    db.close()
    done.write_text("ok\n")
    return root


def message_id(channel: str, remote_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in ".-_" else "-" for c in remote_id)
    return f"<{channel}.{safe}@bench.example>"


@dataclass(slots=True)
class Peers:
    notmuch_new_s: float | None = None
    notmuch_search_s: float | None = None
    neomutt_open_s: float | None = None
    neomutt_move_bytes: float | None = None
    neomutt_rss_mb: float | None = None


def run_peers(store_path: Path, messages: int) -> Peers:
    peers = Peers()
    notmuch, neomutt = shutil.which("notmuch"), shutil.which("neomutt")
    if not (notmuch or neomutt):
        return peers
    root = export_maildir(store_path)
    if notmuch:
        config = root / "notmuch-config"
        config.write_text(f"[database]\npath={root}\n[new]\ntags=inbox;\n[search]\nexclude_tags=\n"
                          f"[maildir]\nsynchronize_flags=false\n", encoding="utf-8")  # fmt: skip
        env = {**os.environ, "NOTMUCH_CONFIG": str(config)}
        timing = root / ".notmuch-new-seconds"
        if not timing.exists():
            shutil.rmtree(root / ".notmuch", ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([notmuch, "new", "--quiet"], env=env, check=True, capture_output=True)
            timing.write_text(f"{time.perf_counter() - started}\n")
        peers.notmuch_new_s = float(timing.read_text())
        searches = []
        for _ in range(6):
            started = time.perf_counter()
            subprocess.run([notmuch, "search", "--limit=50", SEARCH_WORD], env=env, check=True,
                           capture_output=True)  # fmt: skip
            searches.append(time.perf_counter() - started)
        peers.notmuch_search_s = statistics.median(searches[1:])
    if neomutt:
        peers.neomutt_open_s, peers.neomutt_move_bytes, peers.neomutt_rss_mb = neomutt_open(
            neomutt, root / "inbox", messages
        )
    return peers


def neomutt_open(neomutt: str, mailbox: Path, messages: int) -> tuple[float, float, float]:
    """Seconds from start to its index of `mailbox`, bytes per move, peak RSS (header cache warm)."""
    with tempfile.TemporaryDirectory(prefix="neomutt-bench-") as folder:
        home = Path(folder)
        muttrc = home / "muttrc"
        cache = mailbox.parent / ".neomutt-cache"
        cache.mkdir(exist_ok=True)
        settings = [f"folder={mailbox.parent}", f"spoolfile={mailbox}", "record=", "postponed=",
                    f"header_cache={cache}/", "mbox_type=Maildir", "sort=date", "mark_old=no", "sleep_time=0",
                    "mail_check=3600"]  # fmt: skip
        muttrc.write_text("".join(f"set {line}\n" for line in settings), encoding="utf-8")
        env = {**child_env(home), "MAIL": str(mailbox)}
        argv = [neomutt, "-n", "-F", str(muttrc), "-f", str(mailbox)]
        opened = moved = rss = float("nan")
        for warm in (True, False):  # the first run fills the header cache and the page cache
            terminal = Terminal(argv, env, cwd=home)
            try:
                end = terminal.wait_for(f"Msgs:{messages}".encode(), timeout=1800)
                opened = terminal.when_written(end - 1) - terminal.started
                terminal.settle(terminal.length() - 1)
                if not warm:
                    written = []
                    for _ in range(50):  # up: it opens on the newest message, at the bottom
                        _, mark = terminal.send("k")
                        written.append(terminal.settle(mark)[2])
                    moved = statistics.median(written)
                    rss = peak_rss_mb(terminal.process.pid)
                terminal.send("q")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    terminal.process.wait(30)
            finally:
                terminal.close()
        return opened, moved, rss


# ---- the table ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Column:
    label: str
    messages: int
    manifest: dict
    inbox: Inbox
    thread_s: list[float]
    thread_again_s: list[float]
    peers: Peers
    searches: list[Search] = field(default_factory=list)
    screening_rate: float | None = None  # msg/s of ingest with screening and language detection
    commands: Commands | None = None


def screening_ingest_rate(messages: int, seed: int) -> float:
    """Messages per second of ingest as the engine does it: language detection, then the store's
    ingest with the demo's screening attached, into a fresh store (poll batches of generate.BATCH)."""
    from ecoinbox.config import parse_config
    from ecoinbox.demo.generate import BATCH, DEFAULT_END, batches, make_plan
    from ecoinbox.demo.generate import messages as generated
    from ecoinbox.demo.runner import DEMO_CANNED, DEMO_RULES
    from ecoinbox.engine.engine import with_languages
    from ecoinbox.screening.inbound import Screener

    settings = parse_config(f'[brand]\nname = "Acme"\nkeywords = ["acme"]\n{DEMO_RULES}\n{DEMO_CANNED}')

    async def run(path: Path) -> float:
        store = await open_store(path, clock=lambda: DEFAULT_END)
        await store.attach_screener(Screener.from_settings(settings))
        spent = 0.0
        try:
            for batch in batches(generated(make_plan(messages, seed, DEFAULT_END), seed), BATCH):
                started = time.perf_counter()
                await store.ingest(with_languages(batch))
                spent += time.perf_counter() - started
        finally:
            await store.close()
        return messages / spent

    with tempfile.TemporaryDirectory(prefix="ecoinbox-screening-ingest-") as where:
        from ecoinbox.language import detect_language

        detect_language("the language model loads here, once")
        return asyncio.run(run(Path(where) / "inbox.db"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))] if ordered else float("nan")


def fmt_ms(seconds: float | None) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:,.1f} ms"


def rate(c: Column) -> float:
    return c.messages / c.manifest["ingest_seconds"]


def med(values: list[float] | list[int]) -> float:
    return statistics.median(values) if values else float("nan")


def ingest_rows(columns: list[Column]) -> Iterator[str]:
    """The ingest rows: with screening and language detection (the budget's), and the store alone."""
    rates = [(c.label, c.screening_rate) for c in columns if c.screening_rate is not None]
    cells = " | ".join("–" if c.screening_rate is None else f"{c.screening_rate:,.0f}" for c in columns)
    mark = ""
    if rates:
        label, biggest = rates[-1]
        mark = ("ok" if biggest >= INGEST_RATE else "OVER") + f" (at {label})"
    name = "ingest with screening and language detection (msg/s, as the engine does, batches of 200)"
    yield f"| {name} | {cells} | >= {INGEST_RATE:,} | {mark} |"
    cells = " | ".join(f"{rate(c):,.0f}" for c in columns)
    name = "ingest without screening or language detection (msg/s, the store alone, batches of 200)"
    yield f"| {name} | {cells} | | |"


def table(columns: list[Column]) -> Iterator[str]:
    last, first = columns[-1], columns[0]

    def row(name: str, cell: Callable[[Column], str], budget: str = "", verdict: bool | None = None) -> str:
        mark = "" if verdict is None else ("ok" if verdict else "OVER")
        return f"| {name} | " + " | ".join(cell(c) for c in columns) + f" | {budget} | {mark} |"

    def size(value: float, unit: str) -> str:
        return "–" if math.isnan(value) else f"{value:,.0f} {unit}"

    yield "| | " + " | ".join(c.label for c in columns) + f" | budget (at {last.label}) | |"
    yield "|---|" + "---:|" * len(columns) + "---|---|"
    yield row("messages / conversations", lambda c: f"{c.messages:,} / {c.manifest['conversations']:,}")
    yield from ingest_rows(columns)
    yield row("first paint from process start", lambda c: fmt_ms(c.inbox.first_paint_s))
    yield row("first paint after imports", lambda c: fmt_ms(c.inbox.after_imports_s),
              f"<= {FIRST_PAINT_S * 1000:.0f} ms", last.inbox.after_imports_s <= FIRST_PAINT_S)  # fmt: skip
    yield row("(imports)", lambda c: fmt_ms(c.inbox.imports_s))
    yield row("cursor move: key to the list's frame, median", lambda c: fmt_ms(med(c.inbox.move_first_s)),
              f"<= {MOVE_S * 1000:.0f} ms", med(last.inbox.move_first_s) <= MOVE_S)  # fmt: skip
    yield row("cursor move: key to the list's frame, p95", lambda c: fmt_ms(pct(c.inbox.move_first_s, 0.95)))
    yield row("cursor move: key to the thread beside it drawn, median", lambda c: fmt_ms(med(c.inbox.move_s)),
              f"<= {MOVE_S * 1000:.0f} ms", med(last.inbox.move_s) <= MOVE_S)  # fmt: skip
    yield row(
        "cursor move: key to the thread beside it drawn, p95", lambda c: fmt_ms(pct(c.inbox.move_s, 0.95))
    )
    yield row("bytes per cursor move, median", lambda c: size(med(c.inbox.move_bytes), "B"),
              f"<= {MOVE_BYTES:,} B", med(last.inbox.move_bytes) <= MOVE_BYTES)  # fmt: skip
    yield row(
        "bytes per cursor move, mean",
        lambda c: size(statistics.fmean(c.inbox.move_bytes) if c.inbox.move_bytes else math.nan, "B"),
    )
    yield row(f"held j ({HELD_RATE}/s): bytes per row, median", lambda c: size(med(c.inbox.held_bytes), "B"),
              f"<= {MOVE_BYTES:,} B", med(last.inbox.held_bytes) <= MOVE_BYTES)  # fmt: skip
    yield row("held j: last key to the thread it stopped on drawn, median",
              lambda c: fmt_ms(med(c.inbox.held_rest_s)))  # fmt: skip
    yield row("page down, median", lambda c: fmt_ms(med(c.inbox.page_s)))
    yield row("bytes per page down, median", lambda c: size(med(c.inbox.page_bytes), "B"))
    yield row(f"open the {generate.BIG_THREAD}-message thread, median", lambda c: fmt_ms(med(c.thread_s)),
              f"<= {THREAD_S * 1000:.0f} ms", med(last.thread_s) <= THREAD_S)  # fmt: skip
    yield row("open it again (its wrapped lines cached), median", lambda c: fmt_ms(med(c.thread_again_s)))
    yield row("peak RSS of the inbox", lambda c: size(c.inbox.rss_mb, "MB"), f"<= {RSS_MB} MB",
              last.inbox.rss_mb <= RSS_MB)  # fmt: skip
    for number, (what, *_) in enumerate(SEARCHES):

        def found(c: Column, number: int = number) -> str:
            if len(c.searches) <= number:
                return "–"
            result = c.searches[number]
            return f"{fmt_ms(result.seconds)} ({result.rows}; CPU {fmt_ms(result.cpu_s)})"

        label = last.searches[number].query if len(last.searches) > number else SEARCHES[number][1]
        verdict = last.searches[number].seconds <= SEARCH_S if len(last.searches) > number else None
        yield row(f"search, first page of 50 (rows): {what}, `{label.replace('|', '/')}`", found,
                  f"<= {SEARCH_S * 1000:.0f} ms", verdict)  # fmt: skip
    growth = last.inbox.rss_mb - first.inbox.rss_mb
    yield row(f"RSS growth from {first.label}", lambda c: f"{c.inbox.rss_mb - first.inbox.rss_mb:+,.0f} MB",
              f"<= {RSS_GROWTH_MB} MB", growth <= RSS_GROWTH_MB if len(columns) > 1 else None)  # fmt: skip

    def ratio(
        ours: Callable[[Column], float], theirs: Callable[[Column], float | None], fmt: Callable[[float], str]
    ) -> Callable[[Column], str]:
        """The peer's number, and ecoinbox's as a multiple of it."""

        def cell(c: Column) -> str:
            mine, peer = ours(c), theirs(c)
            if peer is None or math.isnan(peer):
                return "–"
            return f"{fmt(peer)} ({mine / peer:,.2f}x)" if not math.isnan(mine) and peer else fmt(peer)

        return cell

    def notmuch_rate(c: Column) -> float | None:
        return c.messages / c.peers.notmuch_new_s if c.peers.notmuch_new_s else None

    yield row("notmuch new (msg/s; ecoinbox's ingest as a multiple)",
              ratio(rate, notmuch_rate, lambda v: f"{v:,.0f}"), ">= 13x")  # fmt: skip
    yield row(f"notmuch search --limit=50 {SEARCH_WORD} (ecoinbox's search as a multiple)",
              ratio(lambda c: c.searches[0].seconds if c.searches else math.nan,
                    lambda c: c.peers.notmuch_search_s, fmt_ms))  # fmt: skip
    yield row("neomutt opens the Maildir (ecoinbox's first paint as a multiple)",
              ratio(lambda c: c.inbox.first_paint_s, lambda c: c.peers.neomutt_open_s, fmt_ms))  # fmt: skip
    yield row("neomutt bytes per move (ecoinbox's median as a multiple)",
              ratio(lambda c: med(c.inbox.move_bytes), lambda c: c.peers.neomutt_move_bytes,
                    lambda v: f"{v:,.0f} B"))  # fmt: skip
    yield row(
        "neomutt peak RSS (ecoinbox's as a multiple)",
        ratio(lambda c: c.inbox.rss_mb, lambda c: c.peers.neomutt_rss_mb, lambda v: f"{v:,.0f} MB"),
    )


def before_commit(tree: Path) -> str:
    """The commit an earlier tree was taken from (its file COMMIT, as `--before` asks), else its name."""
    marker = tree / "COMMIT"
    return marker.read_text(encoding="utf-8").strip()[:9] if marker.exists() else tree.name


def commands_table(columns: list[Column]) -> Iterator[str]:
    """Issue 16's rows: the commands from outside (goals 1, 2), the searches (5), the build (7)."""
    last = columns[-1]
    yield "| | " + " | ".join(c.label for c in columns) + f" | budget (at {last.label}) | |"
    yield "|---|" + "---:|" * len(columns) + "---|---|"
    labels = list(dict.fromkeys(label for c in columns if c.commands for label in c.commands.wall))
    for label in labels:

        def cell(c: Column, label: str = label) -> str:
            wall = c.commands.wall.get(label, []) if c.commands else []
            if not wall:
                return "–"
            cpu = c.commands.cpu.get(label, []) if c.commands else []
            text = f"{fmt_ms(med(wall))} (p95 {fmt_ms(pct(wall, 0.95))}"
            return text + (f"; CPU {fmt_ms(med(cpu))})" if cpu else ")")

        budget, verdict = "", None
        wall = last.commands.wall.get(label, []) if last.commands else []
        if label.startswith("`ecoinbox ") and wall:
            budget, verdict = f"<= {COMMAND_S * 1000:.0f} ms", med(wall) <= COMMAND_S
        elif label.startswith("`ecoinbox`") and wall:
            budget, verdict = f"<= {START_S * 1000:.0f} ms", med(wall) <= START_S
        mark = "" if verdict is None else ("ok" if verdict else "OVER")
        measures = "median (p95)" if "(pty)" in label else "median (p95; CPU)"  # a start has no CPU
        yield f"| {label}: {measures} | " + " | ".join(cell(c) for c in columns) + f" | {budget} | {mark} |"
    if any(c.commands and c.commands.loads for c in columns):
        yield "| the machine's load average (1 min) after each round: median (range) | " + " | ".join(
            f"{med(c.commands.loads):.1f} ({min(c.commands.loads):.1f}-{max(c.commands.loads):.1f})"
            if c.commands and c.commands.loads else "–"
            for c in columns
        ) + " | | |"  # fmt: skip
    yield from versus_notmuch(columns)
    for number, (what, *_) in enumerate(SEARCHES if any(c.searches for c in columns) else ()):

        def found(c: Column, number: int = number) -> str:
            if len(c.searches) <= number:
                return "–"
            result = c.searches[number]
            return f"{fmt_ms(result.seconds)} ({result.rows}; CPU {fmt_ms(result.cpu_s)})"

        query = last.searches[number].query if len(last.searches) > number else SEARCHES[number][1]
        verdict = last.searches[number].seconds <= SEARCH_S if len(last.searches) > number else None
        mark = "" if verdict is None else ("ok" if verdict else "OVER")
        cells = " | ".join(found(c) for c in columns)
        name = f"search in-process, first page of 50 (rows; CPU): {what}, `{query}`"
        yield f"| {name} | {cells} | <= {SEARCH_S * 1000:.0f} ms | {mark} |"

    def built(c: Column) -> str:
        written, size = c.manifest.get("build_write_bytes"), c.manifest.get("store_bytes")
        if not written or not size:
            return "–"
        where = c.manifest["built_in"]
        return f"{written / 1e6:,.0f} MB for {size / 1e6:,.0f} MB ({written / size:.1f}x, built in {where})"

    ratio = (last.manifest.get("build_write_bytes") or math.nan) / (
        last.manifest.get("store_bytes") or math.nan
    )
    mark = "" if math.isnan(ratio) else ("ok" if ratio <= BUILD_WRITES else "OVER")
    yield ("| building the store: bytes written (x its size) | " + " | ".join(built(c) for c in columns)
           + f" | <= {BUILD_WRITES:.0f}x | {mark} |")  # fmt: skip


def versus_notmuch(columns: list[Column]) -> Iterator[str]:
    """Goal 2's second half: `list --query WORD` faster than `notmuch search WORD` in the same rounds."""
    ours, theirs = f"`ecoinbox list --query {SEARCH_WORD}`", f"`notmuch search --limit=50 {SEARCH_WORD}`"

    def ratio(c: Column) -> float | None:
        if c.commands is None or not c.commands.wall.get(ours) or not c.commands.wall.get(theirs):
            return None
        return med(c.commands.wall[ours]) / med(c.commands.wall[theirs])

    def cell(c: Column) -> str:
        if (value := ratio(c)) is None or c.commands is None:
            return "–"
        return f"{value:.2f}x (CPU {med(c.commands.cpu[ours]) / med(c.commands.cpu[theirs]):.2f}x)"

    measured = [value for c in columns if (value := ratio(c)) is not None]
    if measured:
        mark = "ok" if measured[-1] < 1 else "OVER"
        cells = " | ".join(cell(c) for c in columns)
        yield f"| {ours} over {theirs}: medians' ratio (CPU's) | {cells} | < 1x | {mark} |"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for tool in ("notmuch", "neomutt"):
        if shutil.which(tool):
            out = subprocess.run([tool, "-v" if tool == "neomutt" else "--version"], capture_output=True,
                                 text=True, check=False).stdout.splitlines()  # fmt: skip
            versions.append(out[0].strip() if out else tool)
    import textual

    return (f"{os.cpu_count()} x {cpu}, {memory:.0f} GiB; Python {sys.version.split()[0]}, SQLite "
            f"{sqlite3.sqlite_version}, Textual {textual.__version__}"
            + "".join(f"; {v}" for v in versions))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma-separated: 10k, 100k, 1m (default all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ecoinbox-bench")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the stores again (fresh ingest numbers)")  # fmt: skip
    parser.add_argument("--moves", type=int, default=MOVES)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--peers-up-to", default="100k",
                        help="largest size for notmuch and neomutt (their Maildir takes a file per message; "
                             "notmuch new needs about 11 min at 1m); 'none' to skip them")  # fmt: skip
    parser.add_argument("--screening-up-to", default="100k",
                        help="largest size for the ingest row with screening and language detection "
                             "(a fresh store each time); 'none' to skip it")  # fmt: skip
    parser.add_argument("--ingest-only", action="store_true",
                        help="only the two ingest rows (no inbox, thread, search or peers)")  # fmt: skip
    parser.add_argument("--commands-only", action="store_true",
                        help="issue 16's rows only: the CLI reads and the inbox's start from outside, "
                             "beside notmuch and a bare Textual app, the searches, the build's bytes")  # fmt: skip
    parser.add_argument("--first-rows-only", action="store_true",
                        help="of --commands-only, only the inbox's starts: to its first rows with no channel "
                             "and with six, beside a bare Textual app (issue 16, goal 1)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=COMMAND_RUNS, help="rounds of --commands-only")
    parser.add_argument("--cli-only", action="store_true",
                        help="--commands-only without the inbox's starts and the searches: the CLI reads, "
                             "the interpreter and notmuch")  # fmt: skip
    parser.add_argument("--against", "--before", dest="against", type=Path, default=None,
                        help="with --commands-only, --first-rows-only or --cli-only: the source tree of "
                             "another commit, e.g. main's (`git archive COMMIT ecoinbox | tar -x -C DIR`, "
                             "its hash in DIR/COMMIT), whose reads and starts run in the same rounds")  # fmt: skip
    args = parser.parse_args(argv)
    args.commands_only = args.commands_only or args.first_rows_only
    labels = [size.strip().lower() for size in args.sizes.split(",") if size.strip()]
    peers_limit = 0 if args.peers_up_to == "none" else SIZES[args.peers_up_to.lower()]
    screening_limit = 0 if args.screening_up_to == "none" else SIZES[args.screening_up_to.lower()]
    args.cache.mkdir(parents=True, exist_ok=True)
    columns = []
    for label in labels:
        messages = SIZES[label]
        path, made = store_for(args.cache, messages, args.seed, args.rebuild)
        screening_rate = None
        if messages <= screening_limit and not (args.commands_only or args.cli_only):
            print(f"{label}: ingest with screening and language detection…", file=sys.stderr, flush=True)
            screening_rate = screening_ingest_rate(messages, args.seed)
        if args.ingest_only:
            columns.append(Column(label, messages, made, Inbox(), [], [], Peers(), [], screening_rate))
            continue
        if args.commands_only or args.cli_only:
            if messages <= peers_limit and shutil.which("notmuch") and not args.first_rows_only:
                print(f"{label}: notmuch's index…", file=sys.stderr, flush=True)
                run_peers(path, messages)
            print(f"{label}: commands, {args.runs} rounds…", file=sys.stderr, flush=True)
            commands = run_commands(path, args.runs, reads=not args.first_rows_only,
                                    starts=not args.cli_only, against=args.against)  # fmt: skip
            searches = []
            if not (args.first_rows_only or args.cli_only):
                print(f"{label}: search…", file=sys.stderr, flush=True)
                searches = search_s(path, datetime.fromisoformat(made["end"]))
            columns.append(Column(label, messages, made, Inbox(), [], [], Peers(), searches, None, commands))
            continue
        print(f"{label}: the inbox in a pty…", file=sys.stderr, flush=True)
        inbox = run_inbox(path, moves=args.moves, pages=args.pages)
        print(f"{label}: the thread view…", file=sys.stderr, flush=True)
        big = made.get("big_thread_id")
        thread = thread_open_s(path, big) if big else []
        thread_again = thread_open_s(path, big, cached=True) if big else []
        print(f"{label}: search…", file=sys.stderr, flush=True)
        searches = search_s(path, datetime.fromisoformat(made["end"]))
        peers = Peers()
        if messages <= peers_limit:
            print(f"{label}: notmuch and neomutt…", file=sys.stderr, flush=True)
            peers = run_peers(path, messages)
        columns.append(
            Column(label, messages, made, inbox, thread, thread_again, peers, searches, screening_rate)
        )
    print(f"Machine: {machine()}")
    built = {c.manifest.get("commit", "unknown") for c in columns}
    print(f"ecoinbox {commit()}; stores built (ingest measured) at {', '.join(sorted(built))}; "
          f"seed {args.seed}; {args.moves} moves, {args.pages} page downs, quiet {QUIET_S * 1000:.0f} ms, "
          f"pty {COLUMNS}x{ROWS}")  # fmt: skip
    print()
    if args.commands_only or args.cli_only:
        for line in commands_table(columns):
            print(line)
        return 0
    if args.ingest_only:
        print("| | " + " | ".join(c.label for c in columns) + " | budget | |")
        print("|---|" + "---:|" * len(columns) + "---|---|")
        for line in ingest_rows(columns):
            print(line)
        return 0
    for line in table(columns):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
