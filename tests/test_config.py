"""The config file: the example parses and documents everything; every error names file, line, key."""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from configs import channel_toml, to_toml, toml_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecoinbox import config
from ecoinbox.config import (
    KINDS,
    ChannelSettings,
    ConfigError,
    Settings,
    load_config,
    locate_keys,
    parse_config,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
SOURCE = Path("/etc/acme/config.toml")

MINIMAL = '[brand]\nname = "Acme"\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, SOURCE)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    return lines


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


# --- the example ---------------------------------------------------------------------------


def test_example_parses_with_a_working_mastodon_channel_and_forum() -> None:
    settings = load_config(EXAMPLE)
    assert settings.source == EXAMPLE
    assert settings.brand.name == "Acme"
    channel, forum = settings.channels
    assert (forum.kind, forum.auth) == ("discourse", "user_api_key")
    assert settings.forum is not None and settings.forum.channel == forum.name
    assert [reply.name for reply in settings.canned] == ["refund"]
    assert channel.kind == "mastodon"
    assert channel.name == "mastodon"
    assert channel.base_url.startswith("https://")
    assert channel.keyring is True
    assert settings.ui == config.UiSettings(keys=settings.ui.keys)  # the example shows the defaults
    assert dict(settings.ui.keys) == {}


def _section_text(example: str, header: str) -> str:
    """The lines from `header` to the next header that is not one of its sub-tables."""
    lines = example.splitlines()
    start = lines.index(header)
    name = header.strip("[]")
    end = len(lines)
    for number in range(start + 1, len(lines)):
        line = lines[number].strip()
        if line.startswith("[") and not line.strip("[]").startswith(name + "."):
            end = number
            break
    return "\n".join(lines[start:end])


SECTION_HEADERS = {
    "brand": "[brand]",
    "ui": "[ui]",
    "store": "[store]",
    "engine": "[engine]",
    "channels": "[[channels]]",
    "forum": "[forum]",
    "replies": "[replies]",
    "canned": "[[canned]]",
    "views": "[[views]]",
    "team": "[team]",
    "rules": "[[rules]]",
    "screening": "[screening]",
}


def _canned_class() -> type:
    from ecoinbox.replies import CannedReply

    return CannedReply


@pytest.mark.parametrize("section", sorted(SECTION_HEADERS))
def test_example_documents_every_setting_with_a_comment(section: str) -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    header = SECTION_HEADERS[section]
    text = _section_text(example, header)
    section_class = {
        "brand": config.BrandSettings,
        "ui": config.UiSettings,
        "store": config.StoreSettings,
        "engine": config.EngineSettings,
        "channels": ChannelSettings,
        "forum": config.ForumSettings,
        "replies": config.RepliesSettings,
        "canned": _canned_class(),
        "views": config.ViewSettings,
        "team": config.TeamSettings,
        "rules": config.RuleSettings,
        "screening": config.ScreeningSettings,
    }[section]
    lines = text.splitlines()
    for settings_field in dataclasses.fields(section_class):
        name = settings_field.name
        pattern = re.compile(rf"^\s*(#\s*)?(\[{re.escape(section)}\.{name}\]|{name}\s*=)")
        found = [number for number, line in enumerate(lines) if pattern.match(line)]
        assert found, f"{section}.{name} is not in config.example.toml"
        number = found[0]
        previous = lines[number - 1].strip() if number > 0 else ""
        assert "#" in lines[number].split("=", 1)[-1] or previous.startswith("#"), (
            f"{section}.{name} has no comment explaining it"
        )


@pytest.mark.parametrize("part", ["match", "actions"])
def test_example_documents_every_rule_condition_and_action(part: str) -> None:
    text = _section_text(EXAMPLE.read_text(encoding="utf-8"), f"[rules.{part}]")
    lines = text.splitlines()
    part_class = {"match": config.RuleMatch, "actions": config.RuleActions}[part]
    for settings_field in dataclasses.fields(part_class):
        name = settings_field.name
        found = [n for n, line in enumerate(lines) if re.match(rf"^\s*(#\s*)?{name}\s*=", line)]
        assert found, f"rules.{part}.{name} is not in config.example.toml"
        assert lines[found[0] - 1].strip().startswith("#"), f"rules.{part}.{name} has no comment"


def test_every_settings_section_is_in_the_example() -> None:
    sections = {f.name for f in dataclasses.fields(Settings)} - {"source"}
    assert sections == set(SECTION_HEADERS)


def test_every_setting_has_a_docstring() -> None:
    for cls in (
        config.BrandSettings,
        config.UiSettings,
        config.StoreSettings,
        config.EngineSettings,
        ChannelSettings,
        config.ForumSettings,
        config.RepliesSettings,
        config.ViewSettings,
        config.RuleSettings,
        config.RuleMatch,
        config.RuleActions,
        config.ScreeningSettings,
        config.SpamAssassinSettings,
        config.AkismetSettings,
        Settings,
    ):
        assert cls.__doc__
        source = Path(inspect.getsourcefile(cls) or "").read_text(encoding="utf-8")  # config is a package
        body = source[source.index(f"class {cls.__name__}:") :]
        for settings_field in dataclasses.fields(cls):
            match = re.search(rf"\n    {settings_field.name}: [^\n]*\n    \"\"\"", body)
            assert match, f"{cls.__name__}.{settings_field.name} has no docstring"


# --- good files ------------------------------------------------------------------------------


def test_minimal_config_gets_defaults() -> None:
    settings = parse_config(MINIMAL, SOURCE)
    assert settings.channels == ()
    assert settings.ui.layout == "auto"
    assert settings.ui.animation is False
    assert settings.engine.outbox_retry_max == 600
    assert settings.store.path is None
    assert settings.data_path.name == "ecoinbox.db"


def test_store_path_expands_home_and_is_relative_to_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    home = parse_config(MINIMAL + '[store]\npath = "~/inbox.db"\n', SOURCE)
    assert home.data_path == tmp_path / "inbox.db"
    relative = parse_config(MINIMAL + '[store]\npath = "data/inbox.db"\n', SOURCE)
    assert relative.data_path == SOURCE.parent / "data" / "inbox.db"


def test_keymap_accepts_quoted_dotted_binding_ids() -> None:
    settings = parse_config(MINIMAL + '[ui.keys]\n"inbox.reply" = "r,ctrl+r"\n"inbox.done" = " e "\n', SOURCE)
    assert dict(settings.ui.keys) == {"inbox.reply": "r,ctrl+r", "inbox.done": "e"}
    hash(settings)  # frozen settings stay hashable with a keymap inside


def test_channel_values_are_normalised() -> None:
    settings = parse_config(
        MINIMAL
        + channel_toml(base_url="https://social.example/", hashtags=["#acme", "widgets"], poll_interval=30),
        SOURCE,
    )
    [channel] = settings.channels
    assert channel.base_url == "https://social.example"
    assert channel.hashtags == ("acme", "widgets")
    assert channel.poll_interval == 30.0 and isinstance(channel.poll_interval, float)
    assert settings.channel("mastodon") is channel


def test_plain_http_to_loopback_is_allowed_with_a_fast_demo_poll() -> None:
    for host in ("127.0.0.1:8080", "127.4.5.6", "localhost:3000", "[::1]:8080"):
        settings = parse_config(MINIMAL + channel_toml(base_url=f"http://{host}", poll_interval=1), SOURCE)
        assert settings.channels[0].is_loopback


def test_zero_channels_is_valid() -> None:
    assert parse_config("channels = []\n" + MINIMAL, SOURCE).channels == ()


def test_a_top_level_key_after_a_table_gets_a_hint() -> None:
    [message] = problems(MINIMAL + "channels = []\n")
    assert message.startswith(f"{SOURCE}:3: brand.channels: unknown setting (channels is a top-level setting")


# --- errors ------------------------------------------------------------------------------------


def test_bad_toml_names_the_line() -> None:
    text = MINIMAL + "[ui]\nlayout = auto\n"
    [message] = problems(text)
    assert message.startswith(f"{SOURCE}:4: invalid TOML: ")
    assert "line 4" not in message  # the line is in front, not repeated in tomllib's words


def test_duplicate_key_names_the_second_line() -> None:
    [message] = problems(MINIMAL + 'name = "Again"\n')
    assert message == f"{SOURCE}:3: invalid TOML: key 'brand.name' is set twice"


def test_duplicate_key_reported_at_the_end_is_located() -> None:
    [message] = problems(MINIMAL + "[ui]\nlayout = 'side'\n\nlayout = 'below'\n")
    assert message == f"{SOURCE}:6: invalid TOML: key 'ui.layout' is set twice"


def test_unknown_key_suggests_the_right_one_on_its_line() -> None:
    text = MINIMAL + channel_toml(poll_intervall=30)
    [message] = problems(text)
    assert message == (
        f"{SOURCE}:{line_of(text, 'poll_intervall')}: channels[0].poll_intervall: "
        "unknown setting (did you mean 'poll_interval'?)"
    )


@pytest.mark.parametrize("key", ["verify", "insecure", "ssl_verify", "verify_ssl", "tls_verify",
                                 "insecure_skip_verify", "ca_bundle", "ca_cert"])  # fmt: skip
@pytest.mark.parametrize("where", ["channel", "engine"])
def test_there_is_no_setting_that_turns_tls_verification_off(key: str, where: str) -> None:
    snippet = channel_toml(**{key: False}) if where == "channel" else f"[engine]\n{key} = false\n"
    [message] = problems(MINIMAL + snippet)
    assert f"{key}: unknown setting (TLS certificates are always verified" in message
    assert "export SSL_CERT_FILE=" in message


def test_proxies_are_not_a_setting_but_the_environment() -> None:
    [message] = problems(MINIMAL + channel_toml(proxy="http://proxy.example:3128"))
    assert message.endswith(
        "unknown setting (proxies come from the environment: HTTPS_PROXY, HTTP_PROXY and NO_PROXY)"
    )


def test_unknown_key_in_the_wrong_section_points_at_its_section() -> None:
    [message] = problems(MINIMAL + "[engine]\npoll_interval = 5\n")
    assert (
        message
        == f"{SOURCE}:4: engine.poll_interval: unknown setting (poll_interval belongs in [[channels]])"
    )


def test_unknown_table_suggests_the_right_one() -> None:
    text = '[brnad]\nname = "Acme"\n'
    lines = problems(text)
    assert f"{SOURCE}:1: brnad: unknown table (did you mean 'brand'?)" in lines
    assert f"{SOURCE}: brand.name: missing (required)" in lines


@pytest.mark.parametrize(
    ("snippet", "key", "message"),
    [
        ('[ui]\nsnippet_length = "120"', "ui.snippet_length", "expected an integer, got a string"),
        ("[ui]\nsnippet_length = 12.5", "ui.snippet_length", "expected an integer, got a float"),
        ("[ui]\nsnippet_length = 5", "ui.snippet_length", "must be between 20 and 1000"),
        ("[ui]\nanimation = 1", "ui.animation", "expected true or false, got an integer"),
        ('[ui]\nlayout = "sideways"', "ui.layout", "unknown layout 'sideways'"),
        ("[engine]\noutbox_retry_max = true", "engine.outbox_retry_max", "got a boolean"),
        (
            "[engine]\noutbox_retry_max = -1",
            "engine.outbox_retry_max",
            "must be a positive number of seconds",
        ),
        ('[ui.keys]\n"inbox.reply" = 3', 'ui.keys."inbox.reply"', "expected a string of keys"),
        ("[store]\npath = 3", "store.path", "expected a string, got an integer"),
        ("[engine]\nengine = 3", "engine.engine", "engine is a top-level setting"),
    ],
)
def test_wrong_types_name_key_and_type(snippet: str, key: str, message: str) -> None:
    text = MINIMAL + snippet + "\n"
    [line] = problems(text)
    number = len(text.splitlines())
    assert line.startswith(f"{SOURCE}:{number}: {key}: ")
    assert message in line


def test_int_for_a_list_is_refused() -> None:
    text = '[brand]\nname = "Acme"\nhandles = 3\n'
    assert problems(text) == [f"{SOURCE}:3: brand.handles: expected a list of strings, got an integer"]


def test_a_bad_list_item_is_named_by_index() -> None:
    text = '[brand]\nname = "Acme"\nkeywords = ["acme", 7]\n'
    assert problems(text) == [f"{SOURCE}:3: brand.keywords[1]: expected a string, got an integer"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("poll_interval", True, "expected a number of seconds, got a boolean"),
        ("poll_interval", "60", "expected a number of seconds, got a string"),
        ("poll_interval", 2, "must be at least 5 seconds"),
        ("poll_interval", math.nan, "must be a positive number of seconds"),
        ("timeout", 0, "must be a positive number of seconds"),
        ("timeout", math.inf, "must be a positive number of seconds"),
        ("include_filtered", "yes", "expected true or false, got a string"),
        ("keyring", 1, "expected true or false, got an integer"),
        ("token_cmd", "pass show x", "expected a list: the command and its arguments"),
        ("token_cmd", [], "must name a command"),
        ("token_env", "MY-TOKEN VAR", "not a valid environment variable name"),
        ("hashtags", ["two words"], "a hashtag is one word"),
        ("search", "acme", "expected a list of strings, got a string"),
        ("account", 5, "expected a string, got an integer"),
    ],
)
def test_wrong_channel_values(key: str, value: object, message: str) -> None:
    text = MINIMAL + channel_toml(**{key: value})
    [line] = problems(text)
    assert f":{line_of(text, key + ' =')}: channels[0].{key}" in line
    assert message in line


