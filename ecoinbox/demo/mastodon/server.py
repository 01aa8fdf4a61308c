"""A local Mastodon 4.3 instance on loopback, for `ecoinbox demo` and for the tests.

It speaks the part of the Mastodon REST API an inbox needs (notifications, hashtag timeline,
search, threads, posting, OAuth) with the real paging (`min_id`/`max_id`/`since_id`, `Link`),
rate-limit headers, `Idempotency-Key` replay and error bodies. It runs in the caller's event
loop, so a Textual app or a pytest-asyncio test can start it beside itself. Tests can inject
faults (`inject`), exhaust the rate limit, move the clock, and read back what was requested
and posted.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import html
import random
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import (
    FixedWindow,
    Handler,
    LoopbackServer,
    iso_millis,
    json_response,
    json_text,
    param,
)
from ecoinbox.demo.mastodon import seed as seeding
from ecoinbox.demo.mastodon.records import (
    Account,
    ApiError,
    App,
    Grant,
    Notification,
    PostedStatus,
    Snowflakes,
    Status,
    by_id,
    descendants,
)
from ecoinbox.demo.mastodon.text import (
    TOKENS,
    URL_LENGTH,
    URL_TRAILING,
    WORDS,
    countable_length,
    escape_html,
    link_html,
    mention_html,
    status_words,
    tags_in,
)
from ecoinbox.demo.mastodon.wire import (
    bearer,
    call_handler,
    hang_up,
    oauth_page,
    oauth_state,
    paginate,
    parse_redirect_uris,
    rate_headers,
    read_params,
)

Clock = Callable[[], datetime]

VERSION = "4.3.2"
IDEMPOTENCY_TTL = timedelta(hours=1)
OAUTH_CODE_TTL = timedelta(minutes=10)
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})
CURSOR_PARAMS = frozenset({"max_id", "min_id", "since_id"})
# Reachable without a token, as on a real instance.
PUBLIC_PATHS = frozenset({"/api/v1/instance", "/api/v2/instance", "/api/v1/apps", "/api/v1/streaming/health"})
HEARTBEAT_S = 15.0  # Mastodon's streaming server writes ":thump" this often on an idle stream
PUBLIC_PREFIXES = ("/oauth/", "/.well-known/")
ALL_SCOPES = "read write follow push"
"""What a token made by hand under Preferences > Development may carry (the server's own token)."""
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


class MastodonServer(LoopbackServer):
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

    def __init__(
        self,
        *,
        brand: str = "acme",
        domain: str = "social.example",
        seed: int | None = 1,
        token: str = "demo-token",
        max_characters: int = 500,
        now: Clock | None = None,
        rate_limit: int = 300,
        rate_window: float = 300.0,
        stand_in_parents: bool = False,
        honours_idempotency_key: bool = True,
        page_cap: int = 80,
        bad_token_status: int = 401,
        bad_token_body: str = "The access token is invalid",
        drop_answer_after_post: int = 0,
        post_answer_delay: float = 0.0,
        full_text_search: bool = True,
        version: str = VERSION,
        source_url: str = "https://github.com/mastodon/mastodon",
        streaming: bool = True,
        drop_stream_after: int = 0,
        heartbeat: float = HEARTBEAT_S,
        streaming_url: str | None = None,
        checks_scopes: bool = True,
    ) -> None:
        super().__init__()
        self.streaming = streaming
        self.drop_stream_after = drop_stream_after
        self.heartbeat = heartbeat
        self.streaming_url = streaming_url
        self.streamed: list[str] = []  # the events pushed, in order, as "event: ..." (all streams)
        self.heartbeats = 0  # ":thump"s written, on all streams
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = []
        self.checks_scopes = checks_scopes
        """Refuse (403) a request the token's scopes do not cover, as Mastodon does."""
        self.token_scopes = frozenset(ALL_SCOPES.split())
        """The scopes of the accepted token: all for the one given here, the granted ones once
        `/oauth/token` issues it."""
        self.refused_scopes: list[tuple[str, str]] = []
        """(method, route) of each request refused for its token's scopes."""
        self.stand_in_parents = stand_in_parents
        self.honours_idempotency_key = honours_idempotency_key
        self.page_cap = page_cap
        self.bad_token_status = bad_token_status
        self.bad_token_body = bad_token_body
        self.drop_answer_after_post = drop_answer_after_post
        self.post_answer_delay = post_answer_delay
        self.full_text_search = full_text_search
        self.version = version
        self.source_url = source_url
        self._blocked_by: set[str] = set()  # ids of the accounts that block the brand
        self.brand = brand
        self.domain = domain
        self.max_characters = max_characters
        self.posted: list[PostedStatus] = []
        self._token = token
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._ids = Snowflakes()
        self._limits = FixedWindow(rate_limit, rate_window)
        self._accounts: dict[str, Account] = {}  # by acct
        self._statuses: dict[str, Status] = {}
        self._notifications: list[Notification] = []  # ascending id
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._apps: dict[str, App] = {}  # by client_id
        self._grants: dict[str, Grant] = {}  # by authorization code
        self._tick_rng = random.Random(f"tick-{seed if seed is not None else 0}")
        start = self._now()
        self._brand = self._add_account(
            brand, domain, f"{brand.capitalize()} Support", start - timedelta(days=1200)
        )
        self._brand.note = (
            f"<p>Official {brand.capitalize()} support. We answer Mon–Fri, 9–18 CET. "
            f"Orders &amp; refunds: DM us.</p>"
        )
        if seed is not None:
            seeding.seed_day(self, random.Random(seed), start)

    # -- lifecycle ---------------------------------------------------------------------------

    # -- traffic -----------------------------------------------------------------------------

    def add_status(
        self,
        *,
        author: str,
        text: str,
        in_reply_to_id: str | None = None,
        visibility: str = "public",
        language: str | None = "en",
        mention_brand: bool = True,
        hashtags: Sequence[str] = (),
        filtered: bool = False,
        display_name: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        spoiler_text: str = "",
    ) -> dict[str, Any]:
        """Publish a status as `author` ("zoe@remote.example", "@zoe@remote.example" or a local
        "sam") and return its JSON.

        `mention_brand` prepends "@brand" unless the text already mentions it; `hashtags` are
        appended as "#tag" unless present. The brand gets a mention notification when it is
        mentioned or the status replies to one of its own; `filtered` marks that notification
        as held by the 4.3 notification policy (listed only with `include_filtered=true`).
        `html` replaces the rendered content (for hostile or broken remote HTML).
        Raises KeyError when `in_reply_to_id` is unknown.
        """
        at = self._aware(created_at) if created_at is not None else self._now()
        account = self._account_for(author, display_name, at)
        parent = self._statuses.get(in_reply_to_id) if in_reply_to_id else None
        if in_reply_to_id and parent is None:
            raise KeyError(f"no status {in_reply_to_id}")
        brand_mentioned = self._brand in self._mentioned(text)
        if mention_brand and account is not self._brand and not brand_mentioned:
            text = f"@{self.brand} {text}"
        missing = [tag for tag in hashtags if tag.lower() not in tags_in(text)]
        if missing:
            text = text + " " + " ".join(f"#{tag}" for tag in missing)
        status = self._create_status(
            account,
            text,
            at,
            parent=parent,
            visibility=visibility,
            language=language,
            spoiler_text=spoiler_text,
            content=html,
        )
        self._notify_brand(status, filtered=filtered)
        return self._status_json(status)

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

    # -- streaming ---------------------------------------------------------------------------

    async def stop(self) -> None:
        for loop, queue in list(self._subscribers):  # streams end before the listener closes
            loop.call_soon_threadsafe(queue.put_nowait, None)
        await super().stop()

    def _push(self, notification: Notification) -> None:
        """Send a notification to every open stream (from any thread: tests post from theirs)."""
        frame = f"event: notification\ndata: {json_text(self._notification_json(notification))}\n\n"
        for loop, queue in list(self._subscribers):
            loop.call_soon_threadsafe(queue.put_nowait, frame)

    async def _streaming_health(self, request: web.Request) -> web.Response:
        if not self.streaming:
            raise ApiError(404, "Not Found")
        return web.Response(text="OK")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """The user's notifications as server-sent events, until the client or the server goes."""
        if not self.streaming:
            raise ApiError(404, "Not Found")
        if request.path == "/api/v1/streaming" and request.query.get("stream") not in (
            "user",
            "user:notification",
        ):
            raise ApiError(404, "Not Found")  # discovery: "Not Found" means stream from this host
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        await response.write(b":)\n")  # what Mastodon's streaming server writes first
        subscriber: tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]] = (
            asyncio.get_running_loop(), asyncio.Queue()
        )  # fmt: skip
        self._subscribers.append(subscriber)
        sent = 0
        try:
            while True:
                try:
                    async with asyncio.timeout(self.heartbeat):
                        frame = await subscriber[1].get()
                except TimeoutError:
                    self.heartbeats += 1
                    await response.write(b":thump\n")
                    continue
                if frame is None:  # the server stops
                    break
                await response.write(frame.encode())
                self.streamed.append(frame.partition("\n")[0])
                sent += 1
                if self.drop_stream_after and sent >= self.drop_stream_after:
                    hang_up(request)
                    break
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        finally:
            self._subscribers.remove(subscriber)
        return response

    @property
    def stream_count(self) -> int:
        """How many streams are open now."""
        return len(self._subscribers)

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

    # -- handlers: OAuth ---------------------------------------------------------------------

    async def _oauth_metadata(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "issuer": f"{self.base_url}/",
                "authorization_endpoint": f"{self.base_url}/oauth/authorize",
                "token_endpoint": f"{self.base_url}/oauth/token",
                "app_registration_endpoint": f"{self.base_url}/api/v1/apps",
                "scopes_supported": ["read", "write", "push", "profile"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def _create_app(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        name = param(params, "client_name")
        uris = parse_redirect_uris(params)
        if not name:
            raise ApiError(422, "Validation failed: Application name can't be blank")
        if not uris:
            raise ApiError(422, "Validation failed: Redirect URI can't be blank")
        app = App(
            id=self._ids.next(self._now()),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=uris,
            scopes=param(params, "scopes") or "read",
            website=param(params, "website"),
        )
        self._apps[app.client_id] = app
        return json_response(
            {
                "id": app.id,
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes.split(),
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": list(app.redirect_uris),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Approve at once (the demo user is signed in and consents) and show or send the code."""
        query = request.query
        app = self._apps.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if app is None or redirect_uri not in app.redirect_uris:
            return oauth_page(
                "Authorization error", "<p>invalid_client: unknown client or redirect URI.</p>", 400
            )
        if query.get("response_type") != "code":
            return oauth_page("Authorization error", "<p>unsupported_response_type</p>", 400)
        requested = query.get("scope") or app.scopes
        if not set(requested.split()) <= set(app.scopes.split()):
            # Mastodon: the app's registered scopes must include every scope asked for here.
            return oauth_page("Authorization error", "<p>invalid_scope: The requested scope is invalid, "
                               "unknown, or malformed.</p>", 400)  # fmt: skip
        code = secrets.token_urlsafe(32)
        self._grants[code] = Grant(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scopes=requested,
            expires_at=self._now() + OAUTH_CODE_TTL,
            code_challenge=query.get("code_challenge"),
        )
        if redirect_uri != OOB_REDIRECT:
            target = URL(redirect_uri).update_query(code=code, **oauth_state(query))
            raise web.HTTPFound(str(target))
        return oauth_page(
            "Authorization code",
            "<p>Copy this authorization code and paste it to the application.</p>\n"
            f'<input class="oauth-code" readonly type="text" value="{code}">',
        )

    async def _token_grant(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        if param(params, "grant_type") != "authorization_code":
            raise ApiError(
                400,
                "unsupported_grant_type",
                error_description="The authorization grant type is not supported by the "
                "authorization server.",
            )
        app = self._apps.get(param(params, "client_id") or "")
        if app is None or param(params, "client_secret") != app.client_secret:
            raise ApiError(
                401,
                "invalid_client",
                error_description="Client authentication failed due to unknown client, no client "
                "authentication included, or unsupported authentication method.",
            )
        grant = self._grants.pop(param(params, "code") or "", None)
        if grant is None or not self._grant_matches(grant, app, params):
            raise ApiError(
                400,
                "invalid_grant",
                error_description="The provided authorization grant is invalid, expired, revoked, "
                "does not match the redirection URI used in the authorization request, "
                "or was issued to another client.",
            )
        self.token_scopes = frozenset(grant.scopes.split())
        return json_response(
            {
                "access_token": self._token,
                "token_type": "Bearer",
                "scope": grant.scopes,
                "created_at": int(self._now().timestamp()),
            }
        )

    def _grant_matches(self, grant: Grant, app: App, params: Mapping[str, Any]) -> bool:
        if grant.client_id != app.client_id or grant.expires_at <= self._now():
            return False
        if param(params, "redirect_uri") != grant.redirect_uri:
            return False
        if grant.code_challenge is None:
            return True
        verifier = (param(params, "code_verifier") or "").encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        return digest.decode() == grant.code_challenge

    # -- the model ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._aware(self._clock())

    @staticmethod
    def _aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _add_account(self, username: str, host: str, display_name: str, at: datetime) -> Account:
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        account = Account(
            id=self._ids.next(midnight),
            username=username,
            host=host,
            local=host == self.domain,
            display_name=display_name,
            note="",
            created_at=midnight,
        )
        self._accounts[account.acct] = account
        return account

    def add_profile_link(self, handle: str, name: str, url: str, *, verified: bool = True) -> None:
        """A profile field linking to `url`; `verified` as Mastodon marks a link whose page links
        back to the profile (rel="me")."""
        account = self._account_for(handle, None, self._now())
        link = html.escape(url)
        value = f'<a href="{link}" target="_blank" rel="nofollow noopener me">{link}</a>'
        verified_at = iso_millis(self._now()) if verified else None
        account.fields.append({"name": name, "value": value, "verified_at": verified_at})

    def _account_for(self, handle: str, display_name: str | None, at: datetime) -> Account:
        username, _, host = handle.lstrip("@").partition("@")
        host = host or self.domain
        acct = username if host == self.domain else f"{username}@{host}"
        account = self._accounts.get(acct)
        if account is None:
            return self._add_account(username, host, display_name or username, at)
        if display_name is not None:
            account.display_name = display_name
        return account

    def _resolve_mention(self, username: str, host: str | None) -> Account | None:
        """A local @name must exist; a remote @name@host is assumed to resolve (WebFinger)."""
        if host is None or host.lower() == self.domain:
            return self._accounts.get(username)
        return self._accounts.get(f"{username}@{host}") or self._add_account(
            username, host, username, self._now()
        )

    def _mentioned(self, text: str) -> list[Account]:
        found: list[Account] = []
        for match in TOKENS.finditer(text):
            if match["user"]:
                account = self._resolve_mention(match["user"], match["host"])
                if account is not None and account not in found:
                    found.append(account)
        return found

    def _create_status(
        self,
        account: Account,
        text: str,
        at: datetime,
        *,
        parent: Status | None,
        visibility: str,
        language: str | None,
        spoiler_text: str = "",
        content: str | None = None,
    ) -> Status:
        status = Status(
            id=self._ids.next(at),
            account=account,
            text=text,
            content=content if content is not None else self._render(text),
            created_at=at,
            parent=parent,
            visibility=visibility,
            language=language,
            spoiler_text=spoiler_text,
            mentions=self._mentioned(text),
            tags=sorted(tags_in(text)),
        )
        self._statuses[status.id] = status
        if parent is not None:
            parent.replies.append(status)
        account.statuses_count += 1
        account.last_status_at = max(at, account.last_status_at or at)
        return status

    def _stand_in(self, status_id: str, now: datetime) -> Status:
        """A status with this id that no timeline, search or notification shows: what a reply
        to a conversation of a generated store answers (its posts were never on this server)."""
        account = self._account_for("someone@generated.example", "Someone", now)
        status = Status(id=status_id, account=account, text="", content="", created_at=now,
                         parent=None, visibility="direct", language=None, spoiler_text="",
                         mentions=[], tags=[])  # fmt: skip
        self._statuses[status_id] = status
        return status

    def _notify_brand(self, status: Status, *, filtered: bool) -> None:
        """A mention of the brand, or a reply to it, by anyone but the brand itself."""
        if status.account is self._brand:
            return
        replies_to_brand = status.parent is not None and status.parent.account is self._brand
        if self._brand in status.mentions or replies_to_brand:
            at = status.created_at
            notification = Notification(self._ids.next(at), at, status.account, status, filtered)
            bisect.insort(self._notifications, notification, key=by_id)
            if not filtered:
                self._push(notification)

    def _awaiting_customer(self) -> list[seeding.OpenReply]:
        """Brand replies to someone that nobody has answered yet: where a customer may come back."""
        waiting = sorted(
            (
                s
                for s in self._statuses.values()
                if s.account is self._brand
                and not s.replies
                and s.parent is not None
                and s.parent.account is not self._brand
            ),
            key=by_id,
        )
        return [
            seeding.OpenReply(s.id, s.parent.account.acct, s.language)
            for s in waiting
            if s.parent is not None
        ]

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, text: str) -> str:
        """Plain text to Mastodon's HTML: paragraphs, <br />, linked mentions, hashtags and URLs."""
        paragraphs = re.split(r"\n{2,}", text.replace("\r\n", "\n").strip("\n"))
        return "".join(
            "<p>" + "<br />".join(self._render_line(line) for line in p.split("\n")) + "</p>"
            for p in paragraphs
        )

    def _render_line(self, line: str) -> str:
        out: list[str] = []
        position = 0
        for match in TOKENS.finditer(line):
            start, end = match.span()
            out.append(escape_html(line[position:start]))
            position = end
            if match["url"]:
                url = match["url"].rstrip(URL_TRAILING)
                position = start + len(url)
                out.append(link_html(url))
            elif match["tag"]:
                name = match["tag"]
                out.append(
                    f'<a href="https://{self.domain}/tags/{escape_html(name.lower())}" '
                    f'class="mention hashtag" rel="tag">#<span>{escape_html(name)}</span></a>'
                )
            else:
                account = self._resolve_mention(match["user"], match["host"])
                out.append(escape_html(match[0]) if account is None else mention_html(account))
        out.append(escape_html(line[position:]))
        return "".join(out)

    def _account_json(self, account: Account) -> dict[str, Any]:
        avatar = f"https://{account.host}/avatars/{account.username}.png"
        last_status_at = account.last_status_at
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.acct,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": iso_millis(account.created_at),
            "note": account.note,
            "url": account.url,
            "uri": f"https://{account.host}/users/{account.username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": account.statuses_count,
            "last_status_at": last_status_at.date().isoformat() if last_status_at else None,
            "emojis": [],
            "fields": list(account.fields),
        }

    def _status_json(self, status: Status) -> dict[str, Any]:
        account = status.account
        parent = status.parent
        return {
            "id": status.id,
            "created_at": iso_millis(status.created_at),
            "in_reply_to_id": parent.id if parent else None,
            "in_reply_to_account_id": parent.account.id if parent else None,
            "sensitive": bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"https://{account.host}/users/{account.username}/statuses/{status.id}",
            "url": f"{account.url}/{status.id}",
            "replies_count": len(status.replies),
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": iso_millis(status.edited_at) if status.edited_at else None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": status.content,
            "filtered": [],
            "reblog": None,
            "account": self._account_json(account),
            "media_attachments": [],
            "mentions": [
                {"id": m.id, "username": m.username, "url": m.url, "acct": m.acct} for m in status.mentions
            ],
            "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _notification_json(self, notification: Notification) -> dict[str, Any]:
        return {
            "id": notification.id,
            "type": notification.type,
            "created_at": iso_millis(notification.created_at),
            "group_key": f"ungrouped-{notification.id}",
            "account": self._account_json(notification.account),
            "status": self._status_json(notification.status),
        }


# -- helpers -----------------------------------------------------------------------------------
