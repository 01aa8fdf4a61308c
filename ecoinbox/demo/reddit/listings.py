"""Reddit's Listings (`before`/`after`/`limit` pages), comment trees with their "more" stubs, and search."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ecoinbox.demo.reddit.records import Comment, Post
from ecoinbox.demo.reddit.wire import bounded_int

_WORDS = re.compile(r"\w+")


def listing_json(
    children: list[dict[str, Any]], after: str | None = None, before: str | None = None
) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": before, "dist": len(children), "modhash": "", "geo_filter": "",
                 "children": children},
    }  # fmt: skip


def page_of(
    items: list[Any], query: Mapping[str, str], visible: Callable[[Any], bool] = lambda _item: True
) -> tuple[list[Any], Callable[[list[Any]], dict[str, Any]]]:
    """A page of a newest-first listing with Reddit's `before`/`after`/`limit`, and a function
    that wraps the page's things into the Listing (with its own `after`/`before`).

    The page is cut first and the items that are not `visible` dropped after, as reddit.com
    does: then the page is short, and `after` is null when any vanished (Reddit's own "was the
    page full?" check), even though older items follow. An anchor that is not visible gives an
    empty listing."""
    limit = bounded_int(query.get("limit"), 25, 1, 100)
    names = [item.name for item in items]
    shown_names = {item.name for item in items if visible(item)}
    before, after = query.get("before"), query.get("after")
    if after:
        if after not in shown_names:
            return [], lambda things: listing_json(things)
        start = names.index(after) + 1
        page = items[start : start + limit]
    elif before:
        if before not in shown_names:
            return [], lambda things: listing_json(things)
        end = names.index(before)
        page = items[max(0, end - limit) : end]
    else:
        start = 0
        page = items[:limit]
    first = names.index(page[0].name) if page else 0
    last = first + len(page)
    shown = [item for item in page if visible(item)]
    whole = len(shown) == len(page)
    next_after = shown[-1].name if shown and whole and last < len(items) else None
    next_before = shown[0].name if shown and first > 0 and (before or after) else None
    return shown, lambda things: listing_json(things, next_after, next_before)


def more_children(parent: str, depth: int, ids: list[str], count: int) -> dict[str, Any]:
    """A `more` stub; with no ids it is Reddit's "continue this thread" link."""
    stub_id = ids[0] if ids else "_"
    return {"kind": "more", "data": {"count": count, "name": f"t1_{stub_id}", "id": stub_id,
                                     "parent_id": parent, "depth": depth, "children": ids}}  # fmt: skip


def sorted_comments(comments: list[Comment], sort: str) -> list[Comment]:
    if sort == "new":
        return sorted(comments, key=lambda c: (c.created, c.id), reverse=True)
    if sort == "old":
        return sorted(comments, key=lambda c: (c.created, c.id))
    # "confidence", "top" and the rest: the longer-lived conversations first, then by age.
    return sorted(comments, key=lambda c: (-comment_size(c), c.created, c.id))


def comment_size(comment: Comment) -> int:
    return 1 + sum(comment_size(reply) for reply in comment.replies)


def comment_descendants(comment: Comment, sort: str) -> list[Comment]:
    found: list[Comment] = []
    for reply in sorted_comments(comment.replies, sort):
        found.append(reply)
        found.extend(comment_descendants(reply, sort))
    return found


def mentions_user(body: str, name: str) -> bool:
    return re.search(rf"(?<![\w/])/?u/{re.escape(name)}\b", body, re.IGNORECASE) is not None


def search_terms(query: str) -> list[list[str]]:
    """`a OR "b c"` -> [["a"], ["b", "c"]]: a post matches a term when it has all its words."""
    terms = []
    for part in re.split(r"\s+OR\s+", query.strip()):
        words = _WORDS.findall(part.replace('"', " ").lower())
        if words:
            terms.append(words)
    return terms


def post_matches(post: Post, words: list[str]) -> bool:
    text = set(_WORDS.findall(f"{post.title} {post.selftext}".lower()))
    return all(word in text for word in words)