def test_missing_required_fields() -> None:
    text = MINIMAL + channel_toml(kind=None, name=None, base_url=None, hashtags=["acme"])
    header = line_of(text, "[[channels]]")
    assert problems(text) == [
        f"{SOURCE}:{header}: channels[0].kind: missing (required)",
        f"{SOURCE}:{header}: channels[0].name: missing (required)",
        f"{SOURCE}:{header}: channels[0].base_url: missing (required)",
    ]


def test_missing_brand_name() -> None:
    assert problems("") == [f"{SOURCE}: brand.name: missing (required)"]
    assert problems('[brand]\nname = "  "\n') == [f"{SOURCE}:2: brand.name: must not be empty"]


def test_duplicate_channel_names() -> None:
    text = MINIMAL + channel_toml() + channel_toml(base_url="https://other.example")
    [line] = problems(text)
    assert line.startswith(
        f"{SOURCE}:{len(text.splitlines()) - 1}: channels[1].name: duplicate channel name 'mastodon'"
    )
    assert "channels[0]" in line


@pytest.mark.parametrize("name", ["Mastodon", "my channel", "", "a" * 65, "ça"])
def test_bad_channel_name(name: str) -> None:
    [line] = problems(MINIMAL + channel_toml(name=name))
    assert "channels[0].name: " in line
    assert "lowercase letters, digits, '_' or '-'" in line


