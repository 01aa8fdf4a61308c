"""Setting up blog channels: config, tokens, `ecoinbox auth`, build_channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from configs import channel_toml

from ecoinbox.channels import build_channel
from ecoinbox.channels.feed import FeedChannel
from ecoinbox.channels.wordpress import WordPressChannel
from ecoinbox.cli import main
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.secrets import KEYRING_SERVICE, Secret, resolve_token, resolve_token_sync

BRAND = '[brand]\nname = "Acme"\n'


def settings(body: str):
    return parse_config(BRAND + body, Path("test.toml"))


def problems(body: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settings(body)
    return str(info.value).splitlines()


WORDPRESS = channel_toml(kind="wordpress", name="blog", base_url="https://blog.example", account="acme_team")
FEED = channel_toml(kind="feed", name="fans", base_url="https://fans.example")


def test_a_wordpress_channel_needs_its_login():
    [problem] = problems(WORDPRESS.replace('account = "acme_team"\n', ""))
    assert "test.toml:3: channels[0].account: missing (required: the WordPress login" in problem
    channel = settings(WORDPRESS).channels[0]
    assert (channel.auth, channel.needs_token, hasattr(channel, "feeds")) == ("app_password", True, False)


def test_feeds_are_urls_or_paths_and_only_for_feed_channels():
    channel = settings(FEED + 'feeds = ["/comments/feed/", "https://other.example/c.atom?x=1"]\n').channels[0]
    assert channel.feeds == ("/comments/feed/", "https://other.example/c.atom?x=1")
    assert (channel.auth, channel.needs_token) == ("none", False)
    [plain] = problems(FEED + 'feeds = ["http://other.example/feed"]\n')
    assert "channels[0].feeds[0]: plain http to a remote host is refused" in plain
    [creds] = problems(FEED + 'feeds = ["https://u:p@other.example/feed"]\n')
    assert "channels[0].feeds[0]: credentials do not belong in the URL" in creds and "u:p" not in creds
    [elsewhere] = problems(WORDPRESS + 'feeds = ["/comments/feed/"]\n')
    assert "channels[0].feeds: only feed channels read feeds, not wordpress" in elsewhere
    [basic] = problems(FEED + 'auth = "basic"\n')
    assert "channels[0].account: missing" in basic


async def test_a_public_feed_needs_no_secret_and_a_basic_one_does(monkeypatch):
    public = settings(FEED + "keyring = false\n").channels[0]
    assert resolve_token_sync(public).reveal() == "" and (await resolve_token(public)).reveal() == ""
    private = settings(
        FEED + 'auth = "basic"\naccount = "reader"\nkeyring = false\ntoken_env = "FANS_PW"\n'
    ).channels[0]
    monkeypatch.setenv("FANS_PW", "pw-1234")
    assert resolve_token_sync(private).reveal() == "pw-1234"


async def test_build_channel_makes_the_right_channel():
    blog, fans = settings(WORDPRESS + FEED + 'feeds = ["/a/feed/"]\n').channels
    wordpress = build_channel(blog, Secret("abcd efgh ijkl"))
    feed = build_channel(fans, Secret(""))
    try:
        assert isinstance(wordpress, WordPressChannel) and wordpress.account == "acme_team"
        assert isinstance(feed, FeedChannel) and feed.feeds == ("https://fans.example/a/feed/",)
        assert "abcd" not in repr(wordpress)
    finally:
        await wordpress.aclose()
        await feed.aclose()


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(BRAND + f'[store]\npath = "{tmp_path / "inbox.db"}"\n' + body, encoding="utf-8")
    return path


def test_auth_shows_the_application_password_page_and_stores_the_paste(
    tmp_path, capsys, monkeypatch, isolated_environment
):
    monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret("abcd EFGH ijkl MNOP"))
    assert main(["--config", str(write_config(tmp_path, WORDPRESS)), "auth", "blog"]) == 0
    out = capsys.readouterr().out
    assert "https://blog.example/wp-admin/authorize-application.php?app_name=ecoinbox" in out
    assert "Application Passwords" in out and "EFGH" not in out
    assert isolated_environment.passwords[(KEYRING_SERVICE, "blog")] == "abcd EFGH ijkl MNOP"


def test_auth_on_a_public_feed_says_there_is_nothing_to_store(tmp_path, capsys, isolated_environment):
    assert main(["--config", str(write_config(tmp_path, FEED)), "auth", "fans"]) == 0
    assert "needs no password" in capsys.readouterr().out
    assert (KEYRING_SERVICE, "fans") not in isolated_environment.passwords
