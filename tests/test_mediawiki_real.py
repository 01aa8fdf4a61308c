"""The MediaWiki channel against a real MediaWiki (Debian's package on SQLite, on loopback).

What the local wiki in ecoinbox/demo/mediawiki/ was taught from: a bot password signs in only
in base 32 and with a login token, comments are found in the wikitext by their signatures, a
reply is a section edit signed "~~~~" that the wiki expands, and a resend is found on the page
instead of repeated. They skip, saying what to install, where MediaWiki or PHP are missing.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ecoinbox.channels.base import AuthError, PermanentError
from ecoinbox.channels.mediawiki.channel import MediaWikiChannel
from ecoinbox.model import Origin
from tests.real_mediawiki import RealMediaWiki, why_no_mediawiki

MISSING = why_no_mediawiki()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING}: the real MediaWiki tests need them"),
    pytest.mark.slow,
]
_pages = itertools.count(1)


@pytest.fixture(scope="session")
def mediawiki() -> Iterator[RealMediaWiki]:
    wiki = RealMediaWiki().start()
    try:
        yield wiki
    finally:
        wiki.stop()


@pytest.fixture
def page() -> str:
    """A talk page of its own for each test."""
    return f"Talk:Acme X{next(_pages)}"


@pytest.fixture
async def connect(mediawiki: RealMediaWiki) -> AsyncIterator[Callable[..., MediaWikiChannel]]:
    channels: list[MediaWikiChannel] = []

    def make(*, pages: tuple[str, ...] = (), namespaces: tuple[int, ...] = (), password: str | None = None,
             login: str | None = None) -> MediaWikiChannel:  # fmt: skip
        assert mediawiki.bot is not None
        channel = MediaWikiChannel("wiki", mediawiki.base_url, password or mediawiki.bot.password,
                                   login_name=login or mediawiki.bot.name, pages=pages, namespaces=namespaces)  # fmt: skip
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


async def test_new_comments_come_in_threaded_by_section_and_indentation(mediawiki, connect, page):
    mediawiki.add_comment(page, "Zoe", "The battery of my [[Acme X2]] dies in two hours.", section="Battery")
    mediawiki.add_comment(page, "Luc", "Same here since the update.", indent=1, section="Battery")
    mediawiki.add_comment(page, "Marie", "L'écran reste noir au démarrage.", section="Écran noir")
    channel = connect(pages=(page,))

    first = await channel.poll({})

    by_author = {message.author.handle: message for message in first.messages}
    assert sorted(by_author) == ["Luc", "Marie", "Zoe"]
    zoe, luc, marie = by_author["Zoe"], by_author["Luc"], by_author["Marie"]
    assert zoe.text == "The battery of my Acme X2 dies in two hours." and zoe.in_reply_to is None
    assert luc.in_reply_to == zoe.remote_id and luc.title == f"{page}: Battery"
    assert marie.in_reply_to is None and marie.title == f"{page}: Écran noir"
    assert zoe.links == (f"{mediawiki.base_url}/index.php?title=Acme_X2",)
    assert (await channel.poll(first.cursor)).messages == []


async def test_a_namespace_is_followed_through_recent_changes_and_every_edit_between_polls_counts(
    mediawiki, connect, page
):
    channel = connect(namespaces=(1,))
    mediawiki.add_comment(page, "Zoe", "Where is the manual?", section="Manual")
    cursor = (await channel.poll({})).cursor
    # Two edits between two polls: the comments of both arrive, none twice.
    mediawiki.add_comment(page, "Luc", "On the box.", indent=1, section="Manual")
    mediawiki.add_comment(page, "Zoe", "Thanks!", indent=2, section="Manual")

    later = await channel.poll(cursor)

    assert [(m.author.handle, m.text) for m in later.messages if m.remote_id.startswith(page)] == [
        ("Luc", "On the box."),
        ("Zoe", "Thanks!"),
    ]
    assert (await channel.poll(later.cursor)).messages == []


async def test_a_reply_is_a_signed_section_edit_that_comes_back_as_ours(mediawiki, connect, page):
    mediawiki.add_comment(page, "Zoe", "The battery dies fast.", section="Battery")
    mediawiki.add_comment(page, "Luc", "Mine too.", indent=1, section="Battery")
    mediawiki.add_comment(page, "Marie", "Autre question.", section="Autre")
    channel = connect(pages=(page,))
    first = await channel.poll({})
    zoe = next(m for m in first.messages if m.author.handle == "Zoe")

    sent = await channel.reply(zoe, "Sorry to hear that, Zoe: which firmware?", "key-1")

    text = mediawiki.wikitext(page)
    battery = text.split("== Autre ==")[0]
    assert ":Sorry to hear that, Zoe: which firmware? [[User:Acme|Acme]]" in battery
    assert battery.index("Mine too.") < battery.index("Sorry to hear")  # after the replies it had
    assert "~~~~" not in text  # the wiki signed it
    assert sent.origin is Origin.OURS and sent.in_reply_to == zoe.remote_id and sent.author.handle == "Acme"
    again = await channel.poll(first.cursor)
    assert [m.remote_id for m in again.messages] == [sent.remote_id]


async def test_a_resend_finds_the_reply_on_the_page_instead_of_posting_it_twice(mediawiki, connect, page):
    mediawiki.add_comment(page, "Zoe", "Is there a French manual?", section="Manual")
    channel = connect(pages=(page,))
    zoe = (await channel.poll({})).messages[0]
    before = datetime.now(UTC) - timedelta(seconds=1)
    sent = await channel.reply(zoe, "Yes: see the downloads page.", "key-2")

    found = await channel.find_sent(zoe, "Yes:  see the downloads page.", "", before)

    assert found is not None and found.remote_id == sent.remote_id
    assert mediawiki.wikitext(page).count("see the downloads page") == 1
    assert await channel.find_sent(zoe, "Something else entirely", "", before) is None


async def test_a_reply_to_a_comment_archived_meanwhile_is_refused_in_words(mediawiki, connect, page):
    mediawiki.add_comment(page, "Zoe", "Old question.", section="Old")
    channel = connect(pages=(page,))
    zoe = (await channel.poll({})).messages[0]
    mediawiki.edit(page, "{{Archived}}\n", user="Admin")

    with pytest.raises(PermanentError, match="no longer on"):
        await channel.reply(zoe, "Answer", "key-3")


async def test_a_wrong_bot_password_is_refused_in_words_without_the_password(mediawiki, connect, page):
    wrong = "a" * 32
    channel = connect(pages=(page,), password=wrong)

    with pytest.raises(AuthError) as refused:
        await channel.poll({})

    assert "ecoinbox auth wiki" in str(refused.value) and wrong not in str(refused.value)
    assert "Special:BotPasswords" in str(refused.value)


async def test_a_forgotten_session_signs_in_again(mediawiki, connect, page):
    mediawiki.add_comment(page, "Zoe", "Hello?", section="Hi")
    channel = connect(pages=(page,))
    cursor = (await channel.poll({})).cursor
    mediawiki.forget_sessions()  # as when they expire
    mediawiki.add_comment(page, "Luc", "Hello!", indent=1, section="Hi")

    later = await channel.poll(cursor)

    assert [m.text for m in later.messages] == ["Hello!"]


async def test_check_names_the_wiki_the_account_and_its_edit_limit(mediawiki, connect, page):
    said = await connect(pages=(page,), namespaces=(1, 5)).check()

    assert "Acme Wiki (MediaWiki 1.39" in said and "as Acme with a bot password" in said
    assert "section edits" in said and "at most 1000 edits a minute" in said
    assert "following 1 page and every page of Talk, Acme Wiki talk;" in said
