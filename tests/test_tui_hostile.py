"""Hostile posts in the real inbox: what the thread shows of them, and what clicking them does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from stack import FIXED_NOW, running_stack, wait_until
from textual.content import Content

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, State, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.widgets.thread_view import BODY_DISPLAY_CHARS, HIDDEN_NOTE

ESC = "\x1b"


def thread_content(app: EcoInboxApp) -> Content:
    return app.inbox.thread.content


def links_in(content: Content) -> list[str]:
    return [span.style.link for span in content.spans if hasattr(span.style, "link") and span.style.link]


def settings(db: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_config(f'[brand]\nname = "Acme"\n[store]\npath = "{db}"\n{extra}', Path("test.toml"))


async def thread_of(app: EcoInboxApp, pilot, needle: str) -> str:  # type: ignore[no-untyped-def]
    await wait_until(lambda: needle in thread_content(app).plain, pilot=pilot)
    return thread_content(app).plain


# --- what the channel decoded reaches the thread clean, and flagged ----------------------------


async def test_decoded_escapes_and_bidi_reach_the_thread_clean_and_flagged(tmp_path):
    """HTML entities (`&#27;[31m`, `&#x202e;`) and JSON escapes (`\\u001b` in a display name) are
    decoded before the sanitizer runs: the thread shows neither, and says text was removed."""
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(
            author="eve@evil.example", display_name=f"Eve{ESC}]0;PWNED\x07 Support", text="unused",
            html=("<p>order &#27;[31mFAILED&#x1b;[0m, open invoice&#x202e;fdp.exe "
                  "&#x1b;]52;c;ZXZpbA==&#7;now</p>"),
            created_at=FIXED_NOW - timedelta(minutes=5),
        )  # fmt: skip
        stack.server.add_status(author="zoe@remote.example", display_name="Zoé", text="where is my order?",
                                created_at=FIXED_NOW - timedelta(minutes=9))  # fmt: skip
        await stack.engine.poll_all_once()
        # The display name crossed the wire as a JSON escape, and is stored as the platform sent it.
        messages = {m.author.handle: m for m in await _all_messages(stack.store)}
        eve, zoe = messages["eve@evil.example"], messages["zoe@remote.example"]
        assert eve.author.display_name == f"Eve{ESC}]0;PWNED\x07 Support"
        assert eve.text == "order FAILED, open invoicefdp.exe now" and eve.hidden_characters
        assert not zoe.hidden_characters

        app = EcoInboxApp(stack.settings, stack.store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "FAILED")
            assert "Eve Support" in shown and "open invoicefdp.exe now" in shown
            assert HIDDEN_NOTE in shown
            for trace in (ESC, "\u202e", "\x07", "PWNED", "ZXZpbA==", "[31m", "52;c"):
                assert trace not in shown, trace
            await pilot.press("j")  # Zoé: nothing hidden, no note
            shown = await thread_of(app, pilot, "where is my order?")
            assert HIDDEN_NOTE not in shown


async def _all_messages(store) -> list[Message]:  # type: ignore[no-untyped-def]
    rows = await store.conversation_page(View.INBOX)
    return [m.message for row in rows for m in (await store.conversation(row.id)).messages]


async def test_a_name_with_hidden_characters_is_flagged_even_when_the_text_is_clean(tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    try:
        author = Author("mastodon", "1", "zw@evil.example", "Ze\u200bro W\u2060idth")
        await store.ingest([Message("mastodon", "1", author, "a plain question", FIXED_NOW)])
        app = EcoInboxApp(settings(tmp_path / "inbox.db"), store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "a plain question")
            assert "Zero Width" in shown and HIDDEN_NOTE in shown
    finally:
        await store.close()


# --- links: the real target, and only web and mail links are links -----------------------------


async def test_links_show_their_real_target_and_only_web_links_can_be_clicked(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(
            author="eve@evil.example", text="unused",
            html=('<p>log in at <a href="https://evil.example/login">https://www.bank.example/</a>, '
                  'or <a href="javascript:alert(1)">run this</a>, <a href="data:text/html,x">see this</a>, '
                  '<a href="file:///etc/passwd">open this</a>, '
                  '<a href="mailto:help@bank.example">mail us</a></p>'),
        )  # fmt: skip
        await stack.engine.poll_all_once()
        app = EcoInboxApp(stack.settings, stack.store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "log in at")
            flowing = " ".join(shown.split())
            # The label that looks like the bank shows where the link really goes.
            assert "https://www.bank.example/ (https://evil.example/login)" in flowing
            assert "run this, see this, open this, mail us (mailto:help@bank.example)" in flowing
            # Only the safe targets become footnotes, and only they are clickable (OSC 8 links).
            assert "[1] https://evil.example/login" in shown and "[2] mailto:help@bank.example" in shown
            assert "[3]" not in shown
            assert links_in(thread_content(app)) == ["https://evil.example/login", "mailto:help@bank.example"]
            for scheme in ("javascript:", "data:", "file:"):
                assert scheme not in shown


# --- long posts: cut for display, whole in the store, whole on m -------------------------------


async def test_a_long_post_is_cut_and_m_shows_all_of_it(tmp_path):
    words = "".join(f"word{i:05d} " for i in range(2000)).strip()  # 20k characters
    async with running_stack(tmp_path) as stack:
        an_hour_ago = FIXED_NOW - timedelta(hours=1)
        stack.server.add_status(author="zoe@remote.example", text=words, created_at=an_hour_ago)
        stack.server.add_status(author="bob", text="short one", created_at=an_hour_ago - timedelta(hours=1))
        await stack.engine.poll_all_once()
        stored = {m.author.handle: m for m in await _all_messages(stack.store)}
        assert stored["zoe@remote.example"].text == "@acme " + words  # the store keeps all of it
        total = len("@acme " + words)

        app = EcoInboxApp(stack.settings, stack.store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "word00000")
            assert "word01999" not in shown
            more = total - (BODY_DISPLAY_CHARS - 1)
            assert f"… {more} more characters — press m to show all" in shown
            await pilot.press("m")
            shown = await thread_of(app, pilot, "word01999")
            assert "more characters" not in shown and words in shown.replace("\n  ", " ")
            # Another conversation, then back: cut again (m is for the one being read).
            await pilot.press("j")
            await thread_of(app, pilot, "short one")
            await pilot.press("m")  # nothing is cut there: it says so, and nothing breaks
            await wait_until(lambda: any("Nothing is cut" in str(n.message) for n in app._notifications),
                             pilot=pilot)  # fmt: skip
            await pilot.press("k")
            shown = await thread_of(app, pilot, "word00000")
            assert "word01999" not in shown and "press m to show all" in shown


async def test_the_note_under_a_cut_post_names_the_remapped_key(tmp_path):
    store = await open_store(tmp_path / "inbox.db")
    try:
        author = Author("mastodon", "1", "zoe@remote.example", "Zoé")
        await store.ingest([Message("mastodon", "1", author, "x" * (BODY_DISPLAY_CHARS + 10), FIXED_NOW)])
        remapped = settings(tmp_path / "inbox.db", '[ui.keys]\n"inbox.show_whole" = "ctrl+o"\n')
        app = EcoInboxApp(remapped, store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "more characters")
            assert "… 11 more characters — press ctrl+o to show all" in shown
            await pilot.press("m")  # remapped away
            assert "more characters" in thread_content(app).plain
            await pilot.press("ctrl+o")
            await wait_until(lambda: "more characters" not in thread_content(app).plain, pilot=pilot)
    finally:
        await store.close()


# --- markup look-alikes in the real app: clicking them runs nothing -----------------------------

HOSTILE_NAME = "[ @click=app.quit]x[/]"
# Valid Textual markup all of it (the link's quotes too): parsed, each word would be live.
HOSTILE_BODY = (
    "[@click=app.quit]y[/] [@click=screen.set_state('spam')]s[/] [link='https://evil.example']z[/link]"
)


@pytest.mark.slow
async def test_clicking_markup_look_alikes_in_the_list_and_the_thread_runs_no_action(tmp_path):
    """Were a name or a post ever parsed as markup, a click on it would quit the app or mark the
    conversation spam. Parsed markup is shorter than its source, so its clickable words would
    land in the first cells of each field: those cells of the name and the post are clicked, in
    the list row and in the thread (every cell would take a Pilot tenth of a second each)."""
    store = await open_store(tmp_path / "inbox.db")
    try:
        hostile = Author("mastodon", "1", "x@evil.example", HOSTILE_NAME)
        benign = Author("mastodon", "2", "zoe@remote.example", "Zoé")
        await store.ingest([
            Message("mastodon", "1", hostile, HOSTILE_BODY, FIXED_NOW),
            Message("mastodon", "2", benign, "hello", FIXED_NOW - timedelta(hours=1)),
        ])  # fmt: skip
        before = await store.conversation_page(View.INBOX)
        app = EcoInboxApp(settings(tmp_path / "inbox.db"), store, None, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await thread_of(app, pilot, "[@click=app.quit]y[/]")
            rows = shown.split("\n")
            assert rows[0].startswith(HOSTILE_NAME) and rows[1].startswith("  [@click=app.quit]y[/]")
            assert HOSTILE_BODY in " ".join(row.strip() for row in rows[1:])  # shown literally
            assert links_in(thread_content(app)) == []
            row = app.inbox.conversations.render_line(0).text  # the hostile conversation, first
            targets = [
                ("#conversations", row.index(HOSTILE_NAME[:12]), 0),
                ("#conversations", row.index(HOSTILE_BODY[:12]), 0),
                (app.inbox.thread, 1, 0),  # past the thread's left padding
                (app.inbox.thread, 3, 1),
            ]
            for widget, x, y in targets:
                for cell in range(x, x + 8):
                    await pilot.click(widget, offset=(cell, y))
            await pilot.pause()
            assert app.is_running and app.screen is app.inbox
            assert app.inbox.conversations.selected_id == before[0].id
        after = await store.conversation_page(View.INBOX)
        assert after == before and all(row.state is State.OPEN for row in after)
        assert await store.outbox_items() == []
    finally:
        await store.close()
