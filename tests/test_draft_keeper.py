"""DraftKeeper on its own: what is typed while a save is under way is saved too."""

from __future__ import annotations

import asyncio

from ecoinbox.model import DraftKind
from ecoinbox.tui import drafts
from ecoinbox.tui.drafts import DraftKeeper


class SlowStore:
    """Saves drafts, the first one slowly (a busy disk): keys go on arriving meanwhile."""

    def __init__(self) -> None:
        self.saved: list[str] = []
        self.saving = asyncio.Event()
        self.release = asyncio.Event()

    async def save_draft(self, conversation_id: int, kind: DraftKind, text: str, **kwargs: object) -> None:
        if not self.saved:
            self.saving.set()
            await self.release.wait()
        self.saved.append(text)

    async def delete_draft(self, conversation_id: int, kind: DraftKind) -> None:
        self.saved.append("")


async def test_keys_typed_during_a_save_are_saved_without_another_key(monkeypatch) -> None:
    monkeypatch.setattr(drafts, "DRAFT_SAVE_S", 0.01)
    store = SlowStore()
    keeper = DraftKeeper(store, 1, DraftKind.REPLY)  # type: ignore[arg-type]
    keeper.changed("we are check")
    await asyncio.wait_for(store.saving.wait(), 5)
    keeper.changed("we are checking with the carrier")  # the last keys, during that save
    store.release.set()
    for _ in range(200):
        if store.saved[-1:] == ["we are checking with the carrier"]:
            break
        await asyncio.sleep(0.01)
    assert store.saved == ["we are check", "we are checking with the carrier"]
