"""Reply templates: `{author}`-style variables with `{{`/`}}` escapes, rendered literally.

`render` never leaves a `{x}` in the text but reports it as missing; `stack` puts several
replies in one message with each @mention prefix once."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ecoinbox.text import MENTION_RE

_VARIABLE_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A template that cannot be rendered safely; `position` is the offending character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered template. `text` leaves out what is `missing`: send it only when that is empty."""

    text: str
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


# One piece of a parsed template: (True, variable name) or (False, literal text).
TemplatePiece = tuple[bool, str]


@functools.lru_cache(maxsize=4096)
def parse_template(template: str) -> tuple[TemplatePiece, ...]:
    """Split a template into literals and variables; TemplateError for anything but `{name}`."""
    pieces: list[TemplatePiece] = []
    literal: list[str] = []
    position, length = 0, len(template)
    while position < length:
        brace = _next_brace(template, position)
        if brace > position:
            literal.append(template[position:brace])
            position = brace
            continue
        char = template[position]
        if template.startswith(char * 2, position):  # {{ or }}
            literal.append(char)
            position += 2
            continue
        if char == "}":
            raise TemplateError("a lone '}' (write }} for a literal brace)", position)
        end = template.find("}", position + 1)
        inner = template[position + 1 : end] if end >= 0 else ""
        if end < 0 or "{" in inner:
            raise TemplateError("'{' is never closed (write {{ for a literal brace)", position)
        if not _VARIABLE_NAME_RE.fullmatch(inner):
            raise TemplateError(_bad_field_message(inner), position)
        if literal:
            pieces.append((False, "".join(literal)))
            literal = []
        pieces.append((True, inner))
        position = end + 1
    if literal:
        pieces.append((False, "".join(literal)))
    return tuple(pieces)


def _next_brace(text: str, start: int) -> int:
    opening, closing = text.find("{", start), text.find("}", start)
    found = [index for index in (opening, closing) if index >= 0]
    return min(found) if found else len(text)


def _bad_field_message(inner: str) -> str:
    shown = "{" + inner[:40] + ("…" if len(inner) > 40 else "") + "}"
    if not inner.strip():
        return f"'{shown}' names no variable (write {{{{}}}} for literal braces)"
    if inner.isdigit():
        return f"'{shown}' is a positional field: name a variable instead, e.g. {{author}}"
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", inner)
    if head and inner[head.end()] in ".[!:":
        return (
            f"'{shown}' is not a plain variable: attributes, indexes, conversions and format "
            f"specs are not allowed, write {{{head.group()}}} (and {{{{ }}}} for literal braces)"
        )
    return (
        f"'{shown}' is not a variable name (letters, digits and '_'; write {{{{ and }}}} for literal braces)"
    )


def template_variables(template: str) -> set[str]:
    """The variables `template` uses. Raises TemplateError when it is not a valid template."""
    return {name for is_variable, name in parse_template(template) if is_variable}


def escape(text: str) -> str:
    """`text` as a template that renders to itself: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def render(template: str, values: Mapping[str, str | None]) -> Rendered:
    """Fill `template` with `values`, inserted literally (a value is never re-expanded).

    A variable with no value (absent, None or blank) is never written as `{x}`: it is left out of
    the text and listed in `missing`, in order of first use, so the caller can ask for it and
    render again. Raises TemplateError when the template itself is invalid.
    """
    out: list[str] = []
    missing: dict[str, None] = {}
    for is_variable, text in parse_template(template):
        if not is_variable:
            out.append(text)
            continue
        value = values.get(text)
        if value is None or not str(value).strip():
            missing[text] = None
        else:
            out.append(str(value))
    return Rendered("".join(out), tuple(missing))


_LEADING_MENTIONS_RE: Final = re.compile(rf"(?:\s*{MENTION_RE.pattern}[,:]?)+\s*")


def stack(parts: Sequence[str]) -> str:
    """Several replies as one message: a blank line between them, each @mention prefix once.

    A later part that starts with @mentions the message already starts with loses them (each
    canned reply may begin with {author}); a first part that is only @mentions (the reply box's
    prefix) begins the next part's line; empty parts and repeats are dropped.
    """
    chunks: list[str] = []
    seen: set[str] = set()  # each part without its mentions, to drop repeats
    leading: set[str] = set()
    pending = ""  # a first part that is only @mentions: it begins the next one
    for part in parts:
        text = part.strip()
        prefix = _LEADING_MENTIONS_RE.match(text)
        mentions = {m.casefold() for m in MENTION_RE.findall(prefix.group())} if prefix else set()
        core = text[prefix.end() :].strip() if prefix else text
        if not core:
            if mentions and not chunks and not pending:
                pending, leading = text, mentions
            continue
        if core.casefold() in seen:
            continue
        seen.add(core.casefold())
        if not chunks and pending:
            text = f"{pending} {core if mentions <= leading else text}"
            leading |= mentions
        elif not chunks:
            leading = mentions
        elif mentions and mentions <= leading:
            text = core[:1].upper() + core[1:]
        chunks.append(text)
    return "\n\n".join(chunks) or pending


def template_text(template: str) -> str:
    """The literal words of a template, its variables left out (the whole text if it is invalid)."""
    try:
        return " ".join(text for is_variable, text in parse_template(template) if not is_variable)
    except TemplateError:
        return template
