"""A comment's wikitext as the plain text a reader sees, with the real targets of its links.

Only what talk-page comments use: internal links [[Page|label]], external links [url label] and
bare URLs, bold/italic quotes, <br>, simple templates ({{ping|X}} reads "@X"), HTML tags and
comments. Everything else is kept as typed: the text is shown, never rendered.
"""

from __future__ import annotations

import html
import re
from typing import Final
from urllib.parse import quote

__all__ = ["page_url", "plain_text"]

INTERNAL: Final = re.compile(r"\[\[\s*:?([^\[\]|]+?)\s*(?:\|([^\[\]]*))?\]\]")
EXTERNAL: Final = re.compile(r"\[(https?://[^\s\]]+)(?:\s+([^\]]*))?\]")
BARE_URL: Final = re.compile(r"(?<![\[=\"'/])\bhttps?://[^\s<>\[\]\"'|]+")
PING: Final = re.compile(r"\{\{\s*(?:ping|reply to|re|u|user|notif|mention)\s*\|([^{}]*)\}\}", re.IGNORECASE)
TEMPLATE: Final = re.compile(r"\{\{[^{}]*\}\}")
TAG: Final = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
HTML_COMMENT: Final = re.compile(r"<!--.*?-->", re.DOTALL)
QUOTES: Final = re.compile(r"'{2,5}")
NAMESPACED: Final = re.compile(
    r"^(?:User|Utilisateur|Utilisatrice|Category|Catégorie|File|Fichier|Image):", re.IGNORECASE
)


def page_url(base_url: str, title: str) -> str:
    """The address of a page of the wiki (index.php?title=..., which every wiki answers)."""
    return f"{base_url}/index.php?title={quote(title.replace(' ', '_'), safe=':/')}"


def plain_text(wikitext: str, base_url: str) -> tuple[str, tuple[str, ...]]:
    """(what the comment says, the addresses of its links in order)."""
    links: list[str] = []
    text = HTML_COMMENT.sub("", wikitext)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = PING.sub(lambda match: " ".join("@" + name.strip() for name in match.group(1).split("|")), text)
    for _ in range(3):  # nested templates, innermost first
        text = TEMPLATE.sub("", text)

    def internal(match: re.Match[str]) -> str:
        target, label = match.group(1).strip(), match.group(2)
        if target.lower().startswith(("category:", "catégorie:", "file:", "fichier:", "image:")):
            return ""
        links.append(page_url(base_url, target.split("#")[0] or target))
        if label is not None and label.strip():
            return label.strip()
        return NAMESPACED.sub("", target)

    def external(match: re.Match[str]) -> str:
        links.append(match.group(1))
        return (match.group(2) or match.group(1)).strip()

    text = INTERNAL.sub(internal, text)
    text = EXTERNAL.sub(external, text)
    links.extend(match.group(0) for match in BARE_URL.finditer(text))
    text = TAG.sub("", text)
    text = QUOTES.sub("", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(lines).strip(), tuple(dict.fromkeys(links))
