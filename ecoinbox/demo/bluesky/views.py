"""How the local AppView shows a post (app.bsky.feed.defs#postView)."""

from __future__ import annotations

from typing import Any

from ecoinbox.demo.bluesky.atproto import make_cid
from ecoinbox.demo.bluesky.records import Post
from ecoinbox.demo.loopback import iso_millis


def post_view(post: Post, quoted: Post | None, viewer: str | None = None) -> dict[str, Any]:
    """app.bsky.feed.defs#postView: the post, its counts, its threadgate, the post it quotes."""
    root = post.root or post
    # Only the thread's author may still reply under a threadgate without allow rules.
    replies_off = root.replies_off and viewer != root.author.did
    view: dict[str, Any] = {
        "uri": post.uri,
        "cid": post.cid,
        "author": post.author.basic(),
        "record": post.record,
        "replyCount": len(post.replies),
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": post.quotes,
        "indexedAt": iso_millis(post.indexed_at),
        "viewer": {"threadMuted": False, "embeddingDisabled": False, "replyDisabled": replies_off},
        "labels": [],
    }
    if root.replies_off and root is post:
        view["threadgate"] = {
            "uri": f"at://{post.author.did}/app.bsky.feed.threadgate/{post.rkey}",
            "cid": make_cid(f"gate-{post.cid}"),
            "record": {
                "$type": "app.bsky.feed.threadgate",
                "post": post.uri,
                "allow": [],
                "createdAt": iso_millis(post.indexed_at),
            },
            "lists": [],
        }
    if quoted is not None:
        view["embed"] = {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted.uri,
                "cid": quoted.cid,
                "author": quoted.author.basic(),
                "value": quoted.record,
                "indexedAt": iso_millis(quoted.indexed_at),
            },
        }
    return view
