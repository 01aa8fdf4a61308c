"""Characters typed one key at a time are kept as a paste keeps them, printable or not.

Textual's inputs take a key as text only when Python calls its character printable: the zero
width joiner of 👨‍👩‍👧 and the tag characters of 🏴󠁧󠁢󠁳󠁣󠁴󠁿 are not (a variation selector and a
combining accent are), so a typed family became three people. Each character is posted to the
app as the terminal's parser makes it (Pilot's press() gives these keys no character at all),
then checked in the input and on the local server.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from textual import events
from textual.widgets import TextArea

from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.compose import ComposeScreen

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: one emoji
SCOTLAND = "\U0001f3f4" + "".join(chr(0xE0000 + ord(c)) for c in "gbsct") + "\U000e007f"
HEART = "\u2764\ufe0f"  # with the emoji variation selector
CAFE = "cafe\u0301"  # e + combining acute


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé",
                                text="@acme my order never arrived", created_at=FIXED_NOW - timedelta(hours=1))  # fmt: skip
        await stack.engine.poll_all_once()
        yield stack


async def type_text(pilot, text: str) -> None:
    """One key per character, with the character, as Textual's parser reads them from a terminal."""
    for character in text:
        name = character if character.isalnum() else unicodedata.name(character, f"u{ord(character):x}")
        pilot.app.post_message(events.Key(name.lower().replace(" ", "_").replace("-", "_"), character))
        await pilot.pause()


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


async def test_typed_joiners_and_selectors_reach_the_reply_and_the_server(stack):
    await stack.engine.start()
    typed = f"thanks {FAMILY} {SCOTLAND} {HEART} {CAFE}"
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        await type_text(pilot, typed)
        assert app.screen.query_one(TextArea).text == f"@zoe@remote.example {typed}"
        await pilot.press("ctrl+s")
        await wait_until(lambda: len(stack.server.posted) == 1, pilot=pilot)
    assert [p.text for p in stack.server.posted] == [f"@zoe@remote.example {typed}"]


async def test_a_typed_joiner_stays_in_a_one_line_input(stack):
    app = app_for(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, f"family {FAMILY} {SCOTLAND}")
        assert app.inbox.search_bar.input.value == f"family {FAMILY} {SCOTLAND}"
