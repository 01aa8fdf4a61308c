"""A revoked token pauses its channel: no retry storm, replies wait without burning attempts, and
it resumes when the manager asks (R) or when the token source gives a new token."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from stack import TOKEN, running_stack, wait_until
from textual.widgets import Static

from ecoinbox.channels.base import RenewableChannel
from ecoinbox.channels.discourse import DiscourseChannel
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.engine import Engine
from ecoinbox.model import OutboxState, View
from ecoinbox.secrets import Secret, TokenSource, resolve_token, token_source
from ecoinbox.store import open_store
from ecoinbox.tui.app import EcoInboxApp

NEW_TOKEN = "renewed-token-9876543210"


@dataclass
class RotatingSource:
    """The channel's token source as the engine sees it; the test renews the token."""

    token: str = TOKEN
    calls: int = 0
    hint: str = "run `ecoinbox auth mastodon`"

    async def resolve(self) -> Secret:
        self.calls += 1
        return Secret(self.token)

    def source(self) -> TokenSource:
        return TokenSource(self.resolve, self.hint)


@dataclass
class Setup:
    server: MastodonServer
    engine: Engine
    store: object
    tokens: RotatingSource = field(default_factory=RotatingSource)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    server = MastodonServer(seed=None, token=TOKEN)
    await server.start()
    store = await open_store(tmp_path / "inbox.db")
    tokens = RotatingSource()
    channel = MastodonChannel("mastodon", server.base_url, TOKEN, account="acme", timeout=5)
    # Polls every 10 ms and re-reads the token every 10 ms: a long day, compressed.
    engine = Engine(store, {"mastodon": channel}, poll_intervals={"mastodon": 0.01},
                    token_sources={"mastodon": tokens.source()}, token_recheck=0.01)  # fmt: skip
    try:
        yield Setup(server, engine, store, tokens)
    finally:
        await engine.stop()
        await store.close()
        await server.stop()


async def queue_a_reply(setup: Setup):
    setup.server.add_status(author="zoe@remote.example", text="@acme my order never arrived")
    await setup.engine.poll_channel("mastodon")
    (row,) = await setup.store.conversation_page(View.INBOX)
    thread = await setup.store.conversation(row.id)
    return await setup.store.queue_reply(row.id, thread.messages[-1].message, "@zoe@remote.example on it!")


def refused(server: MastodonServer, since: int) -> list[str]:
    """The requests made with the revoked token since request number `since`."""
    return [
        f"{r.method} {r.path}"
        for r in server.requests[since:]
        if r.headers.get("Authorization") == f"Bearer {TOKEN}"
    ]


async def wait_paused_for_a_while(setup: Setup, rechecks: int) -> int:
    """Wait until the engine re-read the token `rechecks` more times; return the requests made
    meanwhile (each recheck is at least one poll interval apart)."""
    await wait_until(lambda: setup.engine.statuses["mastodon"].state == "paused")
    await wait_until(_nothing_in_flight(setup))  # a send that raced the pause has its answer
    before, start = len(setup.server.requests), setup.tokens.calls
    await wait_until(lambda: setup.tokens.calls >= start + rechecks)
    return len(setup.server.requests) - before


async def test_a_revoked_token_pauses_the_channel_without_a_retry_storm_and_resumes_with_a_new_one(setup):
    item = await queue_a_reply(setup)
    setup.server.set_token(NEW_TOKEN)  # revoked on the platform; the manager renews it later
    revoked_at = len(setup.server.requests)
    await setup.engine.start()

    assert await wait_paused_for_a_while(setup, rechecks=50) == 0  # 50+ poll intervals, no request
    # The poll that found out and, if the sender was quicker than the pause, one refused send
    # (its first request: whether the parent's author blocks the brand).
    refused_now = sorted(refused(setup.server, revoked_at))
    assert refused_now in (
        ["GET /api/v1/notifications"],
        ["GET /api/v1/accounts/relationships", "GET /api/v1/notifications"],
    )
    status = setup.engine.statuses["mastodon"]
    assert status.detail == "token refused (401): run `ecoinbox auth mastodon`" and status.next_poll is None
    (waiting,) = await setup.store.outbox_items()
    assert waiting.state is OutboxState.QUEUED and waiting.attempts == 0  # held, no attempt burned
    if len(refused_now) > 1:  # the send was refused itself: it says why it waits
        assert "token for channel mastodon was refused" in waiting.error
    assert setup.server.posted == []

    setup.tokens.token = NEW_TOKEN  # e.g. `ecoinbox auth mastodon` stored a new one
    await wait_until(lambda: setup.engine.statuses["mastodon"].state == "ok")
    await wait_until(lambda: _state_of(setup, item.id, OutboxState.SENT))
    assert len(setup.server.posted) == 1 and setup.server.posted[0].idempotency_key == item.idempotency_key
    (post,) = [r for r in setup.server.requests if r.method == "POST" and r.path == "/api/v1/statuses"
               and r.headers["Authorization"] == f"Bearer {NEW_TOKEN}"]  # fmt: skip
    assert post is not None


