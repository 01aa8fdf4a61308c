"""The WordPress channel against the local WordPress site, over real loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from ecoinbox.channels.base import (
    AuthError,
    Channel,
    ModeratedChannel,
    PermanentError,
    RateLimited,
    ReconcilingChannel,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.wordpress import WordPressChannel, authorize_url
from ecoinbox.channels.wpsite import api_root_from_link, author_name, comments_feed
from ecoinbox.demo.wordpress.server import WordPressServer
from ecoinbox.model import Origin

PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

# The local site's habit sets: as the demo runs it, and as real WordPress 6.1 behaves (the
# Debian package tests/real_wordpress.py runs), with pretty and with plain permalinks.
HABITS = {
    "demo": {},
    "wordpress-6.1": {"anonymous_on_bad_password": True, "checks_parent": False, "kses_author_names": True},
    "plain-permalinks": {"anonymous_on_bad_password": True, "checks_parent": False, "kses_author_names": True,
                         "pretty_permalinks": False},
}  # fmt: skip


@pytest.fixture(params=sorted(HABITS))
def habits(request: pytest.FixtureRequest) -> dict[str, bool]:
    return HABITS[request.param]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Site(WordPressServer):
    """The local site, able to lose the answer to the next `lose_answers` comments created."""

    lose_answers = 0
    post = 0

    async def _create_comment(self, request: web.Request) -> web.Response:
        response = await super()._create_comment(request)
        if self.lose_answers and response.status == 201:
            self.lose_answers -= 1
            return web.Response(status=504, text="Gateway Timeout")
        return response


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def site(clock: Clock, habits: dict[str, bool]) -> AsyncIterator[WordPressServer]:
    """An empty site (one post, the brand account) whose timezone is west of UTC."""
    async with Site(
        seed=None, app_password=PASSWORD, now=clock, utc_offset=timedelta(hours=-5), **habits
    ) as running:
        running.post = running.add_post("launch", "Launch day", NOW - timedelta(days=3))
        yield running


@pytest.fixture
async def seeded(clock: Clock, habits: dict[str, bool]) -> AsyncIterator[WordPressServer]:
    async with Site(seed=1, app_password=PASSWORD, now=clock, **habits) as running:
        yield running


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., WordPressChannel]]:
    channels: list[WordPressChannel] = []

    def make(
        server: WordPressServer, password: str = PASSWORD, account: str = "acme_team"
    ) -> WordPressChannel:
        channel = WordPressChannel("blog", server.base_url, password, account=account)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


def comment(site: WordPressServer, text: str, *, at: datetime, author: str = "Alice", parent: int = 0) -> int:
    return site.add_comment(
        post=site.post, author=author, text=f"<p>{text}</p>", created_at=at, parent=parent
    )  # type: ignore[attr-defined]


def comment_requests(site: WordPressServer) -> list:
    return [r for r in site.requests if r.path == "/wp-json/wp/v2/comments" and r.method == "GET"]


# --- the protocol and first contact -----------------------------------------------------------


async def test_it_is_a_reconciling_channel_with_honest_capabilities(site, connect):
    channel = connect(site)
    assert isinstance(channel, Channel) and isinstance(channel, ReconcilingChannel)
    caps = await channel.capabilities()
    assert caps.reply and caps.reconcile and caps.idempotency_window is None
    assert (caps.max_length, caps.length_counting) == (65_525, "bytes")
    assert channel.length("é<") == len("é&lt;".encode())  # what WordPress stores and counts


async def test_check_says_who_and_whether_held_comments_are_visible(site, connect):
    assert "@acme_team" in await connect(site).check()
    assert "may moderate" in await connect(site).check()
    with pytest.raises(AuthError, match="invalid_username|rest_not_logged_in"):
        await connect(site, account="someone_else").check()


async def test_a_wrong_password_is_an_auth_error_that_never_shows_the_password(site, connect, caplog):
    caplog.set_level(logging.DEBUG)
    channel = connect(site, password="wrong pass word here 1234")
    with pytest.raises(AuthError) as refused:
        await channel.poll({})
    assert refused.value.status == 401
    assert "ecoinbox auth blog" in str(refused.value)
    assert "incorrect_password" in str(refused.value) or "anonymous" in str(refused.value)
    for shown in (str(refused.value), repr(channel), str(channel), caplog.text):
        assert "wrong pass" not in shown and "wrongpassword" not in shown and "Basic " not in shown
    assert "EFGH" not in repr(connect(site))


# --- polling and the cursor -------------------------------------------------------------------


async def test_first_poll_brings_approved_and_held_comments_not_spam(seeded, connect):
    result = await connect(seeded).poll({})
    names = {m.author.handle for m in result.messages}
    assert {"Priya Raman", "Great Deals", "SEO Expert", "Lena Fischer"} <= names  # held ones included
    assert not names & {"replica watches", "Online Casino"}  # Akismet's spam stays out
    ours = [m for m in result.messages if m.origin is Origin.OURS]
    assert [m.author.handle for m in ours] == ["Acme Team"] and ours[0].in_reply_to is not None
    priya = next(m for m in result.messages if m.author.handle == "Priya Raman")
    assert priya.title == "Introducing the Acme Widget 2" and priya.origin is Origin.MENTION
    assert priya.url and priya.url.endswith(f"#comment-{priya.remote_id}")
    assert priya.thread_ref and priya.created_at.tzinfo is not None
    assert [m.created_at for m in result.messages] == sorted(m.created_at for m in result.messages)
    newest = max(c["date_gmt"] for c in seeded.comments() if c["status"] in ("approved", "hold"))
    assert (result.cursor["date_gmt"], result.cursor["id"]) == (newest, result.messages[-1].remote_id)


async def test_a_restart_resumes_from_the_cursor_without_repeats(site, connect, clock):
    first = comment(site, "first", at=NOW - timedelta(hours=2))
    cursor = (await connect(site).poll({})).cursor
    assert cursor["id"] == str(first)
    assert (await connect(site).poll(cursor)).messages == []  # a new process, the same cursor
    second = comment(site, "second", at=NOW - timedelta(minutes=30))
    result = await connect(site).poll(cursor)
    assert [m.remote_id for m in result.messages] == [str(second)]
    assert (await connect(site).poll(result.cursor)).messages == []


async def test_after_is_sent_with_its_offset_so_a_site_west_of_utc_misses_nothing(site, connect):
    """The site is UTC-5 and compares `after` with its local dates: a bare GMT date would be
    read as local and skip the five hours after the cursor."""
    comment(site, "first", at=NOW - timedelta(hours=6))
    channel = connect(site)
    cursor = (await channel.poll({})).cursor
    later = comment(site, "half an hour later", at=NOW - timedelta(hours=5, minutes=30))
    assert [m.remote_id for m in (await channel.poll(cursor)).messages] == [str(later)]
    after = comment_requests(site)[-1].query["after"][0]
    assert after.endswith("+00:00")


async def test_comments_sharing_the_cursors_second_are_neither_skipped_nor_repeated(site, connect):
    at = NOW - timedelta(hours=1)
    a = comment(site, "a", at=at)
    channel = connect(site)
    cursor = (await channel.poll({})).cursor
    b, c = comment(site, "b", at=at), comment(site, "c", at=at)  # the same second as the cursor
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [str(b), str(c)]
    assert (result.cursor["date_gmt"], result.cursor["id"]) == (cursor["date_gmt"], str(c))
    assert (await channel.poll(result.cursor)).messages == []
    assert a < b < c


async def test_a_backlog_is_read_in_pages_of_100_in_order(site, connect):
    channel = connect(site)
    cursor = {"date_gmt": (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"), "id": "1"}
    ids = [comment(site, f"n{i}", at=NOW - timedelta(hours=30) + timedelta(minutes=i)) for i in range(250)]
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [str(i) for i in ids]
    pages = comment_requests(site)
    assert len(pages) == 3 and all(r.query["per_page"] == ["100"] for r in pages)
    assert all(r.query["orderby"] == ["date_gmt"] and r.query["order"] == ["asc"] for r in pages)


async def test_more_than_a_page_within_one_second_is_paged_through(site, connect):
    channel = connect(site)
    at = NOW - timedelta(hours=1)
    cursor = {"date_gmt": (at - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"), "id": "1"}
    ids = [comment(site, f"burst {i}", at=at) for i in range(150)]
    result = await channel.poll(cursor)
    assert sorted(int(m.remote_id) for m in result.messages) == ids
    assert any(r.query.get("page") == ["2"] for r in comment_requests(site))


class ModeratedMidWalk(WordPressServer):
    """Marks a comment of the first page spam right after serving it: the rest shifts left."""

    victim: int | None = None

    async def _list_comments(self, request: web.Request) -> web.Response:
        response = await super()._list_comments(request)
        if self.victim is not None:
            self.set_status(self.victim, "spam")
            self.victim = None
        return response


async def test_a_comment_removed_mid_walk_does_not_push_the_next_page_past_one(clock, connect):
    async with ModeratedMidWalk(seed=None, app_password=PASSWORD, now=clock) as site:
        post = site.add_post("p", "P", NOW - timedelta(days=3))
        ids = [site.add_comment(post=post, author="A", text=f"c{i}", created_at=NOW - timedelta(hours=40) + timedelta(minutes=i))
               for i in range(150)]  # fmt: skip
        site.victim = ids[10]
        cursor = {"date_gmt": (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"), "id": "1"}
        result = await connect(site).poll(cursor)
    assert [int(m.remote_id) for m in result.messages] == ids  # the 101st was not skipped


async def test_an_account_that_cannot_moderate_gets_approved_comments_only(seeded, connect):
    seeded.add_user("writer", "Writer", "wwww xxxx yyyy zzzz", moderator=False)
    channel = WordPressChannel("blog", seeded.base_url, "wwww xxxx yyyy zzzz", account="writer")
    try:
        assert "cannot see comments held" in await channel.check()
        names = {m.author.handle for m in (await channel.poll({})).messages}
    finally:
        await channel.aclose()
    assert "Priya Raman" in names and not names & {"SEO Expert", "Lena Fischer"}
    statuses = {r.query.get("status", ["approve"])[0] for r in comment_requests(seeded)}
    assert statuses == {"approve"}


# --- errors -------------------------------------------------------------------------------------


async def test_a_host_429_with_retry_after_pauses_the_host(site, connect, clock):
    channel = connect(site)
    site.inject("/wp-json/wp/v2/comments", status=429, body="<html>Too Many Requests</html>",
                headers={"Retry-After": "120", "Content-Type": "text/html"})  # fmt: skip
    with pytest.raises(RateLimited) as limited:
        await channel.poll({})
    wait = (limited.value.retry_at - datetime.now(UTC)).total_seconds()
    assert 100 < wait <= 121
    before = len(site.requests)
    with pytest.raises(RateLimited):
        await channel.poll({})
    assert len(site.requests) == before  # paused: no request at all


async def test_maintenance_mode_503_is_a_rate_limit_until_it_ends(site, connect):
    site.maintenance(datetime.now(UTC) + timedelta(minutes=10))
    with pytest.raises(RateLimited) as limited:
        await connect(site).poll({})
    assert limited.value.retry_at > datetime.now(UTC) + timedelta(minutes=9)


async def test_a_server_error_is_transient(site, connect):
    site.inject(
        "/wp-json/wp/v2/comments", status=500, body='{"code":"internal_server_error","message":"boom"}'
    )
    with pytest.raises(TransientError) as failed:
        await connect(site).poll({})
    assert not isinstance(failed.value, (UncertainSend, PermanentError))


@pytest.mark.parametrize("body", ["{not json", '{"code":"x"}', "null"])
async def test_a_malformed_page_is_transient_and_leaves_the_cursor(site, connect, body):
    comment(site, "hello", at=NOW - timedelta(hours=1))
    site.inject("/wp-json/wp/v2/comments", status=200, body=body)
    with pytest.raises(TransientError, match="malformed"):
        await connect(site).poll({"date_gmt": "2026-03-01T00:00:00", "id": "1"})


async def test_broken_and_hostile_comments(site, connect):
    comment(site, "fine", at=NOW - timedelta(hours=3))
    site.add_comment(post=site.post, author="\x1b[31mRed\x1b[0m \u202eevil", created_at=NOW - timedelta(hours=2),
                     text='<p>x\x1b]0;title\x07y <script>alert(1)</script><a href="javascript:alert(1)">click</a></p>')  # fmt: skip
    broken = '[{"id": 900, "post": 1}, {"id": "x", "date_gmt": "2026-03-10T10:00:00"}, "text"]'
    channel = connect(site)
    messages = (await channel.poll({})).messages
    hostile = messages[-1]
    assert (
        "\x1b" not in hostile.text
        and "\x1b" not in hostile.author.handle
        and "\u202e" not in hostile.author.handle
    )
    assert "alert" not in hostile.text and hostile.hidden_characters
    assert not any(link.startswith("javascript") for link in hostile.links)
    site.inject("/wp-json/wp/v2/comments", status=200, body=broken)
    assert (await channel.poll({"date_gmt": "2026-03-01T00:00:00", "id": "1"})).messages == []


# --- threads --------------------------------------------------------------------------------


async def test_context_follows_the_parent_chain_oldest_first(site, connect):
    root = comment(site, "root", at=NOW - timedelta(hours=3))
    middle = comment(site, "middle", at=NOW - timedelta(hours=2), parent=root)
    leaf = comment(site, "leaf", at=NOW - timedelta(hours=1), parent=middle)
    thread = await connect(site).context(str(leaf))
    assert [m.remote_id for m in thread] == [str(root), str(middle), str(leaf)]
    assert [m.in_reply_to for m in thread] == [None, str(root), str(middle)]
    assert all(m.origin is Origin.CONTEXT for m in thread)


# --- replying -------------------------------------------------------------------------------


async def parent_message(site, connect):
    comment(site, "Where can I buy it?", at=NOW - timedelta(hours=1))
    return (await connect(site).poll({})).messages[-1]


async def test_a_reply_goes_under_its_parent_on_its_post_and_says_exactly_the_text(site, connect):
    parent = await parent_message(site, connect)
    text = "Link is in the post footer! <3 & thanks\nSam"
    sent = await connect(site).reply(parent, text, "key-1")
    (created,) = site.created
    assert (created.post, created.parent) == (site.post, int(parent.remote_id))
    assert created.raw == "Link is in the post footer! &lt;3 &amp; thanks\nSam"
    assert sent.origin is Origin.OURS and sent.in_reply_to == parent.remote_id
    assert sent.remote_id == str(created.id) and "<3 & thanks" in sent.text


async def test_a_resend_refused_as_duplicate_is_the_earlier_copy(site, connect):
    parent = await parent_message(site, connect)
    first = await connect(site).reply(parent, "Thanks for asking!", "key-1")
    again = await connect(site).reply(parent, "Thanks for asking!", "key-1")
    assert again.remote_id == first.remote_id and again.origin is Origin.OURS
    assert len(site.created) == 1


async def test_a_closed_post_is_a_refusal_not_a_bad_password(site, connect):
    parent = await parent_message(site, connect)
    site._posts[site.post].comments_open = False  # type: ignore[attr-defined]
    with pytest.raises(PermanentError) as refused:
        await connect(site).reply(parent, "hello", "key-1")
    assert not isinstance(refused.value, AuthError) and "rest_comment_closed" in str(refused.value)


async def test_an_uncertain_send_is_reconciled_by_reading_the_parents_replies(site, connect):
    parent = await parent_message(site, connect)
    channel = connect(site)
    since = NOW  # the site's clock
    assert await channel.find_sent(parent, "Are you there?", "", since) is None  # nothing yet
    site.lose_answers = 1
    with pytest.raises(UncertainSend):
        await channel.reply(parent, "Are you there?", "key-1")
    found = await channel.find_sent(parent, "Are you there?", "", since)
    assert found is not None and found.remote_id == str(site.created[0].id)
    assert await channel.find_sent(parent, "Something else", "", since) is None


def test_the_authorize_page_shows_the_password_to_copy():
    url = authorize_url("https://blog.example/")
    assert url.startswith("https://blog.example/wp-admin/authorize-application.php?app_name=ecoinbox&app_id=")
    assert "success_url" not in url


# --- real WordPress's habits (issue 12, items 8-12) -------------------------------------------------


def held_comment(site: WordPressServer, text: str, *, at: datetime, author: str = "Hugo") -> int:
    return site.add_comment(post=site.post, author=author, text=text, created_at=at, status="hold")


async def test_a_password_served_as_anonymous_pauses_the_channel_and_reads_again_from_its_cursor(
    site, connect, clock
):
    """Item 8: real WordPress serves a revoked password as anonymous (approved comments, no 401).
    The poll must stop with the fix in words, never import as anonymous nor move its cursor."""
    comment(site, "before", at=NOW - timedelta(hours=3))
    channel = connect(site)
    cursor = (await channel.poll({})).cursor
    site.set_app_password("new1 new2 new3 new4 new5 new6")  # the old one is revoked
    held = held_comment(site, "My order never came", at=NOW - timedelta(hours=2))
    approved = comment(site, "Nice post", at=NOW - timedelta(hours=1))
    for _ in range(2):
        with pytest.raises(AuthError) as paused:
            await channel.poll(cursor)
        assert "ecoinbox auth blog" in str(paused.value) and "new1" not in str(paused.value)
    (known,) = (await connect(site, password="new1 new2 new3 new4 new5 new6").poll({})).messages[:1]
    with pytest.raises(AuthError):  # a reply waits: it is not a failure of the reply
        await channel.reply(known, "hello", "key-1")
    assert site.created == []
    assert channel.set_token("new1 new2 new3 new4 new5 new6")
    result = await channel.poll(cursor)  # the cursor the last authenticated poll left
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), True), (str(approved), False)]


async def test_lost_authentication_is_seen_at_the_next_poll_not_only_the_first(site, connect):
    """users/me is asked at every poll: a password revoked while the channel runs pauses it."""
    channel = connect(site)
    await channel.poll({})
    site.set_app_password("new1 new2 new3 new4 new5 new6")
    with pytest.raises(AuthError):
        await channel.poll({"date_gmt": "2026-03-01T00:00:00", "id": "1"})


async def test_a_comment_approved_after_a_newer_one_is_not_skipped_by_an_account_that_cannot_moderate(
    site, connect
):
    """Item 9: the held comment is invisible to an author; once approved it keeps its old date,
    behind the cursor. The ids the cursor passed without seeing are asked for again."""
    site.add_user("writer", "Writer", "wwww xxxx yyyy zzzz", moderator=False)
    channel = connect(site, password="wwww xxxx yyyy zzzz", account="writer")
    comment(site, "first", at=NOW - timedelta(hours=5))
    cursor = (await channel.poll({})).cursor
    held = held_comment(site, "Is this safe for kids?", at=NOW - timedelta(hours=3))
    newer = comment(site, "Great!", at=NOW - timedelta(hours=2))
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [str(newer)]
    site.set_status(held, "approved")
    result = await channel.poll(result.cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), False)]
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_held_comment_comes_in_held_and_again_approved_for_a_moderator(site, connect):
    """Items 9 and 10: a moderator sees it held at once, and again with held=False once approved."""
    channel = connect(site)
    comment(site, "first", at=NOW - timedelta(hours=5))
    cursor = (await channel.poll({})).cursor
    held = held_comment(site, "Is this safe for kids?", at=NOW - timedelta(hours=3))
    newer = comment(site, "Great!", at=NOW - timedelta(hours=2))
    result = await channel.poll(cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), True), (str(newer), False)]
    assert (await channel.poll(result.cursor)).messages == []  # still held: nothing new
    site.set_status(held, "approved")
    result = await channel.poll(result.cursor)
    assert [(m.remote_id, m.held) for m in result.messages] == [(str(held), False)]
    assert (await channel.poll(result.cursor)).messages == []


async def test_a_comment_approved_by_the_queue_after_newer_ones_arrives(clock, connect, habits):
    """Item 9 with the local site's moderator habit: held comments are approved an hour later."""
    async with Site(seed=None, app_password=PASSWORD, now=clock, approve_held_after=timedelta(hours=1),
                    **habits) as site:  # fmt: skip
        site.post = site.add_post("p", "P", NOW - timedelta(days=3))
        site.add_user("writer", "Writer", "wwww xxxx yyyy zzzz", moderator=False)
        channel = connect(site, password="wwww xxxx yyyy zzzz", account="writer")
        comment(site, "before", at=NOW - timedelta(hours=5))
        cursor = (await channel.poll({})).cursor
        held = held_comment(site, "first-time commenter", at=NOW - timedelta(minutes=30))
        newer = comment(site, "regular", at=NOW - timedelta(minutes=20))
        result = await channel.poll(cursor)
        clock.now = NOW + timedelta(hours=1)
        later = await channel.poll(result.cursor)
    assert [m.remote_id for m in result.messages] == [str(newer)]
    assert [m.remote_id for m in later.messages] == [str(held)]


