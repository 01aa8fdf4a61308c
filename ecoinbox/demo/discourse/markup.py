"""Discourse's text: markdown cooked to HTML (quotes, mentions, links), excerpts, slugs, avatars."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Sequence

_AVATAR_COLORS = ("8e7dd6", "e36b6b", "49a5d0", "9fc96c", "d1a13e", "7fa8a8", "c77dd1", "5f9e6e")


# Mentions as Discourse reads them: @ then a username (letters, digits, _ . -), not inside a word.
MENTION = re.compile(r"(?<![\w@/])@(\w[\w.\-]*\w|\w)")


QUOTE = re.compile(
    r"\[quote(?:=\"?(?P<meta>[^\]\"]*)\"?)?\]\s*(?P<body>.*?)\s*\[/quote\]", re.IGNORECASE | re.DOTALL
)


_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>(?:https?://|/)[^\s)]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+)"
    r"|(?<![\w@/])@(?P<user>\w[\w.\-]*\w|\w)"
    r"|\*\*(?P<strong>[^*\n]+)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\s][^*\n]*)\*(?![\w*])"
)


_URL_TRAILING = ".,;:!?)'\""


_LIST_ITEM = re.compile(r"^\s*[-*] +(.*)$")


_HEADING = re.compile(r"^(#{1,6}) +(.*)$")


_TAG = re.compile(r"<[^>]+>")


WORDS = re.compile(r"\w+")


def cook(raw: str, resolve_user: Callable[[str], str | None] = lambda _name: None) -> str:
    """The subset of Discourse's Markdown that forum posts here use, as Discourse renders it:
    paragraphs with `<br>` line breaks, lists, headings, **bold**, *italics*, `code`, links and
    bare URLs, @mentions (a link for a known user, a span otherwise; `resolve_user` gives the
    canonical username or None) and `[quote="user, post:1, topic:2"]` blocks. Every other
    character is HTML-escaped, so raw HTML shows as text."""
    out: list[str] = []
    position = 0
    for match in QUOTE.finditer(raw):
        out.extend(_blocks(raw[position : match.start()], resolve_user))
        out.append(_quote_html(match["meta"] or "", match["body"], resolve_user))
        position = match.end()
    out.extend(_blocks(raw[position:], resolve_user))
    return "\n".join(out)


def _quote_html(meta: str, body: str, resolve_user: Callable[[str], str | None]) -> str:
    fields = [part.strip() for part in meta.split(",")]
    username = fields[0] if fields and fields[0] else ""
    data = {"username": username}
    for part in fields[1:]:
        key, _, value = part.partition(":")
        if key.strip() in ("post", "topic") and value.strip().isdigit():
            data[key.strip()] = value.strip()
    attributes = "".join(f' data-{k}="{_escape(v)}"' for k, v in data.items() if v)
    title = f'<div class="title">\n<div class="quote-controls"></div>\n{_escape(username)}:</div>\n'
    inner = "\n".join(_blocks(body, resolve_user))
    return (
        f'<aside class="quote no-group"{attributes}>\n{title if username else ""}'
        f"<blockquote>\n{inner}\n</blockquote>\n</aside>"
    )


def _blocks(text: str, resolve_user: Callable[[str], str | None]) -> list[str]:
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip("\n"))
    return [_block(block, resolve_user) for block in blocks if block.strip()]


def _block(block: str, resolve_user: Callable[[str], str | None]) -> str:
    lines = block.split("\n")
    items = [_LIST_ITEM.match(line) for line in lines]
    if all(items):
        inner = "\n".join(f"<li>{_inline(m[1], resolve_user)}</li>" for m in items if m)
        return f"<ul>\n{inner}\n</ul>"
    heading = _HEADING.match(block)
    if heading and len(lines) == 1:
        level = len(heading[1])
        return f"<h{level}>{_inline(heading[2], resolve_user)}</h{level}>"
    return "<p>" + "<br>\n".join(_inline(line, resolve_user) for line in lines) + "</p>"


def _inline(line: str, resolve_user: Callable[[str], str | None]) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(line):
        out.append(_escape(line[position : match.start()]))
        position = match.end()
        if match["code"] is not None:
            out.append(f"<code>{_escape(match['code'])}</code>")
        elif match["href"] is not None:
            out.append(
                f'<a href="{_escape(match["href"])}" rel="noopener nofollow ugc">'
                f"{_escape(match['label'])}</a>"
            )
        elif match["url"] is not None:
            url = match["url"].rstrip(_URL_TRAILING)
            position = match.start() + len(url)
            out.append(f'<a href="{_escape(url)}" rel="noopener nofollow ugc">{_escape(url)}</a>')
        elif match["user"] is not None:
            known = resolve_user(match["user"])
            out.append(
                f'<a class="mention" href="/u/{_escape(known.lower())}">@{_escape(known)}</a>'
                if known
                else f'<span class="mention">@{_escape(match["user"])}</span>'
            )
        elif match["strong"] is not None:
            out.append(f"<strong>{_inline(match['strong'], resolve_user)}</strong>")
        else:
            out.append(f"<em>{_inline(match['em'], resolve_user)}</em>")
    out.append(_escape(line[position:]))
    return "".join(out)


def slugify(title: str) -> str:
    """Discourse's ASCII slug: accents dropped, lowercase, runs of anything else become one
    hyphen; "topic" when nothing is left."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:100].rstrip("-") or "topic"


def folded_words(text: str) -> list[str]:
    """Words without accents or case, as the search index sees them."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return WORDS.findall(folded)


def _fold_char(char: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return folded.casefold()[:1] or char


def _plain(cooked: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", cooked)).split())


def excerpt(cooked: str, length: int) -> str:
    text = _plain(cooked)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def blurb(cooked: str, terms: Sequence[str], length: int = 200) -> str:
    """About `length` characters of the post's text around the first search term."""
    text = _plain(cooked)
    folded = "".join(_fold_char(c) for c in text)  # one character per character: same offsets
    at = min((i for i in (folded.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, at - length // 2)
    snippet = text[start : start + length]
    return ("..." if start else "") + snippet + ("..." if start + length < len(text) else "")


def avatar_template(username: str) -> str:
    digest = hashlib.md5(username.lower().encode(), usedforsecurity=False).digest()
    color = _AVATAR_COLORS[digest[0] % len(_AVATAR_COLORS)]
    return f"/letter_avatar_proxy/v4/letter/{username[:1].lower()}/{color}/{{size}}.png"


def fancy_title(title: str) -> str:
    return html.escape(title, quote=True).replace("&#x27;", "&rsquo;")


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "&quot;")


def clean_raw(raw: str) -> str:
    """As PostCreator does: no NUL, no trailing whitespace."""
    return raw.replace("\x00", "").rstrip()
