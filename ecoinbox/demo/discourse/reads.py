"""The forum's reading routes: the site, the session, notifications, latest posts, topics."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from ecoinbox.demo.discourse.records import (
    CHUNK_SIZE,
    LATEST_POSTS_PAGE,
    NOTIFICATION_TYPES,
    NOTIFICATIONS_PAGE,
    VERSION,
    needs_login,
    visible_post,
)
from ecoinbox.demo.discourse.render import ForumJson
from ecoinbox.demo.discourse.wire import read_params, truthy
from ecoinbox.demo.loopback import (
    int_param,
    json_response,
    param,
)


class ReadRoutes(ForumJson):
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
        params = await read_params(request)
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
