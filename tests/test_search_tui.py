"""`/` and saved views, pressed key by key: what the list shows, what is marked, what the store keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stack import wait_until

from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, Origin, State, View
from ecoinbox.query import parse_query
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ZOE = Author("mastodon", "1", "zoe@remote.example", "Zoé")
MARC = Author("forum", "2", "marc_d", "Marc Dupont")
BOT = Author("mastodon", "3", "promo_bot", "Best Deals")
ANA = Author("reddit", "4", "ana_r", "Ana")
ACME = Author("mastodon", "9", "acme@social.example", "Acme")


def msg(n: int, text: str, author: Author, hours: float, *, parent: int | None = None,
        origin: Origin = Origin.MENTION, **extra) -> Message:  # fmt: skip
    return Message(
        channel=author.channel, remote_id=str(n), author=author, text=text,
        created_at=NOW - timedelta(hours=hours), in_reply_to=str(parent) if parent else None,
        origin=origin, **extra,
    )  # fmt: skip


MESSAGES = [
    msg(1, "My order never arrived, I want a refund", ZOE, 30, language="en"),
    msg(2, "Le café de la réunion était froid, remboursement svp", MARC, 20, language="fr"),
    msg(
        3,
        "Delivery was quick, thanks! https://acme.example/track",
        ANA,
        10,
        language="en",
        links=("https://acme.example/track",),
    ),
    msg(4, "Cheap watches, free money, click here for a refund", BOT, 5, language="en"),
    msg(5, "Where is my delivery? Order 42", ZOE, 2, language="en"),
    msg(
        6,
        "We are sorry, Zoé: the refund is on its way.",
        ACME,
        25,
        parent=1,
        origin=Origin.OURS,
        language="en",
    ),
]


def settings(db: Path, views: str = ""):
    return parse_config(f'[brand]\nname = "Acme"\n[store]\npath = "{db}"\n{views}', Path("test.toml"))


@pytest.fixture
async def store(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    await store.ingest(sorted(MESSAGES, key=lambda m: m.created_at))  # as they would arrive
    for who, state in (("from:promo_bot", State.SPAM), ("from:ana_r", State.DONE)):
        rows, _ = await store.search(parse_query(who, now=NOW))
        await store.set_state([rows[0].id], state)
    # Written before "pending" existed: the answered conversation is kept in the Inbox.
    await store.apply_triage(
        [row.id for row in await store.conversation_page(View.PENDING)], state=State.OPEN
    )
    yield store
    await store.close()


def app_for(store, tmp_path, views: str = "") -> EcoInboxApp:
    return EcoInboxApp(settings(tmp_path / "inbox.db", views), store, None, now=lambda: NOW)


def shown(app) -> list[str]:
    """The authors of the rows the list holds, top to bottom."""
    rows = app.inbox.conversations
    return [rows._row_at(i).author_label for i in range(rows.total)]


async def search(pilot, text: str) -> None:
    await pilot.press("slash")
    bar = pilot.app.inbox.search_bar
    bar.input.value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_slash_shows_the_matches_in_the_list_and_esc_goes_back(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        assert shown(app) == ["Zoé", "Marc Dupont", "Zoé"]
        await search(pilot, "refund")
        assert shown(app) == ["Zoé"]  # the spam one is left out; one row per conversation
        assert screen.tab.typed and screen.tab.label() == "/refund"
        assert screen.conversations.has_focus and not screen.search_bar.is_open
        await pilot.press("escape")
        assert screen.tab.title == "Inbox" and shown(app) == ["Zoé", "Marc Dupont", "Zoé"]


@pytest.mark.parametrize(
    ("query", "authors"),
    [
        ("refund", ["Zoé"]),  # ours and hers in one conversation; the spam is left out
        ('"never arrived"', ["Zoé"]),
        ('"arrived never"', []),
        ("deliv*", ["Zoé", "Ana"]),
        ("from:marc", ["Marc Dupont"]),
        ("from:@zoe", ["Zoé", "Zoé"]),
        ("channel:reddit", ["Ana"]),
        ("is:open", ["Zoé", "Marc Dupont", "Zoé"]),
        ("is:done", ["Ana"]),
        ("is:spam", ["Best Deals"]),
        ("is:unanswered", ["Zoé", "Marc Dupont"]),
        ("lang:fr", ["Marc Dupont"]),
        ("after:12h", ["Zoé", "Ana"]),
        ("before:1d", ["Zoé"]),
        ("before:2026-11-19T12:00 after:2026-11-18", ["Zoé"]),
        ("has:link", ["Ana"]),
        ("order -refund", ["Zoé"]),
        ("-from:zoe -channel:forum", ["Ana", "Zoé"]),
        ("refund -is:open", []),
        ("zzzz", []),
        ("cafe REUNION", ["Marc Dupont"]),
        ("remboursement lang:fr channel:forum is:unanswered", ["Marc Dupont"]),
    ],
)
async def test_each_operator_from_the_search_line(store, tmp_path, query, authors):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await search(pilot, query)
        assert not app.inbox.search_bar.is_open, app.inbox.search_bar.query_one("#search-hint").render()
        assert shown(app) == authors
        assert app.inbox.results.label() == str(len(authors))
        if not authors:
            lines = [
                app.inbox.conversations.render_line(y).text
                for y in range(app.inbox.conversations.size.height)
            ]
            assert any("No conversation matches this search" in line for line in lines)


def marked(app, y: int) -> list[str]:
    """The words drawn as matches (bold underline) on line `y` of the list."""
    strip = app.inbox.conversations.render_line(y)
    return [segment.text for segment in strip if segment.style and segment.style.underline]


async def test_matched_words_are_marked_accents_and_prefixes_included(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await search(pilot, "cafe reunion")
        assert marked(app, 0) == ["café", "réunion"]
        await search(pilot, "deliv* where")
        assert marked(app, 0) == ["Where", "delivery"]
        await search(pilot, "DELIV*")
        assert marked(app, 0) == ["delivery"] and marked(app, 1) == ["Delivery"]
        await search(pilot, "from:marc")
        assert marked(app, 0) == []  # a filter marks no word
        await pilot.press("escape")
        assert marked(app, 0) == []  # the inbox marks nothing


async def test_injection_attempts_are_text_and_the_store_is_untouched(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        for attempt in ['"); DROP TABLE messages; --', "x' OR 1=1 --", "NEAR(order refund)", "refund AND NOT order",
                        "text:refund", "*refund", "from:%", "from:_", "'", "\\"]:  # fmt: skip
            await search(pilot, attempt)
            bar = app.inbox.search_bar
            if bar.is_open:  # refused with a reason, not run
                assert bar.query_one("#search-hint").has_class("-error")
                await pilot.press("escape")
            else:
                assert app.inbox.tab.query == attempt
        await search(pilot, "refund")
        assert shown(app) == ["Zoé"]
        await pilot.press("escape")
        assert shown(app) == ["Zoé", "Marc Dupont", "Zoé"]
    assert len((await store.search(parse_query("-zzzz", now=NOW)))[0]) == 4  # every conversation but spam


async def test_a_mistake_is_explained_under_the_line_and_can_be_corrected(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await search(pilot, "refund is:later")
        bar = screen.search_bar
        assert bar.is_open and bar.input.value == "refund is:later"
        assert "is:later is not a state" in str(bar.query_one("#search-hint").render())
        assert screen.tab.title == "Inbox"  # nothing was run
        bar.input.value = "refund is:open"
        await pilot.press("enter")
        assert not bar.is_open and shown(app) == ["Zoé"]
        await pilot.press("slash")
        assert bar.input.value == "refund is:open"  # / again edits the search shown
        bar.input.value = ""
        await pilot.press("up")
        assert bar.input.value == "refund is:open"  # and up recalls the earlier ones
        await pilot.press("up")
        assert bar.input.value == "refund is:later"
        bar.input.value = ""
        await pilot.press("enter")  # an empty search closes the search
        assert screen.tab.title == "Inbox" and not any(tab.typed for tab in screen.tabs)


async def test_results_follow_the_store_and_triage_works_on_them(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await search(pilot, "order is:open")
        assert shown(app) == ["Zoé", "Zoé"]
        await pilot.press("j")
        conversation = screen.conversations.selected_id
        await store.ingest([msg(7, "Another order question from Marc", MARC, 1, language="en")])
        await wait_until(lambda: shown(app) == ["Marc Dupont", "Zoé", "Zoé"], pilot=pilot)
        assert screen.conversations.selected_id == conversation  # the cursor stayed on its row
        await pilot.press("e")
        await wait_until(lambda: shown(app) == ["Marc Dupont", "Zoé"], pilot=pilot)
        assert (await store.conversation_row(conversation)).state is State.DONE
        await pilot.press("u")
        await wait_until(lambda: shown(app) == ["Marc Dupont", "Zoé", "Zoé"], pilot=pilot)
        assert (await store.conversation_row(conversation)).state is State.OPEN


VIEWS = """
[[views]]
name = "Refunds"
query = "refund*"

