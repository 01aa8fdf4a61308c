"""`ecoinbox list` and `ecoinbox show` only read the store: they import nothing of screening (building
it cost three quarters of their time before)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoinbox.model import Author, Message
from ecoinbox.store import open_store

PROBE = """
import json, sys
from ecoinbox.cli import main
code = main(sys.argv[1:])
screening = sorted(m for m in sys.modules if m.startswith("ecoinbox.screening"))
print(json.dumps({"code": code, "screening": screening}))
"""


async def fill(path: Path) -> None:
    store = await open_store(path)
    author = Author("m", "1", "zoe", "Zoé")
    await store.ingest(
        [Message("m", "1", author, "my refund never arrived", datetime(2026, 12, 1, tzinfo=UTC))]
    )
    await store.close()


@pytest.mark.parametrize("command", [["list"], ["list", "--json"], ["show", "1"]], ids=" ".join)
def test_reading_commands_import_nothing_of_screening(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8"
    )
    asyncio.run(fill(tmp_path / "inbox.db"))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), *command],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    said = json.loads(result.stdout.strip().splitlines()[-1])
    assert said == {"code": 0, "screening": []}, result.stderr