def test_unknown_kind_lists_the_allowed_ones() -> None:
    [line] = problems(MINIMAL + channel_toml(kind="twitter"))
    assert "channels[0].kind: unknown channel kind 'twitter'" in line
    assert "(allowed: " + ", ".join(sorted(KINDS)) + ")" in line


def test_http_to_a_remote_host_is_refused() -> None:
    [line] = problems(MINIMAL + channel_toml(base_url="http://social.example"))
    assert "channels[0].base_url: plain http to a remote host is refused" in line
    assert "https://" in line


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://social.example", "expected an http(s) URL"),
        ("social.example", "expected an http(s) URL"),
        ("https://[::1", "not a valid URL"),
        ("https://social.example:99999", "not a valid URL"),
        ("https://social.example/?q=1", "no query"),
    ],
)
def test_bad_base_urls(url: str, message: str) -> None:
    [line] = problems(MINIMAL + channel_toml(base_url=url))
    assert message in line


def test_credentials_in_the_url_are_refused_without_echo() -> None:
    [line] = problems(MINIMAL + channel_toml(base_url="https://acme:hunter2-s3cret@social.example"))
    assert "credentials do not belong in the URL" in line
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        (channel_toml(token="tok-VALUE-123"), "channels[0].token"),
        (channel_toml(access_token="tok-VALUE-123"), "channels[0].access_token"),
        (channel_toml(**{"api-key": "tok-VALUE-123"}), "channels[0].api-key"),
        (channel_toml(client_secret="tok-VALUE-123"), "channels[0].client_secret"),
        (channel_toml(Password="tok-VALUE-123"), "channels[0].Password"),
        ('[ui]\napp_password = "tok-VALUE-123"\n', "ui.app_password"),
        ('secret = "tok-VALUE-123"\n', "secret"),
        ('[engine]\nextra = { bot_token = "tok-VALUE-123" }\n', "engine.extra.bot_token"),
    ],
)
def test_tokens_in_the_config_are_refused_without_echoing_them(snippet: str, key: str) -> None:
    text = (snippet + MINIMAL) if not snippet.startswith("[") else (MINIMAL + snippet)
    with pytest.raises(ConfigError) as info:
        parse_config(text, SOURCE)
    message = str(info.value)
    assert "tok-VALUE-123" not in message
    assert repr(info.value).count("tok-VALUE-123") == 0
    refusals = [line for line in message.splitlines() if "tokens do not belong in the config file" in line]
    assert len(refusals) == 1
    assert f": {key}: tokens do not belong" in refusals[0]
    assert "unknown setting" not in refusals[0]


