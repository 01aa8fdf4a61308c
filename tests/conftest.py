"""Keep the developer's machine out of a test run: temp XDG dirs, no real keyring, loopback only."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import keyring
import pytest
from fakes import Clock, MemoryKeyring

from ecoinbox.config import is_loopback_host
from ecoinbox.store import SQLiteStore, open_store


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and the like never leave the machine
    return is_loopback_host(str(address[0]))


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise OSError(f"tests may only talk to loopback, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise OSError(f"tests may only talk to loopback, not {address!r}")
    return _real_connect_ex(self, address)


# Under `pytest -n 2 --dist loadgroup` (the README's command) the tests of one group run on one
# worker: a server their module starts once is not started again, nor twice at once, on the other.
XDIST_GROUPS = {"test_real_wordpress": "real-wordpress", "test_mediawiki_real": "real-mediawiki"}
# Tests that hold a computation to a time bound: the README runs them on their own after the rest
# (`-m timed`), as beside another worker on a 2-core machine they would time the neighbour too.
TIMED = (
    "tests/test_htmltext.py::test_one_megabyte_is_fast_enough",
    "tests/test_htmltext.py::test_pathological_nesting_stays_fast",
    "tests/test_replies.py::test_fifty_candidates_and_ten_thousand_past_uses_rank_in_under_20_ms",
    "tests/test_sanitize.py::test_one_megabyte_is_fast",
    "tests/test_sanitize.py::test_one_megabyte_of_hostile_input_stays_linear",
    "tests/test_screening_linear.py::",
    "tests/test_screening_off_loop.py::",
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        group = XDIST_GROUPS.get(module.__name__ if module else "")
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        if item.nodeid.startswith(TIMED):
            item.add_marker(pytest.mark.timed)


@pytest.fixture(scope="session")
def unpacked_language_model(tmp_path_factory) -> Path:
    """py3langid's model unpacked once for this test process (ecoinbox/language_model.py): every
    test's own cache directory links to it, instead of each process a test starts (the demo, the
    CLI in a pty) writing its own 68 MB copy."""
    from ecoinbox.language_model import cache_folder, load_identifier

    shared = tmp_path_factory.mktemp("language-model")
    load_identifier(cache=shared)
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return cache_folder(MODEL_DIR / MODEL_FILE, shared)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch, unpacked_language_model):
    home = tmp_path_factory.mktemp("home")
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()))
    cache = home / "xdg_cache_home" / "ecoinbox"
    cache.mkdir(parents=True)
    (cache / unpacked_language_model.name).symlink_to(unpacked_language_model, target_is_directory=True)
    for variable in (
        "ECOINBOX_CONFIG",
        "ECOINBOX_LOG_FILE",
        "ECOINBOX_LOG_LEVEL",
        "NO_COLOR",
        "VISUAL",
        "EDITOR",
    ):
        monkeypatch.delenv(variable, raising=False)
    # Loopback servers are reached directly: a developer's proxy must not sit in between.
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)
    # Child processes (token_cmd, the CLI) must not reach the real keyring either.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    memory = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def thread_follows_the_cursor_at_once(monkeypatch):
    """Flows read the thread right after a move: the wait for a resting cursor is off here and
    tested on its own (tests/test_thread_follows_cursor.py)."""
    monkeypatch.setattr("ecoinbox.tui.screens.inbox.InboxScreen.THREAD_DELAY", 0.0)


@pytest.fixture
def clock() -> Clock:
    """The time that `store` (and whatever else a test hands it to) reads; a test moves it by hand.
    A module that needs another start overrides this fixture."""
    return Clock()


@pytest.fixture
async def store(tmp_path, clock: Clock) -> AsyncIterator[SQLiteStore]:
    """An empty store in the test's own folder, on `clock`, closed after the test."""
    opened = await open_store(tmp_path / "inbox.db", clock=clock)
    yield opened
    await opened.close()
