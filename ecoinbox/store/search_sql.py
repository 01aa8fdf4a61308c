"""The search language as SQL: what a query reads, and how (pure: no connection, no aiosqlite;
`store.search` runs it, and `store.quick` for the CLI's quick reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ecoinbox.store.times import to_ms

if TYPE_CHECKING:
    from ecoinbox.query import Query

__all__ = ["IDS_AFTER", "search_conditions", "search_sql", "search_sql_among"]


def search_sql(query: Query) -> tuple[str, list[Any]]:
    """The statement reading `query`'s matching messages newest first (then `id < ?`, `LIMIT ?`).

        Each way in keeps the id order, so no statement sorts its matches: FTS5 hands its matches
        out by rowid (its own rowid must carry the bound and the order), a `lang:` filter reads its
        language's index (ids in order within a language), anything else walks the table backwards
        from the newest row. Conversations and authors are joined only when a filter reads them (the
    spam left out of a query without is: is dropped by `search`, a page of conversations at a time).
    """
    from ecoinbox.query import fts_phrase

    where, params = search_conditions(query)
    fts = " ".join(fts_phrase(t) for t in query.terms if not t.negated)
    joins = query_joins(query)
    conditions = "".join(f" AND {condition}" for condition in where)
    language = any(f.field == "lang" and not f.negated for f in query.filters)
    channel = any(f.field == "channel" and not f.negated for f in query.filters)
    # Without a hint SQLite reads a channel: filter through UNIQUE (channel, remote_id), whose
    # order is not the ids', and sorts every message of the channel for one page. Under a word,
    # the index answers the filter for each match without reading the message (only hits are).
    index = {
        (True, True): "messages_by_language_channel",
        (True, False): "messages_by_language",
        (False, True): "messages_by_channel",
    }.get((language, channel))
    source = f"messages m INDEXED BY {index}" if index else "messages m NOT INDEXED"
    if fts:
        sql = (
            "SELECT m.id, m.conversation_id, m.text FROM messages_fts f"
            f" CROSS JOIN {source} ON m.id = f.rowid{joins} WHERE messages_fts MATCH ?{conditions}"
            " AND f.rowid < ? ORDER BY f.rowid DESC LIMIT ?"
        )
        return sql, [fts, *params]
    sql = (
        f"SELECT m.id, m.conversation_id, m.text FROM {source}{joins}"
        f" WHERE 1{conditions} AND m.id < ? ORDER BY m.id DESC LIMIT ?"
    )
    return sql, params


def search_sql_among(query: Query, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """The statement reading which of the messages `ids` match `query`, newest first."""
    from ecoinbox.query import fts_phrase

    where, params = search_conditions(query)
    conditions = "".join(f" AND {condition}" for condition in where)
    fts = " ".join(fts_phrase(t) for t in query.terms if not t.negated)
    if fts:
        conditions += " AND m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"
        params.append(fts)
    marks = ",".join("?" * len(ids))
    sql = (
        f"SELECT m.id, m.conversation_id, m.text FROM messages m{query_joins(query)}"
        f" WHERE m.id IN ({marks}){conditions} ORDER BY m.id DESC"
    )
    return sql, [*ids, *params]


def query_joins(query: Query) -> str:
    joins = ""
    if any(f.field == "is" for f in query.filters):
        joins += " JOIN conversations c ON c.id = m.conversation_id"
    if any(f.field == "from" for f in query.filters):
        joins += " JOIN authors a ON a.id = m.author_id"
    return joins


def search_conditions(query: Query) -> tuple[list[str], list[Any]]:
    """SQL conditions (on m: messages, c: conversations, a: authors) and their parameters."""
    from ecoinbox.query import fts_phrase

    where: list[str] = []
    params: list[Any] = []
    for term in query.terms:
        if term.negated:
            where.append("m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            params.append(fts_phrase(term))
    for f in query.filters:
        values: list[Any]
        if f.field == "from":
            like = like_prefix(str(f.value))
            condition, values = (
                "(a.handle LIKE ? ESCAPE '\\' OR a.display_name LIKE ? ESCAPE '\\')",
                [like, like],
            )
        elif f.field == "channel":
            condition, values = "m.channel = ?", [f.value]
        elif f.field == "is" and f.value == "unanswered":
            condition, values = "c.needs_reply = 1 AND c.state = 'open'", []
        elif f.field == "is":
            condition, values = "c.state = ?", [f.value]
        elif f.field == "lang":
            condition, values = "m.language = ?", [f.value]
        elif f.field == "before":
            condition, values = "m.created_at < ?", [to_ms(f.value)]  # type: ignore[arg-type]
        elif f.field == "after":
            condition = f"m.created_at >= ? AND m.id >= {IDS_AFTER}"
            values = [to_ms(f.value)] * 2  # type: ignore[arg-type]
        else:  # has:link
            condition, values = "m.links != ''", []
        where.append(f"NOT ({condition})" if f.negated else condition)
        params.extend(values)
    return where, params


# The smallest id of an after: range, when it holds few messages (one lookup in messages_by_created
# and at most 5,000 entries read): a search walking the ids down stops there instead of reading every
# message to find the range empty. A wide range bounds nothing (the walk finds its page soon). (A
# before: bound would be a second upper bound on the ids, which SQLite may take over the page's
# cursor: every page after the first would then walk from the newest message again.)
IDS_AFTER = (
    f"(SELECT CASE WHEN count(*) < 5000 THEN coalesce(min(id), {1 << 62}) ELSE 0 END FROM"
    " (SELECT rowid AS id FROM messages INDEXED BY messages_by_created WHERE created_at >= ? LIMIT 5000))"
)


def like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
