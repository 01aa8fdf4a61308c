"""Canned replies: templates with variables, per-language variants, and links that learn.

A canned reply is a ready answer the manager picks in the reply box (`ctrl+t`) or with `f`
(bring the person to the forum). This module holds everything about them that is not drawing:

- `CannedReply` and its loaders (`load_canned` for `[[canned]]` tables, `load_canned_file` for
  the separate file the user edits), whose errors name file, line and key like the config's;
- templates: `{author}`-style variables with `{{`/`}}` escapes, `render` that never leaves a
  `{x}` in the text but reports it as missing, `stack` to put several replies in one message;
- `pick_variant` (the person's language first) and `search_canned` (the fuzzy picker);
- `LinkRanker`, which ranks the canned replies' links for a conversation from their words, from
  the past conversations each link was sent in, and from how often and how lately it was sent.

Headless on purpose: no Textual, no Rich, no SQL (the history comes in as `LinkUse` values).
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio as fuzz_ratio

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
from ecoinbox.model import LinkUse

__all__ = [
    "KNOWN_VARIABLES",
    "CannedReply",
    "LinkRanker",
    "LinkUse",
    "RankWeights",
    "Rendered",
    "ScoreParts",
    "Suggestion",
    "TemplateError",
    "escape",
    "load_canned",
    "load_canned_file",
    "pick_variant",
    "render",
    "search_canned",
    "stack",
    "template_variables",
]

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
_VARIABLE_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    for wanted in (*_language_candidates(language), *_language_candidates(default_language)):
        if wanted == reply.language:
            return reply.text, reply.language
        if wanted in reply.variants:
            return reply.variants[wanted], wanted
    return reply.text, reply.language


def _language_candidates(language: str | None) -> tuple[str, ...]:
    if not language:
        return ()
    code = language.strip().lower().replace("_", "-")
    primary = code.split("-", 1)[0]
    return (code,) if primary == code else (code, primary)


# --------------------------------------------------------------------------------------------
# Templates


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
_Piece = tuple[bool, str]


@functools.lru_cache(maxsize=4096)
def _parse(template: str) -> tuple[_Piece, ...]:
    """Split a template into literals and variables; TemplateError for anything but `{name}`."""
    pieces: list[_Piece] = []
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
    return {name for is_variable, name in _parse(template) if is_variable}


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
    for is_variable, text in _parse(template):
        if not is_variable:
            out.append(text)
            continue
        value = values.get(text)
        if value is None or not str(value).strip():
            missing[text] = None
        else:
            out.append(str(value))
    return Rendered("".join(out), tuple(missing))


_MENTION_RE: Final = re.compile(
    r"(?<![\w@/])@[A-Za-z0-9_](?:[\w.-]*\w)?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?"
)
_LEADING_MENTIONS_RE: Final = re.compile(rf"(?:\s*{_MENTION_RE.pattern}[,:]?)+\s*")


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
        mentions = {m.casefold() for m in _MENTION_RE.findall(prefix.group())} if prefix else set()
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
        pieces = _parse(text)
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


# --------------------------------------------------------------------------------------------
# Words: accent folding, stop-words, light stemming (shared by the picker and the ranker)


def fold(text: str) -> str:
    """Lowercase without accents: "Remboursée" -> "remboursee"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold().replace("œ", "oe").replace("æ", "ae")


_URL_RE: Final = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD_RE: Final = re.compile(r"[^\W_]+")
_CAMEL_RE: Final = re.compile(r"(?<=[a-z])(?=[A-Z])")

_STOP_WORDS: Final[frozenset[str]] = frozenset(
    fold(word)
    for word in """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can cannot could did do does doing done down during each few for
    from further get got had has have having he her here hers herself him himself his how i if in
    into is it its itself just let me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up us
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves im ive dont cant doesnt didnt isnt wont also still even yet ok okay yes
    hi hello hey thanks thank thx ty please pls plz dear guys sir madam
    au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur
    leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se
    ses son sur ta te tes toi ton tu un une vos votre vous ça ca cela ceci ci est sont suis es
    etes sommes ete etre avoir ai as avons avez ont avait etait fait faire plus tres trop aussi
    deja encore jamais rien tout tous toute toutes y si oui non alors donc car comme quand
    bonjour bonsoir salut merci svp stp coucou
    """.split()
)
# Words of every link's address that say nothing about the page.
_URL_STOP_WORDS: Final = frozenset({"html", "htm", "php", "aspx", "jsp", "www", "http", "https", "index"})

