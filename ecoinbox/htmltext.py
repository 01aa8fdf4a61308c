"""HTML from platforms (Mastodon statuses, Discourse posts, mail bodies) to sanitized plain text.

The parser (lexbor) decodes entities, so `&#x1b;]0;…&#7;` becomes a live escape sequence:
`sanitize` runs on the result, after every decoding step. Links show their real target next to
their text whenever the two differ, so "bank.com" cannot hide a link to elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ecoinbox.sanitize import safe_url, sanitize_and_flag

__all__ = ["HtmlText", "html_to_text", "plain_to_text", "same_target"]


@dataclass(frozen=True, slots=True)
class HtmlText:
    """Sanitized text ready for a terminal, and the safe targets of the links it held.

    `hidden` says the sanitizer removed something from the text (escape sequences, BiDi
    controls, invisible characters): the text is no longer quite what was sent, and once
    stored nothing else can tell, so channels keep the flag with the message.
    """

    text: str
    links: tuple[str, ...] = ()
    hidden: bool = False


# Never shown by a browser; their text is code, metadata or a fallback.
_DROPPED = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "embed", "svg"}
)
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "figure", "hr", "dl", "address", "details"}
)
_LINE = frozenset(
    {
        "div", "section", "article", "aside", "header", "footer", "nav", "main", "ul", "ol",
        "tr", "dt", "dd", "figcaption", "caption", "summary", "form", "center", "fieldset",
    }
)  # fmt: skip
_SPACED = frozenset({"td", "th"})
_FRAMED = frozenset({"a", "blockquote", "li", "pre"})  # laid out apart, then reshaped

_WHITESPACE = re.compile("[ \t\n\r\f\v\x85\u2028\u2029]+")  # what a browser collapses, and more
_PRE_BREAK = re.compile("\r\n?|[\n\v\f\x85\u2028\u2029]")
_BLANK_LINES = re.compile("\n{3,}")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*>?")
_MAX_DEPTH = 256
# Void elements, and those a sibling closes implicitly: they do not deepen the tree.
_UNNESTED = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody",
        "thead", "tfoot", "colgroup", "rb", "rt", "rp", "rtc",
    }
)  # fmt: skip
_TAG_SOUP = re.compile("<[^>]*>?")

_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|mailto:)", re.IGNORECASE)
_PLAIN_URL = re.compile(r"\bhttps?://[\w\-.~:/?#@!$&*+,;=%()']+", re.IGNORECASE | re.ASCII)
_URL_TAIL = ".,;:!?'"


def html_to_text(html: str, *, max_input: int = 2_000_000) -> HtmlText:
    """Render HTML as plain sanitized text; never raises.

    `<p>` paragraphs are separated by a blank line, `<br>` is a newline, list items start with
    "• ", quotes with "> ". Mastodon mentions and hashtags show as "@user" and "#tag"; a link
    shows its text, then its real target in parentheses unless the text already says it.
    Input longer than `max_input` characters is cut first.
    """
    if not html:
        return HtmlText("")
    html = _SURROGATE.sub("\ufffd", html[:max_input])  # lexbor takes UTF-8: no lone surrogates
    try:
        root = LexborHTMLParser(_limit_depth(html)).root
        text, links = _render(root) if root is not None else ("", [])
    except Exception:  # noqa: BLE001  a parser bug must not take the inbox down: strip the tags
        return plain_to_text(_TAG_SOUP.sub(" ", html))
    text, hidden = sanitize_and_flag(text)
    return HtmlText(_BLANK_LINES.sub("\n\n", text).rstrip(), tuple(dict.fromkeys(links)), hidden)


def plain_to_text(text: str) -> HtmlText:
    """Sanitize plain text and collect the http(s) URLs written in it."""
    text, hidden = sanitize_and_flag(text or "")
    links = (safe_url(_trim_url(match.group())) for match in _PLAIN_URL.finditer(text))
    return HtmlText(text, tuple(dict.fromkeys(link for link in links if link)), hidden)


def _limit_depth(html: str) -> str:
    """Drop the tags nested deeper than _MAX_DEPTH: lexbor's time grows with tags * depth, and
    500 kB of crafted <div>s took it 20 s. The count is rough (no parsing), on the safe side."""
    if html.count("<") <= _MAX_DEPTH:
        return html
    depth = 0
    pieces: list[str] = []
    start = 0
    for match in _TAG_TOKEN.finditer(html):
        if match.group(2).lower() in _UNNESTED:
            continue
        if match.group(1):  # an end tag
            too_deep = depth > _MAX_DEPTH
            depth = max(depth - 1, 0)
        else:
            depth += 1
            too_deep = depth > _MAX_DEPTH
        if too_deep:
            pieces.append(html[start : match.start()])
            start = match.end()
    if not pieces:
        return html
    pieces.append(html[start:])
    return "".join(pieces)


def _trim_url(url: str) -> str:
    """Drop the punctuation that ends a sentence, and a ")" that closes the sentence's "("."""
    end, unmatched = len(url), url.count(")") - url.count("(")
    while end:
        if url[end - 1] in _URL_TAIL:
            end -= 1
        elif url[end - 1] == ")" and unmatched > 0:
            end, unmatched = end - 1, unmatched - 1
        else:
            break
    return url[:end]


