"""A local Graph API on loopback: a Facebook Page with Messenger, and its Instagram account.

One server serves both platforms, as graph.facebook.com does, under a versioned path
(`/v23.0/...`). It keeps what a client most easily gets wrong:

- Tokens as a bearer header or an `access_token` parameter; a bad one is answered 400 with
  `{"error": {"code": 190, "type": "OAuthException", "fbtrace_id": ...}}`.
- Cursor paging (`paging.cursors.before/after`, `paging.next` only while more follow, carrying
  the access token in its URL as Meta's does); `short_pages` serves fewer items than `limit`
  while more follow, as Meta does after filtering.
- `X-App-Usage` on user-token calls, `X-Business-Use-Case-Usage` on Page-token calls (percent of
  an hourly budget); past it, or after `throttle()`, calls are refused with code 80001 (Pages) or
  80002 (Instagram) and `estimated_time_to_regain_access`.
- Comments: `filter=stream|toplevel`, `order=chronological|reverse_chronological`; a reply to a
  reply is filed under the top-level comment; `is_hidden` (Facebook) and `hide` (Instagram) hide
  and show, and nothing is ever deleted.
- Messenger: the Send API refuses a message more than 24 hours after the person's last one
  (code 10, subcode 2018278) unless tagged HUMAN_AGENT (7 days) where the app was granted it.
- Facebook Login for Devices (`/device/login`, `/device/login_status`).

`drop_answer_after_post` makes the next n writes happen and loses their answers.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from ecoinbox.demo.facebook.records import Comment, Conversation, DirectMessage, Media, Person, Post
from ecoinbox.demo.facebook.site import PAGE_TOKEN
from ecoinbox.demo.loopback import FixedWindow, Handler, LoopbackServer, int_param, json_response

__all__ = ["DEMO_PAGE_TOKEN", "GraphServer"]

Clock = Callable[[], datetime]
TOKEN: Final = web.RequestKey("token", str)
PARAMS: Final = web.RequestKey("params", dict[str, Any])
VERSION: Final = "v23.0"
DEMO_PAGE_TOKEN: Final = PAGE_TOKEN  # the token the demo's token_cmd prints
DEMO_USER_TOKEN: Final = "demo-facebook-user-token"
DEMO_APP_ID: Final = "4242424242"
DEMO_CLIENT_TOKEN: Final = "demo-client-token"
PAGE_ID: Final = "100200300400"
IG_USER_ID: Final = "17841400000000001"
ALL_PERMISSIONS: Final = (
    "pages_show_list", "pages_read_engagement", "pages_read_user_content", "pages_manage_engagement",
    "pages_messaging", "instagram_basic", "instagram_manage_comments", "instagram_manage_messages",
)  # fmt: skip


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"QVFI:{index}".encode()).decode().rstrip("=")


def _index(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("QVFI:"))
    except ValueError:
        return None


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, *, subcode: int | None = None,
                 kind: str = "OAuthException") -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.message, self.subcode, self.kind = status, code, message, subcode, kind

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code,
                                 "fbtrace_id": secrets.token_urlsafe(8)}  # fmt: skip
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return json_response({"error": error}, status=self.status, headers=headers)


class GraphServer(LoopbackServer):
    """An in-process Graph API for one Page, its Messenger and its Instagram account."""

    def __init__(
        self,
        *,
        seed: int | None = 1,
        now: Clock | None = None,
        page_token: str = DEMO_PAGE_TOKEN,
        permissions: tuple[str, ...] = ALL_PERMISSIONS,
        human_agent: bool = False,
        hourly_budget: int = 4800,
        short_pages: bool = False,
    ) -> None:
        super().__init__()
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self.page = Person(PAGE_ID, "Acme", "acme")
        self.ig_user = Person(IG_USER_ID, "Acme", "acme")
        self.page_token = page_token
        self.user_token = DEMO_USER_TOKEN
        self.permissions = list(permissions)
        self.human_agent = human_agent
        self.short_pages = short_pages
        self.drop_answer_after_post = 0
        self.posts: dict[str, Post] = {}
        self.comments: dict[str, Comment] = {}
        self.conversations: dict[str, Conversation] = {}
        self.media: dict[str, Media] = {}
        self.sent: list[dict[str, Any]] = []  # every write that landed: what tests read back
        self.device_codes: dict[str, bool] = {}  # code -> approved
        self.approve_devices = True  # the manager enters the code at once
        self.device_interval = 5  # seconds between two polls of a device login, as Meta says
        self._window = FixedWindow(hourly_budget, 3600.0)
        self._throttled_until: datetime | None = None
        self._serial = 1000
        self._rng = random.Random(seed)  # what `tick` writes (the sites give their own seeds)
        self.ticks_instagram = False  # what `tick` adds: Facebook traffic, or Instagram comments
        if seed is not None:
            from ecoinbox.demo.facebook.seed import seed_traffic

            seed_traffic(self, seed)

    def now(self) -> datetime:
        return self._clock()

    # -- building the world (seed, tests, tick) ------------------------------------------------

    def _next(self) -> str:
        self._serial += 1
        return str(self._serial)

    def add_post(self, author: Person, message: str, at: datetime | None = None) -> Post:
        at = at or self.now()
        post = Post(f"{PAGE_ID}_{self._next()}", author, message, at, at)
        self.posts[post.id] = post
        return post

    def add_tagged_post(self, author: Person, message: str, at: datetime | None = None) -> Post:
        """A post of `author` on their own timeline that tags the Page."""
        at = at or self.now()
        post = Post(f"{author.id}_{self._next()}", author, message, at, at, tagged=True)
        self.posts[post.id] = post
        return post

    def add_comment(self, on: str, author: Person, message: str, at: datetime | None = None, *,
                    reply_to: str | None = None) -> Comment:  # fmt: skip
        """A comment on a post or media `on`; `reply_to` a comment files it under that one's top."""
        at = at or self.now()
        instagram = on in self.media
        top = None
        if reply_to is not None:
            parent = self.comments[reply_to]
            top = parent.parent or parent.id
        head = on.partition("_")[2] if not instagram else ""
        comment_id = f"1789{self._next()}0000" if instagram else f"{head}_{self._next()}"
        comment = Comment(comment_id, on, top, author, message, at, instagram=instagram)
        self.comments[comment.id] = comment
        if on in self.posts:
            post = self.posts[on]
            post.updated = max(post.updated, at)
        if instagram:
            self.media[on].comments_count += 1
        return comment

    def add_message(
        self, person: Person, text: str, at: datetime | None = None, *, ours: bool = False,
        instagram: bool = False,
    ) -> DirectMessage:  # fmt: skip
        """A Messenger message from `person` to the Page (or ours to them); with `instagram`, an
        Instagram direct message to the account."""
        platform = "instagram" if instagram else "messenger"
        conversation = next(
            (c for c in self.conversations.values() if c.person.id == person.id and c.platform == platform),
            None,
        )
        if conversation is None:
            conversation = Conversation(f"t_{self._next()}", person, platform=platform)
            self.conversations[conversation.id] = conversation
        us = self.ig_user if instagram else self.page
        author, to = (us, person) if ours else (person, us)
        message = DirectMessage(f"m_{secrets.token_hex(10)}", author, to, text, at or self.now())
        conversation.messages.append(message)
        return message

    def add_media(self, caption: str, at: datetime | None = None) -> Media:
        media = Media(f"1790{self._next()}0000", caption, at or self.now())
        self.media[media.id] = media
        return media

    def tick(self) -> None:
        """Someone writes: a comment or a Messenger message (an Instagram comment when
        `ticks_instagram`)."""
        from ecoinbox.demo.facebook.seed import tick

        tick(self, self._rng, instagram=self.ticks_instagram)

    def throttle(self, minutes: int) -> None:
        """Meta blocks the app for `minutes` (what the BUC header's regain time then says)."""
        self._throttled_until = self.now() + timedelta(minutes=minutes)

    # -- the web application -------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/{version}/{node}", self._node)
        router.add_route("*", "/{version}/{node}/{edge}", self._edge)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.get("version") != VERSION:
            return GraphError(400, 2635, f"Unknown API version: use {VERSION}").response()
        if request.match_info.get("node") == "device":
            return await self._device(request)
        params = await self._params(request)
        token = self._token(request, params)
        if token not in (self.page_token, self.user_token):
            return GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token").response()
        request[TOKEN] = token
        request[PARAMS] = params
        instagram = any(part in self.media or part == IG_USER_ID or (part in self.comments and
                        self.comments[part].instagram) for part in request.path.split("/"))  # fmt: skip
        headers = self._usage(token, instagram)
        now = self.now()
        if self._throttled_until is not None and self._throttled_until > now:
            code = 80002 if instagram else 80001
            return GraphError(400, code, "There have been too many calls to this account. Wait a bit and "
                              "try again.").response(headers)  # fmt: skip
        try:
            response = await handler(request)
        except GraphError as exc:
            return exc.response(headers)
        response.headers.update(headers)
        return response

    def _usage(self, token: str, instagram: bool) -> dict[str, str]:
        now = self.now()
        used, _ = self._window.hit(token, now)
        percent = min(100, used * 100 // max(1, self._window.limit))
        if percent >= 100 and self._throttled_until is None:
            self._throttled_until = now + timedelta(minutes=10)
        regain = 0
        if self._throttled_until is not None and self._throttled_until > now:
            regain = max(1, int((self._throttled_until - now).total_seconds() // 60))
        usage = {
            "call_count": percent,
            "total_cputime": max(1, percent // 2),
            "total_time": max(1, percent // 2),
        }
        if token == self.user_token:
            return {"X-App-Usage": json.dumps(usage)}
        kind, owner = ("instagram", IG_USER_ID) if instagram else ("pages", PAGE_ID)
        entry = {"type": kind, **usage, "estimated_time_to_regain_access": regain}
        return {"X-Business-Use-Case-Usage": json.dumps({owner: [entry]})}

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            else:
                params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return params

    @staticmethod
    def _token(request: web.Request, params: dict[str, Any]) -> str:
        header = request.headers.get("Authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if header.startswith(scheme):
                return header[len(scheme) :].strip()
        return str(params.get("access_token") or "")

    def _page_of(
        self, request: web.Request, items: list[dict[str, Any]], *, by_time: bool = False
    ) -> web.Response:
        """One page of an edge, with Graph's cursors (and `next` only when more follow). `by_time`:
        paged as a Page feed is, with no cursors and `until` + `__paging_token` in `next`."""
        params: dict[str, Any] = request[PARAMS]
        limit = max(1, min(int_param(params.get("limit"), 25), 100))
        start = (_index(params.get("__paging_token" if by_time else "after")) or -1) + 1
        served = limit - 1 if self.short_pages and limit > 2 else limit
        chunk = items[start : start + served]
        body: dict[str, Any] = {"data": chunk}
        if not chunk:
            return json_response(body)
        last = _cursor(start + len(chunk) - 1)
        more = start + len(chunk) < len(items)
        where = f"{self.base_url}{request.path}?access_token={request[TOKEN]}&limit={limit}"
        if by_time:
            until = str(chunk[-1].get("created_time", ""))
            body["paging"] = {"previous": f"{where}&since={until}&__previous=1"}
            if more:
                body["paging"]["next"] = f"{where}&until={until}&__paging_token={last}"
            return json_response(body)
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": last}}
        if more:
            paging["next"] = f"{where}&after={last}"
        body["paging"] = paging
        return json_response(body)

    def _write_done(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if self.drop_answer_after_post > 0:
            self.drop_answer_after_post -= 1
            if request.transport is not None:
                request.transport.close()  # done, and the answer never leaves
            return web.Response(status=204)
        return json_response(body)

    # -- nodes ---------------------------------------------------------------------------------

    async def _node(self, request: web.Request) -> web.StreamResponse:
        node, params = request.match_info["node"], request[PARAMS]
        if node == "me":
            node = PAGE_ID if request[TOKEN] == self.page_token else "me"
        if request.method == "POST":
            return self._moderate(request, node, params)
        if node == "me":
            return json_response({"id": "900800700", "name": "Ada Admin"})
        if node == PAGE_ID:
            body: dict[str, Any] = {"id": PAGE_ID, "name": self.page.name}
            fields = str(params.get("fields") or "")
            if "access_token" in fields and request[TOKEN] == self.user_token:
                body["access_token"] = self.page_token
            if "instagram_business_account" in fields:
                body["instagram_business_account"] = {"id": IG_USER_ID}
            return json_response(body)
        if node == IG_USER_ID:
            return json_response({"id": IG_USER_ID, "username": self.ig_user.username})
        if node in self.posts:
            return json_response(self.posts[node].json())
        if node in self.comments:
            return json_response(self.comments[node].json(self.page))
        if node in self.media:
            return json_response(self.media[node].json())
        raise GraphError(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist",
                         subcode=33, kind="GraphMethodException")  # fmt: skip

    def _moderate(self, request: web.Request, node: str, params: dict[str, Any]) -> web.StreamResponse:
        comment = self.comments.get(node)
        key = "hide" if comment is not None and comment.instagram else "is_hidden"
        value = params.get(key)
        if comment is None or value not in ("true", "false", True, False):
            raise GraphError(
                400, 100, f"(#100) Param {key} must be a boolean, on a comment", kind="OAuthException"
            )
        self._require("pages_manage_engagement" if not comment.instagram else "instagram_manage_comments")
        comment.hidden = value in ("true", True)
        self.sent.append({"hide": comment.id, "hidden": comment.hidden})
        return self._write_done(request, {"success": True})

    def _require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise GraphError(403, 200, f"(#200) Requires {permission} permission to manage the object")

    # -- edges ---------------------------------------------------------------------------------

    async def _edge(self, request: web.Request) -> web.StreamResponse:
        node, edge, params = request.match_info["node"], request.match_info["edge"], request[PARAMS]
        if node == "me" and edge == "permissions":
            data = [{"permission": p, "status": "granted"} for p in self.permissions]
            return json_response({"data": data})
        if node == "me" and edge == "accounts":
            return self._page_of(
                request, [{"id": PAGE_ID, "name": self.page.name, "access_token": self.page_token}]
            )
        if node == PAGE_ID and edge == "feed":
            since = int_param(params.get("since"), 0)
            posts = sorted(self.posts.values(), key=lambda p: p.created, reverse=True)
            shown = [p.json() for p in posts if p.created.timestamp() >= since and not p.tagged]
            return self._page_of(request, shown, by_time=True)
        if node == PAGE_ID and edge == "tagged":
            tagged = sorted(
                (p for p in self.posts.values() if p.tagged), key=lambda p: p.created, reverse=True
            )
            return self._page_of(request, [p.json() for p in tagged])
        if node == PAGE_ID and edge == "conversations":
            platform = str(params.get("platform") or "messenger")
            self._require("instagram_manage_messages" if platform == "instagram" else "pages_messaging")
            chosen = [c for c in self.conversations.values() if c.platform == platform]
            ordered = sorted(chosen, key=lambda c: c.updated, reverse=True)
            return self._page_of(request, [{"id": c.id, "updated_time": c.messages[-1].json()["created_time"]
                                            if c.messages else "", "link": f"/{c.id}"} for c in ordered])  # fmt: skip
        if node in self.conversations and edge == "messages":
            conversation = self.conversations[node]
            thread = sorted(conversation.messages, key=lambda m: m.created, reverse=True)
            instagram = conversation.platform == "instagram"
            return self._page_of(request, [m.json(instagram=instagram) for m in thread])
        if node == PAGE_ID and edge == "messages" and request.method == "POST":
            return self._send(request, params)
        if node == IG_USER_ID and edge == "media":
            media = sorted(self.media.values(), key=lambda m: m.created, reverse=True)
            return self._page_of(request, [m.json() for m in media])
        if edge == "comments" and request.method == "POST":
            return self._comment(request, node, params)
        if edge == "comments":
            return self._page_of(request, self._comments_of(node, params))
        if edge == "replies" and request.method == "POST":
            return self._ig_reply(request, node, params)
        if edge == "replies" and node in self.comments:
            replies = sorted((c for c in self.comments.values() if c.parent == node), key=lambda c: c.created)
            return self._page_of(request, [c.json(self.page) for c in replies])
        raise GraphError(
            400, 100, f"(#100) Tried accessing nonexisting field ({edge})", kind="OAuthException"
        )

    def _comments_of(self, node: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if node not in self.posts and node not in self.media and node not in self.comments:
            raise GraphError(400, 100, f"Object with ID '{node}' does not exist", subcode=33)
        stream = params.get("filter") == "stream"
        if node in self.comments:
            found = [c for c in self.comments.values() if c.parent == node]
        else:
            found = [c for c in self.comments.values() if c.on == node and (stream or c.parent is None)]
        newest_first = params.get("order") == "reverse_chronological" or node in self.media
        found.sort(key=lambda c: (c.created, c.id), reverse=newest_first)
        served = [c.json(self.page) for c in found]
        if node in self.media and "replies" in str(params.get("fields") or ""):
            for body in served:  # the nested edge, as `fields=replies{...}` expands it
                replies = sorted(
                    (c for c in self.comments.values() if c.parent == body["id"]), key=lambda c: c.created
                )
                if replies:
                    body["replies"] = {"data": [c.json(self.page) for c in replies]}
        return served

    def _comment(self, request: web.Request, node: str, params: dict[str, Any]) -> web.StreamResponse:
        message = str(params.get("message") or "").strip()
        if not message:
            raise GraphError(400, 100, "(#100) Missing message or attachment")
        self._require("pages_manage_engagement")
        if node in self.posts:
            comment = self.add_comment(node, self.page, message)
        elif node in self.comments and not self.comments[node].instagram:
            comment = self.add_comment(self.comments[node].on, self.page, message, reply_to=node)
        else:
            raise GraphError(
                400, 100, f"Object with ID '{node}' does not exist or cannot be commented on", subcode=33
            )
        self.sent.append({"comment": comment.id, "to": node, "message": message})
        return self._write_done(request, {"id": comment.id})

    def _ig_reply(self, request: web.Request, node: str, params: dict[str, Any]) -> web.StreamResponse:
        parent = self.comments.get(node)
        message = str(params.get("message") or "").strip()
        if parent is None or not parent.instagram or parent.parent is not None:
            raise GraphError(400, 100, "(#100) Replies can only be made to top-level comments", subcode=33)
        if parent.hidden:
            raise GraphError(400, 100, "(#100) Cannot reply to a hidden comment")
        self._require("instagram_manage_comments")
        comment = self.add_comment(parent.on, self.ig_user, message, reply_to=node)
        self.sent.append({"reply": comment.id, "to": node, "message": message})
        return self._write_done(request, {"id": comment.id})

    def _send(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        recipient = str((params.get("recipient") or {}).get("id") or "")
        text = str((params.get("message") or {}).get("text") or "")
        conversation = next((c for c in self.conversations.values() if c.person.id == recipient), None)
        if conversation is None or not text:
            raise GraphError(400, 100, "(#100) No matching user found", subcode=2018001)
        instagram = conversation.platform == "instagram"
        self._require("instagram_manage_messages" if instagram else "pages_messaging")
        last = conversation.last_from_person()
        waited = self.now() - last if last else timedelta.max
        tagged = params.get("messaging_type") == "MESSAGE_TAG" and params.get("tag") == "HUMAN_AGENT"
        allowed = waited <= timedelta(hours=24) or (
            tagged and self.human_agent and waited <= timedelta(days=7)
        )
        if not allowed:
            raise GraphError(
                400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278
            )
        message = self.add_message(conversation.person, text, ours=True, instagram=instagram)
        self.sent.append({"message": message.id, "to": recipient, "text": text, "tagged": tagged})
        return self._write_done(request, {"recipient_id": recipient, "message_id": message.id})

    # -- Facebook Login for Devices ------------------------------------------------------------

    async def _device(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        if params.get("access_token") != f"{DEMO_APP_ID}|{DEMO_CLIENT_TOKEN}":
            return GraphError(400, 190, "Invalid OAuth access token signature").response()
        if request.match_info.get("edge") == "login":
            code = secrets.token_hex(16)
            self.device_codes[code] = False
            return json_response({"code": code, "user_code": "A1B2C3", "verification_uri":
                                  "https://www.facebook.com/device", "expires_in": 420, "interval": self.device_interval})  # fmt: skip
        code = str(params.get("code") or "")
        if code not in self.device_codes:
            return GraphError(400, 31, "The code has expired", subcode=1349152).response()
        if not self.device_codes[code] and not self.approve_devices:
            return GraphError(
                400, 31, "User has not yet authorized your application", subcode=1349174
            ).response()
        del self.device_codes[code]
        return json_response({"access_token": self.user_token, "expires_in": 5183999})
