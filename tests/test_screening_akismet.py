"""Akismet with the user's key (keyring, command or environment), against a local stand-in on
loopback (tests/akismet_server.py) that answers as Akismet's documentation says: its verdict and
"discard" join the screener's reasons for blog comments and forum posts, the manager's marks go
back as submit-spam / submit-ham, and a wrong key, an error or silence never holds ingest up and
is said once, without the key."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from akismet_server import DISCARD_WORD, KEY, SPAM_WORD, AkismetServer

from ecoinbox.config import AkismetSettings, ScreeningSettings, SpamAssassinSettings, parse_config
from ecoinbox.model import Author, Message, State, View
from ecoinbox.screening.akismet import comment_fields
from ecoinbox.screening.engines import engines_from_settings
from ecoinbox.screening.inbound import Screener
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
BLOG = "https://blog.velora.example"
HAM = "Thanks for the post, the new battery lasts twice as long on my commute."


def config(api_url: str, *, extra: str = "") -> str:
    return f"""
[brand]
name = "Velora"
[[channels]]
kind = "wordpress"
name = "blog"
base_url = "{BLOG}"
account = "velora_team"
[[channels]]
kind = "mastodon"
name = "m"
base_url = "https://social.example"
[screening.akismet]
blog = "{BLOG}"
api_url = "{api_url}"
timeout = 2
{extra}
"""


def comment(
    remote_id: str, text: str, *, channel: str = "blog", name: str = "Sam Doe", parent: str | None = None
):
    author = Author(channel, f"guest:{name}|", name, name, "https://sam.example")
    url = f"{BLOG}/2026/11/new-battery/#comment-{remote_id}"
    return Message(channel, remote_id, author, text, T0, in_reply_to=parent, url=url)


@pytest.fixture
async def akismet():
    async with AkismetServer(blog=BLOG) as server:
        yield server


@pytest.fixture
async def store(tmp_path):
    stores = []

    async def make(settings_text: str):
        s = await open_store(tmp_path / f"inbox{len(stores)}.db", clock=lambda: T0 + timedelta(hours=1))
        await s.attach_screener(Screener.from_settings(parse_config(settings_text, Path("test.toml"))))
        stores.append(s)
        return s

    yield make
    for s in stores:
        s.screener.engines.close()
        await s.close()


def said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Akismet")]


async def forms_of(server: AkismetServer, endpoint: str, count: int = 1) -> list[dict[str, str]]:
    """The forms `endpoint` received, once `count` of them came (marks are sent without waiting)."""
    deadline = time.monotonic() + 10
    while True:
        found = [form for name, form in server.forms if name == endpoint]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_a_comment_akismet_calls_spam_goes_to_spam_with_the_key_from_the_keyring(akismet, store):
    keyring.set_password("ecoinbox", "akismet", KEY)
    s = await store(config(akismet.base_url))
    result = await s.ingest([comment("11", f"Nice post. Visit {SPAM_WORD} today"), comment("12", HAM)])
    assert result.spam == {1}
    [row] = await s.conversation_page(View.SPAM)
    assert "Akismet: spam" in row.reason
    [inbox] = await s.conversation_page(View.INBOX)
    assert inbox.id == 2
    [verify] = await forms_of(akismet, "verify-key")
    assert verify == {"key": KEY, "blog": BLOG}
    checks = await forms_of(akismet, "comment-check", 2)
    assert checks[0]["api_key"] == KEY and checks[0]["blog"] == BLOG
    assert checks[0]["comment_type"] == "comment" and checks[0]["comment_author"] == "Sam Doe"
    assert checks[0]["comment_content"].startswith("Nice post.") and "user_ip" in checks[0]
    assert checks[0]["permalink"] == f"{BLOG}/2026/11/new-battery/"  # the page, not the comment's anchor
    assert checks[0]["comment_author_url"] == "https://sam.example"


async def test_discard_is_blatant_spam_and_false_is_some_trust(akismet, store, monkeypatch):
    monkeypatch.setenv("AKISMET_KEY", KEY)
    settings = parse_config(config(akismet.base_url, extra='key_env = "AKISMET_KEY"'), Path("test.toml"))
    engines = engines_from_settings(settings)
    try:
        found = await engines.consult(
            [comment("1", f"{DISCARD_WORD}!"), comment("2", HAM), comment("3", HAM, channel="m")]
        )
    finally:
        engines.close()
    assert [[(s.name, s.weight, s.reason) for s in signals] for signals in found] == [
        [("engine:akismet:discard", 10.0, "Akismet: blatant spam (discard)")],
        [("engine:akismet:ham", -1.0, "Akismet: not spam")],
        [],  # a Mastodon post: Akismet is not asked
    ]
    assert len([name for name, _ in akismet.forms if name == "comment-check"]) == 2


def test_replies_and_forum_posts_are_typed_as_akismet_documents():
    reply = comment("5", "me too", parent="4")
    assert comment_fields(reply, "wordpress")["comment_type"] == "reply"
    assert comment_fields(reply, "discourse")["comment_type"] == "forum-post"
    fields = comment_fields(comment("6", "hello"), "wordpress")
    assert fields["comment_date_gmt"] == "2026-11-21T09:00:00+00:00"


async def test_a_wrong_key_is_said_once_without_the_key_and_ingest_goes_on(
    akismet, store, caplog, monkeypatch
):
    wrong = "wrong-key-5d2a-never-shown"
    monkeypatch.setenv("AKISMET_KEY", wrong)
    caplog.set_level(logging.INFO)
    s = await store(config(akismet.base_url, extra='key_env = "AKISMET_KEY"\nkeyring = false'))
    started = time.monotonic()
    await s.ingest([comment("1", f"{SPAM_WORD}")])
    await s.ingest([comment("2", HAM)])
    assert time.monotonic() - started < 3
    assert len(await s.conversation_page(View.INBOX)) == 2  # screened without it
    [line] = said(caplog)
    assert "Akismet: refused the key for https://blog.velora.example" in line
    assert wrong not in caplog.text and KEY not in caplog.text
    settings = parse_config(
        config(akismet.base_url, extra='key_env = "AKISMET_KEY"\nkeyring = false'), Path("t")
    )
    [(ok, status)] = await asyncio.to_thread(engines_from_settings(settings).status)
    assert not ok and "refused the key" in status and wrong not in status


async def test_no_key_anywhere_is_said_once(akismet, store, caplog):
    caplog.set_level(logging.WARNING)
    s = await store(config(akismet.base_url))
    await s.ingest([comment("1", HAM)])
    await s.ingest([comment("2", HAM)])
    [line] = said(caplog)
    assert "Akismet: no key found" in line and "keyring set ecoinbox akismet" in line
    assert akismet.forms == []


async def test_errors_and_silence_never_hold_ingest_up(akismet, store, caplog, monkeypatch):
    monkeypatch.setenv("AKISMET_KEY", KEY)
    caplog.set_level(logging.INFO, logger="ecoinbox.screening.engines")
    clock = [0.0]
    s = await store(config(akismet.base_url, extra='key_env = "AKISMET_KEY"'))
    s.screener.engines.clock = lambda: clock[0]  # the retry delay passes when the test says
    akismet.inject("/1.1/comment-check", status=500, body="oops", times=1)
    await s.ingest([comment("1", f"{SPAM_WORD}")])
    assert [r.state for r in await s.conversation_page(View.INBOX)] == [State.OPEN]
    [line] = said(caplog)
    assert re.search(r"Akismet: 127\.0\.0\.1:\d+ answered with HTTP error 500; 1 new message", line), line
    # Left out for a while: the next comment is not even asked.
    await s.ingest([comment("2", f"{SPAM_WORD}")])
    assert len([r for r in akismet.requests if r.path == "/1.1/comment-check"]) == 1
    # Then asked again: a silent Akismet costs its timeout once, and is said once.
    clock[0] += 61
    akismet.inject("/1.1/comment-check", status=200, body="false", delay=5, times=5)
    started = time.monotonic()
    await s.ingest([comment("3", HAM)])
    assert time.monotonic() - started < 4.5
    assert "did not answer within 2 s" in said(caplog)[-1]
    # It comes back: asked again after the delay, its answer counts and the log says so.
    clock[0] += 61
    akismet.clear_faults()
    result = await s.ingest([comment("4", f"{SPAM_WORD} again")])
    assert result.spam == {4}
    assert "Akismet answers again" in [r.getMessage() for r in caplog.records]


async def test_the_managers_marks_go_back_as_submit_spam_and_submit_ham(akismet, store, monkeypatch, caplog):
    monkeypatch.setenv("AKISMET_KEY", KEY)
    s = await store(config(akismet.base_url, extra='key_env = "AKISMET_KEY"'))
    await s.ingest([comment("1", HAM), comment("2", f"{SPAM_WORD}")])
    [missed] = [r.id for r in await s.conversation_page(View.INBOX)]
    [caught] = [r.id for r in await s.conversation_page(View.SPAM)]
    await s.set_state([missed], State.SPAM)
    [spam] = await forms_of(akismet, "submit-spam")
    assert spam["comment_content"] == HAM and spam["api_key"] == KEY
    await s.set_state([caught], State.OPEN)
    [ham] = await forms_of(akismet, "submit-ham")
    assert SPAM_WORD in ham["comment_content"]
    assert said(caplog) == []  # the stand-in's "Thanks for making the web a better place." was taken


def test_every_engine_setting_is_documented_in_the_example():
    example = (Path(__file__).parent.parent / "config.example.toml").read_text(encoding="utf-8")
    section = example[example.index("\n[screening]\n") :]
    for cls, header in ((SpamAssassinSettings, "spamassassin"), (AkismetSettings, "akismet")):
        part = section[section.index(f"# [screening.{header}]") :]
        for name in cls.__dataclass_fields__:
            assert re.search(rf"^# {name} = ", part, re.MULTILINE), f"screening.{header}.{name}"
    assert set(ScreeningSettings.__dataclass_fields__) == {"spamassassin", "akismet"}


async def test_a_key_cmd_gives_the_key_and_its_failure_is_said_without_output(
    akismet, store, caplog, tmp_path
):
    script = tmp_path / "key.sh"
    script.write_text(f"#!/bin/sh\necho {KEY}\n", encoding="utf-8")
    script.chmod(0o700)
    s = await store(config(akismet.base_url, extra=f'key_cmd = ["{script}"]\nkeyring = false'))
    assert (await s.ingest([comment("1", SPAM_WORD)])).spam == {1}
    caplog.set_level(logging.WARNING)
    script.write_text(f"#!/bin/sh\necho {KEY}-but-wrong-exit; exit 4\n", encoding="utf-8")
    s = await store(config(akismet.base_url, extra=f'key_cmd = ["{script}"]\nkeyring = false'))
    await s.ingest([comment("2", SPAM_WORD)])
    [line] = said(caplog)
    assert (
        "Akismet: the key_cmd of [screening.akismet] gave no key: " in line and "exited with status 4" in line
    )
    assert KEY not in caplog.text


async def test_a_backlog_is_asked_for_its_time_and_the_rest_screened_without_it(
    akismet, store, caplog, monkeypatch
):
    monkeypatch.setenv("AKISMET_KEY", KEY)
    caplog.set_level(logging.INFO, logger="ecoinbox.screening")
    s = await store(config(akismet.base_url, extra='key_env = "AKISMET_KEY"'))
    akismet.inject("/1.1/comment-check", status=200, body="false", delay=0.5, times=8)
    started = time.monotonic()
    await s.ingest([comment(str(n), f"{HAM} ({n})") for n in range(8)])
    assert time.monotonic() - started < 4
    asked = len([r for r in akismet.requests if r.path == "/1.1/comment-check"])
    assert 1 <= asked < 8
    [line] = said(caplog)
    assert re.fullmatch(
        rf"Akismet: {asked} of 8 new messages asked within 2 s; the others are screened without it", line
    )
    # Not an outage: the next comment is asked at once.
    akismet.clear_faults()
    assert (await s.ingest([comment("9", SPAM_WORD)])).spam == {9}


async def test_a_moderators_blog_comments_give_akismet_the_commenters_ip_and_nothing_else_does(
    akismet, store, caplog, tmp_path
):
    """WordPress gives author_ip to an account that may moderate (context=edit): it goes to
    Akismet's user_ip, never to the screen's text, a log, nor the store's file."""
    from ecoinbox.channels.wordpress import WordPressChannel
    from ecoinbox.demo.wordpress.server import WordPressServer

    caplog.set_level(logging.DEBUG)
    keyring.set_password("ecoinbox", "akismet", KEY)
    password = "abcd EFGH ijkl MNOP qrst UVWX"
    async with WordPressServer(seed=None, public_url=BLOG, now=lambda: T0 + timedelta(hours=1)) as site:
        post = site.add_post("new-battery", "New battery", T0 - timedelta(days=1))
        for minute, (name, text, ip) in enumerate(
            [
                ("Sam Doe", f"Nice post. Visit {SPAM_WORD} today", "198.51.100.23"),
                ("Lee", HAM, "198.51.100.24"),
            ]
        ):
            site.add_comment(post=post, author=name, text=f"<p>{text}</p>",
                             created_at=T0 + timedelta(minutes=minute), author_ip=ip)  # fmt: skip
        channel = WordPressChannel("blog", site.base_url, password, account="acme_team")
        try:
            messages = (await channel.poll({})).messages
        finally:
            await channel.aclose()
    assert [m.author_ip for m in messages] == ["198.51.100.23", "198.51.100.24"]
    s = await store(config(akismet.base_url))
    result = await s.ingest(messages)
    assert result.spam == {1}
    checks = await forms_of(akismet, "comment-check", 2)
    assert [form["user_ip"] for form in checks] == ["198.51.100.23", "198.51.100.24"]
    rows = [*await s.conversation_page(View.SPAM), *await s.conversation_page(View.INBOX)]
    shown = [repr(m) for m in messages] + [repr(row) for row in rows] + [caplog.text]
    assert not [text for text in shown if "198.51.100" in text]
    assert not [path for path in tmp_path.glob("inbox0.db*") if b"198.51.100" in path.read_bytes()]
