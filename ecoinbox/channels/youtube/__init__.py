"""YouTube: one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to it. The channel's names are importable from here
(`from ecoinbox.channels.youtube import ...`), loaded when first asked for: reading the config
imports the unit alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.channels.lazy import forward_names

if TYPE_CHECKING:
    from ecoinbox.channels.youtube.channel import *
    from ecoinbox.channels.youtube.oauth import *
    from ecoinbox.channels.youtube.quota import *

__getattr__ = forward_names(__name__, ("channel", "oauth", "quota"))
