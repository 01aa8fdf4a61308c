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


def test_auth_signs_in_once_with_the_pasted_bot_password_before_storing_it(
    tmp_path, capsys, monkeypatch, isolated_environment
) -> None:
    from test_cli import server_in_a_thread, write_config

    from ecoinbox.cli import main
    from ecoinbox.demo.mediawiki.server import WikiServer
    from ecoinbox.secrets import KEYRING_SERVICE, Secret

    password = "abcdefghijklmnopqrstuvw012345678"
    with server_in_a_thread(WikiServer(bot_logins={"Acme@ecoinbox": password})) as wiki:
        path = write_config(
            tmp_path, channel_toml(**{**WIKI, "base_url": wiki.base_url}, pages=["Talk:Acme X2"])
        )
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret("b" * 32))
        assert main(["--config", str(path), "auth", "wiki"]) == 1
        refused = capsys.readouterr()
        assert "not stored:" in refused.err and "Special:BotPasswords" in refused.err
        assert "b" * 32 not in refused.out + refused.err
        assert (KEYRING_SERVICE, "wiki") not in isolated_environment.passwords
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret(password))
        assert main(["--config", str(path), "auth", "wiki"]) == 0
    assert isolated_environment.passwords[(KEYRING_SERVICE, "wiki")] == password
    out = capsys.readouterr().out
    assert "Special:BotPasswords" in out and "Signed in as Acme." in out and password not in out
