"""`c`: the person behind a conversation across channels; `L`: link their account with another.

The contact panel lists every account of the person (with who linked it and why), their first
contact, the manager's note about them and every conversation with them on every channel, newest
first; enter opens one in the inbox, as a list of that person's conversations. Everything the
platforms said (names, handles, snippets) and the note go through `tui.safe`: Content, never markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ecoinbox.humanize import age
from ecoinbox.model import Contact, ContactAccount, ConversationRow, View
from ecoinbox.sanitize import sanitize
from ecoinbox.tui.keys import after_typed
from ecoinbox.tui.safe import safe_content

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.tui.app import EcoInboxApp

SortKey = tuple[int, int, int]
PICKER_SHOWN = 30


def account_label(account: ContactAccount, *, name: bool = True) -> Content:
    """ "mastodon @sophie@mamot.example Sophie Lefèvre", sanitized."""
    parts: list[Content | tuple[str, str] | str] = [
        (f"{account.channel:<9} ", "dim"),
        safe_content(f"@{account.handle}", style="bold", single_line=True, max_chars=50),
    ]
    if name and account.display_name and account.display_name != account.handle:
        parts += [" ", safe_content(account.display_name, single_line=True, max_chars=40)]
    return Content.assemble(*parts)


def conversation_label(row: ConversationRow, now: datetime) -> Content:
    """One of the person's conversations: channel, state, age, what they said last."""
    state = row.state.value + (f" ({row.reason})" if row.reason else "")
    return Content.assemble(
        (f"{row.channel:<9} ", "$accent"),
        (f"{state:<6} ", "bold" if row.state.value == "open" else "dim"),
        (f"{age(row.last_activity, now):>4}  ", "dim"),
        safe_content(row.snippet, single_line=True, max_chars=160),
    )


class PersonConversations:
    """A person's conversations on every channel as a source for the inbox list: read afresh
    from the store each time the list is (re)loaded, so states stay true as the manager acts."""

    def __init__(self, store: Any, author_id: int) -> None:
        self.store = store
        self.author_id = author_id
        self._rows: list[ConversationRow] = []
        self._index: dict[SortKey, int] = {}

    def __len__(self) -> int:
        return len(self._rows)

    async def count_conversations(self, view: View) -> int:
        self._rows = await self.store.contact_conversations(self.author_id)
        self._index = {row.sort_key: i for i, row in enumerate(self._rows)}
        return len(self._rows)

    async def conversation_page(
        self, view: View, *, after: SortKey | None = None, before: SortKey | None = None, limit: int = 100
    ) -> list[ConversationRow]:
        if before is not None:
            end = self._index.get(before, 0)
            return self._rows[max(0, end - limit) : end]
        start = 0 if after is None else self._index.get(after, len(self._rows) - 1) + 1
        return self._rows[start : start + limit]

    async def conversation_page_at(self, view: View, offset: int, limit: int) -> list[ConversationRow]:
        return self._rows[offset : offset + limit]

    async def conversation_page_last(self, view: View, limit: int) -> list[ConversationRow]:
        return self._rows[-limit:] if limit else []


