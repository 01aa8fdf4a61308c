"""The LinkedIn channel against the local LinkedIn server, over real loopback HTTP: an
organization page's comments, replies once (LinkedIn takes no idempotency key), its versioned
headers and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from configs import channel_toml, config_toml
from fakes import Clock

from ecoinbox.channels import build_channel
from ecoinbox.channels.base import (
    AuthError,
    PermanentError,
    RateLimited,
    ReconcilingChannel,
    RenewableChannel,
)
from ecoinbox.channels.linkedin.channel import LinkedInChannel
from ecoinbox.channels.linkedin.unit import LinkedInSettings
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.demo.linkedin.seed import ORGANIZATION_ID
from ecoinbox.demo.linkedin.server import LinkedInServer
from ecoinbox.engine.outbox import OutboxSender
from ecoinbox.model import Message, OutboxState
from ecoinbox.secrets import Secret
from ecoinbox.store import open_store

TOKEN = "AQV-linkedin-token-never-in-messages"
ORG = f"urn:li:organization:{ORGANIZATION_ID}"


@pytest.fixture
async def server(clock: Clock) -> AsyncIterator[LinkedInServer]:
    async with LinkedInServer(token=TOKEN, seed_traffic=False, now=clock) as running:
        yield running


@pytest.fixture
async def connect(clock: Clock) -> AsyncIterator[Callable[..., LinkedInChannel]]:
    made: list[LinkedInChannel] = []

    def make(server: LinkedInServer, **options: object) -> LinkedInChannel:
        options.setdefault("organization", ORG)
        options.setdefault("version", "202611")
        channel = LinkedInChannel("linkedin", server.base_url, str(options.pop("token", TOKEN)), clock=clock,
                                  timeout=2.0, **options)  # type: ignore[arg-type]  # fmt: skip
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


async def test_comments_and_replies_come_in_as_conversations_per_first_comment(
    server, connect, clock
) -> None:
    post = server.add_post("Acme Widgets 3.2 is out", clock.at - timedelta(hours=2))
    first = server.add_comment(
        post, "aX3kP9", "Does the CSV export include custom fields?", clock.at - timedelta(hours=1)
    )
    server.add_comment(post, ORG, "Yes, as extra columns.", clock.at - timedelta(minutes=50), first)
    server.add_comment(
        post, "cR8mT4", "My sync fails with 502 since the update", clock.at - timedelta(minutes=40)
    )
    channel = connect(server)

    polled = await channel.poll({})

    assert texts(polled.messages) == [
        "Does the CSV export include custom fields?", "Yes, as extra columns.", "My sync fails with 502 since the update",
    ]  # fmt: skip
    question, answer, complaint = polled.messages
    assert question.in_reply_to is None and complaint.in_reply_to is None  # each its own conversation
    assert answer.in_reply_to == question.remote_id and answer.is_ours
    assert question.thread_ref == post.urn and question.title == "Acme Widgets 3.2 is out"
    assert question.author.label == "LinkedIn member"  # the People API refuses most apps
    assert question.url == f"https://www.linkedin.com/feed/update/{post.activity}/"
    for request in server.requests:  # every call is versioned, Rest.li 2.0
        assert request.headers["LinkedIn-Version"] == "202611"
        assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"


async def test_a_post_whose_count_did_not_move_is_not_read_again_and_nothing_is_skipped(
    server, connect, clock
) -> None:
    quiet = server.add_post("We're hiring", clock.at - timedelta(days=2))
    busy = server.add_post("Release notes", clock.at - timedelta(days=1))
    server.add_comment(quiet, "bQ7nL2", "Remote ok?", clock.at - timedelta(hours=5))
    server.add_comment(busy, "aX3kP9", "Nice", clock.at - timedelta(hours=4))
    channel = connect(server)
    first = await channel.poll({})
    assert len(first.messages) == 2

    for n in range(130):  # more than one page (100) of new comments on one post
        server.add_comment(busy, "gM4cN1", f"comment {n}", clock.at - timedelta(minutes=130 - n))
    server.requests.clear()
    second = await channel.poll(first.cursor)

    assert texts(second.messages) == [f"comment {n}" for n in range(130)]
    read = [r.path for r in server.requests if r.path.endswith("/comments")]
    assert all(quiet.urn not in path for path in read)  # its count did not move
    assert (await channel.poll(second.cursor)).messages == []


async def test_short_pages_still_bring_every_comment(clock, connect) -> None:
    async with LinkedInServer(token=TOKEN, seed_traffic=False, now=clock, short_pages=7) as server:
        post = server.add_post("Release notes", clock.at - timedelta(days=1))
        for n in range(20):
            server.add_comment(post, "aX3kP9", f"c{n}", clock.at - timedelta(minutes=30 - n))
        polled = await connect(server).poll({})
    assert texts(polled.messages) == [f"c{n}" for n in range(20)]


async def test_a_reply_to_a_reply_goes_under_the_first_comment_once(server, connect, clock) -> None:
    post = server.add_post("Release notes", clock.at - timedelta(days=1))
    first = server.add_comment(post, "aX3kP9", "CSV custom fields?", clock.at - timedelta(hours=3))
    server.add_comment(post, ORG, "Yes.", clock.at - timedelta(hours=2), first)
    server.add_comment(post, "aX3kP9", "And an API for it?", clock.at - timedelta(hours=1), first)
    channel = connect(server)
    *_, follow_up = (await channel.poll({})).messages

    sent = await channel.reply(follow_up, "Not yet, it is on our roadmap.", "key-1")

    (made,) = server.posted
    assert made.parent is first and made.actor == ORG and made.text == "Not yet, it is on our roadmap."
    assert sent.remote_id == made.urn and sent.in_reply_to == first.urn and sent.is_ours


async def test_an_answer_lost_after_the_comment_was_made_is_found_not_sent_again(
    server, connect, clock, tmp_path
) -> None:
    post = server.add_post("Release notes", clock.at - timedelta(days=1))
    server.add_comment(post, "cR8mT4", "Sync fails with 502", clock.at - timedelta(hours=1))
    channel = connect(server)
    assert isinstance(channel, ReconcilingChannel) and (await channel.capabilities()).reconcile
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    try:
        polled = await channel.poll({})
        result = await store.ingest(polled.messages, cursor=("linkedin", polled.cursor))
        (conversation,) = result.conversation_ids
        parent = await store.message("linkedin", polled.messages[0].remote_id)
        assert parent is not None
        await store.queue_reply(conversation, parent, "Sorry Hannah, we are on it")
        out = OutboxSender(store, {"linkedin": channel}, owner="test", clock=clock)

        server.inject("/rest/socialActions/", status=504, after_handling=True, body="")  # made, answer lost
        await out.send_due()
        clock.advance(minutes=30)
        await out.send_due()

        (item,) = await store.outbox_items()
        (made,) = server.posted  # read back, never posted twice
        assert item.state is OutboxState.SENT and item.remote_id == made.urn
    finally:
        await store.close()


async def test_a_comment_made_without_a_description_is_read_back(clock, connect) -> None:
    async with LinkedInServer(token=TOKEN, seed_traffic=False, now=clock, describe_created=False) as server:
        post = server.add_post("Release notes", clock.at - timedelta(days=1))
        server.add_comment(post, "cR8mT4", "Sync fails", clock.at - timedelta(hours=1))
        channel = connect(server)
        (parent,) = (await channel.poll({})).messages
        sent = await channel.reply(parent, "On it!", "key")
    (made,) = server.posted
    assert sent.remote_id == made.urn and sent.text == "On it!"


async def test_errors_say_what_to_do_and_never_the_token(server, connect, clock) -> None:
    server.add_post("Release notes", clock.at)
    with pytest.raises(AuthError) as refused:
        await connect(server, token="a-revoked-token").poll({})
    assert "ecoinbox auth linkedin" in str(refused.value) and "a-revoked-token" not in str(refused.value)

    with pytest.raises(PermanentError) as retired:
        await connect(server, version="202401").poll({})
    assert 'no longer serves API version 202401: set linkedin_version = "YYYYMM"' in str(retired.value)

    with pytest.raises(AuthError) as not_admin:
        await connect(server, organization="urn:li:organization:999").poll({})
    assert "must administer organization 999" in str(not_admin.value) and TOKEN not in str(not_admin.value)

    server.daily_limit = 0
    with pytest.raises(RateLimited):
        await connect(server).poll({})


async def test_an_unreadable_comment_is_skipped_and_the_rest_come_in(server, connect, clock) -> None:
    post = server.add_post("Release notes", clock.at - timedelta(days=1))
    server.add_comment(post, "aX3kP9", "kept", clock.at - timedelta(hours=1))
    page = ('{"elements": [{"commentUrn": "not-a-comment"}, {"actor": "urn:li:person:aX3kP9", '
            '"commentUrn": "urn:li:comment:(urn:li:activity:1,2)", "created": {"time": 1760000000000}, '
            '"message": {"text": "\\u001b]52;c;evil\\u0007hello"}}], "paging": {"start": 0, "count": 100, "total": 2}}')  # fmt: skip
    server.inject(f"/rest/socialActions/{post.urn}/comments", status=200, body=page)
    (message,) = (await connect(server).poll({})).messages
    assert message.text == "hello" and message.hidden_characters


async def test_names_come_from_the_people_api_where_the_app_may_read_them(clock, connect) -> None:
    async with LinkedInServer(token=TOKEN, seed_traffic=False, now=clock, people_names=True) as server:
        post = server.add_post("Release notes", clock.at - timedelta(days=1))
        server.add_comment(post, "aX3kP9", "Hello", clock.at - timedelta(hours=1))
        (message,) = (await connect(server).poll({})).messages
    assert message.author.label == "Priya Raman"


async def test_check_names_the_page_and_a_new_token_is_taken_while_running(server, connect) -> None:
    channel = connect(server)
    assert await channel.check() == f"the LinkedIn page Acme ({ORG}), API version 202611"
    assert isinstance(channel, RenewableChannel)
    assert channel.set_token("another") and not channel.set_token("another") and not channel.set_token(" ")


def test_the_config_reads_a_linkedin_page() -> None:
    settings = parse_config(
        config_toml(channel_toml(kind="linkedin", name="li", base_url=None, organization="12345678"))
    )
    (li,) = settings.channels
    assert isinstance(li, LinkedInSettings)
    assert (li.base_url, li.organization, li.linkedin_version, li.posts) == (
        "https://api.linkedin.com", "urn:li:organization:12345678", "202611", 20,
    )  # fmt: skip
    channel = build_channel(li, Secret(TOKEN))
    assert isinstance(channel, LinkedInChannel) and TOKEN not in repr(channel)


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"organization": None}, "organization: missing (required for linkedin"),
        ({"organization": "acme"}, 'expected the page\'s organization id, e.g. "12345678"'),
        ({"linkedin_version": "2026-11"}, 'expected a monthly version "YYYYMM"'),
        ({"posts": 500}, "posts"),
        ({"search": ["acme"]}, "LinkedIn's API offers no search of members' posts"),
    ],
)
def test_the_config_refuses_what_linkedin_cannot_do(entry: dict[str, object], said: str) -> None:
    values: dict[str, object] = {"kind": "linkedin", "name": "li", "organization": "12345678", **entry}
    with pytest.raises(ConfigError) as refused:
        parse_config(config_toml(channel_toml(**values)))
    assert said in str(refused.value)


async def test_a_reply_typed_in_the_inbox_reaches_linkedin_once(tmp_path, clock) -> None:
    from stack import FIXED_NOW, settings_for, wait_until
    from textual.widgets import TextArea

    from ecoinbox.engine import Engine
    from ecoinbox.tui.app import EcoInboxApp
    from ecoinbox.tui.screens.compose import ComposeScreen

    async with LinkedInServer(token=TOKEN, seed_traffic=False) as server:
        post = server.add_post("Acme Widgets 3.2 is out", FIXED_NOW - timedelta(hours=3))
        first = server.add_comment(
            post, "cR8mT4", "My sync fails with 502 since the update", FIXED_NOW - timedelta(hours=1)
        )
        channel = LinkedInChannel("linkedin", server.base_url, TOKEN, organization=ORG, version="202611")
        store = await open_store(tmp_path / "inbox.db")
        engine = Engine(store, {"linkedin": channel}, poll_intervals={"linkedin": 3600}, leased=False)
        try:
            await engine.poll_all_once()
            app = EcoInboxApp(settings_for("http://127.0.0.1:9", tmp_path / "inbox.db"), store, engine,
                              now=lambda: FIXED_NOW)  # fmt: skip
            await engine.start()
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(lambda: app.inbox.thread.conversation is not None, pilot=pilot)
                await pilot.press("r")
                assert isinstance(app.screen, ComposeScreen)
                app.screen.query_one(TextArea).insert("Sorry Hannah, a fix ships tonight.")
                await pilot.press("ctrl+s")
                await wait_until(lambda: len(server.posted) == 1, pilot=pilot)
                await pilot.pause(0.3)
        finally:
            await engine.stop()
            await store.close()
            await channel.aclose()
    (made,) = server.posted
    assert made.parent is first and made.text == "Sorry Hannah, a fix ships tonight." and made.actor == ORG
