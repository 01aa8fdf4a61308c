"""`ecoinbox demo` from the command to its first rows, measured from outside (issue 16, goal 8).

    python bench/demo_start.py                               # the demo and a bare Textual app
    python bench/demo_start.py --runs 11 --messages 100000 --messages 1000000
    python bench/demo_start.py --store /tmp/bench/1m.db      # a store made by bench/generate.py

Each program runs in a pseudo-terminal of 120x40 (bench/scale.py's `Terminal`): the clock starts
when the process is spawned (the command written) and stops at the last byte of the first frame
that shows a row of the inbox, that is the last byte read before the terminal pauses for
BURST_GAP_S after the first row's text. A bare Textual app that shows 30 rows at once runs
in the same run, as the floor of any Textual program on this machine. Each program runs once to
warm the page cache, then `--runs` times, in rounds; medians and p95 are printed, with how the
demo made its store (a copy-on-write clone, the spare copy left by the last demo, or a full copy).
Each demo stays LINGER_S on screen before `q`, as a user would look at it: one quit within 3 s of
its start leaves no spare, and the next start copies the store.

`--messages N` generates the store of N messages in the bench cache the first time (minutes at a
million), as `ecoinbox demo --messages N` does, then measures the starts that follow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import Terminal, child_env, commit, machine, pct

BURST_GAP_S = 0.05  # a frame is written in one go: a pause this long means it is over
QUIT_WAIT_S = 20.0
# A demo stays this long on screen: one quit in its first 3 s makes no spare (the next one copies).
LINGER_S = 5.0
# A row of the inbox list: its mark (waits for a reply, priority, or none), channel, language.
DEMO_ROW = re.compile(
    rb"(?:\xe2\x97\x8f|\xe2\x96\xb2| ) (?:mastodon|forum|blog|fanblog|reddit|bluesky|email) +[a-z ]{2} "
)
ESCAPES = re.compile(rb"\x1b\[[0-9;?>=]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
BARE_ROW = re.compile(rb"row 030")
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("\\n".join(f"row {n:03} of a bare Textual app" for n in range(1, 31)))

Bare().run()
"""
CLONED = re.compile(r"the demo's store: (.+?) of ")


@dataclass(slots=True)
class Case:
    """One program and what it took to show its first rows."""

    name: str
    argv: list[str]
    row: re.Pattern[bytes]
    first_rows_s: list[float] = field(default_factory=list)
    first_bytes_s: list[float] = field(default_factory=list)
    cloned: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def first_rows(terminal: Terminal, row: re.Pattern[bytes], timeout: float = 120.0) -> tuple[float, float]:
    """(seconds to the first byte, seconds to the last byte of the first frame with a row)."""
    deadline = time.monotonic() + timeout
    while (at := row_chunk(terminal, row)) is None:
        if terminal.process.poll() is not None:
            raise RuntimeError(f"{terminal.process.args!r} exited: {terminal.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no row within {timeout:g} s: {terminal.tail()}")
        time.sleep(0.005)
    while time.monotonic() - terminal.last_chunk()[0] < BURST_GAP_S:
        time.sleep(0.005)
    chunks = list(terminal.chunks)  # a copy: the reader thread appends
    while at + 1 < len(chunks) and chunks[at + 1][0] - chunks[at][0] < BURST_GAP_S:
        at += 1
    return chunks[0][0] - terminal.started, chunks[at][0] - terminal.started


def row_chunk(terminal: Terminal, row: re.Pattern[bytes]) -> int | None:
    """The index of the chunk read that completed the first row on screen, if one did."""
    output, chunks = bytes(terminal.output), list(terminal.chunks)
    if row.search(ESCAPES.sub(b"", output)) is None:
        return None
    return next(i for i, (_, length) in enumerate(chunks) if row.search(ESCAPES.sub(b"", output[:length])))


