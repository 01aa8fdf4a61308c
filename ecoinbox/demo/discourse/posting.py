"""The forum's posting route, with Discourse's rules: lengths, unique titles, similar bodies."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from ecoinbox.demo.discourse.markup import (
    clean_raw,
)
from ecoinbox.demo.discourse.records import (
    MAX_POST,
    MAX_TITLE,
    MIN_POST,
    MIN_TITLE,
    TOO_SIMILAR,
    TOPIC_NOT_FOUND,
    UNIQUE_POSTS_WINDOW,
    ApiError,
    Caller,
    Category,
    PostedForumPost,
    User,
    needs_login,
)
from ecoinbox.demo.discourse.render import ForumJson
from ecoinbox.demo.discourse.wire import read_params
from ecoinbox.demo.loopback import (
    int_param,
    json_response,
    param,
)


class PostingRoutes(ForumJson):
    # -- handlers: posting -------------------------------------------------------------------

    @needs_login
    async def _create(self, request: web.Request) -> web.Response:
        caller = self._caller(request)
        assert caller.user is not None
        params = await read_params(request)
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
