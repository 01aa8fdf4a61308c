"""Mastodon's text rules: its character count (a link is 23), and the HTML of links, mentions and tags."""

from __future__ import annotations

import html
import re
import unicodedata

from ecoinbox.demo.mastodon.records import Account, Status

# One pass over plain text finds links, @mentions and #hashtags, as Mastodon's formatter does.
TOKENS = re.compile(
    r"(?P<url>https?://[^\s<>\"]+)"
    r"|(?<![\w@/])@(?P<user>[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)"
    r"(?:@(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))?"
    r"|(?<![\w#/&])#(?P<tag>\w*[^\W\d_]\w*)"
)

URL_LENGTH = 23  # characters_reserved_per_url: a link counts as this many, whatever its length


URL_TRAILING = ".,;:!?)'\""


_URL_SCHEME = re.compile(r"^(https?://)(www\.)?")


_LINK_VISIBLE = 30  # Mastodon shows this many characters of a link, the rest behind an ellipsis


WORDS = re.compile(r"\w+")


def countable_length(text: str) -> int:
    """Length as Mastodon's StatusLengthValidator counts it: a URL is 23 characters, a remote
    mention counts without its domain, and a grapheme cluster counts once (approximated here:
    combining marks, variation selectors, skin tones and ZWJ-joined characters add nothing)."""
    countable = TOKENS.sub(_countable_token, text)
    length = 0
    joined = False
    for char in countable:
        if joined or _extends_grapheme(char):
            joined = char == "\u200d"
            continue
        length += 1
    return length


def _countable_token(match: re.Match[str]) -> str:
    if match["url"]:
        url = match["url"].rstrip(URL_TRAILING)
        return "x" * URL_LENGTH + match["url"][len(url) :]
    if match["user"]:
        return f"@{match['user']}"
    return match[0]


def _extends_grapheme(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def tags_in(text: str) -> set[str]:
    return {m["tag"].lower() for m in TOKENS.finditer(text) if m["tag"]}


def status_words(status: Status) -> set[str]:
    return set(WORDS.findall(f"{status.spoiler_text} {status.text}".lower()))


def escape_html(text: str) -> str:
    """HTML-escape as Rails' `h` does (`&#39;` for the apostrophe)."""
    return html.escape(text, quote=False).replace('"', "&quot;").replace("'", "&#39;")


def link_html(url: str) -> str:
    """A link as Mastodon shows it: scheme hidden, 30 characters visible, the rest elided."""
    scheme = _URL_SCHEME.match(url)
    prefix = scheme.group(0) if scheme else ""
    rest = url[len(prefix) :]
    visible, hidden = rest[:_LINK_VISIBLE], rest[_LINK_VISIBLE:]
    return (
        f'<a href="{escape_html(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{escape_html(prefix)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{escape_html(visible)}</span>'
        f'<span class="invisible">{escape_html(hidden)}</span></a>'
    )


def mention_html(account: Account) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{escape_html(account.url)}" '
        f'class="u-url mention">@<span>{escape_html(account.username)}</span></a></span>'
    )
