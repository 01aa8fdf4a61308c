"""What the local YouTube holds (videos, comments) and how the API writes it as JSON."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecoinbox.demo.loopback import iso_millis

STATUSES = ("published", "heldForReview", "likelySpam", "rejected")


@dataclass(slots=True)
class Person:
    name: str  # "@handle", as YouTube shows it
    channel_id: str


@dataclass(slots=True)
class Video:
    id: str
    title: str
    description: str = ""


@dataclass(slots=True)
class Comment:
    id: str
    video: Video
    author: Person
    text: str
    published: datetime
    parent: Comment | None = None
    status: str = "published"
    updated: datetime | None = None
    likes: int = 0
    replies: list[Comment] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """Newest first by this (order=time), ties by id."""
        return (iso_millis(self.published), self.id)


class ApiError(Exception):
    """An error answered in Google's JSON error format."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube.api") -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        }


def etag(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:27]


def display(text: str, plain: bool) -> str:
    """`textDisplay`: HTML by default (escaped, <br> for new lines), the text for plainText."""
    return text if plain else html.escape(text).replace("\n", "<br>")


def comment_json(comment: Comment, brand_channel: str, *, plain: bool, owner: bool) -> dict[str, Any]:
    """A `youtube#comment` resource. `moderationStatus` is shown to the channel's owner only."""
    snippet: dict[str, Any] = {
        "channelId": brand_channel,
        "videoId": comment.video.id,
        "textDisplay": display(comment.text, plain),
        "textOriginal": comment.text,
        "authorDisplayName": comment.author.name,
        "authorProfileImageUrl": f"https://yt3.ggpht.example/{comment.author.channel_id}=s48",
        "authorChannelUrl": f"http://www.youtube.com/{comment.author.name}",
        "authorChannelId": {"value": comment.author.channel_id},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": comment.likes,
        "publishedAt": iso_millis(comment.published).replace(".000Z", "Z"),
        "updatedAt": iso_millis(comment.updated or comment.published).replace(".000Z", "Z"),
    }
    if comment.parent is not None:
        snippet["parentId"] = comment.parent.id
    if owner and comment.status != "published":
        snippet["moderationStatus"] = comment.status
    return {"kind": "youtube#comment", "etag": etag(comment.id, comment.text, comment.status), "id": comment.id,
            "snippet": snippet}  # fmt: skip


def thread_json(
    top: Comment, brand_channel: str, *, plain: bool, owner: bool, with_replies: bool, embedded: int
) -> dict[str, Any]:
    """A `youtube#commentThread`: the top-level comment and, with `replies`, a few of its replies."""
    visible = [r for r in top.replies if r.status == "published"]
    snippet: dict[str, Any] = {
        "channelId": brand_channel,
        "videoId": top.video.id,
        "topLevelComment": comment_json(top, brand_channel, plain=plain, owner=owner),
        "canReply": True,
        "totalReplyCount": len(visible),
        "isPublic": True,
    }
    thread: dict[str, Any] = {"kind": "youtube#commentThread", "etag": etag("t", top.id, len(visible)),
                              "id": top.id, "snippet": snippet}  # fmt: skip
    if with_replies and visible:
        shown = visible[-embedded:]
        thread["replies"] = {
            "comments": [comment_json(r, brand_channel, plain=plain, owner=owner) for r in shown]
        }
    return thread
