"""A local MediaWiki: the subset of api.php that the mediawiki channel speaks, on loopback.

Taught from Debian's MediaWiki 1.39 (tests/real_mediawiki.py runs it) and the API's documentation:
`format=json&formatversion=2` answers, errors as `{"error": {"code", "info"}}` with status 200,
`action=login` with a login token and a session cookie (a bot password is 32 characters of
base 32 and its login name "User@app"), OAuth 2.0 access tokens as `Authorization: Bearer`,
`assert=user`, `maxlag` (a lagging wiki answers `maxlag` with `Retry-After`), `ratelimited`,
`list=recentchanges` continued with `rccontinue`, `prop=revisions` by titles or revids (with
`rvslots=main` content), `action=edit` of a section with `baserevid`/`basetimestamp` and its
`editconflict`, "~~~~" expanded to the editor's signature at save time, and, when the wiki has
DiscussionTools (`discussiontools=True`), `action=discussiontoolsedit` with `paction=addcomment`
and its `formtoken` (a second comment with the same one is refused).

Switches for what real wikis do: `lag` (seconds of replication lag), `short_pages` (fewer
recent changes per answer than asked), `lose_edit_answers` (the next edits are saved but their
answer is a 504), `conflicts` (someone else saves the section just before the next edits).
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ecoinbox.channels.mediawiki.talk import insert_reply, parse_talk_page
from ecoinbox.demo.loopback import Handler, LoopbackServer, int_param, json_response

SESSION_COOKIE = "acmewiki_session"
EDIT_LIMIT = (90, 60)  # edits per seconds, as MediaWiki gives a bot
BOT_PASSWORD = re.compile(r"[0-9a-w]{32}")  # MediaWiki takes a bot password only in this shape
SECTION_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$", re.MULTILINE)
# MediaWiki's own namespaces, with this wiki's name for the project's: name -> (id, canonical name).
ALL_NAMESPACES = {
    "Media": (-2, "Media"), "Special": (-1, "Special"), "": (0, ""), "Talk": (1, "Talk"), "User": (2, "User"),
    "User talk": (3, "User talk"), "Acme Wiki": (4, "Project"), "Acme Wiki talk": (5, "Project talk"),
    "File": (6, "File"), "File talk": (7, "File talk"), "MediaWiki": (8, "MediaWiki"),
    "MediaWiki talk": (9, "MediaWiki talk"), "Template": (10, "Template"), "Template talk": (11, "Template talk"),
    "Help": (12, "Help"), "Help talk": (13, "Help talk"), "Category": (14, "Category"),
    "Category talk": (15, "Category talk"),
}  # fmt: skip
NAMESPACES = {name: number for name, (number, _) in ALL_NAMESPACES.items() if name}


@dataclass(frozen=True, slots=True)
class Revision:
    revid: int
    title: str
    user: str
    timestamp: datetime
    content: str


@dataclass(frozen=True, slots=True)
class RecentChange:
    rcid: int
    kind: str  # "new" or "edit"
    revision: Revision


def signature(user: str, at: datetime) -> str:
    """What "~~~~" becomes on an English wiki."""
    at = at.astimezone(UTC)
    return f"[[User:{user}|{user}]] ([[User talk:{user}|talk]]) {at:%H:%M}, {at.day} {at:%B %Y} (UTC)"


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def namespace_of(title: str) -> int:
    prefix, colon, _ = title.partition(":")
    return NAMESPACES.get(prefix, 0) if colon else 0


class WikiError(Exception):
    def __init__(self, code: str, info: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(info)
        self.code, self.info, self.headers = code, info, headers or {}


class WikiServer(LoopbackServer):
    """One wiki: pages with their revisions, accounts, sessions and recent changes."""

    def __init__(
        self,
        *,
        name: str = "Acme Wiki",
        bot_logins: dict[str, str] | None = None,
        oauth_tokens: dict[str, str] | None = None,
        discussiontools: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.bot_logins = dict(bot_logins or {})  # "User@app" -> bot password
        self.oauth_tokens = dict(oauth_tokens or {})  # access token -> user
        self.discussiontools = discussiontools
        self.now = now or (lambda: datetime.now(UTC))
        self.pages: dict[str, list[Revision]] = {}
        self.changes: list[RecentChange] = []
        self.sessions: dict[str, dict[str, str]] = {}  # cookie -> user, login token, csrf token
        self.form_tokens: set[str] = set()
        self.edits: dict[str, list[datetime]] = {}
        self.lag = 0
        self.short_pages = 0
        self.lose_edit_answers = 0
        self.conflicts = 0
        self._revids = itertools.count(1)
        self._rcids = itertools.count(1)
        self._rng = random.Random(7)

    # -- the wiki's own changes (tests and the seed) ---------------------------------------------

    def save(self, title: str, content: str, user: str, at: datetime | None = None) -> Revision:
        """A new revision of `title` by `user`, with "~~~~" signed; recorded in recent changes."""
        at = at or self.now()
        content = content.replace("~~~~", signature(user, at))
        history = self.pages.setdefault(title, [])
        revision = Revision(next(self._revids), title, user, at, content)
        self.changes.append(RecentChange(next(self._rcids), "edit" if history else "new", revision))
        history.append(revision)
        return revision

    def comment(self, title: str, user: str, text: str, *, section: str, indent: int = 0,
                at: datetime | None = None) -> Revision:  # fmt: skip
        """`user` writes `text` at the end of `section` (made at the end of the page if new)."""
        at = at or self.now()
        line = f"{':' * indent}{text} {signature(user, at)}"
        content = self.text(title)
        lines = content.split("\n") if content else []
        heading = f"== {section} =="
        if heading in lines:
            end = lines.index(heading) + 1
            while end < len(lines) and not lines[end].startswith("=="):
                end += 1
            while end > 0 and not lines[end - 1].strip():
                end -= 1
            lines[end:end] = [line]
        else:
            lines += ["", heading, line] if lines else [heading, line]
        return self.save(title, "\n".join(lines), user, at)

    def text(self, title: str) -> str:
        history = self.pages.get(title)
        return history[-1].content if history else ""

    # -- routes ----------------------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/api.php", self._api)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update(
                {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
            )
        session_id = request.cookies.get(SESSION_COOKIE) or ""
        fresh = session_id not in self.sessions
        if fresh:
            session_id = secrets.token_hex(16)
            self.sessions[session_id] = {}
        session = self.sessions[session_id]
        lose = False
        try:
            user = self._user(request, session)
            self._check_lag(params)
            if params.get("assert") == "user" and not user:
                raise WikiError(
                    "assertuserfailed", "You are no longer logged in, so the action could not be completed."
                )
            body, lose = self._act(request.method, params, session, user)
        except WikiError as error:
            response = json_response(
                {"error": {"code": error.code, "info": error.info}}, headers=error.headers
            )
        else:
            response = json_response(body)
            if lose:
                response = web.Response(status=504, text="Gateway Timeout")
        if fresh:
            response.set_cookie(SESSION_COOKIE, session_id, httponly=True)
        return response

    def _user(self, request: web.Request, session: dict[str, str]) -> str:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = self.oauth_tokens.get(header.removeprefix("Bearer ").strip())
            if user is None:
                raise WikiError(
                    "mwoauth-invalid-authorization",
                    "The authorization headers in your request are not valid: Invalid access token",
                )
            return user
        return session.get("user", "")

    def _check_lag(self, params: dict[str, str]) -> None:
        wanted = params.get("maxlag")
        if self.lag and wanted is not None and self.lag > int_param(wanted, 0):
            raise WikiError("maxlag", f"Waiting for 127.0.0.1: {self.lag} seconds lagged.",
                            {"Retry-After": str(max(int_param(wanted, 0), 5)), "X-Database-Lag": str(self.lag)})  # fmt: skip

    def _act(
        self, method: str, params: dict[str, str], session: dict[str, str], user: str
    ) -> tuple[Any, bool]:
        action = params.get("action", "help")
        if action == "query":
            return self._query(params, session, user), False
        if method != "POST":
            raise WikiError("mustbeposted", f'The "{action}" module requires a POST request.')
        if action == "login":
            return self._login(params, session), False
        if params.get("token") != session.get("csrf") or not session.get("csrf"):
            raise WikiError("badtoken", "Invalid CSRF token.")
        if action == "edit":
            return self._edit(params, user)
        if action == "discussiontoolsedit" and self.discussiontools:
            return self._add_comment(params, user)
        raise WikiError("badvalue", f'Unrecognized value for parameter "action": {action}.')

    # -- query -----------------------------------------------------------------------------------

    def _query(self, params: dict[str, str], session: dict[str, str], user: str) -> dict[str, Any]:
        query: dict[str, Any] = {}
        answer: dict[str, Any] = {"batchcomplete": True, "query": query}
        meta = set(filter(None, params.get("meta", "").split("|")))
        if "tokens" in meta:
            kind = params.get("type", "csrf")
            if kind == "login":
                session["login"] = secrets.token_hex(16) + "+\\"
                query["tokens"] = {"logintoken": session["login"]}
            else:
                if user and "csrf" not in session:
                    session["csrf"] = secrets.token_hex(16) + "+\\"
                query["tokens"] = {"csrftoken": session.get("csrf", "+\\") if user else "+\\"}
        if "siteinfo" in meta and "general" in params.get("siprop", "general"):
            query["general"] = {
                "sitename": self.name,
                "generator": "MediaWiki 1.39.17",
                "servertime": stamp(self.now()),
            }
        if "siteinfo" in meta:
            if "namespaces" in params.get("siprop", ""):
                query["namespaces"] = {str(number): _namespace(name, number, canonical)
                                       for name, (number, canonical) in ALL_NAMESPACES.items()}  # fmt: skip
            if "extensions" in params.get("siprop", ""):
                query["extensions"] = (
                    [{"type": "other", "name": "DiscussionTools"}] if self.discussiontools else []
                )
        if "userinfo" in meta:
            query["userinfo"] = {"id": 3, "name": user, "ratelimits": {"edit": {"user": {"hits": EDIT_LIMIT[0],
                                 "seconds": EDIT_LIMIT[1]}}}} if user else {"id": 0, "name": "127.0.0.1", "anon": True}  # fmt: skip
        if params.get("list") == "recentchanges":
            query["recentchanges"], more = self._recent_changes(params)
            if more:
                answer["continue"] = {"rccontinue": more, "continue": "-||"}
        if params.get("prop") == "revisions":
            query["pages"] = self._revisions(params)
        if params.get("curtimestamp"):
            answer["curtimestamp"] = stamp(self.now())
        return answer

    def _recent_changes(self, params: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        spaces = {int(each) for each in params.get("rcnamespace", "").split("|") if each.isdigit()}
        kinds = set(params.get("rctype", "edit|new|log").split("|"))
        start = params.get("rcstart")
        after = datetime.fromisoformat(start) if start else None
        limit = min(int_param(params.get("rclimit"), 10), 500)
        if self.short_pages:
            limit = min(limit, self.short_pages)
        resume = ("", 0)
        if params.get("rccontinue"):
            when, _, rcid = params["rccontinue"].partition("|")
            resume = (when, int_param(rcid, 0))
        rows = [
            change for change in self.changes
            if change.kind in kinds and _position(change) >= resume
            and (not spaces or namespace_of(change.revision.title) in spaces)
            and (after is None or change.revision.timestamp.replace(microsecond=0) >= after)
        ]  # fmt: skip
        rows.sort(key=_position)
        page, rest = rows[:limit], rows[limit:]
        more = f"{rest[0].revision.timestamp:%Y%m%d%H%M%S}|{rest[0].rcid}" if rest else None
        return [self._change(change) for change in page], more

    def _change(self, change: RecentChange) -> dict[str, Any]:
        revision = change.revision
        history = self.pages[revision.title]
        old = next((each.revid for each in reversed(history) if each.revid < revision.revid), 0)
        return {"type": change.kind, "ns": namespace_of(revision.title), "title": revision.title,
                "pageid": list(self.pages).index(revision.title) + 1, "revid": revision.revid,
                "old_revid": old, "rcid": change.rcid, "timestamp": stamp(revision.timestamp)}  # fmt: skip

    def _revisions(self, params: dict[str, str]) -> list[dict[str, Any]]:
        props = set(params.get("rvprop", "ids|timestamp|flags|comment|user").split("|"))
        found: dict[str, list[Revision]] = {}
        pages: list[dict[str, Any]] = []
        if "revids" in params:
            wanted = {int(each) for each in params["revids"].split("|") if each.isdigit()}
            for title, history in self.pages.items():
                for revision in history:
                    if revision.revid in wanted:
                        found.setdefault(title, []).append(revision)
        else:
            for title in params.get("titles", "").split("|"):
                title = title.replace("_", " ").strip()
                title = title[:1].upper() + title[1:]
                if title in self.pages:
                    found[title] = [self.pages[title][-1]]
                elif title:
                    pages.append({"ns": namespace_of(title), "title": title, "missing": True})
        for title, revisions in found.items():
            pages.append({"pageid": list(self.pages).index(title) + 1, "ns": namespace_of(title), "title": title,
                          "revisions": [self._revision(revision, props) for revision in revisions]})  # fmt: skip
        return pages

    def _revision(self, revision: Revision, props: set[str]) -> dict[str, Any]:
        history = self.pages[revision.title]
        parent = next((each.revid for each in reversed(history) if each.revid < revision.revid), 0)
        shown: dict[str, Any] = {"revid": revision.revid, "parentid": parent}
        if "timestamp" in props:
            shown["timestamp"] = stamp(revision.timestamp)
        if "user" in props:
            shown["user"] = revision.user
        if "content" in props:
            shown["slots"] = {"main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki",
                                       "content": revision.content}}  # fmt: skip
        return shown

    # -- writes ----------------------------------------------------------------------------------

    def _login(self, params: dict[str, str], session: dict[str, str]) -> dict[str, Any]:
        if not session.get("login") or params.get("lgtoken") != session.get("login"):
            return {"login": {"result": "NeedToken", "token": session.get("login", ""),
                              "info": "The login token is missing or wrong: get one first."}}  # fmt: skip
        name, password = params.get("lgname", ""), params.get("lgpassword", "")
        if "@" not in name or not BOT_PASSWORD.fullmatch(password) or self.bot_logins.get(name) != password:
            return {
                "login": {
                    "result": "Failed",
                    "reason": "Incorrect username or password entered. Please try again.",
                }
            }
        user = name.partition("@")[0]
        session.update({"user": user})
        session.pop("login", None)
        return {"login": {"result": "Success", "lguserid": 3, "lgusername": user}}

    def _throttle(self, user: str) -> None:
        now = self.now()
        recent = [at for at in self.edits.get(user, []) if (now - at).total_seconds() < EDIT_LIMIT[1]]
        if len(recent) >= EDIT_LIMIT[0]:
            raise WikiError("ratelimited", "As an anti-abuse measure, you are limited from performing this action "
                            "too many times in a short space of time, and you have exceeded this limit. "
                            "Please try again in a few minutes.")  # fmt: skip
        self.edits[user] = [*recent, now]

    def _edit(self, params: dict[str, str], user: str) -> tuple[dict[str, Any], bool]:
        title = params.get("title", "").replace("_", " ")
        if title not in self.pages:
            raise WikiError("missingtitle", "The page you specified doesn't exist.")
        self._throttle(user)
        if self.conflicts:
            self.conflicts -= 1
            self.comment(
                title, "Kenji", "Any news on this?", section=self._section_title(title, params), indent=1
            )
        history = self.pages[title]
        latest = history[-1]
        base = next((each for each in history if str(each.revid) == params.get("baserevid")), latest)
        text = params.get("text", "")
        section = params.get("section")
        if section is not None and section.isdigit():
            if base.revid != latest.revid and _section(base.content, int(section)) != _section(
                latest.content, int(section)
            ):
                raise WikiError("editconflict", "Edit conflict.")
            content = _replace_section(latest.content, int(section), text)
        else:
            if base.revid != latest.revid:
                raise WikiError("editconflict", "Edit conflict.")
            content = text
        revision = self.save(title, content, user)
        lose = self.lose_edit_answers > 0
        self.lose_edit_answers -= 1 if lose else 0
        return {"edit": {"result": "Success", "pageid": list(self.pages).index(title) + 1, "title": title,
                         "contentmodel": "wikitext", "oldrevid": latest.revid, "newrevid": revision.revid,
                         "newtimestamp": stamp(revision.timestamp)}}, lose  # fmt: skip

    def _section_title(self, title: str, params: dict[str, str]) -> str:
        page = parse_talk_page(self.text(title))
        index = int_param(params.get("section"), 1)
        return page.sections[index].title if index < len(page.sections) else "Questions"

    def _add_comment(self, params: dict[str, str], user: str) -> tuple[dict[str, Any], bool]:
        """DiscussionTools' addcomment: the reply one level under the named comment, signed."""
        if params.get("paction") != "addcomment":
            raise WikiError("badvalue", "Only paction=addcomment is served here.")
        title = params.get("page", "").replace("_", " ")
        if title not in self.pages:
            raise WikiError("missingtitle", "The page you specified doesn't exist.")
        form_token = params.get("formtoken", "")
        if form_token and form_token in self.form_tokens:
            raise WikiError(
                "discussiontools-formtoken-used", "Comment already posted. Reload the page to see it."
            )
        self._throttle(user)
        name = params.get("commentid") or params.get("commentname", "")
        page = parse_talk_page(self.text(title))
        same_name = [c for c in page.comments if re.sub(r"(-\d{14})-\d+$", r"\1", c.name) == name]
        if "commentid" not in params and len(same_name) > 1:
            raise WikiError("discussiontools-commentname-ambiguous",
                            f"Multiple comments found with the name \"{name}\", commentid is required.")  # fmt: skip
        target = page.comment(name)
        if target is None:
            raise WikiError(
                "discussiontools-commentname-notfound", f'Comment with the name "{name}" not found.'
            )
        index, section_text = insert_reply(page, target, params.get("wikitext", ""))
        revision = self.save(title, _replace_section(self.text(title), index, section_text), user)
        if form_token:
            self.form_tokens.add(form_token)
        lose = self.lose_edit_answers > 0
        self.lose_edit_answers -= 1 if lose else 0
        return {"discussiontoolsedit": {"result": "success", "newrevid": revision.revid}}, lose


