"""A platform is one unit: the registry line is all the rest of ecoinbox needs to know of it.

These tests add a platform that exists only here ("pigeon") through the registry alone, and check
that the config reads its settings, refuses its keys elsewhere, builds its channel, runs its auth
flow and offers it in `ecoinbox init`: if one of those still chose platforms by name, they fail.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from ecoinbox import auth
from ecoinbox.channels import build_channel, registry
from ecoinbox.channels.settings import COMMON_KEYS, ChannelSettings, common_values
from ecoinbox.channels.unit import PlatformUnit, Question, refuse_when_set
from ecoinbox.config import ConfigError, parse_config
from ecoinbox.config.validate import Table, string_list
from ecoinbox.init_wizard import ChannelAnswers, Wizard, render_config
from ecoinbox.secrets import Secret

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
BRAND = '[brand]\nname = "Acme"\n'
MEMBERS = [name for name, value in vars(PlatformUnit).items() if not name.startswith("_") and value]


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_every_registered_unit_offers_the_whole_protocol(kind: str) -> None:
    unit = registry.unit(kind)
    assert unit.kind == kind
    assert issubclass(unit.settings_type, ChannelSettings) and unit.auth_modes and unit.description
    for member in MEMBERS:
        assert hasattr(unit, member), f"the {kind} unit has no {member}"
        if inspect.isfunction(getattr(PlatformUnit, member)):
            expected = list(inspect.signature(getattr(PlatformUnit, member)).parameters)[1:]
            assert list(inspect.signature(getattr(unit, member)).parameters) == expected, member
    own = {f.name for f in dataclasses.fields(unit.settings_type)}
    for question in unit.questions:  # init never asks for a key the config would refuse
        assert question.key in own, f"init asks {kind} for {question.key}, not one of its settings"


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_every_platform_setting_is_documented_in_its_class_and_the_example(kind: str) -> None:
    settings_type = registry.unit(kind).settings_type
    source = Path(inspect.getsourcefile(settings_type) or "").read_text(encoding="utf-8")
    body = source[source.index(f"class {settings_type.__name__}") :]
    example = EXAMPLE.read_text(encoding="utf-8")
    channels = example[example.index("\n[[channels]]\n") :]
    for name in {f.name for f in dataclasses.fields(settings_type)} - COMMON_KEYS:
        assert re.search(rf"\n    {name}: [^\n]*\n    \"\"\"", body), f"{kind}'s {name} has no docstring"
        assert re.search(rf"\n#[^\n]*\n#? ?{name} = ", channels), f"{kind}'s {name} is not in the example"


# ---- a platform added through the registry alone ---------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PigeonSettings(ChannelSettings):
    """A dovecote."""

    lofts: tuple[str, ...] = ()
    """Where the pigeons land."""


class PigeonChannel:
    def __init__(self, settings: PigeonSettings, token: str) -> None:
        self.settings, self.token = settings, token


class PigeonUnit:
    kind = "pigeon"
    description = "Carrier pigeons: notes tied to a leg."
    default_name = "loft"
    questions = (
        Question("base_url", "The dovecote's address"),
        Question("account", "The pigeon's name"),
        Question("lofts", "Lofts", is_list=True),
    )
    auth_modes = ("ring", "seed")
    settings_type = PigeonSettings
    streams = False
    read_only = False
    brand_site = True
    default_base_url = None

    @staticmethod
    def base_url_check(value: object) -> str:
        return str(value)

    def read(self, table: Table, common: ChannelSettings) -> PigeonSettings:
        lofts = table.get("lofts", string_list, ())
        if not common.account:
            table.problem("account", "missing (a pigeon needs a name to fly home to)")
        return PigeonSettings(**common_values(common), lofts=lofts)

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, string_list, f"only pigeons have lofts, not {kind}")

    def build(self, settings: ChannelSettings, token: Secret, brand: Any) -> Any:
        assert isinstance(settings, PigeonSettings)
        return PigeonChannel(settings, token.reveal())

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return f"The ring of {settings.account}."

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        return Secret(f"ring-of-{settings.name}")


@pytest.fixture
def pigeon(monkeypatch: pytest.MonkeyPatch) -> PigeonUnit:
    """The registry line of a new platform (and its module, which lives in this test)."""
    module = types.ModuleType("tests_pigeon_unit")
    module.UNIT = PigeonUnit()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.UNIT_MODULES, "pigeon", module.__name__)
    monkeypatch.setattr(registry, "KINDS", frozenset(registry.UNIT_MODULES))
    return module.UNIT  # type: ignore[attr-defined,no-any-return]


PIGEON = BRAND + '[[channels]]\nkind = "pigeon"\nname = "loft"\nbase_url = "coo://dovecote"\n'


def test_the_config_reads_a_new_platform_through_its_unit(pigeon: PigeonUnit) -> None:
    settings = parse_config(PIGEON + 'account = "paloma"\nlofts = ["north", "south"]\n')
    [channel] = settings.channels
    assert isinstance(channel, PigeonSettings)
    assert (channel.lofts, channel.auth, channel.account) == (("north", "south"), "ring", "paloma")
    with pytest.raises(ConfigError) as missing:
        parse_config(PIGEON + "lofts = [3]\n")
    assert str(missing.value).splitlines() == [
        "<config>:3: channels[0].account: missing (a pigeon needs a name to fly home to)",
        "<config>:7: channels[0].lofts[0]: expected a string, got an integer",
    ]
    with pytest.raises(ConfigError, match=r"'post' is not an auth mode of pigeon \(allowed: ring, seed\)"):
        parse_config(PIGEON + 'account = "paloma"\nauth = "post"\n')


def test_what_a_unit_says_of_itself_reaches_the_actions_and_screening(pigeon: PigeonUnit) -> None:
    """No list of kinds elsewhere: a unit says whether it can be answered and whether its
    address is the brand's own site (links to it are no spam signal)."""
    from ecoinbox.actions import is_feed
    from ecoinbox.screening.inbound import Screener

    settings = parse_config(PIGEON + 'account = "paloma"\n')
    assert not is_feed(settings, "loft")
    assert Screener.from_settings(settings).spam_filter.own_domains == ("dovecote",)
    pigeon.read_only = True  # type: ignore[misc]
    pigeon.brand_site = False  # type: ignore[misc]
    assert is_feed(settings, "loft")
    assert Screener.from_settings(settings).spam_filter.own_domains == ()


