"""Dialogs and notices name what they act on: a manager in a hurry reads whom a key touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from test_redirect_flows import _all_sent, two_channels
from textual.content import Content
from textual.widgets import OptionList, Static

from ecoinbox.model import ConversationRow, Origin, State, View
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen
from ecoinbox.tui.screens.triage import AssignScreen, NoteScreen, SnoozeScreen, TagPrompt
from ecoinbox.tui.targets import Target


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path, extra_ui="", clock=lambda: FIXED_NOW) as stack:
        t = FIXED_NOW - timedelta(hours=3)
        stack.server.add_status(author="rene@remote.example", display_name="René Lefèvre",
                                text="@acme facture F-2291 payée deux fois", created_at=t)  # fmt: skip
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé",
                                text="@acme my order never arrived", created_at=t + timedelta(hours=1))  # fmt: skip
        await stack.engine.poll_all_once()
        yield stack


def heard(app: EcoInboxApp) -> list[str]:
    """Every notice the app showed, by listening to `notify` (a public method) from the start."""
    said: list[str] = []
    show = app.notify

    def notify(message: str, **options: object) -> None:
        said.append(message)
        show(message, **options)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return said


def title_of(screen) -> str:
    """The first line of a dialog: the question it asks."""
    first = screen.query(Static).first()
    content = first.render()
    return content.plain if isinstance(content, Content) else str(content)


async def test_screening_dialogs_and_notices_name_the_person_and_what_they_wrote(stack):
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    said = heard(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("G")  # René: the oldest
        assert app.inbox.conversations.selected_row.author_label == "René Lefèvre"
        rene = app.inbox.conversations.selected_id
        await pilot.press("t")
        await wait_until(lambda: isinstance(app.screen, TagPrompt), pilot=pilot)
        assert title_of(app.screen) == "Tag René Lefèvre's conversation"
        await pilot.press(*"vip", "enter")
        await wait_until(lambda: any(s.startswith("Tagged #vip") for s in said), pilot=pilot)
        assert "Tagged #vip: René Lefèvre, facture F-2291 payée deux fois. u undoes." in said
        for key, kind, title in [
            ("s", SnoozeScreen, "Snooze René Lefèvre's conversation until…"),
            ("a", AssignScreen, "Assign René Lefèvre's conversation to"),
            ("n", NoteScreen, "Internal note on René Lefèvre's conversation"),
        ]:
            await pilot.press(key)
            await wait_until(lambda kind=kind: isinstance(app.screen, kind), pilot=pilot)
            assert title_of(app.screen) == title
            await pilot.press("escape")
            await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        await pilot.press("e")
        await wait_until(lambda: any(s.startswith("Marked done") for s in said), pilot=pilot)
        assert "Marked done: René Lefèvre, facture F-2291 payée deux fois. u undoes." in said
        assert (await stack.store.conversation_row(rene)).state is State.DONE
        await pilot.press("u")
        await wait_until(lambda: any(s.startswith("Undone") for s in said), pilot=pilot)
        assert "Undone: marked done: René Lefèvre, facture F-2291 payée deux fois." in said


async def test_a_bulk_action_counts_and_the_dialog_says_how_many(stack):
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    said = heard(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")  # select all
        await pilot.press("t")
        await wait_until(lambda: isinstance(app.screen, TagPrompt), pilot=pilot)
        assert title_of(app.screen) == "Tag 2 conversations"
        await pilot.press(*"billing", "enter")
        await wait_until(lambda: any(s.startswith("Tagged") for s in said), pilot=pilot)
        assert "Tagged #billing: 2 conversations. u undoes." in said


async def test_keys_for_one_conversation_say_they_take_the_cursors_row_when_rows_are_selected(stack):
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    said = heard(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")  # Zoé selected, the cursor moves on to René
        assert app.inbox.conversations.selected_row.author_label == "René Lefèvre"
        await pilot.press("n")
        await wait_until(lambda: isinstance(app.screen, NoteScreen), pilot=pilot)
        assert (
            "n acts on one conversation, the one under the cursor: René Lefèvre's conversation. "
            "The 1 selected stay selected."
        ) in said
        assert title_of(app.screen) == "Internal note on René Lefèvre's conversation"
        await pilot.press(*"called him", "ctrl+s")
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        assert len(app.inbox.conversations.marked) == 1
        row = app.inbox.conversations.selected_row
        notes = (await stack.store.conversation(row.id)).notes
        assert [n.text for n in notes] == ["called him"]


def test_names_are_sanitized_cut_and_leading_mentions_dropped():
    row = ConversationRow(
        id=1, channel="mastodon", state=State.OPEN, needs_reply=True, last_activity=FIXED_NOW,
        author_label="Evil\x1b[31m Name that goes on and on and on forever", author_handle="evil",
        snippet="@acme @support:  [b]refund[/b] please\nnow", message_count=1, origin=Origin.MENTION,
    )  # fmt: skip
    target = Target.of_row(row)
    assert "\x1b" not in target.name and target.name.endswith("…") and len(target.name) <= 30
    assert target.words == "[b]refund[/b] please now"
    assert target.whose() == f"{target.name} (conversation)"  # no "…'s"
    assert Target.many(3).label() == "3 conversations"


async def test_the_forum_row_a_redirect_made_names_itself_and_shows_its_own_thread_first(tmp_path):
    async with two_channels(tmp_path) as (social, _forum, store, engine, settings):
        social.add_status(author="sam", display_name="Sam",
                          text="@acme how do I move my widgets between two accounts? I can't find it anywhere",
                          created_at=FIXED_NOW - timedelta(minutes=30))  # fmt: skip
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        said = heard(app)
        async with app.run_test(size=(100, 40)) as pilot:
            sam = app.inbox.conversations.selected_id
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            assert title_of(app.screen) == "Bring Sam to the forum"
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1  # "New forum topic…"
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            await pilot.press("ctrl+s")
            await wait_until(lambda: _all_sent(store), timeout=15, pilot=pilot)
            assert (
                "Forum topic queued; the reply to Sam with its address follows once it exists. "
                "Sam's conversation is done (redirected)." in said
            )
            (linked,) = (await store.conversation(sam)).linked
            row = linked.row
            assert row.channel == "forum" and row.snippet.startswith("How do I move my widgets")
            assert row.reason == "forum topic made by a redirect"
            await app.inbox.open_conversation(row.id)
            await wait_until(lambda: app.inbox.thread.conversation is not None
                             and app.inbox.thread.conversation.row.id == row.id, pilot=pilot)  # fmt: skip
            lines = app.inbox.thread.content.plain.splitlines()
            assert [line for line in lines[:3] if line] == [
                "How do I move my widgets between two accounts?",
                "done · forum topic made by a redirect",
            ]
            first_post = next(i for i, line in enumerate(lines) if line.startswith("Acme Team @acme_team"))
            linked_at = lines.index("── linked, on mastodon: conversation with Sam ──")
            assert first_post < linked_at
            done_rows = await store.conversation_page(View.DONE)
            assert {r.id for r in done_rows} == {sam, row.id}


def test_a_tag_keeps_what_sanitize_keeps_and_drops_what_it_strips():
    from ecoinbox.model import normalize_tag

    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalize_tag(f"#Famille {family}") == f"famille-{family}"
    assert normalize_tag("vip\u200d") == "vip"  # a stray joiner is hidden text: dropped
    assert normalize_tag("re\u202efund\x1b[31m") == "refund"  # BiDi override, escape sequence


async def test_a_click_and_a_move_keep_the_rows_selected_with_x(stack):
    """Textual clears selected text with Screen.clear_selection on clicks and when the thread
    changes; the inbox's own `x` marks must not go with it."""
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x")  # Zoé marked; the cursor moves on to René (another thread)
        await wait_until(lambda: app.inbox.thread.conversation is not None
                         and app.inbox.thread.conversation.row.author_label == "René Lefèvre",
                         pilot=pilot)  # fmt: skip
        assert len(app.inbox.conversations.marked) == 1
        await pilot.click(app.inbox.thread, offset=(5, 2))
        await pilot.click(app.inbox.conversations, offset=(5, 1))
        await pilot.pause(0.2)
        assert len(app.inbox.conversations.marked) == 1
        await pilot.press("escape")  # esc still clears them
        assert not app.inbox.conversations.marked


async def test_a_click_clears_textuals_text_selection_and_keeps_the_x_marks(stack):
    """Textual's Screen.clear_selection (selected text) runs on every click: the inbox's own
    name for clearing its `x` marks must not replace it, or selected text stays selected."""
    app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x")  # Zoé marked; the cursor moves on to René's thread
        await wait_until(lambda: app.inbox.thread.conversation is not None
                         and app.inbox.thread.conversation.row.author_label == "René Lefèvre",
                         pilot=pilot)  # fmt: skip
        app.inbox.thread.text_select_all()  # as a double click on the thread does
        await wait_until(lambda: app.inbox.thread in app.screen.selections, pilot=pilot)
        assert "F-2291" in (app.screen.get_selected_text() or "")
        await pilot.click(app.inbox.conversations, offset=(5, 1))
        await wait_until(lambda: not app.screen.selections, pilot=pilot)
        assert app.screen.get_selected_text() is None
        zoe = [row.id for row in await stack.store.conversation_page(View.INBOX) if row.author_label == "Zoé"]
        assert app.inbox.conversations.marked == set(zoe)
