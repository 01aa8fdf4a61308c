"""Canned replies: `CannedReply`, its loaders and the choice of a language variant.

`load_canned` reads `[[canned]]` tables, `load_canned_file` the separate file the user edits;
their errors name file, line and key like the config's."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

from ecoinbox.config import (
    ConfigError,
    ConfigProblem,
    KeyPath,
    _boolean,
    _describe,
    _did_you_mean,
    _Invalid,
    _line_of,
    _nonempty_string,
    _safe_locate,
    _string,
    _string_list,
    _Table,
    _toml_syntax_problem,
    _Validator,
    format_key_path,
)
from ecoinbox.replies.templates import TemplateError, parse_template, render, template_variables

KNOWN_VARIABLES: Final[frozenset[str]] = frozenset(
    {
        "author",  # the person's @handle, as the platform writes it
        "author_name",  # their display name
        "brand",
        "link",  # the canned reply's own link, rendered
        "forum_url",
        "topic_url",  # a new forum topic (redirect)
        "topic_title",
        "channel",
        "agent",  # the manager's name
    }
)
"""The variables every canned reply may use; the app knows their values for a conversation."""

URL_VARIABLES: Final[frozenset[str]] = frozenset({"forum_url", "topic_url"})
"""Variables whose value is an address: a link may start with one of them."""

CANNED_NAME_RE: Final = re.compile(r"[a-z0-9_-]{1,64}")
_LANGUAGE_RE: Final = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


# --------------------------------------------------------------------------------------------
# Canned replies


@dataclass(frozen=True, slots=True)
class CannedReply:
    """A ready answer: a template in the brand's default language, variants, and maybe a link."""

    name: str
    """Unique id, [a-z0-9_-]+: what the store records as used."""
    title: str = ""
    """What the picker shows (the loader defaults it to the name)."""
    text: str = ""
    """The template in `language`, e.g. "Sorry {author_name}, here is how: {link}"."""
    variants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Language code -> the same reply in that language, e.g. {"fr": "Désolés {author_name}…"}."""
    link: str | None = None
    """The page it carries, an http(s) URL or a template such as "{forum_url}/t/refunds/12"."""
    tags: tuple[str, ...] = ()
    """Words to find it by in the picker."""
    keywords: tuple[str, ...] = ()
    """Words that make it a good suggestion for a conversation (link ranking, picker)."""
    redirect: bool = False
    """True when it brings the person to the forum: `f` offers it."""
    language: str = "en"
    """The language of `text` (the `[replies] default_language` unless the entry says)."""

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language it is written in: `language` first, then its variants."""
        return (self.language, *(code for code in self.variants if code != self.language))


def pick_variant(
    reply: CannedReply, language: str | None, *, default_language: str | None = None
) -> tuple[str, str]:
    """The template to use for a person writing in `language`, and the template's language.

    The person's language first (an exact variant, then its primary subtag: "fr-ca" -> "fr"),
    then the brand's `default_language` when the reply has it, then the reply's own text.
    """
    for wanted in (*language_candidates(language), *language_candidates(default_language)):
        if wanted == reply.language:
            return reply.text, reply.language
        if wanted in reply.variants:
            return reply.variants[wanted], wanted
    return reply.text, reply.language


def language_candidates(language: str | None) -> tuple[str, ...]:
    """The codes a reply may be written in for `language`: "fr-CA" -> ("fr-ca", "fr")."""
    if not language:
        return ()
    code = language.strip().lower().replace("_", "-")
    primary = code.split("-", 1)[0]
    return (code,) if primary == code else (code, primary)


# --------------------------------------------------------------------------------------------
# Loading: [[canned]] in the config, or a file of them