class ContactScreen(ModalScreen[int | None]):
    """The person behind a conversation; dismisses with a conversation to open, or None."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="contact.close"),
        Binding("n", "note", "Note about them", id="contact.note"),
        Binding("L", "link", "Link another account", id="contact.link"),
        Binding("U", "unlink", "Unlink an account", id="contact.unlink"),
        Binding("enter", "open", "Open conversation", id="contact.open", show=False),
        Binding("j", "move(1)", "Next conversation", id="contact.next", show=False),
        Binding("k", "move(-1)", "Previous conversation", id="contact.previous", show=False),
    ]

    def __init__(
        self,
        author_id: int,
        *,
        actor: str,
        now: Callable[[], datetime],
        writable: Callable[[], bool],
        conversation_id: int | None = None,
    ) -> None:
        super().__init__()
        self.author_id = author_id
        self.conversation_id = conversation_id  # where the manager opened it: its history records changes
        self.actor = actor
        self.clock = now
        self.can_write = writable
        self.contact: Contact | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="contact-box"):
            yield Static("", id="contact-title", markup=False)
            yield Static("", id="contact-accounts", markup=False)
            yield Static("", id="contact-note", markup=False)
            yield OptionList(id="contact-conversations")
            yield Static(
                Content.styled("enter: open · n: note · L: link · U: unlink · esc: close", "dim"),
                markup=False,
            )

    async def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        await self.reload()

    async def reload(self) -> None:
        store = self.app.store
        self.contact = await store.contact(self.author_id)
        if self.contact is None:
            self.dismiss(None)
            return
        self._show_contact()

    def _show_contact(self) -> None:
        contact = self.contact
        assert contact is not None
        now = self.clock()
        first = contact.first_contact.strftime("%-d %b %Y") if contact.first_contact else "—"
        count = len(contact.conversations)
        self.query_one("#contact-title", Static).update(Content.assemble(
            safe_content(contact.label, style="bold", single_line=True, max_chars=40),
            (f"  first contact {first} · {count} conversation{'s' if count != 1 else ''}", "dim"),
        ))  # fmt: skip
        lines: list[Content] = []
        for index, account in enumerate(contact.accounts):
            line = account_label(account)
            if account.linked_by and index > 0:  # how it joined the first one
                who = "proof" if account.linked_by == "proof" else account.linked_by
                line = Content.assemble(
                    line, "\n   ", (f"linked by {who}: ", "dim"),
                    safe_content(account.why, style="dim italic", single_line=True, max_chars=90),
                )  # fmt: skip
            lines.append(line)
        if len(contact.accounts) == 1:
            lines.append(Content.styled("  no other account linked (L links one)", "dim"))
        self.query_one("#contact-accounts", Static).update(Content("\n").join(lines))
        note = contact.note
        self.query_one("#contact-note", Static).update(
            Content.assemble(("Note: ", "bold"), safe_content(note, max_chars=400))
            if note
            else Content.styled("No note about them (n writes one).", "dim")
        )
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            Option(conversation_label(row, now), id=str(row.id)) for row in contact.conversations
        )
        if contact.conversations:
            options.highlighted = min(highlighted or 0, len(contact.conversations) - 1)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = max(0, min((options.highlighted or 0) + step, options.option_count - 1))

    def action_open(self) -> None:
        options = self.query_one(OptionList)
        if self.contact is None or options.highlighted is None or not self.contact.conversations:
            return
        self.dismiss(self.contact.conversations[options.highlighted].id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    @work(exclusive=True, group="contact-edit")
    async def action_note(self) -> None:
        if self.contact is None or not self.can_write():
            return
        note = await self.app.push_screen_wait(ContactNoteScreen(self.contact.note))
        if note is None:
            return
        await self.app.store.set_contact_note(
            self.author_id, note, actor=self.actor, conversation_id=self.conversation_id
        )
        await self.reload()

    @work(exclusive=True, group="contact-edit")
    async def action_link(self) -> None:
        if self.contact is None or not self.can_write():
            return
        await link_by_hand(self.app, self.contact, self.actor, self.conversation_id)
        await self.reload()

    @work(exclusive=True, group="contact-edit")
    async def action_unlink(self) -> None:
        contact = self.contact
        if contact is None or not self.can_write():
            return
        if len(contact.accounts) < 2:
            self.notify("Only one account: nothing to unlink.", markup=False, timeout=3)
            return
        picked = await self.app.push_screen_wait(
            AccountPicker("Unlink which account? It becomes a person of its own.", accounts=contact.accounts)
        )
        if picked is None:
            return
        store = self.app.store
        if await store.unlink_author(
            picked.author_id, actor=self.actor, conversation_id=self.conversation_id
        ):
            self.notify("Unlinked; a proof will not link them again.", markup=False, timeout=4)
        await self.reload()


async def link_by_hand(app: Any, contact: Contact, actor: str, conversation_id: int | None = None) -> bool:
    """The picker for `L`: find an account on any channel and make it the same person."""
    own = {a.author_id for a in contact.accounts}
    picked = await app.push_screen_wait(
        AccountPicker(
            Content.assemble("Link ", safe_content(contact.label, style="bold", single_line=True, max_chars=40),
                             " with which account? (type a handle or a name)"),
            search=app.store.find_authors, exclude=own,
        )
    )  # fmt: skip
    if picked is None:
        return False
    first = contact.accounts[0]
    if await app.store.link_authors(
        first.author_id,
        picked.author_id,
        actor=actor,
        reason=f"linked by {actor}",
        conversation_id=conversation_id,
    ):
        app.notify(f"Linked with @{_plain(picked.handle)} on {picked.channel}.", markup=False, timeout=4)
        return True
    return False


def _plain(text: str) -> str:
    return sanitize(text, single_line=True, max_chars=60)


class AccountPicker(ModalScreen[ContactAccount | None]):
    """Pick an account: typed search across channels (`search`), or a fixed list (`accounts`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="account.cancel"),
        Binding("down,ctrl+n", "move(1)", "Next", id="account.next", show=False),
        Binding("up,ctrl+p", "move(-1)", "Previous", id="account.previous", show=False),
    ]

    def __init__(
        self,
        title: str | Content,
        *,
        search: Callable[[str], Awaitable[list[ContactAccount]]] | None = None,
        accounts: Sequence[ContactAccount] = (),
        exclude: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lookup = search
        self.exclude = exclude
        self.shown: list[ContactAccount] = [a for a in accounts if a.author_id not in exclude]

    def compose(self) -> ComposeResult:
        with Vertical(id="account-box"):
            title = self.title_text if isinstance(self.title_text, Content) else Content(self.title_text)
            yield Static(title.stylize("bold"), markup=False)
            if self.lookup is not None:
                yield Input(placeholder="handle or name", id="account-query")
            yield OptionList(id="account-options")
            yield Static(Content.styled("enter: choose · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        self._list_accounts()
        if self.lookup is not None:
            self.query_one(Input).focus()
        else:
            self.query_one(OptionList).focus()

    def _list_accounts(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(account_label(a)) for a in self.shown)
        if self.shown:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._search_accounts(event.value)

    @work(exclusive=True, group="account-search", exit_on_error=False)
    async def _search_accounts(self, text: str) -> None:
        assert self.lookup is not None
        found = await self.lookup(text)
        self.shown = [a for a in found if a.author_id not in self.exclude][:PICKER_SHOWN]
        self._list_accounts()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            options.highlighted = ((options.highlighted or 0) + step) % len(self.shown)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None and self.shown:
            self.dismiss(self.shown[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class ContactNoteScreen(ModalScreen[str | None]):
    """The manager's note about a person: plain text, never sent; ctrl+s saves, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note", id="contact_note.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="contact_note.cancel", priority=True),
    ]

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(
                Content.styled("Note about this person (only your team sees it)", "bold"), markup=False
            )
            yield TextArea(self.note, id="note-text", soft_wrap=True)
            yield Static(Content.styled("ctrl+s: save · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @after_typed
    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    @after_typed
    def action_cancel(self) -> None:
        self.dismiss(None)
