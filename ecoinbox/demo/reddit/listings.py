def _listing(
    children: list[dict[str, Any]], after: str | None = None, before: str | None = None
) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": before, "dist": len(children), "modhash": "", "geo_filter": "",
                 "children": children},
    }  # fmt: skip


def _page_of(
    items: list[Any], query: Mapping[str, str], visible: Callable[[Any], bool] = lambda _item: True
) -> tuple[list[Any], Callable[[list[Any]], dict[str, Any]]]:
    """A page of a newest-first listing with Reddit's `before`/`after`/`limit`, and a function
    that wraps the page's things into the Listing (with its own `after`/`before`).

    The page is cut first and the items that are not `visible` dropped after, as reddit.com
    does: then the page is short, and `after` is null when any vanished (Reddit's own "was the
    page full?" check), even though older items follow. An anchor that is not visible gives an
    empty listing."""
    limit = _int(query.get("limit"), 25, 1, 100)
    names = [item.name for item in items]
    shown_names = {item.name for item in items if visible(item)}
    before, after = query.get("before"), query.get("after")
    if after:
        if after not in shown_names:
            return [], lambda things: _listing(things)
        start = names.index(after) + 1
        page = items[start : start + limit]
    elif before:
        if before not in shown_names:
            return [], lambda things: _listing(things)
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
    return shown, lambda things: _listing(things, next_after, next_before)


def _more(parent: str, depth: int, ids: list[str], count: int) -> dict[str, Any]:
    """A `more` stub; with no ids it is Reddit's "continue this thread" link."""
    stub_id = ids[0] if ids else "_"
    return {"kind": "more", "data": {"count": count, "name": f"t1_{stub_id}", "id": stub_id,
                                     "parent_id": parent, "depth": depth, "children": ids}}  # fmt: skip


def _sorted(comments: list[_Comment], sort: str) -> list[_Comment]:
    if sort == "new":
        return sorted(comments, key=lambda c: (c.created, c.id), reverse=True)
    if sort == "old":
        return sorted(comments, key=lambda c: (c.created, c.id))
    # "confidence", "top" and the rest: the longer-lived conversations first, then by age.
    return sorted(comments, key=lambda c: (-_size(c), c.created, c.id))


def _size(comment: _Comment) -> int:
    return 1 + sum(_size(reply) for reply in comment.replies)


def _descendants(comment: _Comment, sort: str) -> list[_Comment]:
    found: list[_Comment] = []
    for reply in _sorted(comment.replies, sort):
        found.append(reply)
        found.extend(_descendants(reply, sort))
    return found


def _mentions(body: str, name: str) -> bool:
    return re.search(rf"(?<![\w/])/?u/{re.escape(name)}\b", body, re.IGNORECASE) is not None


def _search_terms(query: str) -> list[list[str]]:
    """`a OR "b c"` -> [["a"], ["b", "c"]]: a post matches a term when it has all its words."""
    terms = []
    for part in re.split(r"\s+OR\s+", query.strip()):
        words = _WORDS.findall(part.replace('"', " ").lower())
        if words:
            terms.append(words)
    return terms


def _matches(post: _Post, words: list[str]) -> bool:
    text = set(_WORDS.findall(f"{post.title} {post.selftext}".lower()))
    return all(word in text for word in words)
