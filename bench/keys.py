"""Issue 16, goals 3, 4 and 6: what each key costs as the terminal receives it.

    python bench/keys.py                      # 10k and 100k (stores cached with bench/scale.py's)
    python bench/keys.py --sizes 10k --rounds 5 --moves 60
    python bench/keys.py --explain            # also: which screen rows each key rewrote

The real `ecoinbox` runs in a pty of 120x40 (bench/scale.py's `Terminal`) on a cached store with
no channels. Each key is written once the terminal has been quiet for `--quiet` (0.3 s); its
answer is every byte read until the terminal is quiet again: the time from the write to the last byte,
and the byte count. In the same run, the same keys go to a bare Textual app (an OptionList of
1,000 lines beside a pane that shows the highlighted one: Textual's own floor) and to neomutt on
the store's messages as a Maildir (when installed; `apt-get install neomutt`).

Keys: `j` and `k` one at a time (an in-page move rewrites at most three rows of the list: the two
that changed and none else; a move that scrolls the list is counted apart), then `j` and `k` held
(HELD_KEYS of each, one every 1/30 s as a keyboard repeats them: the bytes per key, and the time
from the last key to the last byte, when the thread of the row where the cursor rests has come), then rounds of Enter
(open the thread beside), Esc (back to the list), Tab and shift+Tab (the next view and back), `/`
(the search line opens), the search typed in one write, Enter (its results) and Esc (the search
closes). Goal 6: `j` pressed from the first frame on, for 3 s, while the store's background check reads
the whole file, against `j` once the process is idle.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import scale
from scale import Terminal, child_env, first_row_text, store_for, write_config

MOVES = 100  # j presses, then as many k
ROUNDS = 15  # rounds of Enter, Esc, Tab, shift+Tab, /, the search, Esc
QUERY = "invoice"
EARLY_S = 3.0
QUIET_S = 0.3  # an answer is over after this much silence (scale.py's 0.12 s cut view switches short)  # goal 6: j pressed during this long after the first frame
SHIFT_TAB = "\x1b[Z"
MOVE_S, MOVE_BYTES = 0.016, 1024  # goal 3
HELD_KEYS, HELD_EVERY_S = 15, 1 / 30  # a held key: a keyboard repeats it about 30 times a second
SWITCH_S, SWITCH_BYTES = 0.050, 12 * 1024  # goal 4
CURSOR_TO = re.compile(rb"\x1b\[(\d+);(\d+)H")


@dataclass(slots=True)
class Answer:
    """One key's answer: seconds from the write to the last byte, bytes, the rows rewritten."""

    seconds: float
    written: int
    rows: dict[int, int]  # screen row (1-based) -> bytes sent to it
    list_rows: set[int]  # rows written from the list's columns (the left 60%)
    list_bytes: int  # bytes written to those columns
    cpu: float  # CPU seconds the program used from the key to the end of the answer


@dataclass(slots=True)
class Run:
    """Every answer of one program, by the name of the key."""

    name: str
    answers: dict[str, list[Answer]] = field(default_factory=dict)

    def add(self, key: str, answer: Answer) -> None:
        self.answers.setdefault(key, []).append(answer)


def pieces_of(data: bytes) -> dict[tuple[int, int], int]:
    """How many bytes were written from each (row, column) the cursor was moved to."""
    pieces: dict[tuple[int, int], int] = {}
    marks = list(CURSOR_TO.finditer(data))
    for mark, following in zip(marks, [*marks[1:], None], strict=False):
        end = len(data) if following is None else following.start()
        at = (int(mark.group(1)), int(mark.group(2)))
        pieces[at] = pieces.get(at, 0) + end - mark.start()
    return pieces


def rows_of(data: bytes) -> dict[int, int]:
    """How many bytes went to each screen row (from one cursor move to the next)."""
    rows: dict[int, int] = {}
    marks = list(CURSOR_TO.finditer(data))
    for mark, following in zip(marks, [*marks[1:], None], strict=False):
        end = len(data) if following is None else following.start()
        row = int(mark.group(1))
        rows[row] = rows.get(row, 0) + end - mark.start()
    return rows


