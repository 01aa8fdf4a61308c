"""Every platform in the registry has its local server in `ecoinbox demo`, found through
ecoinbox/demo/<kind>/site.py (a new platform without one fails here, by name)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from ecoinbox.channels import registry
from ecoinbox.demo.site import DemoContext, all_tokens, find_sites, site_modules


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_every_platform_has_a_demo_site(kind: str) -> None:
    [module] = site_modules([kind])
    sites = module.sites(DemoContext(seed=1, python=sys.executable))
    assert sites, f"the {kind} demo has no site"
    assert set(module.TOKENS) <= {site.name for site in sites}, "a token for a channel the demo lacks"


def test_sites_are_named_apart() -> None:
    names = [site.name for site in find_sites(DemoContext(seed=1, python=sys.executable))]
    assert len(names) == len(set(names)), names


async def test_the_config_has_one_channel_per_started_site(tmp_path) -> None:
    from ecoinbox.demo.runner import Demo

    async with Demo(data_dir=tmp_path, traffic=False) as demo:
        config = tomllib.loads(demo.config_path.read_text(encoding="utf-8"))
        assert [entry["name"] for entry in config["channels"]] == [site.name for site in demo.sites]
        for entry, site in zip(config["channels"], demo.sites, strict=True):
            assert entry["base_url"] == site.base_url
            assert entry.get("token_cmd", [None])[-1] in (None, site.name)


@pytest.mark.parametrize("name", sorted(all_tokens()))
def test_the_token_command_prints_each_sites_public_token(name: str) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "ecoinbox.demo", "token", name], capture_output=True, text=True, check=True
    ).stdout
    assert printed == all_tokens()[name] + "\n"