async def test_approve_approves_and_says_why_not_when_the_account_may_not(site, connect):
    """Item 10: approve() is what wp-admin's Approve does."""
    held = held_comment(site, "Hello?", at=NOW - timedelta(hours=1))
    channel = connect(site)
    assert isinstance(channel, ModeratedChannel)
    await channel.approve(str(held))
    await channel.approve(str(held))  # approving an approved comment is fine
    assert next(c for c in site.comments() if c["id"] == held)["status"] == "approved"
    site.add_user("writer", "Writer", "wwww xxxx yyyy zzzz", moderator=False)
    other = held_comment(site, "Hello again?", at=NOW - timedelta(minutes=30))
    with pytest.raises(PermanentError, match="may not moderate") as refused:
        await connect(site, password="wwww xxxx yyyy zzzz", account="writer").approve(str(other))
    assert not isinstance(refused.value, AuthError)


@pytest.mark.parametrize("what", ["hold", "trash", "spam", "deleted", "moved"])
async def test_a_reply_to_a_parent_nobody_would_see_is_refused_before_sending(site, connect, what):
    """Item 10: real WordPress publishes a reply under any parent id (201): check it first."""
    parent = await parent_message(site, connect)
    parent_id = int(parent.remote_id)
    if what == "deleted":
        site.delete_comment(parent_id)
    elif what == "moved":
        other = site.add_post("other", "Other", NOW - timedelta(days=1))
        site._comments[parent_id].post = other  # type: ignore[attr-defined]
    else:
        site.set_status(parent_id, what)
    with pytest.raises(PermanentError) as refused:
        await connect(site).reply(parent, "Thanks!", "key-1")
    assert "not sent" in str(refused.value) and not isinstance(refused.value, AuthError)
    assert site.created == []


