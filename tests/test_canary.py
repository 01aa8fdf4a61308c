"""The token never leaves its place: one unique canary token is used for real (polls, replies, a
forum topic, every error path, the TUI, the CLI as child processes), then every byte ecoinbox
wrote or showed is searched for it, plain, URL-encoded and base64: zero hits."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, quote_plus

import pytest
from stack import wait_until
from tls import make_local_ca

from ecoinbox.channels import build_channel
from ecoinbox.channels.base import AuthError, TransientError
from ecoinbox.cli import resolve_tokens
from ecoinbox.config import load_config
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import ChannelStatus, Engine
from ecoinbox.logs import setup_logging, stop_logging
from ecoinbox.model import OutboxState, View
from ecoinbox.secrets import Secret, token_source
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp

SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__"

TOKEN_SCRIPT = """import json, os, sys
from pathlib import Path
here = Path(__file__).resolve().parent
with open(here / "calls.jsonl", "a", encoding="utf-8") as calls:
    calls.write(json.dumps({"argv": sys.argv, "pid": os.getpid(), "ppid": os.getppid()}) + "\\n")
print((here / "token").read_text(encoding="utf-8").strip())
"""


def config_text(data: Path, vault: Path, mastodon: str, forum: str, secure: str) -> str:
    token_cmd = json.dumps([sys.executable, str(vault / "token.py")])
    return f"""
[brand]
name = "Acme"
handles = ["acme@social.example"]
[store]
path = "{data / "inbox.db"}"
[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{mastodon}"
account = "acme"
poll_interval = 3600
timeout = 1
keyring = false
token_cmd = {token_cmd}
[[channels]]
kind = "discourse"
name = "forum"
base_url = "{forum}"
poll_interval = 3600
keyring = false
token_env = "ECOINBOX_CANARY_FORUM_KEY"
[[channels]]
kind = "mastodon"
name = "secure"
base_url = "{secure}"
account = "acme"
poll_interval = 3600
timeout = 5
keyring = false
token_cmd = {token_cmd}
[forum]
channel = "forum"
category = "support"
"""


def needles(canary: str) -> dict[str, bytes]:
    """The canary as it could appear: plain, URL-encoded, and base64 at each of the three byte
    alignments it can have inside a longer encoded value (standard and URL-safe alphabets)."""
    raw = canary.encode()
    forms = {"plain": raw, "url": quote(canary, safe="").encode(), "url+": quote_plus(canary).encode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        stable = encoded[(shift * 4 + 2) // 3 : 4 * ((shift + len(raw)) // 3)]
        forms[f"base64/{shift}"] = stable
        forms[f"base64url/{shift}"] = stable.replace(b"+", b"-").replace(b"/", b"_")
    return forms


@dataclass
class Scan:
    """Searches files and texts for the canary's forms; counts what it read."""

    forms: dict[str, bytes]
    files: int = 0
    texts: int = 0
    bytes: int = 0
    hits: list[str] = field(default_factory=list)

    def blob(self, where: str, data: bytes) -> None:
        self.bytes += len(data)
        self.hits.extend(f"{where} ({form})" for form, needle in self.forms.items() if needle in data)

    def text(self, where: str, text: str) -> None:
        self.texts += 1
        self.blob(where, text.encode("utf-8", "surrogateescape"))

    def tree(self, root: Path) -> None:
        for path in _files(root):
            self.files += 1
            self.blob(str(path), path.read_bytes())


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def contains(root: Path, needle: bytes) -> bool:
    return any(needle in path.read_bytes() for path in _files(root))


@dataclass
class Child:
    argv: list[str]
    cmdline: list[str]
    returncode: int
    stdout: str
    stderr: str


async def run_cli(config: Path, *args: str, env: dict[str, str]) -> Child:
    argv = [sys.executable, "-m", "ecoinbox.cli", "--config", str(config), *args]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
    )
    try:  # the argv the kernel shows to every user of this machine (ps, /proc)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        cmdline = []
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Child(argv, cmdline, process.returncode, stdout.decode(), stderr.decode())


