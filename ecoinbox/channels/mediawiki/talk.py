"""A talk page's wikitext read as sections and signed comments, the way DiscussionTools reads it.

A comment is the lines since the previous comment (or heading) up to a line ending in a
signature: a link to a user page (User:, User talk:, Special:Contributions/, or their French
names) followed on the same line by a timestamp "22:40, 7 December 2026 (UTC)" (or the French
"7 décembre 2026 à 22:40 (UTC)"). Its level is the count of ":", "*" or "#" opening its first
line; its parent is the nearest comment before it, in its section, of a lower level (the
section's first comment for a top-level one). Its name is DiscussionTools' comment name,
"c-<author>-<YYYYMMDDHHMMSS>", with "-2", "-3"... for a second comment of the same name on the
page. Unsigned text is not a comment: nobody can be answered for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "Comment",
    "Section",
    "TalkPage",
    "comment_name",
    "indent_of",
    "insert_reply",
    "parse_talk_page",
]

MONTHS: Final = {
    **{name: index for index, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"), start=1)},
    **{name: index for index, name in enumerate(
        ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
         "octobre", "novembre", "décembre"), start=1)},
}  # fmt: skip
_MONTH = "|".join(MONTHS)
_TIME_EN = rf"(?P<h>\d{{1,2}}):(?P<m>\d{{2}}), (?P<d>\d{{1,2}}) (?P<mon>{_MONTH}) (?P<y>\d{{4}}) \(UTC\)"
_TIME_FR = rf"(?P<d2>\d{{1,2}})(?:er)? (?P<mon2>{_MONTH}) (?P<y2>\d{{4}}) à (?P<h2>\d{{1,2}}):(?P<m2>\d{{2}}) \(UTC\)"
TIMESTAMP: Final = re.compile(rf"(?:{_TIME_EN}|{_TIME_FR})", re.IGNORECASE)
USER_LINK: Final = re.compile(
    r"\[\[\s*:?\s*(?:User(?:[ _]talk)?|Utilisat(?:eur|rice)|Discussion[ _]utilisat(?:eur|rice)"
    r"|Special:Contributions/|Spécial:Contributions/)\s*:?\s*(?P<user>[^|\]/#\n]+)",
    re.IGNORECASE,
)
HEADING: Final = re.compile(r"^(?P<eq>={1,6})\s*(?P<title>.*?)\s*(?P=eq)\s*$")
SIGNATURE_REACH: Final = 250  # a user link this far before the timestamp signs it (DT allows a few words)
INDENT: Final = re.compile(r"^[:*#]*")


@dataclass(frozen=True, slots=True)
class Section:
    """One section: MediaWiki's section number (0 is the lead) and its heading."""

    index: int
    title: str
    first_line: int  # the heading's line (0 for the lead)
    end_line: int  # one past its last line


@dataclass(frozen=True, slots=True)
class Comment:
    """One signed comment."""

    name: str  # "c-Author-20261207224000" (+ "-2"...), unique on the page
    author: str
    timestamp: datetime
    level: int
    text: str  # its wikitext, without the indentation and the signature
    section: int  # its Section.index
    parent: str | None  # the name of the comment it answers (None: it opens its section)
    first_line: int
    last_line: int  # the line its signature is on


@dataclass(frozen=True, slots=True)
class TalkPage:
    lines: tuple[str, ...]
    sections: tuple[Section, ...]
    comments: tuple[Comment, ...]

    def comment(self, name: str) -> Comment | None:
        return next((each for each in self.comments if each.name == name), None)

    def section(self, index: int) -> Section:
        return self.sections[index]


def indent_of(line: str) -> int:
    """How deep a line is indented (":", "*" and "#" each count one)."""
    return len(INDENT.match(line).group())  # type: ignore[union-attr]  # matches "" at least


def comment_name(author: str, timestamp: datetime) -> str:
    """DiscussionTools' name for a comment: "c-" author (spaces as "_") "-" YYYYMMDDHHMMSS."""
    return f"c-{author.strip().replace(' ', '_')}-{timestamp.astimezone(UTC):%Y%m%d%H%M%S}"


