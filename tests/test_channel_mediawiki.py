"""The MediaWiki channel against the local wiki (ecoinbox/demo/mediawiki), over loopback HTTP:
with DiscussionTools and without (section edits, as Debian's MediaWiki 1.39 answers)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from ecoinbox.channels.base import AuthError, RateLimited, TransientError, UncertainSend
from ecoinbox.channels.mediawiki.api import OAUTH2
from ecoinbox.channels.mediawiki.channel import MediaWikiChannel
from ecoinbox.demo.mediawiki.server import WikiServer
from ecoinbox.model import Origin

LOGIN = "Acme@ecoinbox"
PASSWORD = "abcdefghijklmnopqrstuvw012345678"
OAUTH_TOKEN = "owner-only-access-token-1234"
PAGE = "Talk:Acme X2"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["discussiontools", "section-edits"])
async def wiki(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[WikiServer]:
    async with WikiServer(bot_logins={LOGIN: PASSWORD}, oauth_tokens={OAUTH_TOKEN: "Acme"},
                          discussiontools=request.param == "discussiontools", now=clock) as server:  # fmt: skip
        server.save(PAGE, "Talk page of [[Acme X2]].", "Admin", clock.now - timedelta(days=30))
        yield server


@pytest.fixture
async def connect(wiki: WikiServer, clock: Clock) -> AsyncIterator[Callable[..., MediaWikiChannel]]:
    channels: list[MediaWikiChannel] = []

    def make(*, secret: str = PASSWORD, auth: str = "bot_password", pages: tuple[str, ...] = (PAGE,),
             namespaces: tuple[int, ...] = ()) -> MediaWikiChannel:  # fmt: skip
        channel = MediaWikiChannel("wiki", wiki.base_url, secret, auth=auth, login_name=LOGIN, pages=pages,
                                   namespaces=namespaces, timeout=5, clock=clock)  # fmt: skip
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def said(wiki: WikiServer, user: str, text: str, *, section: str = "Battery", indent: int = 0,
         minutes_ago: float = 0) -> None:  # fmt: skip
    wiki.comment(
        PAGE, user, text, section=section, indent=indent, at=wiki.now() - timedelta(minutes=minutes_ago)
    )


async def test_comments_become_messages_threaded_by_section(wiki, connect):
    said(wiki, "Zoe", "The battery dies in two hours.", minutes_ago=30)
    said(wiki, "Luc", "Same here.", indent=1, minutes_ago=20)
    said(wiki, "Marie", "L'écran reste noir.", section="Écran", minutes_ago=10)

    result = await connect().poll({})

    assert [(m.author.handle, m.text, m.title) for m in result.messages] == [
        ("Zoe", "The battery dies in two hours.", f"{PAGE}: Battery"),
        ("Luc", "Same here.", f"{PAGE}: Battery"),
        ("Marie", "L'écran reste noir.", f"{PAGE}: Écran"),
    ]
    zoe, luc, marie = result.messages
    assert (zoe.in_reply_to, luc.in_reply_to, marie.in_reply_to) == (None, zoe.remote_id, None)


async def test_a_namespace_is_read_across_short_pages_of_recent_changes_with_nothing_skipped(
    wiki, connect, clock
):
    channel = connect(pages=(), namespaces=(1,))
    cursor = (await channel.poll({})).cursor
    wiki.short_pages = 2  # fewer changes per answer than asked: rccontinue follows
    for number in range(7):
        clock.now += timedelta(minutes=1)
        wiki.comment(f"Talk:Product {number % 3}", f"User{number}", f"Question {number}", section="Q")
    wiki.save("Acme X2", "An article, not a talk page", "Admin")  # namespace 0: not followed

    result = await channel.poll(cursor)

    assert sorted(m.text for m in result.messages) == [f"Question {n}" for n in range(7)]
    assert len({m.remote_id for m in result.messages}) == 7
    assert any("rccontinue" in r.query for r in wiki.requests)
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_reply_lands_once_under_its_parent_and_comes_back_as_ours(wiki, connect):
    said(wiki, "Zoe", "The battery dies in two hours.")
    said(wiki, "Luc", "Same here.", indent=1)
    channel = connect()
    first = await channel.poll({})
    zoe = first.messages[0]

    sent = await channel.reply(zoe, "Sorry Zoe: which firmware do you run?", "key-1")

    text = wiki.text(PAGE)
    assert text.count("which firmware do you run?") == 1
    assert text.index("Same here.") < text.index(":Sorry Zoe: which firmware do you run? [[User:Acme|Acme]]")
    assert sent.in_reply_to == zoe.remote_id and sent.origin is Origin.OURS
    assert [m.remote_id for m in (await channel.poll(first.cursor)).messages] == [sent.remote_id]


async def test_an_answer_lost_after_the_save_is_found_not_sent_again(wiki, connect, clock):
    said(wiki, "Zoe", "Where is the manual?")
    channel = connect()
    zoe = (await channel.poll({})).messages[0]
    before = clock.now
    wiki.lose_edit_answers = 1  # saved, then a 504: the reply may or may not be there

    with pytest.raises(UncertainSend):
        await channel.reply(zoe, "Here: the downloads page.", "key-2")
    found = await channel.find_sent(zoe, "Here:  the downloads page.", "", before)

    assert found is not None and found.origin is Origin.OURS and found.in_reply_to == zoe.remote_id
    assert await channel.find_sent(zoe, "Another answer", "", before) is None
    assert wiki.text(PAGE).count("the downloads page") == 1


async def test_discussiontools_refuses_a_second_comment_with_the_same_key_and_the_first_is_returned(
    wiki, connect
):
    if not wiki.discussiontools:
        pytest.skip("formtoken is DiscussionTools'")
    said(wiki, "Zoe", "Where is the manual?")
    channel = connect()
    zoe = (await channel.poll({})).messages[0]
    wiki.lose_edit_answers = 1
    with pytest.raises(UncertainSend):
        await channel.reply(zoe, "Here: the downloads page.", "key-2")

    again = await channel.reply(zoe, "Here: the downloads page.", "key-2")  # a resend despite all

    assert wiki.text(PAGE).count("the downloads page") == 1
    assert again.in_reply_to == zoe.remote_id and again.origin is Origin.OURS


async def test_an_edit_conflict_is_read_again_and_the_reply_goes_after_the_new_comment(wiki, connect):
    said(wiki, "Zoe", "Battery?")
    channel = connect()
    zoe = (await channel.poll({})).messages[0]
    if wiki.discussiontools:
        pytest.skip("DiscussionTools merges by itself: no conflict reaches the client")
    wiki.conflicts = 1  # Kenji saves the section between our read and our edit

    await channel.reply(zoe, "We are on it.", "key-3")

    text = wiki.text(PAGE)
    assert "Any news on this?" in text and text.count("We are on it.") == 1
    edits = [r for r in wiki.requests if r.method == "POST"]
    assert len(edits) >= 3  # login, the conflicting edit, the retry


async def test_conflicts_that_do_not_stop_leave_the_reply_for_the_next_try(wiki, connect):
    said(wiki, "Zoe", "Battery?")
    channel = connect()
    zoe = (await channel.poll({})).messages[0]
    if wiki.discussiontools:
        pytest.skip("DiscussionTools merges by itself")
    wiki.conflicts = 10

    with pytest.raises(TransientError, match="changed 3 times"):
        await channel.reply(zoe, "We are on it.", "key-4")

    assert "We are on it." not in wiki.text(PAGE)


async def test_a_lagging_wiki_pauses_the_channel_as_its_retry_after_says(wiki, connect, clock):
    wiki.lag = 12

    with pytest.raises(RateLimited, match="lagging") as paused:
        await connect().poll({})

    assert paused.value.retry_at == clock.now + timedelta(seconds=5)
    wiki.lag = 0
    assert (await connect().poll({})).messages == []


async def test_the_edit_rate_limit_waits(wiki, connect, clock):
    said(wiki, "Zoe", "Battery?")
    channel = connect()
    zoe = (await channel.poll({})).messages[0]
    wiki.edits["Acme"] = [clock.now] * 90

    with pytest.raises(RateLimited, match="rate limit"):
        await channel.reply(zoe, "Soon.", "key-5")


async def test_an_oauth2_token_is_sent_as_bearer_and_a_wrong_one_is_refused_in_words(wiki, connect):
    said(wiki, "Zoe", "Battery?")
    good = await connect(secret=OAUTH_TOKEN, auth=OAUTH2).poll({})
    assert [m.author.handle for m in good.messages] == ["Zoe"]
    assert not any(r.query.get("action") == ["login"] for r in wiki.requests)

    with pytest.raises(AuthError) as refused:
        await connect(secret="revoked-token-5678", auth=OAUTH2).poll({})
    assert "ecoinbox auth wiki" in str(refused.value) and "revoked-token-5678" not in str(refused.value)


async def test_a_wrong_bot_password_is_refused_in_words(wiki, connect):
    with pytest.raises(AuthError, match="Special:BotPasswords") as refused:
        await connect(secret="wxyz" * 8).poll({})
    assert "wxyz" not in str(refused.value)


@pytest.mark.parametrize("followed", ["page", "namespace"])
async def test_a_page_that_cannot_be_read_is_skipped_said_and_read_again(
    wiki, connect, caplog, clock, followed
):
    said(wiki, "Zoe", "Battery?")
    channel = connect() if followed == "page" else connect(pages=(), namespaces=(1,))
    cursor = (await channel.poll({})).cursor
    said(wiki, "Luc", "Same.", indent=1)
    real = wiki._revision

    def without_content(revision, props):  # a revision whose text the wiki hides
        shown = real(revision, props)
        if revision.title == PAGE:
            shown.get("slots", {}).get("main", {}).pop("content", None)
        return shown

    wiki._revision = without_content  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        hidden = await channel.poll(cursor)
    assert hidden.messages == [] and "skipped an unreadable talk page" in caplog.text
    assert hidden.warnings == ((f"{PAGE} could not be read (its text is hidden or unreadable); it is read again "
                               "at the next poll"),)  # fmt: skip
    clock.now += timedelta(hours=1)  # still hidden an hour later, while another page moves on
    wiki.comment("Talk:Acme Cloud", "Priya", "Sync?", section="Sync", at=clock.now)
    still = await channel.poll(hidden.cursor)
    assert [m.text for m in still.messages] == (["Sync?"] if followed == "namespace" else [])
    wiki._revision = real  # type: ignore[method-assign]
    clock.now += timedelta(hours=1)  # the change is long past: only the cursor remembers the page

    assert [m.text for m in (await channel.poll(still.cursor)).messages] == ["Same."]


async def test_malformed_json_is_a_transient_error(wiki, connect):
    wiki.inject("/api.php", status=200, body="<html>Fatal error</html>", times=3)

    with pytest.raises(TransientError, match="malformed"):
        await connect().poll({})


async def test_check_names_the_account_the_reply_path_and_the_limits(wiki, connect):
    words = await connect(namespaces=(1,)).check()

    assert "signed in to Acme Wiki (MediaWiki 1.39.17) as Acme with a bot password" in words
    assert ("through DiscussionTools" in words) is wiki.discussiontools
    assert "following 1 page and every page of Talk;" in words and "at most 90 edits a minute" in words


async def test_two_comments_of_one_name_are_answered_by_a_section_edit_under_the_right_one(wiki, connect):
    said(wiki, "Zoe", "First question.", section="One")
    said(wiki, "Zoe", "Second question, same minute.", section="Two")
    channel = connect()
    second = (await channel.poll({})).messages[1]
    assert second.remote_id.endswith("-2")

    sent = await channel.reply(second, "Answer to the second.", "key-6")

    two = wiki.text(PAGE).split("== Two ==")[1]
    assert ":Answer to the second." in two and sent.in_reply_to == second.remote_id


async def test_recent_changes_caught_up_over_several_polls_bring_the_older_pages_comments_too(
    wiki, connect, clock
):
    wiki.short_pages = 2  # 10 answers of 2 changes: 20 changes a poll
    for number in range(25):
        wiki.comment(f"Talk:Product {number}", "Zoe", f"Question {number}", section="Q",
                     at=clock.now - timedelta(days=2, minutes=-number))  # fmt: skip
    channel = connect(pages=(), namespaces=(1,))

    first = await channel.poll({})
    clock.now += timedelta(hours=1)
    second = await channel.poll(first.cursor)

    assert len(first.messages) == 20
    assert sorted(m.text for m in first.messages + second.messages) == sorted(
        f"Question {n}" for n in range(25)
    )