def test_a_new_platforms_keys_are_refused_on_other_kinds_by_its_unit(pigeon: PigeonUnit) -> None:
    mastodon = BRAND + '[[channels]]\nkind = "mastodon"\nname = "m"\nbase_url = "https://social.example"\n'
    with pytest.raises(ConfigError) as refused:
        parse_config(mastodon + 'lofts = ["north"]\n')
    assert str(refused.value) == "<config>:7: channels[0].lofts: only pigeons have lofts, not mastodon"
    with pytest.raises(ConfigError, match=r"ui.lofts: unknown setting \(lofts belongs in \[\[channels\]\]\)"):
        parse_config(BRAND + '[ui]\nlofts = ["north"]\n')


def test_a_new_platform_is_built_authorized_and_offered_by_init(pigeon: PigeonUnit, tmp_path: Path) -> None:
    [channel] = parse_config(PIGEON + 'account = "paloma"\n').channels
    built = build_channel(channel, Secret("ring-7"))
    assert isinstance(built, PigeonChannel) and built.token == "ring-7"
    assert auth.what_it_asks_for(channel) == "The ring of paloma."
    assert auth.obtain_token(channel).reveal() == "ring-of-loft"
    answers = iter(["pigeon", "", "coo://dovecote", "paloma", "north, south"])
    said: list[str] = []
    wizard = Wizard(tmp_path / "config.toml", ask=lambda prompt: next(answers), say=said.append)
    wizard.brand.name = "Acme"
    wizard.connect = lambda answers, channel: None  # type: ignore[method-assign]
    assert wizard.add_channel() is True
    assert "Carrier pigeons: notes tied to a leg." in said
    [added] = wizard.channels
    expected = {"base_url": "coo://dovecote", "account": "paloma", "lofts": ["north", "south"]}
    assert (added.kind, added.name, added.values) == ("pigeon", "loft", expected)
    written = render_config(wizard.brand, [ChannelAnswers("pigeon", "loft")])
    assert "# Carrier pigeons: notes tied to a leg." in written


def test_reading_the_config_imports_no_platform_code() -> None:
    """`ecoinbox list` reads the config: the units only, not the channels, httpx or cryptography."""
    probe = (
        "import sys\n"
        "from ecoinbox.config import parse_config\n"
        f"parse_config(open({str(EXAMPLE)!r}, encoding='utf-8').read())\n"
        "print(sorted(m for m in sys.modules if m.endswith('.channel') or m.split('.')[0] in "
        "('httpx', 'cryptography') or m == 'ecoinbox.channels.http'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


class Dovecote:
    """The pigeon platform's local server, as a demo site needs it."""

    def __init__(self) -> None:
        self.base_url, self.notes = "", 0

    async def start(self) -> str:
        self.base_url = "coo://127.0.0.1/dovecote"
        return self.base_url

    async def stop(self) -> None:
        self.base_url = ""

    def tick(self) -> int:
        self.notes += 1
        return self.notes


@pytest.fixture
def pigeon_demo(pigeon: PigeonUnit, monkeypatch: pytest.MonkeyPatch) -> Dovecote:
    """Its demo site: a module at ecoinbox/demo/pigeon/site.py, here made in memory."""
    import importlib.machinery

    from ecoinbox.demo.site import DemoContext, DemoSite, ServerSite, TomlValue

    server = Dovecote()

    class LoftSite(ServerSite):
        kind = "pigeon"
        token = "ring-of-the-demo"

        def settings(self) -> dict[str, TomlValue]:
            return {"account": "paloma", "lofts": ["north"]}

    def sites(context: DemoContext) -> list[DemoSite]:
        return [LoftSite("loft", server, context)]

    for name, attrs in (("ecoinbox.demo.pigeon", {}), ("ecoinbox.demo.pigeon.site", {"sites": sites})):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=not attrs)
        module.__dict__.update(attrs, TOKENS={"loft": LoftSite.token} if attrs else {})
        monkeypatch.setitem(sys.modules, name, module)
    return server


async def test_the_demo_runs_a_new_platform_through_its_site(pigeon_demo: Dovecote, tmp_path: Path) -> None:
    from stack import wait_until

    from ecoinbox.config import load_config
    from ecoinbox.demo.runner import Demo
    from ecoinbox.demo.site import all_tokens

    async with Demo(data_dir=tmp_path, tick_every=0.01) as demo:
        loft = load_config(demo.config_path).channel("loft")
        assert isinstance(loft, PigeonSettings)
        assert (loft.base_url, loft.account, loft.lofts) == ("coo://127.0.0.1/dovecote", "paloma", ("north",))
        assert loft.token_cmd is not None and loft.token_cmd[-2:] == ("token", "loft") and not loft.keyring
        await wait_until(lambda: pigeon_demo.notes >= 2)  # the demo's traffic reaches it
    assert pigeon_demo.base_url == ""  # stopped with the others
    assert all_tokens()["loft"] == "ring-of-the-demo"
