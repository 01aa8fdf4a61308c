"""A local LinkedIn that speaks the Community Management API's subset ecoinbox uses, with its
documented checks and errors: the versioned `/rest` paths (`LinkedIn-Version` required, a
retired version answered 426 NONEXISTENT_VERSION), Rest.li 2.0 `List(...)` batch keys, Bearer
tokens (401 INVALID_ACCESS_TOKEN), comments only as the organization (403 ACCESS_DENIED),
replies one level deep, start/count paging, and the application's daily throttle (429 with no
Retry-After: LinkedIn's day ends at midnight UTC).

Habits a real server may have (constructor switches): `short_pages` (a page holds fewer comments
than asked), `describe_created=False` (201 with an empty body: the new comment's URN only in the
x-restli-id header), `people_names` (the People API answers names; by default it refuses, as it
does for most apps).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ecoinbox.demo.linkedin import seed
from ecoinbox.demo.loopback import Handler, LoopbackServer, int_param, json_response

Clock = Callable[[], datetime]
MAX_COMMENT = 1250
SUPPORTED_VERSIONS = frozenset(f"{year}{month:02d}" for year in (2025, 2026) for month in range(1, 13)) - {
    f"2025{month:02d}" for month in range(1, 12)
}
"""What this server serves: a year of monthly versions, 202512 to 202612."""


@dataclass(slots=True)
class Post:
    urn: str
    activity: str
    text: str
    created: int


@dataclass(slots=True)
class Comment:
    id: int
    post: Post
    actor: str
    text: str
    created: int
    parent: Comment | None = None
    replies: list[Comment] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return f"urn:li:comment:({self.post.activity},{self.id})"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.body = {"status": status, "code": code, "message": message}
        self.status = status


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class LinkedInServer(LoopbackServer):
    """One organization page with its posts and comments, and the members who write them."""

    def __init__(
        self,
        *,
        token: str = seed.TOKEN,
        seed_traffic: bool = True,
        now: Clock | None = None,
        daily_limit: int = 100_000,
        short_pages: int | None = None,
        describe_created: bool = True,
        people_names: bool = False,
    ) -> None:
        super().__init__()
        self.token = token
        self.organization = f"urn:li:organization:{seed.ORGANIZATION_ID}"
        self.daily_limit = daily_limit
        self.short_pages = short_pages
        self.describe_created = describe_created
        self.people_names = people_names
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._used: tuple[str, int] = ("", 0)
        self._ids = itertools.count(7_200_000_000_000_000_001)
        self.posts: list[Post] = []
        self.comments: dict[str, Comment] = {}
        self.posted: list[Comment] = []
        """Comments made through the API (the brand's replies), in order."""
        self._ticks = 0
        self._rng = random.Random("linkedin")
        if seed_traffic:
            self._seed()

    # -- content -----------------------------------------------------------------------------

    def add_post(self, text: str, at: datetime) -> Post:
        ident = next(self._ids)
        post = Post(f"urn:li:share:{ident}", f"urn:li:activity:{ident + 1000}", text, _ms(at))
        self.posts.append(post)
        return post

    def add_comment(
        self, post: Post, member: str, text: str, at: datetime, parent: Comment | None = None
    ) -> Comment:
        actor = member if member.startswith("urn:li:") else f"urn:li:person:{member}"
        comment = Comment(next(self._ids), post, actor, text, _ms(at), parent)
        self.comments[comment.urn] = comment
        if parent is not None:
            parent.replies.append(comment)
        return comment

    def _seed(self) -> None:
        now = self._clock()
        for text, minutes, comments in seed.POSTS:
            post = self.add_post(text, now - timedelta(minutes=minutes))
            for member, said, ago, replies in comments:
                first = self.add_comment(post, member, said, now - timedelta(minutes=ago))
                for who, reply, when in replies:
                    self.add_comment(
                        post, who or self.organization, reply, now - timedelta(minutes=when), first
                    )

    def tick(self) -> str:
        """Someone comments on one of the newest posts (now and then under a comment)."""
        member, text = seed.TRAFFIC[self._ticks % len(seed.TRAFFIC)]
        self._ticks += 1
        post = self.posts[-1 - self._rng.randrange(min(2, len(self.posts)))]
        firsts = [c for c in self.comments.values() if c.post is post and c.parent is None]
        parent = firsts[-1] if firsts and self._rng.random() < 0.3 else None
        return self.add_comment(post, member, text, self._clock(), parent).urn

    # -- wire --------------------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/rest/posts", self._get_posts)
        router.add_get("/rest/socialMetadata", self._get_metadata)
        router.add_get("/rest/socialActions/{urn}/comments", self._get_comments)
        router.add_post("/rest/socialActions/{urn}/comments", self._create_comment)
        router.add_get("/rest/organizations/{id}", self._get_organization)
        router.add_get("/rest/people/{key}", self._get_person)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.match_info.http_exception is not None:
                raise ApiError(404, "NOT_FOUND", f"No virtual resource found for {request.path}")
            self._authorize(request)
            return await handler(request)
        except ApiError as error:
            return json_response(error.body, status=error.status)

    def _authorize(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise ApiError(401, "INVALID_ACCESS_TOKEN", "Invalid access token")
        version = request.headers.get("LinkedIn-Version")
        if not version:
            raise ApiError(400, "VERSION_MISSING", "A version must be present. Please specify a version by "
                           "adding the LinkedIn-Version header.")  # fmt: skip
        if version not in SUPPORTED_VERSIONS:
            raise ApiError(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        day = self._clock().strftime("%Y-%m-%d")
        used = self._used[1] + 1 if self._used[0] == day else 1
        self._used = (day, used)
        if used > self.daily_limit:
            raise ApiError(429, "TOO_MANY_REQUESTS",
                           "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")  # fmt: skip

    def _post(self, urn: str) -> Post:
        for post in self.posts:
            if urn in (post.urn, post.activity):
                return post
        raise ApiError(404, "NOT_FOUND", f"Entity {urn} not found")

    async def _get_posts(self, request: web.Request) -> web.Response:
        if request.query.get("q") != "author" or request.query.get("author") != self.organization:
            raise ApiError(403, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER-author")
        start, count = (
            int_param(request.query.get("start"), 0),
            min(int_param(request.query.get("count"), 10), 100),
        )
        newest = sorted(self.posts, key=lambda p: max([p.created, *self._times(p)]), reverse=True)
        page = newest[start : start + count]
        elements = [self._post_json(post) for post in page]
        return json_response({"elements": elements, "paging": {"start": start, "count": count, "links": []}})

    def _times(self, post: Post) -> list[int]:
        return [c.created for c in self.comments.values() if c.post is post]

    def _post_json(self, post: Post) -> dict[str, Any]:
        return {
            "id": post.urn,
            "author": self.organization,
            "commentary": post.text,
            "createdAt": post.created,
            "publishedAt": post.created,
            "lastModifiedAt": post.created,
            "lifecycleState": "PUBLISHED",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
        }

    async def _get_metadata(self, request: web.Request) -> web.Response:
        raw = request.query.get("ids", "")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0" or not (
            raw.startswith("List(") and raw.endswith(")")
        ):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "ids must be a Rest.li 2.0 List(...) of URNs")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for urn in filter(None, raw[5:-1].split(",")):
            try:
                post = self._post(urn)
            except ApiError as error:
                errors[urn] = error.body
                continue
            under = [c for c in self.comments.values() if c.post is post]
            results[urn] = {
                "entity": urn,
                "commentsState": "OPEN",
                "commentSummary": {
                    "count": len(under),
                    "topLevelCount": sum(c.parent is None for c in under),
                },
                "reactionSummaries": {},
            }
        return json_response({"results": results, "statuses": {}, "errors": errors})

    def _under(self, urn: str) -> list[Comment]:
        if urn.startswith("urn:li:comment:"):
            comment = self.comments.get(urn)
            if comment is None:
                raise ApiError(404, "NOT_FOUND", f"Comment {urn} not found")
            return list(comment.replies)
        post = self._post(urn)
        return [c for c in self.comments.values() if c.post is post and c.parent is None]

    async def _get_comments(self, request: web.Request) -> web.Response:
        under = sorted(self._under(request.match_info["urn"]), key=lambda c: (c.created, c.id))
        start, count = (
            int_param(request.query.get("start"), 0),
            min(int_param(request.query.get("count"), 10), 100),
        )
        if self.short_pages is not None:
            count = min(count, self.short_pages)
        page = under[start : start + count]
        return json_response(
            {
                "elements": [self._comment_json(c) for c in page],
                "paging": {"start": start, "count": count, "total": len(under), "links": []},
            }
        )

    def _comment_json(self, comment: Comment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "actor": comment.actor,
            "commentUrn": comment.urn,
            "$URN": comment.urn,
            "id": str(comment.id),
            "object": comment.post.activity,
            "created": {"actor": comment.actor, "time": comment.created},
            "lastModified": {"actor": comment.actor, "time": comment.created},
            "message": {"text": comment.text, "attributes": []},
            "commentsSummary": {
                "selectedComments": [],
                "aggregatedTotalComments": len(comment.replies),
                "totalFirstLevelComments": len(comment.replies),
            },
            "likesSummary": {"totalLikes": 0, "likedByCurrentUser": False},
        }
        if comment.parent is not None:
            body["parentComment"] = comment.parent.urn
        return body

    async def _create_comment(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "ILLEGAL_ARGUMENT", "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "Request body must be an object")
        target = request.match_info["urn"]
        if body.get("actor") != self.organization:
            raise ApiError(
                403, "ACCESS_DENIED", "Not enough permissions to access: socialActions.comments.CREATE"
            )
        text = (body.get("message") or {}).get("text") if isinstance(body.get("message"), dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(422, "UNPROCESSABLE_ENTITY", "/message/text :: field is required but not found")
        if len(text) > MAX_COMMENT:
            raise ApiError(
                422, "UNPROCESSABLE_ENTITY", f"/message/text :: length {len(text)} exceeds {MAX_COMMENT}"
            )
        parent: Comment | None = None
        if target.startswith("urn:li:comment:"):
            parent = self.comments.get(target)
            if parent is None:
                raise ApiError(404, "NOT_FOUND", f"Comment {target} not found")
            if parent.parent is not None:
                raise ApiError(400, "ILLEGAL_ARGUMENT", "Nested comments are supported one level deep only")
            if body.get("parentComment") != target:
                raise ApiError(400, "ILLEGAL_ARGUMENT", "/parentComment :: must be the comment the URL names")
            post = parent.post
        else:
            post = self._post(target)
        if body.get("object") not in (post.urn, post.activity):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "/object :: must be the post the comment belongs to")
        comment = self.add_comment(post, self.organization, text, self._clock(), parent)
        self.posted.append(comment)
        headers = {"x-restli-id": comment.urn}
        if not self.describe_created:
            return web.Response(status=201, headers=headers)
        return json_response(self._comment_json(comment), status=201, headers=headers)

    async def _get_organization(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != str(seed.ORGANIZATION_ID):
            raise ApiError(404, "NOT_FOUND", f"Organization {request.match_info['id']} not found")
        return json_response({"id": seed.ORGANIZATION_ID, "localizedName": seed.ORGANIZATION_NAME,
                              "vanityName": "acme"})  # fmt: skip

    async def _get_person(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if not self.people_names:
            raise ApiError(403, "ACCESS_DENIED", "Not enough permissions to access: people.GET")
        ident = key.removeprefix("(id:").removesuffix(")")
        name = seed.MEMBERS.get(ident)
        if name is None:
            raise ApiError(404, "NOT_FOUND", f"Member {ident} not found")
        first, _, last = name.partition(" ")
        return json_response({"id": ident, "localizedFirstName": first, "localizedLastName": last})
