"""What `ecoinbox demo` needs from each platform: its local server, seeded, as a channel.

A platform's demo lives in `ecoinbox/demo/<kind>/`, beside its server, in a module `site.py`
that defines:
- `sites(context) -> list[DemoSite]`: its sites (most platforms one; WordPress shows the brand's
  blog, the feed unit a fan blog read through its comment feeds);
- `TOKENS: dict[str, str]`: channel name -> the public demo token its `token_cmd` prints
  (`python -m ecoinbox.demo token NAME`). Kept light: the module imports its server inside
  `sites`, so printing a token loads no server.
- optionally `STARTS_FIRST = True`: its sites start before the other modules' servers are
  imported (a server in a process of its own, slow to listen, like Dovecot).
The demo runner finds them through the channel registry, in its order: adding a platform to the
demo edits no file of the runner.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar, Protocol

__all__ = [
    "BRAND",
    "DemoContext",
    "DemoSite",
    "ServerSite",
    "SiteUnavailable",
    "all_tokens",
    "channel_block",
    "find_sites",
    "site_modules",
    "token_command",
    "toml_string",
]

BRAND = "acme"
"""The brand's account name on the demo's platforms."""


class SiteUnavailable(Exception):
    """A site cannot run on this machine (e.g. no Dovecot): the demo goes on without its
    channel and says so, in the message's words."""


@dataclass(frozen=True, slots=True)
class DemoContext:
    """What every site is made with."""

    seed: int
    python: str
    """This interpreter, for the channels' `token_cmd` (`python -m ecoinbox.demo token NAME`)."""
    generated: bool = False
    """The store starts as a generated year of traffic, whose posts no server shows."""


class DemoSite(Protocol):
    """One platform's local server in the demo, and the channel that reads it."""

    @property
    def name(self) -> str:
        """The channel's name in the demo's config (and `python -m ecoinbox.demo token NAME`)."""
        ...

    @property
    def base_url(self) -> str:
        """Where its server listens, once started."""
        ...

    @property
    def handles(self) -> Sequence[str]:
        """The brand's own handles there, for the config's `[brand] handles` (most: none)."""
        ...

    @property
    def every(self) -> tuple[int, int]:
        """New traffic every `n` ticks of the demo's clock (5 s), at tick `phase` of them:
        (n, phase). Social media talk every tick, a blog every fourth."""
        ...

    async def start(self) -> None:
        """Listen on loopback, seeded (SiteUnavailable when it cannot run here)."""
        ...

    async def stop(self) -> None: ...

    async def tick(self) -> None:
        """Someone writes: one new message or a few, as the platform's people would."""
        ...

    def channel_toml(self) -> str:
        """Its `[[channels]]` block, pointing at the started server (and any table of the
        config it brings, e.g. the forum's `[forum]`)."""
        ...

    def addresses(self) -> Sequence[tuple[str, str]]:
        """What `ecoinbox demo --servers-only` prints: (label, URL) pairs."""
        ...

    def meet(self, others: Mapping[str, DemoSite]) -> None:
        """Once every site has started, by name: the scenario's links across platforms
        (the person whose Mastodon profile points at her forum account). Most do nothing."""
        ...


def toml_string(text: str) -> str:
    """`text` as a TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


TomlValue = str | int | bool | Sequence[str]


def toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    return "[" + ", ".join(toml_string(each) for each in value) + "]"


class LocalServer(Protocol):
    """What ServerSite needs of a platform's server (demo/loopback.py's servers have it)."""

    @property
    def base_url(self) -> str: ...

    async def start(self) -> str: ...

    async def stop(self) -> None: ...

    def tick(self) -> object: ...


class ServerSite:
    """A DemoSite around one local server: a platform's site module subclasses it, naming its
    `kind`, and says its channel's own settings in `settings()`."""

    kind: ClassVar[str]
    every: tuple[int, int] = (1, 0)
    handles: Sequence[str] = ()
    label = ""
    """How `--servers-only` names it (its channel name by default)."""
    path = ""
    """What `--servers-only` adds to its URL (e.g. a feed's path)."""
    token: str | None = None
    """Its public demo token (None: the channel needs none); also in its module's TOKENS."""

    def __init__(self, name: str, server: LocalServer, context: DemoContext) -> None:
        self.name = name
        self.server = server
        self.context = context

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    async def tick(self) -> None:
        self.server.tick()

    def settings(self) -> dict[str, TomlValue]:
        """The channel's settings besides kind, name, base_url and its token command."""
        return {}

    def channel_toml(self) -> str:
        return channel_block(self.kind, self.name, self.base_url, self.settings(), self.context,
                             token=self.token is not None)  # fmt: skip

    def addresses(self) -> Sequence[tuple[str, str]]:
        return [(self.label or self.name, self.base_url + self.path)]

    def meet(self, others: Mapping[str, DemoSite]) -> None:
        return None


def channel_block(
    kind: str,
    name: str,
    base_url: str,
    settings: Mapping[str, TomlValue],
    context: DemoContext,
    *,
    token: bool = True,
) -> str:
    """A `[[channels]]` entry; with `token`, its token command prints the demo's public token
    (`python -m ecoinbox.demo token NAME`): no file holds one, and the keyring stays out of it."""
    lines = ["", "[[channels]]", f"kind = {toml_string(kind)}", f"name = {toml_string(name)}",
             f"base_url = {toml_string(base_url)}"]  # fmt: skip
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    if token:
        lines += ["keyring = false", f"token_cmd = {toml_value(list(token_command(context.python, name)))}"]
    return "\n".join(lines) + "\n"


def token_command(python: str, name: str) -> tuple[str, ...]:
    """The command printing channel `name`'s public demo token (`python -m ecoinbox.demo token NAME`)."""
    return (python, "-m", "ecoinbox.demo", "token", name)


def site_modules(kinds: Sequence[str] | None = None) -> list[ModuleType]:
    """The `site` module of each platform that has a demo, in the registry's order."""
    from ecoinbox.channels.registry import UNIT_MODULES

    modules = []
    for kind in kinds if kinds is not None else list(UNIT_MODULES):
        folder = f"{__package__}.{kind}"
        if importlib.util.find_spec(folder) is None or importlib.util.find_spec(f"{folder}.site") is None:
            continue  # a platform without a demo yet (tests/test_demo_sites.py names it)
        modules.append(importlib.import_module(f"{folder}.site"))
    return modules


def find_sites(context: DemoContext, kinds: Sequence[str] | None = None) -> list[DemoSite]:
    """Every platform's demo sites, in the registry's order (`kinds` to choose some)."""
    found: list[DemoSite] = []
    for module in site_modules(kinds):
        found.extend(module.sites(context))
    return found


def all_tokens() -> dict[str, str]:
    """Channel name -> public demo token, for every site."""
    tokens: dict[str, str] = {}
    for module in site_modules():
        tokens.update(module.TOKENS)
    return tokens
