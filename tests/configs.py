"""Config text for tests: a [[channels]] entry and TOML values written from Python values."""

from __future__ import annotations

import math
from pathlib import Path


def channel_toml(**overrides: object) -> str:
    """One [[channels]] table; `None` drops a key."""
    values: dict[str, object] = {"kind": "mastodon", "name": "mastodon", "base_url": "https://social.example"}
    values.update(overrides)
    lines = ["[[channels]]"]
    for key, value in values.items():
        if value is not None:
            lines.append(f"{key} = {to_toml(value)}")
    return "\n".join(lines) + "\n"


def to_toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {to_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def config_toml(*channels: str, store: Path | None = None, brand: dict[str, object] | None = None) -> str:
    """A whole config: the [brand] table (`brand`, Acme by default), the store's path when given,
    then the channels' entries (each from `channel_toml`)."""
    lines = ["[brand]"] + [f"{key} = {to_toml(value)}" for key, value in (brand or {"name": "Acme"}).items()]
    if store is not None:
        lines += ["[store]", f"path = {toml_string(str(store))}"]
    return "\n".join(lines) + "\n" + "".join(channels)


def config_file(folder: Path, *channels: str, brand: dict[str, object] | None = None) -> Path:
    """`config_toml` written to folder/config.toml, the store in folder/inbox.db."""
    path = folder / "config.toml"
    path.write_text(config_toml(*channels, store=folder / "inbox.db", brand=brand), encoding="utf-8")
    return path
