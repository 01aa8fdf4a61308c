"""Drafts as they are typed: a box's text reaches the store within DRAFT_SAVE_S of a keystroke.

A `DraftKeeper` belongs to one open box (reply, redirect, note, new topic). The box tells it each
change; it saves at most every DRAFT_SAVE_S (so a kill -9 loses less than that), saves at once on
quit, drops the draft when the manager discards the text, and stops saving once the box's
content is queued (the store drops the draft in that same commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, cast

from textual.widget import Widget

from ecoinbox.model import Draft, DraftKind
from ecoinbox.sanitize import sanitize
from ecoinbox.store import Store, StoreError

if TYPE_CHECKING:
    from ecoinbox.tui.app import EcoInboxApp

log = logging.getLogger(__name__)

DRAFT_SAVE_S = 0.5
"""Longest time a typed character waits before it is in the store."""


class DraftKeeper:
    """Saves one box's text as the conversation's draft of `kind`, as it is typed."""

    def __init__(
        self,
        store: Store,
        conversation_id: int,
        kind: DraftKind,
        *,
        parent_remote_id: str | None = None,
        blank: str = "",
        label: str = "draft",
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """`blank` is what the box holds before the manager typed anything (a reply's @mention):
        that is no draft. `label` names it for the manager ("reply to Zoé")."""
        self.store = store
        self.conversation_id = conversation_id
        self.kind = kind
        self.parent_remote_id = parent_remote_id
        self.blank = blank.strip()
        self.label = label
        self.on_error = on_error
        self._text: str | None = None  # typed and not yet saved
        self.holds_words = False
        """Whether the box holds more than it did blank: that is kept as a draft."""
        self._closed = False
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[None] | None = None
        self._failed = False

    def changed(self, text: str) -> None:
        """The box now holds `text`: it is saved within DRAFT_SAVE_S."""
        if self._closed:
            return
        self._text = text
        self.holds_words = text.strip() not in ("", self.blank)
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._save_later(), name="save draft")

    async def _save_later(self) -> None:
        # Keys typed while a save runs find this task still going (no new one starts): it saves
        # again for them, or the last keystrokes would wait for the next key or the box's close.
        while True:
            await asyncio.sleep(DRAFT_SAVE_S)
            await self.flush()
            if self._text is None or self._closed or self._failed:
                return

    async def flush(self) -> None:
        """Save what is typed now (quitting, or the delay ran out)."""
        async with self._lock:
            text, self._text = self._text, None
            if text is None or self._closed:
                return
            try:
                if text.strip() in ("", self.blank):
                    await self.store.delete_draft(self.conversation_id, self.kind)
                else:
                    await self.store.save_draft(
                        self.conversation_id, self.kind, text, parent_remote_id=self.parent_remote_id
                    )
            except StoreError as exc:
                self._text = self._text if self._text is not None else text  # the next change retries
                if not self._failed and self.on_error is not None:
                    self.on_error(f"The draft is not saved: {exc}")
                self._failed = True
            else:
                self._failed = False

    async def discard(self) -> None:
        """The manager threw the text away: so does the store."""
        await self._close()
        try:
            await self.store.delete_draft(self.conversation_id, self.kind)
        except StoreError as exc:
            log.warning("a discarded draft stays in the store: %s", exc)

    @contextlib.asynccontextmanager
    async def queueing(self) -> AsyncIterator[None]:
        """Around queueing the box's content: no save runs meanwhile, none after it worked (the
        queueing drops the draft); if it failed, typing saves again."""
        async with self._lock:
            yield
            self._closed = True
            if self._pending is not None:
                self._pending.cancel()

    async def _close(self) -> None:
        async with self._lock:
            self._closed = True
            if self._pending is not None:
                self._pending.cancel()


async def open_draft(
    screen: Widget, conversation_id: int, kind: DraftKind, *, parent_remote_id: str | None = None,
    blank: str = "", label: str,
) -> tuple[DraftKeeper, Draft | None]:  # fmt: skip
    """A keeper for a box about to open on `screen`, and the draft it left last time (said so)."""
    store = cast("EcoInboxApp", screen.app).store
    kept = await store.draft(conversation_id, kind)
    keeper = DraftKeeper(
        store, conversation_id, kind, parent_remote_id=parent_remote_id, blank=blank,
        label=sanitize(label, single_line=True, max_chars=60),
        on_error=lambda why: screen.notify(why, severity="error", markup=False, timeout=8),
    )  # fmt: skip
    if kept is not None:
        keeper.holds_words = True
        when = kept.updated_at.astimezone().strftime("%H:%M")
        back = f"Your draft is back (typed at {when}); esc, then y, discards it."
        screen.notify(back, markup=False, timeout=4)
    return keeper, kept


def keepers(screens: Iterable[object]) -> list[DraftKeeper]:
    """The draft keepers of the open boxes among `screens`."""
    return [k for s in screens if isinstance(k := getattr(s, "draft_keeper", None), DraftKeeper)]
