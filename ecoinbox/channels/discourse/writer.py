"""What the Discourse channel writes: replies (answering a post number) and new topics, and how an
uncertain send is reconciled. Discourse has no idempotency key, and staff are exempt from its
duplicate-body check: a lost answer is read back from the topic or the latest posts, never
posted again; a refusal that may mean "already there" is checked the same way."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoinbox.channels.base import ChannelError, PermanentError, TransientError, UncertainSend
from ecoinbox.channels.discourse.convert import PostConverter
from ecoinbox.channels.discourse.forum import TOPIC_CHUNK, Forum, TopicInfo
from ecoinbox.channels.discourse.posts import (
    POST_URL,
    answers_post,
    aware_utc,
    collapse,
    error_words,
    fold,
    is_own,
    loose,
    post_id_of,
    required_int,
    with_parent,
)
from ecoinbox.channels.discourse.walk import UNBUDGETED
from ecoinbox.channels.http import HttpClient, HttpResponse, channel_logger, one_line
from ecoinbox.channels.json_values import as_dict, as_int, aware_time, json_or_none
from ecoinbox.model import Message, Origin

log = channel_logger(__name__)

MAX_RECONCILE_CHUNKS = 10  # how far back `find_sent` reads before it says "cannot tell yet"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECONCILE_SLACK = timedelta(minutes=1)  # our clock and the forum's may disagree


class _Refused(PermanentError):
    """The forum refused a post with a 422: for good, unless it is already there."""


class Writer:
    """Posts to one forum as the brand, and reads back what may have been posted."""

    def __init__(self, name: str, http: HttpClient, forum: Forum, posts: PostConverter) -> None:
        self.name = name
        self.base_url = http.base_url
        self.host = forum.host
        self._http = http
        self._forum = forum
        self._posts = posts

    async def reply(self, parent: Message, text: str, brand: str) -> Message:
        """POST the reply in the parent's topic, answering the parent's post number.

        Discourse has no idempotency key: a lost answer raises `UncertainSend`, to be
        reconciled with `find_sent`, never resent blindly.
        """
        topic_id, number = await self._where(parent)
        try:
            created = await self._publish({"topic_id": topic_id, "raw": text, "reply_to_post_number": number})
        except _Refused as refused:
            # "Body is too similar to what you recently posted" (in the forum's language) may
            # mean this very reply is already there: an earlier send whose answer was lost.
            there = await self._already_there(self._find_reply(brand, parent, text, _EPOCH, chunks=1))
            if there is None:
                raise
            log.info("channel %s: the forum refused a resend (%s); the reply is there", self.name, refused)
            return there
        info = self._forum.topic_info(topic_id)
        info.title = info.title or parent.title
        message = self._created(created, info, brand)
        return with_parent(message, parent.remote_id)

    async def create_topic(self, title: str, text: str, category: str | None, brand: str) -> Message:
        """Open a topic in `category` (an id, slug or name); return its first post."""
        body: dict[str, Any] = {"title": title, "raw": text}
        if category:
            body["category"] = await self._category_id(category)
        try:
            created = await self._publish(body)
        except _Refused:
            # "Title has already been used" may mean this very topic is already there.
            there = await self._already_there(self._find_topic(brand, text, title, _EPOCH, chunks=1))
            if there is None:
                raise
            return there
        topic_id = as_int(created.get("topic_id"))
        if topic_id is None:
            raise UncertainSend(f"channel {self.name}: the topic was sent but {self.host} described it oddly")
        info = self._forum.topic_info(topic_id)
        info.title = str(created.get("topic_title") or title)
        return self._created(created, info, brand)

    async def _where(self, parent: Message) -> tuple[int, int]:
        """The parent's topic id and post number (asking the forum if we don't know them)."""
        post_id = post_id_of(parent.remote_id, self.name)
        matched = POST_URL.match(parent.url or "")
        if (
            post_id not in self._forum.post_topics
            and matched
            and matched.group("number")
            and (parent.url or "").startswith(self.base_url + "/t/")
            and matched.group("topic") == parent.thread_ref
        ):
            return int(matched.group("topic")), int(matched.group("number"))
        return await self._forum.locate(post_id)

    async def _publish(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.request("POST", "/posts.json", json=body, check=False)
        if response.status in (403, 422):
            raise self._refusal(response)
        self._http.raise_for_status(response)
        created = as_dict(response.json())
        errors = error_words(created)
        if errors:
            raise PermanentError(f"channel {self.name}: the forum refused the post ({errors})")
        if created.get("action") == "enqueued":
            raise PermanentError(
                f"channel {self.name}: the forum queued the post for a moderator's approval; "
                "it will appear once approved (do not send it again)"
            )
        return created

    def _refusal(self, response: HttpResponse) -> PermanentError:
        said = error_words(json_or_none(response.content)) or str(response.status)
        if response.status == 403:
            return PermanentError(
                f"channel {self.name}: {response.where} refused the post (403: {said}); the "
                f"account may not post there, or the key cannot write (`ecoinbox auth {self.name}`)"
            )
        hint = ""
        if "similar" in said.casefold():
            hint = (
                ": the account posted the same words a few minutes ago, perhaps in another topic; "
                "change a few words or send it later"
            )
        return _Refused(f"channel {self.name}: the forum refused the post ({said}){hint}")

    async def _already_there(self, lookup: Awaitable[Message | None]) -> Message | None:
        """The post a refusal may be about, read back; None when it is not there or cannot be
        read now (the refusal then stands)."""
        try:
            return await lookup
        except ChannelError as exc:
            log.info("channel %s: could not read back after a refusal: %s", self.name, exc)
            return None

    def _created(self, created: dict[str, Any], info: TopicInfo, brand: str) -> Message:
        self._forum.remember(created, info)
        try:
            return self._posts.to_message(created, info, Origin.OURS, brand)
        except (KeyError, TypeError, ValueError):
            raise UncertainSend(
                f"channel {self.name}: the post was sent but {self.host} described it oddly"
            ) from None

    async def _category_id(self, category: str) -> int:
        if category.strip().isdigit():
            return int(category)
        table = await self._forum.category_table(UNBUDGETED)
        found = table.get(fold(category))
        if found is None:
            raise PermanentError(f"channel {self.name}: no category {one_line(category)!r} on {self.host}")
        return found

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime, brand: str
    ) -> Message | None:
        """Our post with this text (a reply to `parent`, or the first post of a new topic with
        this title) published since `since`, read back without posting. None only when every
        post since then was read; a topic too busy to read back that far raises TransientError.
        """
        cutoff = aware_utc(since) - RECONCILE_SLACK
        if parent is None:
            return await self._find_topic(brand, text, title, cutoff)
        return await self._find_reply(brand, parent, text, cutoff)

    async def _find_reply(
        self, brand: str, parent: Message, text: str, cutoff: datetime, chunks: int = MAX_RECONCILE_CHUNKS
    ) -> Message | None:
        """Read the topic from its newest post back to `cutoff`, a chunk at a time."""
        topic_id, number = await self._where(parent)
        topic = await self._forum.load_topic(topic_id, UNBUDGETED)
        end = len(topic.stream)
        for _ in range(chunks):
            chunk = topic.stream[max(0, end - TOPIC_CHUNK) : end]
            await self._forum.load_posts(topic, chunk, UNBUDGETED)
            for post_id in reversed(chunk):
                post = topic.posts.get(post_id)
                if post is None:
                    continue
                if aware_time(post.get("created_at")) < cutoff:
                    return None
                if is_own(post, brand) and answers_post(post, number) and await self._same_text(post, text):
                    message = self._posts.to_message(post, topic.info, Origin.OURS, brand)
                    return with_parent(message, parent.remote_id)
            end -= TOPIC_CHUNK
            if end <= 0:
                return None
        raise TransientError(
            f"channel {self.name}: topic {topic_id} is too busy to tell yet whether the reply was published"
        )

    async def _find_topic(
        self, brand: str, text: str, title: str, cutoff: datetime, chunks: int = MAX_RECONCILE_CHUNKS
    ) -> Message | None:
        """A new topic of ours: walk the latest posts back to `cutoff`, looking for its first
        post (exact text, same title up to case and spacing)."""
        before: int | None = None
        for _ in range(chunks):
            page = await self._forum.latest_posts_page(before, UNBUDGETED)
            for post in page.items:
                if aware_time(post.get("created_at")) < cutoff:
                    return None
                if (
                    is_own(post, brand)
                    and as_int(post.get("post_number")) == 1
                    and loose(str(post.get("topic_title") or "")) == loose(title)
                    and await self._same_text(post, text)
                ):
                    self._forum.remember(post)
                    info = self._forum.topic_info(required_int(post.get("topic_id")))
                    return self._posts.to_message(post, info, Origin.OURS, brand)
            if page.end:
                return None
            before = page.next_token
        raise TransientError(
            f"channel {self.name}: {self.host} is too busy to tell yet whether the topic was published"
        )

    async def _same_text(self, post: dict[str, Any], text: str) -> bool:
        """Whether `post` says `text`: its raw Markdown (fetched if not in hand) compared with
        whitespace collapsed."""
        raw = post.get("raw")
        if not isinstance(raw, str):
            raw = (await self._forum.fetch_post(required_int(post.get("id")))).get("raw")
        return isinstance(raw, str) and collapse(raw) == collapse(text)


__all__ = ["Writer"]