class RecordingPopen(subprocess.Popen):
    """subprocess.Popen that remembers every argv this process starts (token_cmd included)."""

    started: ClassVar[list[list[str]]] = []

    def __init__(self, args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        argv = [str(args)] if isinstance(args, str | bytes) else [str(arg) for arg in args]
        RecordingPopen.started.append(argv)
        super().__init__(args, *rest, **kwargs)


@dataclass
class Run:
    """One canary run: its servers, where things are written, and what it saw on the way."""

    canary: str
    data: Path
    vault: Path
    mastodon: MastodonServer
    forum: DiscourseServer
    secure: MastodonServer  # HTTPS with a certificate nobody trusts
    exercised: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # messages, statuses, notifications
    open_db: dict[str, bytes] = field(default_factory=dict)  # the store's files while open
    children: list[Child] = field(default_factory=list)
    zoe_conversation: int = 0

    @property
    def config(self) -> Path:
        return self.data / "config.toml"


@pytest.mark.slow
async def test_the_canary_token_is_nowhere_but_in_its_vault(tmp_path, monkeypatch, capsys):
    canary = "canary-" + uuid.uuid4().hex
    data, vault = tmp_path / "data", tmp_path / "vault"
    data.mkdir()
    vault.mkdir()
    (vault / "token").write_text(canary + "\n", encoding="utf-8")  # like `pass`: outside ecoinbox
    (vault / "token.py").write_text(TOKEN_SCRIPT, encoding="utf-8")
    for name in ("SSL_CERT_FILE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECOINBOX_CANARY_FORUM_KEY", canary)
    monkeypatch.setenv("ECOINBOX_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("ECOINBOX_LOG_FILE", str(data / "logs" / "ecoinbox.log"))
    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    RecordingPopen.started = []
    servers = MastodonServer(seed=None, token=canary), DiscourseServer(seed=None, user_api_key=canary)
    run = Run(canary, data, vault, *servers, secure=MastodonServer(seed=None, token=canary))
    await run.mastodon.start()
    await run.forum.start()
    await run.secure.start(ssl_context=make_local_ca(tmp_path / "ca").server_context())
    urls = run.mastodon.base_url, run.forum.base_url, run.secure.base_url
    run.config.write_text(config_text(data, vault, *urls))
    http_levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    assert setup_logging() == data / "logs" / "ecoinbox.log"
    try:
        await in_process(run, monkeypatch)
        await as_child_processes(run)
    finally:
        stop_logging()
        for name, level in http_levels.items():
            logging.getLogger(name).setLevel(level)
        for server in (run.mastodon, run.forum, run.secure):
            await server.stop()

    # The token was really in use, here and in the children.
    assert any(r.headers.get("Authorization") == f"Bearer {canary}" for r in run.mastodon.requests)
    assert any(r.headers.get("User-Api-Key") == canary for r in run.forum.requests)
    calls = [json.loads(line) for line in (vault / "calls.jsonl").read_text().splitlines()]
    assert len(calls) >= 2 + 3 * 2  # here, and in each CLI child that needed tokens
    assert {call["ppid"] for call in calls} - {os.getpid()}  # run by the children too
    assert any(str(vault / "token.py") in argv for argv in RecordingPopen.started)
    assert sum("ecoinbox.cli" in argv for argv in RecordingPopen.started) == len(run.children)

    scan = search_everything(run, calls)
    assert scan.hits == []
    with capsys.disabled():
        print(f"\ncanary: {scan.files} files and {scan.texts} texts, {scan.bytes} bytes scanned, "
              f"{len(run.exercised)} paths exercised, hits={len(scan.hits)}")  # fmt: skip


async def in_process(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll, reply, open a forum topic, then every error path with the TUI on screen."""
    settings = load_config(run.config)
    tokens = resolve_tokens(settings)  # token_cmd and token_env, as the CLI does
    store = await open_store(settings.data_path)
    engine = Engine(
        store,
        {c.name: build_channel(c, tokens[c.name]) for c in settings.channels},
        poll_intervals={c.name: c.poll_interval for c in settings.channels},
        token_sources={c.name: token_source(c) for c in settings.channels},
        leased=False,  # the test drives the sender itself
    )
    seen: list[ChannelStatus] = []
    engine.add_status_listener(seen.append)
    for name in ("httpx", "httpcore"):  # as loud as they go (each new client quiets them again)
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        run.zoe_conversation = await poll_reply_and_redirect(run, engine, store)
        await tui_with_every_error(run, EcoInboxApp(settings, store, engine), seen, monkeypatch)
        run.texts["outbox"] = "\n".join(f"{i.state} {i.error}" for i in await store.outbox_items())
        # While the store is open its WAL and shared memory exist: read them now.
        run.open_db = {path.name: path.read_bytes() for path in sorted(run.data.glob("inbox.db*"))}
        assert {"inbox.db", "inbox.db-wal", "inbox.db-shm"} <= set(run.open_db)
        assert any(b"we're on it" in content for content in run.open_db.values())
    finally:
        await engine.stop()
        await store.close()
    run.texts["statuses"] = "\n".join(f"{s.name} {s.state} {s.detail}" for s in seen)

    run.mastodon.set_token("revoked-" + uuid.uuid4().hex)  # the 401 as a caller sees it
    channel = build_channel(settings.channel("mastodon"), Secret(run.canary))
    try:
        with pytest.raises(AuthError) as refused:
            await channel.check()
    finally:
        await channel.aclose()
        run.mastodon.set_token(run.canary)
    run.texts["401 message"] = str(refused.value)


async def poll_reply_and_redirect(run: Run, engine: Engine, store) -> int:  # type: ignore[no-untyped-def]
    """The happy paths; returns the id of Zoé's conversation."""
    zoe = run.mastodon.add_status(author="zoe@remote.example", text="@acme my order never arrived")
    run.mastodon.add_status(author="bob", text="@acme how do I export my data?")
    # Zoé and Bob are answered below (Pending, Done): Léa still waits in the Inbox the screens show.
    run.mastodon.add_status(author="lea", text="@acme do you ship to Canada?")
    run.forum.add_topic(author="sarah", title="Where is my parcel?", raw="@acme_team any news on my parcel?",
                        mention_brand=True)  # fmt: skip
    outcome = await engine.poll_all_once()
    assert outcome["mastodon"].new == 3 and outcome["forum"].new >= 1
    assert isinstance(outcome["secure"], TransientError)
    assert "TLS certificate not trusted; set SSL_CERT_FILE" in str(outcome["secure"])
    assert run.secure.requests == []  # the handshake failed: no request, no header reached it
    run.texts["poll outcome"] = "\n".join(str(value) for value in outcome.values())
    run.exercised += ["poll mastodon", "poll forum", "TLS failure"]

    rows = {row.snippet: row for row in await store.conversation_page(View.INBOX)}
    zoe_row = next(row for snippet, row in rows.items() if "order never arrived" in snippet)
    bob_row = next(row for snippet, row in rows.items() if "export my data" in snippet)
    zoe_thread, bob_thread = await store.conversation(zoe_row.id), await store.conversation(bob_row.id)
    await store.queue_reply(zoe_row.id, zoe_thread.messages[-1].message, "@zoe@remote.example we're on it")
    await store.queue_redirect_topic(
        bob_row.id, forum_channel="forum", title="How do I export my data?", body="Bob asks how to export.",
        category="support", parent=bob_thread.messages[-1].message,
        reply_text="@bob we answered you on the forum: {topic_url}",
    )  # fmt: skip
    await engine.sender.send_due()
    await engine.sender.send_due()  # the reply that waited for its topic
    assert {item.state for item in await store.outbox_items()} == {OutboxState.SENT}
    assert len(run.mastodon.posted) == 2 and len(run.forum.posted) == 1
    assert any(post.in_reply_to_id == zoe["id"] for post in run.mastodon.posted)
    run.exercised += ["reply through the outbox", "forum topic (redirect)"]
    return zoe_row.id


async def tui_with_every_error(
    run: Run, app: EcoInboxApp, seen: list[ChannelStatus], monkeypatch: pytest.MonkeyPatch
) -> None:
    """500, malformed JSON, a timeout, a crash and a 401, with screenshots of the inbox, a thread,
    the help and the status line full of errors."""
    engine = app.engine
    assert engine is not None
    notified: list[str] = []
    show = app.notify

    def notify(message: str, **kwargs: object) -> None:
        notified.append(message)
        show(message, **kwargs)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    screens = run.data / "screens"
    screens.mkdir()
    async with app.run_test(size=(120, 40)) as pilot:
        await engine.start()
        await wait_until(lambda: engine.statuses["secure"].state == "error", pilot=pilot)
        await pilot.pause()
        (screens / "inbox.svg").write_text(app.export_screenshot())
        await pilot.press("enter")
        await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
        (screens / "thread.svg").write_text(app.export_screenshot())
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        (screens / "help.svg").write_text(app.export_screenshot())
        await pilot.press("escape")

        async def poll_expecting(channel: str, state: str, words: str) -> None:
            before = len(seen)
            engine.poll_now(channel)
            await wait_until(lambda: any(s.name == channel and s.state == state and words in s.detail
                                         for s in seen[before:]), pilot=pilot, timeout=15)  # fmt: skip
            run.exercised.append(f"{channel}: {words}")

        run.mastodon.inject("/api/v1/notifications", status=500, body='{"error":"database on fire"}')
        await poll_expecting("mastodon", "error", "server error 500: database on fire")
        run.mastodon.inject("/api/v1/notifications", status=200, body='{"id": "1", "type": ')
        await poll_expecting("mastodon", "error", "malformed response")
        run.mastodon.inject("/api/v1/notifications", status=200, body="[]", delay=3)
        await poll_expecting("mastodon", "error", "no complete answer within 1 s")

        crash = RuntimeError(f"a bug that quotes the token {run.canary}")

        async def crashing_poll(cursor: dict[str, str]) -> None:
            raise crash

        with monkeypatch.context() as patched:
            patched.setattr(engine.channels["forum"], "poll", crashing_poll)
            await poll_expecting("forum", "error", "internal error: RuntimeError")

        run.mastodon.set_token("somebody-revoked-it-" + uuid.uuid4().hex)
        await poll_expecting("mastodon", "paused", "token refused (401)")
        await pilot.pause()
        (screens / "status-errors.svg").write_text(app.export_screenshot())
        run.mastodon.set_token(run.canary)  # renewed on the platform: R resumes
        await pilot.press("R")
        await wait_until(lambda: engine.statuses["mastodon"].state == "ok", pilot=pilot)
    run.texts["notifications"] = "\n".join(notified)
    assert any("token refused (401)" in message for message in notified)


async def as_child_processes(run: Run) -> None:
    """`poll --once`, `check`, `list`, `show`, then `poll --once` against a revoked token."""
    env = {**os.environ, "ECOINBOX_LOG_FILE": str(run.data / "logs" / "cli.log")}
    before = len(run.mastodon.requests)
    run.children = list(await asyncio.gather(
        run_cli(run.config, "poll", "--once", env=env),
        run_cli(run.config, "check", env=env),
        run_cli(run.config, "list", "--state", "pending", env=env),  # we answered Zoé: she is pending
        run_cli(run.config, "show", str(run.zoe_conversation), env=env),
    ))  # fmt: skip
    run.mastodon.set_token("revoked-again-" + uuid.uuid4().hex)
    run.children.append(await run_cli(run.config, "poll", "--once", env=env))
    polled, checked, listed, shown, revoked = run.children
    assert polled.returncode == 1 and re.search(r"^mastodon: \d+ new", polled.stdout, re.MULTILINE)
    assert re.search(r"^forum: \d+ new", polled.stdout, re.MULTILINE) and "secure: FAILED" in polled.stdout
    assert "mastodon: ok, @acme" in checked.stdout and "forum: ok, @acme_team" in checked.stdout
    assert "TLS certificate not trusted" in checked.stdout
    assert listed.returncode == 0 and "order never arrived" in listed.stdout
    assert shown.returncode == 0 and "we're on it" in shown.stdout
    assert "mastodon: FAILED: the token for channel mastodon was refused" in revoked.stdout
    bearer = f"Bearer {run.canary}"
    assert any(r.headers.get("Authorization") == bearer for r in run.mastodon.requests[before:])
    run.exercised += [f"cli {' '.join(child.argv[5:])}" for child in run.children]


def search_everything(run: Run, calls: list[dict]) -> Scan:
    """Every file ecoinbox wrote (and the committed snapshots), every text it showed, every
    argv it started; after checking that the search reads what it should."""
    log_text = (run.data / "logs" / "ecoinbox.log").read_text()
    assert "httpx: HTTP Request: GET" in log_text and "httpcore.connection" in log_text  # DEBUG got in
    assert "poll of channel forum failed" in log_text and "a bug that quotes the token [redacted]" in log_text
    assert "paused until its token is renewed" in log_text
    logs = [run.data / "logs" / name for name in ("ecoinbox.log", "cli.log")]
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in logs)
    screens = [run.data / "screens" / f"{name}.svg" for name in ("inbox", "thread", "help", "status-errors")]
    assert all(contains(path, b"mastodon") for path in screens)
    assert contains(SNAPSHOTS, b"<svg") and all(child.cmdline for child in run.children[:1])
    control = Scan(needles(run.canary))  # the needles find the canary in each form
    control.tree(run.vault / "token")
    control.text("a base64 header", base64.b64encode(b"Bearer " + run.canary.encode()).decode())
    control.text("a URL", f"https://x.example/?access_token={quote_plus(run.canary)}")
    assert len(control.hits) >= 3, control.hits

    scan = Scan(needles(run.canary))
    home = Path(os.environ["XDG_STATE_HOME"]).parent  # the test's own home: default paths
    for root in (run.data, SNAPSHOTS, home, run.vault / "calls.jsonl"):
        scan.tree(root)
    for name, content in run.open_db.items():
        scan.files += 1
        scan.blob(f"{name} (while open)", content)
    for where, text in run.texts.items():
        scan.text(where, text)
    for child in run.children:
        name = " ".join(child.argv[5:])
        scan.text(f"argv of {name}", "\0".join(child.argv))
        scan.text(f"/proc cmdline of {name}", "\0".join(child.cmdline))
        scan.text(f"stdout of {name}", child.stdout)
        scan.text(f"stderr of {name}", child.stderr)
    for argv in RecordingPopen.started + [call["argv"] for call in calls]:
        scan.text(f"argv {argv}", "\0".join(argv))
    return scan
