"""Broken environments: a damaged, newer, read-only or full store, a terminal that cannot draw
the inbox. Each gives a clear message, keeps the outbox intact, and never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from configs import channel_toml, config_toml
from damage import (
    Terminal,
    break_page,
    break_schema,
    ecoinbox_cli,
    fill_store,
    full_disk,
    truncate_in_the_middle,
)
from stack import FIXED_NOW, TOKEN, running_stack, wait_until
from textual.widgets import Static, TextArea

from ecoinbox import __version__
from ecoinbox.app_start import check_then_start
from ecoinbox.cli import main
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.model import OutboxState, State, View
from ecoinbox.store import SQLiteStore, StoreFull, StoreNotWritable, open_store
from ecoinbox.store.schema import SCHEMA_VERSION
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.inbox import READ_ONLY_NOTICE
from ecoinbox.tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen

ROOT = os.geteuid() == 0
AS_ROOT = "root may write in read-only folders and files: permissions cannot be tested as root"


def write_config(tmp_path: Path, store: Path | None = None, body: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(body, store=store or tmp_path / "inbox.db"), encoding="utf-8")
    return path


def assert_one_clear_paragraph(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.startswith("ecoinbox: ") and "\n" not in message, message
    for word in words:
        assert word in message, (word, message)


def snapshot(path: Path) -> tuple[bytes, bytes]:
    """The store file and what its write-ahead log holds, byte for byte (an empty log or the
    shared-memory index a reader leaves behind is no write)."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


# ---- a damaged store ----------------------------------------------------------------------------