def _nothing_in_flight(setup: Setup):
    async def check() -> bool:
        return all(i.state is not OutboxState.SENDING for i in await setup.store.outbox_items())

    return check


async def _state_of(setup: Setup, item_id: int, state: OutboxState) -> bool:
    return any(i.id == item_id and i.state is state for i in await setup.store.outbox_items())


async def test_poll_now_retries_once_and_resumes_when_the_platform_accepts_the_token_again(setup):
    item = await queue_a_reply(setup)
    setup.server.set_token(NEW_TOKEN)
    await setup.engine.start()
    await wait_paused_for_a_while(setup, rechecks=5)

    before = len(setup.server.requests)
    failures = setup.engine.statuses["mastodon"].failures
    setup.engine.poll_now("mastodon")  # R, with the token still refused: one request, paused again
    await wait_until(lambda: setup.engine.statuses["mastodon"].failures == failures + 1)
    assert await wait_paused_for_a_while(setup, rechecks=20) == 0
    assert len(setup.server.requests) == before + 1

    setup.server.set_token(TOKEN)  # the admin lifted the suspension: the same token works again
    setup.engine.poll_now()
    await wait_until(lambda: _state_of(setup, item.id, OutboxState.SENT))
    assert setup.engine.statuses["mastodon"].state == "ok"
    assert len(setup.server.posted) == 1


async def test_a_reply_refused_while_the_token_works_fails_instead_of_looping(setup):
    """403 on one reply (not allowed there) with a token that polls fine: one check, then the
    reply fails with the platform's reason; the channel goes on."""
    item = await queue_a_reply(setup)
    setup.server.inject(
        "/api/v1/statuses", status=403, body='{"error":"This action is not allowed"}', times=50
    )
    await setup.engine.start()
    await wait_until(lambda: _state_of(setup, item.id, OutboxState.FAILED))
    (failed,) = await setup.store.outbox_items()
    assert "This action is not allowed" in failed.error
    posts = [r for r in setup.server.requests if r.method == "POST"]
    assert len(posts) == 2  # the first refusal is held and checked with a poll, the second is final
    assert setup.engine.statuses["mastodon"].state == "ok"
    assert "mastodon" not in setup.engine.sender.paused


@pytest.mark.parametrize(("keymap", "key"), [("", "R"), ('keys = { "inbox.poll_now" = "ctrl+r" }', "ctrl+r")])
async def test_the_status_line_shows_the_pause_and_how_to_fix_it(tmp_path, keymap, key):
    async with running_stack(tmp_path, extra_ui=keymap) as stack:
        stack.server.set_token(NEW_TOKEN)
        app = EcoInboxApp(stack.settings, stack.store, stack.engine)
        notified: list[tuple[str, object]] = []
        show = app.notify

        def notify(message: str, **kwargs: object) -> None:
            notified.append((message, kwargs.get("severity")))
            show(message, **kwargs)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]
        async with app.run_test(size=(160, 30)) as pilot:
            await stack.engine.start()
            await wait_until(lambda: stack.engine.statuses["mastodon"].state == "paused", pilot=pilot)
            await pilot.pause()
            line = str(app.inbox.query_one("#status", Static).render())
            hint = f"mastodon: paused (token refused (401): run `ecoinbox auth mastodon`, then press {key})"
            assert hint in line
            told = [severity for message, severity in notified if f"then press {key}." in message]
            assert told == ["error"]  # once, in full, as an error
            stack.server.set_token(TOKEN)
            await pilot.press(key)
            await wait_until(lambda: stack.engine.statuses["mastodon"].state == "ok", pilot=pilot)
            await pilot.pause()
            assert "paused" not in str(app.inbox.query_one("#status", Static).render())