async def test_author_names_are_unescaped(site, connect):
    """Item 11: WordPress stores names through kses: `Ben &amp; Jerry's` means Ben & Jerry's."""
    site.add_comment(
        post=site.post, author="Ben &amp; Jerry's", text="<p>Hi</p>", created_at=NOW - timedelta(hours=1)
    )
    (message,) = (await connect(site).poll({})).messages
    assert message.author.handle == message.author.display_name == "Ben & Jerry's"


async def test_the_api_root_is_read_from_the_home_pages_link_header(clock, connect):
    """Item 12: a site with plain permalinks answers only at ?rest_route=."""
    async with Site(seed=None, app_password=PASSWORD, now=clock, pretty_permalinks=False) as site:
        site.post = site.add_post("p", "P", NOW - timedelta(days=3))
        first = comment(site, "hello", at=NOW - timedelta(hours=1))
        channel = connect(site)
        assert "?rest_route=" in await channel.check()
        result = await channel.poll({})
        sent = await channel.reply(result.messages[0], "Thanks!", "key-1")
    assert [m.remote_id for m in result.messages] == [str(first)]
    assert sent.remote_id == str(site.created[0].id)
    assert site.rest_route_hits >= 4


async def test_capabilities_name_the_safeguards(site, connect):
    caps = await connect(site).capabilities()
    assert any("anonymous" in line and "users/me" in line for line in caps.safeguards)
    assert any("approved" in line for line in caps.safeguards)