def _signature(line: str) -> tuple[str, datetime, int] | None:
    """The (author, time, start of the signature) of the last signature on `line`."""
    stamps = list(TIMESTAMP.finditer(line))
    for stamp in reversed(stamps):
        before = line[max(0, stamp.start() - SIGNATURE_REACH) : stamp.start()]
        links = list(USER_LINK.finditer(before))
        if not links:
            continue
        when = _time(stamp)
        if when is None:
            continue
        author = links[-1].group("user").strip().replace("_", " ")
        start = stamp.start() - len(before) + _signature_start(before, links[-1].start())
        return author[:1].upper() + author[1:], when, start
    return None


def _signature_start(before: str, link_start: int) -> int:
    """Where the signature begins: its first user link within the signature's reach ("--" too)."""
    first = next(iter(USER_LINK.finditer(before)), None)
    start = first.start() if first is not None and link_start - first.start() < 120 else link_start
    while start >= 2 and before[start - 2 : start] == "--":
        start -= 2
    return start


def _time(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    if parts["mon"] is not None:
        year, month, day, hour, minute = parts["y"], parts["mon"], parts["d"], parts["h"], parts["m"]
    else:
        year, month, day, hour, minute = parts["y2"], parts["mon2"], parts["d2"], parts["h2"], parts["m2"]
    try:
        return datetime(int(year), MONTHS[month.lower()], int(day), int(hour), int(minute), tzinfo=UTC)
    except (KeyError, ValueError):
        return None


def _sections(lines: list[str]) -> list[Section]:
    starts: list[tuple[int, str]] = [(0, "")]
    for number, line in enumerate(lines):
        heading = HEADING.match(line)
        if heading is not None:
            starts.append((number, _plain_heading(heading.group("title"))))
    sections = []
    for index, (first, title) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        sections.append(Section(index, title, first, end))
    return sections


def _plain_heading(title: str) -> str:
    title = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", title)
    return re.sub(r"'{2,}", "", title).strip()


def parse_talk_page(wikitext: str) -> TalkPage:
    """The sections and signed comments of a talk page, in page order."""
    lines = wikitext.split("\n")
    sections = _sections(lines)
    comments: list[Comment] = []
    seen: dict[str, int] = {}
    for section in sections:
        open_at: int | None = None  # the first line of the comment being read
        in_section: list[Comment] = []
        body_start = section.first_line + (1 if section.index else 0)
        for number in range(body_start, section.end_line):
            line = lines[number]
            if open_at is None:
                if not line.strip():
                    continue
                open_at = number
            elif line.strip() and indent_of(line) != indent_of(lines[open_at]):
                open_at = (
                    number  # a change of indentation starts another comment: the unsigned text before is none
                )
            signed = _signature(line)
            if signed is None:
                continue
            author, when, sig_start = signed
            level = indent_of(lines[open_at])
            body = [*lines[open_at:number], line[:sig_start]]
            text = "\n".join(_unindent(each) for each in body).strip().rstrip(" -–—").strip()
            base = comment_name(author, when)
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base}-{seen[base]}"
            comment = Comment(name, author, when, level, text, section.index,
                              _parent(in_section, level), open_at, number)  # fmt: skip
            comments.append(comment)
            in_section.append(comment)
            open_at = None
    return TalkPage(tuple(lines), tuple(sections), tuple(comments))


def _parent(earlier: list[Comment], level: int) -> str | None:
    """The nearest earlier comment of a lower level; a top-level one answers the section's first."""
    for comment in reversed(earlier):
        if comment.level < level:
            return comment.name
    return earlier[0].name if earlier else None


def _unindent(line: str) -> str:
    return line[indent_of(line) :].strip()


def insert_reply(page: TalkPage, parent: Comment, text: str) -> tuple[int, str]:
    """The parent's section as it reads with `text` answered under `parent`: one level deeper,
    after the replies it already has, signed with "~~~~". Returns (section index, its new text)."""
    section = page.section(parent.section)
    end = parent.last_line + 1
    for later in page.comments:  # the parent's replies, and theirs, stay above ours
        if later.section == parent.section and later.first_line > parent.last_line:
            if later.level <= parent.level:
                break
            end = later.last_line + 1
    while end > parent.last_line + 1 and not page.lines[end - 1].strip():
        end -= 1
    prefix = ":" * (parent.level + 1)
    body = [f"{prefix}{line}" if line.strip() else prefix for line in text.strip().split("\n")]
    body[-1] += " ~~~~"
    lines = list(page.lines[section.first_line : section.end_line])
    at = end - section.first_line
    lines[at:at] = body
    while lines and not lines[-1].strip():
        lines.pop()
    return section.index, "\n".join(lines)
