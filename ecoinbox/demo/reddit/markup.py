"""Reddit's markdown to the HTML its API returns (`body_html`, `selftext_html`), and its ids
(base 36, slugs)."""

from __future__ import annotations

import html
import re

from aiohttp import web


def wants_raw(request: web.Request) -> bool:
    return request.query.get("raw_json") == "1"


def escape_body(text: str, raw: bool) -> str:
    """Reddit's legacy JSON escapes &, < and > in text fields unless raw_json=1."""
    return text if raw else text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_html(markup: str, raw: bool) -> str:
    return markup if raw else html.escape(markup, quote=False)


_INLINE = re.compile(
    r"\[(?P<label>[^\]]+)\]\((?P<href>https?://[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+)"
    r"|(?<![\w/])(?P<ref>/?(?:u|r)/[A-Za-z0-9_-]+)"
    r"|\*\*(?P<strong>[^*]+)\*\*"
    r"|\*(?P<em>[^*]+)\*"
    r"|`(?P<code>[^`]+)`"
)


def render(markdown: str, *, post: bool = False) -> str:
    """The subset of Reddit's Markdown used here, as Reddit renders it into `body_html`."""
    blocks = [b for b in re.split(r"\n[ \t]*\n", markdown.replace("\r\n", "\n").strip("\n")) if b.strip()]
    out = []
    for block in blocks:
        lines = block.split("\n")
        if all(line.startswith(">") for line in lines):
            inner = "<br/>\n".join(_inline(line[1:].strip()) for line in lines)
            out.append(f"<blockquote>\n<p>{inner}</p>\n</blockquote>")
        else:
            out.append("<p>" + "<br/>\n".join(_inline(line) for line in lines) + "</p>")
    inner = "\n\n".join(out)
    markup = f'<div class="md">{inner}\n</div>'
    return f"<!-- SC_OFF -->{markup}<!-- SC_ON -->" if post else markup


def _inline(line: str) -> str:
    out = []
    position = 0
    for match in _INLINE.finditer(line):
        out.append(html.escape(line[position : match.start()], quote=False))
        position = match.end()
        if match["href"]:
            out.append(
                f'<a href="{html.escape(match["href"])}">{html.escape(match["label"], quote=False)}</a>'
            )
        elif match["url"]:
            url = match["url"].rstrip(".,;:!?)")
            position = match.start() + len(url)
            out.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        elif match["ref"]:
            ref = match["ref"]
            out.append(f'<a href="/{ref.lstrip("/")}">{html.escape(ref, quote=False)}</a>')
        elif match["strong"]:
            out.append(f"<strong>{html.escape(match['strong'], quote=False)}</strong>")
        elif match["em"]:
            out.append(f"<em>{html.escape(match['em'], quote=False)}</em>")
        else:
            out.append(f"<code>{html.escape(match['code'], quote=False)}</code>")
    out.append(html.escape(line[position:], quote=False))
    return "".join(out)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50] or "_"


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
