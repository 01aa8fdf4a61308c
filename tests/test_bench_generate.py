"""bench/generate.py keeps making realistic stores, the same for the same seed (CI runs it small).

The benchmarks trust it for their fixtures: if a change made the stores lopsided (one channel,
one language, no threads, no spam) or different from run to run, their numbers would drift
without anyone touching the code they measure.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import statistics
import sys
from collections import Counter
from pathlib import Path

import ecoinbox

BENCH = Path(ecoinbox.__file__).resolve().parents[1] / "bench" / "generate.py"
MESSAGES = 2000


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


def dump(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return [row for table in ("authors", "conversations", "messages", "history")
                for row in db.execute(f"SELECT * FROM {table} ORDER BY id")]  # fmt: skip


def test_the_generator_is_deterministic_and_looks_like_real_traffic(tmp_path):
    generate = load_generator()
    first = asyncio.run(generate.generate(tmp_path / "a.db", MESSAGES, seed=7))
    again = asyncio.run(generate.generate(tmp_path / "b.db", MESSAGES, seed=7))
    other = asyncio.run(generate.generate(tmp_path / "c.db", MESSAGES, seed=8))
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db") != dump(tmp_path / "c.db")
    assert (tmp_path / "a.db.json").exists()

    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == MESSAGES == first.messages
        channels = Counter(dict(db.execute("SELECT channel, count(*) FROM conversations GROUP BY channel")))
        languages = Counter(dict(db.execute("SELECT language, count(*) FROM messages GROUP BY language")))
        sizes = [n for (n,) in db.execute("SELECT message_count FROM conversations")]
        states = Counter(dict(db.execute("SELECT state, count(*) FROM conversations GROUP BY state")))
        ours = db.execute("SELECT count(*) FROM messages WHERE origin = 'ours'").fetchone()[0]
        replies = db.execute("SELECT count(*) FROM messages WHERE parent_remote_id IS NOT NULL").fetchone()[0]
        started_by_author = [n for (n,) in db.execute(
            "SELECT count(*) FROM conversations c JOIN messages m ON m.channel = c.channel"
            " AND m.remote_id = c.root_remote_id GROUP BY m.author_id")]  # fmt: skip
        big = db.execute(
            "SELECT message_count FROM conversations WHERE id = ?", (first.big_thread_id,)
        ).fetchone()

    assert set(channels) == {"mastodon", "forum", "bluesky", "blog", "email", "reddit"}
    assert channels["mastodon"] > channels["blog"]
    assert languages["en"] > languages["fr"] > languages["de"] > 0 and languages["es"] > 0
    # About ten messages per conversation, most threads short, a heavy tail, one of exactly 200.
    assert 6 <= MESSAGES / len(sizes) <= 14
    assert statistics.median(sizes) <= 6 and sizes.count(1) / len(sizes) > 0.3
    assert big == (generate.BIG_THREAD,)
    assert replies > MESSAGES / 2
    # Spam is a few percent, mostly marked; old conversations are mostly done; the brand replies.
    assert 0.03 < first.spam_conversations / len(sizes) < 0.15
    assert states["spam"] > 0 and states["done"] > states["open"] > 0
    assert 0.15 < ours / MESSAGES < 0.45
    # Repeat posters: a few people start many conversations, most start one.
    assert max(started_by_author) >= 5 and statistics.median(started_by_author) == 1
    assert first.messages == again.messages and other.messages == MESSAGES


def test_no_message_is_dated_after_the_end():
    """Threads of hundreds of posts used to run past --end (a year of thousand-post threads at
    1M messages): searches like after:3d then met a wall of the future."""
    from ecoinbox.demo import generate

    end = generate.DEFAULT_END
    plan = generate.make_plan(200_000, 1, end)
    assert max(plan.size) == generate.MAX_THREAD  # threads long enough to have overrun the year
    assert max(plan.times) < end.timestamp() * 1000
    assert min(plan.times) >= (end - generate.SPAN).timestamp() * 1000
