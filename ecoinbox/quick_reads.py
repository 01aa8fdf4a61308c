"""`ecoinbox list` and `ecoinbox show`, answered before the rest of ecoinbox loads.

Python's start and imports were nine tenths of these commands (0.17 s, 13 ms of it the reading):
asyncio and aiosqlite, the model's dataclasses, the store's write path, the other commands. A
plain `list` or `show` on a sound store is read here through `ecoinbox.store.quick` and printed
as `ecoinbox.cli` prints it (tests/test_quick_reads.py compares the bytes), with the config's
[brand], [store] and [team] alone (`ecoinbox.config.quick`). Anything else (an option this parser
does not know, a problem in those sections, a store to migrate, damaged or missing) goes to
`ecoinbox.cli`, which has the words for it: nothing is printed here before the whole answer is
read.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecoinbox.store.quick import VIEW_STATES, NotQuick, QuickReader, Row, quick_reader

if TYPE_CHECKING:
    from ecoinbox.config.quick import ReadSettings
    from ecoinbox.query import Query

__all__ = ["answer", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The `ecoinbox` command: a plain read answered here, everything else by `ecoinbox.cli`."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        lines = answer(words)
    except NotQuick:
        lines = None
    if lines is None:
        from ecoinbox.cli import main as full_main

        return full_main(words)
    try:
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
    except BrokenPipeError:  # `ecoinbox list | head -1`: the reader got what it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def answer(words: list[str]) -> list[str] | None:
    """The lines `ecoinbox WORDS` prints when it is a plain `list` or `show`, None when it is not;
    NotQuick when the config or the store is for the full command line to speak about."""
    config, words = config_option(words)
    if not words or words[0] not in ("list", "show"):
        return None
    options = parse_list(words[1:]) if words[0] == "list" else parse_show(words[1:])
    if options is None:
        return None
    settings = read_settings(config)
    with quick_reader(settings.data_path) as reader:
        if words[0] == "list":
            return list_lines(reader, settings.me, options)
        return show_lines(reader, options)


def config_option(words: list[str]) -> tuple[Path | None, list[str]]:
    """`--config PATH` (or `--config=PATH`) anywhere before `--`, and the words without it."""
    for i, word in enumerate(words):
        if word == "--":
            break
        if word.startswith("--config="):
            return Path(word.split("=", 1)[1]), words[:i] + words[i + 1 :]
        if word == "--config" and i + 1 < len(words):
            return Path(words[i + 1]), words[:i] + words[i + 2 :]
    return None, words


def parse_list(words: list[str]) -> dict[str, Any] | None:
    """`list`'s options as `ecoinbox.cli` reads them; None for anything else (help, a typo)."""
    options: dict[str, Any] = {"state": "inbox", "limit": 50, "json": False, "query": None}
    rest = iter(words)
    for word in rest:
        name, equals, value = word.partition("=")
        if name == "--json" and not equals:
            options["json"] = True
            continue
        if name not in ("--state", "--limit", "--query"):
            return None
        if not equals:
            following = next(rest, None)
            if following is None or following.startswith("-"):
                return None  # argparse's call: an option's value, or a missing one
            value = following
        options[name[2:]] = value
    try:
        options["limit"] = int(options["limit"])
    except ValueError:
        return None
    return options if options["state"] in VIEW_STATES else None


def parse_show(words: list[str]) -> dict[str, Any] | None:
    if words and words[-1] == "--json":
        words, as_json = words[:-1], True
    elif words[:1] == ["--json"]:
        words, as_json = words[1:], True
    else:
        as_json = False
    if len(words) != 1 or not words[0].isascii() or not words[0].isdigit():
        return None
    return {"id": int(words[0]), "json": as_json}


def read_settings(path: Path | None) -> ReadSettings:
    """The store's file and `team.me`, from the sections a read needs (ecoinbox.config.quick)."""
    from ecoinbox.config.quick import read_settings as read_for_a_read

    settings = read_for_a_read(path)
    if settings is None:
        raise NotQuick  # the full command line loads the whole file and says every problem, with its line
    return settings


