"""WordPress comment text, pure: what is sent as a comment's content, what a rendered title reads
as, and whether a comment on the site is the one we sent (WordPress curls quotes and dashes)."""

from __future__ import annotations

import html
from typing import Any

from ecoinbox.channels.json_values import as_dict


def comment_content(text: str) -> str:
    """A reply as comment HTML: the text with <, > and & escaped (WordPress adds paragraphs)."""
    return html.escape(text, quote=False)


_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2026": "...", "\u00a0": " "})  # fmt: skip


def same_text(item: dict[str, Any], text: str) -> bool:
    """Whether the comment says `text`: its raw HTML (edit context) unescaped, else its rendered
    text with WordPress's typography (curly quotes, dashes) undone."""
    from ecoinbox.htmltext import html_to_text

    content = as_dict(item.get("content"))
    raw = content.get("raw")
    if isinstance(raw, str):
        return _collapse(html.unescape(raw)) == _collapse(text)
    rendered = html_to_text(str(content.get("rendered") or "")).text
    return _collapse(rendered.translate(_TYPOGRAPHY)) == _collapse(text.translate(_TYPOGRAPHY))


def html_text(rendered: str) -> str:
    from ecoinbox.htmltext import html_to_text

    return html_to_text(rendered).text


def _collapse(text: str) -> str:
    return " ".join(text.split())


__all__ = ["comment_content", "html_text", "same_text"]
