"""A unit's package hands out the names of its modules, importing them when first asked for: old
imports (`from ecoinbox.channels.mastodon import MastodonChannel`) keep working, and reading the
config, which imports the unit alone, loads no channel code."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["forward_names"]


def forward_names(package: str, parts: tuple[str, ...]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: a name is looked for in its modules `parts`, in order."""

    def find(name: str) -> Any:
        for part in parts:
            module = importlib.import_module(f"{package}.{part}")
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return find