_SUFFIXES: Final = tuple(
    sorted(
        """issements issement ements ement ations ation ments ment ingly ings ing ies ied ees ee
        es ed er ez ly s e y""".split(),
        key=len,
        reverse=True,
    )
)
STEM_LENGTH: Final = 6
"""Stems are cut to this many letters: prefix matching ("subscription" ~ "subscribe")."""


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, language-agnostic stem of a folded word (EN and FR suffixes, then a prefix)."""
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    return word[:STEM_LENGTH]


def words(text: str, *, url_words: bool = False) -> list[tuple[str, str]]:
    """(stem, surface word) for each content word of `text`, in order.

    @mentions and URLs are dropped, as are stop-words (EN and FR), numbers and one-letter words.
    With `url_words`, `text` is an address path: camelCase is split too.
    """
    if url_words:
        text = _CAMEL_RE.sub(" ", text)
    else:
        text = _MENTION_RE.sub(" ", _URL_RE.sub(" ", text))
    out: list[tuple[str, str]] = []
    for match in _WORD_RE.finditer(fold(text)):
        word = match.group()
        if len(word) < 2 or len(word) > 30 or word.isdigit() or word in _STOP_WORDS:
            continue
        if url_words and word in _URL_STOP_WORDS:
            continue
        out.append((stem(word), word))
    return out


def link_words(link: str) -> str:
    """The words of a link's path: "{forum_url}/t/refunds-and-returns/12" -> "t refunds and returns 12"."""
    try:
        pieces = _parse(link)
    except TemplateError:
        pieces = ((False, link),)
    literal = "".join(text for is_variable, text in pieces if not is_variable)
    try:
        path = urlsplit(literal).path if "://" in literal else literal
    except ValueError:
        path = literal
    return " ".join(re.split(r"[/\-_.+~%]+", path)).strip()


def _template_words(template: str) -> str:
    try:
        return " ".join(text for is_variable, text in _parse(template) if not is_variable)
    except TemplateError:
        return template


# --------------------------------------------------------------------------------------------
# The picker: fuzzy, accent-insensitive, forgiving of typos

# How much a match in each field counts (name and title are what the manager remembers).
_FIELD_WEIGHTS: Final = {"name": 1.0, "title": 1.0, "keywords": 0.95, "tags": 0.9, "text": 0.75}
_MATCH_FLOOR: Final = 55.0  # a typed word scoring below this (0..100, weighted) everywhere: no match


@functools.lru_cache(maxsize=2048)
def _search_fields(reply: CannedReply) -> tuple[tuple[float, tuple[str, ...]], ...]:
    texts = {
        "name": reply.name,
        "title": reply.title,
        "keywords": " ".join(reply.keywords),
        "tags": " ".join(reply.tags),
        "text": " ".join(_template_words(t) for t in (reply.text, *reply.variants.values())),
    }
    return tuple(
        (_FIELD_WEIGHTS[key], tuple(dict.fromkeys(_WORD_RE.findall(fold(value)))))
        for key, value in texts.items()
    )


def _word_score(query: str, word: str) -> float:
    """0..100: how well one typed word matches one word of a reply."""
    if word.startswith(query):
        return 100.0
    if len(query) >= 3 and query in word:
        return 90.0
    if len(query) < 3:
        return 0.0
    # A typo: one or two edits (a transposition counts as one), against the word or its start.
    head = word[: len(query)]
    edits = min(OSA.distance(query, word), OSA.distance(query, head))
    allowed = 1 if len(query) < 6 else 2
    if edits <= allowed:
        return 85.0 - 10.0 * (edits - 1)
    return fuzz_ratio(query, word) * 0.8


