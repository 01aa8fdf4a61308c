"""Human-readable times, for the inbox and the CLI (our own text only)."""

from __future__ import annotations

from datetime import datetime


def age(moment: datetime, now: datetime, *, future: bool = False) -> str:
    """A short age in at most 4 cells: 'now', '5m', '3h', '2d', '12w', '3y'.

    With future=True, how long until `moment` instead ('now' when it is due).
    """
    seconds = (moment - now).total_seconds() if future else (now - moment).total_seconds()
    minutes = int(seconds // 60)
    if minutes < 1:
        return "now"
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    days = hours // 24
    if days < 14:
        return f"{days}d"
    if days < 7 * 52:
        return f"{days // 7}w"
    return f"{min(days // 365, 999)}y"


def ago(moment: datetime, now: datetime) -> str:
    """'just now', '5m ago', '3h ago': an age for a sentence."""
    short = age(moment, now)
    return "just now" if short == "now" else f"{short} ago"