def _namespace(name: str, number: int, canonical: str) -> dict[str, Any]:
    """One namespace as siteinfo describes it."""
    shown: dict[str, Any] = {"id": number, "case": "first-letter", "name": name,
                             "subpages": number in (1, 2, 3, 4, 5, 7, 9, 11, 12, 13, 15)}  # fmt: skip
    if canonical:
        shown["canonical"] = canonical
    shown.update({"content": number == 0, "nonincludable": False})
    if number == 8:
        shown["namespaceprotection"] = "editinterface"
    return shown


def _position(change: RecentChange) -> tuple[str, int]:
    """Where a change stands in recentchanges' order (its time, then its id): `rccontinue`."""
    return f"{change.revision.timestamp:%Y%m%d%H%M%S}", change.rcid


def _section_bounds(content: str, index: int) -> tuple[int, int]:
    headings = [match.start() for match in SECTION_HEADING.finditer(content)]
    starts = [0, *headings]
    if index >= len(starts):
        raise WikiError("nosuchsection", f"There is no section {index}.")
    end = starts[index + 1] if index + 1 < len(starts) else len(content)
    return starts[index], end


def _section(content: str, index: int) -> str:
    start, end = _section_bounds(content, index)
    return content[start:end].strip("\n")


def _replace_section(content: str, index: int, text: str) -> str:
    start, end = _section_bounds(content, index)
    after = content[end:]
    return content[:start] + text.strip("\n") + ("\n\n" + after.lstrip("\n") if after.strip() else "\n")