def test_token_refusal_names_the_channel_and_the_alternatives() -> None:
    text = MINIMAL + channel_toml(name="fedi", token="tok-VALUE-123")
    [line] = problems(text)
    assert line == (
        f"{SOURCE}:{line_of(text, 'token =')}: channels[0].token: tokens do not belong in the config file "
        "(it is often readable by others and copied around). Store it with `ecoinbox auth fedi`, or set "
        'token_cmd = ["pass", "show", "ecoinbox/fedi"] or token_env = "ECOINBOX_FEDI_TOKEN"'
    )


def test_token_cmd_and_token_env_are_not_mistaken_for_tokens() -> None:
    settings = parse_config(
        MINIMAL + channel_toml(token_cmd=["pass", "show", "x"], token_env="X_TOKEN"), SOURCE
    )
    assert settings.channels[0].token_cmd == ("pass", "show", "x")
    assert settings.channels[0].token_env == "X_TOKEN"


def test_several_problems_are_reported_together_in_line_order() -> None:
    text = textwrap.dedent(
        """\
        [brand]
        handles = 3

        [ui]
        layotu = "side"

        [[channels]]
        kind = "mastodon"
        name = "one"
        base_url = "http://social.example"
        poll_interval = true

        [[channels]]
        kind = "mastodon"
        name = "one"
        base_url = "https://social.example"
        password = "hunter2"
        """
    )
    assert problems(text) == [
        f"{SOURCE}:1: brand.name: missing (required)",
        f"{SOURCE}:2: brand.handles: expected a list of strings, got an integer",
        f"{SOURCE}:5: ui.layotu: unknown setting (did you mean 'layout'?)",
        (
            f"{SOURCE}:10: channels[0].base_url: plain http to a remote host is refused: the token would cross "
            "the network unencrypted. Use https:// (http is allowed only for 127.0.0.1, ::1 and localhost)"
        ),
        f"{SOURCE}:11: channels[0].poll_interval: expected a number of seconds, got a boolean",
        f"{SOURCE}:15: channels[1].name: duplicate channel name 'one' (also channels[0]); names must be unique",
        (
            f"{SOURCE}:17: channels[1].password: tokens do not belong in the config file (it is often readable "
            "by others and copied around). Store it with `ecoinbox auth one`, or set "
            'token_cmd = ["pass", "show", "ecoinbox/one"] or token_env = "ECOINBOX_ONE_TOKEN"'
        ),
    ]


