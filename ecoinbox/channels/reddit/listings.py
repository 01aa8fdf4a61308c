"""Reddit listings and things, pure: a thing's text, link, author and times, the paths of comments,
and what the error of a write says."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoinbox.channels.http import one_line
from ecoinbox.channels.json_values import as_dict

WEB_URL = "https://www.reddit.com"  # where permalinks point (never the API host)
DEFAULT_WRITE_PAUSE = timedelta(minutes=1)  # a RATELIMIT error whose wait we cannot read
_WAIT = re.compile(r"(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour)s?", re.IGNORECASE)
_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}
_CONTEXT_PATH = re.compile(
    r"/comments/(?P<article>[a-z0-9]+)(?:/[^/?#]*/(?P<comment>[a-z0-9]+))?", re.IGNORECASE
)


FULLNAME = re.compile(r"^t[1-6]_[a-z0-9]{1,16}$")


# Relative links become absolute, except u/name and r/name links: their text says it all.
_RELATIVE_HREF = re.compile(r"""(href\s*=\s*["'])/(?!/)(?!(?:u|user|r)/[\w-]+/?["'])""", re.IGNORECASE)


def client_auth(client_id: str) -> dict[str, str]:
    """HTTP Basic with the client id and an empty password (an installed app has no secret)."""
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()}


def subreddit_name(value: str) -> str:
    return value.strip().removeprefix("/").removeprefix("r/").strip("/")


def search_term(term: str) -> str:
    """One search term: a phrase in quotes when it has several words."""
    term = term.replace('"', " ").strip()
    return f'"{term}"' if " " in term else term


def write_wait(result: dict[str, Any], error: list[Any]) -> timedelta:
    """How long a RATELIMIT error asks to wait: `json.ratelimit` seconds, else its words."""
    seconds = result.get("ratelimit")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return timedelta(seconds=float(seconds))
    said = " ".join(str(part) for part in error[1:2])
    match = _WAIT.search(said)
    if match:
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    return DEFAULT_WRITE_PAUSE


def jquery_error(calls: Any) -> tuple[str, str] | None:
    """(code, words) of the first `.error.CODE.field-x` call in a jquery answer, if any: the
    words are the argument of the next `call` (what Reddit shows under the form)."""
    if not isinstance(calls, list):
        return None
    arguments = [c[3] for c in calls if isinstance(c, list) and len(c) == 4 and c[2] == "call"]
    for index, args in enumerate(arguments):
        selector = args[0] if isinstance(args, list) and args and isinstance(args[0], str) else ""
        match = re.match(r"\.error\.([A-Z_]+)", selector)
        if match:
            words = next(
                (a[0] for a in arguments[index + 1 :] if isinstance(a, list) and a and isinstance(a[0], str)),
                "",
            )
            return match.group(1), one_line(words)
    return None


def is_usable(item: dict[str, Any]) -> bool:
    name = item.get("name")
    return isinstance(name, str) and bool(FULLNAME.match(name))


def utc_seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def created_time(item: dict[str, Any]) -> datetime:
    value = item.get("created_utc")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("no created_utc")
    return datetime.fromtimestamp(float(value), UTC)


def edited_time(value: Any) -> datetime | None:
    """`edited` is false, or the time of the edit (epoch seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(float(value), UTC)
    return None


def markdown_text(body_html: Any, body: Any) -> Any:
    """The rendered HTML as text (entity-escaped when raw_json was ignored), else the Markdown."""
    from ecoinbox.htmltext import html_to_text, plain_to_text

    if isinstance(body_html, str) and body_html.strip():
        if body_html.lstrip().startswith("&lt;"):
            body_html = html.unescape(body_html)
        return html_to_text(_RELATIVE_HREF.sub(lambda m: m.group(1) + WEB_URL + "/", body_html))
    return plain_to_text(body if isinstance(body, str) else "")


def link_of(item: dict[str, Any]) -> str | None:
    """The t3_ fullname of a comment's post: `link_id`, else read from its context link."""
    link = item.get("link_id")
    if isinstance(link, str) and link.startswith("t3_"):
        return link
    context = item.get("context") or item.get("permalink")
    match = _CONTEXT_PATH.search(context) if isinstance(context, str) else None
    return f"t3_{match.group('article').lower()}" if match else None


def permalink_url(path: Any) -> str | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    return WEB_URL + path.split("?", 1)[0]


def comment_path(article: str | None, comment: str) -> str | None:
    return f"/comments/{id36(article)}/_/{id36(comment)}/" if article else None


def id36(fullname: str) -> str:
    return fullname.partition("_")[2] or fullname


def children_of(listing: Any) -> list[dict[str, Any]]:
    """The things of a Listing (each {"kind", "data"}); [] when it is not one."""
    children = as_dict(as_dict(listing).get("data")).get("children")
    return [c for c in children if isinstance(c, dict)] if isinstance(children, list) else []


def path_to(things: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """The comments from a root of `things` down to `target`, in order ([] if absent)."""
    stack: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [(t, []) for t in reversed(things)]
    seen = 0
    while stack and seen < 10_000:  # hostile data can be huge; never loop forever
        seen += 1
        thing, above = stack.pop()
        data = as_dict(thing.get("data"))
        if thing.get("kind") != "t1":
            continue
        path = [*above, data]
        if data.get("name") == target:
            return path
        stack.extend((child, path) for child in reversed(children_of(data.get("replies"))))
    return []


def same_author(item: dict[str, Any], account: str) -> bool:
    author = item.get("author")
    return isinstance(author, str) and author.casefold() == account.casefold()


def same_text(body: Any, text: str) -> bool:
    """Whether a comment's Markdown says `text` (whitespace collapsed; escaped or not)."""
    if not isinstance(body, str):
        return False
    wanted = " ".join(text.split())
    return " ".join(body.split()) == wanted or " ".join(html.unescape(body).split()) == wanted


def flag_verdict(item: dict[str, Any]) -> str:
    """What Reddit or the subreddit's moderators decided, as a moderator's listing says it (the
    fields are absent for other accounts): its spam filter or a spam removal, or a removal."""
    category = item.get("removed_by_category")
    if item.get("spam") is True or category == "reddit":
        return "spam"
    if item.get("removed") is True or item.get("banned_by") or category in ("moderator", "automod_filtered"):
        return "removed"
    return ""


__all__ = [
    "FULLNAME",
    "WEB_URL",
    "children_of",
    "client_auth",
    "comment_path",
    "created_time",
    "edited_time",
    "flag_verdict",
    "id36",
    "is_usable",
    "jquery_error",
    "link_of",
    "markdown_text",
    "path_to",
    "permalink_url",
    "same_author",
    "same_text",
    "search_term",
    "subreddit_name",
    "utc_seconds",
    "write_wait",
]
