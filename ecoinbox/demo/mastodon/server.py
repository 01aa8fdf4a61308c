"""A local Mastodon 4.3 instance on loopback, for `ecoinbox demo` and for the tests.

It speaks the part of the Mastodon REST API an inbox needs (notifications, hashtag timeline,
search, threads, posting, OAuth) with the real paging (`min_id`/`max_id`/`since_id`, `Link`),
rate-limit headers, `Idempotency-Key` replay and error bodies. It runs in the caller's event
loop, so a Textual app or a pytest-asyncio test can start it beside itself. Tests can inject
faults (`inject`), exhaust the rate limit, move the clock, and read back what was requested
and posted.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import (
    Handler,
    json_response,
    param,
)
from ecoinbox.demo.mastodon import seed as seeding
from ecoinbox.demo.mastodon.oauth import OAuthRoutes
from ecoinbox.demo.mastodon.records import (
    Account,
    ApiError,
    Notification,
    PostedStatus,
    Status,
    by_id,
    descendants,
)
from ecoinbox.demo.mastodon.state import ALL_SCOPES
from ecoinbox.demo.mastodon.streaming import StreamingRoutes
from ecoinbox.demo.mastodon.text import (
    URL_LENGTH,
    WORDS,
    countable_length,
    status_words,
    tags_in,
)
from ecoinbox.demo.mastodon.wire import (
    bearer,
    call_handler,
    hang_up,
    paginate,
    rate_headers,
    read_params,
)

IDEMPOTENCY_TTL = timedelta(hours=1)
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})
CURSOR_PARAMS = frozenset({"max_id", "min_id", "since_id"})
# Reachable without a token, as on a real instance.
PUBLIC_PATHS = frozenset({"/api/v1/instance", "/api/v2/instance", "/api/v1/apps", "/api/v1/streaming/health"})
PUBLIC_PREFIXES = ("/oauth/", "/.well-known/")
# The scopes each authenticated route accepts, any one of them (docs.joinmastodon.org/methods/;
# `read` and `write` cover their `read:*` and `write:*` children).
ROUTE_SCOPES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/accounts/verify_credentials"): frozenset({"read", "read:accounts", "profile"}),
    ("GET", "/api/v1/notifications"): frozenset({"read", "read:notifications"}),
    ("GET", "/api/v1/timelines/tag/{hashtag}"): frozenset({"read", "read:statuses"}),
    ("GET", "/api/v2/search"): frozenset({"read", "read:search"}),
    ("POST", "/api/v1/statuses"): frozenset({"write", "write:statuses"}),
    ("GET", "/api/v1/statuses/{id}"): frozenset({"read", "read:statuses"}),
    ("GET", "/api/v1/statuses/{id}/context"): frozenset({"read", "read:statuses"}),
    ("GET", "/api/v1/accounts/relationships"): frozenset({"read", "read:follows", "follow"}),
    ("GET", "/api/v1/accounts/{id}/statuses"): frozenset({"read", "read:statuses"}),
    # The streaming server's checks: the user stream needs statuses, its notification part
    # notifications (`stream=` picks one on /api/v1/streaming).
    ("GET", "/api/v1/streaming/user"): frozenset({"read", "read:statuses"}),
    ("GET", "/api/v1/streaming/user/notification"): frozenset({"read", "read:notifications"}),
    ("GET", "/api/v1/streaming"): frozenset({"read", "read:notifications", "read:statuses"}),
}
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
# `requests` keeps at most this many (a demo left polling all day must not grow without bound).

# Named sets of habits (`MastodonServer` keywords) of the real servers: channel tests run on each.
HABITS: dict[str, dict[str, Any]] = {
    "mastodon": {},
    "gotosocial-like": {
        "honours_idempotency_key": False,
        "page_cap": 40,
        "bad_token_body": "Unauthorized: token not supplied",
    },
    "gotosocial-400": {
        "honours_idempotency_key": False,
        "page_cap": 40,
        "bad_token_status": 400,
        "bad_token_body": "Invalid Bearer token",
    },
    # Pleroma/Akkoma replay a repeated Idempotency-Key; their refusal wording as remembered
    # from Pleroma's plugs (unverified).
    "akkoma-like": {"page_cap": 40, "bad_token_status": 403, "bad_token_body": "Invalid credentials."},
}


class MastodonServer(OAuthRoutes, StreamingRoutes):
    """An in-process Mastodon 4.3 instance serving one brand account over loopback HTTP.

    `seed` fills it with a realistic day of traffic (see `ecoinbox.demo.mastodon.seed`); `tick()` adds
    one more mention. `now` is the clock for ids, timestamps, rate-limit windows and the
    idempotency window, so a test can move time. Start with `await server.start()` or
    `async with MastodonServer() as server:`. With `stand_in_parents`, a reply to a status the
    server never held (the demo on a generated store) answers a hidden stand-in instead of 404.

    Habits of real servers of the Mastodon API family (the defaults are Mastodon's own):

    - `honours_idempotency_key`: Mastodon replays a `POST /api/v1/statuses` carrying a key it
      saw in the last hour; GoToSocial does not (its issue #2723, the middleware PR #3186 was
      closed unmerged): False publishes every repeat.
    - `page_cap`: the most items one page holds whatever `limit` asks. Mastodon gives 80
      notifications (40 statuses); GoToSocial and Akkoma give 40: a short page is not the end.
    - `bad_token_status` and `bad_token_body`: how a wrong or revoked token is refused. Mastodon:
      401 {"error": "The access token is invalid"}; GoToSocial: 401 {"error": "Unauthorized: token
      not supplied"} (it drops a token it cannot validate); some servers answer 400
      ("Invalid Bearer token").
    - `drop_answer_after_post`: the next N statuses are published, then the connection is closed
      without an answer (a proxy timing out, a server restarting): the client cannot tell.
    - `post_answer_delay`: seconds a status is published before its answer goes out (a slow
      server past the client's timeout).
    - `full_text_search`: False is Mastodon without Elasticsearch: `/api/v2/search` finds no
      status by its words (only by URL), so keyword listening finds nothing.
    - `version` and `source_url`: what the instance says it runs (GoToSocial: "0.17.3",
      "https://github.com/superseriousbusiness/gotosocial").
    - `streaming`: the streaming API (server-sent events: `/api/v1/streaming/user/notification`,
      `/api/v1/streaming/user`, `/api/v1/streaming?stream=user:notification`), pushing each new
      notification of the brand's as `event: notification` and writing ":thump" every
      `heartbeat` seconds, as Mastodon's streaming server does; the instance names it in
      `configuration.urls.streaming` (v2) and `urls.streaming_api` (v1), on this same host, as a
      single-host install does. False answers 404 there: an instance behind a reverse proxy that
      does not route /api/v1/streaming (a common nginx setup missing its streaming `location`),
      or a server without SSE (GoToSocial streams over WebSocket only). Notifications the 4.3
      policy filters are not pushed (Mastodon pushes only what it shows).
    - `streaming_url`: where the instance says it streams, when not on its own host
      (mastodon.social: "wss://streaming.mastodon.social"): another origin.
    - `drop_stream_after`: each stream is cut (the connection reset) after this many events: a
      proxy or load balancer that ends long responses (Cloudflare, nginx `proxy_read_timeout`),
      a streaming server restarted during a deploy. 0 never cuts.
    """

    # -- lifecycle ---------------------------------------------------------------------------

    # -- traffic -----------------------------------------------------------------------------

    def tick(self) -> dict[str, Any]:
        """Add one new realistic mention (a new question, or a customer coming back to a thread
        the brand answered) from a deterministic stream; returns the status JSON."""
        draft = seeding.next_mention(self._tick_rng, self._awaiting_customer())
        return self.add_status(
            author=draft.author,
            text=draft.text,
            in_reply_to_id=draft.in_reply_to_id,
            language=draft.language,
            display_name=draft.display_name,
        )

    def threads(self) -> list[list[dict[str, Any]]]:
        """Every conversation: a root status and its replies in thread order, oldest root first."""
        roots = sorted((s for s in self._statuses.values() if s.parent is None), key=by_id)
        return [[self._status_json(s) for s in [root, *descendants(root)]] for root in roots]

    def edit_status(self, status_id: str, text: str) -> dict[str, Any]:
        """Edit a status as its author does; the brand gets an `update` notification when the
        status mentions it or answers it (Mastodon notifies the accounts that interacted)."""
        status = self._find_status(status_id)
        status.text = text
        status.content = self._render(text)
        status.mentions = self._mentioned(text)
        status.tags = sorted(tags_in(text))
        status.edited_at = self._now()
        replies_to_brand = status.parent is not None and status.parent.account is self._brand
        if status.account is not self._brand and (self._brand in status.mentions or replies_to_brand):
            at = status.edited_at
            update = Notification(self._ids.next(at), at, status.account, status, False, "update")
            bisect.insort(self._notifications, update, key=by_id)
            self._push(update)
        return self._status_json(status)

    def delete_status(self, status_id: str) -> None:
        """Delete a status as its author does: it and its notifications are gone (404)."""
        status = self._find_status(status_id)
        del self._statuses[status_id]
        if status.parent is not None:
            status.parent.replies.remove(status)
        self._notifications = [n for n in self._notifications if n.status is not status]

    def block_brand(self, handle: str) -> None:
        """`handle` blocks the brand: its relationship says `blocked_by` (a reply is not seen)."""
        self._blocked_by.add(self._account_for(handle, None, self._now()).id)

    # -- faults ------------------------------------------------------------------------------

    def set_token(self, token: str, scopes: str = ALL_SCOPES) -> None:
        """Accept `token` (with `scopes`) from now on and refuse the one before (revoked, or rotated)."""
        self._token = token
        self.token_scopes = frozenset(scopes.split())

    def exhaust_rate_limit(self, token: str | None = None) -> None:
        """Use up the current rate-limit window of `token` (default: the server's token)."""
        self._limits.exhaust(token if token is not None else self._token, self._now())

    # -- the web application -----------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/v1/instance", self._instance_v1)
        router.add_get("/api/v2/instance", self._instance_v2)
        router.add_get("/.well-known/oauth-authorization-server", self._oauth_metadata)
        router.add_post("/api/v1/apps", self._create_app)
        router.add_get("/oauth/authorize", self._authorize)
        router.add_post("/oauth/token", self._token_grant)
        router.add_get("/api/v1/accounts/verify_credentials", self._verify_credentials)
        router.add_get("/api/v1/notifications", self._notifications_page)
        router.add_get("/api/v1/timelines/tag/{hashtag}", self._tag_timeline)
        router.add_get("/api/v2/search", self._search)
        router.add_post("/api/v1/statuses", self._post_status)
        router.add_get("/api/v1/statuses/{id}", self._get_status)
        router.add_get("/api/v1/statuses/{id}/context", self._context)
        router.add_get("/api/v1/accounts/relationships", self._relationships)
        router.add_get("/api/v1/accounts/{id}/statuses", self._account_statuses)
        router.add_get("/api/v1/streaming/health", self._streaming_health)
        router.add_get("/api/v1/streaming", self._stream)
        router.add_get("/api/v1/streaming/user", self._stream)
        router.add_get("/api/v1/streaming/user/notification", self._stream)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return json_response({"error": "Record not found"}, status=404)
        if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES):
            return await call_handler(handler, request)
        token = bearer(request)
        if token != self._token:
            headers = {}
            if self.bad_token_status == 401:
                headers["WWW-Authenticate"] = (
                    f'Bearer realm="Doorkeeper", error="invalid_token", '
                    f'error_description="{self.bad_token_body}"'
                )
            return json_response(
                {"error": self.bad_token_body}, status=self.bad_token_status, headers=headers
            )
        used, start = self._limits.hit(token, self._now())
        allowed, limit_headers = used <= self._limits.limit, rate_headers(self._limits, used, start)
        response: web.StreamResponse  # a stream is one too
        if allowed and not self._scopes_allow(request):
            response = json_response({"error": OUTSIDE_SCOPES}, status=403)
        elif allowed:
            response = await call_handler(handler, request)
        else:
            response = json_response({"error": "Too many requests"}, status=429)
        if not response.prepared:  # a stream's head left long ago
            response.headers.update(limit_headers)
        return response

    def _scopes_allow(self, request: web.Request) -> bool:
        if not self.checks_scopes:
            return True
        resource = request.match_info.route.resource
        route = (request.method, resource.canonical if resource is not None else request.path)
        needed = ROUTE_SCOPES.get(route)
        if needed is None or needed & self.token_scopes:
            return True
        self.refused_scopes.append(route)
        return False

    # -- handlers: instance and accounts -----------------------------------------------------

    async def _instance_v2(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "domain": self.domain,
                "title": f"{self.domain} (ecoinbox demo)",
                "version": self.version,
                "source_url": self.source_url,
                "description": "A local Mastodon-compatible server for the ecoinbox demo.",
                "usage": {"users": {"active_month": len(self._accounts)}},
                "thumbnail": {"url": f"https://{self.domain}/packs/media/images/preview.png"},
                "languages": ["en", "fr"],
                "configuration": self._configuration(),
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "api_versions": {"mastodon": 2},
                "contact": {
                    "email": f"admin@{self.domain}",
                    "account": self._account_json(self._brand),
                },
                "rules": [],
            }
        )

    async def _instance_v1(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "uri": self.domain,
                "title": f"{self.domain} (ecoinbox demo)",
                "short_description": "A local Mastodon-compatible server for the ecoinbox demo.",
                "description": "",
                "email": f"admin@{self.domain}",
                "version": self.version,
                "urls": {"streaming_api": self._streaming_url()},
                "stats": {
                    "user_count": sum(1 for a in self._accounts.values() if a.local),
                    "status_count": len(self._statuses),
                    "domain_count": len({a.host for a in self._accounts.values()}),
                },
                "languages": ["en", "fr"],
                "registrations": False,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": self._configuration(),
                "contact_account": self._account_json(self._brand),
                "rules": [],
            }
        )

    def _configuration(self) -> dict[str, Any]:
        return {
            "urls": {"streaming": self._streaming_url()},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": URL_LENGTH,
            },
            "polls": {"max_options": 4, "max_characters_per_option": 50},
        }

    def _streaming_url(self) -> str:
        return self.streaming_url or self.base_url.replace("http://", "ws://", 1)

    async def _verify_credentials(self, request: web.Request) -> web.Response:
        entity = self._account_json(self._brand)
        entity["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "en",
            "note": html.unescape(re.sub(r"<[^>]+>", "", self._brand.note)),
            "fields": [],
        }
        return json_response(entity)

    # -- handlers: reading -------------------------------------------------------------------

    async def _notifications_page(self, request: web.Request) -> web.Response:
        query = request.query
        types = set(query.getall("types[]", [])) or set(query.getall("types", []))
        excluded = set(query.getall("exclude_types[]", [])) | set(query.getall("exclude_types", []))
        include_filtered = query.get("include_filtered", "false").lower() in ("true", "1")
        types |= set(query.getall("include_types[]", []))  # Akkoma/Pleroma spelling
        candidates = [
            n
            for n in self._notifications
            if (not types or n.type in types)
            and n.type not in excluded
            and (include_filtered or not n.filtered)
        ]
        page = paginate(candidates, query, default_limit=40, max_limit=min(80, self.page_cap))
        return json_response(
            [self._notification_json(n) for n in page],
            headers=self._link_headers(request, page),
        )

    async def _tag_timeline(self, request: web.Request) -> web.Response:
        tag = request.match_info["hashtag"].lstrip("#").lower()
        tagged = sorted(
            (s for s in self._statuses.values() if s.visibility == "public" and tag in s.tags),
            key=by_id,
        )
        page = paginate(tagged, request.query, default_limit=20, max_limit=min(40, self.page_cap))
        return json_response([self._status_json(s) for s in page], headers=self._link_headers(request, page))

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query
        words = set(WORDS.findall(query.get("q", "").lower()))
        kind = query.get("type")
        found: list[Status] = []
        if words and kind in (None, "", "statuses") and self.full_text_search:
            found = sorted(
                (s for s in self._statuses.values() if self._searchable(s) and words <= status_words(s)),
                key=by_id,
            )
            found = paginate(found, query, default_limit=20, max_limit=min(40, self.page_cap), offset=True)
        return json_response(
            {"accounts": [], "statuses": [self._status_json(s) for s in found], "hashtags": []}
        )

    def _searchable(self, status: Status) -> bool:
        """What a full-text search shows the brand: public posts, its own, and its mentions."""
        return (
            status.visibility in ("public", "unlisted")
            or status.account is self._brand
            or self._brand in status.mentions
        )

    async def _get_status(self, request: web.Request) -> web.Response:
        return json_response(self._status_json(self._find_status(request.match_info["id"])))

    async def _context(self, request: web.Request) -> web.Response:
        status = self._find_status(request.match_info["id"])
        ancestors: list[Status] = []
        parent = status.parent
        while parent is not None:
            ancestors.append(parent)
            parent = parent.parent
        return json_response(
            {
                "ancestors": [self._status_json(s) for s in reversed(ancestors)],
                "descendants": [self._status_json(s) for s in descendants(status)],
            }
        )

    async def _relationships(self, request: web.Request) -> web.Response:
        ids = request.query.getall("id[]", []) or request.query.getall("id", [])
        known = {account.id: account for account in self._accounts.values()}
        return json_response([self._relationship_json(known[i]) for i in ids if i in known])

    def _relationship_json(self, account: Account) -> dict[str, Any]:
        return {
            "id": account.id,
            "following": False,
            "showing_reblogs": False,
            "notifying": False,
            "languages": None,
            "followed_by": False,
            "blocking": False,
            "blocked_by": account.id in self._blocked_by,
            "muting": False,
            "muting_notifications": False,
            "requested": False,
            "requested_by": False,
            "domain_blocking": False,
            "endorsed": False,
            "note": "",
        }

    async def _account_statuses(self, request: web.Request) -> web.Response:
        """An account's own statuses, newest first (the brand's: all of them, it is asking)."""
        account_id = request.match_info["id"]
        account = next((a for a in self._accounts.values() if a.id == account_id), None)
        if account is None:
            raise ApiError(404, "Record not found")
        own = account is self._brand
        statuses = sorted(
            (s for s in self._statuses.values()
             if s.account is account and (own or s.visibility in ("public", "unlisted"))),
            key=by_id,
        )  # fmt: skip
        page = paginate(statuses, request.query, default_limit=20, max_limit=min(40, self.page_cap))
        return json_response([self._status_json(s) for s in page], headers=self._link_headers(request, page))

    def _find_status(self, status_id: str) -> Status:
        status = self._statuses.get(status_id)
        if status is None:
            raise ApiError(404, "Record not found")
        return status

    def _link_headers(self, request: web.Request, page: Sequence[Any]) -> dict[str, str]:
        """RFC 8288 `Link` to older (`next`) and newer (`prev`) pages; none for an empty page."""
        if not page:
            return {}
        url = URL(self.base_url).with_path(request.path)
        kept = [(k, v) for k, v in request.query.items() if k not in CURSOR_PARAMS]
        older = url.with_query([*kept, ("max_id", page[-1].id)])
        newer = url.with_query([*kept, ("min_id", page[0].id)])
        return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}

    # -- handlers: posting -------------------------------------------------------------------

    async def _post_status(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        token = bearer(request) or ""
        key = request.headers.get("Idempotency-Key")
        now = self._now()
        if key and self.honours_idempotency_key:
            replay = self._idempotency.get((token, key))
            if replay is not None and now - replay[1] < IDEMPOTENCY_TTL:
                return json_response(self._status_json(self._statuses[replay[0]]))
        text = param(params, "status") or ""
        spoiler_text = param(params, "spoiler_text") or ""
        visibility = param(params, "visibility") or "public"
        language = param(params, "language") or None
        parent_id = param(params, "in_reply_to_id") or None
        parent = self._statuses.get(parent_id) if parent_id else None
        if parent_id and parent is None:
            if not (self.stand_in_parents and parent_id.isdigit()):
                raise ApiError(404, "Record not found")
            parent = self._stand_in(parent_id, now)
        self._validate(text, spoiler_text, visibility)
        status = self._create_status(
            self._brand,
            text,
            now,
            parent=parent,
            visibility=visibility,
            language=language,
            spoiler_text=spoiler_text,
        )
        entity = self._status_json(status)
        if key:
            self._idempotency[(token, key)] = (status.id, now)
        self.posted.append(PostedStatus(status.id, text, parent_id, visibility, language, key, entity))
        if self.post_answer_delay > 0:
            await self._pause(self.post_answer_delay)
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            return hang_up(request)
        return json_response(entity)

    def _validate(self, text: str, spoiler_text: str, visibility: str) -> None:
        if not text.strip():
            raise ApiError(422, "Validation failed: Text can't be blank")
        if visibility not in VISIBILITIES:
            raise ApiError(422, "Validation failed: Visibility is not included in the list")
        if countable_length(text) + countable_length(spoiler_text) > self.max_characters:
            raise ApiError(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")


# -- helpers -----------------------------------------------------------------------------------


__all__ = ["ALL_SCOPES", "HABITS", "ApiError", "MastodonServer", "PostedStatus", "countable_length"]