def test_inline_channels_are_located_by_their_key() -> None:
    text = (
        'channels = [\n  { kind = "mastodon", name = "x", base_url = "https://a.example", timeout = 0 },\n]\n'
    )
    [line] = problems(text + MINIMAL)
    assert line.startswith(f"{SOURCE}:1: channels[0].timeout: ")


def test_a_section_that_is_not_a_table() -> None:
    assert problems("ui = 3\n" + MINIMAL) == [f"{SOURCE}:1: ui: expected a table ([ui]), got an integer"]


# --- the locator -------------------------------------------------------------------------------


def test_locator_understands_tables_arrays_dotted_and_quoted_keys_and_multiline_values() -> None:
    text = textwrap.dedent(
        """\
        top = 1
        [brand]
        name = "x = y"
        handles = [
          "a = b",
          "[not.a.table]",
        ]
        notes = '''
        fake = 1
        [fake]
        '''
        [ui . keys]
        "inbox.reply" = "r"
        'quoted.literal' = "q"
        [[channels]]
        name = "a"
        [[channels]]
        name = "b"  # comment = 2
        sub.dotted = 3
        [channels.extra]
        deep = 4
        """
    )
    lines = locate_keys(text)
    assert lines[("top",)] == 1
    assert lines[("brand", "name")] == 3
    assert lines[("brand", "handles")] == 4
    assert lines[("brand", "notes")] == 8
    assert ("fake",) not in lines and ("brand", "fake") not in lines and ("not", "a", "table") not in lines
    assert lines[("ui", "keys")] == 12
    assert lines[("ui", "keys", "inbox.reply")] == 13
    assert lines[("ui", "keys", "quoted.literal")] == 14
    assert lines[("channels", 0)] == 15
    assert lines[("channels", 0, "name")] == 16
    assert lines[("channels", 1, "name")] == 18
    assert lines[("channels", 1, "sub", "dotted")] == 19
    assert lines[("channels", 1, "extra", "deep")] == 21


