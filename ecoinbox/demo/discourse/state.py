"""What every part of the local forum shares: its state (users, categories, topics, posts,
notifications, MessageBus backlogs), the model that changes it, and who is asking."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ecoinbox.demo.discourse import seed as seeding
from ecoinbox.demo.discourse.markup import (
    MENTION,
    QUOTE,
    cook,
    folded_words,
    slugify,
)
from ecoinbox.demo.discourse.records import (
    MENTIONED,
    POSTED,
    QUOTED,
    REPLIED,
    USER_KEY_DAILY_LIMIT,
    WATCHING_FIRST_POST,
    ApiError,
    Caller,
    Category,
    Clock,
    Notification,
    Post,
    PostedForumPost,
    RateLimiter,
    Topic,
    User,
    ids_of,
    visible_post,
)
from ecoinbox.demo.loopback import (
    LoopbackServer,
    int_param,
)


class DiscourseState(LoopbackServer):
    def __init__(
        self,
        *,
        brand_username: str = "acme_team",
        title: str = "Acme Community",
        seed: int | None = 1,
        api_key: str = "demo-api-key",
        user_api_key: str = "demo-user-api-key",
        now: Clock | None = None,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        user_key_rate_limit: int = 20,
        api_post_memo_secs: float = 0.0,
        brand_is_staff: bool = True,
        retry_after_header: bool = True,
        drop_answer_after_post: int = 0,
        message_bus: bool = True,
        long_poll: float = 25.0,
    ) -> None:
        """Habits (defaults: a forum where the brand is an admin, as the demo has always been):

        - `brand_is_staff`: False makes the brand an ordinary member (trust level 2), as when a
          brand answers from a user account: Discourse then refuses the same text from it within
          `unique_posts_mins` (422 "Body is too similar to what you recently posted", in any
          topic) and leaves posts deleted by staff out of what it reads (404 on the post).
        - `retry_after_header`: False sends a 429 without `Retry-After`, the wait only in the
          body's `extras.wait_seconds` (Discourse before 2.4, and proxies that drop the header).
        - `drop_answer_after_post`: the next n posts are made, then the connection is closed
          before the answer (a timeout or a reset on the client's side).
        - `message_bus`: MessageBus at `POST /message-bus/{client_id}/poll`, as Discourse's web
          client uses it: each notification of a user is published on `/notification/{user_id}`
          (its backlog kept, ids per channel), a poll from -1 gets a `/__status` with the last
          id, and a poll with nothing new is held `long_poll` seconds (Discourse: 25). Answers
          are one JSON array (the client sends `Dont-Chunk`). False answers 404: a reverse proxy
          that does not route /message-bus (or a CDN that does not pass long polls).
        """
        super().__init__()
        self.brand_is_staff = brand_is_staff
        self.retry_after_header = retry_after_header
        self.drop_answer_after_post = drop_answer_after_post
        self.message_bus = message_bus
        self.long_poll = long_poll
        self.bus_polls = 0  # MessageBus polls answered
        self._bus: dict[str, list[dict[str, Any]]] = {}  # channel -> its backlog, oldest first
        self._bus_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.brand_username = brand_username
        self.title = title
        self.posted: list[PostedForumPost] = []
        self._api_key = api_key
        self._user_api_key = user_api_key
        self._user_key_revoked = False
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._admin_limits = RateLimiter(rate_limit, rate_window, "admin_api_key_rate_limit")
        self._user_limits = RateLimiter(user_key_rate_limit, 60.0, "user_api_key_limiter_60_secs")
        self._user_daily = RateLimiter(USER_KEY_DAILY_LIMIT, 86_400.0, "user_api_key_limiter_1_day")
        self._memo_window = timedelta(seconds=api_post_memo_secs)
        self._memo: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
        self._users: dict[str, User] = {}  # by lowercase username
        self._categories: dict[str, Category] = {}  # by slug
        self._topics: dict[int, Topic] = {}
        self._posts: dict[int, Post] = {}
        self._notifications: list[Notification] = []  # ascending id
        self._next_id = {"user": 2, "topic": 1, "post": 1, "notification": 1}
        self._callers: dict[int, Caller] = {}  # by id(request), while a request is handled
        self._tick_rng = random.Random(f"tick-{seed if seed is not None else 0}")
        start = self._now()
        self._add_user("system", "system", start - timedelta(days=400), user_id=-1, admin=True)
        self._brand = self._add_user(
            brand_username,
            f"{title.split()[0]} Team",
            start - timedelta(days=400),
            user_id=1,
            admin=brand_is_staff,
            trust_level=4 if brand_is_staff else 2,
        )
        for position, category in enumerate(seeding.CATEGORIES):
            self._categories[category.slug] = Category(
                position + 1,
                category.name,
                category.slug,
                category.color,
                category.description,
                position,
                category.language,
            )
        self._brand.watched_first_post = {
            self._categories[slug].id for slug in seeding.BRAND_WATCHES_FIRST_POST
        }
        if seed is not None:
            seeding.seed_forum(self, random.Random(seed), start)

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        trust_level: int = 1,
        moderator: bool = False,
        created_at: datetime | None = None,
    ) -> None:
        """Register a forum member (or update the name and trust level of a known one)."""
        at = self._aware(created_at) if created_at is not None else self._now()
        user = self._users.get(username.lower())
        if user is None:
            user = self._add_user(username, name or username, at, trust_level=trust_level)
        user.name = name or user.name
        user.trust_level = trust_level
        user.moderator = user.moderator or moderator

    def add_topic(
        self,
        *,
        author: str,
        title: str,
        raw: str,
        category: str = "support",
        created_at: datetime | None = None,
        mention_brand: bool = False,
        language: str = "en",
    ) -> dict[str, Any]:
        """Open a topic as `author` (registered on first use) in the category with slug
        `category`; returns `{"topic_id", "post_id", "post_number"}`.

        `mention_brand` appends "@brand" to `raw` unless it already mentions it. The brand is
        notified as Discourse would (mention, quote, or a new topic in a category it watches
        for first posts). No validation: seeding may write what the API would refuse.
        Raises KeyError for an unknown category.
        """
        at = self._aware(created_at) if created_at is not None else self._now()
        if mention_brand and self._brand not in self._mentioned(raw):
            raw = f"{raw.rstrip()}\n\n@{self._brand.username}"
        topic = self._create_topic(
            self._user_for(author, at), title, self._categories[category], at, language
        )
        post = self._create_post(topic, topic.user, raw, at, None)
        return ids_of(post)

    def add_post(
        self,
        *,
        topic_id: int,
        author: str,
        raw: str,
        reply_to_post_number: int | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Reply in a topic as `author`; returns `{"topic_id", "post_id", "post_number"}`.

        The brand is notified when the post mentions @brand, replies to or quotes a brand post,
        or is in a topic the brand created (and so watches). Raises KeyError for an unknown
        topic or `reply_to_post_number`.
        """
        topic = self._topics[topic_id]
        if reply_to_post_number is not None and not 1 <= reply_to_post_number <= len(topic.posts):
            raise KeyError(f"no post {reply_to_post_number} in topic {topic_id}")
        at = self._aware(created_at) if created_at is not None else self._now()
        post = self._create_post(topic, self._user_for(author, at), raw, at, reply_to_post_number)
        return ids_of(post)

    def _caller(self, request: web.Request) -> Caller:
        return self._callers.get(id(request), Caller(None, None))

    def _find_post(self, post_id: str, viewer: User | None = None) -> Post:
        post = self._posts.get(int_param(post_id, 0))
        if post is None or not visible_post(post, viewer):
            raise ApiError.not_found()
        return post

    def _find_topic(self, topic_id: str) -> Topic:
        topic = self._topics.get(int_param(topic_id, 0))
        if topic is None:
            raise ApiError.not_found()
        return topic

    # -- the model ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._aware(self._clock())

    @staticmethod
    def _aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value

    def _add_user(
        self,
        username: str,
        name: str,
        at: datetime,
        *,
        user_id: int | None = None,
        admin: bool = False,
        trust_level: int = 1,
    ) -> User:
        user = User(
            id=user_id if user_id is not None else self._new_id("user"),
            username=username,
            name=name,
            created_at=at,
            trust_level=trust_level,
            admin=admin,
            moderator=admin,
        )
        self._users[username.lower()] = user
        return user

    def _user_for(self, username: str, at: datetime) -> User:
        username = username.lstrip("@")
        return self._users.get(username.lower()) or self._add_user(username, username, at)

    def _create_topic(self, user: User, title: str, category: Category, at: datetime, language: str) -> Topic:
        topic = Topic(self._new_id("topic"), title, slugify(title), category, user, at, language)
        topic.watchers.add(user.id)  # the creator watches their topic
        self._topics[topic.id] = topic
        return topic

    def _create_post(self, topic: Topic, user: User, raw: str, at: datetime, reply_to: int | None) -> Post:
        post = Post(
            id=self._new_id("post"),
            topic=topic,
            user=user,
            post_number=len(topic.posts) + 1,
            raw=raw,
            cooked=cook(raw, self._known_username),
            created_at=at,
            reply_to_post_number=reply_to,
            words=tuple(folded_words(f"{topic.title} {raw}")),
        )
        topic.posts.append(post)
        self._posts[post.id] = post
        self._notify(post)
        return post

    def _known_username(self, name: str) -> str | None:
        user = self._users.get(name.lower())
        return user.username if user is not None else None

    def _mentioned(self, raw: str) -> list[User]:
        found: list[User] = []
        for match in MENTION.finditer(QUOTE.sub("", raw)):
            user = self._users.get(match[1].lower())
            if user is not None and user not in found:
                found.append(user)
        return found

    def _quoted(self, raw: str) -> list[User]:
        found: list[User] = []
        for match in QUOTE.finditer(raw):
            username = (match["meta"] or "").split(",")[0].strip().lower()
            user = self._users.get(username)
            if user is not None and user not in found:
                found.append(user)
        return found

    def _notify(self, post: Post) -> None:
        """One notification per user per post, the strongest reason first, as PostAlerter
        does: mentioned, replied, quoted, then posted (watching the topic) or
        watching_first_post (a new topic in a category watched for first posts)."""
        notified: set[int] = {post.user.id}
        for user in self._mentioned(post.raw):
            self._alert(user, MENTIONED, post, notified)
        parent = self._parent(post)
        if parent is not None:
            self._alert(parent.user, REPLIED, post, notified)
        for user in self._quoted(post.raw):
            self._alert(user, QUOTED, post, notified)
        for user in self._users.values():
            if user.id in post.topic.watchers:
                self._alert(user, POSTED, post, notified)
            elif post.post_number == 1 and post.topic.category.id in user.watched_first_post:
                self._alert(user, WATCHING_FIRST_POST, post, notified)

    def _alert(self, user: User, kind: int, post: Post, notified: set[int]) -> None:
        if user.id in notified or user.id < 0:
            return
        notified.add(user.id)
        notification = Notification(self._new_id("notification"), user.id, kind, post, post.created_at)
        self._notifications.append(notification)
        self._publish(f"/notification/{user.id}", {
            "unread_notifications": sum(1 for n in self._notifications if n.user_id == user.id),
            "last_notification": {"notification": {"id": notification.id, "notification_type": kind,
                                                   "topic_id": post.topic.id, "post_number": post.post_number}},
        })  # fmt: skip

    # -- MessageBus --------------------------------------------------------------------------

    def _publish(self, channel: str, data: dict[str, Any]) -> None:
        """Add a message to a MessageBus channel and wake the long polls waiting (any thread)."""
        backlog = self._bus.setdefault(channel, [])
        backlog.append({"global_id": sum(len(b) for b in self._bus.values()), "message_id": len(backlog) + 1,
                        "channel": channel, "data": data})  # fmt: skip
        for loop, event in list(self._bus_waiters):
            loop.call_soon_threadsafe(event.set)

    def _parent(self, post: Post) -> Post | None:
        number = post.reply_to_post_number
        if number is None or not 1 <= number <= len(post.topic.posts):
            return None
        return post.topic.posts[number - 1]

    def _open_topics(self) -> list[seeding.OpenTopic]:
        """Recent topics where a new reply would be natural, most recently active first."""
        topics = sorted(self._topics.values(), key=lambda t: t.posts[-1].id, reverse=True)
        return [
            seeding.OpenTopic(
                topic_id=topic.id,
                language=topic.language,
                category=topic.category.slug,
                posters=tuple(p.user.username for p in topic.posts),
                brand_post_numbers=tuple(p.post_number for p in topic.posts if p.user is self._brand),
            )
            for topic in topics[:12]
            if topic.category.slug != "announcements"
        ]

    def _titles(self) -> set[str]:
        return {topic.title.lower() for topic in self._topics.values()}

    def _category_list(self) -> list[Category]:
        return sorted(self._categories.values(), key=lambda c: c.position)
