"""SpamAssassin for mail, against the real spamd (Debian's `spamassassin`) started here on loopback.

Where spamd is not installed these tests skip and say how to get it (`.ci/run` installs it when apt
is there). Its verdict (score, rule names) joins the screener's reasons for the mail of the email
channels; an unreachable or silent spamd never holds ingest up: the mail is screened without it,
and the log and `ecoinbox check` say so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, State, View
from ecoinbox.screening.engines import Engines, engines_from_settings
from ecoinbox.screening.inbound import Screener
from ecoinbox.store import open_store

INSTALL_HINT = "apt-get install -y spamassassin spamd"
NO_SPAMD = None if shutil.which("spamd") or os.access("/usr/sbin/spamd", os.X_OK) else (
    f"SpamAssassin's spamd is not installed (Debian/Ubuntu: {INSTALL_HINT})"
)  # fmt: skip
pytestmark = pytest.mark.xdist_group("spamd")  # one spamd per worker is enough: they share it

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
# SpamAssassin's own test string (GTUBE): any spamd calls a mail that holds it spam, with rule GTUBE.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HAM = "Hello, the battery of my e-bike no longer charges since Monday. Could you tell me what to do?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config(port: int, *, timeout: float = 20.0, channels: str = "") -> str:
    return f"""
[brand]
name = "Velora"
[[channels]]
kind = "email"
name = "mail"
account = "support@velora.example"
base_url = "imap://127.0.0.1:1"
[[channels]]
kind = "mastodon"
name = "m"
base_url = "https://social.example"
[screening.spamassassin]
port = {port}
timeout = {timeout}
{channels}
"""


def mail(remote_id: str, text: str, *, channel: str = "mail", subject: str = "Question") -> Message:
    author = Author(channel, f"{remote_id}@mail.example", f"{remote_id}@mail.example", "Sam Doe")
    return Message(channel, f"{remote_id}@mail.example", author, text, T0, title=subject)


@pytest.fixture(scope="module")
def spamd(tmp_path_factory) -> Iterator[int]:
    """A private spamd on 127.0.0.1 (local tests only, no user config): its port."""
    if NO_SPAMD:
        pytest.skip(NO_SPAMD)
    binary = shutil.which("spamd") or "/usr/sbin/spamd"
    home = tmp_path_factory.mktemp("spamd")
    home.chmod(0o777)
    port = free_port()
    argv = [binary, "-L", "-x", f"--listen=127.0.0.1:{port}", "--max-children=2", "--min-children=1",
            f"--pidfile={home / 'spamd.pid'}", "-s", str(home / "spamd.log"), f"--helper-home-dir={home}"]  # fmt: skip
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]  # spamd refuses to judge mail as root
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                log = (
                    (home / "spamd.log").read_text(errors="replace")[-800:]
                    if (home / "spamd.log").exists()
                    else ""
                )
                pytest.skip(f"spamd did not start ({INSTALL_HINT}): {log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("spamd did not listen within 90 s")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def store(tmp_path):
    stores = []

    async def make(settings_text: str):
        s = await open_store(tmp_path / f"inbox{len(stores)}.db", clock=lambda: T0 + timedelta(hours=1))
        await s.attach_screener(Screener.from_settings(parse_config(settings_text, Path("test.toml"))))
        stores.append(s)
        return s

    yield make
    for s in stores:
        s.screener.engines.close()
        await s.close()


async def test_spamd_sends_a_mail_it_calls_spam_to_spam_with_its_score_and_rules(spamd, store):
    gtube = mail("gtube", f"Dear friend,\n{GTUBE}\n")
    alone = parse_config(config(1).split("[screening.spamassassin]")[0], Path("test.toml"))
    assert not Screener.from_settings(alone).assess(gtube).verdict.is_spam  # the built-in filter lets it in
    s = await store(config(spamd))
    result = await s.ingest([gtube, mail("ham", HAM)])
    assert result.spam == {1}
    [row] = await s.conversation_page(View.SPAM)
    assert row.state is State.SPAM and "SpamAssassin: " in row.reason and "GTUBE" in row.reason
    inbox = await s.conversation_page(View.INBOX)
    assert [r.id for r in inbox] == [2]


async def test_spamd_judges_only_the_channels_it_is_configured_for(spamd, store):
    s = await store(config(spamd, channels='channels = ["mail"]'))
    toot = mail("toot", f"look {GTUBE}", channel="m")
    result = await s.ingest([toot])
    assert result.spam == set()  # spamd was not asked about a Mastodon post
    [row] = await s.conversation_page(View.INBOX)
    assert "SpamAssassin" not in row.reason


def test_the_verdict_names_the_score_of_a_mail_spamd_lets_through(spamd):
    settings = parse_config(config(spamd), Path("test.toml"))
    engines = engines_from_settings(settings)
    try:
        [[signal]] = engines.consult_now([mail("ham", HAM)])
    finally:
        engines.close()
    assert signal.name == "engine:spamassassin:ham" and signal.weight == 0.0
    assert signal.reason.startswith("SpamAssassin: ") and " of 5.0" in signal.reason


async def test_an_unreachable_spamd_never_holds_ingest_and_is_said_once(store, caplog):
    s = await store(config(free_port(), timeout=5))
    caplog.set_level(logging.WARNING, logger="ecoinbox.screening.engines")
    started = time.monotonic()
    first = await s.ingest([mail("a", HAM)])
    second = await s.ingest([mail("b", f"{GTUBE}")])
    assert time.monotonic() - started < 3
    assert first.spam == set() and len(await s.conversation_page(View.INBOX)) == 2
    said = [r.getMessage() for r in caplog.records if "SpamAssassin" in r.getMessage()]
    assert len(said) == 1 and "cannot be reached at 127.0.0.1:" in said[0], said
    assert second.spam == set()


async def test_a_spamd_that_never_answers_costs_one_timeout_then_is_left_out(store, caplog):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        s = await store(config(silent.getsockname()[1], timeout=1))
        caplog.set_level(logging.WARNING, logger="ecoinbox.screening.engines")
        started = time.monotonic()
        await s.ingest([mail("a", HAM)])
        first = time.monotonic() - started
        started = time.monotonic()
        await s.ingest([mail("b", HAM)])
        second = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        silent.close()
    assert 0.9 < first < 4, first
    assert second < 0.9, second  # left out for a while: the next batch does not wait again
    assert len(await s.conversation_page(View.INBOX)) == 2
    said = [r.getMessage() for r in caplog.records if "SpamAssassin" in r.getMessage()]
    assert len(said) == 1 and "did not answer within 1 s" in said[0], said


def test_engines_status_says_whether_spamd_answers(spamd):
    good = engines_from_settings(parse_config(config(spamd), Path("test.toml")))
    bad = engines_from_settings(parse_config(config(free_port()), Path("test.toml")))
    try:
        [(ok, line)] = good.status()
        assert ok and line.startswith("SpamAssassin: ok, spamd at 127.0.0.1:") and "answers" in line
        [(ok, line)] = bad.status()
        assert not ok and "cannot be reached" in line
    finally:
        good.close()
        bad.close()
    assert not Engines(())


def test_ecoinbox_check_says_whether_spamd_answers(spamd, tmp_path, capsys):
    from ecoinbox.cli import main

    for port, expected in (
        (spamd, "SpamAssassin: ok, spamd at 127.0.0.1:"),
        (free_port(), "cannot be reached"),
    ):
        path = tmp_path / f"{port}.toml"
        path.write_text(config(port) + f'[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8")
        status = main(["--config", str(path), "check"])
        out = capsys.readouterr().out
        [line] = [line for line in out.splitlines() if line.startswith("SpamAssassin")]
        assert expected in line, out
        assert status == 1  # the mailbox at 127.0.0.1:1 does not answer either
    assert "new messages are screened without it until it answers" in out


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\nhello", "gave no usable answer (not a spamd answer)"),
        (
            b"SPAMD/1.0 76 Bad header line: x\r\n\r\n",
            "spamd refused the request: SPAMD/1.0 76 Bad header line",
        ),
        (b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n", "answered without a verdict"),
    ],
)
async def test_an_answer_that_is_not_spamds_is_said_and_the_mail_screened_without_it(
    store, caplog, answer, said
):
    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    try:
        s = await store(config(server.sockets[0].getsockname()[1], timeout=5))
        caplog.set_level(logging.WARNING, logger="ecoinbox.screening.engines")
        result = await s.ingest([mail("a", f"{GTUBE}")])
    finally:
        server.close()
    assert result.spam == set()
    [line] = [r.getMessage() for r in caplog.records if "SpamAssassin" in r.getMessage()]
    assert said in line, line


async def test_a_backlog_of_mail_is_asked_for_its_time_and_spamd_is_not_left_out(store, caplog):
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(1.2)  # four at a time: four answer at 1.2 s, the next four at 2.4 s
        writer.write(b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 9.0 / 5.0\r\n\r\nGTUBE")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    try:
        s = await store(config(server.sockets[0].getsockname()[1], timeout=2))
        caplog.set_level(logging.INFO, logger="ecoinbox.screening")
        result = await s.ingest([mail(f"m{n}", HAM) for n in range(8)])
        said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SpamAssassin")]
        assert said == ["SpamAssassin: 4 of 8 new mails asked within 2 s; the others are screened without it"]
        assert len(result.spam) == 4  # the four it answered about, in time
        assert len((await s.ingest([mail("next", HAM)])).spam) == 1  # asked again at once
    finally:
        server.close()
