"""One text module for search, canned replies and screening: two foldings, named apart, and words."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from ecoinbox.model import Author, Message, Origin
from ecoinbox.query import parse_query
from ecoinbox.store import open_store
from ecoinbox.text import fold, fold_as_index, stem, words

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_fold_for_our_own_matching_spells_ligatures_out():
    assert fold("Œuvre Remboursée ÆON") == "oeuvre remboursee aeon"
    assert fold("cafe\u0301") == "cafe"  # a combining accent typed apart goes too


def test_fold_as_index_keeps_what_the_index_keeps_and_where_it_came_from():
    assert fold_as_index("Œuvre Café") == ("œuvre cafe", list(range(10)))
    assert fold_as_index("ﬁn")[0] == "fin"
    assert fold_as_index("ﬁn")[1] == [0, 0, 1]


async def test_search_and_its_highlight_fold_alike(tmp_path):
    # The highlighter marks exactly what the store finds: both fold as FTS5 does ("œ" stays).
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    author = Author("mastodon", "1", "zoe@remote.example", "Zoé")
    text = "Une œuvre au Café"
    await store.ingest([Message(channel="mastodon", remote_id="1", author=author, text=text,
                                created_at=NOW, origin=Origin.MENTION)])  # fmt: skip
    try:
        for query, expected in [("cafe", ["Café"]), ("œuvre", ["œuvre"]), ("oeuvre", [])]:
            parsed = parse_query(query, now=NOW)
            rows, _ = await store.search(parsed)
            assert [row.snippet for row in rows] == ([text] if expected else [])
            assert [text[a:b] for a, b in parsed.highlighter()(text)] == expected
    finally:
        await store.close()


def test_words_are_stemmed_content_words_without_mentions_links_or_stop_words():
    said = words("@zoe@remote.example Hi! My refunds https://acme.example/x were REFUSED, merci")
    assert said == [("refund", "refunds"), ("refu", "refused")]  # two endings off: "ed", then "s"
    assert stem("subscription")[:5] == stem("subscribe")[:5]
    assert words("refundPolicy-page.html", url_words=True) == [("refund", "refund"), ("polic", "policy"),
                                                               ("pag", "page")]  # fmt: skip


def test_templates_and_the_picker_load_without_numpy_the_ranker_loads_it_when_built():
    script = (
        "import sys\n"
        "import ecoinbox.replies, ecoinbox.text, ecoinbox.query\n"
        "from ecoinbox.replies import CannedReply, LinkRanker, render, search_canned\n"
        "reply = CannedReply(name='refund', text='Sorry {author}', link='https://acme.example/refund')\n"
        "assert render(reply.text, {'author': '@zoe'}).text == 'Sorry @zoe'\n"
        "assert search_canned('refnd', [reply]) == [reply]\n"
        "assert 'numpy' not in sys.modules, 'numpy loaded before any ranking'\n"
        "ranked = LinkRanker([reply]).rank('where is my refund')\n"
        "assert [s.reply.name for s in ranked] == ['refund']\n"
        "assert 'numpy' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
