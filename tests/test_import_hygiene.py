"""The core runs headless: importing it must not pull in Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "ecoinbox.model",
    "ecoinbox.config",
    "ecoinbox.secrets",
    "ecoinbox.credentials",
    "ecoinbox.auth",
    "ecoinbox.config_files",
    "ecoinbox.init_wizard",
    "ecoinbox.sanitize",
    "ecoinbox.htmltext",
    "ecoinbox.humanize",
    "ecoinbox.store",
    "ecoinbox.channels",
    "ecoinbox.channels.http",
    "ecoinbox.channels.mastodon",
    "ecoinbox.channels.discourse",
    "ecoinbox.replies",
    "ecoinbox.text",
    "ecoinbox.replying",
    "ecoinbox.link_suggestions",
    "ecoinbox.query",
    "ecoinbox.language",
    "ecoinbox.engine",
    "ecoinbox.cli",
    "ecoinbox.actions",
    "ecoinbox.actions_cli",
    "ecoinbox.keymap",
    "ecoinbox.logs",
    "ecoinbox.screening",
]


# Heavy or optional libraries are loaded when first needed, never by importing the core.
LAZY = ("textual", "rich", "py3langid", "cryptography")


def test_core_imports_no_textual_or_rich_and_nothing_heavy():
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        f"leaked = sorted(m for m in sys.modules if m.split('.')[0] in {LAZY!r})\n"
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
