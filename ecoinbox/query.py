"""The search language, in the manager's words, parsed into a plain structure.

    refund "never arrived" deliver* from:zoe channel:mastodon is:open lang:fr
    after:2d before:2026-11-01 has:link -spam -from:bot

Free words, "exact phrases" and prefix* are matched against the message text (accents and case
fold in the index, so cafe finds café); `from:`, `channel:`, `is:`, `lang:`, `before:`,
`after:` and `has:` filter; a leading `-` negates any of them. Nothing here builds SQL: the store
turns a `Query` into SQL and an FTS5 expression with bound parameters, so no query text is ever
pasted into SQL. `fts_phrase` quotes one term for FTS5.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ecoinbox.text import fold_as_index

__all__ = [
    "FILTERS", "Filter", "Query", "QueryError", "Span", "Term", "fts_phrase", "parse_query",
]  # fmt: skip

Span = tuple[int, int]
"""[start, end) indexes into a text."""

STATES = ("open", "pending", "snoozed", "done", "spam", "unanswered")
HAS = ("link",)
FILTERS = ("from", "channel", "is", "lang", "before", "after", "has")

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RELATIVE = re.compile(r"(\d{1,5})([mhdw])")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
# No leading \s*: a run of spaces would be read again from each of its characters.
_TOKEN = re.compile(r'(-?)(?:([a-z]+):)?("[^"]*"?|\S+)', re.IGNORECASE)


class QueryError(ValueError):
    """A query that cannot mean anything: the message says what to write instead."""


class _Value:
    """Frozen, compared and hashed by its fields, as `@dataclass(frozen=True, slots=True)` would be
    (dataclasses pulls inspect: 7 ms of `ecoinbox list --query`)."""

    __slots__: tuple[str, ...] = ()
    __match_args__: tuple[str, ...] = ()  # the fields, in order

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({fields})"


class Term(_Value):
    """Something to find in the text: a word, a phrase (several words in order) or a prefix."""

    __match_args__ = ("text", "kind", "negated")
    __slots__ = __match_args__
    text: str
    kind: str  # "word", "phrase" or "prefix"
    negated: bool

    def __init__(self, text: str, kind: str = "word", negated: bool = False) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "negated", negated)


class Filter(_Value):
    """A condition on the conversation or message: `field` is one of FILTERS."""

    __match_args__ = ("field", "value", "negated")
    __slots__ = __match_args__
    field: str
    value: str | datetime
    negated: bool

    def __init__(self, field: str, value: str | datetime, negated: bool = False) -> None:
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "negated", negated)


class Query(_Value):
    __match_args__ = ("terms", "filters")
    __slots__ = __match_args__
    terms: tuple[Term, ...]
    filters: tuple[Filter, ...]

    def __init__(self, terms: tuple[Term, ...] = (), filters: tuple[Filter, ...] = ()) -> None:
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "filters", filters)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.filters

    @property
    def includes_spam(self) -> bool:
        """Spam is searched only when the query says `is:spam`: a search for "refund" should
        not be a page of refund scams."""
        return any(f.field == "is" and f.value == "spam" and not f.negated for f in self.filters)

    def words(self) -> list[str]:
        """The words to highlight in results (negated ones are not there to highlight)."""
        found: list[str] = []
        for term in self.terms:
            if not term.negated:
                found.extend(term.text.split())
        return found

    def highlighter(self) -> Callable[[str], list[Span]]:
        """A function giving the spans of `text` that this query's words match, as the index
        matches them: whole words, accents and case folded, prefix* to the end of the word."""
        patterns = []
        for term in self.terms:
            if term.negated:
                continue
            for word in term.text.split():
                folded = re.escape(fold_as_index(word)[0])
                patterns.append(
                    rf"(?<!\w){folded}\w*" if term.kind == "prefix" else rf"(?<!\w){folded}(?!\w)"
                )
        if not patterns:
            return lambda text: []
        matcher = re.compile("|".join(patterns))

        def spans(text: str) -> list[Span]:
            folded, origin = fold_as_index(text)
            found: list[Span] = []
            for match in matcher.finditer(folded):
                if match.end() > match.start():
                    found.append((origin[match.start()], origin[match.end() - 1] + 1))
            return found

        return spans


def parse_query(text: str, *, now: datetime | None = None) -> Query:
    """Parse `text`; raises QueryError with a sentence the manager can act on."""
    now = now or datetime.now(UTC)
    terms: list[Term] = []
    filters: list[Filter] = []
    for match in _TOKEN.finditer(text):
        negated, key, value = match.group(1) == "-", match.group(2), match.group(3)
        if key is not None and key.lower() in FILTERS:
            filters.append(_filter(key.lower(), _unquote(value), negated, now))
            continue
        bare = value[:-1].lower() if key is None and value.endswith(":") else None
        if bare in FILTERS:
            raise QueryError(f"{bare}: needs a value right after the colon, e.g. {_EXAMPLES[bare]}.")
        if key is not None:
            import difflib  # 1-2 ms: only for a filter to correct

            close = difflib.get_close_matches(key.lower(), FILTERS, n=1, cutoff=0.7)
            if close:
                raise QueryError(f"Unknown filter {key}:; did you mean {close[0]}:?")
            value = f"{key}:{value}"  # e.g. a URL or "re:thing": plain words
        term = _term(value, negated)
        if term is not None:
            terms.append(term)
    return Query(tuple(terms), tuple(filters))


def fts_phrase(term: Term) -> str:
    """`term` as one FTS5 string (quotes doubled, so nothing in it is FTS5 syntax)."""
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + "*" if term.kind == "prefix" else quoted


def _term(value: str, negated: bool) -> Term | None:
    if value.startswith('"'):
        phrase = " ".join(_unquote(value).split())
        if not phrase:
            return None
        return Term(phrase, "phrase" if " " in phrase else "word", negated)
    if value.endswith("*"):
        stem = value.rstrip("*")
        if not _has_word(stem):
            raise QueryError(f"{value!r}: a prefix needs at least one letter or digit before the *.")
        return Term(stem, "prefix", negated)
    if not _has_word(value):
        return None  # punctuation alone ("-", "?") finds nothing and means nothing
    return Term(value, "word", negated)


def _has_word(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _unquote(value: str) -> str:
    if value.startswith('"'):
        value = value[1:]
        value = value.removesuffix('"')
    return value


def _filter(field: str, value: str, negated: bool, now: datetime) -> Filter:
    if not value:
        raise QueryError(f"{field}: needs a value, e.g. {_EXAMPLES[field]}.")
    if field == "is":
        if value.lower() not in STATES:
            raise QueryError(f"is:{value} is not a state; use one of {', '.join('is:' + s for s in STATES)}.")
        return Filter(field, value.lower(), negated)
    if field == "has":
        if value.lower() not in HAS:
            raise QueryError(f"has:{value} is not known; use has:link.")
        return Filter(field, value.lower(), negated)
    if field == "lang":
        if not _LANGUAGE.fullmatch(value.lower()):
            raise QueryError(f"lang:{value} is not a language code; use two letters, e.g. lang:fr.")
        return Filter(field, value.lower(), negated)
    if field in ("before", "after"):
        return Filter(field, _moment(field, value, now), negated)
    return Filter(field, value.lstrip("@") if field == "from" else value, negated)


def _moment(field: str, value: str, now: datetime) -> datetime:
    """`2026-11-01` (midnight UTC), `2026-11-01T14:30`, or an age: `30m`, `2h`, `3d`, `1w`."""
    relative = _RELATIVE.fullmatch(value.lower())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"{field}:{value} is not a date; use {field}:2026-11-01 or an age like {field}:3d (m, h, d, w)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_EXAMPLES = {
    "from": "from:zoe", "channel": "channel:mastodon", "is": "is:open", "lang": "lang:fr",
    "before": "before:2026-11-01", "after": "after:2d", "has": "has:link",
}  # fmt: skip
