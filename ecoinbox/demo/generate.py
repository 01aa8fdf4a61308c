"""Realistic ecoinbox stores at any scale, deterministic by seed, for the benchmarks (and the demo).

    python bench/generate.py --messages 1000000 --seed 1 --out /tmp/bench/1m.db
    ecoinbox demo --messages 1000000       # the demo on a generated store (see ecoinbox.demo.runner)

A year of a brand's traffic ending at `--end`: about ten messages per conversation on average,
but most conversations are one or two posts and a heavy tail runs to hundreds (Pareto-shaped
thread sizes, plus one thread of exactly `BIG_THREAD` messages the thread benchmark opens). Six
channels (mastodon, forum, bluesky, blog, email, reddit) with their own remote id shapes (in
time order where the platform's ids are: Mastodon's snowflakes, reddit's counter, forum and blog
post numbers; mail Message-IDs are random), titles and author handles; mostly English and French
with some German, Spanish, Italian, Portuguese and Dutch; authors drawn from a Zipf law, so a
few regulars write a lot and most people write once; a spam share (mostly marked spam, some
still waiting in the inbox); the brand's own replies in the threads; older conversations mostly
done, recent ones mostly open.

The text comes from phrase templates written for this file (no real people's posts, so a
generated store may back the demo): a complaint, a question or praise, a few details, links
to help pages and screenshots, accented words in French (café, réunion) for accent folding.

Everything goes through the store's public path, `SQLiteStore.ingest`, in poll-sized batches
in time order (parents before children), then `set_state` for the triage, so what the
benchmarks read is exactly what the product writes. The store's clock is fixed at `--end`:
the same seed gives the same rows. A manifest `<out>.json` records what was made (counts by
channel, language and state, thread sizes, the big thread's id) and how long ingest took.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecoinbox.demo.texts import (
    FIRST_NAMES,
    INSTANCES,
    LAST_NAMES,
    NAME_DECOR,
    TITLES,
    brand_text,
    customer_text,
    spam_text,
)
from ecoinbox.model import Author, Message, Origin, State
from ecoinbox.store import SQLiteStore

GENERATOR_VERSION = 2  # bump when the output for a seed changes: cached stores are rebuilt
DEFAULT_END = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)
BATCH = 200  # messages per ingest call: one poll batch
BIG_THREAD = 200  # one thread of exactly this many messages, for the thread benchmark
MAX_THREAD = 2000

# name -> share of conversations. Names are what the store's `channel` column holds.
CHANNELS: dict[str, float] = {
    "mastodon": 0.38, "bluesky": 0.16, "forum": 0.15, "email": 0.12, "reddit": 0.11, "blog": 0.08,
}  # fmt: skip
LANGUAGES: dict[str, float] = {
    "en": 0.55, "fr": 0.30, "de": 0.05, "es": 0.05, "it": 0.03, "pt": 0.01, "nl": 0.01,
}  # fmt: skip
SPAM_SHARE = 0.08
ZIPF_EXPONENT = 1.07
# The brand's own account on each channel: its posts are ours.
BRAND_HANDLES = {
    "mastodon": ("acme@social.example", "Acme"), "bluesky": ("acme.example", "Acme"),
    "forum": ("acme_team", "Acme Team"), "email": ("support@acme.example", "Acme Support"),
    "reddit": ("AcmeOfficial", "Acme"), "blog": ("acme", "Acme"),
}  # fmt: skip


# ---- text -------------------------------------------------------------------------------------


# ---- people -----------------------------------------------------------------------------------


class People:
    """Authors per channel: a Zipf law over a pool, so regulars come back and most write once."""

    def __init__(self, channel: str, pool: int) -> None:
        self.channel = channel
        self.pool = pool
        weights = [1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, pool + 1)]
        self._cumulative = list(itertools.accumulate(weights))
        self._made: dict[int, Author] = {}
        handle, name = BRAND_HANDLES[channel]
        self.brand = Author(channel, f"{channel}-brand", handle, name)

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect(self._cumulative, rng.random() * self._cumulative[-1])

    def author(self, number: int) -> Author:
        made = self._made.get(number)
        if made is None:
            made = self._made[number] = self._make(number)
        return made

    def _make(self, number: int) -> Author:
        # Derived from the number alone: the same author whatever order they are first met in.
        rng = random.Random(f"{self.channel}:{number}")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}".strip() + rng.choice(NAME_DECOR)
        slug = "".join(c for c in first.lower() if c.isascii() and c.isalnum()) or "user"
        slug = f"{slug}{rng.choice(('', '_', '.'))}{number}"
        handle = {
            "mastodon": f"{slug}@{rng.choice(INSTANCES)}", "bluesky": f"{slug}.bsky.social",
            "forum": slug, "email": f"{slug}@mail.example", "reddit": slug.replace(".", "_"), "blog": slug,
        }[self.channel]  # fmt: skip
        display = "" if self.channel == "reddit" else name
        return Author(self.channel, f"{self.channel}-u{number}", handle, display)


# ---- the plan ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """Every conversation's shape, decided up front; message content is drawn as it is emitted."""

    channel: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    spam: bytearray = field(default_factory=bytearray)
    size: array = field(default_factory=lambda: array("l"))
    author: array = field(default_factory=lambda: array("l"))
    state: list[State] = field(default_factory=list)
    first: array = field(default_factory=lambda: array("l"))  # offset of its first time in `times`
    times: array = field(default_factory=lambda: array("q"))  # ms, every message, by conversation
    # The store's id of each conversation: a new store numbers them in the order their roots
    # arrive (time order, not plan order), so `messages` notes it as it emits each root.
    store_id: array = field(default_factory=lambda: array("l"))
    rank: array = field(default_factory=lambda: array("l"))  # each message's place in time order
    big: int = -1  # the index of the BIG_THREAD conversation

    def __len__(self) -> int:
        return len(self.size)


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def thread_size(rng: random.Random, spam: bool) -> int:
    """Most threads are one or two posts, some go on for hundreds: mean about 10."""
    if spam:
        return 1 if rng.random() < 0.9 else rng.randrange(2, 4)
    if rng.random() < 0.38:
        return 1
    return min(MAX_THREAD, 1 + int(4.4 / (1.0 - rng.random()) ** (1 / 1.3)))


