"""What the Discourse channel reads of the forum: notification and latest-post pages, topics and
their posts (a few at a time, by id or by number), single posts and the category table; and what
it remembers of them (where each post sits, each topic's title, slug and first post)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ecoinbox.channels.base import TransientError
from ecoinbox.channels.discourse.posts import fold, slug_of
from ecoinbox.channels.discourse.walk import Budget, Page
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.json_values import as_dict, as_int, as_list, objects

TOPIC_CHUNK = 20  # posts in a topic's first chunk, and per /t/{id}/posts.json request
NOTIFICATIONS_PAGE = 60  # the API's page size (INDEX_LIMIT)


TOPIC_CACHE = 1024
FIRST_POST_CHARS = 2000  # of a topic's first post kept for screening (what it is about is said early)
POST_CACHE = 8192


# ---------------------------------------------------------------------------------------------
# Topics as the channel knows them


@dataclass(slots=True)
class TopicInfo:
    """What the channel remembers of a topic: enough to name, link and thread its posts."""

    id: int
    title: str = ""
    slug: str = "topic"
    private: bool = False
    first_post_id: int | None = None
    numbers: dict[int, int] = field(default_factory=dict)  # post_number -> post id
    first_text: str = ""  # the first post's text, what a reply may be off-topic to (screening)


@dataclass(slots=True)
class Topic:
    """A topic read from /t/{id}.json: its post stream and the posts loaded so far."""

    info: TopicInfo
    stream: list[int]
    posts: dict[int, dict[str, Any]]  # post id -> post JSON

    def by_number(self, number: int) -> dict[str, Any] | None:
        """The post with this post_number, if it is loaded."""
        post_id = self.info.numbers.get(number)
        return self.posts.get(post_id) if post_id is not None else None


class Forum:
    """Reads one forum for a channel, and remembers where its posts sit (LRU caches)."""

    def __init__(self, name: str, http: HttpClient) -> None:
        self.name = name
        self.host = urlsplit(http.base_url).netloc
        self._http = http
        self.topics: OrderedDict[int, TopicInfo] = OrderedDict()
        self.post_topics: OrderedDict[int, tuple[int, int]] = OrderedDict()  # -> topic, number
        self._category_ids: dict[str, int] | None = None  # slug, folded name, id -> id

    async def notifications_page(self, offset: int | None, budget: Budget) -> Page:
        """A page of the account's notifications, newest first, from `offset`."""
        offset = offset or 0
        params = {"offset": str(offset)} if offset else None
        budget.take()
        response = await self._http.request("GET", "/notifications.json", params=params)
        data = as_dict(response.json())
        items = data.get("notifications")
        if not isinstance(items, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        notifications = objects(items)
        total = as_int(data.get("total_rows_notifications"))
        end = len(items) < NOTIFICATIONS_PAGE or (total is not None and offset + len(items) >= total)
        return Page(notifications, offset + len(items), end)

    async def latest_posts_page(self, before: int | None, budget: Budget) -> Page:
        """A page of the forum's latest posts, newest first, below post id `before`."""
        params = {"before": str(before)} if before else None
        budget.take()
        response = await self._http.request("GET", "/posts.json", params=params)
        items = as_dict(response.json()).get("latest_posts")
        if not isinstance(items, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        posts = objects(items)
        ids = [i for i in (as_int(p.get("id")) for p in posts) if i is not None]
        lowest = min(ids) if ids else None
        end = lowest is None or (before is not None and lowest >= before)
        return Page(posts, lowest, end)

    async def load_topic(self, topic_id: int, budget: Budget) -> Topic:
        """One /t/{id}.json: the first chunk of posts and the ids of all of them."""
        budget.take()
        response = await self._http.request("GET", f"/t/{topic_id}.json")
        data = as_dict(response.json())
        stream_data = data.get("post_stream")
        if not isinstance(stream_data, dict) or not isinstance(stream_data.get("posts"), list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        stream = [i for i in (as_int(v) for v in as_list(stream_data.get("stream"))) if i is not None]
        info = self.topic_info(topic_id)
        info.title = str(data.get("title") or info.title)
        info.slug = slug_of(data.get("slug")) or info.slug
        info.private = data.get("archetype") == "private_message"
        topic = Topic(info, stream, {})
        self.hold(topic, objects(stream_data["posts"]))
        first = topic.by_number(1)
        info.first_post_id = as_int(first.get("id")) if first else stream[0] if stream else None
        return topic

    async def load_posts(self, topic: Topic, ids: Iterable[int], budget: Budget) -> None:
        """Fetch the posts of `topic` with these ids (that it does not hold yet), 20 a request."""
        missing = [i for i in dict.fromkeys(ids) if i not in topic.posts]
        for start in range(0, len(missing), TOPIC_CHUNK):
            chunk = missing[start : start + TOPIC_CHUNK]
            budget.take()
            response = await self._http.request(
                "GET",
                f"/t/{topic.info.id}/posts.json",
                params=[("post_ids[]", str(post_id)) for post_id in chunk],
            )
            posts = as_dict(as_dict(response.json()).get("post_stream")).get("posts")
            if not isinstance(posts, list):
                raise TransientError(f"channel {self.name}: malformed response from {response.where}")
            self.hold(topic, objects(posts))

    async def load_numbers(self, topic: Topic, numbers: Iterable[int], budget: Budget) -> None:
        """Fetch posts by post_number. Post n sits at index n-1 of the stream, or before it
        when earlier posts were deleted, so the chunk ending there nearly always holds it."""
        for number in sorted(set(numbers), reverse=True):
            end = min(number, len(topic.stream))
            for _ in range(3):
                if topic.by_number(number) is not None or end <= 0:
                    break
                await self.load_posts(topic, topic.stream[max(0, end - TOPIC_CHUNK) : end], budget)
                end -= TOPIC_CHUNK

    def hold(self, topic: Topic, posts: Iterable[dict[str, Any]]) -> None:
        """Keep `posts` in `topic`, and remember where they sit."""
        for post in posts:
            post_id = as_int(post.get("id"))
            if post_id is not None:
                topic.posts[post_id] = post
                self.remember(post, topic.info)

    def topic_info(self, topic_id: int) -> TopicInfo:
        """What is remembered of a topic (made now if nothing is)."""
        info = self.topics.get(topic_id)
        if info is None:
            info = self.topics[topic_id] = TopicInfo(topic_id)
        self.topics.move_to_end(topic_id)
        while len(self.topics) > TOPIC_CACHE:
            self.topics.popitem(last=False)
        return info

    def remember(self, post: dict[str, Any], info: TopicInfo | None = None) -> None:
        """Note where a post sits (topic, number) and what it tells of its topic."""
        post_id, topic_id = as_int(post.get("id")), as_int(post.get("topic_id"))
        number = as_int(post.get("post_number"))
        if info is not None and topic_id is None:
            topic_id = info.id
        if post_id is None or topic_id is None or number is None:
            return
        self.post_topics[post_id] = (topic_id, number)
        self.post_topics.move_to_end(post_id)
        while len(self.post_topics) > POST_CACHE:
            self.post_topics.popitem(last=False)
        if info is None:
            info = self.topics.get(topic_id)
            if info is None and number != 1:
                return
            info = info or self.topic_info(topic_id)
        info.numbers[number] = post_id
        if number == 1:
            from ecoinbox.htmltext import html_to_text  # imported on first use

            info.first_post_id = post_id
            cooked = str(post.get("cooked") or "")[: FIRST_POST_CHARS * 4]  # markup and all
            info.first_text = html_to_text(cooked).text[:FIRST_POST_CHARS]
        if not info.title and isinstance(post.get("topic_title"), str):
            info.title = post["topic_title"]
        info.slug = slug_of(post.get("topic_slug")) or info.slug

    async def locate(self, post_id: int) -> tuple[int, int]:
        """(topic id, post number) of a post: remembered, or asked with /posts/{id}.json."""
        known = self.post_topics.get(post_id)
        if known is not None:
            return known
        post = await self.fetch_post(post_id)
        self.remember(post)
        located = self.post_topics.get(post_id)
        if located is None:
            raise TransientError(f"channel {self.name}: malformed response from {self.host}/posts")
        return located

    async def fetch_post(self, post_id: int) -> dict[str, Any]:
        """One post, alone: /posts/{id}.json (which holds its raw Markdown)."""
        response = await self._http.request("GET", f"/posts/{post_id}.json")
        post = as_dict(response.json())
        if as_int(post.get("id")) != post_id:
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        return post

    async def category_table(self, budget: Budget) -> dict[str, int]:
        """Categories by slug, name and id (and subcategories), read once."""
        if self._category_ids is None:
            budget.take()
            data = await self._http.get_json("/categories.json", params={"include_subcategories": "true"})
            table: dict[str, int] = {}
            pending = list(objects(as_dict(as_dict(data).get("category_list")).get("categories")))
            while pending:
                category = pending.pop()
                category_id = as_int(category.get("id"))
                if category_id is None:
                    continue
                for name in (category.get("slug"), category.get("name"), str(category_id)):
                    if isinstance(name, str) and name:
                        table.setdefault(fold(name), category_id)
                pending.extend(objects(category.get("subcategory_list")))
            self._category_ids = table
        return self._category_ids


__all__ = ["TOPIC_CHUNK", "Forum", "Topic", "TopicInfo"]
