"""How a reply starts on its channel, headless: what the reply box and `f` are given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ecoinbox.channels.base import Capabilities
from ecoinbox.channels.mastodon import MastodonChannel
from ecoinbox.config import parse_config
from ecoinbox.model import Author, Message, Origin
from ecoinbox.replying import DEFAULT_MAX_LENGTH, forum_channel, reply_draft, reply_language

CONFIG = """
[brand]
name = "Acme"
handles = ["acme@social.example"]

[[channels]]
kind = "mastodon"
name = "masto"
base_url = "http://127.0.0.1:9"
account = "acme"

[[channels]]
kind = "discourse"
name = "forum"
base_url = "http://127.0.0.1:9"
account = "acme_team"

[forum]
channel = "forum"
url = "https://forum.example"

[[canned]]
name = "refund"
text = "Sorry {author_name}: {link}"
link = "{forum_url}/t/refunds/12"
"""

ZOE = Author("masto", "1", "zoe@remote.example", "Zoé")


def parent(**extra: object) -> Message:
    return Message(channel="masto", remote_id="9", author=ZOE, text="my refund?", origin=Origin.MENTION,
                   created_at=datetime(2026, 11, 1, tzinfo=UTC), **extra)  # type: ignore[arg-type]  # fmt: skip


async def test_a_reply_starts_with_the_channel_prefix_limit_visibility_and_filled_values():
    settings = parse_config(CONFIG, Path("config.toml"))
    channel = MastodonChannel("masto", "http://127.0.0.1:9", "token", account="acme")
    try:
        channels = {"masto": channel}
        draft = reply_draft(settings, channels, {"masto": Capabilities(max_length=1000)}, parent(
            visibility="unlisted", language="fr"), "fr")  # fmt: skip
        assert draft is not None
        assert draft.prefix == "@zoe@remote.example "
        assert draft.max_length == 1000 and draft.count("x" * 40 + " https://a.example/" + "y" * 60) == 64
        assert (draft.visibility, draft.visibilities) == (
            "unlisted",
            ("public", "unlisted", "private", "direct"),
        )
        assert draft.values["author_name"] == "Zoé" and draft.values["forum_url"] == "https://forum.example"
        assert [reply.name for reply in draft.canned] == ["refund"] and draft.language == "fr"
        assert draft.headers is None  # a mail's headers: Mastodon has none

        # A scope the channel does not offer (Akkoma's "local") is kept, never chosen instead.
        local = reply_draft(settings, channels, {}, parent(visibility="local"))
        assert local is not None
        assert (local.visibility, local.visibilities) == ("local", ("local",))
        assert local.max_length == DEFAULT_MAX_LENGTH  # the server has not said its limit yet
        assert reply_language(parent(language="pt-br")) == "pt-br"

        # Not running here (the engine runs in another window): nothing to start a reply with.
        assert reply_draft(settings, {}, {}, parent()) is None
        assert forum_channel(settings, channels) is None
        assert forum_channel(settings, {**channels, "forum": channel}) is channel
    finally:
        await channel.aclose()
