"""Search in the store: the query language against FTS5 and SQL, with the index kept in step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecoinbox.model import Author, Message, Origin, State
from ecoinbox.query import parse_query
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
ZOE = Author("mastodon", "1", "zoe@remote.example", "Zoé")
MARC = Author("forum", "2", "marc_d", "Marc Dupont")
BOT = Author("mastodon", "3", "promo_bot", "Best Deals")


def msg(n: int, text: str, *, author: Author = ZOE, channel: str | None = None, days: float = 0,
        parent: int | None = None, **extra) -> Message:  # fmt: skip
    return Message(
        channel=channel or author.channel, remote_id=str(n), author=author, text=text,
        created_at=T0 + timedelta(days=days), in_reply_to=str(parent) if parent else None,
        origin=Origin.MENTION, **extra,
    )  # fmt: skip


@pytest.fixture
async def store(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    await store.ingest([
        msg(1, "My order never arrived, I want a refund", days=1, language="en"),
        msg(2, "Still waiting for the refund…", days=2, parent=1, language="en"),
        msg(3, "Le café de la réunion était froid", author=MARC, days=3, language="fr"),
        msg(4, "Delivery was quick, thanks! https://acme.example/track", author=MARC, days=4,
            language="en", links=("https://acme.example/track",)),
        msg(5, "Cheap watches, free money, click here", author=BOT, days=5, language="en"),
        msg(6, "Where is my delivery? Order 42", days=6, language="en"),
    ])  # fmt: skip
    yield store
    await store.close()


async def found(store, text: str) -> list[str]:
    rows, _ = await store.search(parse_query(text, now=NOW))
    return [row.snippet for row in rows]


async def test_words_are_found_newest_first_one_row_per_conversation(store):
    assert await found(store, "refund") == ["Still waiting for the refund…"]
    assert await found(store, "order") == [
        "Where is my delivery? Order 42",
        "My order never arrived, I want a refund",
    ]


async def test_accents_and_case_fold(store):
    assert await found(store, "cafe REUNION") == ["Le café de la réunion était froid"]


async def test_phrases_and_prefixes(store):
    assert await found(store, '"never arrived"') == ["My order never arrived, I want a refund"]
    assert await found(store, '"arrived never"') == []
    assert await found(store, "deliv*") == [
        "Where is my delivery? Order 42",
        "Delivery was quick, thanks! https://acme.example/track",
    ]


async def test_filters(store):
    assert await found(store, "from:marc") == ["Delivery was quick, thanks! https://acme.example/track",
                                              "Le café de la réunion était froid"]  # fmt: skip
    assert await found(store, "from:Dupont") == []  # a prefix of the handle or the name
    assert await found(store, 'from:"Marc D"') == await found(store, "from:marc")
    assert await found(store, "channel:forum lang:fr") == ["Le café de la réunion était froid"]
    assert await found(store, "has:link") == ["Delivery was quick, thanks! https://acme.example/track"]
    assert await found(store, "after:2026-11-06") == [
        "Where is my delivery? Order 42",
        "Cheap watches, free money, click here",
    ]
    assert await found(store, "before:8d") == ["My order never arrived, I want a refund"]  # before day 2


async def test_states(store):
    (bot_row,) = (await store.search(parse_query("from:promo", now=NOW)))[0]
    await store.set_state([bot_row.id], State.SPAM)
    assert await found(store, "is:spam") == ["Cheap watches, free money, click here"]
    assert "Cheap watches, free money, click here" not in await found(store, "is:open")
    assert await found(store, "is:unanswered refund") == ["Still waiting for the refund…"]


async def test_spam_is_left_out_unless_the_query_says_is_spam(store):
    (bot_row,) = (await store.search(parse_query("from:promo", now=NOW)))[0]
    await store.set_state([bot_row.id], State.SPAM)
    assert await found(store, "free money") == []
    assert await found(store, "free money is:spam") == ["Cheap watches, free money, click here"]
    assert await found(store, "free money -is:open") == []


async def test_a_late_match_starts_the_snippet_shortly_before_it(store):
    long = (
        "An introduction that goes on and on about nothing much at all, " * 3 + "then the invoice is wrong."
    )
    await store.ingest([msg(7, long, days=7, language="en")])
    (snippet,) = await found(store, "invoice")
    assert snippet.startswith("…") and "invoice" in snippet[:60]
    assert snippet.endswith("the invoice is wrong.")


async def test_negation(store):
    assert await found(store, "order -refund") == ["Where is my delivery? Order 42"]
    assert await found(store, "-from:zoe -channel:forum") == ["Cheap watches, free money, click here"]
    assert await found(store, 'deliv* -"quick thanks"') == ["Where is my delivery? Order 42"]


async def test_injection_attempts_find_text_and_break_nothing(store):
    for attempt in ['"); DROP TABLE messages; --', "x' OR 1=1 --", "NEAR(order refund)", "text:refund",
                    "order AND NOT refund", "*refund", '""', "%", "from:%", "from:_"]:  # fmt: skip
        try:
            query = parse_query(attempt, now=NOW)
        except ValueError:
            continue
        await store.search(query)
    assert await found(store, "refund") == ["Still waiting for the refund…"]  # the table is still there
    assert await found(store, "from:%") == []  # % is a character to find, not a wildcard


async def test_edits_are_reindexed_and_paging_continues_without_repeats(store):
    await store.ingest([msg(6, "Where is my parcel? Order 42", days=6, language="en",
                            edited_at=T0 + timedelta(days=7))])  # fmt: skip
    assert await found(store, "delivery") == ["Delivery was quick, thanks! https://acme.example/track"]
    assert await found(store, "parcel") == ["Where is my parcel? Order 42"]
    first, cursor = await store.search(parse_query("-nothingmatchesthis", now=NOW), limit=2)
    second, _ = await store.search(parse_query("-nothingmatchesthis", now=NOW), before_message=cursor, limit=10,
                                   seen={r.id for r in first})  # fmt: skip
    assert len(first) == 2 and not {r.id for r in first} & {r.id for r in second}
    assert len(first) + len(second) == 5  # five conversations in all


def test_the_cli_lists_a_query_and_explains_a_bad_one(tmp_path, capsys):
    import asyncio

    from ecoinbox.cli import main

    db = tmp_path / "inbox.db"

    async def fill() -> None:
        store = await open_store(db)
        await store.ingest([msg(1, "Le café était froid", author=MARC, language="fr"),
                            msg(2, "My order never arrived", language="en")])  # fmt: skip
        await store.close()

    asyncio.run(fill())
    config = tmp_path / "config.toml"
    config.write_text(f'[brand]\nname = "Acme"\n[store]\npath = "{db}"\n', encoding="utf-8")
    assert main(["--config", str(config), "list", "--query", "cafe lang:fr", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "caf\\u00e9" in lines[0]
    assert main(["--config", str(config), "list", "--query", "is:later"]) == 1
    assert "is:open" in capsys.readouterr().err


@pytest.mark.parametrize("text", [
    "refund", '"never arrived"', "deliv*", "refund lang:fr", "channel:forum is:open", "from:zoe", "after:3d",
    "lang:fr has:link", "lang:nl channel:blog", "-refund", "is:unanswered -from:bot", "deliv* -lang:en",
])  # fmt: skip
async def test_no_search_sorts_its_matches(store, text):
    """A page costs what a page costs only if matches come out newest first as they are read:
    a statement that sorts reads every match first (1.4 s for a common word at 1M messages)."""
    from ecoinbox.store.sqlite import _search_sql

    sql, params = _search_sql(parse_query(text, now=NOW))
    async with store._reader.execute(f"EXPLAIN QUERY PLAN {sql}", (*params, 2**62, 50)) as cursor:
        plan = " / ".join(row[3] for row in await cursor.fetchall())
    assert "TEMP B-TREE" not in plan, plan
    if text.startswith("lang:"):  # filters only: the language index leads
        assert "messages_by_language" in plan


async def test_language_filters_page_through_their_index(store):
    assert await found(store, "lang:fr") == ["Le café de la réunion était froid"]
    first, cursor = await store.search(parse_query("lang:en", now=NOW), limit=2)
    rest, end = await store.search(parse_query("lang:en", now=NOW), before_message=cursor, limit=10,
                                   seen={r.id for r in first})  # fmt: skip
    assert [r.snippet for r in first + rest] == await found(store, "lang:en") and end is None
    assert len(first + rest) == 4