# --- finding and reading the file -------------------------------------------------------------


def test_default_path_and_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ECOINBOX_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    default = config.default_config_path()
    assert default.name == "config.toml" and default.parent.name == "ecoinbox"
    if sys.platform.startswith("linux"):
        assert default == tmp_path / "xdg" / "ecoinbox" / "config.toml"
    target = tmp_path / "elsewhere.toml"
    target.write_text(MINIMAL, encoding="utf-8")
    monkeypatch.setenv("ECOINBOX_CONFIG", str(target))
    assert config.default_config_path() == target
    assert load_config().source == target
    assert not (tmp_path / "xdg").exists()  # nothing created just by looking


def test_missing_default_file_explains_where_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ECOINBOX_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_config()
    message = str(info.value)
    assert str(config.default_config_path()) in message
    assert "ecoinbox demo" in message and "needs no config" in message
    assert "ecoinbox config example" in message and "ecoinbox init" in message
    assert "--config" in message


def test_missing_explicit_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="nope.toml: config file not found"):
        load_config(path)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[brand]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin1.toml:2: not UTF-8"):
        load_config(path)


# --- property-based ----------------------------------------------------------------------------

KNOWN_KEYS = sorted(
    {"brand", "ui", "store", "engine", "channels", "keys", "token", "password"}
    | {
        f.name
        for cls in (
            config.BrandSettings,
            config.UiSettings,
            config.StoreSettings,
            config.EngineSettings,
            ChannelSettings,
        )
        for f in dataclasses.fields(cls)
    }
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(st.characters(exclude_categories=("Cs",)), max_size=8))
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    st.sampled_from(
        ["mastodon", "https://social.example", "http://127.0.0.1:1", "http://x.example", "auto", "a-b"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)


def render(document: dict[str, object], *, prefix: tuple[str, ...] = ()) -> str:
    """TOML text using headers for tables and arrays of tables, so the locator gets exercised."""
    plain = {k: v for k, v in document.items() if not _is_table(v) and not _is_table_array(v)}
    out = [f"{toml_string(k)} = {to_toml(v)}" for k, v in plain.items()]
    for key, value in document.items():
        path = (*prefix, key)
        dotted = ".".join(toml_string(part) for part in path)
        if _is_table(value):
            out.append(f"[{dotted}]")
            out.append(render(value, prefix=path))  # type: ignore[arg-type]
        elif _is_table_array(value):
            for item in value:  # type: ignore[attr-defined]
                out.append(f"[[{dotted}]]")
                out.append(render(item, prefix=path))
    return "\n".join(out) + "\n"


def _is_table(value: object) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parse_config_only_raises_config_error_on_any_text(text: str) -> None:
    try:
        parse_config(text, SOURCE)
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_parse_config_only_raises_config_error_on_any_toml_document(document: dict[str, object]) -> None:
    text = render(document)
    tomllib.loads(text)  # the fuzzing reaches validation, not just the TOML parser
    try:
        parse_config(text, SOURCE)
    except ConfigError as exc:
        assert str(exc)
        for problem in exc.problems:
            assert problem.line is None or 1 <= problem.line <= len(text.splitlines())


channels = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["mastodon", "mastodon", "other", 3]),
        "name": st.sampled_from(["a", "b", "Bad", "a"]),
        "base_url": st.sampled_from(["https://a.example", "http://127.0.0.1:9", "http://a.example", ""]),
    },
    optional={
        "poll_interval": st.one_of(st.floats(), st.integers(), st.booleans()),
        "timeout": st.one_of(st.floats(), st.integers()),
        "hashtags": st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
        "token_cmd": st.one_of(st.text(max_size=5), st.lists(st.text(max_size=5), max_size=3)),
        "token_env": st.text(max_size=6),
        "keyring": st.one_of(st.booleans(), st.integers()),
        "access_token": st.just("tok-VALUE-123"),
        "poll_intervall": st.integers(),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(channels, max_size=4), st.text(max_size=10))