def load_canned(
    entries: list[Any],
    source: Path,
    text: str,
    *,
    default_language: str = "en",
    variables: Iterable[str] = (),
    forum_url: str | None = None,
) -> tuple[CannedReply, ...]:
    """Validate the `[[canned]]` tables `entries`, read from TOML `text` in file `source`.

    `variables` are extra template variables the caller will fill besides `KNOWN_VARIABLES`;
    `forum_url` lets a plain link to the forum make a reply a redirect. Raises ConfigError with
    every problem as FILE:LINE: canned[i].key: what is wrong.
    """
    validator = _Validator(source)
    replies = _read_entries(validator, entries, default_language, variables, forum_url)
    if validator.problems:
        raise ConfigError(_located(validator.problems, text, source))
    return replies


def _read_entries(
    validator: _Validator,
    entries: list[Any],
    default_language: str,
    variables: Iterable[str],
    forum_url: str | None,
) -> tuple[CannedReply, ...]:
    reader = _CannedReader(validator, default_language, frozenset(variables), forum_url)
    replies: list[CannedReply] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        path: KeyPath = ("canned", index)
        if not isinstance(entry, dict):
            validator.problem(path, f"expected a [[canned]] table, got {_describe(entry)}")
            continue
        reply = reader.read(_Table(validator, entry, path, "canned"))
        if reply is None:
            continue
        if reply.name in first_index:
            validator.problem(
                (*path, "name"),
                f"duplicate canned reply name '{reply.name}' (also canned[{first_index[reply.name]}]);"
                " names must be unique",
            )
            continue
        first_index[reply.name] = index
        replies.append(reply)
    return tuple(replies)


