"""`ecoinbox config example`, `ecoinbox config path`, and `--config` on either side of the command."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ecoinbox.cli import config_option_first, main
from ecoinbox.config import default_config_path

REPO = Path(__file__).resolve().parents[1]


def test_config_example_prints_the_example_shipped_with_the_package(capsys):
    assert main(["config", "example"]) == 0
    assert capsys.readouterr().out == (REPO / "config.example.toml").read_text(encoding="utf-8")


def test_the_wheel_carries_the_example_inside_the_package():
    """One file in the source tree; the wheel maps it into the package, where `config example`
    looks first (checked by hand with `pip wheel .`: the copy is byte for byte the same)."""
    build = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert build["force-include"] == {"config.example.toml": "ecoinbox/config.example.toml"}


def test_config_path_names_the_file_the_commands_read(tmp_path, capsys, monkeypatch):
    assert main(["config", "path"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{default_config_path()}\n" and "ecoinbox init" in printed.err
    mine = tmp_path / "mine.toml"
    assert main(["config", "path", "--config", str(mine)]) == 0
    assert capsys.readouterr().out == f"{mine}\n"
    monkeypatch.setenv("ECOINBOX_CONFIG", str(tmp_path / "env.toml"))
    assert main(["config", "path"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{tmp_path / 'env.toml'}\n" and "$ECOINBOX_CONFIG" in printed.err


def test_the_missing_config_message_names_init_example_and_path(capsys):
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "ecoinbox init" in err and "ecoinbox config example >" in err and "ecoinbox config path" in err
    assert "source tree" not in err


@pytest.mark.parametrize("where", ["before", "after", "after="])
def test_config_is_accepted_before_or_after_the_command(tmp_path, capsys, where):
    path = tmp_path / "config.toml"
    path.write_text(f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "inbox.db"}"\n', encoding="utf-8")
    argv = {
        "before": ["--config", str(path), "list", "--limit", "5"],
        "after": ["list", "--limit", "5", "--config", str(path)],
        "after=": ["list", f"--config={path}", "--limit", "5"],
    }[where]
    assert main(argv) == 0, capsys.readouterr().err
    assert main(["rules", "test", "where is my refund", "--config", str(path)]) == 0
    assert "rules: none match" in capsys.readouterr().out


def test_nothing_after_a_double_dash_is_moved():
    assert config_option_first(["rules", "test", "--", "--config"]) == ["rules", "test", "--", "--config"]
    assert config_option_first(["show", "1", "--config", "c.toml"]) == ["--config", "c.toml", "show", "1"]