def test_near_valid_configs_either_parse_or_explain(
    channel_list: list[dict[str, object]], brand: str
) -> None:
    text = render({"brand": {"name": brand}, "channels": channel_list})
    try:
        settings = parse_config(text, SOURCE)
    except ConfigError as exc:
        assert "tok-VALUE-123" not in str(exc)
        assert all(
            problem.line is not None
            for problem in exc.problems
            if problem.key and problem.key.startswith("channels[")
        )
    else:
        assert (
            len({channel.name for channel in settings.channels})
            == len(settings.channels)
            == len(channel_list)
        )
        assert all(channel.poll_interval >= 1 for channel in settings.channels)


# --- saved views ------------------------------------------------------------------------------


def test_saved_views_keep_their_order_and_query_text() -> None:
    text = (
        MINIMAL
        + '[[views]]\nname = "Refunds"\nquery = "refund* is:open"\n\n[[views]]\nname = " French  week "\nquery = "lang:fr after:7d"\n'
    )
    settings = parse_config(text, SOURCE)
    assert settings.views == (config.ViewSettings("Refunds", "refund* is:open"),
                              config.ViewSettings("French week", "lang:fr after:7d"))  # fmt: skip


def test_the_example_views_parse() -> None:
    settings = config.load_config(EXAMPLE)
    assert [view.name for view in settings.views] == ["Refunds", "French, this week"]


@pytest.mark.parametrize(
    ("view", "says"),
    [
        (
            'name = "Refunds"\nquery = "is:later"',
            "views[0].query: the search does not parse: is:later is not a state",
        ),
        ('name = "Refunds"\nquery = "  "', "views[0].query: must not be empty"),
        ('name = "Refunds"\nquery = "- ?"', "views[0].query: the search has no word and no filter"),
        ('name = "inbox"\nquery = "refund"', "views[0].name: 'inbox' is a built-in view"),
        ('query = "refund"', "views[0].name: missing (required)"),
        ('name = "Refunds"\nquery = "refund"\ncolour = "red"', "views[0].colour: unknown setting"),
    ],
)
def test_bad_views_are_explained_with_their_line(view: str, says: str) -> None:
    [line] = problems(MINIMAL + "[[views]]\n" + view + "\n")
    assert says in line


def test_duplicate_view_names_are_refused_whatever_their_case() -> None:
    [line] = problems(
        MINIMAL + '[[views]]\nname = "Refunds"\nquery = "refund"\n[[views]]\nname = "REFUNDS"\nquery = "x"\n'
    )
    assert "views[1].name: duplicate view name 'REFUNDS' (also views[0])" in line


