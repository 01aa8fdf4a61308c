"""A local X (API v2) on loopback, for `ecoinbox demo` and for the tests.

One aiohttp app plays both of X's hosts: x.com's authorize page (which consents at once and
redirects with the code) and api.x.com (the token endpoint, users/me, mentions, the user's own
posts, recent search, single posts, POST /2/tweets). Faithful to what a client gets wrong most
easily:

- Timelines newest first with `since_id`, `until_id`, `max_results` (5-100 on timelines, 10-100
  on search; 400 outside) and opaque page tokens (`pagination_token` on timelines, `next_token`
  on search); `meta` with `newest_id`, `oldest_id`, `result_count`, `next_token`.
- `expansions`: authors in `includes.users`, the posts replied to in `includes.tweets`.
- `text` HTML-escaped (`&amp; &lt; &gt;`) and links wrapped in t.co (`entities.urls`).
- OAuth 2.0 with PKCE (S256 checked, codes valid 30 s), access tokens of 2 h, refresh tokens
  rotated at each use (the old one is spent).
- `x-rate-limit-limit/remaining/reset` (epoch seconds) per endpoint and user, 15-minute windows,
  429 past them with X's problem body; a usage cap (credits) as 429 `usage-capped`.
- Replies only where the brand was summoned (mentioned by the post it answers, or answering the
  brand), 280 weighted characters, duplicate text refused (403), as X does on pay-per-use.

Habits switched on by constructor arguments (the defaults keep the demo as documented):
`short_pages` (X fills a page after filtering: fewer posts than asked, a next_token all the same),
`timeline_lag` (seconds before a new post shows in timelines and search) and
`drop_answer_after_post` (the post is made, the answer never arrives).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import FixedWindow, Handler, LoopbackServer, json_response
from ecoinbox.demo.x.records import DmEvent, Post, User, dm_json, post_json, user_json, wrap_links
from ecoinbox.demo.x.search import matches, parse_query
from ecoinbox.demo.x.site import DEMO_X_REFRESH_TOKEN

__all__ = ["DEMO_CLIENT_ID", "DEMO_REFRESH_TOKEN", "HABITS", "XServer"]

Clock = Callable[[], datetime]

DEMO_CLIENT_ID = "ecoinbox-demo-x-client"
DEMO_REFRESH_TOKEN = DEMO_X_REFRESH_TOKEN
ACCESS_LIFETIME = timedelta(hours=2)
CODE_LIFETIME = timedelta(seconds=30)
RECENT = timedelta(days=7)
WINDOW = 900.0
PROBLEMS = "https://api.twitter.com/2/problems/"
HABITS: dict[str, dict[str, Any]] = {
    "documented": {},
    "x.com": {"short_pages": True, "timeline_lag": 5.0},
}
LIMITS = {"mentions": 450, "tweets": 900, "search": 450, "lookup": 900, "me": 75, "post": 100, "dm": 300,
          "dm_post": 200}  # fmt: skip


@dataclass(slots=True)
class _Code:
    challenge: str
    redirect_uri: str
    issued: datetime


def problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> web.Response:
    """An error as X words it (RFC 7807-like: title, detail, type, status)."""
    return json_response(
        {"title": title, "detail": detail, "type": kind, "status": status, **extra}, status=status
    )


class XServer(LoopbackServer):
    """An in-process X serving one brand account over loopback HTTP.

    `seed` fills it with a week of posts about the brand (`ecoinbox.demo.x.seed`); `tick()` adds
    one more. `refresh_token` is valid from the start (the demo's secret) and, being the demo's
    public one, stays valid when rotated (`keep_first_refresh`); tests turn that off.
    """

    def __init__(
        self,
        *,
        brand: str = "acme",
        seed: int | None = 1,
        client_id: str = DEMO_CLIENT_ID,
        refresh_token: str = DEMO_REFRESH_TOKEN,
        redirect_uri: str = "http://127.0.0.1:8080/callback",
        now: Clock | None = None,
        keep_first_refresh: bool = True,
        short_pages: bool = False,
        timeline_lag: float = 0.0,
        drop_answer_after_post: int = 0,
        rate_limits: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.short_pages = short_pages
        self.timeline_lag = timedelta(seconds=timeline_lag)
        self.drop_answer_after_post = drop_answer_after_post
        self.usage_capped = False
        self.dms_allowed = True  # False: the app's access does not include direct messages (403)
        self.sent_dms: list[DmEvent] = []  # what the brand sent through the API, in order
        self._dms: dict[str, DmEvent] = {}
        self.posted: list[Post] = []  # what the brand posted through the API, in order
        self.token_grants = 0
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._limits = {
            name: FixedWindow(limit, WINDOW) for name, limit in {**LIMITS, **(rate_limits or {})}.items()
        }
        self._users: dict[str, User] = {}
        self._posts: dict[str, Post] = {}
        self._refresh: set[str] = {refresh_token}
        self._permanent = refresh_token if keep_first_refresh else None
        self._access: dict[str, datetime] = {}
        self._codes: dict[str, _Code] = {}
        self._next_id = 1_790_000_000_000_000_000
        self._tick_rng = random.Random(f"x-tick-{seed if seed is not None else 0}")
        self.brand = self.user(brand, "Acme")
        if seed is not None:
            from ecoinbox.demo.x import seed as x_seed

            x_seed.seed_week(self, random.Random(seed), self._now())

    # -- traffic -------------------------------------------------------------------------

    def user(self, username: str, name: str = "") -> User:
        """The account called `username` (created on first use)."""
        known = self._users.get(username.lower())
        if known is None:
            known = User(
                str(1_000_000 + len(self._users) * 7919), username, name or username.replace("_", " ").title()
            )
            self._users[username.lower()] = known
        return known

    def add_post(
        self,
        *,
        author: str,
        text: str,
        reply_to: str | None = None,
        lang: str = "en",
        created_at: datetime | None = None,
        broken: bool = False,
    ) -> str:
        """Publish a post (a reply when `reply_to` names one); returns its id."""
        parent = self._posts[reply_to] if reply_to else None
        return self._create(
            self.user(author), text, parent, lang, created_at or self._now(), broken=broken
        ).id

    def tick(self) -> str:
        """One more post: a mention, a question, someone answering the brand."""
        from ecoinbox.demo.x import seed as x_seed

        return x_seed.next_post(self, self._tick_rng, self._now())

    def add_dm(
        self, *, author: str, text: str, to: str | None = None, created_at: datetime | None = None
    ) -> str:
        """A direct message from `author` to the brand (or from the brand to `to`); returns its id."""
        sender = self.user(author)
        other = self.user(to) if to else self.brand
        return self._create_dm(sender, other, text, created_at or self._now()).id

    def _create_dm(self, sender: User, other: User, text: str, at: datetime) -> DmEvent:
        self._next_id += random.Random(self._next_id).randint(1, 4096) * 4096
        ids = sorted((sender.id, other.id), key=int)
        event = DmEvent(str(self._next_id), f"{ids[0]}-{ids[1]}", sender, text, at)
        self._dms[event.id] = event
        return event

    def delete(self, post_id: str) -> None:
        self._posts[post_id].deleted = True

    def post(self, post_id: str) -> dict[str, Any]:
        """A post's JSON as the API shows it."""
        return post_json(self._posts[post_id])

    def replies_to(self, post_id: str) -> list[Post]:
        return [p for p in self._posts.values() if p.reply_to is not None and p.reply_to.id == post_id]

    def expire_access_tokens(self) -> None:
        self._access.clear()

    def revoke(self) -> None:
        """The brand removes ecoinbox under Connected apps: every token stops working."""
        self._refresh.clear()
        self._permanent = None
        self._access.clear()

    def exhaust_rate_limit(self, family: str) -> None:
        self._limits[family].exhaust(self.brand.id, self._now())

    def _create(
        self, author: User, text: str, parent: Post | None, lang: str, at: datetime, *, broken: bool = False
    ) -> Post:
        self._next_id += random.Random(self._next_id).randint(1, 4096) * 4096
        wrapped, urls = wrap_links(text)
        post_id = str(self._next_id)
        conversation = parent.conversation_id if parent is not None else post_id
        post = Post(post_id, author, wrapped, at, conversation, parent, lang, urls, broken=broken)
        self._posts[post_id] = post
        return post

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    # -- the web application -------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/i/oauth2/authorize", self._authorize)
        router.add_post("/2/oauth2/token", self._token)
        router.add_get("/2/users/me", self._me)
        router.add_get("/2/users/{id}/mentions", self._mentions)
        router.add_get("/2/users/{id}/tweets", self._user_posts)
        router.add_get("/2/tweets/search/recent", self._search)
        router.add_get("/2/tweets/{id}", self._lookup)
        router.add_get("/2/tweets", self._lookup_many)
        router.add_post("/2/tweets", self._create_post)
        router.add_get("/2/dm_events", self._dm_events)
        router.add_get("/2/dm_conversations/with/{participant}/dm_events", self._dm_events)
        router.add_post("/2/dm_conversations/with/{participant}/messages", self._send_dm)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return problem(404, "Not Found Error", "Sorry, that page does not exist.")
        if request.path in ("/i/oauth2/authorize", "/2/oauth2/token"):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        expires = self._access.get(token)
        if expires is None or expires <= self._now():
            return problem(401, "Unauthorized", "Unauthorized")
        family = _family(request)
        window = self._limits[family]
        now = self._now()
        used, start = window.hit(self.brand.id, now)
        headers = {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(max(0, window.limit - used)),
            "x-rate-limit-reset": str(math.ceil(start + window.seconds)),
        }
        if used > window.limit:
            response: web.StreamResponse = problem(429, "Too Many Requests", "Too Many Requests")
        elif self.usage_capped and request.method == "GET":
            response = problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                               PROBLEMS + "usage-capped", period="Monthly", scope="Product")  # fmt: skip
        else:
            response = await handler(request)
        response.headers.update(headers)
        return response

    # -- OAuth 2.0 -----------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Consent at once (the demo brand is signed in and approves) and redirect with a code."""
        query = request.query
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != self.redirect_uri:
            return web.Response(
                status=400, text="Something went wrong: you weren't able to give access to the App."
            )
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="Something went wrong: invalid request.")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(query.get("code_challenge", ""), self.redirect_uri, self._now())
        target = URL(self.redirect_uri).update_query(state=query.get("state", ""), code=code)
        raise web.HTTPFound(str(target))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id:
            return json_response(
                {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
                status=401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self._codes.pop(str(form.get("code", "")), None)
            verifier = str(form.get("code_verifier", ""))
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if (
                code is None or self._now() - code.issued > CODE_LIFETIME
                or form.get("redirect_uri") != code.redirect_uri
                or not hmac.compare_digest(digest, code.challenge)
            ):  # fmt: skip
                return _invalid_request("Value passed for the authorization code was invalid.")
        elif grant == "refresh_token":
            old = str(form.get("refresh_token", ""))
            if old not in self._refresh:
                return _invalid_request("Value passed for the token was invalid.")
            if old != self._permanent:
                self._refresh.discard(old)  # rotated: the old one is spent
        else:
            return _invalid_request("Missing required parameter [grant_type].")
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = self._now() + ACCESS_LIFETIME
        self._refresh.add(refresh)
        self.token_grants += 1
        return json_response({
            "token_type": "bearer", "expires_in": int(ACCESS_LIFETIME.total_seconds()), "access_token": access,
            "scope": "tweet.read users.read tweet.write offline.access", "refresh_token": refresh,
        })  # fmt: skip

    # -- reads ---------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return json_response({"data": user_json(self.brand)})

    async def _mentions(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self.brand.id:
            return problem(403, "Forbidden", "You can only read the mentions of the authenticated user.")
        name = self.brand.username.casefold()
        found = [
            p
            for p in self._visible()
            if p.author is not self.brand and name in (m.casefold() for m in p.mentions)
        ]
        return self._timeline(request, found, "pagination_token", 5)

    async def _user_posts(self, request: web.Request) -> web.Response:
        user = next((u for u in self._users.values() if u.id == request.match_info["id"]), None)
        if user is None:
            return _not_found("user", request.match_info["id"])
        found = [p for p in self._visible() if p.author is user]
        start = request.query.get("start_time")
        if start:
            try:
                since = datetime.fromisoformat(start)
            except ValueError:
                return _invalid(
                    "start_time", f"Invalid Request: '{start}' is not a valid RFC 3339 date-time."
                )
            found = [p for p in found if p.created_at >= since]
        return self._timeline(request, found, "pagination_token", 5)

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "")
        if not query or len(query) > 512:
            return _invalid("query", "Invalid Request: the query must be 1 to 512 characters.")
        try:
            parsed = parse_query(query)
        except ValueError as exc:
            return _invalid("query", f"There were errors processing your request: {exc}")
        oldest = self._now() - RECENT
        found = [p for p in self._visible() if p.created_at >= oldest and matches(parsed, p)]
        return self._timeline(request, found, "next_token", 10)

    async def _lookup(self, request: web.Request) -> web.Response:
        post = self._posts.get(request.match_info["id"])
        if post is None or post.deleted:
            return json_response({"errors": [_missing("tweet", request.match_info["id"])]})
        body: dict[str, Any] = {"data": post_json(post)}
        body.update(self._includes([post], request))
        return json_response(body)

    async def _dm_events(self, request: web.Request) -> web.Response:
        if not self.dms_allowed:
            return problem(403, "Forbidden", "Your app does not have access to direct messages on this plan.",
                           PROBLEMS + "client-forbidden", reason="client-not-enrolled")  # fmt: skip
        events = sorted(self._dms.values(), key=lambda e: int(e.id), reverse=True)
        if "participant" in request.match_info:
            other = request.match_info["participant"]
            events = [e for e in events if other in e.conversation_id.split("-")]
        try:
            size = int(request.query.get("max_results", "100"))
        except ValueError:
            size = -1
        if not 1 <= size <= 100:
            return _invalid("max_results", "The `max_results` query parameter value is not between 1 and 100")
        token = request.query.get("pagination_token")
        if token:
            below = _untoken(token)
            if below is None:
                return _invalid(
                    "pagination_token", f"The `pagination_token` query parameter value [{token}] is not valid"
                )
            events = [e for e in events if int(e.id) < below]
        page, rest = events[:size], events[size:]
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = [dm_json(e) for e in page]
            body["meta"].update(newest_id=page[0].id, oldest_id=page[-1].id)
            if "sender_id" in request.query.get("expansions", ""):
                senders = {e.sender.id: e.sender for e in page}
                body["includes"] = {"users": [user_json(u) for u in senders.values()]}
        if rest and page:
            body["meta"]["next_token"] = _token(int(page[-1].id))
        return json_response(body)

    async def _send_dm(self, request: web.Request) -> web.StreamResponse:
        if not self.dms_allowed:
            return problem(403, "Forbidden", "Your app does not have access to direct messages on this plan.",
                           PROBLEMS + "client-forbidden")  # fmt: skip
        other = next((u for u in self._users.values() if u.id == request.match_info["participant"]), None)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _invalid("body", "Request body is not valid JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        if other is None or other is self.brand:
            return _invalid("participant_id", "The participant is not a user you can message.")
        if not isinstance(text, str) or not text.strip() or len(text) > 10_000:
            return _invalid("text", "A direct message has 1 to 10,000 characters.")
        event = self._create_dm(self.brand, other, text, self._now())
        self.sent_dms.append(event)
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)
        return json_response({"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}},
                             status=201)  # fmt: skip

    async def _lookup_many(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            return _invalid(
                "ids", "The `ids` query parameter value must be 1 to 100 comma-separated post ids"
            )
        found = [self._posts[i] for i in ids if i in self._posts and not self._posts[i].deleted]
        body: dict[str, Any] = {}
        if found:
            body["data"] = [post_json(p) for p in found]
            body.update(self._includes(found, request))
        missing = [i for i in ids if i not in self._posts or self._posts[i].deleted]
        if missing:
            body["errors"] = [_missing("tweet", i) for i in missing]
        return json_response(body)

    def _visible(self) -> list[Post]:
        """Posts timelines show, newest first (a fresh one only after `timeline_lag`)."""
        shown_before = self._now() - self.timeline_lag
        posts = [p for p in self._posts.values() if not p.deleted and p.created_at <= shown_before]
        return sorted(posts, key=lambda p: int(p.id), reverse=True)

    def _timeline(
        self, request: web.Request, posts: list[Post], token_name: str, smallest: int
    ) -> web.Response:
        query = request.query
        try:
            size = int(query.get("max_results", "10"))
        except ValueError:
            size = -1
        if not smallest <= size <= 100:
            return _invalid(
                "max_results",
                f"The `max_results` query parameter value [{query.get('max_results')}] is not between {smallest} and 100",
            )
        since, until = query.get("since_id"), query.get("until_id")
        if since:
            posts = [p for p in posts if int(p.id) > int(since)]
        if until:
            posts = [p for p in posts if int(p.id) < int(until)]
        token = query.get(token_name) or query.get("pagination_token")
        if token:
            below = _untoken(token)
            if below is None:
                return _invalid(
                    token_name, f"The `{token_name}` query parameter value [{token}] is not valid"
                )
            posts = [p for p in posts if int(p.id) < below]
        page, rest = posts[:size], posts[size:]
        if self.short_pages and len(page) > 2 and rest:
            page = page[: len(page) // 2]  # filtered after paging, as X does: a short page, more to come
            rest = posts[len(page) :]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if rest and page:
            meta["next_token"] = _token(int(page[-1].id))
        if not page:
            return json_response({"meta": meta})
        body: dict[str, Any] = {"data": [post_json(p) for p in page]}
        body.update(self._includes(page, request))
        body["meta"] = meta
        return json_response(body)

    def _includes(self, posts: list[Post], request: web.Request) -> dict[str, Any]:
        expansions = set(request.query.get("expansions", "").split(","))
        users: dict[str, User] = {}
        tweets: dict[str, Post] = {}
        if "author_id" in expansions:
            users.update((p.author.id, p.author) for p in posts)
        if "referenced_tweets.id" in expansions:
            for p in posts:
                if p.reply_to is not None and not p.reply_to.deleted:
                    tweets[p.reply_to.id] = p.reply_to
        if "referenced_tweets.id.author_id" in expansions:
            users.update((t.author.id, t.author) for t in tweets.values())
        includes: dict[str, Any] = {}
        if users:
            includes["users"] = [user_json(u) for u in users.values()]
        if tweets:
            includes["tweets"] = [post_json(t) for t in tweets.values()]
        return {"includes": includes} if includes else {}

    # -- writes --------------------------------------------------------------------------

    async def _create_post(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _invalid("body", "Request body is not valid JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _invalid("text", "Post text is empty.")
        from ecoinbox.channels.x.length import MAX_WEIGHTED_LENGTH, weighted_length

        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            return problem(403, "Forbidden", "You are not permitted to perform this action.",
                           errors=[{"message": "Your Tweet text is too long."}])  # fmt: skip
        reply = body.get("reply") if isinstance(body.get("reply"), dict) else None
        parent = None
        if reply is not None:
            parent = self._posts.get(str(reply.get("in_reply_to_tweet_id", "")))
            if parent is None or parent.deleted:
                return problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
            if not self._summoned(parent):
                return problem(403, "Forbidden", "Reply to this conversation is not allowed because you have not "
                               "been mentioned or otherwise engaged by the author of the post you are replying to.")  # fmt: skip
        if any(p.author is self.brand and p.text == wrap_links(text)[0] for p in self._posts.values()):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        post = self._create(self.brand, text, parent, "en", self._now())
        self.posted.append(post)
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            if request.transport is not None:
                request.transport.close()  # made, and the answer never leaves
            return web.Response(status=204)
        return json_response(
            {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}}, status=201
        )

    def _summoned(self, parent: Post) -> bool:
        """Whether the author of `parent` engaged the brand: mentioned it, or answered it."""
        if parent.author is self.brand:
            return True
        mentioned = self.brand.username.casefold() in (m.casefold() for m in parent.mentions)
        return mentioned or (parent.reply_to is not None and parent.reply_to.author is self.brand)


def _family(request: web.Request) -> str:
    path = request.path
    if path.startswith(("/2/dm_events", "/2/dm_conversations")):
        return "dm_post" if request.method == "POST" else "dm"
    if request.method == "POST":
        return "post"
    if path.endswith("/mentions"):
        return "mentions"
    if path.endswith("/tweets") and path.startswith("/2/users/"):
        return "tweets"
    if path.startswith("/2/tweets/search"):
        return "search"
    if path == "/2/users/me":
        return "me"
    return "lookup"


def _token(below: int) -> str:
    """An opaque page token (X's look like "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i")."""
    return base64.b32encode(f"below:{below}".encode()).decode().rstrip("=").lower()


def _untoken(token: str) -> int | None:
    try:
        text = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
    except ValueError:
        return None
    match = re.fullmatch(r"below:(\d+)", text)
    return int(match.group(1)) if match else None


def _invalid(parameter: str, message: str) -> web.Response:
    return json_response({
        "errors": [{"parameters": {parameter: []}, "message": message}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }, status=400)  # fmt: skip


def _invalid_request(description: str) -> web.Response:
    return json_response({"error": "invalid_request", "error_description": description}, status=400)


def _missing(kind: str, value: str) -> dict[str, Any]:
    return {
        "value": value, "detail": f"Could not find {kind} with id: [{value}].", "title": "Not Found Error",
        "resource_type": kind, "parameter": "id", "resource_id": value, "type": PROBLEMS + "resource-not-found",
    }  # fmt: skip


def _not_found(kind: str, value: str) -> web.Response:
    return json_response({"errors": [_missing(kind, value)]})
