"""A local WordPress site on loopback, for `ecoinbox demo` and for the tests.

It speaks the part of WordPress an inbox needs: the REST API's comments (`/wp-json/wp/v2/comments`
with `after`, `orderby`, `order`, `page`, `per_page`, `offset`, `post`, `parent`, `author`,
`include`, `status`, `context`; `X-WP-Total`, `X-WP-TotalPages` and `Link`), approving with
`POST /wp/v2/comments/<id>`, `users/me`, creating comments (201, 409 `comment_duplicate`, 403
`rest_comment_closed`, 400 `comment_flood` ...), application passwords over HTTP Basic, and
the RSS 2.0 and Atom comment feeds with `ETag`/`Last-Modified` and 304. Like WordPress, the error bodies are `{"code", "message", "data": {"status"}}`, `after`
is compared with the site's *local* comment date (strictly after), and a reply's feed entry
starts with "In reply to <a href=...#comment-N>name</a>.". The site's timezone is not UTC by
default, so a client that sends GMT dates without an offset misses comments, as it would on a
real site. Core WordPress has no rate limit; hosts and firewalls answer 429 with Retry-After,
and maintenance mode answers 503 with Retry-After: tests reproduce both with `inject` or
`maintenance`.

Habits (constructor switches; the defaults are the demo's, each `True`/`False` named after the
real WordPress that behaves so, 6.1 from Debian's packages as tests/real_wordpress.py runs it):
- `anonymous_on_bad_password`: a wrong or revoked application password is not refused (401
  `incorrect_password`) but served as anonymous, as a real site does when it does not take the
  password (application passwords unavailable without HTTPS, the Authorization header dropped by
  the web server, the password revoked: real WordPress answers `users/me` with 401
  `rest_not_logged_in` and serves the approved comments to anyone).
- `checks_parent`: False as real WordPress: a reply's `parent` may be missing, trashed, held or
  on another post and still gets 201.
- `pretty_permalinks`: False as a site with plain permalinks (WordPress's default where the
  server cannot rewrite URLs): the API answers only at `/?rest_route=/wp/v2/...`, `/wp-json/...`
  is the home page, and the home page's `Link: <.../?rest_route=/>; rel="https://api.w.org/"`
  says so.
- `kses_author_names`: True as real WordPress: a commenter's name is stored through kses, so
  the API and the feeds give `Ben &amp; Jerry's` for "Ben & Jerry's".
- `approve_held_after`: a moderator clears the queue: held comments older than this are approved
  (keeping their date, as WordPress does) before each request.
"""

from __future__ import annotations

import base64
import hashlib
import html
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from aiohttp import web
from yarl import URL

from ecoinbox.demo.loopback import Handler, LoopbackServer, json_response
from ecoinbox.demo.wordpress import markup, wire
from ecoinbox.demo.wordpress import seed as seeding
from ecoinbox.demo.wordpress.records import Comment, CreatedComment, Post, User, WpError

Clock = Callable[[], datetime]

API = "/wp-json/wp/v2"
MAX_CONTENT_BYTES = 65_525  # wp_check_comment_data_max_lengths: comment_content, in bytes
FLOOD_SECONDS = 15  # comment_flood_filter's default, for users who cannot moderate
FEED_SIZE = 10  # posts_per_rss
STATUSES = {"approved": "1", "hold": "0", "spam": "spam", "trash": "trash"}
ORDERBY = ("date", "date_gmt", "id", "include", "post", "parent", "type")
_DATE_PARAM = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


