"""Record real MediaWiki answers into tests/data/mediawiki/recorded/ (run: python -m tests.record_mediawiki).

Starts the real MediaWiki of tests/real_mediawiki.py (Debian's package), makes the requests the
mediawiki channel makes, and saves each answer as JSON: {"request", "status", "headers" (the
ones the channel reads), "body"}. tests/test_mediawiki_recorded.py holds the local wiki of
ecoinbox/demo/mediawiki to the same shapes. Rerun after a MediaWiki upgrade; ports, dates,
tokens and ids change, nothing else should.
"""

from __future__ import annotations

import http.cookiejar
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.real_mediawiki import RealMediaWiki, why_no_mediawiki

OUT = Path(__file__).parent / "data" / "mediawiki" / "recorded"
HEADERS = ("content-type", "retry-after", "x-database-lag")
PAGE = "Talk:Acme X2"


class Session:
    """One API client with its cookies, as the channel's HTTP client keeps them."""

    def __init__(self, wiki: RealMediaWiki) -> None:
        self.wiki = wiki
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def ask(self, method: str, **params: str) -> dict[str, Any]:
        query = {"format": "json", "formatversion": "2", **params}
        data = urllib.parse.urlencode(query).encode()
        url = f"{self.wiki.base_url}/api.php"
        if method == "GET":
            request = urllib.request.Request(f"{url}?{data.decode()}")
        else:
            request = urllib.request.Request(url, data=data, method="POST")
        with self.opener.open(request, timeout=30) as answer:
            status, headers, raw = answer.status, answer.headers, answer.read()
        shown = {key: ("<secret>" if key in ("lgpassword", "token", "lgtoken") else value)
                 for key, value in params.items()}  # fmt: skip
        return {
            "request": {"method": method, "params": shown},
            "status": status,
            "headers": {name: headers[name] for name in HEADERS if headers.get(name) is not None},
            "body": _without_tokens(json.loads(raw)),
        }

    def token(self, kind: str = "csrf") -> str:
        query = urllib.parse.urlencode({"format": "json", "formatversion": "2", "action": "query",
                                        "meta": "tokens", "type": kind})  # fmt: skip
        with self.opener.open(f"{self.wiki.base_url}/api.php?{query}", timeout=30) as answer:
            return str(json.loads(answer.read())["query"]["tokens"][f"{kind}token"])


def _without_tokens(body: Any) -> Any:
    """The answer with its session tokens replaced by a stand-in of the same shape."""
    tokens = body.get("query", {}).get("tokens") if isinstance(body, dict) else None
    if isinstance(tokens, dict):
        for key, value in tokens.items():
            tokens[key] = "0123456789abcdef0123456789abcdef+\\" if value != "+\\" else value
    return body


def record() -> None:
    wiki = RealMediaWiki().start()
    try:
        assert wiki.bot is not None
        wiki.add_comment(PAGE, "Zoe", "The battery of my [[Acme X2]] dies in two hours.", section="Battery")
        wiki.add_comment(PAGE, "Luc", "Same here.", indent=1, section="Battery")
        wiki.add_comment(PAGE, "Marie", "L'écran reste noir.", section="Écran")
        answers: dict[str, dict[str, Any]] = {}
        anonymous = Session(wiki)
        answers["siteinfo"] = anonymous.ask(
            "GET", action="query", meta="siteinfo", siprop="general|extensions"
        )
        answers["siteinfo_namespaces"] = anonymous.ask(
            "GET", action="query", meta="siteinfo", siprop="namespaces"
        )
        answers["assert_user_anonymous"] = anonymous.ask(
            "GET", action="query", meta="userinfo", **{"assert": "user"}
        )
        wrong = Session(wiki)
        answers["login_token"] = wrong.ask("GET", action="query", meta="tokens", type="login")
        answers["login_failed"] = wrong.ask("POST", action="login", lgname=wiki.bot.name, lgpassword="a" * 32,
                                            lgtoken=wrong.token("login"))  # fmt: skip
        bot = Session(wiki)
        answers["login_success"] = bot.ask("POST", action="login", lgname=wiki.bot.name,
                                           lgpassword=wiki.bot.password, lgtoken=bot.token("login"))  # fmt: skip
        answers["userinfo"] = bot.ask(
            "GET", action="query", meta="userinfo", uiprop="ratelimits", **{"assert": "user"}
        )
        answers["recentchanges_continued"] = bot.ask(
            "GET", action="query", list="recentchanges", rcnamespace="1", rctype="edit|new",
            rcprop="title|ids|timestamp", rcdir="newer", rclimit="2",
        )  # fmt: skip
        answers["latest_revisions"] = bot.ask("GET", action="query", prop="revisions", rvprop="ids",
                                              titles=f"{PAGE}|Talk:Nothing here")  # fmt: skip
        latest = answers["latest_revisions"]["body"]["query"]["pages"]
        revid = next(page["revisions"][0]["revid"] for page in latest if "revisions" in page)
        answers["revisions_content"] = bot.ask("GET", action="query", prop="revisions", revids=str(revid),
                                               rvprop="ids|timestamp|content", rvslots="main")  # fmt: skip
        read = bot.ask("GET", action="query", prop="revisions", titles=PAGE, curtimestamp="1",
                       rvprop="ids|timestamp|content", rvslots="main")  # fmt: skip
        answers["read_with_curtimestamp"] = read
        base = read["body"]["query"]["pages"][0]["revisions"][0]
        section = (
            "== Battery ==\n" + base["slots"]["main"]["content"].split("== Battery ==\n")[1].split("\n\n")[0]
        )
        csrf = bot.token()
        answers["edit_success"] = bot.ask(
            "POST", action="edit", title=PAGE, section="1", text=section + "\n:Which firmware? ~~~~",
            baserevid=str(base["revid"]), basetimestamp=base["timestamp"], starttimestamp=read["body"]["curtimestamp"],
            nocreate="1", summary="Reply", token=csrf, **{"assert": "user"},
        )  # fmt: skip
        answers["edit_conflict"] = bot.ask(
            "POST", action="edit", title=PAGE, section="1", text=section + "\n:Something else. ~~~~",
            baserevid=str(base["revid"]), basetimestamp=base["timestamp"], starttimestamp=read["body"]["curtimestamp"],
            nocreate="1", summary="Reply", token=csrf, **{"assert": "user"},
        )  # fmt: skip
        answers["edit_badtoken"] = bot.ask("POST", action="edit", title=PAGE, appendtext="x", token="nonsense+\\",
                                           **{"assert": "user"})  # fmt: skip
        OUT.mkdir(parents=True, exist_ok=True)
        for name, answer in answers.items():
            (OUT / f"{name}.json").write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        print(f"recorded {len(answers)} answers of {wiki.version} into {OUT}")
    finally:
        wiki.stop()


if __name__ == "__main__":
    missing = why_no_mediawiki()
    if missing:
        sys.exit(missing)
    record()
