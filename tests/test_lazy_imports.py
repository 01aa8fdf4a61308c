"""What `ecoinbox list`, `show` and the inbox's start import: nothing they do not use (issue 16, goal 1).

Imports were half of the 0.6 s from the command to the first rows at 1M messages: numpy and
rapidfuzz for link ranking, httpx for the log's token filter, keyring for tokens a read never
needs. Each runs in a fresh interpreter (sys.modules of this one holds everything the tests use).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoinbox.model import Author, Message, Origin
from ecoinbox.store import open_store

# Loaded only by what uses them: a channel (httpx, feedparser, its platform module), a token
# (keyring), link ranking and canned replies (numpy, rapidfuzz), the demo, the TUI.
NEVER_FOR_A_READ = (
    "numpy",
    "rapidfuzz",
    "feedparser",
    "httpx",
    "keyring",
    "textual",
    "py3langid",
    "ecoinbox.demo",
    "ecoinbox.channels.http",
    "ecoinbox.screening",
    "ecoinbox.replies",
)
# A plain `list` or `show` reads a sound store on the standard sqlite3 module (ecoinbox/quick_reads.py):
# no event loop, no model objects, none of the store's write path or the other commands.
NOT_FOR_A_QUICK_READ = (
    "asyncio",
    "aiosqlite",
    "ecoinbox.store.sqlite",
    "ecoinbox.store.base",
    "ecoinbox.model",
    "ecoinbox.cli",
    "ecoinbox.actions",
)
NOT_FOR_THE_INBOX_START = (
    "numpy",
    "rapidfuzz",
    "feedparser",
    "httpx",
    "keyring",
    "ecoinbox.demo",
    "ecoinbox.channels.http",
)

# Runs its arguments as `python -m ecoinbox ...` would, then writes the modules it loaded.
PROBE = """
import atexit, json, runpy, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("ecoinbox", run_name="__main__", alter_sys=True)
"""


def loaded_by(code: str, *args: str, out: Path) -> set[str]:
    env = {**os.environ, "ECOINBOX_LOG_FILE": str(out.with_suffix(".log"))}
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text(encoding="utf-8")))


def offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for b in banned if m == b or m.startswith(b + "."))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    async def fill() -> None:
        store = await open_store(tmp_path / "inbox.db")
        author = Author("mastodon", "1", "zoe@remote.example", "Zoé")
        await store.ingest([
            Message(channel="mastodon", remote_id="1", author=author, text="Where is my refund?",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC), origin=Origin.MENTION, language="en"),
        ])  # fmt: skip
        await store.close()

    asyncio.run(fill())
    path = tmp_path / "config.toml"
    path.write_text(
        '[brand]\nname = "Acme"\n[[channels]]\nname = "social"\nkind = "mastodon"\n'
        f'base_url = "https://social.example"\ntoken_env = "NO_SUCH_TOKEN"\n'
        f'[store]\npath = "{tmp_path / "inbox.db"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", [["list"], ["list", "--query", "refund lang:en"], ["show", "1"]])
def test_a_read_imports_no_channel_token_or_ranking_code(
    config: Path, tmp_path: Path, command: list[str]
) -> None:
    full_path = PROBE.replace('run_module("ecoinbox"', 'run_module("ecoinbox.cli"')  # not the quick one
    modules = loaded_by(full_path, "--config", str(config), *command, out=tmp_path / "modules.json")
    assert "ecoinbox.store" in modules  # the probe saw the command run
    assert offenders(modules, NEVER_FOR_A_READ) == []


@pytest.mark.parametrize(
    "command", [["list"], ["list", "--query", "refund lang:en"], ["show", "1", "--json"]]
)
def test_a_read_on_a_sound_store_needs_no_event_loop_nor_model(
    config: Path, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "modules.json"
    modules = loaded_by(PROBE, "--config", str(config), *command, out=out)
    assert {"ecoinbox.quick_reads", "sqlite3", "ecoinbox.config"} <= modules  # the probe saw it read
    assert offenders(modules, NEVER_FOR_A_READ + NOT_FOR_A_QUICK_READ) == []


# A plain read takes [brand], [store] and [team] from the config (ecoinbox/config/quick.py): not the
# other sections, their settings classes, the platform units that check a channel, nor platformdirs
# when the file and the store are named.
NOT_FOR_A_QUICK_READS_CONFIG = (
    "ecoinbox.config.load",
    "ecoinbox.config.channels",
    "ecoinbox.config.rules",
    "ecoinbox.config.screening",
    "ecoinbox.config.toml_lines",
    "ecoinbox.channels",
    "platformdirs",
)


@pytest.mark.parametrize("command", [["list"], ["list", "--query", "refund lang:en"], ["show", "1"]])
def test_a_quick_read_reads_only_the_config_it_needs(
    config: Path, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "modules.json"
    modules = loaded_by(PROBE, "--config", str(config), *command, out=out)
    assert {"ecoinbox.quick_reads", "ecoinbox.config.quick", "sqlite3"} <= modules  # the probe saw it read
    assert offenders(modules, NOT_FOR_A_QUICK_READS_CONFIG) == []


# What a quick read does without: dataclasses pulls inspect (6.5 ms of `list --query`), shlex is for
# a damaged store's message only.
NOT_FOR_A_QUICK_READS_FLOOR = ("dataclasses", "inspect", "shlex")


@pytest.mark.parametrize("command", [["list"], ["list", "--query", "refund lang:en"], ["show", "1"]])
def test_a_quick_read_imports_no_dataclasses_inspect_nor_shlex(
    config: Path, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "modules.json"
    modules = loaded_by(PROBE, "--config", str(config), *command, out=out)
    assert {"ecoinbox.quick_reads", "ecoinbox.store.quick", "sqlite3"} <= modules  # the probe saw it read
    assert offenders(modules, NOT_FOR_A_QUICK_READS_FLOOR) == []


def test_a_quick_read_from_the_default_places_needs_no_platformdirs(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config and the store where a user leaves them: found by the XDG rules (config/paths.py)."""
    home = tmp_path / "home"
    (home / "config" / "ecoinbox").mkdir(parents=True)
    (home / "data" / "ecoinbox").mkdir(parents=True)
    (home / "data" / "ecoinbox" / "ecoinbox.db").write_bytes((tmp_path / "inbox.db").read_bytes())
    (home / "config" / "ecoinbox" / "config.toml").write_text('[brand]\nname = "Acme"\n', encoding="utf-8")
    for variable, value in (
        ("HOME", home),
        ("XDG_CONFIG_HOME", home / "config"),
        ("XDG_DATA_HOME", home / "data"),
    ):
        monkeypatch.setenv(variable, str(value))
    monkeypatch.delenv("ECOINBOX_CONFIG", raising=False)
    modules = loaded_by(PROBE, "list", out=tmp_path / "modules.json")
    assert {"ecoinbox.quick_reads", "ecoinbox.config.quick", "sqlite3"} <= modules  # the probe saw it read
    assert (
        offenders(modules, ("platformdirs", "tempfile", "ecoinbox.cli", *NOT_FOR_A_QUICK_READS_CONFIG)) == []
    )


