"""Triage from the inbox: snooze, tags, notes, assignment, and the selection bulk actions act on.

`TriageKeys` is mixed into the inbox screen (its bindings are listed there, with ids); the small
prompts it opens live here too. Whatever the manager types (tags, notes, names) is shown as
plain `Content`, never as markup.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.suggester import Suggester
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ecoinbox.actions import parse_tag_edit
from ecoinbox.model import DraftKind, State, Triage
from ecoinbox.snooze import PRESETS, SnoozeError, describe_wake, wake_time
from ecoinbox.store import StateChange, StoreError
from ecoinbox.tui.drafts import DraftKeeper, open_draft
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.help import describe_keys
from ecoinbox.tui.screens.undo_send import HeldReply
from ecoinbox.tui.store_notices import notify_store_failure
from ecoinbox.tui.targets import Target, sentence

if TYPE_CHECKING:
    from textual import getters

    from ecoinbox.model import View
    from ecoinbox.search import SearchResults
    from ecoinbox.tui.app import EcoInboxApp
    from ecoinbox.tui.widgets.conversation_list import ConversationList

BULK_LIMIT = 1000
"""`X` selects at most this many conversations: a bulk action stays one quick transaction,
and one undo."""

TRIAGE_BINDINGS: list[BindingType] = [
    Binding("s", "snooze", "Snooze", id="inbox.snooze"),
    Binding("t", "tag", "Tag", id="inbox.tag", show=False),
    Binding("n", "note", "Note", id="inbox.note", show=False),
    Binding("a", "assign", "Assign", id="inbox.assign", show=False),
    Binding("x", "toggle_select", "Select", id="inbox.select", show=False),
    Binding("X", "select_all", "Select all in view", id="inbox.select_all", show=False),
]

_MODAL_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
    & > Vertical {{
        width: 90%;
        max-width: 70;
        height: auto;
        max-height: 95%;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class UndoStep:
    """One action this session made, as the store reported it: state changes (`changes`), or
    what each conversation was before a triage action (`before`), restored all at once; or a
    reply held before it goes out (`reply`, with the state a redirect changed)."""

    label: str
    changes: tuple[StateChange, ...] = ()
    before: tuple[Triage, ...] = ()
    reply: HeldReply | None = None
    hidden: tuple[tuple[int, str, str], ...] = ()  # (conversation, channel, remote id) hidden there


def _noticed(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A store failure during a triage key becomes a notice in the store's words, not a crash."""

    @functools.wraps(method)
    async def noticed(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except StoreError as exc:
            notify_store_failure(self, exc, self.app.store.read_only_reason)
            return None

    return noticed


class TagSuggester(Suggester):
    """Completes the last word typed from the tags already in use (with its "-" kept)."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(" ")
        sign = "-" if last.startswith("-") else ""
        stem = last.removeprefix("-").removeprefix("#").lower()
        if not stem:
            return None
        for tag in self.tags:
            if tag.startswith(stem) and tag != stem:
                return f"{head} {sign}{tag}".lstrip() if head else f"{sign}{tag}"
        return None


class SnoozeScreen(ModalScreen[datetime | None]):
    """Until when: a preset (1-4, or enter on it) or a typed time ("14:00", "mon 9:00", "2d")."""

    DEFAULT_CSS = _MODAL_CSS.format(name="SnoozeScreen") + "SnoozeScreen OptionList { height: auto; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="snooze.cancel"),
        *[
            Binding(key, f"preset({index})", label, id=f"snooze.preset_{key}", show=False)
            for index, (key, label) in enumerate(PRESETS)
        ],
    ]

    def __init__(self, now: datetime, what: str = "this conversation") -> None:
        """`what`: whose conversation, or how many (sanitized: `Target.whose`)."""
        super().__init__()
        self.now = now
        self.what = what

    def compose(self) -> ComposeResult:
        options = [
            Option(
                Content.assemble(
                    (f"{key} ", "bold $accent"),
                    label,
                    (f"  {describe_wake(wake_time(label, self.now), self.now)}", "dim"),
                ),
                id=str(index),
            )
            for index, (key, label) in enumerate(PRESETS)
        ]
        with Vertical():
            yield Static(Content.styled(f"Snooze {self.what} until…", "bold"), markup=False)
            yield OptionList(*options, id="snooze-options")
            yield Input(placeholder="or type: 14:00 · mon 9:00 · 2d · 3h", id="snooze-input")
            yield Static("", id="snooze-error", markup=False)
            yield Static(Content.styled("1-4: snooze · tab: type a time · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_preset(int(event.option.id or 0))

    def action_preset(self, index: int) -> None:
        self.dismiss(wake_time(PRESETS[index][1], self.now))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(wake_time(event.value, self.now))
        except SnoozeError as exc:
            self.query_one("#snooze-error", Static).update(Content.styled(str(exc), "$error"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TagPrompt(ModalScreen[str | None]):
    """Tags to add, "-tag" to remove; tab completes from the tags in use."""

    DEFAULT_CSS = _MODAL_CSS.format(name="TagPrompt")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="tag.cancel")]

    def __init__(
        self, tags: list[str], what: str = "this conversation", current: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.tags = tags
        self.what = what
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled(f"Tag {self.what}", "bold"), markup=False)
            if self.current:
                now = safe_content(
                    " ".join("#" + t for t in self.current), style="$text-secondary", single_line=True
                )
                yield Static(Content.assemble(("now: ", "dim"), now), markup=False)
            yield Input(placeholder="refund vip -later", suggester=TagSuggester(self.tags), id="tag-input")
            known = safe_content(" ".join(self.tags[:12]), style="dim", single_line=True, max_chars=200)
            yield Static(Content.assemble(("in use: ", "dim"), known) if self.tags else "", markup=False)
            yield Static(Content.styled("→ completes · enter: apply · -tag removes · esc: cancel", "dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(ModalScreen[str | None]):
    """An internal note: shown in the thread to the team, never sent."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

    DEFAULT_CSS = _MODAL_CSS.format(name="NoteScreen") + "NoteScreen TextArea { height: 6; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note", id="note.save"),
        Binding("escape", "cancel", "Cancel", id="note.cancel"),
    ]

    def __init__(
        self, text: str = "", *, draft_keeper: DraftKeeper | None = None, what: str = "this conversation"
    ) -> None:
        """`text`: a draft kept from before; `draft_keeper` keeps the note as it is typed; `what`:
        whose conversation it goes on (sanitized: `Target.whose`)."""
        super().__init__()
        self.initial = text
        self.draft_keeper = draft_keeper
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled(f"Internal note on {self.what}", "bold"), markup=False)
            yield Static(Content.styled("The team sees it; it is never sent.", "dim"), markup=False)
            yield TextArea(self.initial, id="note-text", soft_wrap=True, show_line_numbers=False)
            yield Static(Content.styled("ctrl+s: save · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.draft_keeper is not None:
            self.draft_keeper.changed(event.text_area.text)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        if self.draft_keeper is None or not self.query_one(TextArea).text.strip():
            self._discard()
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self._discard()

        question = f"Discard the note on {self.what}?"
        self.app.push_screen(ConfirmScreen(question, yes="Discard", no="Keep writing"), decided)

    def _discard(self) -> None:
        if self.draft_keeper is not None:
            self.app.run_worker(self.draft_keeper.discard(), group="draft", exit_on_error=False)
        self.dismiss(None)


NOBODY = "\0nobody"


class AssignScreen(ModalScreen[str | None]):
    """Whom to give the conversation to: me, a team member, or nobody. Returns "" for nobody."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="AssignScreen") + "AssignScreen OptionList { height: auto; max-height: 12; }"
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="assign.cancel")]

    def __init__(
        self, me: str, members: tuple[str, ...], what: str = "this conversation", current: str = ""
    ) -> None:
        super().__init__()
        self.me = me
        self.members = members
        self.what = what
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Content.assemble(self.me, (" (me)", "dim")), id=self.me)]
        options += [Option(Content(member), id=member) for member in self.members]
        options.append(Option(Content.styled("nobody", "italic"), id=NOBODY))
        with Vertical():
            yield Static(Content.styled(f"Assign {self.what} to", "bold"), markup=False)
            yield OptionList(*options, id="assign-options")
            yield Static(Content.styled("enter: assign · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [self.me, *self.members]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id or ""
        self.dismiss("" if chosen == NOBODY else chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TriageKeys(Screen[None]):
    """The inbox's triage keys: they act on the selection (`x`, `X`) or on the row under the cursor."""

    if TYPE_CHECKING:  # `self.app` typed as ours (textual.getters); at run time Textual's property
        app = getters.app(EcoInboxApp)

        # What the screen these keys belong to (InboxScreen) provides them.
        results: SearchResults | None

        @property
        def conversations(self) -> ConversationList: ...
        @property
        def view(self) -> View: ...
        def _writes_refused(self) -> bool: ...
        def _render_status(self) -> None: ...
        def _remember(self, step: UndoStep) -> None: ...

    def _me(self) -> str:
        return self.app.settings.team.me

    def _targets(self) -> list[int]:
        """The selected conversations, else the one under the cursor."""
        self.conversations.held = True
        marked = self.conversations.marked
        if marked:
            return sorted(marked)
        selected = self.conversations.selected_id
        return [] if selected is None else [selected]

    async def _target(self, ids: list[int]) -> Target:
        """Whom `ids` are, for the dialog and the notice: one person's conversation, or a count."""
        if len(ids) != 1:
            return Target.many(len(ids))
        row = self.conversations.selected_row
        if row is None or row.id != ids[0]:  # one selected row, away from the cursor
            row = await self.app.store.conversation_row(ids[0])
        return Target.many(1) if row is None else Target.of_row(row)

    async def _apply_triage(self, label: str, ids: list[int], target: Target, **action: Any) -> list[Triage]:
        """One triage action on `ids`, remembered as one undo step; the selection is cleared.
        The notice and the undo step name `target` ("marked done: René Lefèvre, facture F-2291")."""
        store = self.app.store
        before = await store.apply_triage(ids, actor=self._me(), **action)
        if self.conversations.marked:
            self.conversations.set_marks(())
        if before:
            if len(before) != target.count:  # some needed no change: say how many did
                target = Target.many(len(before))
            done = f"{label}: {target.label()}"
            self._remember(UndoStep(done, before=tuple(before)))
            self.notify(f"{sentence(done)}. u undoes.", markup=False, timeout=3)
        else:
            self.notify(f"Already {label}: {target.label()}.", markup=False, timeout=2)
        return before

    @_noticed
    async def triage_state(self, state: State) -> None:
        """e, !, o: the state of the selection (or of the row under the cursor)."""
        ids = self._targets()
        if not ids or self._writes_refused():
            return
        label = {State.OPEN: "reopened", State.DONE: "marked done", State.SPAM: "marked spam"}.get(
            state, f"marked {state.value}"
        )
        await self._apply_triage(label, ids, await self._target(ids), state=state)

    @work(exclusive=True, group="triage", exit_on_error=False)
    @_noticed
    async def action_snooze(self) -> None:
        ids = self._targets()
        if not ids or self._writes_refused():
            return
        now = self.app.now().astimezone()
        target = await self._target(ids)
        until = await self.app.push_screen_wait(SnoozeScreen(now, target.whose()))
        if until is None:
            return
        await self._apply_triage(
            f"snoozed until {describe_wake(until, now)}",
            ids,
            target,
            state=State.SNOOZED,
            snoozed_until=until,
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    @_noticed
    async def action_tag(self) -> None:
        ids = self._targets()
        if not ids or self._writes_refused():
            return
        store = self.app.store
        row = self.conversations.selected_row
        current = row.tags if row is not None and len(ids) == 1 else ()
        target = await self._target(ids)
        typed = await self.app.push_screen_wait(TagPrompt(await store.tags_in_use(), target.whose(), current))
        if not typed:
            return
        added, removed = parse_tag_edit(typed)
        if not added and not removed:
            return
        words = [*("#" + t for t in added), *("-#" + t for t in removed)]
        await self._apply_triage(
            "tagged " + " ".join(words), ids, target, add_tags=added, remove_tags=removed
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    @_noticed
    async def action_assign(self) -> None:
        ids = self._targets()
        if not ids or self._writes_refused():
            return
        team = self.app.settings.team
        row = self.conversations.selected_row
        current = row.assignee if row is not None else ""
        target = await self._target(ids)
        chosen = await self.app.push_screen_wait(AssignScreen(team.me, team.members, target.whose(), current))
        if chosen is None:
            return
        await self._apply_triage(
            f"assigned to {chosen}" if chosen else "unassigned", ids, target, assignee=chosen
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    @_noticed
    async def action_note(self) -> None:
        self.conversations.held = True
        conversation_id = self.conversations.selected_id
        if conversation_id is None or self._writes_refused():
            return
        target = await self._target([conversation_id])
        self.say_cursor_only("inbox.note", "n")
        keeper, kept = await open_draft(self, conversation_id, DraftKind.NOTE, label="note")
        box = NoteScreen("" if kept is None else kept.text, draft_keeper=keeper, what=target.whose())
        text = await self.app.push_screen_wait(box)
        if not text:
            return
        store = self.app.store
        async with keeper.queueing():  # the note's draft goes in the same commit
            await store.add_note(conversation_id, text, author=self._me())
        self.notify(
            sentence(f"note saved on {target.whose()} (internal: never sent)."), markup=False, timeout=3
        )

    def say_cursor_only(self, binding_id: str, default_key: str) -> None:
        """A key that acts on one conversation, pressed with rows selected: say it takes the
        cursor's row and leaves the selection alone (no guess about which one was meant)."""
        count = len(self.conversations.marked)
        if count:
            key = describe_keys(self.app.settings.ui.keys.get(binding_id, default_key))
            row = self.conversations.selected_row
            whose = "this conversation" if row is None else Target.of_row(row).whose()
            self.notify(
                f"{key} acts on one conversation, the one under the cursor: {whose}. "
                f"The {count:,} selected stay selected.",
                markup=False, timeout=5,
            )  # fmt: skip

    async def action_toggle_select(self) -> None:
        conversations = self.conversations
        conversation_id = conversations.selected_id
        if conversation_id is None:
            return
        conversations.toggle_mark(conversation_id)
        await conversations.action_cursor_down()
        self._render_status()

    @_noticed
    async def action_select_all(self) -> None:
        conversations = self.conversations
        if self.results is not None:
            ids = [row.id for row in await self.results.conversation_page_at(self.view, 0, BULK_LIMIT)]
            total = len(self.results)
        else:
            store = self.app.store
            ids = await store.conversation_ids(self.view, limit=BULK_LIMIT)
            total = await store.count_conversations(self.view)
        conversations.set_marks(ids)
        if total > len(ids):
            self.notify(
                f"Selected the first {len(ids):,} of {total:,}: a bulk action takes at most {BULK_LIMIT:,} "
                "at a time. esc clears the selection.",
                markup=False,
                timeout=6,
            )
        else:
            self.notify(f"Selected {len(ids):,}. esc clears the selection.", markup=False, timeout=3)
        self._render_status()

    def clear_marks(self) -> bool:
        """esc: forget the rows selected with `x` first; whether there were any. (Not named
        `clear_selection`: Textual's Screen has that for selected text, and calls it on clicks.)"""
        if not self.conversations.marked:
            return False
        self.conversations.set_marks(())
        self._render_status()
        return True

    def selection_label(self) -> str:
        """For the status line: how many are selected ("" when none)."""
        count = len(self.conversations.marked)
        return f"{count} selected" if count else ""
