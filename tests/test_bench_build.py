"""bench/generate.py builds a store in RAM and copies it once: the same rows as a build in place.

Issue 16, goal 7: building a store wrote 28 times its size (the WAL, commits of 200 messages
rewriting the pages they touch). A benchmark store can be built again from its seed, so it is
built where writes cost nothing and copied to its place once; the store must not differ.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sqlite3
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import ecoinbox

BENCH = Path(ecoinbox.__file__).resolve().parents[1] / "bench" / "generate.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate_build", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def dump(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return [
            row
            for table in ("authors", "conversations", "messages", "history")
            for row in db.execute(f"SELECT * FROM {table} ORDER BY id")
        ]


def test_a_store_built_in_ram_is_the_store_built_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = load_generator()
    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr("ecoinbox.demo.ram_build.RAM", ram)
    (tmp_path / "out").mkdir()
    generate.build(tmp_path / "out" / "ram.db", 1500, seed=3)
    generate.build(tmp_path / "out" / "place.db", 1500, seed=3, in_place=True)

    assert dump(tmp_path / "out" / "ram.db") == dump(tmp_path / "out" / "place.db")
    assert list(ram.iterdir()) == []  # the RAM copy is gone
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]
    assert stat.S_IMODE((tmp_path / "out" / "ram.db").stat().st_mode) == 0o600
    made = json.loads((tmp_path / "out" / "ram.db.json").read_text(encoding="utf-8"))
    assert made["path"] == str(tmp_path / "out" / "ram.db")
    assert made["built_in"] == "ram" and made["store_bytes"] == (tmp_path / "out" / "ram.db").stat().st_size
    assert made["build_write_bytes"] >= 0 and made["messages"] == 1500
    assert json.loads((tmp_path / "out" / "place.db.json").read_text(encoding="utf-8"))["built_in"] == "place"


def test_without_room_in_ram_the_store_is_built_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = load_generator()
    monkeypatch.setattr("ecoinbox.demo.ram_build.RAM", tmp_path / "no-such-folder")
    generate.build(tmp_path / "s.db", 300, seed=1)
    assert json.loads((tmp_path / "s.db.json").read_text(encoding="utf-8"))["built_in"] == "place"


def test_the_demo_builds_its_generated_store_in_ram_and_copies_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ecoinbox demo --messages N` builds as bench/generate.py does (it wrote 28x its size in place)."""
    from ecoinbox.demo import ram_build
    from ecoinbox.demo.runner import generated_store

    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr(ram_build, "RAM", ram)
    copies: list[tuple[str, str]] = []
    real_copy = ram_build.copy_synced

    def copy(source: Path, target: Path) -> None:
        copies.append((source.parent.parent.name, target.name))
        real_copy(source, target)

    monkeypatch.setattr(ram_build, "copy_synced", copy)
    path = generated_store(400, cache=tmp_path / "cache", out=io.StringIO())
    assert copies == [("ram", path.with_name(path.stem + ".partial.db").name)]
    assert list(ram.iterdir()) == []  # the RAM copy is gone
    made = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    assert made["messages"] == 400 and made["path"].endswith(".partial.db")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
