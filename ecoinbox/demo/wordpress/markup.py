"""WordPress's text habits: wpautop paragraphs, kses-filtered HTML, dates, CDATA for the feeds."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ecoinbox.demo.wordpress.records import Comment


def naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def by_date(comment: Comment) -> tuple[datetime, int]:
    return (comment.date_gmt, comment.id)


def sort_key(orderby: str) -> Callable[[Comment], tuple[Any, int]]:
    """WP_Comment_Query appends comment_ID in the same direction to any other order."""
    field = {"date": "date_gmt", "date_gmt": "date_gmt", "id": "id", "include": "id", "post": "post",
             "parent": "parent", "type": "id"}[orderby]  # fmt: skip
    return lambda c: (getattr(c, field), c.id)


def autop(raw: str) -> str:
    """A little of wpautop and wptexturize: paragraphs, line breaks, curly apostrophes."""
    text = raw.strip()
    if not text.startswith("<p>"):
        text = "<p>" + text.replace("\n\n", "</p>\n<p>").replace("\n", "<br />\n") + "</p>"
    text = re.sub(r"(?<=\w)'(?=\w)", "&#8217;", text)
    return text + "\n"


_TAGS = re.compile(r"<[^>]*>")


def strip_tags(text: str) -> str:
    return _TAGS.sub("", text)


def kses(content: str) -> str:
    """What wp_filter_kses leaves of a moderator's comment: scripts go, the rest stays."""
    return re.sub(r"(?is)<script.*?</script>", "", content)


def kses_name(name: str) -> str:
    """What wp_kses does to a plain name: a bare `&` becomes `&amp;` (entities are kept)."""
    return re.sub(r"&(?!#?\w+;)", "&amp;", name)


def cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")