def press(terminal: Terminal, keys: str) -> Answer:
    cpu = scale.cpu_seconds(terminal.process.pid)
    sent, mark = terminal.send(keys)
    _, done, written = terminal.settle(mark)
    cpu = scale.cpu_seconds(terminal.process.pid) - cpu
    data = bytes(terminal.output[mark : mark + written])  # one slice of a bytearray: atomic under the GIL
    left = {row: size for (row, column), size in pieces_of(data).items() if column <= scale.COLUMNS * 3 // 5}
    seconds = done - sent if written else float("nan")
    return Answer(seconds, written, rows_of(data), set(left), sum(left.values()), cpu)


def hold(terminal: Terminal, key: str, count: int = HELD_KEYS) -> Answer:
    """`key` written `count` times, one every HELD_EVERY_S, as one answer: the bytes per key, and
    the time from the last key to the last byte (the thread where the cursor rests)."""
    cpu = scale.cpu_seconds(terminal.process.pid)
    mark = terminal.length()
    for _ in range(count):
        sent, _ = terminal.send(key)
        time.sleep(HELD_EVERY_S)
    _, done, written = terminal.settle(mark)
    cpu = scale.cpu_seconds(terminal.process.pid) - cpu
    data = bytes(terminal.output[mark : mark + written])
    left = {row: size for (row, column), size in pieces_of(data).items() if column <= scale.COLUMNS * 3 // 5}
    seconds = done - sent if written else float("nan")
    return Answer(
        seconds, written // count, rows_of(data), set(left), sum(left.values()) // count, cpu / count
    )


def quiet(terminal: Terminal) -> None:
    """Wait until the terminal has been quiet for QUIET_S (after what was already on its way)."""
    time.sleep(scale.QUIET_S)
    terminal.settle(max(0, terminal.length() - 1))


# ---- ecoinbox ------------------------------------------------------------------------------------


def list_moved_in_page(answer: Answer) -> bool:
    """An in-page move rewrites at most the two rows of the list that changed (a scroll: all of them)."""
    return len([row for row in answer.list_rows if 2 <= row <= scale.ROWS - 3]) <= 2


def run_ecoinbox(store_path: Path, *, moves: int, rounds: int, explain: bool) -> Run:
    needle, total = asyncio.run(first_row_text(store_path))
    run = Run("ecoinbox")
    with tempfile.TemporaryDirectory(prefix="ecoinbox-keys-") as folder:
        home = Path(folder)
        config = write_config(home, store_path)
        argv = [sys.executable, "-m", "ecoinbox", "--config", str(config)]
        terminal = Terminal(argv, child_env(home))
        try:
            terminal.wait_for(needle, timeout=120)
            started = time.monotonic()
            while time.monotonic() - started < EARLY_S:  # the store's check runs meanwhile
                answer = press(terminal, "j")
                run.add(
                    "j in page, first 3 s" if list_moved_in_page(answer) else "j scrolling, first 3 s", answer
                )
            terminal.quiet_cpu()
            quiet(terminal)
            terminal.send("g")
            quiet(terminal)
            for key in "jk":
                for _ in range(min(moves, total - 1)):
                    answer = press(terminal, key)
                    run.add(f"{key} in page" if list_moved_in_page(answer) else f"{key} scrolling", answer)
            for _ in range(max(1, rounds // 3)):  # from the top: HELD_KEYS down and up stay in the page
                run.add("j held (per key)", hold(terminal, "j"))
                quiet(terminal)
                run.add("k held (per key)", hold(terminal, "k"))
                quiet(terminal)
            for _ in range(rounds):
                press(terminal, "j")  # another conversation each round (not counted)
                for name, keys in (("Enter (open)", "\r"), ("Esc (back)", "\x1b"), ("Tab", "\t"),
                                   ("shift+Tab", SHIFT_TAB), ("/", "/"), ("typing the search", QUERY),
                                   ("Enter (results)", "\r"), ("Esc (close the search)", "\x1b")):  # fmt: skip
                    answer = press(terminal, keys)
                    run.add(name, answer)
                    if explain:
                        print(f"{name!r}: {answer.written} B, {answer.seconds * 1000:.1f} ms, rows "
                              f"{sorted(answer.rows.items())}", file=sys.stderr)  # fmt: skip
            terminal.send("q")
            terminal.process.wait(30)
        finally:
            terminal.close()
    return run


# ---- a bare Textual app ----------------------------------------------------------------------------


BARE_APP = """
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, OptionList, Static

class Bare(App):
    CSS = "OptionList { width: 61%; height: 1fr; } #pane { width: 1fr; height: 1fr; }"
    BINDINGS = [Binding("j", "down"), Binding("k", "up"), Binding("enter", "open"),
                Binding("escape", "back"), Binding("q", "quit")]

    def compose(self):
        with Horizontal():
            yield OptionList(*[f"conversation {n} " + "words " * 10 for n in range(1000)])
            yield Static(id="pane", markup=False)
        yield Footer()

    def on_mount(self):
        self.query_one(OptionList).focus()

    def on_option_list_option_highlighted(self, event):
        self.query_one("#pane", Static).update(f"thread of {event.option.prompt}\\n" * 30)

    def action_down(self):
        self.query_one(OptionList).action_cursor_down()

    def action_up(self):
        self.query_one(OptionList).action_cursor_up()

    def action_open(self):
        self.query_one("#pane").can_focus = True
        self.query_one("#pane").focus()

    def action_back(self):
        self.query_one(OptionList).focus()

Bare().run()
"""


def run_bare(*, moves: int, rounds: int) -> Run:
    run = Run("bare Textual")
    with tempfile.TemporaryDirectory(prefix="textual-keys-") as folder:
        home = Path(folder)
        (home / "bare.py").write_text(BARE_APP, encoding="utf-8")
        terminal = Terminal([sys.executable, str(home / "bare.py")], child_env(home), cwd=home)
        try:
            terminal.wait_for(b"conversation 1 ", timeout=60)
            terminal.quiet_cpu()
            quiet(terminal)
            for key in "jk":
                for _ in range(moves):
                    answer = press(terminal, key)
                    run.add(f"{key} in page" if list_moved_in_page(answer) else f"{key} scrolling", answer)
            for _ in range(max(1, rounds // 3)):
                run.add("j held (per key)", hold(terminal, "j"))
                quiet(terminal)
                run.add("k held (per key)", hold(terminal, "k"))
                quiet(terminal)
            for _ in range(rounds):
                run.add("Enter (open)", press(terminal, "\r"))
                run.add("Esc (back)", press(terminal, "\x1b"))
            terminal.send("q")
            terminal.process.wait(30)
        finally:
            terminal.close()
    return run


# ---- neomutt ---------------------------------------------------------------------------------------


def run_neomutt(store_path: Path, messages: int, *, moves: int, rounds: int) -> Run | None:
    neomutt = shutil.which("neomutt")
    if neomutt is None:
        return None
    mailbox = scale.export_maildir(store_path) / "inbox"
    run = Run("neomutt")
    with tempfile.TemporaryDirectory(prefix="neomutt-keys-") as folder:
        home = Path(folder)
        cache = mailbox.parent / ".neomutt-cache"
        cache.mkdir(exist_ok=True)
        settings = [f"folder={mailbox.parent}", f"spoolfile={mailbox}", "record=", "postponed=",
                    f"header_cache={cache}/", "mbox_type=Maildir", "sort=date", "mark_old=no", "sleep_time=0",
                    "mail_check=3600", "pager_index_lines=0", "wait_key=no"]  # fmt: skip
        muttrc = home / "muttrc"
        muttrc.write_text("".join(f"set {line}\n" for line in settings), encoding="utf-8")
        argv = [neomutt, "-n", "-F", str(muttrc), "-f", str(mailbox)]
        terminal = Terminal(argv, {**child_env(home), "MAIL": str(mailbox)}, cwd=home)
        try:
            terminal.wait_for(f"Msgs:{messages}".encode(), timeout=1800)
            quiet(terminal)
            for key in "kj":  # it opens on the newest message, at the bottom
                for _ in range(moves):
                    answer = press(terminal, key)
                    run.add(f"{key} in page" if list_moved_in_page(answer) else f"{key} scrolling", answer)
            for _ in range(max(1, rounds // 3)):
                run.add("k held (per key)", hold(terminal, "k"))
                quiet(terminal)
                run.add("j held (per key)", hold(terminal, "j"))
                quiet(terminal)
            for _ in range(rounds):
                run.add("Enter (open)", press(terminal, "\r"))
                run.add("Esc (back)", press(terminal, "q"))  # the pager's way back to the index
                run.add("Tab", press(terminal, "\t"))  # the next new message
                run.add("/", press(terminal, "/"))
                run.add("typing the search", press(terminal, QUERY))
                run.add("Enter (results)", press(terminal, "\r"))
            terminal.send("q")
            terminal.process.wait(30)
        except RuntimeError as exc:
            print(f"neomutt: {exc}", file=sys.stderr)
            return None
        finally:
            terminal.close()
    return run


# ---- the table -------------------------------------------------------------------------------------

ROW_KEYS = ("j in page", "k in page", "j scrolling", "k scrolling", "j held (per key)", "k held (per key)",
            "Enter (open)", "Esc (back)", "Tab",
            "shift+Tab", "/", "typing the search", "Enter (results)", "Esc (close the search)",
            "j in page, first 3 s", "j scrolling, first 3 s")  # fmt: skip
BUDGETS: dict[str, tuple[float, int]] = {
    "j in page": (MOVE_S, MOVE_BYTES), "k in page": (MOVE_S, MOVE_BYTES),
    "Enter (open)": (SWITCH_S, SWITCH_BYTES), "Esc (back)": (SWITCH_S, SWITCH_BYTES),
    "Tab": (SWITCH_S, SWITCH_BYTES), "shift+Tab": (SWITCH_S, SWITCH_BYTES), "/": (SWITCH_S, SWITCH_BYTES),
    "Enter (results)": (SWITCH_S, SWITCH_BYTES), "Esc (close the search)": (SWITCH_S, SWITCH_BYTES),
    "j in page, first 3 s": (MOVE_S, MOVE_BYTES),
}  # fmt: skip


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def cell(answers: list[Answer] | None, *, left_only: bool = False) -> str:
    if not answers:
        return "–"
    if left_only:  # the list's columns: what a move costs without the thread beside it
        sizes = [float(a.list_bytes) for a in answers]
        return f"{statistics.median(sizes):,.0f} / {p95(sizes):,.0f} B"
    times = [a.seconds * 1000 for a in answers if a.seconds == a.seconds]
    sizes = [float(a.written) for a in answers]
    cpu = statistics.median(a.cpu * 1000 for a in answers)
    if not times:
        return "nothing written"
    return (f"{statistics.median(times):.1f} / {p95(times):.1f} ms, "
            f"{statistics.median(sizes):,.0f} / {p95(sizes):,.0f} B, CPU {cpu:.0f} ms")  # fmt: skip


def verdict(key: str, answers: list[Answer] | None) -> str:
    if key not in BUDGETS or not answers:
        return ""
    seconds, size = BUDGETS[key]
    worst = p95([a.seconds for a in answers if a.seconds == a.seconds] or [float("inf")])
    big = p95([float(a.written) for a in answers])
    return "ok" if worst <= seconds and big <= size else "OVER"


def table(columns: list[tuple[str, list[Run]]]) -> Iterator[str]:
    heads = [f"{program} {label}" for label, runs in columns for program in [r.name for r in runs]]
    yield "| key (median / p95: to the last byte; bytes; median CPU) | " + " | ".join(heads) + " | budget | |"
    yield "|---|" + "---:|" * len(heads) + "---|---|"
    for key in ROW_KEYS:
        cells = [cell(run.answers.get(key)) for _, runs in columns for run in runs]
        if all(c == "–" for c in cells):
            continue
        budget = BUDGETS.get(key)
        said = f"<= {budget[0] * 1000:.0f} ms, <= {budget[1]:,} B" if budget else ""
        ecoinbox = [run for _, runs in columns for run in runs if run.name == "ecoinbox"]
        verdicts = {verdict(key, run.answers.get(key)) for run in ecoinbox} - {""}
        yield (f"| {key} | " + " | ".join(cells) + f" | {said} | "
               + ("OVER" if "OVER" in verdicts else "ok" if verdicts else "") + " |")  # fmt: skip
        if key in ("j in page", "k in page"):
            cells = [cell(run.answers.get(key), left_only=True) for _, runs in columns for run in runs]
            yield f"| {key}: bytes to the list's columns | " + " | ".join(cells) + " | <= 1,024 B | |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k, 100k, 1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ecoinbox-bench")
    parser.add_argument("--moves", type=int, default=MOVES)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-peers", action="store_true", help="ecoinbox alone")
    parser.add_argument("--peers-up-to", default="100k", help="neomutt up to this size (a Maildir of files)")
    parser.add_argument("--explain", action="store_true", help="print the rows each key rewrote")
    parser.add_argument("--quiet", type=float, default=QUIET_S,
                        help="seconds of silence that end an answer (a view switch waits for the store)")  # fmt: skip
    args = parser.parse_args(argv)
    scale.QUIET_S = args.quiet  # Terminal.settle reads it at each call
    columns: list[tuple[str, list[Run]]] = []
    bare = None if args.no_peers else run_bare(moves=args.moves, rounds=args.rounds)
    for label in args.sizes.split(","):
        messages = scale.SIZES[label]
        store_path, _ = store_for(args.cache, messages, args.seed, rebuild=False)
        runs = [run_ecoinbox(store_path, moves=args.moves, rounds=args.rounds, explain=args.explain)]
        with_peers = not args.no_peers and messages <= scale.SIZES[args.peers_up_to]
        if with_peers and (neomutt := run_neomutt(store_path, messages, moves=args.moves,
                                                         rounds=args.rounds)):  # fmt: skip
            runs.append(neomutt)
        columns.append((label, runs))
    if bare is not None:
        columns.append(("", [bare]))
    print(f"ecoinbox {scale.commit()}; pty {scale.COLUMNS}x{scale.ROWS}, quiet {scale.QUIET_S * 1000:.0f} ms;"
          f" {args.moves} j then k, {args.rounds} rounds; load {_load()}")  # fmt: skip
    print()
    for line in table(columns):
        print(line)
    return 0


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
