"""The local wiki answers in the shapes a real MediaWiki does (tests/data/mediawiki/recorded/,
recorded from Debian's MediaWiki 1.39 by tests/record_mediawiki.py), and the channel reads them.

The same requests, in the same order, go to the local wiki; every key path of the recorded
answer (lists read as their items) must be in the local one, error codes alike. What a real wiki
says beyond what the channel reads (its other rate limits, its docref line) is left out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecoinbox.channels.mediawiki.talk import parse_talk_page
from ecoinbox.demo.mediawiki.server import WikiServer

RECORDED = Path(__file__).parent / "data" / "mediawiki" / "recorded"
LOGIN = "Acme@ecoinbox"
PASSWORD = "abcdefghijklmnopqrstuvw012345678"
PAGE = "Talk:Acme X2"
IGNORED = ("error.docref", "query.userinfo.ratelimits.", "query.general.")
KEPT = (
    "query.userinfo.ratelimits.edit.",
    "query.userinfo.ratelimits.edit",
    "query.general.sitename",
    "query.general.generator",
)


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / f"{name}.json").read_text()))


def shape(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (list items merged)."""
    if isinstance(value, dict):
        paths: set[str] = set()
        for key, inner in value.items():
            path = f"{prefix}{key}"
            paths |= {path} | shape(inner, path + ".")
        return paths
    if isinstance(value, list):
        return set().union(*(shape(item, prefix) for item in value)) if value else set()
    return set()


def compared(paths: set[str]) -> set[str]:
    return {
        path for path in paths if not path.startswith(IGNORED) or path in KEPT or path.startswith(KEPT[0])
    }


class Client:
    """One session on the local wiki, asking what the recorder asked."""

    def __init__(self, wiki: WikiServer) -> None:
        self.http = httpx.AsyncClient(base_url=wiki.base_url)

    async def ask(self, name: str, **replace: str) -> dict[str, Any]:
        request = recorded(name)["request"]
        params = {"format": "json", "formatversion": "2", **request["params"], **replace}
        if request["method"] == "GET":
            answer = await self.http.get("/api.php", params=params)
        else:
            answer = await self.http.post("/api.php", data=params)
        return dict(answer.json())

    async def token(self, kind: str = "csrf") -> str:
        answer = await self.http.get("/api.php", params={"format": "json", "formatversion": "2", "action": "query",
                                                         "meta": "tokens", "type": kind})  # fmt: skip
        return str(answer.json()["query"]["tokens"][f"{kind}token"])


@pytest.fixture
async def wiki() -> AsyncIterator[WikiServer]:
    async with WikiServer(bot_logins={LOGIN: PASSWORD}) as server:
        server.comment(PAGE, "Zoe", "The battery of my [[Acme X2]] dies in two hours.", section="Battery")
        server.comment(PAGE, "Luc", "Same here.", indent=1, section="Battery")
        server.comment(PAGE, "Marie", "L'écran reste noir.", section="Écran")
        yield server


async def test_the_local_wiki_answers_every_recorded_request_in_the_real_shape(wiki):
    anonymous, wrong, bot = Client(wiki), Client(wiki), Client(wiki)
    ours = {
        "siteinfo": await anonymous.ask("siteinfo"),
        "siteinfo_namespaces": await anonymous.ask("siteinfo_namespaces"),
        "assert_user_anonymous": await anonymous.ask("assert_user_anonymous"),
        "login_token": await wrong.ask("login_token"),
        "login_failed": await wrong.ask(
            "login_failed", lgpassword="a" * 32, lgtoken=await wrong.token("login")
        ),
        "login_success": await bot.ask(
            "login_success", lgpassword=PASSWORD, lgtoken=await bot.token("login")
        ),
        "userinfo": await bot.ask("userinfo"),
        "recentchanges_continued": await bot.ask("recentchanges_continued"),
        "latest_revisions": await bot.ask("latest_revisions"),
    }
    revid = str(wiki.pages[PAGE][-1].revid)
    ours["revisions_content"] = await bot.ask("revisions_content", revids=revid)
    read = ours["read_with_curtimestamp"] = await bot.ask("read_with_curtimestamp")
    base = read["query"]["pages"][0]["revisions"][0]
    section = (
        "== Battery ==\n" + base["slots"]["main"]["content"].split("== Battery ==\n")[1].split("\n\n")[0]
    )
    edit = {"baserevid": str(base["revid"]), "basetimestamp": base["timestamp"], "starttimestamp": read["curtimestamp"],
            "token": await bot.token()}  # fmt: skip
    ours["edit_success"] = await bot.ask("edit_success", text=section + "\n:Which firmware? ~~~~", **edit)
    ours["edit_conflict"] = await bot.ask("edit_conflict", text=section + "\n:Something else. ~~~~", **edit)
    ours["edit_badtoken"] = await bot.ask("edit_badtoken")
    for client in (anonymous, wrong, bot):
        await client.http.aclose()

    for name, answer in ours.items():
        real = recorded(name)["body"]
        missing = compared(shape(real)) - shape(answer)
        assert not missing, f"{name}: the local wiki lacks {sorted(missing)}"
        if "error" in real:
            assert answer["error"]["code"] == real["error"]["code"], name
    assert ours["login_failed"]["login"]["result"] == "Failed"
    assert ours["edit_success"]["edit"]["result"] == "Success"


def test_the_recorded_talk_page_reads_as_its_comments():
    content = recorded("revisions_content")["body"]["query"]["pages"][0]["revisions"][0]["slots"]["main"][
        "content"
    ]

    page = parse_talk_page(content)

    assert [(c.author, c.level, c.section) for c in page.comments] == [
        ("Zoe", 0, 1),
        ("Luc", 1, 1),
        ("Marie", 0, 2),
    ]
    assert page.comments[1].parent == page.comments[0].name
