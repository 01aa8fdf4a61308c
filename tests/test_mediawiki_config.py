"""The mediawiki unit's settings: what a wiki channel needs, refused in words with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from configs import channel_toml

from ecoinbox.channels.mediawiki.unit import MediaWikiSettings
from ecoinbox.config import ConfigError, parse_config

SOURCE = Path("/etc/acme/config.toml")
BRAND = '[brand]\nname = "Acme"\n'
WIKI = {
    "kind": "mediawiki",
    "name": "wiki",
    "base_url": "https://wiki.acme.example/w",
    "account": "Acme@ecoinbox",
}


def problems(**values: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(BRAND + channel_toml(**{**WIKI, **values}), SOURCE)
    return str(info.value).splitlines()


def test_a_wiki_channel_reads_its_pages_and_namespaces():
    settings = parse_config(BRAND + channel_toml(**WIKI, pages=["Talk:Acme_X2", "Talk:Acme X2/fr"],
                                                 namespaces=[1, 5]), SOURCE)  # fmt: skip
    (wiki,) = settings.channels
    assert isinstance(wiki, MediaWikiSettings)
    assert wiki.pages == ("Talk:Acme X2", "Talk:Acme X2/fr") and wiki.namespaces == (1, 5)
    assert wiki.account == "Acme@ecoinbox" and wiki.auth == "bot_password"


def test_a_bot_password_needs_its_login_name_and_oauth2_does_not():
    assert problems(account=None, pages=["Talk:Acme X2"]) == [
        (
            "/etc/acme/config.toml:3: channels[0].account: missing (required with a bot password: its login "
            'name, e.g. "Acme@ecoinbox", as Special:BotPasswords shows it)'
        )
    ]
    settings = parse_config(
        BRAND + channel_toml(**{**WIKI, "account": None}, auth="oauth2", pages=["Talk:X"]), SOURCE
    )
    assert settings.channels[0].auth == "oauth2"


def test_titles_namespaces_and_something_to_follow_are_checked():
    said = "\n".join(problems(pages=["Talk:Acme#Battery"], namespaces=["talk"]))
    assert 'channels[0].pages[0]: a page title such as "Talk:Acme X2"' in said
    assert "channels[0].namespaces: expected a list of namespace numbers" not in said
    assert "channels[0].namespaces[0]: a namespace number" in said
    assert problems()[0].endswith("channels[0].pages: missing: name talk pages to follow "
                                  '(e.g. ["Talk:Acme X2"]) or namespaces')  # fmt: skip


def test_pages_belong_to_wiki_channels_only():
    mastodon = {"kind": "mastodon", "name": "social", "base_url": "https://social.example", "account": None}
    assert problems(**mastodon, pages=["Talk:Acme X2"]) == [
        "/etc/acme/config.toml:7: channels[0].pages: only mediawiki channels use pages (this one is mastodon)"
    ]
