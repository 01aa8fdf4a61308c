"""Discourse's search query: words, `order:`, `after:`, `in:`, `status:` and the other filters."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

from ecoinbox.demo.discourse.markup import folded_words
from ecoinbox.demo.discourse.records import Post, SearchQuery

_SEARCH_FILTER = re.compile(r"^(order|after|before|in|status|category|user):(\S*)$", re.IGNORECASE)


def parse_search(term: str) -> SearchQuery:
    """Words (prefix-matched, all required) and the filters an inbox uses: order:latest,
    after:/before:YYYY-MM-DD, @user, #category, in:first."""
    terms: list[str] = []
    options: dict[str, Any] = {}
    for token in term.split():
        matched = _SEARCH_FILTER.match(token)
        if matched:
            _apply_filter(options, matched[1].lower(), matched[2])
        elif token.startswith("@") and len(token) > 1:
            options["username"] = token[1:].lower()
        elif token.startswith("#") and len(token) > 1:
            options["category"] = token[1:].lower()
        else:
            terms.extend(folded_words(token))
    return SearchQuery(terms=tuple(terms), **options)


def _apply_filter(options: dict[str, Any], name: str, value: str) -> None:
    if name == "order" and value.lower() == "latest":
        options["latest"] = True
    elif name in ("after", "before"):
        with contextlib.suppress(ValueError):
            options[name] = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    elif name == "in" and value.lower() == "first":
        options["first_only"] = True
    elif name == "user" and value:
        options["username"] = value.lower()
    elif name == "category" and value:
        options["category"] = value.lower()


def relevance(post: Post, query: SearchQuery) -> int:
    title = folded_words(post.topic.title)
    return sum(2 for term in query.terms if any(w.startswith(term) for w in title))