def test_waiting_thresholds_read_durations_and_the_team_its_names() -> None:
    settings = config.parse_config(
        MINIMAL + '[ui]\nwaiting_warn = "30m"\nwaiting_alert = "2h"\n'
        '[team]\nme = "Ana"\nmembers = ["Bob", "Ana", "Chloé"]\n'
    )
    assert (settings.ui.waiting_warn, settings.ui.waiting_alert) == (1800.0, 7200.0)
    assert settings.team == config.TeamSettings(me="Ana", members=("Bob", "Chloé"))
    [message] = problems(MINIMAL + '[ui]\nwaiting_warn = "4h"\nwaiting_alert = "1h"\n')
    assert "waiting_alert" in message and "waiting_warn" in message
    [message] = problems(MINIMAL + '[ui]\nwaiting_warn = "soon"\n')
    assert "1h" in message


# --- rules -----------------------------------------------------------------------------------

RULE = (
    MINIMAL
    + channel_toml()
    + """
[[rules]]
name = "refunds"
[rules.match]
words = ["refund", "remboursement"]
channel = "mastodon"
kind = "reply"
[rules.actions]
tag = ["billing", "money"]
priority = "high"
snooze = "4h"
"""
)


def test_a_rule_is_read_with_its_conditions_and_actions() -> None:
    [rule] = parse_config(RULE, SOURCE).rules
    assert rule.name == "refunds"
    assert rule.match == config.RuleMatch(
        channel=("mastodon",), words=("refund", "remboursement"), kind="reply"
    )
    assert rule.actions == config.RuleActions(tag=("billing", "money"), priority="high", snooze="4h")


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('channel = "mastodon"', 'channel = "mastodn"', "rules[0].match.channel", "did you mean 'mastodon'"),
        ('kind = "reply"', 'kind = "dm"', "rules[0].match.kind", "unknown kind 'dm'"),
        ('kind = "reply"', 'regex = "(("', "rules[0].match.regex", "not a valid regular expression"),
        ('kind = "reply"', 'colour = "red"', "rules[0].match.colour", "unknown setting"),
        (
            'priority = "high"',
            'priority = "urgent"',
            "rules[0].actions.priority",
            "unknown priority 'urgent'",
        ),
        ('snooze = "4h"', 'snooze = "soon"', "rules[0].actions.snooze", 'a duration such as "30m"'),
        (
            'snooze = "4h"',
            'canned = "refund"',
            "rules[0].actions.canned",
            "no canned reply is called 'refund'",
        ),
        ('snooze = "4h"', "done = 1", "rules[0].actions.done", "expected true or false"),
    ],
)
def test_rule_errors_name_the_key(old: str, new: str, key: str, message: str) -> None:
    text = RULE.replace(old, new)
    [line] = problems(text)
    assert f":{line_of(text, new)}: {key}: " in line and message in line, line


def test_a_rule_needs_a_condition_an_action_and_a_unique_name() -> None:
    empty = RULE.replace('words = ["refund", "remboursement"]\nchannel = "mastodon"\nkind = "reply"\n', "")
    assert any("rules[0].match: is empty" in line for line in problems(empty))
    twice = RULE + RULE.split(channel_toml())[1]
    assert any("rules[1].name: duplicate rule name 'refunds'" in line for line in problems(twice))
    assert any(
        "rules[0].actions: missing" in line
        for line in problems(MINIMAL + '[[rules]]\nname = "x"\n[rules.match]\nwords = "a"\n')
    )


def test_notify_is_off_bell_or_desktop() -> None:
    assert parse_config(MINIMAL + '[ui]\nnotify = "bell"\n', SOURCE).ui.notify == "bell"
    [line] = problems(MINIMAL + '[ui]\nnotify = "loud"\n')
    assert "ui.notify: unknown notify mode 'loud'" in line


def test_send_delay_holds_replies_ten_seconds_by_default_and_zero_sends_at_once() -> None:
    assert parse_config(MINIMAL, SOURCE).ui.send_delay == 10.0
    assert parse_config(MINIMAL + "[ui]\nsend_delay = 0\n", SOURCE).ui.send_delay == 0.0
    assert parse_config(MINIMAL + "[ui]\nsend_delay = 2.5\n", SOURCE).ui.send_delay == 2.5
    for wrong in ("-1", "301", '"10s"', "true", "nan"):
        [line] = problems(MINIMAL + f"[ui]\nsend_delay = {wrong}\n")
        assert "ui.send_delay" in line, wrong
