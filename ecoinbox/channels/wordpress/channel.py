"""The WordPress channel: comments on the brand's blog, through the REST API (wp/v2).

Listens on new comments (approved and, when the account may moderate, held for moderation: a
first-time commenter's question waits there), reads a comment's thread by its `parent` chain,
and replies with `post` + `parent` as the brand's account. Authentication is an application
password over HTTP Basic (`account:app-password`); the password is the channel's token.

Where a poll resumes, and how no comment is skipped: `cursor`.

Comments marked spam (by Akismet or a moderator) and trashed ones are not imported; a comment
held for moderation comes in with `held=True` and again with `held=False` once approved.

Lost authentication is not always a 401: a WordPress that does not accept the application
password (revoked, mistyped, or application passwords unavailable on a site without HTTPS)
serves the request as anonymous. So each poll asks `users/me` first, and a 401 there (or a
`rest_forbidden*` refusal of what only a logged-in account may ask) is an AuthError: the engine
pauses the channel and keeps the cursor where the last authenticated poll left it.

The REST API's root is read from the `Link: <...>; rel="https://api.w.org/"` header of the
site's home page: a site with plain permalinks answers only at `?rest_route=` (see wpsite.py).

WordPress has no idempotency key. An uncertain send is reconciled by reading the parent's
replies (`find_sent`); a resend that WordPress refuses as a duplicate (409 `comment_duplicate`:
same author, post, parent and text) is the earlier copy, looked up and returned as sent.
WordPress does not check a reply's parent (a deleted, trashed or other-post parent all get 201),
so `reply` reads the parent first and refuses, in words, to answer one nobody would see.
"""

from __future__ import annotations

