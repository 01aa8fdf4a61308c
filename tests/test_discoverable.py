"""Discoverable: ctrl+p finds ecoinbox's own actions by name, with their keys, and runs them as the
key would; `?` explains every mark a row can carry."""

from __future__ import annotations

from dataclasses import replace

from stack import FIXED_NOW, running_stack, wait_until
from textual.command import CommandList, CommandPalette
from textual.widgets import Static, TextArea

from ecoinbox.model import ConversationRow, Origin, State
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.help import HelpScreen
from ecoinbox.tui.widgets.conversation_list import (
    ROW_MARKS,
    ROW_WORDS,
    SELECTED_MARK,
    row_mark,
    triage_prefix,
)


async def test_ctrl_p_reply_enter_opens_the_reply_box(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(
            author="zoe@remote.example", display_name="Zoé", text="@acme my order never arrived"
        )
        await stack.engine.poll_all_once()
        app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+p")
            await wait_until(lambda: CommandPalette.is_open(app), pilot=pilot)
            await pilot.press(*"reply")
            commands = app.screen.query_one(CommandList)
            await wait_until(lambda: commands.option_count, pilot=pilot)
            await pilot.pause(0.3)  # every provider answered: the best hit comes first
            first = commands.get_option_at_index(0)
            assert first.prompt.plain.splitlines() == ["Reply  r", "inbox.reply"]  # the name, its key, its id
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            assert app.screen.query_one(TextArea).text == "@zoe@remote.example "


async def test_the_palette_names_each_action_with_its_current_keys(tmp_path):
    async with running_stack(tmp_path, extra_ui='[ui.keys]\n"inbox.reply" = "ctrl+r"') as stack:
        app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            from ecoinbox.tui.commands import ActionCommands

            provider = ActionCommands(app.inbox)
            shown = {action.binding.id: (action.name, action.keys) for action in provider.actions()}
            assert shown["inbox.reply"] == ("Reply", "ctrl+r")
            assert shown["inbox.redirect"] == ("Forum · redirect", "f")
            assert shown["inbox.spam"][1] == "!" and shown["app.help"] == ("Help", "?")
            hits = [hit async for hit in provider.search("redirect")]
            assert hits and hits[0].help == "inbox.redirect"
            await pilot.pause()


def every_kind_of_row() -> list[ConversationRow]:
    base = ConversationRow(1, "mastodon", State.OPEN, True, FIXED_NOW, "Zoé", "zoe", "hi", 2, Origin.MENTION)
    return [replace(base, state=state, priority=priority, needs_reply=needs)
            for state in State for priority in (-1, 0, 1) for needs in (True, False)]  # fmt: skip


async def test_question_mark_shows_what_each_row_mark_means(tmp_path):
    async with running_stack(tmp_path) as stack:
        app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("question_mark")
            await wait_until(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
            text = str(app.screen.query_one(Static).content)
            for mark, meaning in [*ROW_MARKS, *ROW_WORDS]:
                assert f"  {mark:<16}{meaning}" in text
            await pilot.press("escape")
            # Every mark a row can carry is one of those explained, and `!` (the spam key) is none.
            shown = {SELECTED_MARK} | {row_mark(row) for row in every_kind_of_row()}
            assert shown <= {mark for mark, _ in ROW_MARKS} | {" "} and "!" not in shown
            words = triage_prefix(
                replace(every_kind_of_row()[0], draft=True, direct=True, held=True), FIXED_NOW
            )
            assert set(words.split()) <= {word for word, _ in ROW_WORDS}