def search_canned(
    query: str, replies: Iterable[CannedReply], *, language: str | None = None
) -> list[CannedReply]:
    """The canned replies matching `query`, best first, for the picker.

    Each typed word must match a word of the reply's name, title, keywords, tags or text
    (accents and case ignored; prefixes and small typos accepted). An empty query keeps every
    reply, those written in the person's `language` first, otherwise in their own order.
    """
    replies = list(replies)
    wanted = _language_candidates(language)

    def speaks(reply: CannedReply) -> bool:
        return any(code in reply.languages for code in wanted)

    terms = list(dict.fromkeys(_WORD_RE.findall(fold(query))))
    if not terms:
        return sorted(replies, key=lambda reply: not speaks(reply))
    scored: list[tuple[float, int, CannedReply]] = []
    for index, reply in enumerate(replies):
        fields = _search_fields(reply)
        total = 0.0
        for term in terms:
            best = max(
                (weight * _word_score(term, word) for weight, field_words in fields for word in field_words),
                default=0.0,
            )
            if best < _MATCH_FLOOR:
                break
            total += best
        else:
            score = total / len(terms) + (2.0 if speaks(reply) else 0.0)
            scored.append((-score, index, reply))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [reply for _, _, reply in scored]


# --------------------------------------------------------------------------------------------
# Link suggestion that learns


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A canned reply proposed for a conversation, with its score and why, in a few words."""

    reply: CannedReply
    score: float
    why: str


@dataclass(frozen=True, slots=True)
class RankWeights:
    """How `LinkRanker` mixes its signals. The defaults were chosen by 5-fold cross-validation on
    the CDP dev split (bench/link_suggestion.py): most hits at 1, less what any brand loses against
    its most frequent link."""

    text: float = 1.0
    """Similarity of the conversation to the reply's own words (title, text, keywords, link)."""
    neighbours: float = 1.0
    """Summed similarity of the `k` most similar past conversations that got this link."""
    profile: float = 0.5
    """Similarity to all past conversations that got this link, pooled."""
    usage: float = 0.5
    """How often the link was sent, recent uses counting more (0..1 before weighting)."""
    language: float = 0.05
    """A small push for replies written in the person's language."""
    k: int = 10
    """How many similar past conversations vote."""
    half_life_days: float = 180.0
    """A use this many days old counts half as much in `usage`."""

    def combine(self, parts: ScoreParts) -> float:
        return (
            self.text * parts.text
            + self.neighbours * parts.neighbours
            + self.profile * parts.profile
            + self.usage * parts.usage
            + self.language * parts.language
        )


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The signals behind one candidate's score, each before weighting."""

    text: float = 0.0
    neighbours: float = 0.0
    profile: float = 0.0
    usage: float = 0.0
    language: float = 0.0
    matched: tuple[str, ...] = ()  # the conversation's words that matched the reply's
    similar: int = 0  # how many of the k nearest past conversations got this link
    uses: int = 0  # how many times the link was sent in all


