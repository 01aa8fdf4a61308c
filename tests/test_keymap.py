"""[ui.keys] is checked against the bindings the inbox really has, without importing Textual."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import ecoinbox.tui
from ecoinbox.cli import main
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.keymap import DEFAULT_KEYS, keymap_problems

SOURCE = Path("/home/ana/.config/ecoinbox/config.toml")
MINIMAL = '[brand]\nname = "Acme"\n'


def tui_bindings() -> dict[str | None, str]:
    """Every binding declared by a screen, widget or the app of ecoinbox.tui, by id."""
    found: dict[str | None, str] = {}
    for module in pkgutil.walk_packages(ecoinbox.tui.__path__, "ecoinbox.tui."):
        for cls in vars(importlib.import_module(module.name)).values():
            if inspect.isclass(cls) and issubclass(cls, DOMNode) and cls.__module__ == module.name:
                for binding in cls.__dict__.get("BINDINGS", []):
                    assert isinstance(binding, Binding), f"{cls.__name__}: a binding without an id"
                    assert binding.id not in found, f"{binding.id} is declared twice"
                    found[binding.id] = binding.key
    return found


def test_the_table_is_the_tuis_bindings_ids_and_keys():
    assert tui_bindings() == dict(DEFAULT_KEYS)


def test_the_default_keys_do_not_collide():
    assert keymap_problems(dict(DEFAULT_KEYS)) == {}


def refused(keys: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(MINIMAL + '[ui]\nlayout = "auto"\n\n[ui.keys]\n' + keys, SOURCE)
    return str(raised.value).splitlines()


def test_an_unknown_binding_id_is_refused_with_its_line_and_the_closest_id():
    assert refused('"inbox.done" = "d"\n"inbox.replly" = "r"\n') == [
        (
            f"{SOURCE}:8: ui.keys.\"inbox.replly\": unknown binding id (did you mean 'inbox.reply'?): "
            "`?` in the inbox lists every id beside its keys"
        )
    ]


def test_a_key_bound_twice_is_refused_on_both_lines_or_against_the_default():
    assert refused('"inbox.done" = "z"\n"inbox.tag" = "z"\n') == [
        (
            f"{SOURCE}:7: ui.keys.\"inbox.done\": the key 'z' is also given to 'inbox.tag', which works at "
            "the same time: choose another key"
        ),
        (
            f"{SOURCE}:8: ui.keys.\"inbox.tag\": the key 'z' is also given to 'inbox.done', which works at "
            "the same time: choose another key"
        ),
    ]
    [line] = refused('"inbox.reply" = "r,R"\n')
    assert line.startswith(
        f"{SOURCE}:7: ui.keys.\"inbox.reply\": the key 'R' is already the key of 'inbox.poll_now'"
    )


def test_keys_of_different_screens_and_swaps_are_fine():
    ok = {"compose.send": "ctrl+x", "note.save": "ctrl+x", "inbox.done": "r", "inbox.reply": "e",
          "inbox.spam": "S", "inbox.snooze": "!"}  # fmt: skip
    assert keymap_problems(ok) == {}
    assert set(keymap_problems({"inbox.reply": "j"})) == {"inbox.reply"}  # the list's j works beside it


def test_the_inbox_does_not_start_on_a_typo_in_the_keys(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(f'{MINIMAL}[store]\npath = "{tmp_path / "inbox.db"}"\n[ui.keys]\n"inbox.replly" = "r"\n',
                    encoding="utf-8")  # fmt: skip
    assert main(["--config", str(path), "list"]) == 2
    assert f"{path}:6: ui.keys.\"inbox.replly\": unknown binding id (did you mean 'inbox.reply'?)" in (
        capsys.readouterr().err
    )
