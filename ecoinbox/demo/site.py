"""What `ecoinbox demo` needs from each platform: its local server, seeded, as a channel.

A platform's demo lives in `ecoinbox/demo/<kind>/`, beside its server, in a module `site.py`
that defines:
- `sites(context) -> list[DemoSite]`: its sites (most platforms one; WordPress shows the brand's
  blog, the feed unit a fan blog read through its comment feeds);
- `TOKENS: dict[str, str]`: channel name -> the public demo token its `token_cmd` prints
  (`python -m ecoinbox.demo token NAME`). Kept light: the module imports its server inside
  `sites`, so printing a token loads no server.
The demo runner finds them through the channel registry, in its order: adding a platform to the
demo edits no file of the runner.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

__all__ = [
    "BRAND",
    "DemoContext",
    "DemoSite",
    "SiteUnavailable",
    "all_tokens",
    "find_sites",
    "site_modules",
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
        """Its `[[channels]]` block, pointing at the started server."""
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
