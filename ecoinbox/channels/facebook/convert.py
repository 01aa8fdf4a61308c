"""Graph JSON as ecoinbox's model: a Page post, a comment, a Messenger message."""

from __future__ import annotations

from typing import Any

from ecoinbox.channels.graph import graph_time
from ecoinbox.htmltext import plain_to_text
from ecoinbox.model import Author, Message, Origin
from ecoinbox.sanitize import safe_url

__all__ = ["COMMENT_FIELDS", "MESSAGE_FIELDS", "POST_FIELDS", "author_of", "to_message"]

POST_FIELDS = "id,message,created_time,updated_time,from,permalink_url"
COMMENT_FIELDS = "id,message,from,created_time,parent{id},is_hidden,permalink_url"
MESSAGE_FIELDS = "id,message,from,to,created_time"


def author_of(channel: str, item: dict[str, Any]) -> Author:
    """Who wrote `item`: its `from`. Graph leaves `from` out for people the token may not name
    (a Page token of another Page): each such comment gets an author of its own."""
    who = item.get("from")
    if not isinstance(who, dict) or not who.get("id"):
        return Author(channel, f"unnamed/{item['id']}", "Facebook user", "Facebook user")
    name = str(who.get("name") or who.get("username") or who["id"])
    return Author(channel, str(who["id"]), name, name)


def to_message(
    channel: str,
    item: dict[str, Any],
    *,
    own_id: str,
    origin: Origin,
    in_reply_to: str | None,
    thread_ref: str | None,
    direct: bool = False,
) -> Message:
    """A post, comment or message of the Graph as a Message (ours when `own_id` wrote it).
    Raises KeyError, TypeError or ValueError on an item that is not as documented."""
    remote_id = item["id"]
    if not isinstance(remote_id, str) or not remote_id:
        raise ValueError("no id")
    author = author_of(channel, item)
    text = plain_to_text(str(item.get("message") or item.get("text") or ""))
    url = item.get("permalink_url") or item.get("permalink")
    return Message(
        channel=channel,
        remote_id=remote_id,
        author=author,
        text=text.text,
        created_at=graph_time(item.get("created_time") or item.get("timestamp")),
        in_reply_to=in_reply_to,
        url=safe_url(url) if isinstance(url, str) else None,
        visibility="direct" if direct else None,
        origin=Origin.OURS if author.remote_id == own_id else origin,
        links=text.links,
        thread_ref=thread_ref,
        hidden_characters=text.hidden,
    )
