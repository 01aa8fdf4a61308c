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

from typing import Any

from aiohttp import web

from ecoinbox.demo.discourse import seed as seeding
from ecoinbox.demo.discourse.bus import MessageBusRoutes
from ecoinbox.demo.discourse.keys import UserApiKeyRoutes
from ecoinbox.demo.discourse.markup import (
    cook,
)
from ecoinbox.demo.discourse.posting import PostingRoutes
from ecoinbox.demo.discourse.reads import ReadRoutes
from ecoinbox.demo.discourse.records import (
    INVALID_API_CREDENTIALS,
    NOT_LOGGED_IN,
    ApiError,
    Caller,
    RateLimiter,
)
from ecoinbox.demo.discourse.search import SearchRoutes
from ecoinbox.demo.discourse.wire import error_json, rate_limited
from ecoinbox.demo.loopback import (
    Handler,
)

# Named habit sets the channel tests run against (constructor keyword arguments).
HABITS: dict[str, dict[str, Any]] = {
    "staff-brand": {},
    "member-brand": {"brand_is_staff": False, "retry_after_header": False},
}


class DiscourseServer(ReadRoutes, SearchRoutes, PostingRoutes, UserApiKeyRoutes, MessageBusRoutes):
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

    # -- lifecycle ---------------------------------------------------------------------------

    # -- traffic -----------------------------------------------------------------------------

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

    def _spend(self, limiter: RateLimiter, key: str) -> None:
        now = self._now()
        wait = limiter.wait(key, now)
        if wait:
            error = rate_limited(wait, limiter.error_code)
            if not self.retry_after_header:
                error.headers = {k: v for k, v in error.headers.items() if k != "Retry-After"}
            raise error
        limiter.hit(key, now)


# -- cooking: raw Markdown to Discourse-like HTML ------------------------------------------------


# -- helpers -----------------------------------------------------------------------------------
