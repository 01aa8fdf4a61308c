"""What the WordPress and feed channels both need to know about a WordPress site.

- Where its REST API answers. A site with pretty permalinks answers at `/wp-json/`; one with
  plain permalinks (WordPress's default when the server cannot rewrite URLs) only at
  `/?rest_route=/`. Every WordPress page says which in a `Link: <...>; rel="https://api.w.org/"`
  header, so the root is read from the home page instead of guessed.
- Where its comments feed is: `/comments/feed/`, or `/?feed=comments-rss2` with plain permalinks.
- Author names: WordPress stores a commenter's name through kses, which escapes `&` (and
  keeps entities), so the REST API and the feeds give `Ben &amp; Jerry's`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ecoinbox.channels.http import parse_link_header

API_REL = "https://api.w.org/"
PRETTY_ROOT = "/wp-json/"


def author_name(value: Any) -> str:
    """A comment author's name as WordPress stored it, entities decoded (once)."""
    return html.unescape(value) if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class ApiRoot:
    """The REST API's root on a site: a path (`/wp-json/`) or a path with a `rest_route` query
    (`/index.php?rest_route=/`). `url()` turns a route and its parameters into what to ask."""

    path: str = PRETTY_ROOT
    rest_route: str | None = None  # the route prefix in `?rest_route=`, or None for pretty URLs

    def url(self, route: str, params: dict[str, str] | None = None) -> str:
        """The path and query (relative to the site's origin) for `route` ("/wp/v2/comments")."""
        params = dict(params or {})
        if self.rest_route is None:
            target = self.path.rstrip("/") + route
        else:
            target = self.path
            params = {"rest_route": self.rest_route.rstrip("/") + route, **params}
        return target + ("?" + urlencode(params) if params else "")

    @property
    def plain(self) -> bool:
        return self.rest_route is not None


def api_root_from_link(link_header: str | None) -> ApiRoot | None:
    """The root a `Link` header names with rel="https://api.w.org/", or None.

    Only its path and query are kept: the site is asked at the origin it was configured with
    (a site behind a proxy may name itself with http:// or another port).
    """
    target = parse_link_header(link_header).get(API_REL)
    if not target:
        return None
    parts = urlsplit(target)
    route = dict(parse_qsl(parts.query)).get("rest_route")
    path = parts.path or "/"
    if route is not None:
        return ApiRoot(path=path, rest_route=route or "/")
    return ApiRoot(path=path if path.endswith("/") else path + "/")


def comments_feed(root: ApiRoot, *, atom: bool = False) -> str:
    """The path (and query) of the site's comments feed, from where its API answers: with pretty
    permalinks `<home>/comments/feed/`; with plain ones `<home>/?feed=comments-rss2`, since there
    `/comments/feed/` is the home page (200, text/html)."""
    if root.plain:
        home = root.path[: root.path.rfind("/") + 1] or "/"
        return home + ("?feed=comments-atom" if atom else "?feed=comments-rss2")
    home = root.path.removesuffix("/").removesuffix(PRETTY_ROOT.strip("/"))
    return home + ("comments/feed/atom/" if atom else "comments/feed/")


def site_path(base_url: str) -> str:
    """The path the site lives under ("/blog" for https://example.com/blog), without a slash."""
    return urlsplit(base_url).path.rstrip("/")


__all__ = ["API_REL", "ApiRoot", "api_root_from_link", "author_name", "comments_feed", "site_path"]
