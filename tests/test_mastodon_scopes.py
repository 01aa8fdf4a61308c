"""Least privilege: `ecoinbox auth` asks Mastodon for narrow scopes, each one needed by something
the channel does, and together enough for all of it (the local server checks scopes as Mastodon)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecoinbox.channels.base import ChannelError
from ecoinbox.channels.mastodon import SCOPES, MastodonChannel
from ecoinbox.demo.mastodon.server import ALL_SCOPES, MastodonServer
from ecoinbox.model import Message

TOKEN = "scoped-token-0123456789"


def channel_on(server: MastodonServer) -> MastodonChannel:
    return MastodonChannel("masto", server.base_url, TOKEN, account="acme", hashtags=("acmecoffee",),
                           search_terms=("refund",))  # fmt: skip


async def a_mention(server: MastodonServer) -> Message:
    """A mention as the channel knows it, read with a token that may do everything."""
    server.add_status(author="zoe@remote.example", text="refund please #acmecoffee")
    channel = channel_on(server)
    try:
        return (await channel.poll({})).messages[-1]
    finally:
        await channel.aclose()


async def everything_the_channel_does(server: MastodonServer, parent: Message) -> None:
    """Check, poll mentions, hashtags and search, read the thread, reply (with the block check),
    read the reply back. Errors are let go: what counts is what the server refused."""
    channel = channel_on(server)
    since = datetime.now(UTC) - timedelta(minutes=1)
    steps = (
        channel.check, lambda: channel.poll({}), lambda: channel.context(parent.remote_id),
        lambda: channel.reply(parent, "On it!", "key-1"), lambda: channel.find_sent(parent, "On it!", "", since),
    )  # fmt: skip
    try:
        for step in steps:
            try:
                await step()
            except ChannelError:
                pass
    finally:
        await channel.aclose()


@pytest.mark.parametrize("missing", [None, *SCOPES.split()])
async def test_every_scope_asked_for_is_needed_and_together_they_are_enough(missing: str | None) -> None:
    async with MastodonServer(seed=None, token=TOKEN) as server:
        server.set_token(TOKEN, ALL_SCOPES)
        parent = await a_mention(server)
        server.set_token(TOKEN, " ".join(scope for scope in SCOPES.split() if scope != missing))
        await everything_the_channel_does(server, parent)
    if missing is None:
        assert server.refused_scopes == []
        assert [p.text for p in server.posted] == ["On it!"]
    else:
        assert server.refused_scopes, f"nothing the channel does needs {missing}: do not ask for it"


def test_the_scopes_are_narrow() -> None:
    assert not {"read", "write", "follow", "push"} & set(SCOPES.split())