def list_lines(reader: QuickReader, me: str, options: dict[str, Any]) -> list[str]:
    limit: int = options["limit"]
    if options["query"] is not None:
        rows = reader.search_rows(parsed_query(options["query"]), limit)
    else:
        rows = reader.view_rows(options["state"], me, limit)
    if options["json"]:
        import json  # 3-4 ms: only for --json

        # ensure_ascii keeps every control or BiDi character escaped: safe on any terminal.
        return [json.dumps(row_json(row)) for row in rows]
    now = datetime.now(UTC)
    return [row_line(row, now) for row in rows]


def parsed_query(text: str) -> Query:
    from ecoinbox.query import QueryError, parse_query

    try:
        return parse_query(text)
    except QueryError:
        raise NotQuick from None  # the full command line says why it does not parse


def show_lines(reader: QuickReader, options: dict[str, Any]) -> list[str]:
    found = reader.thread(options["id"])
    if found is None:
        raise NotQuick  # the full command line says there is none, and where the ids are
    row, messages, outbox = found
    if options["json"]:
        import json  # 3-4 ms: only for --json

        return json.dumps(conversation_json(row, messages, outbox), indent=2).splitlines()
    from ecoinbox.sanitize import sanitize

    lines = [row_line(row, datetime.now(UTC))]
    for m in messages:
        who = sanitize(m["display_name"] or m["handle"], single_line=True, max_chars=40)
        handle = sanitize(m["handle"], single_line=True, max_chars=60)
        ours = "  (you)" if m["origin"] == "ours" else ""
        lines.append(f"\n{who} @{handle}  {from_ms(m['created_at']):%Y-%m-%d %H:%M} UTC{ours}")
        lines.append("  " + sanitize(m["text"]).replace("\n", "\n  "))
    for item in outbox:
        lines.append(f"\nreply {item['state']}: " + sanitize(item["text"], single_line=True))
        if item["error"]:
            lines.append("  " + sanitize(item["error"], single_line=True))
    return lines


def conversation_json(row: Row, messages: list[Row], outbox: list[Row]) -> dict[str, Any]:
    return {
        **row_json(row),
        "thread": [
            {
                "id": m["remote_id"], "in_reply_to": m["parent_remote_id"],
                "author": m["display_name"] or m["handle"], "handle": m["handle"],
                "created_at": from_ms(m["created_at"]).isoformat(), "text": m["text"],
                "url": m["url"], "ours": m["origin"] == "ours", "deleted": bool(m["deleted"]),
                "links": lines_of(m["links"]), "visibility": m["visibility"], "held": bool(m["held"]),
                "edited_at": None if m["edited_at"] is None else from_ms(m["edited_at"]).isoformat(),
                "mentions": lines_of(m["mentions"]),
            }
            for m in messages
        ],
        "outbox": [
            {"state": i["state"], "text": i["text"], "error": i["error"], "attempts": i["attempts"]}
            for i in outbox
        ],
    }  # fmt: skip


# ---- a row, as `ecoinbox.cli` prints it ---------------------------------------------------------


def row_json(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "channel": row["channel"], "state": row["state"],
        "needs_reply": bool(row["needs_reply"]), "last_activity": from_ms(row["last_activity"]).isoformat(),
        "author": row["display_name"] or row["handle"] or "", "handle": row["handle"] or "",
        "snippet": row["snippet"], "messages": row["message_count"], "origin": row["origin"],
        "reason": row["reason"], "priority": row["priority"], "priority_reason": row["priority_reason"],
        "muted": bool(row["muted"]),
    }  # fmt: skip


def row_line(row: Row, now: datetime) -> str:
    from ecoinbox.humanize import age
    from ecoinbox.sanitize import sanitize

    marker = "▲" if row["priority"] > 0 else "*" if row["needs_reply"] else " "
    author = sanitize(row["display_name"] or row["handle"] or "", single_line=True, max_chars=20)
    snippet = sanitize(row["snippet"], single_line=True, max_chars=60)
    when = age(from_ms(row["last_activity"]), now)
    return f"{row['id']:>7} {marker} {row['channel']:<10.10} {author:<20} {when:>4}  {snippet}"


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def lines_of(value: str) -> list[str]:
    return [part for part in value.split("\n") if part]
