"""Bringing people to the forum, key by key: canned redirects, new topics, reconciliation."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from stack import FIXED_NOW, TOKEN, running_stack, wait_until
from textual.widgets import Input, OptionList, TextArea

from ecoinbox.channels.discourse import DiscourseChannel
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import OutboxState, State, View
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp
from ecoinbox.tui.screens.canned import CannedPicker, ValuePrompt
from ecoinbox.tui.screens.compose import ComposeScreen
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen

FORUM_KEY = "forum-test-key-0123456789"

CANNED = """
[[canned]]
name = "refund"
title = "Refunds and returns"
text = "Sorry {author_name}, here is how refunds work: {link}"
link = "{forum_url}/t/refunds/1"
keywords = ["refund", "money back", "never arrived"]
redirect = true
[canned.variants]
fr = "Désolés {author_name}, voici comment fonctionnent les remboursements : {link}"

[[canned]]
name = "export"
title = "Export your data to CSV"
text = "You can export everything to CSV, step by step: {link}"
link = "{forum_url}/t/export/2"
keywords = ["export", "csv", "download"]
redirect = true

[[canned]]
name = "order-number"
title = "Ask for the order number"
text = "Could you send us your order number? We will look at {order} right away."
"""


def config_text(mastodon_url: str, forum_url: str, db: Path, more: str = "[ui]\nsend_delay = 0") -> str:
    """`more`: tables of the test's own ([ui], [team]); replies go out at once by default."""
    return f"""
[brand]
name = "Acme"
handles = ["acme@social.example"]
{more}
[store]
path = "{db}"
[[channels]]
kind = "mastodon"
name = "mastodon"
base_url = "{mastodon_url}"
account = "acme"
poll_interval = 3600
keyring = false
[[channels]]
kind = "discourse"
name = "forum"
base_url = "{forum_url}"
account = "acme_team"
auth = "api_key"
poll_interval = 3600
keyring = false
[forum]
channel = "forum"
category = "support"
{CANNED}
"""


@asynccontextmanager
async def two_channels(tmp_path: Path, *, forum_timeout: float = 5.0, more: str = "[ui]\nsend_delay = 0"):
    async with (
        MastodonServer(seed=None, token=TOKEN) as social,
        DiscourseServer(seed=1, api_key=FORUM_KEY) as forum,
    ):
        store = await open_store(tmp_path / "inbox.db")
        channels = {
            "mastodon": MastodonChannel("mastodon", social.base_url, TOKEN, account="acme"),
            "forum": DiscourseChannel("forum", forum.base_url, FORUM_KEY, username="acme_team", auth="api_key",
                                      timeout=forum_timeout),
        }  # fmt: skip
        # Uncertain sends are read back at once here (the wait before it is tested on its own).
        engine = Engine(store, channels, poll_intervals={"mastodon": 3600, "forum": 3600}, uncertain_settle=0)
        text = config_text(social.base_url, forum.base_url, tmp_path / "inbox.db", more)
        settings = parse_config(text, tmp_path / "c.toml")
        try:
            yield social, forum, store, engine, settings
        finally:
            await engine.stop()
            await store.close()


def french_complaint(social: MastodonServer) -> dict:
    return social.add_status(
        author="lea@piaille.example", display_name="Léa",
        text="@acme ma commande n'est jamais arrivée et je voudrais être remboursée, c'est inadmissible",
        language="en",  # the account's default; the words are French
        created_at=FIXED_NOW - timedelta(hours=1),
    )  # fmt: skip


async def test_f_offers_the_french_canned_reply_first_and_the_reply_carries_the_link(tmp_path):
    async with two_channels(tmp_path) as (social, forum, store, engine, settings):
        status = french_complaint(social)
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 32)) as pilot:
            row = app.inbox.conversations.selected_row
            assert row.language == "fr"
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            assert app.screen.suggestions[0].reply.name == "refund"
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            text = app.screen.query_one(TextArea).text
            assert text.startswith("@lea@piaille.example Désolés Léa, voici comment")
            assert f"{forum.base_url}/t/refunds/1" in text
            await pilot.press("ctrl+s")
            await wait_until(lambda: len(social.posted) == 1, pilot=pilot)
            await wait_until(lambda: _all_sent(store), pilot=pilot)
        (posted,) = social.posted
        assert posted.in_reply_to_id == status["id"] and f"{forum.base_url}/t/refunds/1" in posted.text
        conversation = await store.conversation(row.id)
        assert (conversation.row.state, conversation.row.reason) == (State.DONE, "redirected")
        (use,) = await store.link_uses()
        assert use.link == f"{forum.base_url}/t/refunds/1" and "remboursée" in use.conversation_text


async def _all_sent(store) -> bool:
    items = await store.outbox_items()
    return bool(items) and all(i.state is OutboxState.SENT for i in items)