[[views]]
name = "French"
query = "lang:fr"
"""


async def test_saved_views_are_tabs_with_counts(store, tmp_path):
    app = app_for(store, tmp_path, VIEWS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.inbox
        await wait_until(lambda: screen.saved_counts == {"Refunds": "1", "French": "1"}, pilot=pilot)
        tabs = str(screen.query_one("#tabs").render())
        assert "Inbox 3" in tabs and "Done 1" in tabs and "Spam 1" in tabs
        assert "Refunds 1" in tabs and "French 1" in tabs
        await pilot.press(*["tab"] * 6)  # Pending, Snoozed, Done, Spam, Mine, Refunds
        assert screen.tab.title == "Refunds" and shown(app) == ["Zoé"]
        assert marked(app, 0) == ["refund"]
        await pilot.press("tab")
        assert screen.tab.title == "French" and shown(app) == ["Marc Dupont"]
        await pilot.press("tab")
        assert screen.tab.title == "Inbox"
        await pilot.press("shift+tab")
        assert screen.tab.title == "French"
        # A typed search comes after the saved views, and esc goes back to where it was opened.
        await search(pilot, "delivery")
        assert [tab.label() for tab in screen.tabs] == [
            "Inbox",
            "Pending",
            "Snoozed",
            "Done",
            "Spam",
            "Mine",
            "Refunds",
            "French",
            "/delivery",
        ]
        await pilot.press("escape")
        assert screen.tab.title == "French"


async def test_on_a_narrow_screen_the_tab_shown_stays_in_sight(store, tmp_path):
    views = "".join(
        f'[[views]]\nname = "A rather long saved view {n}"\nquery = "lang:en"\n' for n in range(4)
    )
    app = app_for(store, tmp_path, views)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.inbox
        cut_left = False
        for _ in range(len(screen.tabs)):
            await pilot.press("tab")
            tabs = str(screen.query_one("#tabs").render())
            assert screen.tab.label() in tabs and len(tabs) <= 80
            cut_left = cut_left or tabs.startswith("‹")
        assert cut_left  # the first tabs went off the left edge to show the last ones


async def test_a_long_result_list_grows_as_the_cursor_nears_its_end(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    people = [Author("mastodon", str(n), f"user{n}", f"User {n}") for n in range(1100)]
    await store.ingest(
        [msg(100 + n, f"order {n} is late", people[n], 1100 - n, language="en") for n in range(1100)]
    )
    app = app_for(store, tmp_path)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.inbox
            await search(pilot, "order late")
            # a page, then 200 more (a loaded machine may take more than the usual 10 s)
            await wait_until(lambda: screen.results.label() == "260+", timeout=30, pilot=pilot)
            assert screen.conversations.total == 260
            assert screen.conversations.selected_row.author_label == "User 1099"  # newest first
            labels = []
            while not screen.results.complete:
                total = screen.conversations.total
                await pilot.press("G")  # near the end: the next step is read
                await wait_until(lambda total=total: screen.conversations.total > total, pilot=pilot)
                labels.append(screen.results.label())
            assert labels == ["460+", "660+", "860+", "1000+"]
            rows = await screen.results.conversation_page_at(View.INBOX, 0, 2000)
            assert len({row.id for row in rows}) == len(rows) == 1000  # no conversation twice
            await pilot.press("G")
            assert "Search 1000/1000+" in str(screen.query_one("#status").render())
    finally:
        await store.close()


async def test_a_search_tab_left_for_another_keeps_its_last_count(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await search(pilot, "deliv*")
        await pilot.press("tab")  # back round to Inbox
        assert app.inbox.tab.title == "Inbox"
        assert "/deliv* 2" in str(app.inbox.query_one("#tabs").render())


async def test_the_thread_of_a_result_marks_the_matched_words_too(store, tmp_path):
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        thread = app.inbox.thread

        def marked_in_thread() -> list[str]:
            lines = [thread.render_line(y) for y in range(thread.size.height)]
            return [
                seg.text
                for line in lines
                for seg in line
                if seg.style and seg.style.reverse and seg.text.strip()
            ]

        async def showing(conversation_id: int) -> None:
            await wait_until(lambda: thread.conversation is not None and thread.conversation.row.id == conversation_id,
                             pilot=pilot)  # fmt: skip
            await pilot.pause()

        await search(pilot, "arrived refund")
        found = app.inbox.conversations.selected_id
        await showing(found)
        assert marked_in_thread() == ["arrived", "refund", "refund"]  # hers, then ours
        await pilot.press("escape", "G")  # the same conversation, from the inbox
        await showing(found)
        assert marked_in_thread() == []


async def test_many_channels_fold_into_one_word_on_a_narrow_status_line(store, tmp_path):
    from textual.content import Content

    from ecoinbox.engine import ChannelStatus

    ok = [
        ChannelStatus(name, "x", "ok", "up to date")
        for name in ("mastodon", "forum", "bluesky", "blog", "reddit")
    ]
    paused = ChannelStatus("email", "email", "paused", "the server refused the password")
    app = app_for(store, tmp_path)
    async with app.run_test(size=(80, 24)):
        line = Content.assemble(*app.inbox._channel_statuses([*ok, paused])).plain
        assert line.startswith(" · 5 channels up to date · email: paused (the server refused the password")
        assert "mastodon" not in line
    async with app_for(store, tmp_path).run_test(size=(200, 24)) as pilot:
        line = Content.assemble(*pilot.app.inbox._channel_statuses([*ok[:3], paused])).plain
        assert "mastodon: up to date · forum: up to date · bluesky: up to date · email: paused" in line

    # A channel that polled fine but says something may be missing (a feed that overflowed)
    # stays named when the others fold.
    warned = ChannelStatus(
        "blog", "feed", "ok", "10 new; comments may be missing", warning="comments may be missing"
    )
    async with app_for(store, tmp_path).run_test(size=(80, 24)) as pilot:
        line = Content.assemble(*pilot.app.inbox._channel_statuses([*ok[:4], warned])).plain
        assert line.startswith(" · 4 channels up to date · blog: 10 new; comments may be missing")


async def test_a_short_result_list_reads_newest_first_even_when_a_backlog_came_in_late(store, tmp_path):
    late = Author("forum", "7", "old_timer", "Old Timer")
    await store.ingest(
        [msg(8, "Back in the day my refund took a month", late, 100, language="en")]
    )  # imported last
    app = app_for(store, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await search(pilot, "refund")
        assert shown(app) == ["Zoé", "Old Timer"]  # by last activity, as the age column reads
