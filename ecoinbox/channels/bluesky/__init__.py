"""Bluesky (AT Protocol): one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to it. The channel's names are importable from here
(`from ecoinbox.channels.bluesky import ...`), loaded when first asked for: reading the config
imports the unit alone."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.channel import *


def __getattr__(name: str) -> Any:
    return getattr(importlib.import_module("ecoinbox.channels.bluesky.channel"), name)