async def test_new_forum_topic_quotes_the_question_and_the_reply_carries_its_address(tmp_path):
    async with two_channels(tmp_path) as (social, forum, store, engine, settings):
        status = social.add_status(author="sam", display_name="Sam",
                                   text="@acme how do I move my widgets between two accounts? I can't find it anywhere",
                                   created_at=FIXED_NOW - timedelta(minutes=30))  # fmt: skip
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            conversation_id = app.inbox.conversations.selected_id
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1  # "New forum topic…" comes last
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            title = app.screen.query_one("#topic-title", Input).value
            assert title.startswith("How do I move my widgets between two accounts?")
            await pilot.press("ctrl+s")
            await wait_until(lambda: len(social.posted) == 1, timeout=15, pilot=pilot)
            await wait_until(lambda: _all_sent(store), pilot=pilot)
            topic = next(p for p in forum.posted if p.title)
            assert topic.title == title and "I can't find it anywhere" in topic.raw
            assert "Sam (@sam@" in topic.raw and status["url"] in topic.raw
            topic_url = forum.topic_url(topic.topic_id)
            assert topic_url in social.posted[0].text and "{topic_url}" not in social.posted[0].text
            row = await store.conversation_row(conversation_id)
            assert (row.state, row.reason) == (State.DONE, "redirected")
            # Someone answers on the forum: the manager sees it in the same history.
            forum.add_post(topic_id=topic.topic_id, author="helpful_hannah",
                           raw="You can do it from Settings > Accounts > Transfer, took me a minute.")  # fmt: skip
            await engine.poll_channel("forum")
            thread = await store.conversation(conversation_id)
            assert any("Settings > Accounts > Transfer" in m.message.text for linked in thread.linked
                       for m in linked.messages)  # fmt: skip
            await pilot.press("tab", "tab", "tab")  # past Pending and Snoozed: Done, where it went
            await wait_until(lambda: app.inbox.conversations.selected_id == conversation_id, pilot=pilot)
            await wait_until(lambda: "Settings > Accounts > Transfer" in app.inbox.thread.content.plain,
                             pilot=pilot)  # fmt: skip
        assert len([p for p in forum.posted if p.title]) == 1


async def test_a_lost_topic_creation_is_reconciled_by_reading_the_forum_never_posted_twice(tmp_path):
    async with two_channels(tmp_path, forum_timeout=1.0) as (social, forum, store, engine, _settings):
        social.add_status(
            author="sam", text="@acme is there a way to share one widget with my whole team please?"
        )
        await engine.poll_channel("mastodon")
        (row,) = await store.conversation_page(View.INBOX)
        parent = (await store.conversation(row.id)).messages[-1].message
        await store.queue_redirect_topic(
            row.id, forum_channel="forum", title="Share one widget with a whole team", body="[quote]Is there a way to share one widget?[/quote]",
            category="support", parent=parent, reply_text="@sam here: {topic_url}",
        )  # fmt: skip
        forum.inject("/posts", status=502, delay=3.0, after_handling=True)  # created, answer lost
        await engine.send_once()
        topic_item = next(i for i in await store.outbox_items() if i.kind == "topic")
        assert topic_item.state is OutboxState.UNKNOWN
        await engine.send_once()  # reconciles by reading, then the waiting reply goes out
        items = {i.kind: i for i in await store.outbox_items()}
        assert items["topic"].state is OutboxState.SENT and items["reply"].state is OutboxState.SENT
        assert len([p for p in forum.posted if p.title]) == 1
        (reply,) = social.posted
        assert forum.topic_url(forum.posted[-1].topic_id) in reply.text


async def test_ctrl_t_inserts_a_canned_reply_and_asks_for_what_it_lacks(tmp_path):
    async with two_channels(tmp_path) as (social, _forum, store, engine, settings):
        social.add_status(author="zoe@remote.example", display_name="Zoé", text="@acme where is my parcel??")
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.press("r", "ctrl+t")
            await wait_until(lambda: isinstance(app.screen, CannedPicker), pilot=pilot)
            await pilot.press(*"order num", "enter")
            await wait_until(lambda: isinstance(app.screen, ValuePrompt), pilot=pilot)
            await pilot.press(*"#48213", "enter")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            text = app.screen.query_one(TextArea).text
            assert (
                text
                == "@zoe@remote.example Could you send us your order number? We will look at #48213 right away."
            )
            assert "{" not in text
            await pilot.press("ctrl+s")
            await wait_until(lambda: len(social.posted) == 1, pilot=pilot)