class _Block:
    """Lines being laid out for one container: collapses spaces and merges breaks like a browser."""

    __slots__ = ("breaks", "line", "lines", "space")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line: list[str] = []  # pieces of the line being written
        self.space = False  # a collapsed space is owed before the next word
        self.breaks = 0  # owed before the next text: 1 = new line, 2 = blank line

    def inline(self, text: str) -> None:
        text = _WHITESPACE.sub(" ", text)
        if text.startswith(" "):
            self.space = True
        if word := text.strip(" "):
            self._write(word)
            self.space = text.endswith(" ")

    def preformatted(self, text: str) -> None:
        first, *rest = _PRE_BREAK.split(text)
        self._write(first)
        for line in rest:
            self._end_line()
            self.line.append(line)

    def block(self, breaks: int) -> None:
        self.breaks = max(self.breaks, breaks)
        self.space = False

    def hard_break(self) -> None:
        self._flush_breaks()
        self._end_line()

    def append_lines(self, lines: list[str]) -> None:
        self._flush_breaks()
        if self.line:
            self._end_line()
        self.lines.extend(lines)

    def finish(self) -> list[str]:
        """The lines, without blank ones at either end."""
        lines = [*self.lines, "".join(self.line)]
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return lines[filled[0] : filled[-1] + 1] if filled else []

    def _write(self, text: str) -> None:
        self._flush_breaks()
        if self.space and self.line:
            self.line.append(" ")
        self.space = False
        self.line.append(text)

    def _flush_breaks(self) -> None:
        if self.breaks and (self.lines or self.line):
            if self.line:
                self._end_line()
            if self.breaks == 2 and self.lines and self.lines[-1]:
                self.lines.append("")
        self.breaks = 0

    def _end_line(self) -> None:
        self.lines.append("".join(self.line))
        self.line = []
        self.space = False


@dataclass(slots=True)
class _Frame:
    """An element whose text is laid out apart, then reshaped into its parent on close."""

    tag: str
    block: _Block = field(default_factory=_Block)
    kind: str = ""  # for links: "mention", "hashtag" or "link"
    href: str | None = None  # for links: the target, when safe


_OPEN, _CLOSE_FRAME, _CLOSE_LINE, _CLOSE_PARAGRAPH = range(4)
_MAX_FRAMES = 8  # deeper quotes and lists are not indented further: each level copies its lines


def _render(root: LexborNode) -> tuple[str, list[str]]:
    """Walk the tree without recursion (deep nesting must not overflow the stack)."""
    links: list[str] = []
    frames = [_Frame("root")]
    preformatted = 0  # how many <pre> we are inside
    # A str stands for text the renderer adds, such as Mastodon's "…".
    stack: list[tuple[LexborNode | str, int]] = [(root, _OPEN)]
    while stack:
        node, action = stack.pop()
        block = frames[-1].block
        if isinstance(node, str):
            block.inline(node)
            continue
        tag = node.tag or ""
        if action != _OPEN:
            if action == _CLOSE_FRAME:
                _close(frames.pop(), frames[-1], links)
            else:
                block.block(2 if action == _CLOSE_PARAGRAPH else 1)
            if tag == "pre":
                preformatted -= 1
            continue
        if tag == "-text":
            text = node.text_content or ""
            block.preformatted(text) if preformatted else block.inline(text)
            continue
        if not tag or tag.startswith("-") or tag in _DROPPED:
            continue  # comments, doctype
        attributes = node.attributes
        if _hidden(attributes):
            continue
        close = _OPEN  # nothing to do on close
        if tag == "br":
            block.hard_break()
        elif tag == "img":
            block.inline(_image(attributes))
        elif tag in _SPACED:
            block.inline(" ")
        elif tag == "a":
            frames.append(_link_frame(node, attributes))
            close = _CLOSE_FRAME
        elif tag in _FRAMED and len(frames) <= _MAX_FRAMES:
            frames.append(_Frame(tag))
            close = _CLOSE_FRAME
        elif tag in _PARAGRAPH or tag in ("blockquote", "pre"):
            block.block(2)
            close = _CLOSE_PARAGRAPH
        elif tag in _LINE or tag == "li":
            block.block(1)
            close = _CLOSE_LINE
        if tag == "pre":
            preformatted += 1
        if tag == "span" and "ellipsis" in _classes(attributes):
            stack.append(("…", _OPEN))  # Mastodon cut this link's text: say so
        if close != _OPEN:
            stack.append((node, close))
        children = []
        child = node.first_child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((child, _OPEN) for child in reversed(children))
    return "\n".join(frames[0].block.finish()), links


