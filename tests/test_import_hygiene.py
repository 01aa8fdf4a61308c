"""The core runs headless: importing it must not pull in Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "ecoinbox.model",
    "ecoinbox.config",
    "ecoinbox.secrets",
    "ecoinbox.sanitize",
    "ecoinbox.htmltext",
    "ecoinbox.humanize",
    "ecoinbox.store",
    "ecoinbox.channels",
    "ecoinbox.channels.mastodon",
    "ecoinbox.engine",
    "ecoinbox.cli",
    "ecoinbox.logs",
]


def test_core_imports_no_textual_or_rich():
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"the core imported: {result.stdout.strip()}"


def test_only_the_store_contains_sql():
    from pathlib import Path

    import ecoinbox

    root = Path(ecoinbox.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if "store" in path.relative_to(root).parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "import sqlite3" in text or "import aiosqlite" in text or "SELECT " in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
