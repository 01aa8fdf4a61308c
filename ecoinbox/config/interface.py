"""[ui]: how the terminal interface looks and which keys do what."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ecoinbox.config.validate import (
    Invalid,
    Table,
    boolean,
    choice,
    describe,
    integer,
    nonempty_string,
    waiting_duration,
)
from ecoinbox.keymap import keymap_problems

__all__ = ["LAYOUTS", "LIST_SCROLLS", "NOTIFY_MODES", "SEND_DELAY_MAX", "UiSettings", "read_ui"]

LAYOUTS: Final[tuple[str, ...]] = ("auto", "side", "below")
"""Where the thread goes relative to the conversation list."""
LIST_SCROLLS: Final[tuple[str, ...]] = ("half", "line")
"""How the list scrolls when the cursor steps off it."""
NOTIFY_MODES: Final[tuple[str, ...]] = ("off", "bell", "desktop")
"""How the inbox tells the manager about a new high-priority conversation."""
SEND_DELAY_MAX: Final = 300


@dataclass(frozen=True, slots=True)
class UiSettings:
    """How the terminal interface looks and which keys do what."""

    layout: str = "auto"
    """"auto" (thread beside the list at >= 120 columns, below it otherwise), "side" or "below"."""
    theme: str = "textual-dark"
    """Any Textual theme name; checked by the interface, which knows the themes."""
    animation: bool = False
    """Textual animations. Off by default: animated scrolling costs bandwidth over SSH."""
    snippet_length: int = 120
    """How many characters of a message the conversation list shows (20..1000)."""
    relative_times: bool = True
    """Show "5m ago" instead of the clock time."""
    list_scroll: str = "half"
    """When the cursor steps off the list: "half" scrolls half a screen (each scroll repaints the
    list: fewer of them over SSH), "line" one line at a time."""
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Binding id -> comma-separated keys in Textual keymap syntax, e.g. "inbox.reply" = "r,ctrl+r".
    An id no binding has, or a key another binding active at the same time already has, is refused
    (`ecoinbox.keymap`)."""
    notify: str = "off"
    """On a new high-priority conversation: "off", "bell" (the terminal's bell) or "desktop" (a
    desktop notification: notify-send where it is installed, else the bell)."""
    waiting_warn: float = 3600.0
    """Seconds (written "1h", "30m", "2d"): a person waiting this long on a reply shows in the warning colour."""
    waiting_alert: float = 14400.0
    """Seconds (written "4h"): a person waiting this long shows in the alert colour (not below waiting_warn)."""
    send_delay: float = 10.0
    """Seconds a reply waits after ctrl+s before it goes out, while `u` can take it back (0..300;
    0 sends at once, with no way back)."""


def send_delay(value: object) -> float:
    """Seconds a reply is held before it goes out: 0 (at once) to SEND_DELAY_MAX."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"expected a number of seconds, got {describe(value)}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= SEND_DELAY_MAX:
        raise Invalid(f"must be between 0 and {SEND_DELAY_MAX} seconds")
    return seconds


def keymap(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f'expected a table of binding id = "keys", got {describe(value)}')
    keymap: dict[str, str] = {}
    for binding_id, keys in value.items():
        if not isinstance(keys, str):
            message = f'expected a string of keys such as "r,ctrl+r", got {describe(keys)}'
            raise Invalid(message, at=(binding_id,))
        if not keys.strip():
            raise Invalid('must not be empty (give at least one key, e.g. "r")', at=(binding_id,))
        keymap[binding_id] = keys.strip()
    return MappingProxyType(keymap)


def read_ui(table: Table) -> UiSettings:
    settings = UiSettings(
        layout=table.get("layout", choice(LAYOUTS, "layout"), "auto"),
        theme=table.get("theme", nonempty_string, "textual-dark"),
        animation=table.get("animation", boolean, False),
        snippet_length=table.get("snippet_length", integer(20, 1000), 120),
        relative_times=table.get("relative_times", boolean, True),
        list_scroll=table.get("list_scroll", choice(LIST_SCROLLS, "list_scroll"), "half"),
        keys=table.get("keys", keymap, MappingProxyType({})),
        notify=table.get("notify", choice(NOTIFY_MODES, "notify mode"), "off"),
        waiting_warn=table.get("waiting_warn", waiting_duration, 3600.0),
        waiting_alert=table.get("waiting_alert", waiting_duration, 14400.0),
        send_delay=table.get("send_delay", send_delay, 10.0),
    )
    if settings.waiting_alert < settings.waiting_warn:
        table.problem("waiting_alert", "must not be shorter than waiting_warn")
    for binding_id, message in keymap_problems(settings.keys).items():
        table.validator.problem((*table.path, "keys", binding_id), message)
    table.finish()
    return settings
