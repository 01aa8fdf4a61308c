"""Contacts across channels, pressed key by key: `c` shows the person on every channel, `n`
notes, enter opens one of their conversations, `L` links by hand, `U` unlinks; checked in the store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from textual.widgets import Input, OptionList, TextArea

from ecoinbox.model import Author, Message, Origin, State
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.contact import AccountPicker, ContactNoteScreen, ContactScreen

FORUM_PROFILE = "https://forum.example/u/sophie_l"
SOPHIE_FORUM = Author("forum", "7", "sophie_l", "Sophie L.", FORUM_PROFILE, proofs=(FORUM_PROFILE,))
CAMILLE_FORUM = Author("forum", "8", "camille_d", "Camille Dupont", "https://forum.example/u/camille_d",
                       proofs=("https://forum.example/u/camille_d",))  # fmt: skip


def forum_post(author: Author, remote_id: str, text: str, hours_ago: int) -> Message:
    return Message(
        channel="forum", remote_id=remote_id, author=author, text=text,
        created_at=FIXED_NOW - timedelta(hours=hours_ago), origin=Origin.MENTION, title=text,
    )  # fmt: skip


@pytest.fixture
async def stack(tmp_path):
    async with running_stack(tmp_path) as stack:
        server = stack.server
        t = FIXED_NOW - timedelta(hours=3)
        server.add_status(author="sophie@mamot.example", display_name="Sophie 🌿",
                          text="@acme where is my parcel?", created_at=t)  # fmt: skip
        server.add_profile_link("sophie@mamot.example", "Forum", FORUM_PROFILE)
        server.add_status(author="camille@piaille.example", display_name="Camille D.",
                          text="@acme facture TVA ?", created_at=t + timedelta(hours=1))  # fmt: skip
        # The same name on another account, without any proof: never linked.
        server.add_status(author="sophie@other.example", display_name="Sophie 🌿",
                          text="@acme hello", created_at=t + timedelta(hours=2))  # fmt: skip
        await stack.engine.poll_all_once()
        # What the forum channel would have stored: Sophie asked there a week ago.
        await stack.store.ingest([
            forum_post(SOPHIE_FORUM, "f1", "Refund for a parcel that never came", 24 * 7),
            forum_post(CAMILLE_FORUM, "f2", "Factures pro", 24 * 3),
        ])  # fmt: skip
        sophie = await stack.store.contact_conversations(await author_id(stack.store, SOPHIE_FORUM))
        forum_conversation = next(c for c in sophie if c.channel == "forum")
        await stack.store.set_state([forum_conversation.id], State.DONE)
        stack.forum_conversation = forum_conversation.id
        yield stack


async def author_id(store, author: Author) -> int:
    rows = await store._read().execute_fetchall(
        "SELECT id FROM authors WHERE channel = ? AND remote_id = ?", (author.channel, author.remote_id)
    )
    return int(next(iter(rows))[0])


def app_for(stack) -> EcoInboxApp:
    return EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)


async def select_author(pilot, app, handle: str) -> None:
    await pilot.press("g")
    for _ in range(10):
        if app.inbox.conversations.selected_row.author_handle == handle:
            return
        await pilot.press("j")
    raise AssertionError(f"no conversation with {handle}: {app.inbox.conversations.selected_row}")


async def test_contact_panel_shows_the_person_on_both_channels_notes_and_opens(stack):
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_author(pilot, app, "sophie@mamot.example")
        mastodon_conversation = app.inbox.conversations.selected_id
        await pilot.press("c")
        await wait_until(
            lambda: isinstance(app.screen, ContactScreen) and app.screen.contact is not None, pilot=pilot
        )
        panel = app.screen
        assert [a.channel for a in panel.contact.accounts] == ["mastodon", "forum"]
        assert "forum.example/u/sophie_l" in panel.contact.accounts[1].why
        # Newest first: the Mastodon post, then the forum topic (done); first contact a week ago.
        assert [c.id for c in panel.contact.conversations] == [
            mastodon_conversation,
            stack.forum_conversation,
        ]
        assert panel.contact.first_contact == FIXED_NOW - timedelta(days=7)
        shown = str(panel.query_one("#contact-accounts").render())
        assert "linked by proof" in shown and "@sophie_l" in shown

        await pilot.press("n")
        assert isinstance(app.screen, ContactNoteScreen)
        app.screen.query_one(TextArea).insert("[bold]VIP[/] — asked twice about the same parcel")
        await pilot.press("ctrl+s")
        await wait_until(
            lambda: app.screen is panel and panel.contact.note.startswith("[bold]VIP"), pilot=pilot
        )
        forum_author = await author_id(stack.store, SOPHIE_FORUM)
        assert (
            await stack.store.contact(forum_author)
        ).note == "[bold]VIP[/] — asked twice about the same parcel"
        assert "[bold]VIP[/]" in str(panel.query_one("#contact-note").render())  # shown as typed

        await pilot.press("j", "enter")  # the forum topic
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        inbox = app.inbox
        assert inbox.tab.person is not None and inbox.conversations.total == 2
        assert inbox.conversations.selected_id == stack.forum_conversation
        await wait_until(lambda: inbox.thread.conversation is not None
                         and inbox.thread.conversation.row.id == stack.forum_conversation, pilot=pilot)  # fmt: skip
        await pilot.press("escape", "escape")  # back to the list, then the person's tab closes
        assert inbox.tab.person is None and inbox.tab.title == "Inbox"

        # The other "Sophie 🌿" shares a name only: a person of her own.
        await select_author(pilot, app, "sophie@other.example")
        assert inbox.conversations.selected_row.author_label == "Sophie 🌿"
        await pilot.press("c")
        await wait_until(
            lambda: isinstance(app.screen, ContactScreen) and app.screen.contact is not None, pilot=pilot
        )
        assert [a.handle for a in app.screen.contact.accounts] == ["sophie@other.example"]
        await pilot.press("escape")
        assert app.screen is app.inbox


async def test_link_by_hand_then_unlink(stack):
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_author(pilot, app, "camille@piaille.example")
        camille = app.inbox.conversations.selected_id
        await pilot.press("L")
        await wait_until(lambda: isinstance(app.screen, AccountPicker), pilot=pilot)
        await pilot.press(*"camille_d")
        picker = app.screen
        await wait_until(lambda: [a.handle for a in picker.shown] == ["camille_d"], pilot=pilot)
        await pilot.press("enter")
        await wait_until(lambda: app.screen is app.inbox, pilot=pilot)
        forum_author = await author_id(stack.store, CAMILLE_FORUM)
        await wait_until(lambda: _accounts(stack.store, forum_author, 2), pilot=pilot)
        contact = await stack.store.contact(forum_author)
        assert {a.linked_by for a in contact.accounts} == {"manager"}

        await pilot.press("c")
        await wait_until(
            lambda: isinstance(app.screen, ContactScreen) and app.screen.contact is not None, pilot=pilot
        )
        assert len(app.screen.contact.conversations) == 2
        await pilot.press("U")
        await wait_until(lambda: isinstance(app.screen, AccountPicker), pilot=pilot)
        assert app.screen.query_one(OptionList).option_count == 2 and not app.screen.query(Input)
        await pilot.press("down", "enter")  # the forum account
        await wait_until(lambda: isinstance(app.screen, ContactScreen)
                         and len(app.screen.contact.accounts) == 1, pilot=pilot)  # fmt: skip
        assert (await stack.store.contact(forum_author)).accounts[0].handle == "camille_d"
        events = await stack.store.contact_events(forum_author)
        assert [(e[1], e[2]) for e in events] == [("manager", "linked"), ("manager", "unlinked")]
        # The conversation where the manager did it says so in its history, with who.
        history = [h[1:] for h in await stack.store.history(camille)]
        assert history == [
            ("manager", "contact linked", None, "@camille_d (forum)"),
            ("manager", "contact unlinked", "@camille_d (forum)", None),
        ]


async def _accounts(store, author: int, count: int) -> bool:
    return len((await store.contact(author)).accounts) == count
