"""YouTube's JSON as ecoinbox's model: a comment (top-level or reply) as a Message.

A comment thread's id is its top-level comment's id; a reply's `parentId` is always a top-level
comment (replies are one level deep). `moderationStatus` ("heldForReview", "likelySpam",
"rejected") is only shown to the channel's owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from ecoinbox.channels.json_values import as_dict, aware_time, objects
from ecoinbox.model import Author, Message, Origin

__all__ = ["HELD_STATUSES", "comment_message", "thread_comments", "watch_url"]

HELD_STATUSES: Final = frozenset({"heldForReview", "likelySpam"})
WEB: Final = "https://www.youtube.com"


def watch_url(video_id: str, comment_id: str) -> str:
    """The comment's address on YouTube (the video, highlighted comment)."""
    return f"{WEB}/watch?v={quote(video_id, safe='')}&lc={quote(comment_id, safe='')}"


def comment_message(
    item: dict[str, Any], channel: str, own_channel_id: str, *, thread: str, video_id: str = ""
) -> Message:
    """A `youtube#comment` resource as a Message of `channel` (ours when our channel wrote it).
    Raises KeyError, TypeError or ValueError on a malformed one."""
    from ecoinbox.htmltext import plain_to_text  # imported on first use

    comment_id = item["id"]
    snippet = as_dict(item["snippet"])
    if not isinstance(comment_id, str) or not comment_id:
        raise ValueError("comment without id")
    author_id = as_dict(snippet.get("authorChannelId")).get("value")
    name = str(snippet.get("authorDisplayName") or "")
    author = Author(
        channel=channel,
        remote_id=author_id if isinstance(author_id, str) and author_id else f"anonymous/{comment_id}",
        handle=name.removeprefix("@") or "unknown",
        display_name=name.removeprefix("@"),  # YouTube names people by their @handle: shown once
        url=f"{WEB}/channel/{quote(author_id, safe='')}"
        if isinstance(author_id, str) and author_id
        else None,
    )
    raw = snippet.get("textOriginal")
    text = plain_to_text(str(raw if isinstance(raw, str) else snippet.get("textDisplay") or ""))
    published = aware_time(snippet["publishedAt"])
    updated = snippet.get("updatedAt")
    edited: datetime | None = aware_time(updated) if isinstance(updated, str) else None
    status = str(snippet.get("moderationStatus") or "published")
    parent = snippet.get("parentId")
    video = str(snippet.get("videoId") or video_id or "")
    return Message(
        channel=channel,
        remote_id=comment_id,
        author=author,
        text=text.text,
        created_at=published,
        in_reply_to=parent if isinstance(parent, str) and parent else None,
        url=watch_url(video, comment_id) if video else None,
        origin=Origin.OURS if author_id == own_channel_id else Origin.MENTION,
        links=text.links,
        edited_at=edited if edited is not None and edited > published else None,
        thread_ref=thread,
        hidden_characters=text.hidden,
        held=status in HELD_STATUSES,
        platform_verdict="spam" if status == "likelySpam" else "",
    )


def thread_comments(thread: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """A `youtube#commentThread`: its top-level comment, the replies it embeds (YouTube embeds a
    few, not all), and how many replies it has in all."""
    snippet = as_dict(thread["snippet"])
    top = as_dict(snippet["topLevelComment"])
    if not top:
        raise KeyError("topLevelComment")
    # The thread's status is the top-level comment's when YouTube leaves it off the comment.
    top_snippet = as_dict(top.get("snippet"))
    if "moderationStatus" not in top_snippet and "moderationStatus" in snippet:
        top = {**top, "snippet": {**top_snippet, "moderationStatus": snippet["moderationStatus"]}}
    if "videoId" not in top_snippet and isinstance(snippet.get("videoId"), str):
        top = {**top, "snippet": {**as_dict(top.get("snippet")), "videoId": snippet["videoId"]}}
    replies = objects(as_dict(thread.get("replies")).get("comments"))
    total = snippet.get("totalReplyCount")
    return top, replies, total if isinstance(total, int) and not isinstance(total, bool) else len(replies)
