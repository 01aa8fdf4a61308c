"""A local Reddit on loopback, for `ecoinbox demo` and for the tests.

One aiohttp app serves both of Reddit's hosts: the token host (www.reddit.com: the installed
app's authorize page, which consents at once and redirects, and /api/v1/access_token) and the
API host (oauth.reddit.com: inbox listings, search, threads, /api/comment). It reproduces what
a client gets wrong most easily:

- Listings with `before`/`after` fullnames, newest first; an anchor that is not (or no longer)
  in the listing gives an empty listing, as on Reddit.
- Bodies escaped (`&amp;`, `&lt;`, `&gt;`) and `body_html` entity-escaped unless `raw_json=1`.
- Access tokens that expire after an hour (401 + `www-authenticate`), refresh tokens, and a
  token host that answers a bad grant with a 200 `{"error": "invalid_grant"}`.
- `X-Ratelimit-Used/Remaining/Reset` (reset in seconds until the window ends) on every API
  answer, 429 past the limit, and RATELIMIT errors inside a 200 on /api/comment.
- `more` stubs past a thread's `limit` (expanded by /api/morechildren) and "continue this
  thread" stubs past its `depth`; [deleted] and [removed] comments.

Tests can inject faults (`inject`), expire tokens, delete comments, make a subreddit private,
limit writes and read back what was requested and posted.

Habits of the real Reddit that a client must survive, switched on by constructor arguments (the
defaults keep the demo as it was): `filters_after_paging` (pages cut first and [deleted] items
dropped after: fewer items than `limit`, and `after` null in the middle of a listing),
`comment_answer="jquery"` (a comment answered in Reddit's jquery format, RATELIMIT included,
still with a 200), `listing_cache_seconds` (threads served from a copy up to that old) and
`drop_answer_after_post` (the comment is made, the answer never arrives).
`HABITS` names the sets the channel tests run against.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo import DEMO_REDDIT_REFRESH_TOKEN
from ecoinbox.demo.loopback import FixedWindow, Handler, LoopbackServer, json_response
from ecoinbox.demo.reddit.listings import (
    comment_descendants,
    comment_size,
    listing_json,
    mentions_user,
    more_children,
    page_of,
    post_matches,
    search_terms,
    sorted_comments,
)
from ecoinbox.demo.reddit.markup import base36, wants_raw
from ecoinbox.demo.reddit.records import (
    MENTION_TYPES,
    ApiError,
    Comment,
    Grant,
    InboxEntry,
    Post,
    PostedComment,
    User,
)
from ecoinbox.demo.reddit.things import comment_json, inbox_json, post_json
from ecoinbox.demo.reddit.wire import (
    basic_user,
    bearer,
    bounded_int,
    call_handler,
    errors_answer,
    html_page,
    jquery_done,
    jquery_error,
    rate_headers,
)

Clock = Callable[[], datetime]

DEMO_CLIENT_ID = "ecoinbox-demo-client"
DEMO_REFRESH_TOKEN = DEMO_REDDIT_REFRESH_TOKEN
ACCESS_LIFETIME = timedelta(hours=1)
CODE_LIFETIME = timedelta(minutes=10)
MAX_COMMENT = 10_000
TOKEN_PATHS = frozenset({"/api/v1/authorize", "/api/v1/authorize.compact", "/api/v1/access_token"})
# Named habit sets the channel tests run against (constructor keyword arguments).
HABITS: dict[str, dict[str, Any]] = {
    "documented": {},
    "reddit.com": {"filters_after_paging": True, "comment_answer": "jquery", "listing_cache_seconds": 30.0},
}


class RedditServer(LoopbackServer):
    """An in-process Reddit (both hosts) serving one brand account over loopback HTTP.

    `seed` fills it with a day of traffic about the brand (see `ecoinbox.demo.reddit.seed`);
    `tick()` adds one more mention or reply. `refresh_token` is valid from the start (the
    demo's secret); `client_id` and `redirect_uri` are the registered installed app.
    """

    def __init__(
        self,
        *,
        brand: str = "acme",
        seed: int | None = 1,
        client_id: str = DEMO_CLIENT_ID,
        refresh_token: str = DEMO_REFRESH_TOKEN,
        redirect_uri: str = "http://localhost:8080",
        now: Clock | None = None,
        rate_limit: int = 1000,
        rate_window: float = 600.0,
        filters_after_paging: bool = False,
        comment_answer: str = "json",
        drop_answer_after_post: int = 0,
        listing_cache_seconds: float = 0.0,
    ) -> None:
        """Habits (defaults: the documented API, as the demo has always served it):

        - `filters_after_paging`: as reddit.com, a listing page is cut to `limit` items first
          and the [deleted] or removed ones are dropped after, so a page holds fewer items than
          asked, and when any vanished Reddit sets `after` to null although older items follow.
          Deleted comments then stay in the inbox, hidden at read time (False: they leave it).
        - `comment_answer`: "json" answers /api/comment as api_type=json documents it; "jquery"
          answers in the jquery call list Reddit sends for a write without api_type=json
          (errors such as RATELIMIT as `.error.RATELIMIT` calls, still with status 200).
        - `drop_answer_after_post`: the next n comments are made, then the connection is
          closed before the answer (a timeout or a reset on the client's side).
        - `listing_cache_seconds`: a thread (/comments/{post}) is served from a copy of the same
          URL up to that old, as Reddit caches listings (about 30 s): a comment just made may
          not show yet.
        """
        if comment_answer not in ("json", "jquery"):
            raise ValueError("comment_answer is 'json' or 'jquery'")
        super().__init__()
        self.filters_after_paging = filters_after_paging
        self.comment_answer = comment_answer
        self.drop_answer_after_post = drop_answer_after_post
        self.listing_cache_seconds = listing_cache_seconds
        self._thread_cache: dict[str, tuple[datetime, Any]] = {}
        self.brand_name = brand
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.posted: list[PostedComment] = []
        self.token_grants = 0  # successful answers of /api/v1/access_token
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._limits = FixedWindow(rate_limit, rate_window)
        self._users: dict[str, User] = {}
        self._posts: dict[str, Post] = {}
        self._comments: dict[str, Comment] = {}
        self._inbox: list[InboxEntry] = []  # oldest first
        self._private: set[str] = set()
        self._refresh_tokens: set[str] = {refresh_token}
        self._access: dict[str, datetime] = {}  # access token -> expiry
        self._grants: dict[str, Grant] = {}
        self._write_limits: list[tuple[float, bool]] = []  # (seconds, say it in json.ratelimit)
        self._deny_next = False
        self._next_id = 36**5 + 12345
        self._tick_rng = random.Random(f"reddit-tick-{seed if seed is not None else 0}")
        self.brand = self.user(brand)
        if seed is not None:
            from ecoinbox.demo.reddit import seed as reddit_seed

            reddit_seed.seed_day(self, random.Random(seed), self._now())

    # -- traffic -------------------------------------------------------------------------

    def user(self, name: str) -> User:
        """The account called `name` (created on first use)."""
        known = self._users.get(name.lower())
        if known is None:
            known = User(name, f"t2_{self._new_id()}", self._now().timestamp() - 86400 * 400)
            self._users[name.lower()] = known
        return known

    def add_post(
        self,
        *,
        author: str,
        subreddit: str,
        title: str,
        selftext: str = "",
        url: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Publish a post; returns its fullname."""
        post = Post(
            self._new_id(), self.user(author), subreddit, title, selftext,
            self._time(created_at), url=url,
        )  # fmt: skip
        self._posts[post.id] = post
        return post.name

    def add_comment(self, *, author: str, parent: str, body: str, created_at: datetime | None = None) -> str:
        """Comment under `parent` (a t3_ or t1_ fullname); the brand's inbox gets a mention or
        a reply notice as Reddit would send it. Returns the comment's fullname."""
        post, parent_comment = self._parent(parent)
        comment = self._create_comment(self.user(author), post, parent_comment, body, self._time(created_at))
        return comment.name

    def tick(self) -> str:
        """One more piece of traffic (a new mention or someone answering the brand)."""
        from ecoinbox.demo.reddit import seed as reddit_seed

        return reddit_seed.next_item(self, self._tick_rng, self._now())

    def delete(self, fullname: str, *, removed: bool = False) -> None:
        """The author deletes a comment (or a moderator removes it): [deleted] / [removed]."""
        comment = self._comments[fullname.removeprefix("t1_")]
        if removed:
            comment.removed = True
        else:
            comment.deleted = True
        if not self.filters_after_paging:
            self._inbox = [entry for entry in self._inbox if entry.comment is not comment]

    def mark_spam(self, fullname: str) -> None:
        """A moderator (or Reddit's filter) removes a comment as spam: the brand's account, a
        moderator, still reads it, flagged `"spam": true, "removed": true`."""
        self._comments[fullname.removeprefix("t1_")].spam = True

    def edit(self, fullname: str, body: str) -> None:
        comment = self._comments[fullname.removeprefix("t1_")]
        comment.body = body
        comment.edited = self._now().timestamp()

    def lock(self, post: str) -> None:
        self._posts[post.removeprefix("t3_")].locked = True

    def make_private(self, subreddit: str) -> None:
        self._private.add(subreddit.lower())

    def inbox_names(self) -> list[str]:
        """The fullnames in the brand's inbox, newest first."""
        return [entry.name for entry in reversed(self._inbox)]

    def comment(self, fullname: str) -> dict[str, Any]:
        """A comment's JSON as the API shows it (raw)."""
        return comment_json(self._comments[fullname.removeprefix("t1_")], raw=True)

    def brand_comments(self) -> list[str]:
        """The brand's own comments, oldest first."""
        mine = [c for c in self._comments.values() if c.author is self.brand and not c.gone]
        return [c.name for c in sorted(mine, key=lambda c: (c.created, c.id))]

    def newest_post_in(self, subreddit: str) -> str | None:
        posts = [p for p in self._posts_newest() if p.subreddit.lower() == subreddit.lower()]
        return posts[0].name if posts else None

    def replies_to(self, fullname: str) -> list[str]:
        """The fullnames answering a post or comment, oldest first."""
        post, comment = self._parent(fullname)
        return [c.name for c in (comment.replies if comment else post.comments)]

    # -- faults --------------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far expires now (the next API call gets a 401)."""
        self._access.clear()

    def revoke(self) -> None:
        """The brand revokes ecoinbox's access: refresh and access tokens stop working."""
        self._refresh_tokens.clear()
        self._access.clear()

    def add_refresh_token(self, token: str) -> None:
        self._refresh_tokens.add(token)

    def exhaust_rate_limit(self) -> None:
        """Use up the current window of the client id."""
        self._limits.exhaust(self.client_id, self._now())

    def limit_writes(self, seconds: float, *, times: int = 1, in_json: bool = True) -> None:
        """The next `times` comments are refused with a RATELIMIT error inside a 200 (with
        `json.ratelimit` seconds when `in_json`, else only in the message's words)."""
        self._write_limits.extend([(seconds, in_json)] * times)

    def deny_next_authorization(self) -> None:
        """The brand clicks "decline" on the next authorize page."""
        self._deny_next = True

    # -- the web application -------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/v1/authorize", self._authorize)
        router.add_get("/api/v1/authorize.compact", self._authorize)
        router.add_post("/api/v1/access_token", self._access_token)
        router.add_get("/api/v1/me", self._me)
        router.add_get("/message/{where}", self._messages)
        router.add_get("/search", self._search)
        router.add_get("/r/{subreddits}/search", self._search)
        router.add_get("/r/{subreddits}/new", self._new_posts)
        router.add_get("/comments/{article}", self._cached_thread)
        router.add_get("/api/morechildren", self._more_children)
        router.add_get("/api/info", self._info)
        router.add_post("/api/comment", self._post_comment)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return json_response({"message": "Not Found", "error": 404}, status=404)
        if request.path in TOKEN_PATHS:
            return await call_handler(handler, request)
        token = bearer(request)
        expires = self._access.get(token or "")
        if expires is None or expires <= self._now():
            return json_response(
                {"message": "Unauthorized", "error": 401},
                status=401,
                headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        now = self._now()
        used, start = self._limits.hit(self.client_id, now)
        allowed, headers = used <= self._limits.limit, rate_headers(self._limits, used, start, now)
        if allowed:
            response = await call_handler(handler, request)
        else:
            response = json_response({"message": "Too Many Requests", "error": 429}, status=429)
        response.headers.update(headers)
        return response

    # -- token host ----------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Consent at once (the demo brand is signed in and approves) and redirect back."""
        query = request.query
        if query.get("client_id") != self.client_id:
            return html_page("Bad request", "invalid client id", 400)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri != self.redirect_uri:
            return html_page("Bad request", "invalid redirect_uri parameter", 400)
        if query.get("response_type") != "code":
            return html_page("Bad request", "invalid response_type parameter", 400)
        target = URL(redirect_uri)
        state = {"state": query["state"]} if "state" in query else {}
        if self._deny_next:
            self._deny_next = False
            raise web.HTTPFound(str(target.update_query(error="access_denied", **state)))
        code = secrets.token_urlsafe(20)
        self._grants[code] = Grant(
            self.client_id, redirect_uri, query.get("scope", ""),
            query.get("duration") == "permanent", self._now() + CODE_LIFETIME,
        )  # fmt: skip
        raise web.HTTPFound(str(target.update_query(code=code, **state)))

    async def _access_token(self, request: web.Request) -> web.Response:
        if basic_user(request) != self.client_id:
            return json_response({"message": "Unauthorized", "error": 401}, status=401)
        form = await request.post()
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._grants.pop(str(form.get("code") or ""), None)
            if (
                grant is None
                or grant.expires_at <= self._now()
                or form.get("redirect_uri") != grant.redirect_uri
            ):
                return json_response({"error": "invalid_grant"})
            refresh = secrets.token_urlsafe(24) if grant.permanent else None
            if refresh:
                self._refresh_tokens.add(refresh)
            return self._issue(grant.scope, refresh)
        if grant_type == "refresh_token":
            if form.get("refresh_token") not in self._refresh_tokens:
                return json_response({"error": "invalid_grant"})
            return self._issue("identity read history privatemessages submit", None)
        return json_response({"error": "unsupported_grant_type"})

    def _issue(self, scope: str, refresh: str | None) -> web.Response:
        access = secrets.token_urlsafe(24)
        self._access[access] = self._now() + ACCESS_LIFETIME
        self.token_grants += 1
        body: dict[str, Any] = {
            "access_token": access, "token_type": "bearer",
            "expires_in": int(ACCESS_LIFETIME.total_seconds()), "scope": scope,
        }  # fmt: skip
        if refresh:
            body["refresh_token"] = refresh
        return json_response(body)

    # -- API host: reading ---------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "name": self.brand.name, "id": self.brand.fullname.removeprefix("t2_"),
                "created_utc": self.brand.created, "link_karma": 1204, "comment_karma": 5321,
                "is_employee": False, "has_verified_email": True,
            }
        )  # fmt: skip

    async def _messages(self, request: web.Request) -> web.Response:
        where = request.match_info["where"]
        types = {
            "mentions": {"username_mention"},
            "comments": {"comment_reply"},
            "selfreply": {"post_reply"},
            "inbox": set(MENTION_TYPES),
            "unread": set(MENTION_TYPES),
        }.get(where)
        if types is None:
            raise ApiError(404, "Not Found")
        entries = [e for e in reversed(self._inbox) if e.type in types and (where != "unread" or e.new)]
        raw = wants_raw(request)
        page, listing = page_of(entries, request.query, visible=lambda e: not e.comment.gone)
        if request.query.get("mark", "true") != "false":
            for entry in page:
                entry.new = False
        return json_response(listing([inbox_json(e, raw, self.brand.name) for e in page]))

    async def _search(self, request: web.Request) -> web.Response:
        subreddits = self._subreddits(request)
        restrict = subreddits is not None and request.query.get("restrict_sr") in ("1", "true", "on")
        terms = search_terms(request.query.get("q", ""))
        found = [
            post for post in self._posts_newest()
            if (not restrict or post.subreddit.lower() in (subreddits or set()))
            and post.subreddit.lower() not in self._private
            and any(post_matches(post, term) for term in terms)
        ]  # fmt: skip
        page, listing = page_of(found, request.query)
        raw = wants_raw(request)
        return json_response(listing([{"kind": "t3", "data": post_json(p, raw)} for p in page]))

    async def _new_posts(self, request: web.Request) -> web.Response:
        subreddits = self._subreddits(request) or set()
        found = [p for p in self._posts_newest() if p.subreddit.lower() in subreddits]
        page, listing = page_of(found, request.query)
        raw = wants_raw(request)
        return json_response(listing([{"kind": "t3", "data": post_json(p, raw)} for p in page]))

    def _subreddits(self, request: web.Request) -> set[str] | None:
        names = request.match_info.get("subreddits")
        if names is None:
            return None
        wanted = {name.lower() for name in names.split("+") if name}
        private = wanted & self._private
        if private:
            raise ApiError(403, "Forbidden", reason="private")
        return wanted

    async def _thread(self, request: web.Request) -> web.Response:
        post = self._posts.get(request.match_info["article"])
        if post is None:
            raise ApiError(404, "Not Found")
        if post.subreddit.lower() in self._private:
            raise ApiError(403, "Forbidden", reason="private")
        query = request.query
        raw = wants_raw(request)
        sort = query.get("sort", "confidence")
        depth = bounded_int(query.get("depth"), 10, 1, 10)
        budget = [bounded_int(query.get("limit"), 200, 1, 500)]
        focus_id = query.get("comment")
        if focus_id:
            focus = self._comments.get(focus_id)
            if focus is None or focus.post is not post:
                raise ApiError(404, "Not Found")
            levels = bounded_int(query.get("context"), 0, 0, 8)
            chain = [focus]
            while len(chain) <= levels and chain[0].parent is not None:
                chain.insert(0, chain[0].parent)
            tree = [self._chain_json(chain, depth, budget, sort, raw)]
        else:
            tree = self._tree(post.comments, post.name, 0, depth, budget, sort, raw)
        post_listing = listing_json([{"kind": "t3", "data": post_json(post, raw)}])
        return json_response([post_listing, listing_json(tree)])

    async def _cached_thread(self, request: web.Request) -> web.Response:
        """A thread served from a copy up to `listing_cache_seconds` old (the same URL)."""
        if self.listing_cache_seconds <= 0:
            return await self._thread(request)
        now = self._now()
        key = request.path_qs
        cached = self._thread_cache.get(key)
        if cached is not None and (now - cached[0]).total_seconds() < self.listing_cache_seconds:
            return json_response(cached[1])
        response = await self._thread(request)
        if response.status == 200 and response.body is not None:
            self._thread_cache[key] = (now, json.loads(bytes(response.body)))  # type: ignore[arg-type]
        return response

    def _chain_json(
        self, chain: list[Comment], depth: int, budget: list[int], sort: str, raw: bool
    ) -> dict[str, Any]:
        """A focused thread: the ancestors (each with only the next one as its reply), then
        the focal comment with its own replies."""
        head, rest = chain[0], chain[1:]
        thing: dict[str, Any] = {"kind": "t1", "data": comment_json(head, raw)}
        budget[0] -= 1
        if rest:
            thing["data"]["replies"] = listing_json([self._chain_json(rest, depth, budget, sort, raw)])
        elif depth > 1:
            thing["data"]["replies"] = listing_json(self._tree(head.replies, head.name, head.depth + 1, depth - 1,
                                                           budget, sort, raw)) or ""  # fmt: skip
        return thing

    def _tree(
        self, comments: list[Comment], parent: str, level: int, depth: int, budget: list[int], sort: str,
        raw: bool,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Comments as Reddit nests them: `more` stubs past the budget, "continue this thread"
        past the depth; deleted comments without replies left out."""
        shown = [c for c in sorted_comments(comments, sort) if not (c.gone and not c.replies)]
        things: list[dict[str, Any]] = []
        for index, comment in enumerate(shown):
            if budget[0] <= 0:
                rest = shown[index:]
                things.append(
                    more_children(parent, level, [c.id for c in rest], sum(comment_size(c) for c in rest))
                )
                break
            budget[0] -= 1
            data = comment_json(comment, raw)
            if comment.replies and depth > 1:
                data["replies"] = listing_json(self._tree(comment.replies, comment.name, level + 1, depth - 1,
                                                      budget, sort, raw))  # fmt: skip
            elif comment.replies:
                data["replies"] = listing_json([more_children(comment.name, level + 1, [], 0)])
            things.append({"kind": "t1", "data": data})
        return things

    async def _more_children(self, request: web.Request) -> web.Response:
        query = request.query
        post = self._posts.get(query.get("link_id", "").removeprefix("t3_"))
        if post is None:
            raise ApiError(404, "Not Found")
        ids = [i for i in query.get("children", "").split(",") if i][:100]
        wanted = [self._comments[i] for i in ids if i in self._comments and self._comments[i].post is post]
        sort = query.get("sort", "confidence")
        raw = wants_raw(request)
        things: list[dict[str, Any]] = []
        for comment in sorted_comments(wanted, sort):
            for each in [comment, *comment_descendants(comment, sort)]:
                if each.gone and not each.replies:
                    continue
                things.append({"kind": "t1", "data": comment_json(each, raw)})
        return json_response({"json": {"errors": [], "data": {"things": things}}})

    async def _info(self, request: web.Request) -> web.Response:
        raw = wants_raw(request)
        things = []
        for name in request.query.get("id", "").split(","):
            kind, _, thing_id = name.partition("_")
            if kind == "t1" and thing_id in self._comments:
                things.append({"kind": "t1", "data": comment_json(self._comments[thing_id], raw)})
            elif kind == "t3" and thing_id in self._posts:
                things.append({"kind": "t3", "data": post_json(self._posts[thing_id], raw)})
        return json_response(listing_json(things))

    # -- API host: writing ---------------------------------------------------------------

    async def _post_comment(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("api_type") != "json":
            raise ApiError(400, "this client always asks for api_type=json here")
        if self._write_limits:
            seconds, in_json = self._write_limits.pop(0)
            minutes = max(1, round(seconds / 60))
            said = f"Looks like you've been doing that a lot. Take a break for {minutes} minutes before trying again."
            if self.comment_answer == "jquery":
                return json_response(jquery_error("RATELIMIT", "ratelimit", said))
            result: dict[str, Any] = {"errors": [["RATELIMIT", said, "ratelimit"]]}
            if in_json:
                result["ratelimit"] = seconds
            return json_response({"json": result})
        text = str(form.get("text") or "")
        thing_id = str(form.get("thing_id") or "")
        try:
            post, parent = self._parent(thing_id)
        except KeyError:
            return self._refuse(["INVALID_ID", "that is not a valid id", "thing_id"])
        if not text.strip():
            return self._refuse(["NO_TEXT", "we need something here", "text"])
        if len(text) > MAX_COMMENT:
            return self._refuse(["TOO_LONG", f"this is too long (max: {MAX_COMMENT})", "text"])
        if parent is not None and parent.gone:
            return self._refuse(["DELETED_COMMENT", "that comment has been deleted", "parent"])
        if post.locked:
            return self._refuse(["THREAD_LOCKED", "Comments are locked.", "parent"])
        comment = self._create_comment(self.brand, post, parent, text, self._now().timestamp())
        self.posted.append(PostedComment(comment.name, thing_id, text))
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            if request.transport is not None:
                request.transport.close()  # made, and the answer never leaves
            return web.Response(status=204)
        thing = {"kind": "t1", "data": comment_json(comment, wants_raw(request))}
        if self.comment_answer == "jquery":
            return json_response(jquery_done(comment.name))
        return json_response({"json": {"errors": [], "data": {"things": [thing]}}})

    def _refuse(self, error: list[str]) -> web.Response:
        if self.comment_answer == "jquery":
            return json_response(jquery_error(error[0], error[2], error[1]))
        return errors_answer(error)

    # -- the model -----------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    def _time(self, at: datetime | None) -> float:
        return (at if at is not None else self._now()).timestamp()

    def _new_id(self) -> str:
        self._next_id += 1 + self._next_id % 7
        return base36(self._next_id)

    def _parent(self, fullname: str) -> tuple[Post, Comment | None]:
        kind, _, thing_id = fullname.partition("_")
        if kind == "t3" and thing_id in self._posts:
            return self._posts[thing_id], None
        if kind == "t1" and thing_id in self._comments:
            comment = self._comments[thing_id]
            return comment.post, comment
        raise KeyError(fullname)

    def _create_comment(
        self, author: User, post: Post, parent: Comment | None, body: str, at: float
    ) -> Comment:
        comment = Comment(self._new_id(), author, post, parent, body, at)
        self._comments[comment.id] = comment
        (parent.replies if parent is not None else post.comments).append(comment)
        if author is not self.brand:
            kind = None
            if parent is not None and parent.author is self.brand:
                kind = "comment_reply"
            elif parent is None and post.author is self.brand:
                kind = "post_reply"
            elif mentions_user(body, self.brand.name):
                kind = "username_mention"
            if kind:
                self._inbox.append(InboxEntry(kind, comment))
                self._inbox.sort(key=lambda e: (e.comment.created, e.comment.id))
        return comment

    def _posts_newest(self) -> list[Post]:
        return sorted((p for p in self._posts.values() if not p.removed), key=lambda p: (p.created, p.id),
                      reverse=True)  # fmt: skip

    # -- JSON ----------------------------------------------------------------------------


# -- helpers -----------------------------------------------------------------------------------
