"""No module of ecoinbox over 700 lines (issue 17): a file that grows past it is split by concern
before it lands (demo seed data aside: texts, not code)."""

from __future__ import annotations

from pathlib import Path

import ecoinbox

LIMIT = 700
ROOT = Path(ecoinbox.__file__).parent


def test_no_module_is_over_700_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in ROOT.rglob("*.py")
        if not (path.parent.parent.name == "demo" and path.name == "seed.py")
    }
    assert len(sizes) > 100
    assert {name: lines for name, lines in sizes.items() if lines > LIMIT} == {}
