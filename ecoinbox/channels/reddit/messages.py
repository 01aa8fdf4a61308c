"""Reddit's JSON as ecoinbox's model: a comment (t1) or a post (t3) as a Message."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ecoinbox.channels.reddit.listings import (
    FULLNAME,
    WEB_URL,
    comment_path,
    created_time,
    edited_time,
    flag_verdict,
    link_of,
    markdown_text,
    permalink_url,
)
from ecoinbox.model import Author, Message, Origin

DELETED_BODIES = frozenset({"[deleted]", "[removed]"})


def to_message(item: dict[str, Any], origin: Origin, channel: str, account: str) -> Message | None:
    """A comment (t1) or post (t3) of the API as a Message of `channel` (ours when `account` wrote it);
    None for anything else. Raises KeyError, TypeError or ValueError on a malformed item."""
    from ecoinbox.htmltext import HtmlText, plain_to_text  # imported on first use
    from ecoinbox.sanitize import safe_url

    name = str(item["name"])
    if not FULLNAME.match(name) or not name.startswith(("t1_", "t3_")):
        return None
    author_name = str(item.get("author") or "[deleted]")
    # "[deleted]" is no one account: each such post gets its own, never one prolific person.
    anonymous = f"[deleted]/{name}" if author_name == "[deleted]" else f"u/{author_name}"
    author = Author(
        channel=channel,
        remote_id=str(item.get("author_fullname") or anonymous),
        handle=author_name,  # shown as "@name"; the label says "u/name", as Reddit does
        display_name=f"u/{author_name}" if author_name != "[deleted]" else author_name,
        url=None if author_name == "[deleted]" else f"{WEB_URL}/user/{quote(author_name, safe='')}",
    )
    if name.startswith("t1_"):
        body = item.get("body")
        shown = markdown_text(item.get("body_html"), body)
        deleted = isinstance(body, str) and body.strip() in DELETED_BODIES
        article = link_of(item)
        parent = item.get("parent_id")
        in_reply_to = parent if isinstance(parent, str) and FULLNAME.match(parent) else None
        title = str(item.get("link_title") or "")
        # An older comment answer has neither: Reddit also serves /comments/{post}/_/{comment}/.
        permalink = item.get("permalink") or item.get("context") or comment_path(article, name)
    else:
        title = str(item.get("title") or "")
        body_text = markdown_text(item.get("selftext_html"), item.get("selftext"))
        heading = plain_to_text(title)
        links = list(body_text.links)
        link = item.get("url")
        if not item.get("is_self") and isinstance(link, str) and safe_url(link) and link not in links:
            links.insert(0, link)
        text = heading.text + ("\n\n" + body_text.text if body_text.text else "")
        shown = HtmlText(text, tuple(links), heading.hidden or body_text.hidden)
        deleted = str(item.get("selftext") or "").strip() in DELETED_BODIES or bool(
            item.get("removed_by_category")
        )
        article, in_reply_to = name, None
        permalink = item.get("permalink")
    return Message(
        channel=channel,
        remote_id=name,
        author=author,
        text=shown.text,
        created_at=created_time(item),
        in_reply_to=in_reply_to,
        url=permalink_url(permalink),
        origin=Origin.OURS if author_name.casefold() == account.casefold() else origin,
        links=shown.links,
        edited_at=edited_time(item.get("edited")),
        deleted=deleted,
        title=plain_to_text(title).text if title else "",
        thread_ref=article,
        hidden_characters=shown.hidden,
        platform_verdict=flag_verdict(item),
    )
