"""The local X's recent search: the operators ecoinbox uses (words, "phrases", #hashtags,
@mentions, from:, conversation_id:, is:retweet, OR, parentheses, - to negate); words match
case-insensitively as whole words, as X's index does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.demo.x.records import Post

__all__ = ["Clause", "matches", "parse_query"]

_TOKEN = re.compile(r'\s*(-?\(|\)|-?"[^"]*"|[^\s()]+)')


@dataclass(frozen=True, slots=True)
class Clause:
    """One term, or a group of alternatives (`any_of`), perhaps negated."""

    term: str = ""
    any_of: tuple[tuple[Clause, ...], ...] = ()
    negated: bool = False


def parse_query(query: str) -> tuple[Clause, ...]:
    """The query as clauses that must all hold (ValueError for unbalanced parentheses)."""
    tokens = [match.group(1) for match in _TOKEN.finditer(query)]
    clauses, rest = _group(tokens, 0)
    if rest != len(tokens):
        raise ValueError("unbalanced parentheses")
    return clauses


def _group(tokens: list[str], at: int) -> tuple[tuple[Clause, ...], int]:
    """Clauses from `at` to a ")" or the end; OR splits them into alternatives."""
    alternatives: list[tuple[Clause, ...]] = []
    current: list[Clause] = []
    while at < len(tokens):
        token = tokens[at]
        if token == ")":
            break
        if token == "OR":
            alternatives.append(tuple(current))
            current = []
            at += 1
            continue
        if token.endswith("("):
            inner, at = _group(tokens, at + 1)
            if at >= len(tokens) or tokens[at] != ")":
                raise ValueError("unbalanced parentheses")
            current.append(Clause(any_of=(inner,), negated=token.startswith("-")))
            at += 1
            continue
        negated = token.startswith("-") and len(token) > 1
        current.append(Clause(term=token[1:] if negated else token, negated=negated))
        at += 1
    if alternatives:
        alternatives.append(tuple(current))
        return (Clause(any_of=tuple(alternatives)),), at
    return tuple(current), at


def matches(clauses: tuple[Clause, ...], post: Post) -> bool:
    return all(_holds(clause, post) for clause in clauses)


def _holds(clause: Clause, post: Post) -> bool:
    if clause.any_of:
        found = any(matches(alternative, post) for alternative in clause.any_of)
    else:
        found = _term(clause.term, post)
    return found != clause.negated


def _term(term: str, post: Post) -> bool:
    lowered = term.casefold()
    if lowered.startswith("from:"):
        return post.author.username.casefold() == lowered[5:].lstrip("@")
    if lowered.startswith("conversation_id:"):
        return post.conversation_id == term[16:]
    if lowered == "is:retweet":
        return False  # the local X has no retweets
    if lowered == "is:reply":
        return post.reply_to is not None
    if lowered.startswith("lang:"):
        return post.lang == lowered[5:]
    text = post.text.casefold()
    if lowered.startswith('"'):
        return lowered.strip('"') in text
    if lowered.startswith(("#", "@")):
        return re.search(rf"(?<!\w){re.escape(lowered)}(?!\w)", text) is not None
    return re.search(rf"(?<![\w#@]){re.escape(lowered)}(?!\w)", text) is not None
