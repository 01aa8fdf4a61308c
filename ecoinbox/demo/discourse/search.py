"""Discourse's search query: words, `order:`, `after:`, `in:`, `status:` and the other filters."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ecoinbox.demo.discourse.markup import folded_words
from ecoinbox.demo.discourse.records import SEARCH_MIN_TERM, SEARCH_PAGE, Post, SearchQuery
from ecoinbox.demo.discourse.render import ForumJson
from ecoinbox.demo.loopback import int_param, json_response

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


class SearchRoutes(ForumJson):
    # -- handlers: search --------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.Response:
        viewer = self._caller(request).user
        term = request.query.get("q") or request.query.get("term") or ""
        page = min(max(int_param(request.query.get("page"), 1), 1), 10)
        query = parse_search(term)
        error = None
        if not query.filtered and len(" ".join(query.terms)) < SEARCH_MIN_TERM:
            found: list[Post] = []
            error = "Your search term is too short."
        else:
            found = self._search_posts(query)
        chosen = found[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
        more = len(found) > page * SEARCH_PAGE
        return json_response(
            {
                "posts": [self._search_post_json(p, query) for p in chosen],
                "topics": [self._topic_list_item(p.topic) for p in chosen],
                "users": [],
                "categories": [],
                "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None,
                    "more_users": None,
                    "more_categories": None,
                    "term": term,
                    "search_log_id": None,
                    "more_full_page_results": True if more else None,
                    "can_create_topic": viewer is not None,
                    "error": error,
                    "extra": {},
                    "post_ids": [p.id for p in chosen],
                    "user_ids": [],
                    "category_ids": [],
                    "tag_ids": [],
                    "group_ids": [],
                },
            }
        )

    def _search_posts(self, query: SearchQuery) -> list[Post]:
        """Matching posts, one per topic as Discourse aggregates them: the first match of each
        topic (or, with order:latest, its newest match, newest topics first)."""
        by_topic: dict[int, list[Post]] = {}
        for post in self._posts.values():  # in id order
            if self._search_matches(post, query):
                by_topic.setdefault(post.topic.id, []).append(post)
        if query.latest:
            chosen = [posts[-1] for posts in by_topic.values()]
            return sorted(chosen, key=lambda p: (p.created_at, p.id), reverse=True)
        chosen = [posts[0] for posts in by_topic.values()]
        return sorted(chosen, key=lambda p: (relevance(p, query), p.created_at), reverse=True)

    def _search_matches(self, post: Post, query: SearchQuery) -> bool:
        if query.after is not None and post.created_at <= query.after:
            return False
        if query.before is not None and post.created_at >= query.before:
            return False
        if query.username is not None and post.user.username.lower() != query.username:
            return False
        if query.category is not None and post.topic.category.slug != query.category:
            return False
        if query.first_only and post.post_number != 1:
            return False
        return all(any(word.startswith(term) for word in post.words) for term in query.terms)
