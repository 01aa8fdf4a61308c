"""WordPress comments: one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to it. The channel's names are importable from here
(`from ecoinbox.channels.wordpress import ...`), loaded when first asked for: reading the config
imports the unit alone."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecoinbox.channels.wordpress.channel import *
    from ecoinbox.channels.wordpress.comment_text import *
    from ecoinbox.channels.wordpress.cursor import *


def __getattr__(name: str) -> Any:
    for part in ("channel", "cursor", "comment_text"):
        module = importlib.import_module(f"ecoinbox.channels.wordpress.{part}")
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
