"""Human-readable times, for the inbox and the CLI (our own text only)."""

from __future__ import annotations

from datetime import datetime


def age(moment: datetime, now: datetime, *, future: bool = False) -> str:
    """'now', '5m', '3h', '2d', '12w': how long ago (or, with future=True, how long until)."""
    seconds = (moment - now).total_seconds() if future else (now - moment).total_seconds()
    if seconds < 60:
        return "now" if not future else f"{max(0, int(seconds))}s"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"
