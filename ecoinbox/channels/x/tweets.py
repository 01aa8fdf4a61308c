"""X's API v2 JSON as ecoinbox's model: a post (tweet) with its author from `includes.users`.

`text` comes HTML-escaped (`&amp;`, `&lt;`, `&gt;`) and its links wrapped in t.co: the escapes are
undone and each t.co link shown as the address it stands for (`entities.urls[].expanded_url`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from ecoinbox.channels.json_values import as_dict, as_list, aware_time, objects, text_or_none
from ecoinbox.model import Author, Message, Origin

__all__ = [
    "EXPANSIONS",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "WEB_URL",
    "Page",
    "expanded_text",
    "newer_id",
    "read_page",
    "referenced_parent",
    "to_message",
]

WEB_URL: Final = "https://x.com"
TWEET_FIELDS: Final = (
    "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,author_id,entities,lang"
)
EXPANSIONS: Final = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS: Final = "username,name"
_ID: Final = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of a timeline or a search: its posts, the posts and users it includes, the
    token of the next (older) page, and how many posts it billed."""

    tweets: list[Any]  # objects as documented; anything else is skipped when read
    included: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_token: str | None = None
    newest_id: str | None = None

    @property
    def reads(self) -> int:
        """Posts X bills for this answer (the included ones too)."""
        return len(self.tweets) + len(self.included)


def read_page(body: Any) -> Page:
    """A v2 list answer as a Page (TypeError when it is not one: the caller says so)."""
    data = as_dict(body)
    tweets = data.get("data", [])
    if not isinstance(tweets, list) or not isinstance(data.get("meta", {}), dict):
        raise TypeError("not a list of posts")
    includes = as_dict(data.get("includes"))
    users = {str(user["id"]): user for user in objects(includes.get("users")) if "id" in user}
    meta = as_dict(data.get("meta"))
    return Page(
        tweets=list(tweets),
        included=objects(includes.get("tweets")),
        users=users,
        next_token=text_or_none(meta.get("next_token")),
        newest_id=_id_or_none(meta.get("newest_id")),
    )


def newer_id(a: str | None, b: str | None) -> str | None:
    """The newer of two post ids (snowflakes: a longer number is newer), None counting as oldest."""
    if a is None or b is None:
        return a or b
    return max(a, b, key=lambda value: (len(value), value))


def expanded_text(tweet: dict[str, Any]) -> str:
    """The post's text unescaped, its t.co links shown as the addresses they stand for."""
    text = html.unescape(str(tweet["text"]))
    for url in objects(as_dict(tweet.get("entities")).get("urls")):
        short, long = url.get("url"), url.get("expanded_url")
        if (
            isinstance(short, str)
            and isinstance(long, str)
            and short
            and long.startswith(("http://", "https://"))
        ):
            text = text.replace(short, long)
    return text


def to_message(
    tweet: dict[str, Any], users: dict[str, dict[str, Any]], origin: Origin, channel: str, own_id: str | None
) -> Message:
    """A post as a Message of `channel` (ours when `own_id` wrote it). Raises KeyError,
    TypeError or ValueError when the post is not as documented."""
    from ecoinbox.htmltext import plain_to_text  # imported on first use

    remote_id = _id_or_none(tweet["id"])
    author_id = _id_or_none(tweet["author_id"])
    if remote_id is None or author_id is None:
        raise ValueError("a post id is digits")
    user = users.get(author_id, {})
    username = text_or_none(user.get("username"))
    shown = plain_to_text(expanded_text(tweet))
    parent = referenced_parent(tweet)
    mentions = [
        str(m["username"]) for m in objects(as_dict(tweet.get("entities")).get("mentions"))
        if isinstance(m.get("username"), str) and m.get("username") != username
    ]  # fmt: skip
    language = text_or_none(tweet.get("lang"))
    profile = f"{WEB_URL}/{quote(username, safe='')}" if username else None
    return Message(
        channel=channel,
        remote_id=remote_id,
        author=Author(
            channel=channel,
            remote_id=author_id,
            handle=username or author_id,
            display_name=str(user.get("name") or ""),
            url=profile,
            proofs=(profile,) if profile else (),
        ),
        text=shown.text,
        created_at=aware_time(str(tweet["created_at"])),
        in_reply_to=parent,
        url=f"{profile or WEB_URL + '/i/web'}/status/{remote_id}",
        language=language if language and language not in ("und", "zxx", "qme", "qht") else None,
        origin=Origin.OURS if own_id is not None and author_id == own_id else origin,
        links=shown.links,
        thread_ref=_id_or_none(tweet.get("conversation_id")) or remote_id,
        hidden_characters=shown.hidden,
        mentions=tuple(dict.fromkeys(mentions)),
    )


def referenced_parent(tweet: dict[str, Any]) -> str | None:
    """The id of the post `tweet` replies to, if any."""
    for ref in as_list(tweet.get("referenced_tweets")):
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return _id_or_none(ref.get("id"))
    return None


def _id_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None
