"""Line numbers for a TOML text: tomllib gives none for keys, so scan the text for headers and
`key =` lines; and the syntax errors tomllib raises, said with their line."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Final

from ecoinbox.config.errors import BARE_KEY_RE, ConfigProblem, KeyPath, format_key_path

__all__ = [
    "line_of",
    "locate_keys",
    "located_problems",
    "safe_first_duplicate",
    "safe_locate",
    "toml_syntax_problem",
]

TOML_POSITION_RE: Final = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def toml_syntax_problem(exc: tomllib.TOMLDecodeError, text: str, source: Path | None) -> ConfigProblem:
    message = str(exc)
    match = TOML_POSITION_RE.search(message)
    line: int | None = None
    if match:
        message = message[: match.start()]
        if match.group(1):
            line = int(match.group(1))
            message += f" (column {match.group(2)})"
        else:
            line = text.count("\n") + 1 if text else 1
            message += " (at the end of the file)"
    if message.startswith("Cannot overwrite"):
        # tomllib often reports a duplicate key only at the end: the locator can say where it is.
        duplicate = safe_first_duplicate(text)
        if duplicate is not None:
            dup_path, line = duplicate
            message = f"key '{format_key_path(dup_path)}' is set twice"
    return ConfigProblem(source, line, None, f"invalid TOML: {message}")


def located_problems(
    problems: list[tuple[KeyPath, str]], text: str, source: Path | None
) -> list[ConfigProblem]:
    """`problems` (key path, message) with their lines in `text`, in the order of the file."""
    lines = safe_locate(text)
    located = [
        ConfigProblem(source, line_of(path, lines), format_key_path(path) or None, message)
        for path, message in problems
    ]
    located.sort(key=lambda problem: (problem.line is None, problem.line or 0))
    return located


def line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    """The line of `path`, or of its nearest ancestor we could locate."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def safe_locate(text: str) -> dict[KeyPath, int]:
    try:
        return locate_keys(text)
    except Exception:  # noqa: BLE001 - line numbers are a courtesy; never hide the real problems
        return {}


def safe_first_duplicate(text: str) -> tuple[KeyPath, int] | None:
    try:
        scanner = _KeyScanner(text)
        scanner.scan()
        return scanner.duplicates[0] if scanner.duplicates else None
    except Exception:  # noqa: BLE001 - see safe_locate
        return None


def locate_keys(text: str) -> dict[KeyPath, int]:
    """Map each key path defined in TOML `text` to its 1-based line.

    Tables (`[a.b]`), arrays of tables (`[[channels]]`, counted: ("channels", 1)), bare, quoted
    and dotted keys are understood; multi-line strings and arrays are skipped over. Keys inside
    inline tables are not located (their parent key is).
    """
    scanner = _KeyScanner(text)
    scanner.scan()
    return scanner.lines


class _KeyScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[KeyPath, int] = {}
        self.duplicates: list[tuple[KeyPath, int]] = []
        self.table: KeyPath = ()
        self.array_counts: dict[KeyPath, int] = {}  # resolved array-of-tables path -> last index
        self.open_string: str | None = None  # '"""' or "'''" while inside a multi-line string
        self.depth = 0  # open [ and { of a value spanning lines

    def scan(self) -> None:
        for number, line in enumerate(self.text.splitlines(), start=1):
            if self.open_string is not None or self.depth > 0:
                self.skip_value(line, 0)
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("[["):
                self.header(stripped, 2, number, array=True)
            elif stripped.startswith("["):
                self.header(stripped, 1, number, array=False)
            else:
                self.key_line(line, number)

    def record(self, path: KeyPath, number: int) -> None:
        if path in self.lines:
            self.duplicates.append((path, number))
        else:
            self.lines[path] = number

    def resolve(self, parts: list[str]) -> KeyPath:
        """Insert the current index after every prefix that is an array of tables."""
        resolved: KeyPath = ()
        for part in parts:
            resolved = (*resolved, part)
            if resolved in self.array_counts:
                resolved = (*resolved, self.array_counts[resolved])
        return resolved

    def header(self, line: str, start: int, number: int, *, array: bool) -> None:
        parts, _ = self.key_parts(line, start)
        if not parts:
            return
        if array:
            parent = self.resolve(parts[:-1])
            path = (*parent, parts[-1])
            index = self.array_counts.get(path, -1) + 1
            self.array_counts[path] = index
            self.lines.setdefault(path, number)
            self.table = (*path, index)
            self.record(self.table, number)
        else:
            self.table = self.resolve(parts)
            self.record(self.table, number)

    def key_line(self, line: str, number: int) -> None:
        parts, end = self.key_parts(line, 0)
        rest = line[end:].lstrip()
        if not parts or not rest.startswith("="):
            return
        for depth in range(1, len(parts)):  # dotted keys define their parent tables too
            self.lines.setdefault((*self.table, *parts[:depth]), number)
        self.record((*self.table, *parts), number)
        self.skip_value(line, end + (len(line[end:]) - len(rest)) + 1)

    @staticmethod
    def key_parts(line: str, position: int) -> tuple[list[str], int]:
        """Parse `a."b.c".'d'` from `position`; returns the parts and where parsing stopped."""
        parts: list[str] = []
        length = len(line)
        while True:
            while position < length and line[position] in " \t":
                position += 1
            if position >= length:
                return parts, position
            char = line[position]
            if char == '"':
                end = position + 1
                while end < length and line[end] != '"':
                    end += 2 if line[end] == "\\" else 1
                raw = line[position : end + 1]
                try:
                    parts.append(json.loads(raw))
                except ValueError:
                    parts.append(raw[1:-1])
                position = end + 1
            elif char == "'":
                end = line.find("'", position + 1)
                end = length if end < 0 else end
                parts.append(line[position + 1 : end])
                position = end + 1
            else:
                match = BARE_KEY_RE.match(line, position)
                if not match:
                    return parts, position
                parts.append(match.group())
                position = match.end()
            while position < length and line[position] in " \t":
                position += 1
            if position < length and line[position] == ".":
                position += 1
                continue
            return parts, position

    def skip_value(self, line: str, position: int) -> None:
        """Follow strings, brackets and comments so a value spanning lines is not read as keys."""
        length = len(line)
        while position < length:
            if self.open_string is not None:
                end = line.find(self.open_string, position)
                if end < 0:
                    return
                while self.open_string == '"""' and end > 0 and _escaped(line, end):
                    end = line.find(self.open_string, end + 1)
                    if end < 0:
                        return
                position = end + 3
                # A closing delimiter may be followed by up to two more quotes of content.
                while position < length and line[position] == self.open_string[0]:
                    position += 1
                self.open_string = None
                continue
            char = line[position]
            if line.startswith('"""', position) or line.startswith("'''", position):
                self.open_string = line[position : position + 3]
                position += 3
            elif char == '"':
                position += 1
                while position < length and line[position] != '"':
                    position += 2 if line[position] == "\\" else 1
                position += 1
            elif char == "'":
                end = line.find("'", position + 1)
                position = length if end < 0 else end + 1
            elif char == "#":
                return
            elif char in "[{":
                self.depth += 1
                position += 1
            elif char in "]}":
                self.depth = max(0, self.depth - 1)
                position += 1
            else:
                position += 1


def _escaped(line: str, index: int) -> bool:
    """True when the character at `index` is preceded by an odd number of backslashes."""
    count = 0
    while index > 0 and line[index - 1] == "\\":
        count += 1
        index -= 1
    return count % 2 == 1
