"""What the inbox says when the store fails during a key's work: one place, so the inbox, the
triage keys and the outbox view say it alike."""

from __future__ import annotations

from textual.widget import Widget

from ecoinbox.store import StoreError, StoreNotWritable

BANNER_SAYS = "The store is read-only: the banner at the top says why and what to do."


def notify_store_failure(widget: Widget, exc: StoreError, read_only_reason: str | None) -> None:
    """A notice in the store's own words; once the inbox is read-only, its banner holds those
    words (several lines with a recovery command), and a second copy in a toast would push
    the notices of the next keys off a small screen: the toast then points at the banner."""
    title = "Not saved" if isinstance(exc, StoreNotWritable) else "Store problem"
    words = str(exc) if read_only_reason is None else BANNER_SAYS
    widget.notify(words, title=title, severity="error", timeout=20 if read_only_reason is None else 8,
                  markup=False)  # fmt: skip