@pytest.mark.parametrize(
    ("link", "route", "expected"),
    [
        ('<https://blog.example/wp-json/>; rel="https://api.w.org/"', "/wp/v2/comments", "/wp-json/wp/v2/comments"),
        ('<http://blog.example/?rest_route=/>; rel="https://api.w.org/"', "/wp/v2/users/me",
         "/?rest_route=%2Fwp%2Fv2%2Fusers%2Fme&per_page=5"),
        ('<https://ex.example/blog/index.php?rest_route=/>; rel="https://api.w.org/"', "/wp/v2/comments",
         "/blog/index.php?rest_route=%2Fwp%2Fv2%2Fcomments&per_page=5"),
        ('<https://ex.example/blog/index.php/wp-json/>; rel="https://api.w.org/", <https://ex.example/?p=1>; rel=shortlink',
         "/wp/v2/comments", "/blog/index.php/wp-json/wp/v2/comments"),
    ],
)  # fmt: skip
def test_the_api_root_from_a_link_header(link, route, expected):
    root = api_root_from_link(link)
    assert root is not None
    params = {"per_page": "5"} if "rest_route" in expected else None
    assert root.url(route, params).split("&per_page")[0] == expected.split("&per_page")[0]
    assert ("rest_route" in expected) == root.plain