async def test_check_reads_the_whole_store_and_says_how_to_recover_a_damaged_one(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    sound = ecoinbox_cli("--config", str(config), "check")
    assert sound.returncode == 0 and f"store: {tmp_path / 'inbox.db'}: ok" in sound.stdout
    break_page(tmp_path / "inbox.db", "messages_by_conversation")
    before = snapshot(tmp_path / "inbox.db")
    damaged = ecoinbox_cli("--config", str(config), "check")
    assert damaged.returncode == 1 and "Traceback" not in damaged.stdout + damaged.stderr
    assert "DAMAGED" in damaged.stdout and '".recover"' in damaged.stdout
    assert snapshot(tmp_path / "inbox.db") == before


@pytest.mark.parametrize("once", [True, False], ids=["poll --once", "poll"])
async def test_the_headless_poll_refuses_a_damaged_store_as_the_inbox_does(tmp_path, once):
    """The damage is in an index: the file opens and its rows read, so only the quick check
    tells; the poll would otherwise write a new mention and its cursor into it."""
    async with MastodonServer(seed=None, token=TOKEN) as server:
        server.add_status(author="nadia@remote.example", text="@acme my order never came")
        mastodon = channel_toml(
            base_url=server.base_url, account="acme", keyring=False, token_env="TEST_TOKEN"
        )
        config = write_config(tmp_path, body=mastodon)
        await fill_store(tmp_path / "inbox.db", cursor=None)
        break_page(tmp_path / "inbox.db", "messages_by_conversation")
        before = snapshot(tmp_path / "inbox.db")
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ecoinbox.cli", "--config", str(config), "poll", *(["--once"] if once else []),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "TEST_TOKEN": TOKEN},
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(child.communicate(), timeout=30)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert child.returncode == 1
    assert_one_clear_paragraph(SimpleNamespace(stdout=out.decode(), stderr=err.decode()),
                               "is damaged", '".recover"', "never deletes")  # fmt: skip
    assert snapshot(tmp_path / "inbox.db") == before


async def test_list_and_show_read_what_a_damaged_store_still_holds(tmp_path):
    config = write_config(tmp_path)
    replied = await fill_store(tmp_path / "inbox.db")
    break_page(tmp_path / "inbox.db", "messages")
    before = snapshot(tmp_path / "inbox.db")
    listed = ecoinbox_cli("--config", str(config), "list", "--limit", "500")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 120  # another table
    shown = ecoinbox_cli("--config", str(config), "show", str(replied))
    assert shown.returncode == 1
    assert_one_clear_paragraph(shown, "is damaged", "sqlite3", '".recover"', "never deletes")
    assert snapshot(tmp_path / "inbox.db") == before


async def test_a_truncated_store_is_reported_not_crashed_on(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    truncate_in_the_middle(tmp_path / "inbox.db")
    before = snapshot(tmp_path / "inbox.db")
    checked = ecoinbox_cli("--config", str(config), "check")
    assert checked.returncode == 1 and "DAMAGED" in checked.stdout
    for command in (["list", "--limit", "500"], ["show", "1"], ["poll", "--once"]):
        result = ecoinbox_cli("--config", str(config), *command)
        assert "Traceback" not in result.stdout + result.stderr, command
        assert result.returncode == 0 or "damaged" in result.stderr, (command, result.stderr)
    assert snapshot(tmp_path / "inbox.db") == before


async def test_a_damaged_schema_page_is_a_damaged_store_not_a_bug(tmp_path):
    """The schema's text holds bytes that are not UTF-8: SQLite's own error quotes them, and
    that error must not come out as "this is a bug (UnicodeDecodeError)"."""
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    break_schema(tmp_path / "inbox.db", "authors")
    before = snapshot(tmp_path / "inbox.db")
    checked = ecoinbox_cli("--config", str(config), "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    assert "DAMAGED" in checked.stdout and "schema" in checked.stdout and '".recover"' in checked.stdout
    for command in (["list"], ["poll", "--once"]):
        result = ecoinbox_cli("--config", str(config), *command)
        assert result.returncode == 1
        assert_one_clear_paragraph(result, "is damaged", "schema", '".recover"', "never deletes")
        assert "bug" not in result.stderr
    assert snapshot(tmp_path / "inbox.db") == before


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "inbox.db").write_bytes(b"my notes, not a database\n" * 200)
    before = snapshot(tmp_path / "inbox.db")
    for command in (["list"], ["poll", "--once"]):
        result = ecoinbox_cli("--config", str(config), *command)
        assert result.returncode == 1
        assert_one_clear_paragraph(result, "not a SQLite database", '".recover"')
    assert snapshot(tmp_path / "inbox.db") == before


def test_an_empty_store_file_is_a_new_store(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "inbox.db").touch()
    result = ecoinbox_cli("--config", str(config), "list")
    assert result.returncode == 0 and result.stdout == "" and "Traceback" not in result.stderr
    assert asyncio.run(SQLiteStore(tmp_path / "inbox.db").check_integrity()) == []


async def test_a_damaged_store_opens_the_inbox_read_only_and_is_never_written(tmp_path):
    """The real inbox on a terminal: the quick check runs beside it, finds the broken page,
    and the inbox says so and refuses changes; the file is not touched. The store sits deep
    (its path is in the banner and the notices: long ones once pushed the refusal off screen)."""
    folder = (
        tmp_path / "home" / "community-manager" / ".local" / "share" / "ecoinbox" / "stores-of-acme-brand"
    )
    folder.mkdir(parents=True)
    config = write_config(tmp_path, store=folder / "inbox.db")
    await fill_store(folder / "inbox.db")
    break_page(folder / "inbox.db", "messages_by_conversation")  # the list still reads fine
    before = snapshot(folder / "inbox.db")
    terminal = Terminal("--config", str(config), size=(100, 30))
    try:
        assert terminal.wait_for("READ-ONLY"), terminal.text[-2000:]
        assert terminal.wait_for("damaged")  # one word: a toast may wrap between two (a deep path)
        terminal.press("e")  # mark done: refused
        assert terminal.wait_for("nothing can be changed")
        terminal.press("q")
    finally:
        code = terminal.finish()
    assert code == 0 and "Traceback" not in terminal.text
    assert snapshot(folder / "inbox.db") == before


# ---- a newer store ------------------------------------------------------------------------------


async def test_a_newer_store_names_this_version_and_says_to_upgrade_and_is_not_written(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    with contextlib.closing(sqlite3.connect(tmp_path / "inbox.db")) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = snapshot(tmp_path / "inbox.db")
    for command in (["list"], ["poll", "--once"]):
        result = ecoinbox_cli("--config", str(config), *command)
        assert result.returncode == 1
        assert_one_clear_paragraph(result, "newer ecoinbox", f"ecoinbox {__version__}", "Upgrade ecoinbox",
                                   "not modified")  # fmt: skip
    assert snapshot(tmp_path / "inbox.db") == before


async def test_check_says_a_newer_ecoinbox_wrote_the_store_and_what_to_do(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    with contextlib.closing(sqlite3.connect(tmp_path / "inbox.db")) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = snapshot(tmp_path / "inbox.db")
    checked = ecoinbox_cli("--config", str(config), "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    assert f"store: {tmp_path / 'inbox.db'}: ok" not in checked.stdout
    assert "newer ecoinbox" in checked.stdout and "Upgrade ecoinbox" in checked.stdout
    assert snapshot(tmp_path / "inbox.db") == before


# ---- a read-only or full disk -------------------------------------------------------------------


@pytest.mark.skipif(ROOT, reason=AS_ROOT)
async def test_a_read_only_folder_is_named_and_the_store_can_still_be_read(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    config = write_config(tmp_path, folder / "inbox.db")
    await fill_store(folder / "inbox.db")
    folder.chmod(0o555)
    try:
        before = snapshot(folder / "inbox.db")
        listed = ecoinbox_cli("--config", str(config), "list", "--limit", "500")
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 120
        assert_one_clear_paragraph(listed, f"the folder {folder} is read-only", "Opened read-only")
        polled = ecoinbox_cli("--config", str(config), "poll", "--once")
        assert polled.returncode == 1
        assert_one_clear_paragraph(polled, f"the folder {folder} is read-only", "[store] path")
        assert snapshot(folder / "inbox.db") == before
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(ROOT, reason=AS_ROOT)
def test_a_store_that_cannot_be_created_names_the_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o555)
    config = write_config(tmp_path, folder / "inbox.db")
    try:
        result = ecoinbox_cli("--config", str(config), "list")
        assert result.returncode == 1
        assert_one_clear_paragraph(result, f"Cannot create the store {folder / 'inbox.db'}", "writable")
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(ROOT, reason=AS_ROOT)
async def test_a_read_only_store_file_is_named(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db")
    (tmp_path / "inbox.db").chmod(0o400)
    result = ecoinbox_cli("--config", str(config), "poll", "--once")
    assert result.returncode == 1
    assert_one_clear_paragraph(result, f"the file {tmp_path / 'inbox.db'} is read-only", "chmod")


async def test_a_read_only_store_is_explained_even_to_root(tmp_path):
    """What SQLite says for a read-only file, produced the one way root cannot bypass."""
    store = await open_store(tmp_path / "inbox.db")
    try:
        await store._writer.execute("PRAGMA query_only = ON")  # SQLITE_READONLY, as for a 0444 file
        with pytest.raises(StoreNotWritable, match="is read-only") as refused:
            await store.set_state([1], State.DONE)
        assert "chmod u+w" in str(refused.value) and "[store] path" in str(refused.value)
    finally:
        await store.close()


async def test_a_full_disk_during_a_poll_is_explained_and_keeps_the_outbox(tmp_path):
    async with MastodonServer(seed=None, token=TOKEN) as server:
        for i in range(60):
            server.add_status(author=f"p{i}@remote.example", text=f"@acme question {i} " + "é" * 400)
        mastodon = channel_toml(
            base_url=server.base_url, account="acme", keyring=False, token_env="TEST_TOKEN"
        )
        config = write_config(tmp_path, body=mastodon)
        await fill_store(tmp_path / "inbox.db", conversations=3, cursor=None)
        log = tmp_path / "ecoinbox.log"  # already past the limit: the log cannot be written either
        log.write_bytes(b"earlier lines\n" * 8000)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ecoinbox.cli", "--config", str(config), "poll", "--once",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "TEST_TOKEN": TOKEN, "ECOINBOX_LOG_FILE": str(log)},
            preexec_fn=full_disk(64 * 1024),
        )  # fmt: skip
        out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    result = SimpleNamespace(stdout=out.decode(), stderr=err.decode())
    assert child.returncode == 1
    assert_one_clear_paragraph(result, "the disk is full", "Free some space", "intact")
    store = await open_store(tmp_path / "inbox.db")
    try:
        assert await store.cursor("mastodon") == {}  # not moved past messages that were not saved
        assert await store.count_conversations(View.INBOX) == 3
        (queued,) = await store.outbox_items()
        assert queued.state is OutboxState.QUEUED and queued.text == "@person sorry, we are on it"
    finally:
        await store.close()


# ---- the terminal -------------------------------------------------------------------------------


def test_the_inbox_refuses_a_pipe_instead_of_hanging(tmp_path):
    result = ecoinbox_cli("--config", str(write_config(tmp_path)), timeout=20)
    assert result.returncode == 1
    assert_one_clear_paragraph(result, "needs a terminal", "ecoinbox list")
    assert "\x1b[" not in result.stdout + result.stderr


def test_term_dumb_is_refused_before_any_screen(tmp_path):
    terminal = Terminal("--config", str(write_config(tmp_path)), env={"TERM": "dumb"})
    code = terminal.finish()
    assert code == 1 and "cursor control" in terminal.text and "TERM=xterm-256color" in terminal.text
    assert "ecoinbox list" in terminal.text and "Traceback" not in terminal.text
    assert b"\x1b[" not in terminal.raw  # no screen was drawn


def test_an_ascii_only_locale_is_refused_with_what_to_set(tmp_path):
    """Python makes LANG=C UTF-8 by itself (PEP 538/540); only a locale that really is not, here
    ASCII with Python's UTF-8 mode switched off, would draw the inbox as garbage."""
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    terminal = Terminal("--config", str(write_config(tmp_path)), env=env)
    code = terminal.finish()
    assert code == 1 and "UTF-8 terminal" in terminal.text and "LANG=C.UTF-8" in terminal.text
    assert "Traceback" not in terminal.text and b"\x1b[" not in terminal.raw


async def test_lang_c_still_draws_the_inbox_with_its_accents(tmp_path):
    config = write_config(tmp_path)
    await fill_store(tmp_path / "inbox.db", conversations=3)
    terminal = Terminal("--config", str(config), env={"LC_ALL": "C", "LANG": "C"})
    try:
        assert terminal.wait_for("Person 1 Zoé"), terminal.text[-2000:]
        terminal.press("q")
    finally:
        code = terminal.finish()
    assert code == 0 and "Traceback" not in terminal.text and "Error" not in terminal.text


# ---- the one error path -------------------------------------------------------------------------


def test_an_unexpected_failure_is_one_paragraph_and_its_traceback_goes_to_the_log(
    tmp_path, monkeypatch, capsys
):
    log = tmp_path / "log" / "ecoinbox.log"
    monkeypatch.setenv("ECOINBOX_LOG_FILE", str(log))

    def broken(path):  # type: ignore[no-untyped-def]
        raise RuntimeError("internal state with Bearer s3cr3t-token-value")

    monkeypatch.setattr("ecoinbox.cli.load_config", broken)
    from ecoinbox.channels.http import register_secret

    register_secret("s3cr3t-token-value")
    try:
        assert main(["list"]) == 1
    finally:
        for handler in list(logging.getLogger("ecoinbox").handlers):
            logging.getLogger("ecoinbox").removeHandler(handler)
            handler.close()
    captured = capsys.readouterr()
    result = SimpleNamespace(stdout=captured.out, stderr=captured.err)
    assert_one_clear_paragraph(result, "unexpected", "RuntimeError", f"The details are in {log}", "bug")
    assert "s3cr3t" not in captured.err
    written = log.read_text()
    assert "Traceback" in written and "RuntimeError" in written and "s3cr3t-token-value" not in written
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


CRASHING_INBOX = """
import sys
from ecoinbox.cli import main
from ecoinbox.tui.screens.inbox import InboxScreen

async def broken(self):
    secret = "s3cr3t-in-a-local"
    raise RuntimeError("the screen broke \x1b]0;PWNED\x07")

InboxScreen.on_mount = broken
sys.exit(main(sys.argv[1:]))
"""


def test_an_error_inside_the_inbox_is_one_paragraph_and_its_traceback_goes_to_the_log(tmp_path):
    """Textual prints such a traceback, local variables and all, on the terminal: not here."""
    log = tmp_path / "ecoinbox.log"
    terminal = Terminal("--config", str(write_config(tmp_path)), code=CRASHING_INBOX,
                        env={"ECOINBOX_LOG_FILE": str(log)})  # fmt: skip
    code = terminal.finish()
    assert code == 1
    shown = terminal.text
    assert "Traceback" not in shown and "s3cr3t" not in shown and "the screen broke" not in shown
    assert "ecoinbox: the inbox stopped on an unexpected error" in shown and f"details are in {log}" in shown
    written = log.read_text()
    assert "RuntimeError" in written and "the screen broke" in written and "\x1b" not in written


# ---- the inbox, key by key ----------------------------------------------------------------------


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé", text="@acme my order?")
        await stack.engine.poll_all_once()
        yield stack


def app_for(stack) -> EcoInboxApp:  # type: ignore[no-untyped-def]
    """The app, with every notice it shows kept in `app.heard`."""
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    app.heard = []  # type: ignore[attr-defined]
    show = app.notify

    def notify(message, **options):  # type: ignore[no-untyped-def]
        app.heard.append(f"{options.get('title', '')}: {message}")  # type: ignore[attr-defined]
        return show(message, **options)

    app.notify = notify  # type: ignore[method-assign]
    return app


def notices(app: EcoInboxApp) -> str:
    return "\n".join(app.heard)  # type: ignore[attr-defined]


async def test_a_reply_that_cannot_be_saved_stays_in_the_box_with_its_text(stack, monkeypatch):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await pilot.press(*"We are on it")
        real_queue = stack.store.queue_reply

        async def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise StoreFull("Could not save to inbox.db: the disk is full. Free some space.")

        monkeypatch.setattr(stack.store, "queue_reply", disk_full)
        await pilot.press("ctrl+s")
        await wait_until(lambda: "disk is full" in notices(app), pilot=pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "@zoe@remote.example We are on it"
        assert "What you wrote is still here" in notices(app)
        assert await stack.store.outbox_items() == []
        monkeypatch.setattr(stack.store, "queue_reply", real_queue)  # space was freed
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
    (queued,) = await stack.store.outbox_items()
    assert queued.text == "@zoe@remote.example We are on it"


async def test_a_read_only_store_says_why_and_refuses_every_change(stack):
    stack.store.refuse_writes("The store inbox.db is damaged (a test). Recover it with sqlite3.")
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.inbox.query_one("#read-only", Static)
        assert banner.display and "is damaged (a test)" in str(banner.render())
        conversation = app.inbox.conversations.selected_id
        for key in ("e", "r", "exclamation_mark"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ComposeScreen)
        assert READ_ONLY_NOTICE in notices(app)
    assert (await stack.store.conversation_row(conversation)).state is State.OPEN


async def test_a_store_found_damaged_while_the_inbox_runs_turns_it_read_only(stack):
    with contextlib.closing(sqlite3.connect(stack.store.path)) as other:  # another program
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the poll's pages into the file itself
    break_page(stack.store.path, "messages_by_conversation")  # under the open store
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.inbox.query_one("#read-only", Static)
        assert not banner.display
        assert await check_then_start(stack.store, stack.engine) is False
        await wait_until(lambda: banner.display, pilot=pilot)
        assert "is damaged" in str(banner.render()) and '".recover"' in str(banner.render())
        assert "cannot be changed any more" in notices(app)
    assert stack.engine._tasks == []  # nothing polled or sent into a damaged file


async def test_a_sound_store_starts_the_engine_after_the_check(stack):
    assert await check_then_start(stack.store, stack.engine) is True
    assert stack.engine._tasks and stack.store.read_only_reason is None


async def test_a_tiny_terminal_says_so_and_the_inbox_comes_back_with_the_draft(stack):
    app = app_for(stack)
    async with app.run_test(size=(20, 6)) as pilot:
        assert isinstance(app.screen, TooSmallScreen)
        words = str(app.screen.query_one("#too-small", Static).render())
        assert "(20x6)" in words and f"{MIN_WIDTH}x{MIN_HEIGHT}" in words
        await pilot.resize_terminal(100, 30)
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        await pilot.press("r", *"half written")
        await pilot.resize_terminal(50, 12)
        await wait_until(lambda: isinstance(app.screen, TooSmallScreen), pilot=pilot)
        await pilot.press("q")  # would lose the draft: not while writing
        await pilot.resize_terminal(80, 24)
        await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
        assert app.screen.query_one(TextArea).text == "@zoe@remote.example half written"
