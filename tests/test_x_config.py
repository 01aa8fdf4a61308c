"""An X channel's settings: read and checked with their line numbers, refused elsewhere, built."""

from __future__ import annotations

import pytest
from configs import channel_toml, config_toml

from ecoinbox.channels import build_channel
from ecoinbox.channels.x import XChannel
from ecoinbox.channels.x.unit import X_API_URL, X_AUTH_URL, X_REDIRECT_URI, XSettings
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.secrets import Secret


def x_config(**overrides: object) -> str:
    values: dict[str, object] = {"kind": "x", "name": "x", "base_url": None, "account": "acme",
                                 "client_id": "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"}  # fmt: skip
    values.update(overrides)
    return config_toml(channel_toml(**values))


def test_an_x_channel_reads_with_its_defaults() -> None:
    [channel] = parse_config(x_config(hashtags=["acme"], daily_reads=250, direct_messages=True)).channels
    assert isinstance(channel, XSettings)
    assert (channel.base_url, channel.auth_url, channel.redirect_uri) == (
        X_API_URL,
        X_AUTH_URL,
        X_REDIRECT_URI,
    )
    assert (channel.auth, channel.daily_reads, channel.hashtags) == ("oauth", 250, ("acme",))
    built = build_channel(channel, Secret("refresh-token-abcdefgh"), None)
    assert isinstance(built, XChannel) and built.budget.limit == 250 and "refresh" not in repr(built)
    assert built.dms is not None and channel.direct_messages


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"client_id": None}, "channels[0].client_id: missing (required for x"),
        ({"account": None}, "channels[0].account: missing (required for x"),
        ({"redirect_uri": "https://example.com/cb"}, "channels[0].redirect_uri: expected a loopback address"),
        ({"redirect_uri": "http://127.0.0.1:8080/cb?x=1"}, "a redirect URI has no query"),
        ({"redirect_uri": "http://localhost:8080/cb"}, 'X refuses "localhost" here: use 127.0.0.1'),
        ({"daily_reads": 5}, "channels[0].daily_reads: at least 10"),
        ({"daily_reads": "lots"}, "channels[0].daily_reads: expected a whole number of posts a day"),
        ({"direct_messages": "yes"}, "channels[0].direct_messages: expected true or false"),
        ({"auth": "app_password"}, "'app_password' is not an auth mode of x (allowed: oauth)"),
    ],
)
def test_an_x_channel_s_mistakes_are_said_with_their_line(overrides: dict[str, object], said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(x_config(**overrides))
    assert said in str(refused.value)
    assert "<config>:" in str(refused.value)


def test_x_settings_are_refused_in_another_platform_s_channel() -> None:
    with pytest.raises(
        ConfigError, match=r"daily_reads: only x channels use daily_reads \(this one is mastodon\)"
    ):
        parse_config(config_toml(channel_toml(daily_reads=100)))


def test_auth_asks_for_direct_messages_only_where_they_are_on() -> None:
    from ecoinbox.channels import registry

    unit = registry.unit("x")
    [plain] = parse_config(x_config()).channels
    [direct] = parse_config(x_config(direct_messages=True)).channels
    assert "dm.read" not in unit.what_it_asks_for(plain, False)
    assert "dm.read dm.write" in unit.what_it_asks_for(direct, False)
    assert "direct messages" in unit.what_it_asks_for(direct, False)
