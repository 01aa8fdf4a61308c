"""A local YouTube Data API v3 on loopback (comments), for `ecoinbox demo` and for the tests.

One aiohttp app serves Google's two hosts: the OAuth side (the consent page, which consents at
once and redirects, and the token endpoint: authorization code with PKCE, refresh token) and the
API under /youtube/v3: commentThreads.list (allThreadsRelatedToChannelId, order=time, pageToken,
moderationStatus for the owner), comments.list (id, parentId), comments.insert (replies, one
level deep), comments.setModerationStatus and channels.list (mine). It reproduces what a client
gets wrong most easily:

- No "since": lists are newest first (threads) or oldest first (replies), paged by opaque
  `pageToken`s; a thread embeds at most a few replies, `totalReplyCount` says how many there are.
- The quota: every request costs units (a list 1, an insert or a moderation 50, even when
  refused); past the day's quota every call answers 403 `quotaExceeded` until midnight Pacific.
- Access tokens that expire after an hour (401), refresh tokens Google answers with 400
  `invalid_grant` once revoked, errors in Google's JSON error format.

Habits of the real service, switched on by constructor arguments: `max_page` (YouTube serves
fewer items than maxResults asks), `embedded_replies` (how many replies a thread embeds) and
`drop_answer_after_post` (the reply is made, the answer never arrives). `HABITS` names the sets
the channel tests run against.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import Handler, LoopbackServer, int_param, json_response
from ecoinbox.demo.youtube.records import (
    STATUSES,
    ApiError,
    Comment,
    Person,
    Video,
    comment_json,
    etag,
    thread_json,
)

Clock = Callable[[], datetime]

DEMO_CLIENT_ID = "ecoinbox-demo.apps.googleusercontent.example"
DEMO_CLIENT_SECRET = "demo-youtube-client-secret"
DEMO_REFRESH_TOKEN = "demo-youtube-refresh-token"
BRAND_CHANNEL = "UCacmeAcmeAcmeAcmeAcme01"
ACCESS_LIFETIME = timedelta(hours=1)
API = "/youtube/v3"
COSTS = {"GET": 1, "POST": 50, "PUT": 50, "DELETE": 50}
HABITS: dict[str, dict[str, Any]] = {
    "documented": {},
    "youtube.com": {"max_page": 20, "embedded_replies": 2},
}


@dataclass(slots=True)
class _Code:
    redirect_uri: str
    challenge: str


def _pacific_day(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()


def _token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _key_of(token: str) -> tuple[str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(raw[0]), str(raw[1])
    except (ValueError, IndexError, TypeError):
        raise ApiError(400, "invalidPageToken", "The request specifies an invalid page token.") from None


class YouTubeServer(LoopbackServer):
    """An in-process YouTube (OAuth and Data API) for one brand channel over loopback HTTP."""

    def __init__(
        self,
        *,
        seed: int | None = 1,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        refresh_token: str = DEMO_REFRESH_TOKEN,
        channel_id: str = BRAND_CHANNEL,
        now: Clock | None = None,
        quota: int = 10_000,
        max_page: int = 100,
        embedded_replies: int = 5,
        drop_answer_after_post: int = 0,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.channel_id = channel_id
        self.quota = quota
        self.max_page = max_page
        self.embedded_replies = embedded_replies
        self.drop_answer_after_post = drop_answer_after_post
        self.brand = Person("@acme", channel_id)
        self.quota_used: dict[str, int] = {}  # Pacific day -> units
        self.posted: list[str] = []  # ids of the replies comments.insert made
        self.moderated: list[tuple[str, str]] = []  # (comment id, status) as asked
        self.deleted: list[str] = []  # comments.delete: the tests check it stays empty
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._refresh_tokens = {refresh_token}
        self._access: dict[str, datetime] = {}
        self._codes: dict[str, _Code] = {}
        self._videos: dict[str, Video] = {}
        self._people: dict[str, Person] = {}
        self._comments: dict[str, Comment] = {}
        self._rng = random.Random(f"youtube-{seed if seed is not None else 0}")
        self._tick_rng = random.Random(f"youtube-tick-{seed if seed is not None else 0}")
        if seed is not None:
            from ecoinbox.demo.youtube import seed as youtube_seed

            youtube_seed.seed_day(self, random.Random(seed), self._clock())

    # -- traffic -------------------------------------------------------------------------

    def video(self, title: str, description: str = "") -> Video:
        for video in self._videos.values():
            if video.title == title:
                return video
        video = Video(self._new_id(11), title, description)
        self._videos[video.id] = video
        return video

    def person(self, handle: str) -> Person:
        known = self._people.get(handle)
        if known is None:
            digest = hashlib.sha1(handle.encode()).hexdigest()
            known = self._people[handle] = Person(f"@{handle.lstrip('@')}", "UC" + digest[:22])
        return known

    def add_comment(
        self, *, author: str, text: str, video: str = "Acme Pulse 3 review", at: datetime | None = None,
        status: str = "published",
    ) -> str:  # fmt: skip
        """A top-level comment on the brand's video `video` (made if new); returns its id."""
        comment = Comment("Ugz" + self._new_id(23), self.video(video), self._who(author), text,
                          self._time(at), status=status)  # fmt: skip
        self._comments[comment.id] = comment
        return comment.id

    def add_reply(self, *, parent: str, author: str, text: str, at: datetime | None = None) -> str:
        """A reply under the top-level comment `parent`; returns its id."""
        top = self._comments[parent]
        reply = Comment(f"{top.id}.{self._new_id(22)}", top.video, self._who(author), text, self._time(at),
                        parent=top)  # fmt: skip
        top.replies.append(reply)
        self._comments[reply.id] = reply
        return reply.id

    def tick(self) -> str:
        from ecoinbox.demo.youtube import seed as youtube_seed

        return youtube_seed.next_item(self, self._tick_rng, self._clock())

    def status_of(self, comment_id: str) -> str:
        return self._comments[comment_id].status

    def set_status(self, comment_id: str, status: str) -> None:
        self._comments[comment_id].status = status

    def replies_to(self, comment_id: str) -> list[str]:
        return [r.id for r in self._comments[comment_id].replies]

    def text_of(self, comment_id: str) -> str:
        return self._comments[comment_id].text

    def author_of(self, comment_id: str) -> str:
        return self._comments[comment_id].author.channel_id

    def top_level_ids(self) -> list[str]:
        """Every top-level comment, newest first."""
        tops = [c for c in self._comments.values() if c.parent is None]
        return [c.id for c in sorted(tops, key=lambda c: c.key, reverse=True)]

    def used_today(self) -> int:
        return self.quota_used.get(_pacific_day(self._clock()), 0)

    # -- faults --------------------------------------------------------------------------

    def exhaust_quota(self) -> None:
        self.quota_used[_pacific_day(self._clock())] = self.quota

    def expire_access_tokens(self) -> None:
        self._access.clear()

    def revoke(self) -> None:
        self._refresh_tokens.clear()
        self._access.clear()

    # -- the web application -------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/o/oauth2/v2/auth", self._authorize)
        router.add_post("/token", self._token)
        router.add_get(f"{API}/commentThreads", self._threads)
        router.add_get(f"{API}/comments", self._comments_list)
        router.add_post(f"{API}/comments", self._insert)
        router.add_post(f"{API}/comments/setModerationStatus", self._moderate)
        router.add_delete(f"{API}/comments", self._delete)
        router.add_get(f"{API}/channels", self._channels)
        router.add_get(f"{API}/videos", self._videos_list)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.match_info.http_exception is not None:
                raise ApiError(404, "notFound", "Not Found", "global")
            if not request.path.startswith(API):
                return await handler(request)
            self._check_access(request)
            day = _pacific_day(self._clock())
            used = self.quota_used.get(day, 0)
            if used >= self.quota:
                raise ApiError(
                    403, "quotaExceeded",
                    "The request cannot be completed because you have exceeded your quota.", "youtube.quota",
                )  # fmt: skip
            self.quota_used[day] = used + COSTS.get(request.method, 1)  # refused calls cost too
            return await handler(request)
        except ApiError as error:
            return json_response(error.body, status=error.status)

    def _check_access(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self._clock():
            raise ApiError(
                401, "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.", "global",
            )  # fmt: skip

    # -- OAuth -----------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Consent at once (the demo brand is signed in and approves) and redirect back."""
        query = request.query
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect.startswith("http://127.0.0.1:"):
            return web.Response(status=400, text="Error 400: invalid_request", content_type="text/html")
        code = secrets.token_urlsafe(20)
        self._codes[code] = _Code(redirect, query.get("code_challenge", ""))
        state = {"state": query["state"]} if "state" in query else {}
        raise web.HTTPFound(str(URL(redirect).update_query(code=code, scope=query.get("scope", ""), **state)))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
        if form.get("grant_type") == "authorization_code":
            code = self._codes.pop(str(form.get("code") or ""), None)
            verifier = str(form.get("code_verifier") or "")
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if code is None or code.redirect_uri != form.get("redirect_uri") or digest != code.challenge:
                return json_response(
                    {"error": "invalid_grant", "error_description": "Bad Request"}, status=400
                )
            refresh = secrets.token_urlsafe(24)
            self._refresh_tokens.add(refresh)
            return self._issue(refresh)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self._refresh_tokens:
                return json_response(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                    status=400,
                )
            return self._issue(None)
        return json_response({"error": "unsupported_grant_type"}, status=400)

    def _issue(self, refresh: str | None) -> web.Response:
        access = "ya29." + secrets.token_urlsafe(24)
        self._access[access] = self._clock() + ACCESS_LIFETIME
        body: dict[str, Any] = {"access_token": access, "expires_in": int(ACCESS_LIFETIME.total_seconds()),
                                "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
                                "token_type": "Bearer"}  # fmt: skip
        if refresh:
            body["refresh_token"] = refresh
        return json_response(body)

    # -- reading -------------------------------------------------------------------------

    async def _channels(self, request: web.Request) -> web.Response:
        if request.query.get("mine") != "true":
            raise ApiError(400, "missingRequiredParameter", "No filter selected.")
        item = {"kind": "youtube#channel", "id": self.channel_id,
                "snippet": {"title": "Acme", "customUrl": "@acme"}}  # fmt: skip
        return json_response({"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1},
                              "items": [item]})  # fmt: skip

    async def _videos_list(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("id", "").split(",") if i in self._videos]
        items = [{"kind": "youtube#video", "etag": etag("v", i), "id": i,
                  "snippet": {"channelId": self.channel_id, "title": self._videos[i].title,
                              "description": self._videos[i].description,
                              "channelTitle": "Acme"}} for i in ids]  # fmt: skip
        return self._list("youtube#videoListResponse", items, None)

    async def _threads(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("allThreadsRelatedToChannelId") != self.channel_id and "videoId" not in query:
            raise ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: ...")
        status = query.get("moderationStatus", "published")
        if status not in STATUSES[:3]:
            raise ApiError(400, "invalidModerationStatus", "The moderationStatus parameter is invalid.")
        tops = [c for c in self._comments.values() if c.parent is None and c.status == status
                and query.get("videoId", c.video.id) == c.video.id]  # fmt: skip
        tops.sort(key=lambda c: c.key, reverse=True)
        if "pageToken" in query:
            after = _key_of(query["pageToken"])
            tops = [c for c in tops if c.key < after]
        page, more = self._page(tops, query)
        plain = query.get("textFormat") == "plainText"
        items = [thread_json(c, self.channel_id, plain=plain, owner=True,
                             with_replies="replies" in query.get("part", ""), embedded=self.embedded_replies)
                 for c in page]  # fmt: skip
        return self._list("youtube#commentThreadListResponse", items, page[-1].key if more else None)

    async def _comments_list(self, request: web.Request) -> web.Response:
        query = request.query
        plain = query.get("textFormat") == "plainText"
        if "id" in query:
            found = [self._comments[i] for i in query["id"].split(",") if i in self._comments]
            items = [comment_json(c, self.channel_id, plain=plain, owner=True) for c in found]
            return self._list("youtube#commentListResponse", items, None)
        parent = self._comments.get(query.get("parentId", ""))
        if parent is None:
            raise ApiError(404, "parentCommentNotFound", "The parent comment could not be found.")
        replies = sorted((r for r in parent.replies if r.status == "published"), key=lambda c: c.key)
        if "pageToken" in query:
            after = _key_of(query["pageToken"])
            replies = [r for r in replies if r.key > after]
        page, more = self._page(replies, query)
        items = [comment_json(c, self.channel_id, plain=plain, owner=True) for c in page]
        return self._list("youtube#commentListResponse", items, page[-1].key if more else None)

    def _page(self, items: list[Comment], query: Any) -> tuple[list[Comment], bool]:
        size = min(max(1, int_param(query.get("maxResults"), 20)), 100, self.max_page)
        return items[:size], len(items) > size

    def _list(self, kind: str, items: list[dict[str, Any]], next_key: tuple[str, str] | None) -> web.Response:
        body: dict[str, Any] = {"kind": kind, "etag": etag(kind, *(i["etag"] for i in items)), "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                                "items": items}  # fmt: skip
        if next_key is not None:
            body["nextPageToken"] = _token(next_key)
        return json_response(body)

    # -- writing -------------------------------------------------------------------------

    async def _insert(self, request: web.Request) -> web.StreamResponse:
        try:
            snippet = (await request.json())["snippet"]
            parent_id, text = str(snippet["parentId"]), str(snippet["textOriginal"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "invalidCommentMetadata", "The request metadata is invalid.") from None
        parent = self._comments.get(parent_id)
        if parent is None:
            raise ApiError(404, "parentCommentNotFound", "The specified parent comment could not be found.")
        if parent.parent is not None:
            raise ApiError(400, "operationNotSupported", "Replies to replies are not supported.")
        if not text.strip():
            raise ApiError(400, "commentTextRequired", "The comment resource must contain a textOriginal.")
        reply_id = self.add_reply(parent=parent_id, author=self.brand.name, text=text)
        self.posted.append(reply_id)
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            if request.transport is not None:
                request.transport.close()  # made, and the answer never leaves
            return web.Response(status=204)
        return json_response(comment_json(self._comments[reply_id], self.channel_id, plain=False, owner=True))

    async def _moderate(self, request: web.Request) -> web.Response:
        status = request.query.get("moderationStatus", "")
        if status not in ("published", "heldForReview", "rejected"):
            raise ApiError(400, "invalidModerationStatus", "The moderation status is invalid.")
        ids = [i for i in request.query.get("id", "").split(",") if i]
        missing = [i for i in ids if i not in self._comments]
        if not ids or missing:
            raise ApiError(404, "commentNotFound", "One or more comments could not be found.")
        for comment_id in ids:
            self._comments[comment_id].status = status
            self.moderated.append((comment_id, status))
        return web.Response(status=204)

    async def _delete(self, request: web.Request) -> web.Response:
        comment_id = request.query.get("id", "")
        if comment_id not in self._comments:
            raise ApiError(404, "commentNotFound", "The comment could not be found.")
        self.deleted.append(comment_id)
        comment = self._comments.pop(comment_id)
        if comment.parent is not None:
            comment.parent.replies.remove(comment)
        return web.Response(status=204)

    # -- helpers -------------------------------------------------------------------------

    def _who(self, author: str) -> Person:
        return self.brand if author in (self.brand.name, "acme", "@acme") else self.person(author)

    def _time(self, at: datetime | None) -> datetime:
        return (at or self._clock()).astimezone(UTC).replace(microsecond=0)

    def _new_id(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        return "".join(self._rng.choice(alphabet) for _ in range(length))
