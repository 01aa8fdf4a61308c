"""A local Discourse 3.x forum on loopback, for `ecoinbox demo` and for the tests.

It speaks the part of the Discourse API an inbox needs (notifications, latest posts, search,
topics, posting, user API keys) with Discourse's paging (`offset`, `before`, `post_ids[]`,
`page`), its two kinds of keys and their rate limits (429 with `Retry-After` and
`Discourse-Rate-Limit-Error-Code`), its error bodies, and its posting rules: length limits,
unique titles, and the duplicate-body check that staff are exempt from. There is no
idempotency key, as on a real forum. It runs in the caller's event loop, so a Textual app or a
pytest-asyncio test can start it beside itself. Tests can inject faults (`inject`), exhaust a
rate limit, move the clock, and read back what was requested and posted.

Habits of real forums, switched on by constructor arguments (the defaults keep the demo as it
was): `brand_is_staff=False` (the brand is a member: the duplicate-body 422 applies to it and
deleted posts vanish from what it reads), `retry_after_header=False` (a 429 that says how long
only in its body's `extras.wait_seconds`) and `drop_answer_after_post` (the post is made, the
answer never arrives). Posts can be edited (`version` > 1), deleted by their author or by staff
(`user_deleted`, `deleted_at`) and hidden by flags (`hidden`). `HABITS` names the sets the channel
tests run against.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from ecoinbox.demo.discourse import seed as seeding
from ecoinbox.demo.discourse.markup import (
    MENTION,
    QUOTE,
    WORDS,
    avatar_template,
    blurb,
    clean_raw,
    cook,
    excerpt,
    fancy_title,
    folded_words,
    slugify,
)
from ecoinbox.demo.discourse.records import (
    INVALID_API_CREDENTIALS,
    NOT_LOGGED_IN,
    TOO_SIMILAR,
    TOPIC_NOT_FOUND,
    ApiError,
    Caller,
    Category,
    Notification,
    Post,
    PostedForumPost,
    RateLimiter,
    SearchQuery,
    Topic,
    User,
    ids_of,
    needs_login,
    visible_post,
)
from ecoinbox.demo.discourse.search import parse_search, relevance
from ecoinbox.demo.discourse.wire import encrypt_payload, error_json, key_page, rate_limited, truthy
from ecoinbox.demo.loopback import (
    LoopbackServer,
    form_value,
    int_param,
    iso_millis,
    json_response,
    param,
)

Clock = Callable[[], datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

VERSION = "3.4.2"
CHUNK_SIZE = 20  # posts in the first chunk of a topic's post_stream
LATEST_POSTS_PAGE = 50
NOTIFICATIONS_PAGE = 60
SEARCH_PAGE = 50
SEARCH_MIN_TERM = 3  # min_search_term_length
MIN_TITLE, MAX_TITLE = 15, 255  # min/max_topic_title_length
MIN_POST, MAX_POST = 20, 32_000  # min_post_length (and min_first_post_length), max_post_length
UNIQUE_POSTS_WINDOW = timedelta(minutes=5)  # unique_posts_mins
USER_KEY_DAILY_LIMIT = 2_880  # max_user_api_reqs_per_day
AUTH_API_VERSION = 4
ALLOWED_SCOPES = frozenset(
    {
        "read",
        "write",
        "message_bus",
        "push",
        "notifications",
        "session_info",
        "one_time_password",
        "bookmarks_calendar",
        "user_status",
    }
)
ALLOWED_AUTH_REDIRECTS = ("https://api.discourse.org/api/auth_redirect", "discourse://auth_redirect")
# `requests` keeps at most this many (a demo left polling all day must not grow without bound).

# Notification.types in Discourse's app/models/notification.rb.
NOTIFICATION_TYPES: dict[str, int] = {
    "mentioned": 1,
    "replied": 2,
    "quoted": 3,
    "edited": 4,
    "liked": 5,
    "private_message": 6,
    "invited_to_private_message": 7,
    "invitee_accepted": 8,
    "posted": 9,
    "moved_post": 10,
    "linked": 11,
    "granted_badge": 12,
    "invited_to_topic": 13,
    "custom": 14,
    "group_mentioned": 15,
    "group_message_summary": 16,
    "watching_first_post": 17,
    "topic_reminder": 18,
    "liked_consolidated": 19,
    "post_approved": 20,
}
MENTIONED, REPLIED, QUOTED = 1, 2, 3
POSTED, WATCHING_FIRST_POST = 9, 17


# Named habit sets the channel tests run against (constructor keyword arguments).
HABITS: dict[str, dict[str, Any]] = {
    "staff-brand": {},
    "member-brand": {"brand_is_staff": False, "retry_after_header": False},
}


class DiscourseServer(LoopbackServer):
    """An in-process Discourse 3.x forum where the brand has a staff (admin) account.

    `seed` fills it with two weeks of community traffic (see `ecoinbox.demo.discourse.seed`),
    including the canonical help topics that canned replies link to; `tick()` adds one more
    post. Requests authenticate with the admin key (`Api-Key` + `Api-Username`, acting as
    that user) or the user API key (`User-Api-Key`, acting as the brand). `now` is the clock for
    timestamps, rate limits and the duplicate-body window, so a test can move time.
    `api_post_memo_secs` turns on a behaviour of real Discourse that is off by default here:
    an identical `POST /posts.json` made with the admin key within that many seconds (120 on
    a real forum) returns the first answer instead of posting again.
    Start with `await server.start()` or `async with DiscourseServer() as server:`.
    """

    def __init__(
        self,
        *,
        brand_username: str = "acme_team",
        title: str = "Acme Community",
        seed: int | None = 1,
        api_key: str = "demo-api-key",
        user_api_key: str = "demo-user-api-key",
        now: Clock | None = None,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        user_key_rate_limit: int = 20,
        api_post_memo_secs: float = 0.0,
        brand_is_staff: bool = True,
        retry_after_header: bool = True,
        drop_answer_after_post: int = 0,
        message_bus: bool = True,
        long_poll: float = 25.0,
    ) -> None:
        """Habits (defaults: a forum where the brand is an admin, as the demo has always been):

        - `brand_is_staff`: False makes the brand an ordinary member (trust level 2), as when a
          brand answers from a user account: Discourse then refuses the same text from it within
          `unique_posts_mins` (422 "Body is too similar to what you recently posted", in any
          topic) and leaves posts deleted by staff out of what it reads (404 on the post).
        - `retry_after_header`: False sends a 429 without `Retry-After`, the wait only in the
          body's `extras.wait_seconds` (Discourse before 2.4, and proxies that drop the header).
        - `drop_answer_after_post`: the next n posts are made, then the connection is closed
          before the answer (a timeout or a reset on the client's side).
        - `message_bus`: MessageBus at `POST /message-bus/{client_id}/poll`, as Discourse's web
          client uses it: each notification of a user is published on `/notification/{user_id}`
          (its backlog kept, ids per channel), a poll from -1 gets a `/__status` with the last
          id, and a poll with nothing new is held `long_poll` seconds (Discourse: 25). Answers
          are one JSON array (the client sends `Dont-Chunk`). False answers 404: a reverse proxy
          that does not route /message-bus (or a CDN that does not pass long polls).
        """
        super().__init__()
        self.brand_is_staff = brand_is_staff
        self.retry_after_header = retry_after_header
        self.drop_answer_after_post = drop_answer_after_post
        self.message_bus = message_bus
        self.long_poll = long_poll
        self.bus_polls = 0  # MessageBus polls answered
        self._bus: dict[str, list[dict[str, Any]]] = {}  # channel -> its backlog, oldest first
        self._bus_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.brand_username = brand_username
        self.title = title
        self.posted: list[PostedForumPost] = []
        self._api_key = api_key
        self._user_api_key = user_api_key
        self._user_key_revoked = False
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._admin_limits = RateLimiter(rate_limit, rate_window, "admin_api_key_rate_limit")
        self._user_limits = RateLimiter(user_key_rate_limit, 60.0, "user_api_key_limiter_60_secs")
        self._user_daily = RateLimiter(USER_KEY_DAILY_LIMIT, 86_400.0, "user_api_key_limiter_1_day")
        self._memo_window = timedelta(seconds=api_post_memo_secs)
        self._memo: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
        self._users: dict[str, User] = {}  # by lowercase username
        self._categories: dict[str, Category] = {}  # by slug
        self._topics: dict[int, Topic] = {}
        self._posts: dict[int, Post] = {}
        self._notifications: list[Notification] = []  # ascending id
        self._next_id = {"user": 2, "topic": 1, "post": 1, "notification": 1}
        self._callers: dict[int, Caller] = {}  # by id(request), while a request is handled
        self._tick_rng = random.Random(f"tick-{seed if seed is not None else 0}")
        start = self._now()
        self._add_user("system", "system", start - timedelta(days=400), user_id=-1, admin=True)
        self._brand = self._add_user(
            brand_username,
            f"{title.split()[0]} Team",
            start - timedelta(days=400),
            user_id=1,
            admin=brand_is_staff,
            trust_level=4 if brand_is_staff else 2,
        )
        for position, category in enumerate(seeding.CATEGORIES):
            self._categories[category.slug] = Category(
                position + 1,
                category.name,
                category.slug,
                category.color,
                category.description,
                position,
                category.language,
            )
        self._brand.watched_first_post = {
            self._categories[slug].id for slug in seeding.BRAND_WATCHES_FIRST_POST
        }
        if seed is not None:
            seeding.seed_forum(self, random.Random(seed), start)

    # -- lifecycle ---------------------------------------------------------------------------

    # -- traffic -----------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        trust_level: int = 1,
        moderator: bool = False,
        created_at: datetime | None = None,
    ) -> None:
        """Register a forum member (or update the name and trust level of a known one)."""
        at = self._aware(created_at) if created_at is not None else self._now()
        user = self._users.get(username.lower())
        if user is None:
            user = self._add_user(username, name or username, at, trust_level=trust_level)
        user.name = name or user.name
        user.trust_level = trust_level
        user.moderator = user.moderator or moderator

    def add_topic(
        self,
        *,
        author: str,
        title: str,
        raw: str,
        category: str = "support",
        created_at: datetime | None = None,
        mention_brand: bool = False,
        language: str = "en",
    ) -> dict[str, Any]:
        """Open a topic as `author` (registered on first use) in the category with slug
        `category`; returns `{"topic_id", "post_id", "post_number"}`.

        `mention_brand` appends "@brand" to `raw` unless it already mentions it. The brand is
        notified as Discourse would (mention, quote, or a new topic in a category it watches
        for first posts). No validation: seeding may write what the API would refuse.
        Raises KeyError for an unknown category.
        """
        at = self._aware(created_at) if created_at is not None else self._now()
        if mention_brand and self._brand not in self._mentioned(raw):
            raw = f"{raw.rstrip()}\n\n@{self._brand.username}"
        topic = self._create_topic(
            self._user_for(author, at), title, self._categories[category], at, language
        )
        post = self._create_post(topic, topic.user, raw, at, None)
        return ids_of(post)

    def add_post(
        self,
        *,
        topic_id: int,
        author: str,
        raw: str,
        reply_to_post_number: int | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Reply in a topic as `author`; returns `{"topic_id", "post_id", "post_number"}`.

        The brand is notified when the post mentions @brand, replies to or quotes a brand post,
        or is in a topic the brand created (and so watches). Raises KeyError for an unknown
        topic or `reply_to_post_number`.
        """
        topic = self._topics[topic_id]
        if reply_to_post_number is not None and not 1 <= reply_to_post_number <= len(topic.posts):
            raise KeyError(f"no post {reply_to_post_number} in topic {topic_id}")
        at = self._aware(created_at) if created_at is not None else self._now()
        post = self._create_post(topic, self._user_for(author, at), raw, at, reply_to_post_number)
        return ids_of(post)

    def tick(self) -> dict[str, Any]:
        """Add one new realistic post from a deterministic stream (mostly replies in recent
        topics, sometimes to the brand or mentioning it, now and then a new topic); returns the
        post JSON as the brand sees it."""
        draft = seeding.next_post(self._tick_rng, self._open_topics(), self._titles())
        if draft.author.lower() not in self._users:
            self.add_user(draft.author, name=draft.name, trust_level=draft.trust_level)
        if draft.title is not None:
            ids = self.add_topic(
                author=draft.author,
                title=draft.title,
                raw=draft.raw,
                category=draft.category,
                mention_brand=draft.mention_brand,
                language=draft.language,
            )
        else:
            assert draft.topic_id is not None
            raw = f"@{self._brand.username} {draft.raw}" if draft.mention_brand else draft.raw
            ids = self.add_post(
                topic_id=draft.topic_id,
                author=draft.author,
                raw=raw,
                reply_to_post_number=draft.reply_to_post_number,
            )
        return self._post_json(self._posts[ids["post_id"]], self._brand)

    def edit_post(self, post_id: int, raw: str) -> None:
        """Its author edits a post: new raw and cooked, `version` + 1, `updated_at` now."""
        post = self._posts[post_id]
        post.raw, post.cooked = raw, cook(raw, self._known_username)
        post.version += 1
        post.updated_at = self._now()

    def delete_post(self, post_id: int, *, by_author: bool = False) -> None:
        """Delete a post: its author withdraws it (`user_deleted`, the text replaced) or staff
        delete it (`deleted_at`; only staff still see it)."""
        post = self._posts[post_id]
        if by_author:
            post.user_deleted = True
            post.cooked = "<p>(post deleted by author)</p>"
        else:
            post.deleted_at = self._now()

    def hide_post(self, post_id: int) -> None:
        """The community flags a post until it is hidden (`hidden`: true)."""
        self._posts[post_id].hidden = True

    def topic_url(self, topic_id: int) -> str:
        """The topic's public address, `{base_url}/t/{slug}/{topic_id}`. Raises KeyError."""
        return f"{self.base_url}/t/{self._topics[topic_id].slug}/{topic_id}"

    def topic_ids(self) -> list[int]:
        """Every topic id, oldest first."""
        return sorted(self._topics)

    # -- faults ------------------------------------------------------------------------------

    def exhaust_rate_limit(self, *, user_api_key: bool = False) -> None:
        """Use up the current minute of the admin key (or of the user API key)."""
        if user_api_key:
            self._user_limits.exhaust(self._user_api_key, self._now())
        else:
            self._admin_limits.exhaust(self._api_key, self._now())

    # -- the web application -----------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        add_get, add_post, add_put = router.add_get, router.add_post, router.add_put
        add_get("/session/current.json", self._current_session)
        add_get("/site.json", self._site)
        add_get("/about.json", self._about)
        add_get("/categories.json", self._categories_page)
        add_get("/notifications.json", self._notifications_page)
        add_put("/notifications/mark-read.json", self._mark_read)
        add_get("/posts.json", self._latest_posts)
        add_post("/posts.json", self._create)
        add_get(r"/posts/{post_id:\d+}.json", self._get_post)
        add_get(r"/posts/{post_id:\d+}/replies.json", self._post_replies)
        add_get("/search.json", self._search)
        add_get(r"/t/{topic_id:\d+}.json", self._topic)
        add_get(r"/t/{topic_id:\d+}/posts.json", self._topic_posts)
        add_get(r"/t/{slug}/{topic_id:\d+}.json", self._topic)
        add_get("/user-api-key/new", self._authorize_user_api_key)
        add_post("/user-api-key/revoke", self._revoke_user_api_key)
        add_post(r"/message-bus/{client_id}/poll", self._message_bus_poll)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return error_json(ApiError.not_found())
        try:
            caller = self._authenticate(request)
            if getattr(handler, "needs_login", False) and caller.user is None:
                raise ApiError.typed(403, NOT_LOGGED_IN, "not_logged_in")
            self._callers[id(request)] = caller
            return await handler(request)
        except ApiError as error:
            return error_json(error)
        finally:
            self._callers.pop(id(request), None)

    def _authenticate(self, request: web.Request) -> Caller:
        """The acting user from the request's key headers, counted against that key's rate
        limits. Bad credentials are refused on every route, public or not."""
        headers = request.headers
        if "User-Api-Key" in headers:
            if self._user_key_revoked or headers["User-Api-Key"] != self._user_api_key:
                raise ApiError.invalid_access()
            self._spend(self._user_daily, self._user_api_key)
            self._spend(self._user_limits, self._user_api_key)
            return Caller(self._brand, "user_api_key")
        if "Api-Key" in headers:
            user = self._users.get(headers.get("Api-Username", "").lower())
            if headers["Api-Key"] != self._api_key or user is None:
                raise ApiError.invalid_access(INVALID_API_CREDENTIALS)
            self._spend(self._admin_limits, self._api_key)
            return Caller(user, "api_key")
        return Caller(None, None)

    def _caller(self, request: web.Request) -> Caller:
        return self._callers.get(id(request), Caller(None, None))

    def _spend(self, limiter: RateLimiter, key: str) -> None:
        now = self._now()
        wait = limiter.wait(key, now)
        if wait:
            error = rate_limited(wait, limiter.error_code)
            if not self.retry_after_header:
                error.headers = {k: v for k, v in error.headers.items() if k != "Retry-After"}
            raise error
        limiter.hit(key, now)

    # -- handlers: site and session ----------------------------------------------------------

    async def _current_session(self, request: web.Request) -> web.Response:
        user = self._caller(request).user
        if user is None:
            return web.Response(status=404)  # as Discourse: anonymous has no session
        profile = {
            **self._user_json(user),
            "admin": user.admin,
            "moderator": user.moderator,
            "staff": user.staff,
            "trust_level": user.trust_level,
        }
        return json_response({"current_user": profile})

    async def _site(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        return json_response(
            {
                "default_archetype": "regular",
                "notification_types": NOTIFICATION_TYPES,
                "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
                "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
                "filters": ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks"],
                "top_menu_items": ["latest", "new", "unread", "top", "categories"],
                "uncategorized_category_id": self._categories["uncategorized"].id,
                "categories": [self._category_json(c, viewer) for c in self._category_list()],
                "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
            }
        )

    async def _about(self, request: web.Request) -> web.Response:
        staff = [u for u in self._users.values() if u.staff and u.id > 0]
        return json_response(
            {
                "about": {
                    "title": self.title,
                    "description": f"Questions, answers and ideas about {self.title.split()[0]}.",
                    "locale": "en",
                    "version": VERSION,
                    "https": False,
                    "can_see_about_stats": True,
                    "stats": {
                        "topic_count": len(self._topics),
                        "post_count": len(self._posts),
                        "user_count": sum(1 for u in self._users.values() if u.id > 0),
                    },
                    "admins": [self._user_json(u) for u in staff if u.admin],
                    "moderators": [self._user_json(u) for u in staff if u.moderator],
                }
            }
        )

    async def _categories_page(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        return json_response(
            {
                "category_list": {
                    "can_create_category": bool(viewer and viewer.staff),
                    "can_create_topic": viewer is not None,
                    "categories": [self._category_json(c, viewer) for c in self._category_list()],
                }
            }
        )

    # -- handlers: notifications -------------------------------------------------------------

    @needs_login
    async def _notifications_page(self, request: web.Request) -> web.Response:
        user = self._caller(request).user
        assert user is not None
        query = request.query
        limit = min(max(1, int_param(query.get("limit"), NOTIFICATIONS_PAGE)), NOTIFICATIONS_PAGE)
        offset = max(0, int_param(query.get("offset"), 0))
        wanted = query.get("filter")
        mine = [
            n
            for n in reversed(self._notifications)
            if n.user_id == user.id and (wanted != "read" or n.read) and (wanted != "unread" or not n.read)
        ]
        mine.sort(key=lambda n: n.created_at, reverse=True)  # stable: newer id first on ties
        more = [("limit", str(limit)), ("offset", str(offset + limit))]
        if wanted:
            more.insert(0, ("filter", wanted))
        more.append(("username", user.username))
        return json_response(
            {
                "notifications": [self._notification_json(n) for n in mine[offset : offset + limit]],
                "total_rows_notifications": len(mine),
                "seen_notification_id": 0,
                "load_more_notifications": str(URL("/notifications").with_query(more)),
            }
        )

    @needs_login
    async def _mark_read(self, request: web.Request) -> web.Response:
        user = self._caller(request).user
        assert user is not None
        params = await _read_params(request)
        only = int_param(param(params, "id"), 0)
        for notification in self._notifications:
            if notification.user_id == user.id and only in (0, notification.id):
                notification.read = True
        return json_response({"success": "OK"})

    # -- handlers: posts and topics ----------------------------------------------------------

    async def _latest_posts(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        before = int_param(request.query.get("before"), 0)
        newest = self._next_id["post"] - 1  # post ids run 1..newest: nothing is ever deleted
        top = min(newest, before - 1) if before > 0 else newest
        page = [self._posts[i] for i in range(top, max(top - LATEST_POSTS_PAGE, 0), -1)]
        page = [p for p in page if visible_post(p, viewer)]
        return json_response(
            {"latest_posts": [self._post_json(p, viewer, raw=True, listing=True) for p in page]}
        )

    async def _get_post(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        post = self._find_post(request.match_info["post_id"], viewer)
        return json_response(self._post_json(post, viewer, raw=True))

    async def _post_replies(self, request: web.Request) -> web.Response:
        post = self._find_post(request.match_info["post_id"])
        after = max(int_param(request.query.get("after"), 1), 1)
        replies = [
            p
            for p in post.topic.posts
            if p.reply_to_post_number == post.post_number and p.post_number > after
        ][:CHUNK_SIZE]
        viewer = self._caller(request).user
        return json_response([self._post_json(p, viewer) for p in replies])

    async def _topic(self, request: web.Request) -> web.Response:
        topic = self._find_topic(request.match_info["topic_id"])
        viewer = self._caller(request).user
        raw = truthy(request.query.get("include_raw"))
        shown = [p for p in topic.posts if visible_post(p, viewer)]
        first = [self._post_json(p, viewer, raw=raw) for p in shown[:CHUNK_SIZE]]
        return json_response(self._topic_json(topic, viewer, first))

    async def _topic_posts(self, request: web.Request) -> web.Response:
        topic = self._find_topic(request.match_info["topic_id"])
        viewer = self._caller(request).user
        raw = truthy(request.query.get("include_raw"))
        wanted = {int_param(v, 0) for v in request.query.getall("post_ids[]", [])}
        shown = [p for p in topic.posts if visible_post(p, viewer)]
        chosen = [p for p in shown if p.id in wanted] if wanted else shown[:CHUNK_SIZE]
        return json_response(
            {
                "post_stream": {"posts": [self._post_json(p, viewer, raw=raw) for p in chosen]},
                "id": topic.id,
            }
        )

    def _find_post(self, post_id: str, viewer: User | None = None) -> Post:
        post = self._posts.get(int_param(post_id, 0))
        if post is None or not visible_post(post, viewer):
            raise ApiError.not_found()
        return post

    def _find_topic(self, topic_id: str) -> Topic:
        topic = self._topics.get(int_param(topic_id, 0))
        if topic is None:
            raise ApiError.not_found()
        return topic

    # -- handlers: search --------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        term = request.query.get("q") or request.query.get("term") or ""
        page = min(max(int_param(request.query.get("page"), 1), 1), 10)
        query = parse_search(term)
        error = None
        if not query.filtered and len(" ".join(query.terms)) < SEARCH_MIN_TERM:
            found: list[Post] = []
            error = "Your search term is too short."
        else:
            found = self._search_posts(query)
        chosen = found[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
        more = len(found) > page * SEARCH_PAGE
        return json_response(
            {
                "posts": [self._search_post_json(p, query) for p in chosen],
                "topics": [self._topic_list_item(p.topic) for p in chosen],
                "users": [],
                "categories": [],
                "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None,
                    "more_users": None,
                    "more_categories": None,
                    "term": term,
                    "search_log_id": None,
                    "more_full_page_results": True if more else None,
                    "can_create_topic": viewer is not None,
                    "error": error,
                    "extra": {},
                    "post_ids": [p.id for p in chosen],
                    "user_ids": [],
                    "category_ids": [],
                    "tag_ids": [],
                    "group_ids": [],
                },
            }
        )

    def _search_posts(self, query: SearchQuery) -> list[Post]:
        """Matching posts, one per topic as Discourse aggregates them: the first match of each
        topic (or, with order:latest, its newest match, newest topics first)."""
        by_topic: dict[int, list[Post]] = {}
        for post in self._posts.values():  # in id order
            if self._search_matches(post, query):
                by_topic.setdefault(post.topic.id, []).append(post)
        if query.latest:
            chosen = [posts[-1] for posts in by_topic.values()]
            return sorted(chosen, key=lambda p: (p.created_at, p.id), reverse=True)
        chosen = [posts[0] for posts in by_topic.values()]
        return sorted(chosen, key=lambda p: (relevance(p, query), p.created_at), reverse=True)

    def _search_matches(self, post: Post, query: SearchQuery) -> bool:
        if query.after is not None and post.created_at <= query.after:
            return False
        if query.before is not None and post.created_at >= query.before:
            return False
        if query.username is not None and post.user.username.lower() != query.username:
            return False
        if query.category is not None and post.topic.category.slug != query.category:
            return False
        if query.first_only and post.post_number != 1:
            return False
        return all(any(word.startswith(term) for word in post.words) for term in query.terms)

    # -- handlers: posting -------------------------------------------------------------------

    @needs_login
    async def _create(self, request: web.Request) -> web.Response:
        caller = self._caller(request)
        assert caller.user is not None
        params = await _read_params(request)
        memo_key = self._memo_key(request, caller, params)
        remembered = self._memo.get(memo_key) if memo_key else None
        if remembered is not None and self._now() - remembered[0] < self._memo_window:
            return json_response(remembered[2], status=remembered[1])
        try:
            status, body = 200, self._create_post_from(caller.user, params)
        except ApiError as error:
            status, body = error.status, error.body
        else:
            if self.drop_answer_after_post > 0:
                self.drop_answer_after_post -= 1
                if request.transport is not None:
                    request.transport.close()  # made, and the answer never leaves
                return web.Response(status=204)
        if memo_key:
            now = self._now()
            self._memo = {k: v for k, v in self._memo.items() if now - v[0] < self._memo_window}
            self._memo[memo_key] = (now, status, body)
        return json_response(body, status=status)

    def _memo_key(self, request: web.Request, caller: Caller, params: Mapping[str, Any]) -> str:
        """Discourse's `signature_for`: the post parameters, the user, the client's address and
        user agent. Only admin-key requests are remembered, and only when the memo is on."""
        if caller.via != "api_key" or self._memo_window <= timedelta(0) or caller.user is None:
            return ""
        signature = sorted((str(k), str(v)) for k, v in params.items())
        signature += [
            ("ip", request.remote or ""),
            ("ua", request.headers.get("User-Agent", "")),
            ("user", str(caller.user.id)),
        ]
        return hashlib.sha1(repr(signature).encode()).hexdigest()

    def _create_post_from(self, user: User, params: Mapping[str, Any]) -> dict[str, Any]:
        raw = clean_raw(param(params, "raw") or "")
        topic_param = param(params, "topic_id")
        now = self._now()
        if topic_param:
            topic = self._topics.get(int_param(topic_param, 0))
            if topic is None:
                raise ApiError.cannot_post(TOPIC_NOT_FOUND)
            self._check_raw(user, raw, now)
            replying_to = int_param(param(params, "reply_to_post_number"), 0)
            reply_to = replying_to if 1 <= replying_to <= len(topic.posts) else None
            post = self._create_post(topic, user, raw, now, reply_to)
            title = category = None
        else:
            title = " ".join((param(params, "title") or "").split())
            chosen = self._check_new_topic(title, param(params, "category"))
            self._check_raw(user, raw, now)
            topic = self._create_topic(user, title, chosen, now, chosen.language)
            post = self._create_post(topic, user, raw, now, None)
            category = chosen.slug
        entity = {**self._post_json(post, user), "draft_sequence": 0}
        self.posted.append(
            PostedForumPost(
                id=post.id,
                topic_id=topic.id,
                post_number=post.post_number,
                raw=raw,
                title=title,
                category=category,
                reply_to_post_number=post.reply_to_post_number,
                username=user.username,
                json=entity,
            )
        )
        return entity

    def _check_new_topic(self, title: str, category: str | None) -> Category:
        errors = []
        if not title:
            errors.append("Title can't be blank")
        if len(title) < MIN_TITLE:
            errors.append(f"Title is too short (minimum is {MIN_TITLE} characters)")
        elif len(title) > MAX_TITLE:
            errors.append(f"Title is too long (maximum is {MAX_TITLE} characters)")
        elif any(t.title.lower() == title.lower() for t in self._topics.values()):
            errors.append("Title has already been used")
        if errors:
            raise ApiError.cannot_post(*errors)
        chosen = self._find_category(category)
        if chosen is None:
            raise ApiError.cannot_post("Category not found")
        return chosen

    def _find_category(self, wanted: str | None) -> Category | None:
        """By id (as Discourse's composer sends), by name or by slug; none: Uncategorized."""
        if not wanted:
            return self._categories["uncategorized"]
        for category in self._categories.values():
            if wanted in (str(category.id), category.slug) or wanted.lower() == category.name.lower():
                return category
        return None

    def _check_raw(self, user: User, raw: str, now: datetime) -> None:
        if not raw.strip():
            raise ApiError.cannot_post("Body can't be blank")
        length = len(raw.strip())
        if length < MIN_POST:
            raise ApiError.cannot_post(f"Body is too short (minimum is {MIN_POST} characters)")
        if length > MAX_POST:
            raise ApiError.cannot_post(f"Body is too long (maximum is {MAX_POST} characters)")
        if not user.staff and any(
            p.user is user and p.raw == raw and now - p.created_at < UNIQUE_POSTS_WINDOW
            for p in self._posts.values()
        ):
            raise ApiError.cannot_post(TOO_SIMILAR)

    # -- handlers: user API keys -------------------------------------------------------------

    async def _authorize_user_api_key(self, request: web.Request) -> web.StreamResponse:
        """The brand is signed in and approves at once. Without `auth_redirect` the page shows
        the encrypted payload to copy, as Discourse does for apps with no redirect."""
        if request.method == "HEAD":
            return web.Response(headers={"Auth-Api-Version": str(AUTH_API_VERSION)})
        query = request.query
        for name in ("public_key", "nonce", "scopes", "client_id", "application_name"):
            if not query.get(name):
                return key_page("Error", f"<p>param is missing or the value is empty: {name}</p>", 400)
        if not set(query["scopes"].split(",")) <= ALLOWED_SCOPES:
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 403)
        try:
            public_key = serialization.load_pem_public_key(query["public_key"].encode())
        except ValueError:
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 400)
        if not isinstance(public_key, rsa.RSAPublicKey):
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 400)
        redirect = query.get("auth_redirect")
        if redirect is not None and not redirect.startswith(ALLOWED_AUTH_REDIRECTS):
            return key_page("Error", "<p>Sorry, an error has occurred.</p>", 403)
        self._user_key_revoked = False
        payload = encrypt_payload(
            public_key,
            {"key": self._user_api_key, "nonce": query["nonce"], "push": False, "api": AUTH_API_VERSION},
            oaep=query.get("padding") == "oaep",
        )
        if redirect is not None:
            raise web.HTTPFound(str(URL(redirect).update_query(payload=payload)))
        name = html.escape(query["application_name"])
        return key_page(
            "User API Key",
            f"<p>Thank you for authorizing {name}. Please copy the key below and paste it in "
            f'the application.</p>\n<div class="user-api-key-display">\n'
            f'  <code id="user-api-key-payload">{payload}</code>\n</div>',
        )

    async def _revoke_user_api_key(self, request: web.Request) -> web.Response:
        if self._caller(request).via != "user_api_key":
            raise ApiError.not_found()
        self._user_key_revoked = True
        return json_response({"success": "OK"})

    # -- the model ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._aware(self._clock())

    @staticmethod
    def _aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value

    def _add_user(
        self,
        username: str,
        name: str,
        at: datetime,
        *,
        user_id: int | None = None,
        admin: bool = False,
        trust_level: int = 1,
    ) -> User:
        user = User(
            id=user_id if user_id is not None else self._new_id("user"),
            username=username,
            name=name,
            created_at=at,
            trust_level=trust_level,
            admin=admin,
            moderator=admin,
        )
        self._users[username.lower()] = user
        return user

    def _user_for(self, username: str, at: datetime) -> User:
        username = username.lstrip("@")
        return self._users.get(username.lower()) or self._add_user(username, username, at)

    def _create_topic(self, user: User, title: str, category: Category, at: datetime, language: str) -> Topic:
        topic = Topic(self._new_id("topic"), title, slugify(title), category, user, at, language)
        topic.watchers.add(user.id)  # the creator watches their topic
        self._topics[topic.id] = topic
        return topic

    def _create_post(self, topic: Topic, user: User, raw: str, at: datetime, reply_to: int | None) -> Post:
        post = Post(
            id=self._new_id("post"),
            topic=topic,
            user=user,
            post_number=len(topic.posts) + 1,
            raw=raw,
            cooked=cook(raw, self._known_username),
            created_at=at,
            reply_to_post_number=reply_to,
            words=tuple(folded_words(f"{topic.title} {raw}")),
        )
        topic.posts.append(post)
        self._posts[post.id] = post
        self._notify(post)
        return post

    def _known_username(self, name: str) -> str | None:
        user = self._users.get(name.lower())
        return user.username if user is not None else None

    def _mentioned(self, raw: str) -> list[User]:
        found: list[User] = []
        for match in MENTION.finditer(QUOTE.sub("", raw)):
            user = self._users.get(match[1].lower())
            if user is not None and user not in found:
                found.append(user)
        return found

    def _quoted(self, raw: str) -> list[User]:
        found: list[User] = []
        for match in QUOTE.finditer(raw):
            username = (match["meta"] or "").split(",")[0].strip().lower()
            user = self._users.get(username)
            if user is not None and user not in found:
                found.append(user)
        return found

    def _notify(self, post: Post) -> None:
        """One notification per user per post, the strongest reason first, as PostAlerter
        does: mentioned, replied, quoted, then posted (watching the topic) or
        watching_first_post (a new topic in a category watched for first posts)."""
        notified: set[int] = {post.user.id}
        for user in self._mentioned(post.raw):
            self._alert(user, MENTIONED, post, notified)
        parent = self._parent(post)
        if parent is not None:
            self._alert(parent.user, REPLIED, post, notified)
        for user in self._quoted(post.raw):
            self._alert(user, QUOTED, post, notified)
        for user in self._users.values():
            if user.id in post.topic.watchers:
                self._alert(user, POSTED, post, notified)
            elif post.post_number == 1 and post.topic.category.id in user.watched_first_post:
                self._alert(user, WATCHING_FIRST_POST, post, notified)

    def _alert(self, user: User, kind: int, post: Post, notified: set[int]) -> None:
        if user.id in notified or user.id < 0:
            return
        notified.add(user.id)
        notification = Notification(self._new_id("notification"), user.id, kind, post, post.created_at)
        self._notifications.append(notification)
        self._publish(f"/notification/{user.id}", {
            "unread_notifications": sum(1 for n in self._notifications if n.user_id == user.id),
            "last_notification": {"notification": {"id": notification.id, "notification_type": kind,
                                                   "topic_id": post.topic.id, "post_number": post.post_number}},
        })  # fmt: skip

    # -- MessageBus --------------------------------------------------------------------------

    def _publish(self, channel: str, data: dict[str, Any]) -> None:
        """Add a message to a MessageBus channel and wake the long polls waiting (any thread)."""
        backlog = self._bus.setdefault(channel, [])
        backlog.append({"global_id": sum(len(b) for b in self._bus.values()), "message_id": len(backlog) + 1,
                        "channel": channel, "data": data})  # fmt: skip
        for loop, event in list(self._bus_waiters):
            loop.call_soon_threadsafe(event.set)

    async def _message_bus_poll(self, request: web.Request) -> web.Response:
        if not self.message_bus:
            raise ApiError.not_found()
        user = self._caller(request).user
        wanted = await _bus_request(request)
        own = f"/notification/{user.id}" if user is not None else None
        deadline = asyncio.get_running_loop().time() + self.long_poll
        while True:
            answer = self._bus_answer(wanted, own)
            left = deadline - asyncio.get_running_loop().time()
            if answer or left <= 0 or request.query.get("dlp") == "t":
                self.bus_polls += 1
                return web.json_response(answer)
            waiter = (asyncio.get_running_loop(), asyncio.Event())
            self._bus_waiters.append(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(left, 1.0)):  # 1 s steps: a stopping server ends it
                        await waiter[1].wait()
            finally:
                self._bus_waiters.remove(waiter)

    def _bus_answer(self, wanted: dict[str, int], own: str | None) -> list[dict[str, Any]]:
        """The messages past each last id asked; a status for channels asked from -1 or from
        beyond their end. Only the caller's own notification channel has messages for them."""
        answer: list[dict[str, Any]] = []
        status: dict[str, int] = {}
        for channel, last in wanted.items():
            backlog = self._bus.get(channel, []) if channel == own else []
            end = backlog[-1]["message_id"] if backlog else 0
            if last < 0 or last > end:
                status[channel] = end
            else:
                answer.extend(m for m in backlog if m["message_id"] > last)
        if status:
            answer.append({"global_id": -1, "message_id": -1, "channel": "/__status", "data": status})
        return answer

    def _parent(self, post: Post) -> Post | None:
        number = post.reply_to_post_number
        if number is None or not 1 <= number <= len(post.topic.posts):
            return None
        return post.topic.posts[number - 1]

    def _open_topics(self) -> list[seeding.OpenTopic]:
        """Recent topics where a new reply would be natural, most recently active first."""
        topics = sorted(self._topics.values(), key=lambda t: t.posts[-1].id, reverse=True)
        return [
            seeding.OpenTopic(
                topic_id=topic.id,
                language=topic.language,
                category=topic.category.slug,
                posters=tuple(p.user.username for p in topic.posts),
                brand_post_numbers=tuple(p.post_number for p in topic.posts if p.user is self._brand),
            )
            for topic in topics[:12]
            if topic.category.slug != "announcements"
        ]

    def _titles(self) -> set[str]:
        return {topic.title.lower() for topic in self._topics.values()}

    def _category_list(self) -> list[Category]:
        return sorted(self._categories.values(), key=lambda c: c.position)

    # -- rendering ---------------------------------------------------------------------------

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar_template": avatar_template(user.username),
        }

    def _category_json(self, category: Category, viewer: User | None) -> dict[str, Any]:
        topics = [t for t in self._topics.values() if t.category is category]
        return {
            "id": category.id,
            "name": category.name,
            "color": category.color,
            "text_color": "FFFFFF",
            "slug": category.slug,
            "topic_count": len(topics),
            "post_count": sum(len(t.posts) for t in topics),
            "position": category.position,
            "description": f"<p>{html.escape(category.description, quote=False)}</p>",
            "description_text": category.description,
            "description_excerpt": category.description,
            "topic_url": f"/t/about-the-{category.slug}-category",
            "read_restricted": False,
            "permission": 1 if viewer is not None else None,
            "notification_level": 1,
            "can_edit": bool(viewer and viewer.staff),
            "topic_template": None,
            "has_children": False,
            "sort_order": "",
            "sort_ascending": None,
            "show_subcategory_list": False,
            "num_featured_topics": 3,
            "default_view": None,
            "subcategory_list_style": "rows_with_featured_topics",
            "default_top_period": "all",
            "minimum_required_tags": 0,
            "navigate_to_first_post_after_read": False,
            "parent_category_id": None,
            "uploaded_logo": None,
            "uploaded_background": None,
        }

    def _post_json(
        self, post: Post, viewer: User | None, *, raw: bool = False, listing: bool = False
    ) -> dict[str, Any]:
        user, topic = post.user, post.topic
        staff_viewer = bool(viewer and viewer.staff)
        yours = viewer is user
        entity: dict[str, Any] = {
            "id": post.id,
            "name": user.name,
            "username": user.username,
            "avatar_template": avatar_template(user.username),
            "created_at": iso_millis(post.created_at),
            "cooked": post.cooked,
            "post_number": post.post_number,
            "post_type": 1,
            "updated_at": iso_millis(post.updated_at or post.created_at),
            "reply_count": sum(1 for p in topic.posts if p.reply_to_post_number == post.post_number),
            "reply_to_post_number": post.reply_to_post_number,
            "quote_count": 0,
            "incoming_link_count": 0,
            "reads": 1 + post.id % 7,
            "score": 0,
            "yours": yours,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "topic_title": topic.title,
            "category_id": topic.category.id,
            "display_username": user.name,
            "primary_group_name": None,
            "version": post.version,
            "can_edit": yours or staff_viewer,
            "can_delete": yours or staff_viewer,
            "can_recover": staff_viewer,
            "can_wiki": staff_viewer,
            "user_title": None,
            "bookmarked": False,
            "actions_summary": [],
            "moderator": user.moderator,
            "admin": user.admin,
            "staff": user.staff,
            "user_id": user.id,
            "hidden": post.hidden,
            "trust_level": user.trust_level,
            "deleted_at": iso_millis(post.deleted_at) if post.deleted_at else None,
            "user_deleted": post.user_deleted,
            "edit_reason": None,
            "can_view_edit_history": True,
            "wiki": False,
        }
        parent = self._parent(post)
        if parent is not None:
            entity["reply_to_user"] = {
                "username": parent.user.username,
                "name": parent.user.name,
                "avatar_template": avatar_template(parent.user.username),
            }
        if raw:
            entity["raw"] = post.raw
        if listing:
            entity["topic_html_title"] = html.escape(topic.title, quote=False)
            entity["excerpt"] = excerpt(post.cooked, 300)
        return entity

    def _topic_json(
        self, topic: Topic, viewer: User | None, first_posts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        last = topic.posts[-1]
        posters: dict[int, tuple[User, int]] = {}
        for post in topic.posts:
            user, count = posters.get(post.user.id, (post.user, 0))
            posters[post.user.id] = (user, count + 1)
        return {
            "post_stream": {
                "posts": first_posts,
                "stream": [p.id for p in topic.posts if visible_post(p, viewer)],
            },
            "timeline_lookup": [[1, 0]],
            "tags": [],
            "id": topic.id,
            "title": topic.title,
            "fancy_title": fancy_title(topic.title),
            "posts_count": len(topic.posts),
            "created_at": iso_millis(topic.created_at),
            "views": 10 * len(topic.posts) + topic.id % 9,
            "reply_count": len(topic.posts) - 1,
            "like_count": 0,
            "last_posted_at": iso_millis(last.created_at),
            "visible": True,
            "closed": False,
            "archived": False,
            "has_summary": False,
            "archetype": "regular",
            "slug": topic.slug,
            "category_id": topic.category.id,
            "word_count": sum(len(WORDS.findall(p.raw)) for p in topic.posts),
            "deleted_at": None,
            "user_id": topic.user.id,
            "featured_link": None,
            "pinned_globally": False,
            "pinned_at": None,
            "pinned_until": None,
            "image_url": None,
            "slow_mode_seconds": 0,
            "draft": None,
            "draft_key": f"topic_{topic.id}",
            "draft_sequence": 0,
            "unpinned": None,
            "pinned": False,
            "current_post_number": 1,
            "highest_post_number": len(topic.posts),
            "deleted_by": None,
            "has_deleted": False,
            "actions_summary": [],
            "chunk_size": CHUNK_SIZE,
            "bookmarked": False,
            "message_bus_last_id": 0,
            "participant_count": len(posters),
            "details": {
                "can_create_post": viewer is not None,
                "can_reply_as_new_topic": viewer is not None,
                "notification_level": 3 if viewer and viewer.id in topic.watchers else 1,
                "created_by": self._user_json(topic.user),
                "last_poster": self._user_json(last.user),
                "participants": [
                    {
                        **self._user_json(user),
                        "post_count": count,
                        "trust_level": user.trust_level,
                        "admin": user.admin,
                        "moderator": user.moderator,
                    }
                    for user, count in sorted(posters.values(), key=lambda uc: -uc[1])
                ],
            },
        }

    def _topic_list_item(self, topic: Topic) -> dict[str, Any]:
        last = topic.posts[-1]
        return {
            "id": topic.id,
            "title": topic.title,
            "fancy_title": fancy_title(topic.title),
            "slug": topic.slug,
            "posts_count": len(topic.posts),
            "reply_count": len(topic.posts) - 1,
            "highest_post_number": len(topic.posts),
            "created_at": iso_millis(topic.created_at),
            "last_posted_at": iso_millis(last.created_at),
            "bumped": True,
            "bumped_at": iso_millis(last.created_at),
            "archetype": "regular",
            "unseen": False,
            "pinned": False,
            "unpinned": None,
            "visible": True,
            "closed": False,
            "archived": False,
            "bookmarked": None,
            "liked": None,
            "tags": [],
            "category_id": topic.category.id,
        }

    def _search_post_json(self, post: Post, query: SearchQuery) -> dict[str, Any]:
        return {
            "id": post.id,
            "name": post.user.name,
            "username": post.user.username,
            "avatar_template": avatar_template(post.user.username),
            "created_at": iso_millis(post.created_at),
            "like_count": 0,
            "blurb": blurb(post.cooked, query.terms),
            "post_number": post.post_number,
            "topic_id": post.topic.id,
        }

    def _notification_json(self, notification: Notification) -> dict[str, Any]:
        post = notification.post
        topic = post.topic
        return {
            "id": notification.id,
            "user_id": notification.user_id,
            "notification_type": notification.type,
            "read": notification.read,
            "high_priority": False,
            "created_at": iso_millis(notification.created_at),
            "post_number": post.post_number,
            "topic_id": topic.id,
            "fancy_title": fancy_title(topic.title),
            "slug": topic.slug,
            "data": {
                "topic_title": topic.title,
                "original_post_id": post.id,
                "original_post_type": 1,
                "original_username": post.user.username,
                "revision_number": None,
                "display_username": post.user.username,
            },
        }


# -- cooking: raw Markdown to Discourse-like HTML ------------------------------------------------


# -- helpers -----------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Form (urlencoded or multipart) or JSON body, as Rails accepts both."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise ApiError.typed(400, "Invalid JSON in the request body", "invalid_parameters") from None
        if not isinstance(data, dict):
            raise ApiError.typed(400, "Invalid JSON in the request body", "invalid_parameters")
        return data
    form = await request.post()
    return {key: form_value(form, key) for key in form}


async def _bus_request(request: web.Request) -> dict[str, int]:
    """The channels a MessageBus poll asks for, with their last ids (JSON or a form, as
    Discourse's client sends either); `__seq` and the like are not channels."""
    try:
        raw = (
            await request.json() if request.content_type == "application/json" else dict(await request.post())
        )
    except ValueError:
        raise ApiError(400, {"errors": ["invalid MessageBus request"]}) from None
    wanted: dict[str, int] = {}
    for channel, last in raw.items() if isinstance(raw, dict) else []:
        if isinstance(channel, str) and channel.startswith("/"):
            with contextlib.suppress(TypeError, ValueError):
                wanted[channel] = int(last)
    return wanted