class _Vectors:
    """Sparse TF-IDF vectors over one collection, with document frequencies kept up to date."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.count = 0

    def add(self, terms: Counter[str]) -> None:
        self.df.update(terms.keys())
        self.count += 1

    def idf(self, term: str) -> float:
        return math.log((self.count + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def vector(self, terms: Mapping[str, float]) -> dict[str, float]:
        """Sublinear tf times idf, L2-normalised."""
        weights = {t: (1.0 + math.log(tf)) * self.idf(t) for t, tf in terms.items() if tf > 0}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}


@dataclass(slots=True)
class _Candidate:
    reply: CannedReply
    group: int  # candidates sharing one link share one history
    terms: Counter[str]
    surface: dict[str, str]  # stem -> a word of the reply, for `why`
    vector: dict[str, float] = field(default_factory=dict)


class _History:
    """Past conversations that got a link: an inverted index of their TF-IDF vectors, pooled
    profiles per link, and recency-weighted counts, all updated one use at a time."""

    def __init__(self, groups: int, half_life_days: float) -> None:
        self.vectors = _Vectors()
        self.half_life = half_life_days * 86400.0
        self.group: list[int] = []
        self.terms: list[Counter[str]] = []
        self.at: list[float] = []  # POSIX timestamps
        self._post_index: dict[str, list[int]] = defaultdict(list)
        self._post_weight: dict[str, list[float]] = defaultdict(list)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> postings, built lazily
        self._group_array: np.ndarray = np.zeros(0, dtype=np.intp)
        self.profiles: list[dict[str, float]] = [{} for _ in range(groups)]
        self._profile_norms = [0.0] * groups
        self._stale_norms: set[int] = set()
        self.counts = [0] * groups
        # Sum of 2**((at - epoch) / half_life) per link: times 2**(-(now - epoch) / half_life),
        # it is the sum of each use's 2**(-age / half_life), in O(links) whatever the history.
        self._recency = [0.0] * groups

    def __len__(self) -> int:
        return len(self.group)

    def add(self, group: int, at: float, terms: Counter[str], *, counted: bool = False) -> None:
        """Index one use; its weights use the document frequencies known so far (`counted`:
        its own were added already)."""
        if not counted:
            self.vectors.add(terms)
        index = len(self.group)
        self.group.append(group)
        self.terms.append(terms)
        self.at.append(at)
        profile = self.profiles[group]
        for term, weight in self.vectors.vector(terms).items():
            self._post_index[term].append(index)
            self._post_weight[term].append(weight)
            self._arrays.pop(term, None)
            profile[term] = profile.get(term, 0.0) + weight
        self._stale_norms.add(group)
        self.counts[group] += 1
        if self.half_life > 0:
            self._recency[group] += 2.0 ** ((at - _EPOCH) / self.half_life)

    def similarities(self, query: Mapping[str, float]) -> np.ndarray:
        """Cosine similarity of `query` (normalised with this history's idf) to every use."""
        scores = np.zeros(len(self.group))
        for term, weight in query.items():
            arrays = self._arrays.get(term)
            if arrays is None:
                if term not in self._post_index:
                    continue
                arrays = (
                    np.asarray(self._post_index[term], dtype=np.intp),
                    np.asarray(self._post_weight[term], dtype=np.float64),
                )
                self._arrays[term] = arrays
            indexes, weights = arrays
            scores[indexes] += weight * weights  # a use appears once per term
        return scores

    def profile_norms(self) -> list[float]:
        for group in self._stale_norms:
            self._profile_norms[group] = math.sqrt(sum(w * w for w in self.profiles[group].values()))
        self._stale_norms.clear()
        return self._profile_norms

    def groups_of(self, indexes: np.ndarray) -> np.ndarray:
        if len(self._group_array) != len(self.group):
            self._group_array = np.asarray(self.group, dtype=np.intp)
        return self._group_array[indexes]

    def usage(self, now: float) -> list[float]:
        """Per link: its uses, each weighted 2**(-age / half_life) (1 each without a half-life)."""
        if self.half_life <= 0:
            return [float(count) for count in self.counts]
        scale = 2.0 ** (-(now - _EPOCH) / self.half_life)
        return [total * scale for total in self._recency]


_EPOCH: Final = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
EXACT_HISTORY: Final = 256
"""Up to this many past uses, `add_use` re-indexes everything: exact and still quick."""


class LinkRanker:
    """Ranks canned replies (those with a link, or that redirect) for a conversation.

    Three signals, mixed by `RankWeights`:
    (a) the conversation's words against each reply's title, text, variants, keywords, tags and
        the words of its link's path (TF-IDF, accents folded, EN and FR stop-words, light stems);
    (b) the past conversations each link was sent in (`LinkUse`): the `k` most similar vote for
        their link, and each link's pooled past conversations are compared too;
    (c) how often, and how recently, each link was sent;
    plus a small push for replies written in the person's language.

    Vectors are computed here once; `add_use` indexes one more past use incrementally.
    Deterministic: equal scores go to the link sent more often, then alphabetically (link, then
    name), never to the replies' own order, which may carry a bias of its own.
    """

    def __init__(
        self,
        replies: Iterable[CannedReply],
        history: Iterable[LinkUse] = (),
        *,
        values: Mapping[str, str] | None = None,
        weights: RankWeights | None = None,
    ) -> None:
        self.weights = weights or RankWeights()
        self._values = dict(values or {})
        self._candidates: list[_Candidate] = []
        self._group_of_link: dict[str, int] = {}
        self._group_patterns: list[tuple[re.Pattern[str], int]] = []
        self._group_of_name: dict[str, int] = {}
        self._groups = 0
        for reply in replies:
            if reply.link is None and not reply.redirect:
                continue
            self._candidates.append(self._candidate(reply))
        self._reply_vectors = _Vectors()
        for candidate in self._candidates:
            self._reply_vectors.add(candidate.terms)
        for candidate in self._candidates:
            candidate.vector = self._reply_vectors.vector(candidate.terms)
        self._tie_keys = [(self._link_key(c.reply), c.reply.name) for c in self._candidates]
        self._resolved: dict[tuple[str, str], int | None] = {}
        self._history = _History(self._groups, self.weights.half_life_days)
        self._indexed_fresh = 0  # how many uses the last full indexing saw
        self._reindex([self._prepared(use) for use in history])

    # ---- building ------------------------------------------------------------------------------

    def _candidate(self, reply: CannedReply) -> _Candidate:
        key = self._link_key(reply)
        if key in self._group_of_link:
            group = self._group_of_link[key]
        else:
            group = self._groups
            self._groups += 1
            self._group_of_link[key] = group
            if reply.link is not None and template_variables(reply.link):
                self._group_patterns.append((_link_pattern(reply.link), group))
        self._group_of_name.setdefault(reply.name, group)
        parts = [reply.title, *(_template_words(t) for t in (reply.text, *reply.variants.values()))]
        parts += list(reply.keywords) * 2  # chosen by the manager to trigger this reply
        parts += list(reply.tags)
        terms: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for text in parts:
            for term, word in words(text):
                terms[term] += 1
                surface.setdefault(term, word)
        if reply.link:
            for term, word in words(link_words(reply.link), url_words=True):
                terms[term] += 1
                surface.setdefault(term, word)
        return _Candidate(reply, group, terms, surface)

    def _link_key(self, reply: CannedReply) -> str:
        if reply.link is None:
            return "name:" + reply.name
        rendered = render(reply.link, self._values)
        return rendered.text if rendered.complete else reply.link

    def _group_of(self, use: LinkUse) -> int | None:
        """The candidates' link this use sent: same address, the template's shape, or its name."""
        key = (use.link, use.canned)
        if key not in self._resolved:
            group = self._group_of_link.get(use.link)
            if group is None:
                group = next((g for pattern, g in self._group_patterns if pattern.fullmatch(use.link)), None)
            if group is None and use.canned:
                group = self._group_of_name.get(use.canned)
            self._resolved[key] = group
        return self._resolved[key]

    def _prepared(self, use: LinkUse) -> tuple[int, float, Counter[str]] | None:
        group = self._group_of(use)
        if group is None:
            return None  # a link no canned reply carries any more
        return group, _timestamp(use.at), Counter(term for term, _ in words(use.conversation_text))

    def add_use(self, use: LinkUse) -> None:
        """Learn from one more link sent, without recomputing the rest."""
        prepared = self._prepared(use)
        if prepared is None:
            return
        # Weights are normalised with the document frequencies of their day: a small history,
        # or one grown by a quarter since it was last indexed whole, is indexed whole again.
        size = len(self._history) + 1
        if size <= EXACT_HISTORY or size > 1.25 * self._indexed_fresh:
            self._reindex([*zip(self._history.group, self._history.at, self._history.terms), prepared])
        else:
            self._history.add(*prepared)

    def _reindex(self, uses: Iterable[tuple[int, float, Counter[str]] | None]) -> None:
        kept = [use for use in uses if use is not None]
        history = _History(self._groups, self.weights.half_life_days)
        for _, _, terms in kept:  # document frequencies first: every weight sees all of them
            history.vectors.add(terms)
        for group, at, terms in kept:
            history.add(group, at, terms, counted=True)
        history.profile_norms()
        self._history = history
        self._indexed_fresh = len(kept)

    # ---- ranking -------------------------------------------------------------------------------

    @property
    def replies(self) -> tuple[CannedReply, ...]:
        """The candidates, in the order they were given."""
        return tuple(candidate.reply for candidate in self._candidates)

    def parts(
        self, conversation_text: str, language: str | None = None, *, now: datetime | None = None
    ) -> list[ScoreParts]:
        """Each candidate's signals for this conversation, in the order of `replies`."""
        moment = _timestamp(now or datetime.now(UTC))
        said = words(conversation_text)
        terms: Counter[str] = Counter(term for term, _ in said)
        surface: dict[str, str] = {}
        for term, word in said:
            surface.setdefault(term, word)
        history = self._history
        groups = self._groups

        # (b) the k most similar past conversations vote for their link; pooled profiles too
        query = history.vectors.vector(terms)
        votes = [0.0] * groups
        voters = [0] * groups
        if len(history) and query:
            similarities = history.similarities(query)
            nearest = _top(similarities, self.weights.k)
            for group, similarity in zip(history.groups_of(nearest), similarities[nearest], strict=True):
                votes[group] += float(similarity)
                voters[group] += 1
        profiles = [0.0] * groups
        norms = history.profile_norms()
        for group, profile in enumerate(history.profiles):
            norm = norms[group]
            if norm:
                profiles[group] = sum(w * profile.get(t, 0.0) for t, w in query.items()) / norm
        # (c) how often and how lately
        usage = history.usage(moment)
        top = max(usage, default=0.0)

        # (a) the reply's own words
        query = self._reply_vectors.vector(terms)
        wanted = _language_candidates(language)
        out: list[ScoreParts] = []
        for candidate in self._candidates:
            contributions = sorted(
                ((weight * candidate.vector.get(term, 0.0), term) for term, weight in query.items()),
                key=lambda item: (-item[0], item[1]),
            )
            group = candidate.group
            out.append(
                ScoreParts(
                    text=sum(value for value, _ in contributions),
                    neighbours=votes[group],
                    profile=profiles[group],
                    usage=usage[group] / (top + 1.0) if top else 0.0,
                    language=1.0 if any(code in candidate.reply.languages for code in wanted) else 0.0,
                    matched=tuple(surface[term] for value, term in contributions[:3] if value > 0),
                    similar=voters[group],
                    uses=history.counts[group],
                )
            )
        return out

    def order(self, parts: Sequence[ScoreParts], weights: RankWeights | None = None) -> list[int]:
        """Indexes into `replies`, best first for `parts` (from `parts()`) mixed by `weights`
        (the ranker's own by default): by score, then how often the link was sent, then by link
        and name."""
        mix = weights or self.weights
        scores = [round(mix.combine(p), 12) for p in parts]
        return sorted(range(len(parts)), key=lambda i: (-scores[i], -parts[i].uses, self._tie_keys[i]))

    def rank(
        self,
        conversation_text: str,
        language: str | None = None,
        *,
        now: datetime | None = None,
        limit: int | None = None,
    ) -> list[Suggestion]:
        """The candidates for this conversation, best first (all of them unless `limit`)."""
        parts = self.parts(conversation_text, language, now=now)
        scores = [self.weights.combine(p) for p in parts]
        order = self.order(parts)
        if limit is not None:
            order = order[:limit]
        return [Suggestion(self._candidates[i].reply, scores[i], _why(parts[i])) for i in order]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the `k` highest positive scores, best first, equal scores oldest first."""
    positive = np.flatnonzero(scores > 0)
    if k <= 0:
        return positive[:0]
    if len(positive) > k:
        threshold = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= threshold]
    order = np.lexsort((positive, -scores[positive]))
    return positive[order][:k]


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _why(parts: ScoreParts) -> str:
    reasons: list[str] = []
    if parts.matched:
        reasons.append("matches " + ", ".join(f"'{word}'" for word in parts.matched))
    if parts.similar:
        plural = "s" if parts.similar > 1 else ""
        reasons.append(f"sent in {parts.similar} similar conversation{plural}")
    if parts.uses and not parts.similar:
        reasons.append(f"sent {parts.uses} time{'s' if parts.uses > 1 else ''} before")
    if parts.language and not reasons:
        reasons.append("in their language")
    return "; ".join(reasons) or "no clue in the conversation"


def _link_pattern(template: str) -> re.Pattern[str]:
    """A regex matching what `template` renders to, whatever its variables hold."""
    out = []
    for is_variable, text in _parse(template):
        out.append(".+?" if is_variable else re.escape(text))
    return re.compile("".join(out))
