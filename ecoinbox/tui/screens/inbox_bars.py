"""The inbox's bars: its tabs (state views, saved and typed searches) and the channels' states
in its status line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.content import Content

from ecoinbox.engine import ChannelStatus
from ecoinbox.model import UnsentReply, View
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.contact import PersonConversations

SEARCH_TITLE_CELLS = 24


@dataclass(frozen=True, slots=True)
class Tab:
    """One list the inbox can show: a state view, a saved search, or the `/` search."""

    title: str
    view: View = View.INBOX
    query: str | None = None
    """None for the state views; the search's text otherwise."""
    typed: bool = False
    """The `/` search: esc closes it."""
    person: PersonConversations | None = None
    """A person's conversations on every channel (opened from their contact panel; esc closes it)."""

    def label(self) -> str:
        if not self.typed or self.person is not None:
            return self.title
        text = self.query or ""
        return "/" + (text if len(text) <= SEARCH_TITLE_CELLS else text[: SEARCH_TITLE_CELLS - 1] + "…")


def tab_bar(
    labels: list[str], active: int, unsent: Sequence[UnsentReply], *, brand: str, width: int, outbox: bool
) -> Content:
    """The brand and every tab (`labels`, with their counts); on a narrow screen the tabs scroll so
    the one shown (`active`) is always in sight, with ‹ and › saying that more are off the edge. The
    Outbox tab comes last while replies wait to go out (or while it is shown: `outbox`)."""
    labels = list(labels)
    styles = ["dim"] * len(labels)
    if outbox or unsent:
        labels.append(f" Outbox {len(unsent)} ")
        # Red while one waits on the manager's decision (refused, or perhaps published).
        styles.append("$error" if any(reply.needs_decision for reply in unsent) else "dim")
        active = len(labels) - 1 if outbox else active
    brand = f" {brand} "
    width = max(20, width or 80)
    first, last = 0, len(labels)
    if len(brand) + 1 + sum(len(label) + 1 for label in labels) > width:
        brand = ""
        # Drop tabs from the far end of the active one until the rest fits with the arrows.
        while sum(len(label) + 1 for label in labels[first:last]) + 4 > width and last - first > 1:
            if last - 1 > active:
                last -= 1
            else:
                first += 1
    parts: list[Content | tuple[str, str] | str] = []
    if brand:
        parts += [(brand, "bold reverse"), " "]
    if first > 0:
        parts.append(("‹ ", "dim"))
    for index in range(first, last):
        parts.append((labels[index], "bold reverse" if index == active else styles[index]))
        parts.append(" ")
    if last < len(labels):
        parts.append(("›", "dim"))
    return Content.assemble(*parts)


def channel_statuses(
    statuses: Iterable[ChannelStatus], *, width: int, retry_key: str, reserved: int = 0
) -> list[Content | tuple[str, str] | str]:
    """Each channel's state; when they do not all fit on the line, the channels that are fine
    fold into one "N channels up to date" and only those that need an eye are named."""
    styles = {"ok": "$success", "error": "$error", "paused": "$error", "waiting": "$warning"}
    full: list[Content | tuple[str, str] | str] = []
    folded: list[Content | tuple[str, str] | str] = []
    fine = 0
    for status in statuses:
        style = styles.get(status.state, "dim")
        named: list[Content | tuple[str, str] | str] = [" · ", (f"{status.name}: ", "dim")]
        if status.state == "ok" and status.warning:
            # Fine, but something may be missing (a feed that overflowed): it stays in sight.
            named.append(safe_content(status.detail, style="$warning", single_line=True, max_chars=100))
        else:
            named.append((status.state if status.state != "ok" else status.detail, style))
        if status.state in ("error", "waiting", "paused") and status.detail:
            # Error details can quote the platform: they go through the sanitizer too.
            detail = safe_content(status.detail, style="dim", single_line=True, max_chars=80)
            retry = f", then press {retry_key}" if status.state == "paused" else ""
            named.append(Content.assemble(" (", detail, (retry, "dim"), ")"))
        full += named
        if status.state == "ok" and not status.warning:
            fine += 1
        else:
            folded += named
    width = width or 80
    if fine < 2 or Content.assemble(*full).cell_length <= width - 20 - reserved:
        return full
    summary = f"{fine} channels up to date" if fine else ""
    return [" · ", (summary, "$success"), *folded] if summary else folded
