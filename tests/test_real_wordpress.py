"""The WordPress channel against a real WordPress (Debian's package, its own MariaDB, loopback).

These are the habits the local site in ecoinbox/demo/ was taught from: a refused application
password served as anonymous, comments approved after newer ones, replies under any parent id,
names escaped by kses, and a REST API that answers only at `?rest_route=` with plain permalinks.
They skip, saying what to install, where WordPress, MariaDB or PHP are missing.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from ecoinbox.channels.base import AuthError, ModeratedChannel, PermanentError
from ecoinbox.channels.wordpress import WordPressChannel
from ecoinbox.channels.wpsite import api_root_from_link, comments_feed
from ecoinbox.model import Origin
from tests.real_wordpress import Account, RealWordPress, why_no_wordpress

MISSING = why_no_wordpress()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING}: the real WordPress tests need them"),
    pytest.mark.slow,
]
_names = itertools.count(1)


@pytest.fixture(scope="session")
def wordpress() -> Iterator[RealWordPress]:
    site = RealWordPress().start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def wp(wordpress: RealWordPress) -> Iterator[RealWordPress]:
    """The site, with each test on a post of its own and the habits put back after it."""
    wordpress.post = wordpress.add_post(f"Post {next(_names)}")
    yield wordpress
    wordpress.set_habits(environment="local")
    if wordpress.permalinks:
        wordpress.set_permalinks("")


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., WordPressChannel]]:
    channels: list[WordPressChannel] = []

    def make(site: RealWordPress, account: Account, password: str | None = None) -> WordPressChannel:
        channel = WordPressChannel("blog", site.base_url, password or account.password, account=account.login)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def user(site: RealWordPress, role: str) -> Account:
    return site.add_user(f"{role}{next(_names)}", role, f"{role.title()} Person")


def cursor_now(site: RealWordPress, seconds_ago: int = 0) -> dict[str, str]:
    """A cursor at a comment written `seconds_ago` (as a poll that read it would leave)."""
    anchor = site.add_comment("Anchor", "anchor", seconds_ago=seconds_ago)
    row = site.comment(anchor)
    return {"date_gmt": row["comment_date_gmt"].replace(" ", "T"), "id": str(anchor)}


# --- the site as it is --------------------------------------------------------------------


async def test_plain_permalinks_the_api_is_found_at_rest_route(wp, connect):
    """Item 12: a fresh WordPress on a server that cannot rewrite URLs has plain permalinks."""
    channel = connect(wp, wp.admin)
    said = await channel.check()
    assert "@brand_admin" in said and "may moderate" in said and "?rest_route=" in said
    first = wp.add_comment("Alice", "Where can I buy it?")
    messages = (await channel.poll({})).messages
    assert str(first) in [m.remote_id for m in messages]


@pytest.mark.parametrize("pretty", [False, True])
async def test_the_comments_feed_is_where_the_link_header_says(wp, pretty):
    """For the feed channel: /comments/feed/ is the home page on a plain-permalinks site."""
    if pretty:
        wp.set_permalinks("/%postname%/")
    async with httpx.AsyncClient(base_url=wp.base_url) as client:
        root = api_root_from_link((await client.head("/")).headers.get("link"))
        assert root is not None and root.plain is not pretty
        feed = await client.get(comments_feed(root))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/rss+xml")


async def test_pretty_permalinks_the_api_is_found_at_wp_json(wp, connect):
    wp.set_permalinks("/%postname%/")
    channel = connect(wp, wp.admin)
    assert "?rest_route=" not in await channel.check()
    first = wp.add_comment("Alice", "Pretty?")
    assert str(first) in [m.remote_id for m in (await channel.poll({})).messages]


async def test_author_names_arrive_unescaped(wp, connect):
    """Item 11: WordPress stores "Ben & Jerry's" as "Ben &amp; Jerry's" (kses)."""
    cursor = cursor_now(wp)
    comment = wp.add_comment("Ben & Jerry's", "Love it & more")
    assert wp.comment(comment)["comment_author"] == "Ben &amp; Jerry's"  # the habit is real
    (message,) = [
        m for m in (await connect(wp, wp.admin).poll(cursor)).messages if m.remote_id == str(comment)
    ]
    assert message.author.handle == "Ben & Jerry's" and "Love it & more" in message.text


# --- item 8: lost authentication ------------------------------------------------------------


async def test_a_wrong_password_is_served_as_anonymous_and_pauses_the_channel(wp, connect):
    channel = connect(wp, wp.admin, password="abcd efgh ijkl mnop qrst uvwx")
    with pytest.raises(AuthError) as paused:
        await channel.poll({})
    assert "anonymous" in str(paused.value) and "ecoinbox auth blog" in str(paused.value)
    assert "abcd" not in str(paused.value)


async def test_a_revoked_password_pauses_and_the_new_one_reads_from_the_last_cursor(wp, connect):
    editor = user(wp, "editor")
    channel = connect(wp, editor)
    wp.add_comment("Alice", "before")
    cursor = (await channel.poll({})).cursor
    wp.revoke_passwords(editor.login)
    held = wp.add_comment("Hugo", "My order never came", status="hold")
    approved = wp.add_comment("Nina", "Nice post")
    for _ in range(2):  # no poll as anonymous: held comments would be lost once the cursor passed them
        with pytest.raises(AuthError):
            await channel.poll(cursor)
    assert channel.set_token(wp.new_password(editor.login))
    result = await channel.poll(cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), True), (str(approved), False)]


async def test_a_site_without_https_ignores_the_password_and_the_channel_says_so(wp, connect):
    """WordPress offers application passwords only over HTTPS (or on a "local" site)."""
    channel = connect(wp, wp.admin)
    await channel.poll({})
    wp.set_habits(environment="production")
    with pytest.raises(AuthError, match="HTTPS"):
        await channel.poll({})
    parent = wp.add_comment("Alice", "Hello?")
    wp.set_habits(environment="local")
    message = next(m for m in (await channel.poll({})).messages if m.remote_id == str(parent))
    wp.set_habits(environment="production")
    with pytest.raises(AuthError):  # a reply waits in the outbox, it does not fail
        await channel.reply(message, "Thanks!", "key-1")
    assert [c["id"] for c in wp.comments_on(wp.post)] == [parent]


# --- item 9: nothing skipped by a late approval -------------------------------------------------


async def test_a_comment_approved_after_a_newer_one_arrives_for_an_account_that_cannot_see_held(wp, connect):
    channel = connect(wp, wp.writer)
    cursor = cursor_now(wp)
    held = wp.add_comment("Hugo", "Is it safe for kids?", status="hold")
    newer = wp.add_comment("Nina", "Great!")
    result = await channel.poll(cursor)
    assert str(newer) in [m.remote_id for m in result.messages]
    assert str(held) not in [m.remote_id for m in result.messages]
    wp.set_status(held, "approve")
    result = await channel.poll(result.cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), False)]
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_moderator_sees_it_held_then_approved(wp, connect):
    channel = connect(wp, wp.admin)
    cursor = cursor_now(wp)
    held = wp.add_comment("Hugo", "Is it safe for kids?", status="hold")
    newer = wp.add_comment("Nina", "Great!")
    result = await channel.poll(cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), True), (str(newer), False)]
    assert (await channel.poll(result.cursor)).messages == []
    wp.set_status(held, "approve")
    result = await channel.poll(result.cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), False)]


# --- item 10: held comments, approving, and a reply's parent ---------------------------------------


async def test_approve_and_reply_as_wp_admin_does(wp, connect):
    channel = connect(wp, wp.admin)
    assert isinstance(channel, ModeratedChannel)
    cursor = cursor_now(wp)
    held = wp.add_comment("Hugo", "Hello?", status="hold")
    (message,) = [m for m in (await channel.poll(cursor)).messages if m.remote_id == str(held)]
    assert message.held
    with pytest.raises(PermanentError, match="held for moderation"):
        await channel.reply(message, "Hi Hugo!", "key-1")
    with pytest.raises(PermanentError, match="may not moderate"):
        await connect(wp, wp.writer).approve(str(held))
    await channel.approve(str(held))
    await channel.approve(str(held))  # already approved: fine
    assert wp.comment(held)["comment_approved"] == "1"
    sent = await channel.reply(message, "Hi Hugo! & welcome", "key-1")
    assert sent.origin is Origin.OURS and sent.in_reply_to == str(held)
    rows = {c["id"]: c for c in wp.comments_on(wp.post)}
    assert rows[int(sent.remote_id)]["parent"] == held and rows[int(sent.remote_id)]["status"] == "approved"


@pytest.mark.parametrize("what", ["trash", "spam", "deleted", "moved"])
async def test_a_reply_under_a_parent_nobody_sees_is_refused(wp, connect, what):
    """Real WordPress answers 201 to all of these: the channel checks first."""
    channel = connect(wp, wp.admin)
    cursor = cursor_now(wp)
    parent = wp.add_comment("Alice", "Question")
    (message,) = [m for m in (await channel.poll(cursor)).messages if m.remote_id == str(parent)]
    if what == "deleted":
        wp.php(f"return wp_delete_comment({parent}, true);")
    elif what == "moved":
        other = wp.add_post("Another post")
        wp.php(f"return wp_update_comment(['comment_ID' => {parent}, 'comment_post_ID' => {other}]);")
    else:
        wp.set_status(parent, what)
    with pytest.raises(PermanentError, match="not sent"):
        await channel.reply(message, "Thanks!", "key-1")
    assert [c for c in wp.comments_on(wp.post) if c["user"]] == []


# --- replies and reconciling ------------------------------------------------------------------


async def test_a_resend_is_found_not_repeated(wp, connect):
    channel = connect(wp, wp.admin)
    cursor = cursor_now(wp)
    parent = wp.add_comment("Alice", "Where?")
    (message,) = [m for m in (await channel.poll(cursor)).messages if m.remote_id == str(parent)]
    sent = await channel.reply(message, "Link in the footer <3", "key-1")
    found = await channel.find_sent(message, "Link in the footer <3", "", sent.created_at)
    assert found is not None and found.remote_id == sent.remote_id
    again = await channel.reply(message, "Link in the footer <3", "key-1")  # 409 comment_duplicate
    assert again.remote_id == sent.remote_id
    assert len([c for c in wp.comments_on(wp.post) if c["user"]]) == 1


# --- the whole way: poll into the store, reply through the outbox ---------------------------------


async def test_the_outbox_approves_a_held_comment_then_replies_and_a_revoked_password_keeps_it_queued(
    wp, connect, tmp_path
):
    from ecoinbox.engine.outbox import OutboxSender
    from ecoinbox.model import OutboxState
    from ecoinbox.store import open_store

    editor = user(wp, "editor")
    channel = connect(wp, editor)
    cursor = cursor_now(wp)
    held = wp.add_comment("Hugo", "My order never came", status="hold")
    store = await open_store(tmp_path / "inbox.db")
    try:
        result = await store.ingest((await channel.poll(cursor)).messages)
        parent = await store.message("blog", str(held))
        assert parent is not None and parent.held
        conversation = next(c for c in result.conversation_ids)
        sender = OutboxSender(store, {"blog": channel}, owner="test")
        wp.revoke_passwords(editor.login)
        await store.queue_reply(
            conversation, parent, "Sorry Hugo, a new one is on its way", approve_parent=True
        )
        await sender.send_due()
        (waiting,) = await store.outbox_items()
        assert waiting.state is OutboxState.QUEUED and "ecoinbox auth blog" in (waiting.error or "")
        assert wp.comment(held)["comment_approved"] == "0"  # nothing done as anonymous
        assert channel.set_token(wp.new_password(editor.login))
        await channel.poll(cursor)
        sender.paused.discard("blog")  # what the engine does after a poll with a token that works
        await sender.send_due()
        (done,) = await store.outbox_items()
        assert done.state is OutboxState.SENT
    finally:
        await store.close()
    assert wp.comment(held)["comment_approved"] == "1"
    replies = [c for c in wp.comments_on(wp.post) if c["parent"] == held]
    assert len(replies) == 1 and replies[0]["status"] == "approved"