def _close(frame: _Frame, parent: _Frame, links: list[str]) -> None:
    lines = frame.block.finish()
    if frame.tag == "a":
        parent.block.inline(_link_text(frame, " ".join(lines), links))
    elif frame.tag == "blockquote":
        parent.block.block(2)
        parent.block.append_lines([f"> {line}" if line else ">" for line in lines])
        parent.block.block(2)
    elif frame.tag == "li":
        if lines:
            parent.block.block(1)
            rest = [f"  {line}" if line else "" for line in lines[1:]]
            parent.block.append_lines([f"• {lines[0]}", *rest])
            parent.block.block(1)
    else:  # pre
        parent.block.block(2)
        parent.block.append_lines(lines)
        parent.block.block(2)


def _link_frame(node: LexborNode, attributes: dict[str, str | None]) -> _Frame:
    classes = _classes(attributes)
    rel = (attributes.get("rel") or "").lower().split()
    parent = node.parent
    if "hashtag" in classes or "tag" in rel:
        return _Frame("a", kind="hashtag")
    if "mention" in classes or (parent is not None and "h-card" in _classes(parent.attributes)):
        return _Frame("a", kind="mention")
    return _Frame("a", kind="link", href=safe_url((attributes.get("href") or "").strip()))


def _link_text(frame: _Frame, label: str, links: list[str]) -> str:
    label = label.strip()
    if frame.kind in ("mention", "hashtag"):
        sigil = "@" if frame.kind == "mention" else "#"
        return label if not label or label.startswith(sigil) else sigil + label
    if frame.href is None:
        return label  # unsafe or missing target (javascript:, relative): keep only the words
    links.append(frame.href)
    if not label:
        return frame.href
    return label if _same_target(label, frame.href) else f"{label} ({frame.href})"


def _same_target(label: str, href: str) -> bool:
    """Whether a link's text already names its target, ignoring scheme, "www.", a trailing "/"
    and a Mastodon "…" that may cut the path (never the host)."""
    shown, cut = _comparable(label)
    target, _ = _comparable(href)
    if shown == target:
        return True
    host = len(target.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0])
    return cut and len(shown) > host and target.startswith(shown) and shown[host] in "/?#"


same_target = _same_target  # for channels whose links come as (label, target) pairs (Bluesky facets)


def _comparable(url: str) -> tuple[str, bool]:
    """`url` without scheme, "www." and trailing "/", its host lower-cased; and whether it
    ended in "…"."""
    url = url.strip()
    cut = url.endswith(("…", "..."))
    url = url.rstrip(".…")
    url = _SCHEME.sub("", url)
    if url[:4].lower() == "www.":
        url = url[4:]
    host, sep, rest = url.partition("/")
    return unquote(host.lower() + sep + rest).rstrip("/"), cut


def _classes(attributes: dict[str, str | None]) -> list[str]:
    return (attributes.get("class") or "").split()


def _hidden(attributes: dict[str, str | None]) -> bool:
    return (
        "hidden" in attributes
        or "invisible" in _classes(attributes)
        or bool(_HIDDEN_STYLE.search(attributes.get("style") or ""))
    )


def _image(attributes: dict[str, str | None]) -> str:
    alt = _WHITESPACE.sub(" ", attributes.get("alt") or "").strip()
    if not alt:
        return ""  # tracking pixels and spacers say nothing
    return alt if "emoji" in _classes(attributes) else f"[image: {alt}]"