async def test_f_without_a_forum_says_how_to_set_one_up(tmp_path):
    async with running_stack(tmp_path) as stack:
        stack.server.add_status(author="zoe@remote.example", text="@acme hi")
        await stack.engine.poll_all_once()
        app = EcoInboxApp(stack.settings, stack.store, stack.engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f")
            await pilot.pause(0.2)
            assert app.screen is app.inbox
            assert any("[forum]" in str(n.message) for n in app._notifications)


async def test_in_the_inbox_a_lost_topic_is_reconciled_and_the_reply_still_goes_out_once(tmp_path):
    """The same, pressed as a manager would: f, new topic, ctrl+s, and the forum's answer is lost."""
    async with two_channels(tmp_path, forum_timeout=1.0) as (social, forum, store, engine, settings):
        social.add_status(author="sam", display_name="Sam",
                          text="@acme can several people on my team share one widget board?")  # fmt: skip
        await engine.poll_channel("mastodon")
        await engine.start()
        forum.inject("/posts", status=502, delay=3.0, after_handling=True)  # created, the answer lost
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            await pilot.press("ctrl+s")
            await wait_until(lambda: len(social.posted) == 1, timeout=20, pilot=pilot)
            await wait_until(lambda: _all_sent(store), pilot=pilot)
        history = [h[2] for h in await store.history((await store.outbox_items())[0].conversation_id)]
        assert "topic unknown" in history  # it was uncertain, then reconciled by reading
        assert len([p for p in forum.posted if p.title]) == 1
        assert forum.topic_url(forum.posted[-1].topic_id) in social.posted[0].text


MARIE_HOLDS = '[ui]\nsend_delay = 30\n[team]\nme = "Marie"'


async def test_u_in_the_hold_takes_a_canned_redirect_back_and_reopens_the_conversation(tmp_path):
    async with two_channels(tmp_path, more=MARIE_HOLDS) as (social, forum, store, engine, settings):
        french_complaint(social)
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 32)) as pilot:
            conversation_id = app.inbox.conversations.selected_id
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            text = app.screen.query_one(TextArea).text
            await pilot.press("ctrl+s")
            await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
            row = await store.conversation_row(conversation_id)
            assert (row.state, row.reason) == (State.DONE, "redirected")
            status = str(app.inbox.query_one("#status").render())
            # 30 s, or 29 by now on a loaded machine
            assert "Reply to Léa goes out in " in status and " s — u takes it back" in status
            await pilot.press("u")
            await wait_until(lambda: isinstance(app.screen, ComposeScreen), pilot=pilot)
            assert app.screen.query_one(TextArea).text == text  # the canned reply and its link
            assert app.screen.used == ["refund"] and app.screen.link == f"{forum.base_url}/t/refunds/1"
            assert (await store.conversation_row(conversation_id)).state is State.OPEN
            (item,) = await store.outbox_items()
            assert item.state is OutboxState.DISCARDED
            await pilot.press("ctrl+s")  # sent again from the box: still a redirect, held again
            await wait_until(lambda: not isinstance(app.screen, ComposeScreen), pilot=pilot)
            row = await store.conversation_row(conversation_id)
            assert (row.state, row.reason) == (State.DONE, "redirected")
            states = [i.state for i in await store.outbox_items()]
            assert states == [OutboxState.DISCARDED, OutboxState.QUEUED]
        assert social.posted == []
        history = [(who, what, new) for _, who, what, _, new in await store.history(conversation_id)]
        assert ("Marie", "reply queued") in [h[:2] for h in history]
        assert ("Marie", "state", "done (redirected)") in history
        assert ("Marie (undo)", "state", "open") in history
        assert not [h for h in history if h[0] == "manager"]


async def test_u_in_the_hold_takes_a_new_forum_topic_back_with_its_reply_and_the_history_names_me(tmp_path):
    async with two_channels(tmp_path, more=MARIE_HOLDS) as (social, forum, store, engine, settings):
        social.add_status(author="sam", display_name="Sam", text="@acme how do I move my widgets?")
        await engine.poll_channel("mastodon")
        await engine.start()
        app = EcoInboxApp(settings, store, engine, now=lambda: FIXED_NOW)
        async with app.run_test(size=(100, 40)) as pilot:
            conversation_id = app.inbox.conversations.selected_id
            await pilot.press("f")
            await wait_until(lambda: isinstance(app.screen, RedirectScreen), pilot=pilot)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.option_count - 1  # "New forum topic…"
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            app.screen.query_one("#topic-title", Input).value = "Moving widgets between accounts"
            await pilot.press("ctrl+s")
            await wait_until(lambda: not isinstance(app.screen, NewTopicScreen), pilot=pilot)
            assert (await store.conversation_row(conversation_id)).state is State.DONE
            status = str(app.inbox.query_one("#status").render())
            assert "Forum topic and reply to Sam go out in " in status and " s — u takes it back" in status
            await pilot.press("u")
            await wait_until(lambda: isinstance(app.screen, NewTopicScreen), pilot=pilot)
            assert app.screen.query_one("#topic-title", Input).value == "Moving widgets between accounts"
            assert (await store.conversation_row(conversation_id)).state is State.OPEN
            assert [i.state for i in await store.outbox_items()] == [OutboxState.DISCARDED] * 2
            await engine.send_once()
        assert forum.posted == [] and social.posted == []
        history = [(who, what) for _, who, what, _, _ in await store.history(conversation_id)]
        assert ("Marie", "forum topic queued") in history and ("Marie", "state") in history
        assert ("Marie", "topic taken back") in history
        assert not [h for h in history if h[0] == "manager"]