def run_once(case: Case, home: Path, cache: Path, *, counted: bool) -> None:
    """Start the program, wait for its first rows, quit it."""
    data = Path(tempfile.mkdtemp(prefix="run-", dir=home))
    argv = [*case.argv, "--data-dir", str(data / "demo")] if "demo" in case.argv else case.argv
    # INFO: the demo's log says how it made its store.
    env = {**child_env(home), "XDG_CACHE_HOME": str(cache), "ECOINBOX_LOG_LEVEL": "INFO", **case.env}
    terminal = Terminal(argv, env, cwd=home)
    try:
        first_byte, rows = first_rows(terminal, case.row)
        if "demo" in case.argv:
            time.sleep(LINGER_S)
        terminal.send("q")
        with contextlib.suppress(subprocess.TimeoutExpired):  # close() kills a slow one
            terminal.process.wait(QUIT_WAIT_S)
    finally:
        terminal.close()
    if not counted:
        return
    case.first_bytes_s.append(first_byte)
    case.first_rows_s.append(rows)
    log = data / "demo" / "ecoinbox.log"
    if log.exists():
        case.cloned += CLONED.findall(log.read_text(encoding="utf-8", errors="replace"))


def describe(case: Case) -> str:
    rows, first = case.first_rows_s, case.first_bytes_s
    how = f"  store: {', '.join(sorted(set(case.cloned)))}" if case.cloned else ""
    return (
        f"{case.name:<34} first rows median {statistics.median(rows):5.2f} s  p95 {pct(rows, 95):5.2f} s"
        f"  (first byte {statistics.median(first):4.2f} s)  n={len(rows)}{how}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="measured starts of each program (default 7)")
    parser.add_argument("--messages", type=int, action="append", default=[], help="also demo --messages N")
    parser.add_argument("--store", type=Path, action="append", default=[], help="also demo --store PATH")
    parser.add_argument(
        "--baseline",
        type=Path,
        action="append",
        default=[],
        help="also run the demo cases on this checkout of ecoinbox (another commit)",
    )
    parser.add_argument("--no-plain", action="store_true", help="skip the plain `ecoinbox demo`")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "ecoinbox-bench" / "demo-cache",
        help="the demo's cache directory: generated stores and their spares",
    )
    args = parser.parse_args(argv)
    demo = [sys.executable, "-m", "ecoinbox", "demo"]
    cases = [Case("bare Textual app (30 rows)", [sys.executable, "-c", BARE_APP], BARE_ROW)]
    if not args.no_plain:
        cases.append(Case("ecoinbox demo", demo, DEMO_ROW))
    for messages in args.messages:
        generate_once(messages, args.cache)
        cases.append(
            Case(f"ecoinbox demo --messages {messages}", [*demo, "--messages", str(messages)], DEMO_ROW)
        )
    for store in args.store:
        cases.append(Case(f"ecoinbox demo --store {store.name}", [*demo, "--store", str(store)], DEMO_ROW))
    ours = list(cases[1:])  # each baseline runs these (not another baseline's copies)
    for tree in args.baseline:  # another checkout of ecoinbox, e.g. `git archive main | tar -x -C DIR`
        path = os.pathsep.join([str(tree.resolve()), str(ROOT / "bench")])
        for case in ours:
            cases.append(Case(f"{case.name} ({tree.name})", case.argv, case.row, env={"PYTHONPATH": path}))
    print(f"# {machine()}; commit {commit()}; load {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ecoinbox-demo-bench-") as folder:
        # Round after round, each program once a round: a machine that gets busier weighs on all.
        for run in range(args.runs + 1):  # the first round warms the page cache, not counted
            for case in cases:
                run_once(case, Path(folder), args.cache, counted=run > 0)
        for case in cases:
            print(describe(case), flush=True)
    print(f"# load {os.getloadavg()[0]:.2f} at the end", flush=True)
    return 0


def generate_once(messages: int, cache: Path) -> None:
    """The generated store `ecoinbox demo --messages` uses, made now if missing (not timed)."""
    from ecoinbox.demo.runner import generated_store

    generated_store(messages, cache=cache / "ecoinbox" / "demo")


if __name__ == "__main__":
    sys.exit(main())
