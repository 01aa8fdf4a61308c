"""Discourse forums: one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to it, walking its sources by `walk` and reading the forum
through `forum`, turning posts into Messages with `convert` and writing with `writer`; `posts`
holds the pure helpers, `user_api_key` the key's flow. The channel's names are importable from
here (`from ecoinbox.channels.discourse import ...`), loaded when first asked for: reading the
config imports the unit alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.channels.lazy import forward_names

if TYPE_CHECKING:
    from ecoinbox.channels.discourse.channel import *
    from ecoinbox.channels.discourse.convert import *
    from ecoinbox.channels.discourse.forum import *
    from ecoinbox.channels.discourse.posts import *
    from ecoinbox.channels.discourse.user_api_key import *
    from ecoinbox.channels.discourse.walk import *
    from ecoinbox.channels.discourse.writer import *

__getattr__ = forward_names(
    __name__, ("channel", "posts", "user_api_key", "walk", "forum", "convert", "writer")
)
