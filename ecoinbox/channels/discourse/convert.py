"""Discourse's posts as ecoinbox's Messages: one conversation per topic, each post answering the
post it replies to when that one is known, else the topic's first post."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ecoinbox.channels.discourse.forum import TopicInfo
from ecoinbox.channels.discourse.posts import (
    flag_verdict,
    keep,
    post_edited_at,
    post_locale,
    required_int,
    slug_of,
)
from ecoinbox.channels.http import UNREADABLE, channel_logger, skipped_unreadable
from ecoinbox.channels.json_values import as_int, aware_time
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

MAX_CHAIN = 200  # reply chains followed at most this deep (hostile data can loop)


SMALL_ACTION = 3  # post_type of "closed this topic" and the like: not a message


class PostConverter:
    """Turns one forum's posts into Messages of one channel."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.base_url = base_url

    def convert(self, post: dict[str, Any], info: TopicInfo, origin: Origin, brand: str) -> Message | None:
        """The message of a post; None (and a log line) for one that cannot be read."""
        if post.get("post_type") == SMALL_ACTION:
            return None
        try:
            return self.to_message(post, info, origin, brand)
        except UNREADABLE as exc:
            skipped_unreadable(log, self.name, "post", post.get("id", "?"), exc)
            return None

    def to_message(self, post: dict[str, Any], info: TopicInfo, origin: Origin, brand: str) -> Message:
        """The message of a post (KeyError, TypeError or ValueError when it cannot be read)."""
        from ecoinbox.htmltext import html_to_text  # imported on first use

        post_id = required_int(post.get("id"))
        number = required_int(post.get("post_number"))
        username = post.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("no username")
        user_id = as_int(post.get("user_id"))
        author = Author(
            channel=self.name,
            remote_id=str(user_id) if user_id is not None else username,
            handle=username,
            display_name=str(post.get("name") or ""),
            url=f"{self.base_url}/u/{quote(username, safe='')}",
            proofs=(f"{self.base_url}/u/{quote(username, safe='')}",),  # their profile: the forum's own
        )
        rendered = html_to_text(str(post.get("cooked") or ""))
        slug = slug_of(post.get("topic_slug")) or info.slug
        ours = username.casefold() == brand.casefold()
        return Message(
            channel=self.name,
            remote_id=str(post_id),
            author=author,
            text=rendered.text,
            created_at=aware_time(post["created_at"]),
            in_reply_to=self.parent_of(post, number, info),
            url=f"{self.base_url}/t/{slug}/{info.id}/{number}",
            visibility="direct" if info.private else "public",
            language=post_locale(post.get("locale")),
            origin=Origin.OURS if ours else origin,
            links=rendered.links,
            edited_at=post_edited_at(post),
            deleted=bool(post.get("deleted_at") or post.get("user_deleted")),
            title=info.title or str(post.get("topic_title") or ""),
            thread_ref=str(info.id),
            hidden_characters=rendered.hidden,
            platform_verdict=flag_verdict(post),
            post_text=info.first_text if number > 1 else "",  # what a reply may be off-topic to
        )

    @staticmethod
    def parent_of(post: dict[str, Any], number: int, info: TopicInfo) -> str | None:
        """The post answered (when known), else the topic's first post: one tree per topic."""
        if number <= 1:
            return None
        replying_to = as_int(post.get("reply_to_post_number"))
        if replying_to is not None and 1 <= replying_to < number:
            parent = info.numbers.get(replying_to)
            if parent is not None:
                return str(parent)
        return str(info.first_post_id) if info.first_post_id is not None else None

    def keep_ancestors(
        self,
        found: dict[str, Message],
        message: Message,
        held: Mapping[int, dict[str, Any]],
        info: TopicInfo,
        brand: str,
    ) -> None:
        """Add the posts above `message` that are already in hand, up to the first post."""
        seen: set[str] = set()
        parent_id = message.in_reply_to
        while parent_id and parent_id not in seen and len(seen) < MAX_CHAIN:
            seen.add(parent_id)
            post = held.get(int(parent_id))
            parent = self.convert(post, info, Origin.CONTEXT, brand) if post else None
            if parent is None:
                return
            keep(found, parent)
            parent_id = parent.in_reply_to


__all__ = ["SMALL_ACTION", "PostConverter"]
