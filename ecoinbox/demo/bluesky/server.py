"""A local Bluesky PDS + AppView on loopback, for `ecoinbox demo` and for the tests.

It speaks the XRPC calls an inbox needs: app-password sessions (`createSession` limited per
account, `refreshSession` rotating the refresh token, 400 ExpiredToken once an access token
expires), `listNotifications` (newest first, an opaque keyset cursor that pages backwards),
`searchPosts` (words, `#tags`, `tag`, `since`, an offset cursor), `getPostThread`, `getPosts`,
`getRecord`, `resolveHandle` and `createRecord` with client-chosen record keys. Every answer
carries `RateLimit-*` headers (reset in epoch seconds); a 429 adds `Retry-After`. Errors are
lexicon-shaped: `{"error": Name, "message": ...}`.

It is stricter than a real PDS where that catches client bugs: a reply's `root` and `parent`
must be strong refs to posts it has (with their CIDs, and the root must be the parent's root),
and facet offsets must fall on UTF-8 character boundaries of the text.

Real habits it can take on (constructor switches, see `BlueskyServer`): the 500 a real PDS
answers for a reused record key, unchecked reply refs, the older "InvalidRequest" for a missing
record; and, always, what the real stack does with threadgates (`gate_replies`: the PDS takes
the reply, the AppView hides it), deleted posts (`delete_post`) and the main password (a
session scoped `com.atproto.access` instead of an app password's `com.atproto.appPass`).
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ecoinbox.demo import DEMO_BLUESKY_PASSWORD
from ecoinbox.demo.bluesky import seed as seeding
from ecoinbox.demo.bluesky.atproto import (
    TID_PATTERN,
    XrpcError,
    make_cid,
    make_jwt,
    make_tid,
    pack_cursor,
    parse_time,
    unpack_cursor,
)
from ecoinbox.demo.bluesky.records import (
    Actor,
    CreatedRecord,
    Post,
    Token,
    as_dict,
    detect_facets,
    mentioned_dids,
    post_matches,
    strong_ref,
)
from ecoinbox.demo.bluesky.validation import POST, validate_post
from ecoinbox.demo.bluesky.views import post_view
from ecoinbox.demo.bluesky.wire import json_body, limit_param, limited, strict_int
from ecoinbox.demo.loopback import FixedWindow, Handler, LoopbackServer, iso_millis, json_response, json_text

Clock = Callable[[], datetime]

DEMO_APP_PASSWORD = DEMO_BLUESKY_PASSWORD
PUBLIC_CALLS = frozenset({"com.atproto.server.createSession", "com.atproto.identity.resolveHandle"})
REFRESH_CALLS = frozenset({"com.atproto.server.refreshSession", "com.atproto.server.deleteSession"})
_DID = web.RequestKey("did", str)  # who the request's access token belongs to


class BlueskyServer(LoopbackServer):
    """An in-process PDS + AppView serving one brand account over loopback HTTP.

    `seed` fills it with a day of Bluesky traffic (mentions with emoji, a quote post, a reply
    thread, search and hashtag hits, hostile text); `tick()` adds one more mention. `now` is the
    clock for timestamps, token expiry and rate-limit windows.
    """

    def __init__(
        self,
        *,
        brand: str = "acme.bsky.example",
        brand_name: str = "Acme Support",
        app_password: str = DEMO_APP_PASSWORD,
        account_password: str | None = None,
        seed: int | None = 1,
        now: Clock | None = None,
        rate_limit: int = 3000,
        rate_window: float = 300.0,
        session_limit: int = 30,
        access_ttl: timedelta = timedelta(hours=2),
        refresh_ttl: timedelta = timedelta(days=90),
        honour_reasons: bool = True,
        reused_rkey_status: int = 400,
        checks_reply_refs: bool = True,
        record_not_found_error: str = "RecordNotFound",
    ) -> None:
        """Habits (defaults: this server as the demo has always had it):

        - `account_password`: the account's main password, also accepted by `createSession`, as
          every PDS does; its session is scoped `com.atproto.access` (full access) where an app
          password's is `com.atproto.appPass` (the bluesky-social/atproto PDS, auth-scope.ts).
        - `reused_rkey_status`: the answer to `createRecord` under a record key already taken:
          400 InvalidRequest (this server's default), 409, or 500 InternalServerError as the
          real PDS answers (bluesky-social/atproto#3718, indigo#873).
        - `checks_reply_refs`: refuse a reply whose root/parent it does not have (this server's
          default; a missing or deleted parent is "Could not locate record"). False: accept
          any ref, as the real PDS does (it validates the record's shape only).
        - `record_not_found_error`: the error name `getRecord` gives a missing record:
          "RecordNotFound" (the lexicon, current PDS) or "InvalidRequest" (older PDSes, with
          the same "Could not locate record" message).
        """
        super().__init__()
        if reused_rkey_status not in (400, 409, 500):
            raise ValueError("reused_rkey_status must be 400, 409 or 500")
        self.account_password = account_password
        self.reused_rkey_status = reused_rkey_status
        self.checks_reply_refs = checks_reply_refs
        self.record_not_found_error = record_not_found_error
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self.app_password = app_password
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.honour_reasons = honour_reasons
        self.created: list[CreatedRecord] = []
        self.sessions_created = 0
        self.sessions_refreshed = 0
        self.sessions_deleted = 0
        self._limits = FixedWindow(rate_limit, rate_window)
        self._session_limits = FixedWindow(session_limit, 300.0)
        self._tokens: dict[str, Token] = {}
        self._actors: dict[str, Actor] = {}  # by DID
        self._handles: dict[str, str] = {}  # handle -> DID
        self._posts: dict[str, Post] = {}
        self._notifications: list[tuple[datetime, str, dict[str, Any]]] = []  # (indexedAt, cid, json)
        self._rkeys = 0
        self._tick_rng = random.Random(f"bsky-tick-{seed if seed is not None else 0}")
        self.brand = self.actor(brand, brand_name)
        if seed is not None:
            seeding.seed_day(self, random.Random(seed), self._now())

    # -- people and posts ------------------------------------------------------------------------

    def actor(self, handle: str, display_name: str | None = None) -> Actor:
        """The account with `handle`, created on first use (its DID derives from the handle)."""
        handle = handle.lstrip("@").lower()
        did = self._handles.get(handle)
        if did is not None:
            actor = self._actors[did]
            if display_name is not None:
                actor.display_name = display_name
            return actor
        digest = base64.b32encode(hashlib.sha256(handle.encode()).digest()).decode().lower()
        actor = Actor(f"did:plc:{digest[:24]}", handle, display_name if display_name is not None else "")
        self._actors[actor.did] = actor
        self._handles[handle] = actor.did
        return actor

    def add_post(
        self,
        *,
        author: str,
        text: str,
        reply_to: str | None = None,
        quote: str | None = None,
        mention_brand: bool = False,
        display_name: str | None = None,
        langs: Sequence[str] = ("en",),
        created_at: datetime | None = None,
        indexed_at: datetime | None = None,
        facets: list[dict[str, Any]] | None = None,
        images: Sequence[str] = (),
        link_card: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Publish a post as `author` (a handle) and return its post view.

        Facets are computed for @handles of known accounts, links and #tags, at UTF-8 byte
        offsets, unless `facets` gives them (for hostile data). `mention_brand` puts "@brand "
        in front. The brand is notified of mentions, replies to its posts and quotes of them.
        """
        at = indexed_at or self._now()
        actor = self.actor(author, display_name)
        if mention_brand and f"@{self.brand.handle}" not in text:
            text = f"@{self.brand.handle} {text}"
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso_millis(created_at or at),
            "langs": list(langs),
        }
        computed = detect_facets(text, self._handles) if facets is None else facets
        if computed:
            record["facets"] = computed
        parent = self._posts.get(reply_to) if reply_to else None
        if reply_to and parent is None:
            raise KeyError(f"no post {reply_to}")
        if parent is not None:
            root = parent.root or parent
            record["reply"] = {"root": strong_ref(root), "parent": strong_ref(parent)}
        embed = self._embed(quote, images, link_card)
        if embed:
            record["embed"] = embed
        post = self._store(actor, record, at, self._next_rkey(at))
        return post_view(post, self._quoted(post))

    def _embed(
        self, quote: str | None, images: Sequence[str], link_card: tuple[str, str] | None
    ) -> dict[str, Any] | None:
        media: dict[str, Any] | None = None
        if images:
            media = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": alt,
                        "image": {"$type": "blob", "ref": {"$link": make_cid(alt)}, "mimeType": "image/jpeg"},
                    }
                    for alt in images
                ],
            }
        elif link_card:
            uri, title = link_card
            media = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": uri, "title": title, "description": ""},
            }
        if quote:
            quoted = self._posts.get(quote)
            if quoted is None:
                raise KeyError(f"no post {quote}")
            record = {"$type": "app.bsky.embed.record", "record": strong_ref(quoted)}
            if media:
                return {"$type": "app.bsky.embed.recordWithMedia", "record": record, "media": media}
            return record
        return media

    def add_raw_notification(self, item: dict[str, Any], indexed_at: datetime | None = None) -> None:
        """List `item` as a notification as it is (missing fields, wrong types: hostile data)."""
        at = indexed_at or self._now()
        self._notifications.append((at, make_cid(json_text(item, default=str)), item))
        self._notifications.sort(key=lambda entry: (entry[0], entry[1]))

    def like(self, uri: str, by: str) -> None:
        """`by` likes the brand's post `uri`: a "like" notification, not for the inbox."""
        post = self._posts[uri]
        actor = self.actor(by)
        at = self._now()
        rkey = self._next_rkey(at)
        record = {"$type": "app.bsky.feed.like", "subject": strong_ref(post), "createdAt": iso_millis(at)}
        item = {
            "uri": f"at://{actor.did}/app.bsky.feed.like/{rkey}",
            "cid": make_cid(json_text(record)),
            "author": actor.basic(),
            "reason": "like",
            "reasonSubject": uri,
            "record": record,
            "isRead": False,
            "indexedAt": iso_millis(at),
            "labels": [],
        }
        self.add_raw_notification(item, at)

    def tick(self) -> dict[str, Any]:
        """One more mention from a deterministic stream: a new question, or a customer coming
        back to a thread the brand answered."""
        return seeding.next_mention(self, self._tick_rng)

    def post(self, uri: str) -> dict[str, Any]:
        """The post view of `uri` (KeyError if unknown)."""
        return post_view(self._posts[uri], self._quoted(self._posts[uri]))

    def brand_posts(self) -> list[dict[str, Any]]:
        """The brand's own posts, oldest first."""
        mine = sorted((p for p in self._posts.values() if p.author is self.brand), key=lambda p: p.indexed_at)
        return [post_view(p, self._quoted(p)) for p in mine]

    def gate_replies(self, uri: str) -> None:
        """Its author turns replies off on the thread of `uri` (an `app.bsky.feed.threadgate`
        with no allow rules, on the thread's root): the AppView then says `viewer.replyDisabled`
        to everyone else, the PDS still takes their replies, and nobody sees them."""
        post = self._posts[uri]
        (post.root or post).replies_off = True

    def delete_post(self, uri: str) -> None:
        """Its author deletes `uri`: `getPosts` leaves it out, `getPostThread` answers NotFound
        for it and `#notFoundPost` where it was a parent, `getRecord` cannot locate it."""
        self._posts[uri].deleted = True

    # -- faults and time ------------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (as after two hours)."""
        for token in self._tokens.values():
            if token.scope == "access":
                token.expires_at = min(token.expires_at, self._now() - timedelta(seconds=1))

    def expire_refresh_tokens(self) -> None:
        """Every refresh token issued so far expires now (as after 90 days)."""
        for token in self._tokens.values():
            if token.scope == "refresh":
                token.expires_at = min(token.expires_at, self._now() - timedelta(seconds=1))

    def exhaust_rate_limit(self) -> None:
        """Use up this window of the per-IP limit on every call."""
        self._limits.exhaust("127.0.0.1", self._now())

    def calls(self, nsid: str) -> int:
        """How many requests reached `nsid`."""
        return sum(1 for r in self.requests if r.path == f"/xrpc/{nsid}")

    def _now(self) -> datetime:
        return self._clock()

    # -- the web application --------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        routes: dict[str, Handler] = {
            "com.atproto.server.createSession": self._create_session,
            "com.atproto.server.refreshSession": self._refresh_session,
            "com.atproto.server.getSession": self._get_session,
            "com.atproto.server.deleteSession": self._delete_session,
            "com.atproto.identity.resolveHandle": self._resolve_handle,
            "com.atproto.repo.createRecord": self._create_record,
            "com.atproto.repo.getRecord": self._get_record,
            "app.bsky.notification.listNotifications": self._list_notifications,
            "app.bsky.feed.searchPosts": self._search_posts,
            "app.bsky.feed.getPostThread": self._get_post_thread,
            "app.bsky.feed.getPosts": self._get_posts,
        }
        procedures = {"com.atproto.server.createSession", "com.atproto.server.refreshSession",
                      "com.atproto.server.deleteSession", "com.atproto.repo.createRecord"}  # fmt: skip
        for nsid, handler in routes.items():
            if nsid in procedures:
                router.add_post(f"/xrpc/{nsid}", handler)
            else:
                router.add_get(f"/xrpc/{nsid}", handler)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return json_response(
                {"error": "MethodNotImplemented", "message": "Method Not Implemented"},
                status=501 if request.match_info.http_exception.status == 404 else 405,
            )
        allowed, headers = limited(self._limits, "127.0.0.1", self._now())
        if not allowed:
            return json_response(
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429, headers=headers
            )
        try:
            nsid = request.path.removeprefix("/xrpc/")
            if nsid not in PUBLIC_CALLS and nsid not in REFRESH_CALLS:
                request[_DID] = self._authorize(request, "access")
            response = await handler(request)
        except XrpcError as error:
            response = json_response(error.body, status=error.status)
            headers = {**headers, **error.headers}
        response.headers.update(headers)
        return response

    def _authorize(self, request: web.Request, scope: str) -> str:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        token = self._tokens.get(value.strip())
        if token is None or token.revoked:
            raise XrpcError(
                400, "InvalidToken", "Token has been revoked" if token else "Token could not be verified"
            )
        if token.scope != scope:
            raise XrpcError(400, "InvalidToken", "Bad token scope")
        if token.expires_at <= self._now():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        return token.did

    # -- sessions ---------------------------------------------------------------------------------

    async def _create_session(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        identifier = str(body.get("identifier") or "").lstrip("@").lower()
        password = body.get("password")
        allowed, headers = limited(self._session_limits, identifier, self._now())
        if not allowed:
            raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        if not identifier or not isinstance(password, str):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "identifier" and "password"')
        brand = self.brand
        grant = self._grant_of(password)
        if identifier not in (brand.handle, brand.did) or grant is None:
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password", headers)
        self.sessions_created += 1
        response = json_response({**self._issue(brand, grant), "didDoc": self._did_doc(brand), "active": True,
                          "email": f"support@{brand.handle}", "emailConfirmed": True})  # fmt: skip
        response.headers.update(headers)
        return response

    def _grant_of(self, password: str) -> str | None:
        """The scope a session signed in with `password` gets (None: a wrong password)."""
        if secrets.compare_digest(password, self.app_password):
            return "com.atproto.appPass"
        if self.account_password is not None and secrets.compare_digest(password, self.account_password):
            return "com.atproto.access"
        return None

    async def _refresh_session(self, request: web.Request) -> web.Response:
        did = self._authorize(request, "refresh")
        old = request.headers["Authorization"].partition(" ")[2].strip()
        self._tokens[old].revoked = True  # refresh tokens rotate: the old one is spent
        self.sessions_refreshed += 1
        actor = self._actors[did]
        grant = self._tokens[old].grant  # a refreshed session keeps what signed it in
        return json_response({**self._issue(actor, grant), "didDoc": self._did_doc(actor), "active": True})

    async def _delete_session(self, request: web.Request) -> web.Response:
        """Sign out: the refresh token stops working (its access token lives out its short life,
        as on the real PDS)."""
        self._authorize(request, "refresh")
        self._tokens[request.headers["Authorization"].partition(" ")[2].strip()].revoked = True
        self.sessions_deleted += 1
        return web.Response(status=200)

    async def _get_session(self, request: web.Request) -> web.Response:
        actor = self._actors[request[_DID]]
        return json_response({"handle": actor.handle, "did": actor.did, "email": f"support@{actor.handle}",
                      "emailConfirmed": True, "active": True, "didDoc": self._did_doc(actor)})  # fmt: skip

    def _issue(self, actor: Actor, grant: str) -> dict[str, str]:
        now = self._now()
        tokens = {}
        for scope, ttl, key in (
            ("access", self.access_ttl, "accessJwt"),
            ("refresh", self.refresh_ttl, "refreshJwt"),
        ):
            value = make_jwt(actor.did, grant if scope == "access" else "com.atproto.refresh", now, now + ttl)
            self._tokens[value] = Token(value, actor.did, scope, now + ttl, grant=grant)
            tokens[key] = value
        return {**tokens, "did": actor.did, "handle": actor.handle}

    def _did_doc(self, actor: Actor) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": actor.did,
            "alsoKnownAs": [f"at://{actor.handle}"],
            "service": [
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.base_url}
            ],
        }

    async def _resolve_handle(self, request: web.Request) -> web.Response:
        handle = request.query.get("handle", "").lower()
        did = self._handles.get(handle)
        if did is None:
            raise XrpcError(400, "InvalidRequest", "Unable to resolve handle")
        return json_response({"did": did})

    # -- reading ----------------------------------------------------------------------------------

    async def _list_notifications(self, request: web.Request) -> web.Response:
        query = request.query
        limit = limit_param(query.get("limit"), 50, 100)
        reasons = set(query.getall("reasons", []))
        entries = sorted(self._notifications, key=lambda e: (e[0], e[1]), reverse=True)
        if reasons and self.honour_reasons:
            entries = [e for e in entries if e[2].get("reason") in reasons]
        # The AppView cannot hydrate a deleted post: its notification goes too.
        entries = [e for e in entries if not getattr(self._posts.get(str(e[2].get("uri"))), "deleted", False)]
        cursor = query.get("cursor")
        if cursor:
            at, cid = unpack_cursor(cursor)
            entries = [e for e in entries if (e[0], e[1]) < (at, cid)]
        page = entries[:limit]
        body: dict[str, Any] = {"notifications": [self._fresh(e[2]) for e in page], "priority": False}
        if page:
            body["cursor"] = pack_cursor(page[-1][0], page[-1][1])
        return json_response(body)

    def _fresh(self, item: dict[str, Any]) -> dict[str, Any]:
        """A notification with the author's current profile, as the AppView hydrates it."""
        author = item.get("author")
        if isinstance(author, dict) and author.get("did") in self._actors:
            return {**item, "author": self._actors[author["did"]].basic()}
        return item

    async def _search_posts(self, request: web.Request) -> web.Response:
        query = request.query
        q = query.get("q", "")
        if not q.strip():
            raise XrpcError(400, "InvalidRequest", 'Error: Params must have the property "q"')
        if query.get("sort", "latest") not in ("latest", "top"):
            raise XrpcError(400, "InvalidRequest", "Invalid sort")
        words = [w.lower() for w in q.split() if not w.startswith("#")]
        tags = {w[1:].lower() for w in q.split() if w.startswith("#") and len(w) > 1}
        tags |= {t.lower().lstrip("#") for t in query.getall("tag", [])}
        since, until = parse_time(query.get("since")), parse_time(query.get("until"))
        hits = [
            p
            for p in self._posts.values()
            if post_matches(p, words, tags)
            and not p.deleted
            and not p.violates_gate
            and (since is None or p.sort_at >= since)
            and (until is None or p.sort_at < until)
        ]
        hits.sort(key=lambda p: (p.sort_at, p.cid), reverse=True)
        offset = strict_int(query.get("cursor"), 0)
        limit = limit_param(query.get("limit"), 25, 100)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {
            "posts": [post_view(p, self._quoted(p), request[_DID]) for p in page],
            "hitsTotal": len(hits),
        }
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return json_response(body)

    async def _get_post_thread(self, request: web.Request) -> web.Response:
        uri = request.query.get("uri", "")
        post = self._visible(uri)
        if post is None:
            raise XrpcError(400, "NotFound", f"Post not found: {uri}")
        depth = limit_param(request.query.get("depth"), 6, 1000, minimum=0)
        height = limit_param(request.query.get("parentHeight"), 80, 1000, minimum=0)
        return json_response({"thread": self._thread_view(post, depth, height, request[_DID])})

    def _thread_view(self, post: Post, depth: int, height: int, viewer: str) -> dict[str, Any]:
        view: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": post_view(post, self._quoted(post), viewer),
        }
        if post.parent is not None and height > 0:
            if post.parent.deleted:  # the AppView keeps the place of a deleted parent
                view["parent"] = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": post.parent.uri,
                                  "notFound": True}  # fmt: skip
            else:
                view["parent"] = self._thread_view(post.parent, 0, height - 1, viewer)
        if depth > 0:
            shown = [r for r in post.replies if not r.deleted and not r.violates_gate]
            view["replies"] = [self._thread_view(r, depth - 1, 0, viewer) for r in shown]
        return view

    def _visible(self, uri: str) -> Post | None:
        post = self._posts.get(uri)
        return None if post is None or post.deleted else post

    async def _get_posts(self, request: web.Request) -> web.Response:
        uris = request.query.getall("uris", [])
        if len(uris) > 25:
            raise XrpcError(400, "InvalidRequest", "uris must not have more than 25 elements")
        found = [post for uri in uris if (post := self._visible(uri)) is not None]
        return json_response(
            {"posts": [post_view(post, self._quoted(post), request[_DID]) for post in found]}
        )

    async def _get_record(self, request: web.Request) -> web.Response:
        query = request.query
        repo = query.get("repo", "")
        did = self._handles.get(repo.lower(), repo)
        uri = f"at://{did}/{query.get('collection', '')}/{query.get('rkey', '')}"
        post = self._visible(uri)
        if post is None:
            raise XrpcError(400, self.record_not_found_error, f"Could not locate record: {uri}")
        return json_response({"uri": post.uri, "cid": post.cid, "value": post.record})

    # -- writing ----------------------------------------------------------------------------------

    async def _create_record(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        repo = str(body.get("repo") or "")
        did = self._handles.get(repo.lower(), repo)
        if did not in self._actors:
            raise XrpcError(400, "InvalidRequest", f"Could not find repo: {repo}")
        if did != request[_DID]:
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        if body.get("collection") != POST:
            raise XrpcError(400, "InvalidRequest", "only app.bsky.feed.post records here")
        record = body.get("record")
        if not isinstance(record, dict):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "record"')
        now = self._now()
        rkey = body.get("rkey")
        if rkey is None:
            rkey = self._next_rkey(now)
        if not isinstance(rkey, str) or not TID_PATTERN.fullmatch(rkey):
            raise XrpcError(400, "InvalidRequest", "Invalid record key: must be a TID for app.bsky.feed.post")
        uri = f"at://{did}/{POST}/{rkey}"
        if uri in self._posts:
            raise self._taken(uri)
        validate_post(record, self._posts if self.checks_reply_refs else None)
        post = self._store(self._actors[did], dict(record), now, rkey)
        root = post.root or post
        if root.replies_off and post.author is not root.author:
            post.violates_gate = True  # taken and stored all the same, as the real PDS does
        self.created.append(CreatedRecord(uri, rkey, post.record))
        return json_response({
            "uri": post.uri,
            "cid": post.cid,
            "commit": {"cid": make_cid(f"commit-{post.cid}"), "rev": self._next_rkey(now)},
            "validationStatus": "valid",
        })  # fmt: skip

    def _taken(self, uri: str) -> XrpcError:
        """The answer to a record key already in use, as `reused_rkey_status` says."""
        if self.reused_rkey_status == 500:  # the real PDS: its database refuses the duplicate
            return XrpcError(500, "InternalServerError", "Internal Server Error")
        if self.reused_rkey_status == 409:
            return XrpcError(409, "RecordAlreadyExists", f"Record already exists at {uri}")
        return XrpcError(400, "InvalidRequest", f"Record already exists at {uri}")

    def _store(self, actor: Actor, record: dict[str, Any], at: datetime, rkey: str) -> Post:
        uri = f"at://{actor.did}/{POST}/{rkey}"
        post = Post(uri, make_cid(json_text(record, sort_keys=True) + uri), actor, record, at)
        reply = record.get("reply")
        if isinstance(reply, dict):
            post.parent = self._posts.get(str(as_dict(reply.get("parent")).get("uri")))
            post.root = self._posts.get(str(as_dict(reply.get("root")).get("uri")))
            if post.parent is not None:
                post.parent.replies.append(post)
        self._posts[uri] = post
        self._notify(post)
        return post

    def _notify(self, post: Post) -> None:
        """A reply to the brand, a quote of the brand, or a mention of it, by anyone else."""
        if post.author is self.brand:
            return
        reason, subject = None, None
        quoted = self._quoted(post)
        if post.parent is not None and post.parent.author is self.brand:
            reason, subject = "reply", post.parent.uri
        elif quoted is not None and quoted.author is self.brand:
            reason, subject = "quote", quoted.uri
        elif self.brand.did in mentioned_dids(post.record):
            reason = "mention"
        if quoted is not None:
            quoted.quotes += 1
        if reason is None:
            return
        item: dict[str, Any] = {
            "uri": post.uri,
            "cid": post.cid,
            "author": post.author.basic(),
            "reason": reason,
            "reasonSubject": subject,
            "record": post.record,
            "isRead": False,
            "indexedAt": iso_millis(post.indexed_at),
            "labels": [],
        }
        if subject is None:
            del item["reasonSubject"]
        self._notifications.append((post.indexed_at, post.cid, item))
        self._notifications.sort(key=lambda e: (e[0], e[1]))

    def _quoted(self, post: Post) -> Post | None:
        embed = as_dict(post.record.get("embed"))
        if embed.get("$type") == "app.bsky.embed.recordWithMedia":
            embed = as_dict(embed.get("record"))
        if embed.get("$type") != "app.bsky.embed.record":
            return None
        return self._posts.get(str(as_dict(embed.get("record")).get("uri")))

    def _next_rkey(self, at: datetime) -> str:
        self._rkeys += 1
        micros = int(at.timestamp() * 1_000_000)
        return make_tid(micros, self._rkeys % 1024)


__all__ = ["DEMO_APP_PASSWORD", "BlueskyServer", "CreatedRecord", "XrpcError"]