def _gaps(rng: random.Random, size: int) -> list[int]:
    """Milliseconds between a thread's messages: quick exchanges, then the odd day-long pause."""
    gaps = []
    for _ in range(size - 1):
        mean = 3600_000 if rng.random() < 0.8 else 36 * 3600_000
        gaps.append(1000 + int(rng.expovariate(1 / mean)))
    return gaps


def make_plan(messages: int, seed: int, end: datetime) -> Plan:
    rng = random.Random(f"plan:{seed}")
    plan = Plan()
    end_ms, span_ms = int(end.timestamp() * 1000), int(SPAN.total_seconds() * 1000)
    recent_ms = end_ms - 3 * 86_400_000
    total = 0
    big_at = messages // 2 if messages >= 4 * BIG_THREAD else -1
    while total < messages:
        spam = rng.random() < SPAM_SHARE
        size = thread_size(rng, spam)
        if big_at >= 0 and total >= big_at and plan.big < 0:
            size, spam = BIG_THREAD, False
            plan.big = len(plan)
        size = min(size, messages - total)
        gaps = _gaps(rng, size)
        duration = sum(gaps)
        if duration > span_ms // 2:  # hundreds of posts: a busy thread, its replies come faster
            gaps = [max(1000, gap * (span_ms // 2) // duration) for gap in gaps]
            duration = sum(gaps)
        # Busy hours: a start in the day's working hours more often than at night.
        start = end_ms - span_ms + int(rng.random() * max(1, span_ms - duration))
        if rng.random() < 0.6:
            day = start - start % 86_400_000
            start = day + int(rng.gauss(14.5, 3.0) % 24 * 3600_000)
        start = max(end_ms - span_ms, min(start, end_ms - duration - 1000))
        plan.first.append(len(plan.times))
        moment = start
        plan.times.append(moment)
        for gap in gaps:
            moment += gap
            plan.times.append(moment)
        last = moment
        plan.channel.append(_weighted(rng, CHANNELS))
        plan.language.append("en" if spam else _weighted(rng, LANGUAGES))
        plan.spam.append(spam)
        plan.size.append(size)
        plan.author.append(-1)  # drawn when its root is emitted
        plan.store_id.append(0)
        if spam:
            state = State.SPAM if rng.random() < 0.85 else State.OPEN
        elif last < recent_ms:
            state = State.DONE if rng.random() < 0.92 else State.OPEN
        else:
            state = State.DONE if rng.random() < 0.35 else State.OPEN
        plan.state.append(state)
        total += size
    return plan


# ---- the messages -------------------------------------------------------------------------------


def _remote_id(plan: Plan, channel: str, conversation: int, turn: int) -> str:
    """An id shaped like the platform's, growing with time where the platform's does (so a
    store's unique index grows at its end, as with real traffic): a Mastodon snowflake (the
    millisecond, then a sequence), a Bluesky TID after the author's DID, reddit's base-36-like
    counter, forum and blog post numbers. Mail Message-IDs are random, as they are."""
    position = plan.first[conversation] + turn
    at, rank = plan.times[position], plan.rank[position]
    number = conversation * 10_000 + turn
    return {
        "mastodon": str((at << 16) | (rank & 0xFFFF)),
        "bluesky": f"at://did:plc:acme{conversation:07d}/app.bsky.feed.post/3k{rank:012d}",
        "forum": f"post-{10_000_000 + rank}",
        "email": f"<{number:x}.{conversation % 97}@mail.example>",
        "reddit": f"t{3 if turn == 0 else 1}_{0x10000000 + rank:x}",
        "blog": f"comment-{10_000_000 + rank}",
    }[channel]


def _url(channel: str, conversation: int, remote_id: str, author: Author) -> str | None:
    if channel == "mastodon":
        return f"https://{author.handle.split('@')[-1]}/@{author.handle.split('@')[0]}/{remote_id}"
    if channel == "forum":
        return f"https://forum.acme.example/t/{conversation}/{remote_id.removeprefix('post-')}"
    if channel == "reddit":
        return f"https://reddit.example/r/acme/comments/{remote_id}"
    if channel == "blog":
        return f"https://acme.example/blog/{conversation % 400}#{remote_id}"
    return None  # bluesky and mail: the client links nothing here


@dataclass(slots=True)
class _Live:
    """What an emitted conversation remembers until its last message."""

    others: list[int]
    last_ours: bool = False
    title: str = ""


def messages(plan: Plan, seed: int) -> Iterator[Message]:
    """Every message of the plan, in time order (a parent always before its replies)."""
    rng = random.Random(f"text:{seed}")
    people = {channel: People(channel, _pool(plan, channel)) for channel in CHANNELS}
    owner = array("l", [0]) * len(plan.times)
    for conversation, (first, size) in enumerate(zip(plan.first, plan.size, strict=True)):
        for turn in range(size):
            owner[first + turn] = conversation
    order = sorted(range(len(plan.times)), key=plan.times.__getitem__)
    plan.rank = array("l", [0]) * len(plan.times)
    for rank, position in enumerate(order):
        plan.rank[position] = rank
    live: dict[int, _Live] = {}
    roots = 0
    for position in order:
        conversation = owner[position]
        turn = position - plan.first[conversation]
        if turn == 0:
            roots += 1
            plan.store_id[conversation] = roots
        yield _message(plan, conversation, turn, rng, people, live)
    assert not live, "every conversation ended"


def _pool(plan: Plan, channel: str) -> int:
    """How many people may write on a channel: as many as it has conversations (Zipf draws
    leave most of them silent and bring a few back again and again)."""
    count = sum(1 for c in plan.channel if c == channel)
    return max(20, count)


def _message(
    plan: Plan,
    conversation: int,
    turn: int,
    rng: random.Random,
    people: dict[str, People],
    live: dict[int, _Live],
) -> Message:
    channel, language = plan.channel[conversation], plan.language[conversation]
    crowd = people[channel]
    size, spam, last = plan.size[conversation], plan.spam[conversation], turn == plan.size[conversation] - 1
    at = datetime.fromtimestamp(plan.times[plan.first[conversation] + turn] / 1000, UTC)
    remote_id = _remote_id(plan, channel, conversation, turn)
    if turn == 0:
        root = crowd.draw(rng)
        plan.author[conversation] = root
        joiners = [crowd.draw(rng) for _ in range(rng.choice((0, 0, 1, 2, 3)) if size > 2 else 0)]
        state = live[conversation] = _Live(joiners)
    else:
        state = live[conversation]
    root = crowd.author(plan.author[conversation])
    # Who speaks: the brand answers the person, the person comes back, others join in.
    done = plan.state[conversation] is State.DONE
    if turn == 0:
        author, ours = root, False
    elif spam:
        author, ours = crowd.author(crowd.draw(rng)), False
    elif (last and done and rng.random() < 0.7) or (not state.last_ours and rng.random() < 0.42):
        author, ours = crowd.brand, True
    elif state.others and rng.random() < 0.3:
        author, ours = crowd.author(rng.choice(state.others)), False
    else:
        author, ours = root, False
    state.last_ours = ours
    name = root.display_name.split(" ")[0] if root.display_name else root.handle
    long = channel in ("email", "blog") or (channel == "forum" and turn == 0)
    if spam:
        text, links = spam_text(rng)
    elif ours:
        text, links = brand_text(rng, language, name)
    else:
        text, links = customer_text(rng, language, name, long)
    parent = None
    if turn > 0:
        pick = rng.random()
        back = 1 if pick < 0.7 else (turn if pick < 0.85 else rng.randrange(1, turn + 1))
        parent = _remote_id(plan, channel, conversation, turn - back)
    title = ""
    if turn == 0 and channel in ("forum", "email", "reddit", "blog"):
        titles = TITLES.get(language, TITLES["en"])
        state.title = title = rng.choice(titles) if not spam else text[:40]
    elif channel == "email":
        title = f"Re: {state.title}"
    if turn == 0:
        origin = Origin.MENTION
        if channel in ("mastodon", "bluesky") and rng.random() < 0.25:
            origin = Origin.HASHTAG if rng.random() < 0.5 else Origin.SEARCH
    else:
        origin = Origin.OURS if ours else (Origin.MENTION if author is root else Origin.CONTEXT)
    if last:
        del live[conversation]
    return Message(
        channel=channel,
        remote_id=remote_id,
        author=author,
        text=text,
        created_at=at,
        in_reply_to=parent,
        url=_url(channel, conversation, remote_id, author),
        visibility="public" if channel in ("mastodon", "bluesky") else None,
        language=language if rng.random() < 0.95 else None,
        origin=origin,
        links=tuple(links),
        title=title,
        thread_ref=f"topic-{conversation}" if channel == "forum" else None,
    )


# ---- writing the store ------------------------------------------------------------------------


@dataclass(slots=True)
class Made:
    """What `generate` wrote, for the manifest and the benchmark."""

    path: str
    seed: int
    messages: int
    conversations: int
    end: str
    generator_version: int = GENERATOR_VERSION
    channels: dict[str, int] = field(default_factory=dict)  # messages per channel
    languages: dict[str, int] = field(default_factory=dict)  # conversations per language
    states: dict[str, int] = field(default_factory=dict)  # conversations per state
    spam_conversations: int = 0
    ours: int = 0  # messages the brand wrote
    authors: int = 0  # different people who wrote
    largest_thread: int = 0
    threads_over_200: int = 0
    single_message: int = 0
    big_thread_id: int | None = None  # the conversation id of the BIG_THREAD-message thread
    ingest_seconds: float = 0.0  # inside SQLiteStore.ingest only
    triage_seconds: float = 0.0  # inside SQLiteStore.set_state only
    total_seconds: float = 0.0
    batch: int = BATCH

    @property
    def ingest_rate(self) -> float:
        return self.messages / self.ingest_seconds if self.ingest_seconds else 0.0


def batches(stream: Iterator[Message], size: int) -> Iterator[list[Message]]:
    while batch := list(itertools.islice(stream, size)):
        yield batch


async def generate(
    path: Path,
    messages_wanted: int,
    seed: int,
    *,
    end: datetime = DEFAULT_END,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> Made:
    """Write a new store at `path` (it must not exist) and its manifest beside it; `progress`
    hears (messages written, messages in all) after each batch."""
    started = time.perf_counter()
    if path.exists():
        raise SystemExit(f"{path} exists: generate writes a new store only")
    plan = make_plan(messages_wanted, seed, end)
    made = Made(str(path), seed, len(plan.times), len(plan), end.isoformat(), batch=batch)
    store = await SQLiteStore(path, clock=lambda: end).open()
    authors: set[tuple[str, str]] = set()
    channels: Counter[str] = Counter()
    ingest = 0.0
    try:
        for chunk in batches(messages(plan, seed), batch):
            for message in chunk:
                authors.add((message.channel, message.author.remote_id))
                channels[message.channel] += 1
                made.ours += message.is_ours
            before = time.perf_counter()
            result = await store.ingest(chunk)
            ingest += time.perf_counter() - before
            assert result.new == len(chunk), "a generated message was taken for one already stored"
            if progress is not None:
                progress(channels.total(), made.messages)
        if plan.big >= 0:
            row = await store.conversation_row(plan.store_id[plan.big])
            assert row is not None and row.message_count == BIG_THREAD, "conversation ids follow roots"
        triage = time.perf_counter()
        for state in (State.DONE, State.SPAM):
            ids = sorted(plan.store_id[n] for n, wanted in enumerate(plan.state) if wanted is state)
            for start in range(0, len(ids), 1000):
                await store.set_state(ids[start : start + 1000], state, actor="generator")
        made.triage_seconds = time.perf_counter() - triage
    finally:
        await store.close()
    made.ingest_seconds = ingest
    made.channels = dict(sorted(channels.items()))
    made.languages = dict(sorted(Counter(plan.language).items()))
    made.states = dict(sorted(Counter(s.value for s in plan.state).items()))
    made.spam_conversations = sum(plan.spam)
    made.authors = len(authors)
    made.largest_thread = max(plan.size)
    made.threads_over_200 = sum(1 for s in plan.size if s >= 200)
    made.single_message = sum(1 for s in plan.size if s == 1)
    made.big_thread_id = plan.store_id[plan.big] if plan.big >= 0 else None
    made.total_seconds = time.perf_counter() - started
    manifest(path).write_text(json.dumps(asdict(made), indent=2) + "\n", encoding="utf-8")
    return made


def manifest(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, required=True, help="how many messages (e.g. 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same store (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="the new store's path (must not exist)")
    parser.add_argument(
        "--end",
        default=DEFAULT_END.isoformat(),
        help="the newest message's day, ISO 8601, or 'now' (default %(default)s)",
    )
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="messages per ingest call (default %(default)s)")  # fmt: skip
    args = parser.parse_args(argv)
    end = datetime.now(UTC) if args.end == "now" else datetime.fromisoformat(args.end)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    made = asyncio.run(generate(args.out, args.messages, args.seed, end=end, batch=args.batch))
    print(
        f"{made.path}: {made.messages:,} messages in {made.conversations:,} conversations, "
        f"{made.authors:,} authors; ingest {made.ingest_seconds:.1f} s ({made.ingest_rate:,.0f} msg/s), "
        f"triage {made.triage_seconds:.1f} s, total {made.total_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