def load_canned_file(
    path: Path,
    *,
    default_language: str = "en",
    variables: Iterable[str] = (),
    forum_url: str | None = None,
) -> tuple[CannedReply, ...]:
    """Read the canned replies file at `path`: `[[canned]]` tables and nothing else.

    Raises ConfigError naming the file, the line and the key of every problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(path, None, None, "canned replies file not found (see [replies] file)")]
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = ConfigProblem(path, None, None, f"cannot read the canned replies file: {reason}")
        raise ConfigError([problem]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [ConfigProblem(path, line, None, "not UTF-8 text (TOML files are UTF-8)")]
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_toml_syntax_problem(exc, text, path)]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem(path, None, None, "invalid TOML: nested too deeply")]) from None
    validator = _Validator(path)
    entries = document.get("canned", [])
    if not isinstance(entries, list):
        validator.problem(("canned",), f"expected [[canned]] tables, got {_describe(entries)}")
        entries = []
    for key, value in document.items():
        if key != "canned":
            what = "unknown table" if isinstance(value, dict) else "unknown setting"
            hint = _did_you_mean(key, ["canned"]) or " (this file holds only [[canned]] tables)"
            validator.problem((key,), what + hint)
    replies = _read_entries(validator, entries, default_language, variables, forum_url)
    if validator.problems:
        raise ConfigError(_located(validator.problems, text, path))
    return replies


def _located(problems: list[tuple[KeyPath, str]], text: str, source: Path) -> list[ConfigProblem]:
    lines = _safe_locate(text)
    located = [
        ConfigProblem(source, _line_of(path, lines), format_key_path(path) or None, message)
        for path, message in problems
    ]
    located.sort(key=lambda problem: (problem.line is None, problem.line or 0))
    return located


class _CannedReader:
    """Checks one [[canned]] table with the config's `_Table`, so messages read the same."""

    def __init__(
        self, validator: _Validator, default_language: str, extra: frozenset[str], forum_url: str | None
    ) -> None:
        self.validator = validator
        self.default_language = default_language.strip().lower() or "en"
        self.variables = KNOWN_VARIABLES | extra
        self.forum_url = forum_url.rstrip("/") if forum_url else None

    def read(self, table: _Table) -> CannedReply | None:
        name = table.get("name", _canned_name)
        title = table.get("title", _string, "").strip()
        text = table.get("text", self.template)
        language = table.get("language", _language_code, self.default_language)
        link = table.get("link", self.link, None)
        tags = table.get("tags", _string_list, ())
        keywords = table.get("keywords", _string_list, ())
        redirect = table.get("redirect", _boolean, None)
        variants = table.get("variants", self.variants, MappingProxyType({}))
        table.finish()
        if language in variants:
            table.problem(
                "variants",
                f"has a '{language}' variant, but text is already in '{language}' "
                "(set `language` to the language of text)",
            )
        if name is None or text is None:
            return None
        if redirect is None:
            redirect = self.points_at_forum(link, text, variants)
        return CannedReply(
            name=name,
            title=title or name,
            text=text,
            variants=variants,
            link=link,
            tags=tags,
            keywords=keywords,
            redirect=redirect,
            language=language,
        )

    def points_at_forum(self, link: str | None, text: str, variants: Mapping[str, str]) -> bool:
        """A reply whose link (or text) leads to the forum is a redirect unless it says otherwise."""
        if link is not None:
            if template_variables(link) & URL_VARIABLES:
                return True
            if self.forum_url and (link == self.forum_url or link.startswith(self.forum_url + "/")):
                return True
        return any(template_variables(t) & URL_VARIABLES for t in (text, *variants.values()))

    def template(self, value: object) -> str:
        text = _nonempty_string(value)
        self.check_template(text)
        return text

    def check_template(self, text: str, *, allow_link: bool = True) -> set[str]:
        try:
            names = template_variables(text)
        except TemplateError as exc:
            raise _Invalid(f"{exc.message} (at character {exc.position + 1})") from None
        for name in sorted(names):
            if name == "link" and not allow_link:
                raise _Invalid("a link cannot contain {link} (itself)")
            if name in self.variables:
                continue
            close = difflib.get_close_matches(name, sorted(self.variables), n=1, cutoff=0.7)
            if close or name.lower() in self.variables:
                guess = close[0] if close else name.lower()
                raise _Invalid(
                    f"unknown variable {{{name}}} (did you mean {{{guess}}}?); known: "
                    + ", ".join("{" + v + "}" for v in sorted(self.variables))
                )
            # Any other name is the reply's own blank ({order}): the manager is asked for it.
        return names

    def link(self, value: object) -> str:
        text = _nonempty_string(value)
        if any(char.isspace() for char in text):
            raise _Invalid("a link has no spaces")
        names = self.check_template(text, allow_link=False)
        pieces = parse_template(text)
        if pieces and pieces[0][0]:
            if pieces[0][1] not in URL_VARIABLES:
                raise _Invalid("a link starts with http:// or https://, or with {forum_url} or {topic_url}")
            return text
        probe = render(text, {name: "x" for name in names}).text
        try:
            parts = urlsplit(probe)
            host = parts.hostname
        except ValueError:
            raise _Invalid("not a valid URL") from None
        if parts.scheme not in ("http", "https") or not host:
            raise _Invalid(
                'expected an http(s) URL such as "https://help.example/refunds", '
                'or a template such as "{forum_url}/t/refunds/12"'
            )
        return text

    def variants(self, value: object) -> Mapping[str, str]:
        if not isinstance(value, dict):
            raise _Invalid(f'expected a table of language = "text", got {_describe(value)}')
        variants: dict[str, str] = {}
        for code, text in value.items():
            try:
                language = _language_code(code)
                variants[language] = self.template(text)
            except _Invalid as exc:
                raise _Invalid(exc.message, at=(code, *exc.at)) from None
        return MappingProxyType(variants)


def _canned_name(value: object) -> str:
    name = _string(value)
    if not CANNED_NAME_RE.fullmatch(name):
        raise _Invalid(
            f"{name[:64]!r} is not a valid canned reply name: use 1 to 64 lowercase letters, "
            "digits, '_' or '-'"
        )
    return name


def _language_code(value: object) -> str:
    code = _nonempty_string(value).lower().replace("_", "-")
    if not _LANGUAGE_RE.fullmatch(code):
        raise _Invalid(f'{code[:20]!r} is not a language code such as "en", "fr" or "pt-br"')
    return code
