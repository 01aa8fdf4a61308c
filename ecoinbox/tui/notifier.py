"""Telling the manager about new high-priority conversations: a bell, or a desktop notification.

`[ui] notify` chooses: "off", "bell" (the terminal's bell, which reaches the manager's own
terminal over SSH) or "desktop" (`notify-send` where it is installed; without it, the bell).
A muted conversation never notifies (the store leaves it out of what it reports as urgent).
The person's words are sanitized and cut before they reach a notification; notify-send gets
them as one argv item, never through a shell.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from ecoinbox.model import ConversationRow
from ecoinbox.sanitize import sanitize

log = logging.getLogger(__name__)

SUMMARY_CHARS = 120


def describe(rows: Sequence[ConversationRow]) -> tuple[str, str]:
    """A notification's title and body for these conversations, sanitized."""
    if len(rows) == 1:
        row = rows[0]
        who = sanitize(row.author_label or row.author_handle, single_line=True, max_chars=60)
        title = f"ecoinbox: {who} on {sanitize(row.channel, single_line=True, max_chars=30)}"
        body = sanitize(row.priority_reason or row.snippet, single_line=True, max_chars=SUMMARY_CHARS)
        return title, body
    reasons = "; ".join(dict.fromkeys(r.priority_reason for r in rows if r.priority_reason))
    return f"ecoinbox: {len(rows)} high-priority conversations", sanitize(
        reasons, single_line=True, max_chars=SUMMARY_CHARS
    )


class Notifier:
    """Rings or notifies for new high-priority conversations, as `[ui] notify` says."""

    def __init__(
        self,
        mode: str,
        *,
        bell: Callable[[], None],
        which: Callable[[str], str | None] = shutil.which,
        spawn: Callable[..., Any] = subprocess.Popen,
    ) -> None:
        self.mode = mode
        self._bell = bell
        self._which = which
        self._spawn = spawn

    def __call__(self, rows: Sequence[ConversationRow]) -> str | None:
        """Notify about `rows` (open, not muted); returns how ("bell", "desktop") or None."""
        rows = [r for r in rows if r.priority > 0 and not r.muted]
        if not rows or self.mode == "off":
            return None
        if self.mode == "desktop":
            program = self._which("notify-send")
            if program is not None:
                title, body = describe(rows)
                try:
                    self._spawn(
                        [program, "--app-name=ecoinbox", "--urgency=normal", "--", title, body],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )  # fmt: skip
                    return "desktop"
                except OSError as exc:
                    log.info("notify-send failed (%s); ringing the bell instead", exc.strerror)
        self._bell()
        return "bell"
