"""Bluesky (AT Protocol): one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to it, through `xrpc` (the session), `reader` (the
notifications and searches it listens on), `posts` (Bluesky's JSON as Messages), `posting` (a
reply, published once) and `deletions` (posts found gone); `text` counts, keys and facets a post.
The channel's names are importable from here (`from ecoinbox.channels.bluesky import ...`), loaded
when first asked for: reading the config imports the unit alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.channels.lazy import forward_names

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.channel import *
    from ecoinbox.channels.bluesky.deletions import *
    from ecoinbox.channels.bluesky.posting import *
    from ecoinbox.channels.bluesky.posts import *
    from ecoinbox.channels.bluesky.reader import *
    from ecoinbox.channels.bluesky.text import *
    from ecoinbox.channels.bluesky.xrpc import *

__getattr__ = forward_names(__name__, ("channel", "text", "xrpc", "reader", "posts", "posting", "deletions"))