class WordPressServer(LoopbackServer):
    """An in-process WordPress site with its REST API and comment feeds over loopback HTTP.

    `site` picks the seeded content ("acme", the brand's blog; "fans", a second blog about the
    brand) and `seed=None` starts empty. The brand's account is `login` with the application
    password `app_password` (spaces as WordPress shows them are accepted); `moderator=False`
    makes it an author, who may not read held comments nor use `status`/`context=edit`.
    `utc_offset` is the site's timezone (local comment dates, and what `after` compares with).
    """

    def __init__(
        self,
        *,
        site: str = "acme",
        seed: int | None = 1,
        name: str = "The Acme Blog",
        public_url: str = "https://blog.acme.example",
        login: str = "acme_team",
        display_name: str = "Acme Team",
        app_password: str = "abcd EFGH ijkl MNOP qrst UVWX",
        moderator: bool = True,
        utc_offset: timedelta = timedelta(hours=2),
        now: Clock | None = None,
        anonymous_on_bad_password: bool = False,
        checks_parent: bool = True,
        pretty_permalinks: bool = True,
        approve_held_after: timedelta | None = None,
        kses_author_names: bool = False,
    ) -> None:
        super().__init__()
        self.anonymous_on_bad_password = anonymous_on_bad_password
        self.checks_parent = checks_parent
        self.pretty_permalinks = pretty_permalinks
        self.approve_held_after = approve_held_after
        self.kses_author_names = kses_author_names
        self.rest_route_hits = 0  # requests that came by ?rest_route=
        self.site = site
        self.name = name
        self.public_url = public_url.rstrip("/")
        self.utc_offset = utc_offset
        self.created: list[CreatedComment] = []
        self.maintenance_until: datetime | None = None
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._users: dict[str, User] = {}
        self._posts: dict[int, Post] = {}
        self._comments: dict[int, Comment] = {}
        self._next_id = 1
        self._tick_rng = random.Random(f"wp-tick-{site}-{seed if seed is not None else 0}")
        self.brand = self.add_user(login, display_name, app_password, moderator=moderator)
        if seed is not None:
            seeding.seed_blog(self, random.Random(seed), self._now(), site)

    # -- content -----------------------------------------------------------------------------

    def add_user(self, login: str, name: str, app_password: str, *, moderator: bool = True) -> int:
        user = User(len(self._users) + 1, login, name, "".join(app_password.split()), moderator)
        self._users[login] = user
        return user.id

    def set_app_password(self, app_password: str, login: str | None = None) -> None:
        """Revoke the account's application password and accept this one instead."""
        user = self._users[login or self._brand_login()]
        user.app_password = "".join(app_password.split())

    def add_post(
        self, slug: str, title: str, published: datetime, *, comments_open: bool = True, text: str = ""
    ) -> int:
        post = Post(self._new_id(), slug, title, markup.naive_utc(published), comments_open, text)
        self._posts[post.id] = post
        return post.id

    def add_comment(
        self,
        *,
        post: int,
        author: str,
        text: str,
        parent: int = 0,
        status: str = "approved",
        author_url: str = "",
        author_email: str = "",
        created_at: datetime | None = None,
        author_ip: str = "203.0.113.7",
    ) -> int:
        """Publish a comment; `author` "{brand}" is the brand account. Returns its id."""
        if post not in self._posts:
            raise KeyError(f"no post {post}")
        if parent and parent not in self._comments:
            raise KeyError(f"no comment {parent}")
        user = self._users[self._brand_login()] if author == seeding.BRAND else None
        comment = Comment(
            id=self._new_id(),
            post=post,
            parent=parent,
            user=user.id if user else 0,
            author_name=user.name if user else markup.kses_name(author) if self.kses_author_names else author,
            author_url=author_url,
            author_email=author_email,
            date_gmt=markup.naive_utc(created_at or self._now()),
            raw=text,
            status=status,
            author_ip=author_ip,
        )
        self._comments[comment.id] = comment
        return comment.id

    def set_status(self, comment_id: int, status: str) -> None:
        """Moderate a comment (approve, hold, spam, trash) as the site's admin would."""
        self._comments[comment_id].status = status

    def delete_comment(self, comment_id: int) -> None:
        del self._comments[comment_id]

    def tick(self) -> int:
        """Add one new realistic comment (a question, sometimes spam) from a deterministic
        stream; returns its id."""
        posts = sorted(p.id for p in self._posts.values() if p.comments_open)
        draft = seeding.next_comment(self._tick_rng, len(posts))
        return self.add_comment(
            post=posts[draft.post_index], author=draft.author, text=draft.text, status=draft.status
        )

    def comments(self) -> list[dict[str, Any]]:
        """Every comment as the REST API shows it in edit context, oldest first."""
        return [self._comment_json(c, edit=True) for c in sorted(self._comments.values(), key=markup.by_date)]

    def post_ids(self) -> list[int]:
        return sorted(self._posts)

    def maintenance(self, until: datetime | None) -> None:
        """Maintenance mode (during an update): every request answers 503 with Retry-After."""
        self.maintenance_until = until

    # -- the web application -----------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/", self._home)
        router.add_route("*", "/wp-json/{route:.*}", self._rest)
        router.add_get("/comments/feed/", self._rss)
        router.add_get("/comments/feed/atom/", self._atom)

    def _rest_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        """The REST API's routes (under /wp-json or ?rest_route=): method, route, handler."""
        number = r"/(?P<id>\d+)"
        return [
            ("GET", re.compile(r"/?"), self._index),
            ("GET", re.compile("/wp/v2/users/me"), self._me),
            ("GET", re.compile("/wp/v2/comments"), self._list_comments),
            ("POST", re.compile("/wp/v2/comments"), self._create_comment),
            ("GET", re.compile("/wp/v2/comments" + number), self._get_comment),
            ("POST", re.compile("/wp/v2/comments" + number), self._update_comment),
            ("GET", re.compile("/wp/v2/posts"), self._list_posts),
            ("GET", re.compile("/wp/v2/posts" + number), self._get_post),
        ]

    async def _dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A `?rest_route=` request is recorded and answered as the /wp-json/ route it names."""
        route = request.query.get("rest_route")
        if request.path in ("/", "/index.php") and route is not None:
            self.rest_route_hits += 1
            rest = [(k, v) for k, v in request.query.items() if k != "rest_route"]
            request = request.clone(rel_url=URL("/wp-json" + route).with_query(rest))
            request[wire.BY_QUERY] = True
            handler = self._rest
        return await super()._dispatch(request, handler)

    async def _home(self, request: web.Request) -> web.StreamResponse:
        """The site's home page: HTML, and the REST API's root in its Link header."""
        root = f"{self.base_url}/wp-json/" if self.pretty_permalinks else f"{self.base_url}/?rest_route=/"
        return web.Response(
            text=f"<!doctype html><title>{html.escape(self.name)}</title>",
            content_type="text/html",
            headers={"Link": f'<{root}>; rel="https://api.w.org/"'},
        )

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        if not self.pretty_permalinks and not request.get(wire.BY_QUERY, False):
            return await self._home(request)  # no rewrite rules: /wp-json/... is the home page
        route = request.path.removeprefix("/wp-json")
        for method, pattern, handler in self._rest_routes():
            match = pattern.fullmatch(route)
            if match and request.method in (method, "HEAD" if method == "GET" else method):
                if match.groupdict().get("id"):
                    request[wire.ROUTE_ID] = int(match["id"])
                return await handler(request)
        raise WpError(404, "rest_no_route", "No route was found matching the URL and request method.")

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        now = self._now()
        if self.maintenance_until is not None and now < self.maintenance_until:
            seconds = max(1, int((self.maintenance_until - now).total_seconds()))
            return web.Response(
                status=503,
                text="Briefly unavailable for scheduled maintenance. Check back in a minute.",
                headers={"Retry-After": str(seconds), "Content-Type": "text/html; charset=UTF-8"},
            )
        if request.match_info.http_exception is not None:
            return wire.error_answer(
                WpError(404, "rest_no_route", "No route was found matching the URL and request method.")
            )
        if self.approve_held_after is not None:
            for comment in self._comments.values():
                if (
                    comment.status == "hold"
                    and now - comment.date_gmt.replace(tzinfo=UTC) >= self.approve_held_after
                ):
                    comment.status = "approved"
        try:
            request[wire.REQUEST_USER] = self._authenticate(request)
            return await handler(request)
        except WpError as error:
            return wire.error_answer(error)

    def _authenticate(self, request: web.Request) -> User | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if not encoded or scheme.lower() != "basic":
            return None
        try:
            login, _, password = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            raise WpError(401, "rest_invalid_authorization", "Malformed Authorization header.") from None
        user = self._users.get(login)
        if self.anonymous_on_bad_password and (
            user is None or "".join(password.split()) != user.app_password
        ):
            return None  # the credentials are ignored: the request goes on as anonymous
        if user is None:
            raise WpError(401, "invalid_username", "Unknown username. Check again or try your email address.")
        if "".join(password.split()) != user.app_password:
            raise WpError(
                401, "incorrect_password", "The provided password is an invalid application password."
            )
        return user

    # -- handlers ----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return json_response({
            "name": self.name,
            "description": "Demo WordPress site for ecoinbox",
            "url": self.public_url,
            "home": self.public_url,
            "gmt_offset": self.utc_offset.total_seconds() / 3600,
            "namespaces": ["oembed/1.0", "wp/v2"],
            "authentication": {"application-passwords": {"endpoints": {
                "authorization": self.public_url + "/wp-admin/authorize-application.php"}}},
        })  # fmt: skip

    async def _me(self, request: web.Request) -> web.Response:
        user = wire.logged_in(request)
        body: dict[str, Any] = {
            "id": user.id,
            "name": user.name,
            "url": "",
            "description": "",
            "link": f"{self.public_url}/author/{user.login}/",
            "slug": user.login,
        }
        if request.query.get("context") == "edit":
            body["username"] = user.login
            body["roles"] = ["editor" if user.moderator else "author"]
        return json_response(body)

    async def _get_post(self, request: web.Request) -> web.Response:
        post = self._posts.get(request[wire.ROUTE_ID])
        if post is None:
            raise WpError(404, "rest_post_invalid_id", "Invalid post ID.")
        return json_response(self._post_json(post))

    async def _list_posts(self, request: web.Request) -> web.Response:
        include = wire.id_list(request.query.getall("include", []))
        per_page = wire.bounded(request.query.get("per_page", "10"), "per_page", 1, 100)
        posts = [p for p in sorted(self._posts.values(), key=lambda p: p.id, reverse=True)
                 if not include or p.id in include][:per_page]  # fmt: skip
        return json_response(
            [self._post_json(p) for p in posts],
            headers={"X-WP-Total": str(len(posts)), "X-WP-TotalPages": "1"},
        )

    async def _get_comment(self, request: web.Request) -> web.Response:
        comment = self._comments.get(request[wire.ROUTE_ID])
        if comment is None:
            raise WpError(404, "rest_comment_invalid_id", "Invalid comment ID.")
        user: User | None = request[wire.REQUEST_USER]
        edit = self._edit_context(request, user)
        if comment.status != "approved" and not (user and user.moderator):
            raise WpError(
                wire.denied(user), "rest_cannot_read", "Sorry, you are not allowed to read this comment."
            )
        return json_response(self._comment_json(comment, edit=edit))

    async def _list_comments(self, request: web.Request) -> web.Response:
        query = request.query
        user: User | None = request[wire.REQUEST_USER]
        edit = self._edit_context(request, user)
        status = query.get("status", "approve")
        if not (user and user.moderator):
            forbidden = [name for name in ("author", "author_exclude", "author_email") if query.get(name)]
            if status != "approve":
                forbidden.append("status")
            if forbidden:
                raise WpError(wire.denied(user), "rest_forbidden_param",
                              f"Query parameter not permitted: {', '.join(forbidden)}")  # fmt: skip
        per_page = wire.bounded(query.get("per_page", "10"), "per_page", 1, 100)
        page = wire.bounded(query.get("page", "1"), "page", 1, 10**9)
        offset = wire.bounded(query.get("offset", "0"), "offset", 0, 10**9)
        order = query.get("order", "desc")
        orderby = query.get("orderby", "date_gmt")
        if order not in ("asc", "desc"):
            raise wire.invalid_param("order", "order is not one of asc and desc.")
        if orderby not in ORDERBY:
            raise wire.invalid_param("orderby", f"orderby is not one of {', '.join(ORDERBY)}.")
        after = self._local_bound(query.get("after"), "after")
        before = self._local_bound(query.get("before"), "before")
        wanted_status = {"approve": ("approved",), "hold": ("hold",), "all": ("approved", "hold"),
                         "spam": ("spam",), "trash": ("trash",)}.get(status)  # fmt: skip
        if wanted_status is None:
            wanted_status = ("approved",)
        posts = wire.id_list(query.getall("post", []))
        parents = wire.id_list(query.getall("parent", []))
        authors = wire.id_list(query.getall("author", []))
        include = wire.id_list(query.getall("include", []))
        search = query.get("search", "").casefold()
        matching = [
            c for c in self._comments.values()
            if c.status in wanted_status
            and (not posts or c.post in posts)
            and (not parents or c.parent in parents)
            and (not authors or c.user in authors)
            and (not include or c.id in include)
            and (after is None or self._local(c.date_gmt) > after)
            and (before is None or self._local(c.date_gmt) < before)
            and (not search or search in c.raw.casefold() or search in c.author_name.casefold())
        ]  # fmt: skip
        matching.sort(key=markup.sort_key(orderby), reverse=order == "desc")
        start = offset if "offset" in query else per_page * (page - 1)
        chosen = matching[start : start + per_page]
        total = len(matching)
        pages = -(-total // per_page)
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        base = f"{self.base_url}{API}/comments"
        if page > 1:
            links.append(f'<{base}?{wire.with_page(query, min(page - 1, max(pages, 1)))}>; rel="prev"')
        if pages > page:
            links.append(f'<{base}?{wire.with_page(query, page + 1)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response([self._comment_json(c, edit=edit) for c in chosen], headers=headers)

    async def _create_comment(self, request: web.Request) -> web.Response:
        user: User | None = request[wire.REQUEST_USER]
        if user is None:
            raise WpError(401, "rest_comment_login_required", "Sorry, you must be logged in to comment.")
        body = await wire.request_body(request)
        post = self._posts.get(wire.int_value(body.get("post")) or 0)
        if post is None:
            raise WpError(403, "rest_comment_invalid_post_id",
                          "Sorry, you are not allowed to create this comment without a post.")  # fmt: skip
        if not post.comments_open:
            raise WpError(403, "rest_comment_closed", "Sorry, comments are closed for this item.")
        parent = wire.int_value(body.get("parent")) or 0
        if (
            self.checks_parent
            and parent
            and (parent not in self._comments or self._comments[parent].post != post.id)
        ):
            raise WpError(
                400, "rest_comment_invalid_parent", "Invalid comment parent ID."
            )  # (unverified code)
        content = body.get("content")
        if isinstance(content, dict):
            content = content.get("raw")
        if not isinstance(content, str) or not content.strip():
            raise WpError(400, "rest_comment_content_invalid", "Invalid comment content.")
        if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
            raise WpError(
                400, "comment_content_column_length", "Comment field exceeds maximum length allowed."
            )
        content = markup.kses(content)
        for other in self._comments.values():
            if (other.post, other.parent, other.user, other.raw) == (post.id, parent, user.id, content) and (
                other.status != "trash"
            ):
                raise WpError(409, "comment_duplicate",
                              "Duplicate comment detected; it looks as though you&#8217;ve already said that!")  # fmt: skip
        now = markup.naive_utc(self._now())
        if not user.moderator:
            latest = max((c.date_gmt for c in self._comments.values() if c.user == user.id), default=None)
            if latest is not None and (now - latest).total_seconds() < FLOOD_SECONDS:
                raise WpError(400, "comment_flood", "You are posting comments too quickly. Slow down.")
        comment = Comment(self._new_id(), post.id, parent, user.id, user.name, "", "", now, content,
                           "approved" if user.moderator else "hold")  # fmt: skip
        self._comments[comment.id] = comment
        self.created.append(CreatedComment(comment.id, post.id, parent, content))
        return json_response(
            self._comment_json(comment, edit=user.moderator),
            status=201,
            headers={"Location": f"{self.base_url}{API}/comments/{comment.id}"},
        )

    async def _update_comment(self, request: web.Request) -> web.Response:
        """POST /wp/v2/comments/<id>: a moderator changes its status ("approved", "hold", ...)."""
        comment = self._comments.get(request[wire.ROUTE_ID])
        if comment is None:
            raise WpError(404, "rest_comment_invalid_id", "Invalid comment ID.")
        user: User | None = request[wire.REQUEST_USER]
        if not (user and user.moderator):
            raise WpError(
                wire.denied(user), "rest_cannot_edit", "Sorry, you are not allowed to edit this comment."
            )
        body = await wire.request_body(request)
        status = {"approved": "approved", "approve": "approved", "1": "approved", "hold": "hold", "0": "hold",
                  "spam": "spam", "trash": "trash"}.get(str(body.get("status", "")))  # fmt: skip
        if body.get("status") is not None:
            if status is None:
                raise WpError(500, "rest_comment_failed_edit", "Updating comment status failed.")
            comment.status = status
        return json_response(self._comment_json(comment, edit=True))

    # -- feeds -------------------------------------------------------------------------------

    def _feed_comments(self) -> list[Comment]:
        approved = [c for c in self._comments.values() if c.status == "approved"]
        return sorted(approved, key=markup.by_date, reverse=True)[:FEED_SIZE]

    def _conditional(self, request: web.Request, entries: list[Comment]) -> tuple[dict[str, str], bool]:
        """(validators, not modified?) as WordPress's feeds send and check them."""
        newest = max((c.date_gmt for c in entries), default=datetime(2000, 1, 1))
        modified = format_datetime(newest.replace(tzinfo=UTC), usegmt=True)
        etag = (
            '"'
            + hashlib.md5(f"{modified}{len(entries)}{entries[0].id if entries else 0}".encode()).hexdigest()
            + '"'
        )
        headers = {"ETag": etag, "Last-Modified": modified}
        match = request.headers.get("If-None-Match")
        since = request.headers.get("If-Modified-Since")
        if match is not None:
            return headers, match.strip() == etag
        if since:
            try:
                return headers, parsedate_to_datetime(since) >= newest.replace(tzinfo=UTC)
            except (TypeError, ValueError):
                return headers, False
        return headers, False

    async def _rss(self, request: web.Request) -> web.Response:
        entries = self._feed_comments()
        headers, fresh = self._conditional(request, entries)
        if fresh:
            return web.Response(status=304, headers=headers)
        items = []
        for comment in entries:
            post = self._posts[comment.post]
            items.append(
                "<item>"
                f"<title>{xml_escape(f'Comment on {post.title} by {comment.author_name}')}</title>"
                f"<link>{xml_escape(self._comment_link(comment))}</link>"
                f"<dc:creator><![CDATA[{markup.cdata(comment.author_name)}]]></dc:creator>"
                f"<pubDate>{format_datetime(comment.date_gmt.replace(tzinfo=UTC), usegmt=True)}</pubDate>"
                f'<guid isPermaLink="false">{xml_escape(self._guid(comment))}</guid>'
                f"<description><![CDATA[{markup.cdata(html.unescape(markup.strip_tags(self._feed_text(comment))))}]]></description>"
                f"<content:encoded><![CDATA[{markup.cdata(self._feed_text(comment))}]]></content:encoded>"
                "</item>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            f"<channel><title>{xml_escape(f'Comments for {self.name}')}</title>"
            f"<link>{xml_escape(self.public_url)}</link><description>Demo</description>"
            f"<lastBuildDate>{headers['Last-Modified']}</lastBuildDate>"
            "<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>"
            + "".join(items)
            + "</channel></rss>"
        )
        return web.Response(
            body=body.encode(), headers={**headers, "Content-Type": "application/rss+xml; charset=UTF-8"}
        )

    async def _atom(self, request: web.Request) -> web.Response:
        entries = self._feed_comments()
        headers, fresh = self._conditional(request, entries)
        if fresh:
            return web.Response(status=304, headers=headers)
        items = []
        for comment in entries:
            post = self._posts[comment.post]
            reply = ""
            if comment.parent and comment.parent in self._comments:
                parent = self._comments[comment.parent]
                reply = (f"<thr:in-reply-to ref={quoteattr(self._guid(parent))} "
                         f'href={quoteattr(self._comment_link(parent))} type="text/html"/>')  # fmt: skip
            else:
                reply = (f"<thr:in-reply-to ref={quoteattr(self._post_guid(post))} "
                         f'href={quoteattr(self._post_link(post))} type="text/html"/>')  # fmt: skip
            updated = comment.date_gmt.strftime("%Y-%m-%dT%H:%M:%SZ")
            items.append(
                "<entry>"
                f"<title>{xml_escape(f'Comment on {post.title} by {comment.author_name}')}</title>"
                f'<link rel="alternate" href={quoteattr(self._comment_link(comment))} type="text/html"/>'
                f"<author><name>{xml_escape(comment.author_name)}</name>"
                + (f"<uri>{xml_escape(comment.author_url)}</uri>" if comment.author_url else "")
                + f"</author><id>{xml_escape(self._guid(comment))}</id>"
                f"<updated>{updated}</updated><published>{updated}</published>"
                + reply
                + f'<content type="html" xml:base={quoteattr(self._comment_link(comment))}>'
                f"{xml_escape(markup.autop(comment.raw))}</content>"
                "</entry>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0" '
            'xml:lang="en-US">'
            f'<title type="text">{xml_escape(f"Comments for {self.name}")}</title>'
            f"<updated>{max((c.date_gmt for c in entries), default=datetime(2000, 1, 1)).strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
            f'<link rel="alternate" type="text/html" href={quoteattr(self.public_url)}/>'
            f"<id>{xml_escape(self.public_url + '/comments/feed/atom/')}</id>" + "".join(items) + "</feed>"
        )
        return web.Response(
            body=body.encode(), headers={**headers, "Content-Type": "application/atom+xml; charset=UTF-8"}
        )

    def _feed_text(self, comment: Comment) -> str:
        """get_comment_text() in a comment feed: a reply starts with "In reply to <parent>."."""
        text = markup.autop(comment.raw)
        parent = self._comments.get(comment.parent)
        if parent is not None:
            link = html.escape(self._comment_link(parent), quote=True)
            text = f'In reply to <a href="{link}">{html.escape(parent.author_name)}</a>.\n\n{text}'
        return text

    # -- JSON ----------------------------------------------------------------------------------

    def _comment_json(self, comment: Comment, *, edit: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": comment.id,
            "post": comment.post,
            "parent": comment.parent,
            "author": comment.user,
            "author_name": comment.author_name,
            "author_url": comment.author_url,
            "date": self._local(comment.date_gmt).strftime("%Y-%m-%dT%H:%M:%S"),
            "date_gmt": comment.date_gmt.strftime("%Y-%m-%dT%H:%M:%S"),
            "content": {"rendered": markup.autop(comment.raw)},
            "link": self._comment_link(comment),
            "status": comment.status,
            "type": "comment",
            "author_avatar_urls": {"24": f"https://secure.gravatar.com/avatar/{comment.id:032x}?s=24&d=mm&r=g"},
            "meta": [],
            "_links": {"up": [{"embeddable": True, "post_type": "post",
                               "href": f"{self.base_url}{API}/posts/{comment.post}"}]},
        }  # fmt: skip
        if edit:
            data["content"]["raw"] = comment.raw
            data["author_email"] = comment.author_email
            data["author_ip"] = comment.author_ip
            data["author_user_agent"] = "Mozilla/5.0"
        return data

    def _post_json(self, post: Post) -> dict[str, Any]:
        return {
            "id": post.id,
            "date_gmt": post.date_gmt.strftime("%Y-%m-%dT%H:%M:%S"),
            "slug": post.slug,
            "status": "publish",
            "link": self._post_link(post),
            "title": {"rendered": html.escape(post.title, quote=False)},
            "content": {"rendered": markup.autop(post.text)},
            "comment_status": "open" if post.comments_open else "closed",
        }

    def _comment_link(self, comment: Comment) -> str:
        return f"{self._post_link(self._posts[comment.post])}#comment-{comment.id}"

    def _post_link(self, post: Post) -> str:
        return f"{self.public_url}/{post.slug}/"

    def _post_guid(self, post: Post) -> str:
        return f"{self.public_url}/?p={post.id}"

    def _guid(self, comment: Comment) -> str:
        return f"{self._post_guid(self._posts[comment.post])}#comment-{comment.id}"

    # -- helpers -------------------------------------------------------------------------------

    def _edit_context(self, request: web.Request, user: User | None) -> bool:
        if request.query.get("context", "view") != "edit":
            return False
        if not (user and user.moderator):
            raise WpError(
                wire.denied(user), "rest_forbidden_context", "Sorry, you are not allowed to edit comments."
            )
        return True

    def _local_bound(self, value: str | None, name: str) -> datetime | None:
        """`after`/`before` as WP_Date_Query reads them: a date without an offset is in the
        site's timezone; compared with the local comment date."""
        if value is None:
            return None
        if not _DATE_PARAM.match(value):
            raise wire.invalid_param(name, f"Invalid date. {name} is not of type date-time.")
        moment = datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T").replace("t", "T"))
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(timezone(self.utc_offset)).replace(tzinfo=None)

    def _local(self, date_gmt: datetime) -> datetime:
        return date_gmt + self.utc_offset

    def _brand_login(self) -> str:
        return next(iter(self._users))

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