async def test_an_uncertain_reply_is_not_checked_against_a_refused_key(tmp_path):
    """Reading the thread back (Discourse) with a refused key: the reply stays uncertain, with
    its explanation, no attempt counted, and the channel's outbox waits."""
    async with DiscourseServer(seed=None, user_api_key=TOKEN) as forum:
        store = await open_store(tmp_path / "inbox.db")
        channel = DiscourseChannel("forum", forum.base_url, TOKEN, timeout=5)
        engine = Engine(store, {"forum": channel}, leased=False)  # the test drives the sender
        try:
            forum.add_topic(author="sarah", title="Where is my parcel?", raw="@acme_team any news?",
                            mention_brand=True)  # fmt: skip
            await engine.poll_channel("forum")
            await channel.capabilities()
            (row,) = await store.conversation_page(View.INBOX)
            thread = await store.conversation(row.id)
            await store.queue_reply(row.id, thread.messages[-1].message, "It is on its way!")
            lost = await store.claim_next_reply("the process that died mid-send")
            why = "ecoinbox stopped while this reply was being sent"
            await store.reply_unknown(lost, why, check_at=lost.created_at)
            refused = '{"errors":["The API username or key is invalid."],"error_type":"invalid_access"}'
            forum.inject("/", status=403, body=refused, times=100)
            before = len(forum.requests)
            await engine.sender.send_due()
            await engine.sender.send_due()
            (item,) = await store.outbox_items()
        finally:
            await engine.stop()
            await store.close()
    assert item.state is OutboxState.UNKNOWN and item.attempts == 1
    assert item.error == "ecoinbox stopped while this reply was being sent"
    assert engine.sender.paused == {"forum"}
    assert len(forum.requests) - before == 1  # one refused read, then nothing


# --- the pieces ------------------------------------------------------------------------------


async def test_channels_swap_their_token_in_place(tmp_path):
    async with MastodonServer(seed=None, token=NEW_TOKEN) as mastodon, \
            DiscourseServer(seed=None, user_api_key=NEW_TOKEN) as forum:  # fmt: skip
        channels = [
            MastodonChannel("mastodon", mastodon.base_url, TOKEN, account="acme", timeout=5),
            DiscourseChannel("forum", forum.base_url, TOKEN, timeout=5),
        ]
        try:
            for channel in channels:
                assert isinstance(channel, RenewableChannel)
                assert channel.set_token(f" {TOKEN}\n") is False and channel.set_token("  ") is False
                assert channel.set_token(NEW_TOKEN) is True
                assert "@" in await channel.check()
        finally:
            for channel in channels:
                await channel.aclose()
    assert mastodon.requests[-1].headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    assert forum.requests[-1].headers["User-Api-Key"] == NEW_TOKEN


def channel_settings(tmp_path: Path, extra: str):
    text = f"""[brand]\nname = "Acme"\n[[channels]]\nkind = "mastodon"\nname = "mastodon"
base_url = "https://social.example"\n{extra}\n"""
    return parse_config(text, tmp_path / "config.toml").channels[0]


def test_the_hint_follows_where_the_token_comes_from(tmp_path):
    assert token_source(channel_settings(tmp_path, "")).hint == "run `ecoinbox auth mastodon`"
    cmd = channel_settings(tmp_path, 'token_cmd = ["/usr/bin/pass", "show", "ecoinbox/mastodon"]')
    assert token_source(cmd).hint == "update the token `pass` prints"
    env = channel_settings(tmp_path, 'keyring = false\ntoken_env = "MASTODON_TOKEN"')
    assert token_source(env).hint == "restart ecoinbox with a new $MASTODON_TOKEN"


SHOW_TERMINAL = """import os
print(f"sid{int(os.getsid(0) == os.getpid())}-{os.environ.get('GPG_TTY', 'none')}-token")
"""


async def test_rereading_a_token_cmd_never_reaches_the_terminal(tmp_path, monkeypatch):
    """While the TUI owns the terminal a token_cmd runs in a session of its own, without
    GPG_TTY, so a passphrase prompt cannot draw over the inbox."""
    script = tmp_path / "show_terminal.py"
    script.write_text(SHOW_TERMINAL)
    monkeypatch.setenv("GPG_TTY", "/dev/pts/7")
    channel = channel_settings(tmp_path, f'token_cmd = ["{sys.executable}", "{script}"]')
    assert (await resolve_token(channel)).reveal() == "sid0-/dev/pts/7-token"
    assert (await token_source(channel).resolve()).reveal() == "sid1-none-token"


async def test_r_reads_the_token_source_again_while_the_channel_still_works(setup):
    """token_cmd now prints a new token (rotated by the admin) while the old one still works:
    R makes the channel use it, no restart needed."""
    setup.engine.poll_intervals["mastodon"] = 3600.0  # only R polls
    await setup.engine.start()
    await wait_until(lambda: setup.engine.statuses["mastodon"].state == "ok")
    setup.tokens.token = NEW_TOKEN
    calls = setup.tokens.calls
    setup.engine.poll_now("mastodon")
    await wait_until(lambda: setup.tokens.calls > calls)
    channel = setup.engine.channels["mastodon"]
    assert isinstance(channel, RenewableChannel)
    assert channel.set_token(NEW_TOKEN) is False  # already the one in use