@pytest.mark.parametrize(
    ("root", "feed"),
    [
        ("https://b.example/wp-json/", "/comments/feed/"),
        ("https://b.example/index.php?rest_route=/", "/?feed=comments-rss2"),
        ("https://b.example/blog/index.php?rest_route=/", "/blog/?feed=comments-rss2"),
        ("https://b.example/blog/wp-json/", "/blog/comments/feed/"),
        ("https://b.example/blog/index.php/wp-json/", "/blog/index.php/comments/feed/"),
    ],
)
def test_the_comments_feed_follows_the_permalinks(root, feed):
    found = api_root_from_link(f'<{root}>; rel="https://api.w.org/"')
    assert found is not None and comments_feed(found) == feed


def test_no_api_link_and_escaped_names():
    assert (
        api_root_from_link(None) is None and api_root_from_link('<https://x/feed>; rel="alternate"') is None
    )
    assert author_name("Ben &amp; Jerry&#8217;s") == "Ben & Jerry\u2019s" and author_name(None) == ""
    assert author_name("&amp;lt;b&amp;gt;") == "&lt;b&gt;"  # unescaped once, never twice


async def test_a_home_page_that_names_no_api_root_means_wp_json(clock, connect):
    """Where the home page names no API root (a cache dropped the header), /wp-json/ is asked."""
    async with Site(seed=None, app_password=PASSWORD, now=clock) as site:
        site.post = site.add_post("p", "P", NOW - timedelta(days=3))
        site.inject("/", status=200, body="<html></html>", headers={"Content-Type": "text/html"}, times=2)
        comment(site, "hello", at=NOW - timedelta(hours=1))
        assert len((await connect(site).poll({})).messages) == 1
        assert [r.method for r in site.requests[:2]] == ["HEAD", "GET"]


async def test_a_comment_dated_before_the_cursor_but_newer_by_id_is_not_skipped(site, connect):
    """A site on several web servers whose clocks disagree: a comment written after the last poll
    can carry an earlier date. Its id is higher than any seen: it is new."""
    comment(site, "first", at=NOW - timedelta(hours=1))
    channel = connect(site)
    cursor = (await channel.poll({})).cursor
    late = comment(site, "written later, dated earlier", at=NOW - timedelta(hours=1, minutes=5))
    result = await channel.poll(cursor)
    assert [m.remote_id for m in result.messages] == [str(late)]
    assert result.cursor["date_gmt"] == cursor["date_gmt"]  # the date cursor never goes back
    assert (await channel.poll(result.cursor)).messages == []
