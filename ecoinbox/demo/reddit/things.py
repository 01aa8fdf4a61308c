"""Reddit's "things" as its API writes them: a comment (t1), a post (t3), an inbox item."""

from __future__ import annotations

from typing import Any

from yarl import URL

from ecoinbox.demo.reddit.listings import comment_size
from ecoinbox.demo.reddit.markup import escape_body, escape_html, render
from ecoinbox.demo.reddit.records import MENTION_TYPES, Comment, InboxEntry, Post


def comment_json(comment: Comment, raw: bool) -> dict[str, Any]:
    post = comment.post
    body = "[removed]" if comment.removed else "[deleted]" if comment.deleted else comment.body
    author = "[deleted]" if comment.gone else comment.author.name
    data: dict[str, Any] = {
        "id": comment.id,
        "name": comment.name,
        "author": author,
        "body": escape_body(body, raw),
        "body_html": escape_html(render(body), raw),
        "created": comment.created,
        "created_utc": comment.created,
        "parent_id": comment.parent_name,
        "link_id": post.name,
        "permalink": f"{post.permalink}{comment.id}/",
        "subreddit": post.subreddit,
        "subreddit_name_prefixed": f"r/{post.subreddit}",
        "score": 1 + len(comment.body) % 17,
        "depth": comment.depth,
        "replies": "",
        "edited": comment.edited or False,
        "distinguished": None,
        "stickied": False,
        "locked": post.locked,
        "archived": False,
        "collapsed": False,
        "is_submitter": comment.author is post.author,
        "send_replies": True,
    }
    if comment.spam:
        data.update(spam=True, removed=True)
    if not comment.gone:
        data["author_fullname"] = comment.author.fullname
    return data


def post_json(post: Post, raw: bool) -> dict[str, Any]:
    return {
        "id": post.id,
        "name": post.name,
        "title": escape_body(post.title, raw),
        "selftext": escape_body(post.selftext, raw),
        "selftext_html": escape_html(render(post.selftext, post=True), raw) if post.selftext else None,
        "author": post.author.name,
        "author_fullname": post.author.fullname,
        "subreddit": post.subreddit,
        "subreddit_name_prefixed": f"r/{post.subreddit}",
        "created": post.created,
        "created_utc": post.created,
        "permalink": post.permalink,
        "url": post.url or f"https://www.reddit.com{post.permalink}",
        "domain": URL(post.url).host if post.url else f"self.{post.subreddit}",
        "is_self": post.url is None,
        "num_comments": sum(comment_size(c) for c in post.comments),
        "score": 3 + len(post.title) % 40,
        "over_18": False,
        "locked": post.locked,
        "archived": False,
        "stickied": False,
        "removed_by_category": None,
        "edited": False,
        "link_flair_text": None,
    }


def inbox_json(entry: InboxEntry, raw: bool, brand: str) -> dict[str, Any]:
    """An inbox item: a comment as the inbox shows it (no link_id; a `context` link)."""
    comment, post = entry.comment, entry.comment.post
    data = comment_json(comment, raw)
    for key in ("link_id", "permalink", "depth", "locked", "archived", "is_submitter", "stickied"):
        data.pop(key, None)
    data.update(
        type=entry.type,
        subject=MENTION_TYPES[entry.type],
        was_comment=True,
        new=entry.new,
        dest=brand,
        link_title=escape_body(post.title, raw),
        context=f"{post.permalink}{comment.id}/?context=3",
        num_comments=sum(comment_size(c) for c in post.comments),
        first_message=None,
        first_message_name=None,
        likes=None,
    )
    return {"kind": "t1", "data": data}