import base64
import html
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import (
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
    register_secret,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, as_int
from ecoinbox.channels.wordpress.comment_text import comment_content, html_text, same_text
from ecoinbox.channels.wordpress.cursor import (
    CURSOR_DATE,
    CURSOR_ID,
    WATCH_AGE,
    WATCH_CAP,
    CommentPage,
    Watch,
    after_param,
    comment_position,
    cursor_of,
    gmt_iso,
    is_readable,
)
from ecoinbox.channels.wpsite import PRETTY_ROOT, ApiRoot, api_root_from_link, author_name, site_path
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

API = "/wp/v2"  # the route prefix, under the API root the site names (/wp-json/ or ?rest_route=)
APP_NAME = "ecoinbox"
APP_ID = "6f0f3d1e-2b4c-4b8e-9a57-ec01b0c5e7a1"  # ecoinbox's application id, the same on every site
MAX_CONTENT_BYTES = 65_525  # comment_content's column, counted in bytes
PAGE = 100  # per_page's maximum
FIRST_RUN = 50  # a first poll imports this many recent comments, not the site's whole history
MAX_PAGES = 20  # per poll; the next poll goes on from the cursor, without a gap
# `after` compares local dates, strictly: step back far enough to cover a DST change's repeated hour.
AFTER_SLACK = timedelta(hours=1)
MAX_CHAIN = 50  # parent links followed at most (hostile data can loop)
RECONCILE_SLACK = timedelta(minutes=2)  # our clock and the site's may disagree
MAX_RECONCILE_PAGES = 5
POST_CACHE = 2048
POST_TEXT_CHARS = 2000  # of a post's text kept for screening (what it is about is said early)

INCLUDE_CHUNK = 100  # ids per `include=` request

_STATUS_ALL = "all"  # approved + held, for an account that may moderate
_STATUS_APPROVED = "approve"


@dataclass(frozen=True, slots=True)
class _Me:
    id: int
    login: str
    name: str
    moderator: bool | None  # None until a request told us


class WordPressChannel(NamedChannel):
    """The brand's account on one WordPress site (self-hosted, REST API at /wp-json/).

    `account` is the user's login name; `password` an application password (Users → Profile →
    Application Passwords). Neither the password nor the Authorization header ever appears in
    `repr`, `str`, an error or a log line.
    """

    kind = "wordpress"

    def __init__(
        self, name: str, base_url: str, password: str, *, account: str | None, timeout: float = 20.0
    ) -> None:
        password = "".join(password.split())  # WordPress shows it in groups of four; spaces do not count
        if not password:
            raise AuthError(f"no application password for channel {name}: run `ecoinbox auth {name}`")
        if not account:
            raise AuthError(
                f"channel {name}: set `account` to the WordPress login the application password belongs to"
            )
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.account = account.strip()
        register_secret(password)
        self._http = HttpClient(
            name, self.base_url, auth_headers=self._auth_headers(password), timeout=timeout
        )
        split = urlsplit(self.base_url)
        self._origin = f"{split.scheme}://{split.netloc}"
        self._root: ApiRoot | None = None  # read from the home page's Link header, once
        self._me: _Me | None = None
        self._status = _STATUS_ALL
        self._posts: OrderedDict[int, tuple[str, str, str]] = OrderedDict()  # id -> (title, link, text)

    def _auth_headers(self, password: str) -> dict[str, str]:
        pair = f"{self.account}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def set_token(self, token: str) -> bool:
        """Use a new application password from now on; False when empty or the one in use."""
        password = "".join(token.split())
        if not password:
            return False
        register_secret(password)
        if not self._http.set_auth_headers(self._auth_headers(password)):
            return False
        self._me = None
        self._status = _STATUS_ALL
        return True

    async def aclose(self) -> None:
        """Close the channel's HTTP client."""
        await self._http.aclose()

    async def capabilities(self) -> Capabilities:
        """Replies always, up to 65,525 bytes of comment HTML; no idempotency key, reconciled."""
        return Capabilities(
            reply=True,
            max_length=MAX_CONTENT_BYTES,
            length_counting="bytes",
            idempotency_window=None,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    def length(self, text: str) -> int:
        """What WordPress counts: the bytes of the comment as sent (special characters escaped)."""
        return len(comment_content(text).encode("utf-8"))

    async def check(self) -> str:
        """Verify the application password; return "@login on host (WordPress, display name)"."""
        self._me = None
        self._root = None
        me = await self._whoami()
        role = "may moderate" if me.moderator else "cannot see comments held for moderation"
        who = one_line(me.login or self.account)
        lines = f"@{who} on {self.host} (WordPress, {one_line(me.name)}, {role})"
        if self._root is not None and self._root.plain:
            lines += (
                "\nthe REST API answers at ?rest_route= (plain permalinks): found from the site's Link header"
            )
        return lines

    # -- the API's address -----------------------------------------------------------------

    async def _api(self, route: str, params: dict[str, str] | None = None) -> str:
        """The absolute URL of `route` (API + "/comments") with its query, on this site."""
        if self._root is None:
            self._root = await self._discover()
        return self._origin + self._root.url(route, params)

    async def _discover(self) -> ApiRoot:
        """The API root the home page names in its Link header (HEAD, then GET where a host
        drops headers on HEAD); /wp-json/ when it names none."""
        home = self.base_url + "/"
        for method in ("HEAD", "GET"):
            response = await self._http.request(method, home, check=False)
            if response.status == 429 or response.status >= 500:
                self._http.raise_for_status(response)
            root = api_root_from_link(response.headers.get("link"))
            if root is not None:
                log.info("channel %s: REST API root %s", self.name, one_line(root.url("/")))
                return root
        return ApiRoot(path=site_path(self.base_url) + PRETTY_ROOT)

    async def _request(
        self, method: str, route: str, params: dict[str, str] | None = None, *, json: Any = None
    ) -> HttpResponse:
        return await self._http.request(method, await self._api(route, params), json=json, check=False)

    async def _get(self, route: str, params: dict[str, str] | None = None) -> Any:
        response = await self._request("GET", route, params)
        self._raise_for(response)
        return response.json()

    # -- who we are ------------------------------------------------------------------------

    async def _logged_in(self) -> _Me:
        """Who we are, asked again: WordPress serves a refused application password as anonymous."""
        if self._me is None:
            return await self._whoami()
        response = await self._request("GET", API + "/users/me")
        self._raise_for(response)
        if as_int(as_dict(response.json()).get("id")) != self._me.id:
            raise AuthError(
                f"channel {self.name}: {self.host} now answers as another user than {self.account}: "
                f"run `ecoinbox auth {self.name}` with {self.account}'s application password",
                status=response.status,
            )
        return self._me

    async def _whoami(self) -> _Me:
        if self._me is not None:
            return self._me
        response = await self._request("GET", API + "/users/me", {"context": "edit"})
        moderator: bool | None = None
        if response.status == 403 and _code(response) == "rest_forbidden_context":
            response = await self._request("GET", API + "/users/me")
            moderator = False
        self._raise_for(response)
        data = as_dict(response.json())
        user_id = as_int(data.get("id"))
        if user_id is None:
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        roles = data.get("roles")
        if moderator is None and isinstance(roles, list):
            moderator = any(role in ("administrator", "editor") for role in roles)
        login = data.get("username") or data.get("slug") or ""
        self._me = _Me(user_id, str(login), str(data.get("name") or login), moderator)
        if moderator is False:
            self._status = _STATUS_APPROVED
        return self._me

    # -- polling ---------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """Comments after `cursor`, and those held or missing before it that have turned up or
        been approved since, oldest first; and the cursor after them."""
        me = await self._logged_in()
        since = cursor_of(cursor)
        watch = Watch.load(cursor)
        if since is None:
            items = await self._recent()
        else:
            items = await self._after(since, watch.top)
        seen = {comment_position(item)[1] for item in items}
        found, gone = await self._recheck(watch, seen)
        watch.update(items, found, gone, first=since is None, now=utc_now())
        emitted = sorted(
            [*items, *(item for item in found if comment_position(item)[1] not in seen)], key=comment_position
        )
        messages = await self._messages(emitted, Origin.MENTION, me)
        next_cursor = dict(cursor)
        if items:
            newest = max(comment_position(item) for item in items)
            if since is None or newest > since:
                next_cursor[CURSOR_DATE], next_cursor[CURSOR_ID] = newest[0], str(newest[1])
        next_cursor.update(watch.dump())
        return PollResult(messages=messages, cursor=next_cursor)

    async def _recheck(self, watch: Watch, seen: set[int]) -> tuple[list[dict[str, Any]], set[int]]:
        """The watched comments that are worth importing now (gaps that turned up, held ones
        approved), and the held ones that are no longer there to read (spam, trash, deleted)."""
        ids = sorted((set(watch.gaps) | set(watch.held)) - seen)
        found: list[dict[str, Any]] = []
        returned: set[int] = set()
        for start in range(0, len(ids), INCLUDE_CHUNK):
            chunk = ids[start : start + INCLUDE_CHUNK]
            params = {"include": ",".join(map(str, chunk)), "per_page": str(INCLUDE_CHUNK), "orderby": "id"}
            page = await self._comments_page(params)
            for item in page.items:
                comment_id = comment_position(item)[1]
                returned.add(comment_id)
                if comment_id in watch.gaps or item.get("status") != "hold":
                    found.append(item)
        gone = set(watch.held) - returned - seen
        return found, gone

    async def _recent(self) -> list[dict[str, Any]]:
        """A first poll: the newest `FIRST_RUN` comments."""
        page = await self._comments_page({"orderby": "date_gmt", "order": "desc", "per_page": str(FIRST_RUN)})
        return sorted(page.items, key=comment_position)

    async def _after(self, since: tuple[str, int], top: int | None) -> list[dict[str, Any]]:
        """Everything after `since`, walking forward a page at a time (keyset on the date); and
        the comments of the first hour back that are newer than `top` by id though older by
        date (written on a web server whose clock is behind), never seen so far."""
        found: dict[int, dict[str, Any]] = {}
        cursor = since
        after = after_param(since[0], AFTER_SLACK)
        page_number = 1
        for _ in range(MAX_PAGES):
            params = {"orderby": "date_gmt", "order": "asc", "per_page": str(PAGE), "after": after}
            if page_number > 1:
                params["page"] = str(page_number)
            page = await self._comments_page(params)
            fresh = [item for item in page.items if comment_position(item) > cursor]
            for item in fresh:
                found[comment_position(item)[1]] = item
            for item in page.items:
                if top is not None and comment_position(item)[1] > top:
                    found[comment_position(item)[1]] = item
            if fresh:
                cursor = max(cursor, *(comment_position(item) for item in fresh))
            if page.size < PAGE or page_number >= page.pages:
                break
            next_after = after_param(cursor[0], timedelta(seconds=1))
            if next_after != after:
                after, page_number = next_after, 1
            else:  # a whole page within one second: page through it
                page_number += 1
        return sorted(found.values(), key=comment_position)

    async def _comments_page(self, params: dict[str, str]) -> CommentPage:
        """One page of comments (in the status this account may read), its items checked."""
        while True:
            # A moderator reads in edit context: it gives author_ip, which Akismet asks for.
            edit = {"context": "edit"} if self._status != _STATUS_APPROVED else {}
            query = {**params, "status": self._status, **edit}
            response = await self._request("GET", API + "/comments", query)
            if (
                response.status == 403
                and _code(response) in ("rest_forbidden_param", "rest_forbidden_context")
                and self._status != _STATUS_APPROVED
            ):
                log.warning(
                    "channel %s: this account cannot read held comments; only approved ones are imported",
                    self.name,
                )
                self._status = _STATUS_APPROVED
                continue
            self._raise_for(response)
            break
        data = response.json()
        if not isinstance(data, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        items = [item for item in data if isinstance(item, dict) and is_readable(item)]
        if len(items) < len(data):
            log.warning(
                "channel %s: skipped %d unreadable comment(s) from %s",
                self.name,
                len(data) - len(items),
                response.where,
            )
        pages = as_int(response.headers.get("x-wp-totalpages"))
        return CommentPage(items, pages if pages is not None else 1, len(data))

    async def _messages(self, items: Iterable[dict[str, Any]], origin: Origin, me: _Me) -> list[Message]:
        items = list(items)
        await self._load_posts({as_int(item.get("post")) or 0 for item in items} - {0})
        messages = []
        for item in items:
            if item.get("status") == "trash":
                continue  # a spam comment comes in, as WordPress's own verdict, and goes to Spam
            messages.append(self._to_message(item, origin, me))
        return messages

    async def _load_posts(self, post_ids: set[int]) -> None:
        """Titles, links and texts of the posts these comments are on (one request, cached; the text
        is for the off-topic signal)."""
        missing = sorted(post_ids - set(self._posts))
        if not missing:
            return
        try:
            data = await self._get(
                API + "/posts", {"include": ",".join(map(str, missing[:100])), "per_page": "100"}
            )
        except AuthError:
            raise
        except (PermanentError, TransientError) as exc:  # titles are a nicety: the comments come anyway
            log.info("channel %s: post titles not read: %s", self.name, exc)
            return
        for post in data if isinstance(data, list) else []:
            post_id = as_int(as_dict(post).get("id"))
            if post_id is None:
                continue
            title = html_text(str(as_dict(post.get("title")).get("rendered") or ""))
            text = html_text(str(as_dict(post.get("content")).get("rendered") or ""))[:POST_TEXT_CHARS]
            self._posts[post_id] = (title, str(post.get("link") or ""), text)
            while len(self._posts) > POST_CACHE:
                self._posts.popitem(last=False)

    def _to_message(self, item: dict[str, Any], origin: Origin, me: _Me) -> Message:
        from ecoinbox.htmltext import html_to_text, plain_to_text
        from ecoinbox.sanitize import safe_url

        comment_id = int(item["id"])
        user = as_int(item.get("author")) or 0
        name = plain_to_text(author_name(item.get("author_name"))).text.strip() or "Anonymous"
        rendered = html_to_text(str(as_dict(item.get("content")).get("rendered") or ""))
        post_id = as_int(item.get("post")) or 0
        title, post_link, post_text = self._posts.get(post_id, ("", "", ""))
        links = list(rendered.links)
        if post_link and (safe := safe_url(post_link)) and safe not in links:
            links.append(safe)
        author_url = safe_url(str(item.get("author_url") or "")) or None
        parent = as_int(item.get("parent")) or 0
        return Message(
            channel=self.name,
            remote_id=str(comment_id),
            author=Author(
                channel=self.name,
                # A guest has no account: their name (and site) is all that identifies them.
                remote_id=str(user) if user else f"guest:{name}|{author_url or ''}",
                handle=name,
                display_name=name,
                url=author_url,
            ),
            text=rendered.text,
            created_at=_timestamp(item["date_gmt"]),
            in_reply_to=str(parent) if parent else None,
            url=safe_url(str(item.get("link") or "")) or None,
            origin=Origin.OURS if user and user == me.id else origin,
            links=tuple(links),
            title=title,
            thread_ref=str(post_id) if post_id else None,
            hidden_characters=rendered.hidden,
            held=item.get("status") == "hold",
            platform_verdict="spam" if item.get("status") == "spam" else "",
            post_text=post_text,
            author_ip=str(item.get("author_ip") or "")[:64],
        )

    # -- threads ---------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The comment with its parents (followed one by one), oldest first."""
        me = await self._whoami()  # read-only, and each poll has asked who we are
        chain: list[dict[str, Any]] = []
        seen: set[int] = set()
        current: int | None = _comment_id(remote_id, self.name)
        while current and current not in seen and len(chain) < MAX_CHAIN:
            seen.add(current)
            try:
                item = as_dict(await self._get(f"{API}/comments/{current}"))
            except AuthError:
                raise
            except PermanentError:
                if (
                    chain
                ):  # a deleted parent, or a held one this account cannot read: the thread starts below it
                    break
                raise
            if not is_readable(item):
                raise TransientError(f"channel {self.name}: malformed comment {current} from {self.host}")
            chain.append(item)
            current = as_int(item.get("parent"))
        return await self._messages(reversed(chain), Origin.CONTEXT, me)

    # -- replying --------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: `parent` links a WordPress reply, no @mention is needed."""
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """POST the reply under `parent`, on its post; a 409 duplicate is the earlier copy.

        The parent is read first: WordPress would publish a reply under a deleted, trashed, spam
        or held comment (nobody sees it) or on another post without a word."""
        me = await self._logged_in()
        parent_id = _comment_id(parent.remote_id, self.name)
        post_id = await self._check_parent(parent, parent_id, me)
        body = {"post": post_id, "parent": parent_id, "content": comment_content(text)}
        response = await self._request("POST", API + "/comments", json=body)
        if response.status == 409 and _code(response) == "comment_duplicate":
            found = await self._find_reply(parent, text, since=None)
            if found is not None:
                return found
            raise PermanentError(
                f"channel {self.name}: WordPress says this reply is already there (comment_duplicate), "
                "but it could not be found: look at the post before sending it again"
            )
        self._raise_for(response)
        try:
            created = self._to_message(as_dict(response.json()), Origin.OURS, me)
        except (KeyError, TypeError, ValueError):
            raise UncertainSend(
                f"channel {self.name}: the reply was sent but {self.host} described it oddly"
            ) from None
        return created

    async def _check_parent(self, parent: Message, parent_id: int, me: _Me) -> int:
        """The post to reply on, once the parent is known to be there, visible and on it."""
        params = {"context": "edit"} if me.moderator else None
        response = await self._request("GET", f"{API}/comments/{parent_id}", params)
        not_sent = f"channel {self.name}: the reply was not sent:"
        if response.status == 404:
            raise PermanentError(f"{not_sent} the comment it answers was deleted on {self.host}")
        if response.status == 403:
            raise PermanentError(
                f"{not_sent} the comment it answers is held for moderation, spam or in the trash, and "
                f"{self.account} may not see it; a reply under it would be invisible: "
                "approve it in wp-admin first"
            )
        self._raise_for(response)
        item = as_dict(response.json())
        status = item.get("status")
        if status in ("trash", "spam"):
            where = "in the trash" if status == "trash" else "marked spam"
            raise PermanentError(
                f"{not_sent} the comment it answers is {where} on {self.host}; "
                "a reply under it would be invisible"
            )
        if status == "hold":
            raise PermanentError(
                f"{not_sent} the comment it answers is held for moderation; a reply under it stays invisible "
                "until it is approved: approve it and reply, or approve it in wp-admin"
            )
        post = as_int(item.get("post"))
        expected = as_int(parent.thread_ref)
        if not post or (expected and post != expected):
            raise PermanentError(f"{not_sent} the comment it answers is no longer on the same post")
        return post

    async def approve(self, remote_id: str) -> None:
        """Approve a held comment (what wp-admin's Approve does); approving an approved one is fine."""
        await self._logged_in()
        comment_id = _comment_id(remote_id, self.name)
        response = await self._request("POST", f"{API}/comments/{comment_id}", json={"status": "approved"})
        if response.status == 403:
            raise PermanentError(
                f"channel {self.name}: {self.account} may not moderate comments on {self.host}: "
                "ask an administrator to make it an Editor, or approve the comment in wp-admin"
            )
        if response.status == 404:
            raise PermanentError(f"channel {self.name}: the comment to approve was deleted on {self.host}")
        self._raise_for(response)
        if as_dict(response.json()).get("status") not in ("approved", None):
            raise PermanentError(f"channel {self.name}: {self.host} did not approve the comment")

    async def _post_of(self, parent: Message) -> int:
        post = as_int(parent.thread_ref)
        if post:
            return post
        item = as_dict(await self._get(f"{API}/comments/{_comment_id(parent.remote_id, self.name)}"))
        post = as_int(item.get("post"))
        if not post:
            raise PermanentError(
                f"channel {self.name}: comment {one_line(parent.remote_id, 40)} is on no post"
            )
        return post

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, published since `since`, if WordPress has it."""
        if parent is None:
            return None  # a blog channel opens no topics
        return await self._find_reply(parent, text, since=since)

    async def _find_reply(self, parent: Message, text: str, since: datetime | None) -> Message | None:
        me = await self._logged_in()
        post_id = await self._post_of(parent)
        params = {
            "post": str(post_id),
            "parent": parent.remote_id,
            "orderby": "date_gmt",
            "order": "desc",
            "per_page": str(PAGE),
        }
        if me.moderator:
            params |= {"author": str(me.id), "context": "edit"}
        if since is not None:
            params["after"] = after_param(gmt_iso(since - RECONCILE_SLACK), AFTER_SLACK)
        for page_number in range(1, MAX_RECONCILE_PAGES + 1):
            page = await self._comments_page({**params, "page": str(page_number)})
            for item in page.items:
                if as_int(item.get("author")) == me.id and same_text(item, text):
                    message = self._to_message(item, Origin.OURS, me)
                    return message
            if page_number >= page.pages:
                return None
        raise TransientError(
            f"channel {self.name}: too many replies under the comment to tell yet whether ours is there"
        )

    # -- errors ----------------------------------------------------------------------------

    def _raise_for(self, response: HttpResponse) -> None:
        """WordPress's own codes: 401 is the password, 403 is a refusal of this request."""
        status = response.status
        if 200 <= status < 300:
            return
        said = one_line(html.unescape(_message(response)))
        code = _code(response)
        detail = f"{status} {code}: {said}" if code else f"{status}: {said}" if said else str(status)
        if status == 401 and (
            code == "rest_not_logged_in"
            or code.startswith("rest_forbidden")
            or code in ("rest_cannot_read", "rest_comment_login_required")
        ):
            raise AuthError(
                f"channel {self.name}: {self.host} served ecoinbox as an anonymous visitor ({code}): "
                f"the application password of {self.account} was revoked or mistyped, or the site "
                "ignores application passwords (they need HTTPS, and a web server that passes the "
                f"Authorization header on). Create a new one and run `ecoinbox auth {self.name}`: "
                "comments are read again from where the channel stopped, replies wait",
                status=401,
            )
        if status == 401:
            raise AuthError(
                f"the application password for channel {self.name} was refused by {response.where} "
                f"({detail}): run `ecoinbox auth {self.name}`",
                status=401,
            )
        if status in (403, 404, 400, 409, 410, 413, 422):
            raise PermanentError(f"channel {self.name}: {response.where} refused the request ({detail})")
        self._http.raise_for_status(response)  # 429, 5xx, redirects: the shared rules


SAFEGUARDS = (
    (
        "a revoked or wrong application password is served as anonymous, not refused: ecoinbox asks "
        "users/me at each poll and pauses the channel, reading again from where it stopped"
    ),
    (
        "an approved comment keeps its old date: ecoinbox asks again for held and skipped comment ids "
        f"each poll (up to {WATCH_CAP}, for {WATCH_AGE.days} days) so a late approval is not missed"
    ),
    "no idempotency key: an uncertain reply is looked up under its parent before any resend",
    (
        "a reply's parent is not checked: ecoinbox refuses to answer a deleted, trashed, spam, held or "
        "moved comment"
    ),
)


# ---------------------------------------------------------------------------------------------
# Helpers (pure)


def authorize_url(base_url: str) -> str:
    """The page where the brand's user creates an application password for ecoinbox; without a
    `success_url`, WordPress shows the new password to copy."""
    query = urlencode({"app_name": APP_NAME, "app_id": APP_ID})
    return f"{base_url.rstrip('/')}/wp-admin/authorize-application.php?{query}"


def _timestamp(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value)[:19])
    return moment.replace(tzinfo=UTC)


def _comment_id(remote_id: str, channel: str) -> int:
    value = as_int(remote_id)
    if value is None:
        raise PermanentError(f"channel {channel}: {one_line(remote_id, 40)!r} is not a comment id")
    return value


def _code(response: HttpResponse) -> str:
    """WordPress's error `code` ("comment_duplicate", "rest_forbidden_param"), or ""."""
    try:
        data = response.json()
    except TransientError:
        return ""
    code = as_dict(data).get("code")
    return one_line(code, 60) if isinstance(code, str) else ""


def _message(response: HttpResponse) -> str:
    try:
        data = response.json()
    except TransientError:
        return ""
    message = as_dict(data).get("message")
    return message if isinstance(message, str) else ""


__all__ = ["APP_NAME", "SAFEGUARDS", "WordPressChannel", "authorize_url"]
