"""[forum]: the brand's own forum, where `f` (redirect) brings people."""

from __future__ import annotations

from dataclasses import dataclass

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.config.validate import Table, base_url, nonempty_string

__all__ = ["ForumSettings", "read_forum"]


@dataclass(frozen=True, slots=True)
class ForumSettings:
    """The brand's own forum: where `f` (redirect) brings people."""

    channel: str
    """The name of the Discourse channel that is the forum."""
    url: str
    """The forum's public address, used as {forum_url} in canned replies (default: its base_url)."""
    category: str = "support"
    """The category (slug) in which "new forum topic" opens topics."""


def read_forum(table: Table, channels: tuple[ChannelSettings, ...]) -> ForumSettings | None:
    name = table.get("channel", nonempty_string)
    url = table.get("url", base_url, None)
    category = table.get("category", nonempty_string, "support")
    table.finish()
    if name is None:
        return None
    target = next((c for c in channels if c.name == name), None)
    if target is None or target.kind != "discourse":
        forums = [c.name for c in channels if c.kind == "discourse"]
        table.problem(
            "channel",
            f"'{name}' is not a discourse channel of this config"
            + (f" (discourse channels: {', '.join(forums)})" if forums else " (add one in [[channels]])"),
        )
        return None
    return ForumSettings(channel=name, url=url or target.base_url, category=category)
