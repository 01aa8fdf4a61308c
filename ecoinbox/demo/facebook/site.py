"""The Facebook Page of the demo: the local Graph server, seeded, and the channel reading it.

Instagram's site (`ecoinbox.demo.instagram.site`) is the same kind of server read by the other
channel: each site runs its own Graph server, so either one can be shown alone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from ecoinbox.demo.site import DemoContext, DemoSite, toml_string

if TYPE_CHECKING:
    from ecoinbox.demo.facebook.server import GraphServer

__all__ = ["TOKENS", "GraphSite", "sites"]

PAGE_TOKEN: Final = (
    "demo-facebook-page-token"  # the demo server's Page token: public, worth nothing elsewhere
)
TOKENS: Final = {"facebook": PAGE_TOKEN}


class GraphSite:
    """One channel (Facebook or Instagram) over its own local Graph server."""

    every = (1, 0)  # social media talk every tick

    def __init__(self, context: DemoContext, kind: str, name: str) -> None:
        self.context = context
        self.kind = kind
        self.name = name
        self._rng = random.Random(context.seed)
        self._server: GraphServer | None = None

    @property
    def server(self) -> GraphServer:
        assert self._server is not None, "the site is not started"
        return self._server

    async def start(self) -> None:
        from ecoinbox.demo.facebook.server import GraphServer

        self._server = GraphServer(
            seed=None if self.context.generated else self.context.seed, page_token=PAGE_TOKEN
        )
        await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def tick(self) -> None:
        from ecoinbox.demo.facebook.seed import tick

        tick(self.server, self._rng, instagram=self.kind == "instagram")

    def channel_toml(self) -> str:
        from ecoinbox.demo.facebook.server import PAGE_ID

        python = toml_string(self.context.python)
        return (
            f'[[channels]]\nkind = "{self.kind}"\nname = "{self.name}"\n'
            f'base_url = {toml_string(self.server.base_url)}\npage_id = "{PAGE_ID}"\npoll_interval = 4\n'
            f'token_cmd = [{python}, "-m", "ecoinbox.demo", "token", "{self.name}"]\n'
        )

    def addresses(self) -> Sequence[tuple[str, str]]:
        return [(self.kind, self.server.base_url)]

    def meet(self, others: Mapping[str, DemoSite]) -> None:
        return None


def sites(context: DemoContext) -> list[DemoSite]:
    """The demo's Facebook Page (with Messenger)."""
    return [GraphSite(context, "facebook", "facebook")]
