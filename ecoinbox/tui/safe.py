"""The only way platform text becomes something a widget shows.

Untrusted text never enters a markup string: `[ @click=app.quit]` or `[$accent @click=…]`
survive `escape()` and run actions when clicked. These helpers sanitize, then build Textual
`Content` or Rich `Text` objects directly, so square brackets stay plain characters.
"""

from __future__ import annotations

from rich.style import Style as RichStyle
from rich.text import Text
from textual.content import Content
from textual.style import Style

from ecoinbox.sanitize import safe_url, sanitize

__all__ = ["link_content", "safe_content", "safe_text"]


def safe_content(
    raw: str | None,
    *,
    style: Style | str = "",
    single_line: bool = False,
    max_chars: int | None = None,
) -> Content:
    """Sanitized untrusted text as Content, in one `style` of the caller's own (never markup)."""
    text = sanitize(raw or "", single_line=single_line, max_chars=max_chars)
    return Content.styled(text, style)


def safe_text(
    raw: str | None,
    *,
    style: RichStyle | str = "",
    single_line: bool = False,
    max_chars: int | None = None,
) -> Text:
    """The Rich counterpart of `safe_content`, for Rich renderables and Line API strips."""
    return Text(sanitize(raw or "", single_line=single_line, max_chars=max_chars), style=style)


def link_content(label: str, url: str) -> Content:
    """`label` as a clickable link to `url` if `safe_url` accepts it, else as plain text."""
    text = sanitize(label or "", single_line=True) or sanitize(url or "", single_line=True)
    target = safe_url(url)
    return Content(text) if target is None else Content.styled(text, Style(link=target))
