"""The inbox's contact keys: the person behind a conversation on every channel (`c`), and a link
made by hand between two of their accounts (`L`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoinbox.tui.screens.contact import ContactScreen, link_by_hand

if TYPE_CHECKING:
    from ecoinbox.tui.screens import inbox


class ContactFlows:
    """The contact flows of the inbox screen, which calls them from its keys."""

    def __init__(self, screen: inbox.InboxScreen) -> None:
        self.screen = screen

    def _actor(self) -> str:
        return self.screen._me()  # [team] me, as every action in the history

    async def _selected_author(self) -> int | None:
        conversation_id = self.screen.conversations.selected_id
        if conversation_id is None:
            return None
        self.screen.conversations.held = True
        contact = await self.screen.app.store.conversation_contact(conversation_id)
        if contact is None:
            self.screen.notify("Nobody outside wrote in this conversation.", markup=False, timeout=3)
            return None
        return contact.accounts[0].author_id

    async def contact(self) -> None:
        """The person behind this conversation, on every channel; enter opens one of theirs."""
        author_id = await self._selected_author()
        if author_id is None:
            return
        app, writable = self.screen.app, lambda: not self.screen._writes_refused()
        now, conversation_id = app.now, self.screen.conversations.selected_id
        panel = ContactScreen(
            author_id, actor=self._actor(), now=now, writable=writable, conversation_id=conversation_id
        )
        opened = await app.push_screen_wait(panel)
        if opened is not None and panel.contact is not None:
            await self.screen._open_person(panel.contact.label, panel.author_id, opened)

    async def link_contact(self) -> None:
        """`L`: link this conversation's person with an account on another channel, by hand."""
        author_id = await self._selected_author()
        if author_id is None or self.screen._writes_refused():
            return
        contact = await self.screen.app.store.contact(author_id)
        if contact is not None:
            await link_by_hand(self.screen.app, contact, self._actor(), self.screen.conversations.selected_id)