INBOX = """
import json, sys
import ecoinbox.channels, ecoinbox.cli, ecoinbox.engine, ecoinbox.secrets, ecoinbox.tui.app
open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules)))
"""


def test_the_inbox_imports_no_channel_or_ranking_code_before_it_needs_it(tmp_path: Path) -> None:
    """What bench/timed_inbox.py imports before the first frame (the inbox's own modules)."""
    modules = loaded_by(INBOX, out=tmp_path / "modules.json")
    assert "textual" in modules
    assert offenders(modules, NOT_FOR_THE_INBOX_START) == []


# The inbox's own start, as `ecoinbox` runs it, up to the moment the app starts drawing.
FIRST_FRAME = """
import json, runpy, sys
import ecoinbox.cli, ecoinbox.tui.app
out = sys.argv.pop(1)

async def first_frame(self, *args, **kwargs):
    open(out, "w").write(json.dumps(sorted(sys.modules)))

ecoinbox.tui.app.EcoInboxApp.run_async = first_frame
ecoinbox.cli.require_terminal = lambda: None  # the probe has no terminal; the app never draws
runpy.run_module("ecoinbox", run_name="__main__", alter_sys=True)
"""


def test_the_inbox_draws_its_first_rows_before_screening_is_loaded(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spam and priority screening (numpy for its MinHashes) is attached once the inbox shows."""
    monkeypatch.setenv("NO_SUCH_TOKEN", "not-a-real-token")
    modules = loaded_by(FIRST_FRAME, "--config", str(config), out=tmp_path / "modules.json")
    assert {"ecoinbox.store", "textual"} <= modules  # the probe saw the inbox start
    assert offenders(modules, ("numpy", "ecoinbox.screening")) == []


# Six platforms, as a real config names them (their tokens in a variable: no keyring in a test).
SIX_CHANNELS = (
    "".join(
        f'[[channels]]\nkind = "{kind}"\nname = "{kind}"\nbase_url = "http://127.0.0.1:9"\n{more}'
        'keyring = false\ntoken_env = "FIRST_ROWS_TOKEN"\n'
        for kind, more in [
            ("mastodon", ""),
            ("bluesky", 'account = "acme.example"\n'),
            ("discourse", 'account = "acme"\n'),
            (
                "reddit",
                'auth_url = "http://127.0.0.1:9"\nsubreddits = ["acme"]\nclient_id = "x"\naccount = "acme"\n',
            ),
            ("wordpress", 'account = "acme"\n'),
        ]
    )
    + '[[channels]]\nkind = "feed"\nname = "blog"\nbase_url = "http://127.0.0.1:9/feed"\n'
)


def channel_code(modules: set[str]) -> list[str]:
    """A platform's own modules beyond its unit (settings and checks): its channel, its client."""
    return sorted(m for m in modules if m.startswith("ecoinbox.channels.") and m.count(".") == 3
                  and not m.endswith(".unit"))  # fmt: skip


def test_the_inbox_builds_no_channel_before_its_first_rows(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every channel's client (httpx, the platform's code) is built once the rows show, in a thread."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("[[channels]]")] + text[text.index("[store]") :] + SIX_CHANNELS)
    monkeypatch.setenv("FIRST_ROWS_TOKEN", "not-a-real-token")
    modules = loaded_by(FIRST_FRAME, "--config", str(config), out=tmp_path / "modules.json")
    assert {"ecoinbox.store", "textual", "ecoinbox.channels.reddit.unit"} <= modules  # it read the six
    assert offenders(modules, NOT_FOR_THE_INBOX_START) == []
    assert channel_code(modules) == []


SCREENING = """
import json, sys
from ecoinbox.screening.inbound import Screener
from ecoinbox.config import parse_config
from pathlib import Path
Screener.from_settings(parse_config(chr(10).join(["[brand]", "name = 'Acme'"]), Path("test.toml")))
open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules)))
"""


def test_screening_loads_numpy_at_its_first_minhash_not_when_built(tmp_path: Path) -> None:
    """Built in a thread once the inbox shows, screening still costs less without numpy."""
    modules = loaded_by(SCREENING, out=tmp_path / "modules.json")
    assert "ecoinbox.screening.spam" in modules
    assert offenders(modules, ("numpy",)) == []


UNITS = """
import json, sys
import ecoinbox.config
from ecoinbox.channels.registry import all_units
all_units()
open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules)))
"""


def test_reading_a_config_of_every_platform_needs_no_event_loop(tmp_path: Path) -> None:
    """A config's channels load their units (settings and checks): `ecoinbox list` reads them all.
    An auth flow's event loop, HTTP client or token code comes when the flow runs."""
    modules = loaded_by(UNITS, out=tmp_path / "modules.json")
    assert "ecoinbox.channels.mastodon.unit" in modules
    assert (
        offenders(modules, ("asyncio", "aiosqlite", "httpx", "keyring", "hmac", "ecoinbox.channels.http"))
        == []
    )
