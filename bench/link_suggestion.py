"""Replay real customer-care conversations to measure link suggestion (`ecoinbox.replies.LinkRanker`).

Data: ../shared/data/cdp (see its README.md): 525 Twitter conversations of 25 brands, each ending
with the help link the brand's agent sent. For each brand, 5-fold cross-validation over its
conversations: the other folds are the history (a `LinkUse` per conversation: its client text and
the link sent), the candidates are the brand's whole link library (one canned-reply-like
candidate per document, whose only text is its URL path), and each held-out conversation is
ranked from its `dialogContent` client turns alone.

Rows:
- LinkRanker, fixed weights: `RankWeights()` as shipped (set before this benchmark was first run).
- LinkRanker, nested CV: the mixing weights chosen, for each outer fold, by an inner 5-fold
  cross-validation on that fold's training conversations only (best inner MRR over a small grid).
- Most frequent link: the brand's links by how often the history used them.
- Text only: similarity of the conversation to the candidates' own words, no history.

Run from the repository root: `python bench/link_suggestion.py [--data PATH]`.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.replies import CannedReply, LinkRanker, LinkUse, RankWeights, ScoreParts, link_words

FOLDS = 5
_ARCHIVE_RE = re.compile(r"^https?://web\.archive\.org/web/\d+[a-z_]*/", re.IGNORECASE)

# The grid the nested cross-validation chooses from (text similarity keeps weight 1).
GRID = [
    RankWeights(neighbours=n, profile=p, usage=u)
    for n, p, u in itertools.product((0.0, 0.5, 1.0, 2.0), (0.0, 0.5, 1.0), (0.0, 0.1, 0.2, 0.5, 1.0))
]


@dataclass(frozen=True, slots=True)
class Conversation:
    brand: str
    session: str
    text: str  # what the client said, turn after turn
    at: datetime
    link: str  # the URL the agent sent (archive prefix removed)


@dataclass(slots=True)
class Score:
    hits1: int = 0
    hits3: int = 0
    reciprocal: float = 0.0
    count: int = 0

    def add(self, position: int | None) -> None:
        self.count += 1
        if position is None:
            return
        self.hits1 += position == 1
        self.hits3 += position <= 3
        self.reciprocal += 1.0 / position

    def row(self) -> tuple[float, float, float]:
        n = max(self.count, 1)
        return self.hits1 / n, self.hits3 / n, self.reciprocal / n


def original_url(url: str) -> str:
    return _ARCHIVE_RE.sub("", url.strip())


def load(data: Path) -> tuple[list[Conversation], dict[str, list[CannedReply]]]:
    urls: dict[int, str] = {}
    with (data / "docID_url.tsv").open(encoding="utf-8") as handle:
        for doc_id, url in csv.reader(handle, delimiter="\t"):
            urls[int(doc_id)] = original_url(url)
    libraries: dict[str, list[CannedReply]] = {}
    with (data / "company_docIDs.tsv").open(encoding="utf-8") as handle:
        for brand, ids in csv.reader(handle, delimiter="\t"):
            candidates: dict[str, CannedReply] = {}  # one per URL: two ids may share one
            for number in (int(i) for i in ids.split(",")):
                url = urls[number]
                if url not in candidates:
                    candidates[url] = CannedReply(
                        name=f"doc-{number}", title="", text=link_words(url), link=url, redirect=True
                    )
            libraries[brand] = list(candidates.values())
    conversations = []
    for item in json.loads((data / "dev.json").read_text(encoding="utf-8")):
        turns = item["dialogContent"]
        said = " ".join(turn["message"] for turn in turns if "client" in turn)
        moment = max(datetime.fromisoformat(turn["datetime"]) for turn in turns)
        conversations.append(
            Conversation(
                brand=item["dialogHeader"]["company"],
                session=item["dialogHeader"]["sessionID"],
                text=said,
                at=moment,
                link=urls[int(item["agentURL"]["doc_id"])],
            )
        )
    return conversations, libraries


def folds(items: Sequence[Conversation], k: int = FOLDS) -> list[list[Conversation]]:
    """Deterministic folds: sorted by session id (random strings), dealt round-robin."""
    ordered = sorted(items, key=lambda c: c.session)
    return [ordered[i::k] for i in range(k)]


def position(order: Sequence[CannedReply], link: str) -> int | None:
    for index, reply in enumerate(order, start=1):
        if reply.link == link:
            return index
    return None


def ranked(
    replies: Sequence[CannedReply], parts: Sequence[ScoreParts], weights: RankWeights
) -> list[CannedReply]:
    """The same order `LinkRanker.rank` gives (ties keep the library order)."""
    order = sorted(range(len(parts)), key=lambda i: (-round(weights.combine(parts[i]), 12), i))
    return [replies[i] for i in order]


def history(conversations: Sequence[Conversation]) -> list[LinkUse]:
    return [LinkUse(c.text, c.link, c.at) for c in conversations]


def choose_weights(
    training: dict[str, list[Conversation]], libraries: dict[str, list[CannedReply]]
) -> RankWeights:
    """Nested CV: the grid point with the best MRR over inner folds of `training` alone."""
    totals = [0.0] * len(GRID)
    for brand, conversations in training.items():
        if len(conversations) < 2:
            continue
        inner = folds(conversations, min(FOLDS, len(conversations)))
        for index, held_out in enumerate(inner):
            rest = [c for j, fold in enumerate(inner) if j != index for c in fold]
            ranker = LinkRanker(libraries[brand], history(rest))
            for conversation in held_out:
                parts = ranker.parts(conversation.text, None, now=conversation.at)
                for g, weights in enumerate(GRID):
                    found = position(ranked(ranker.replies, parts, weights), conversation.link)
                    totals[g] += 1.0 / found if found else 0.0
    best = max(range(len(GRID)), key=lambda g: (totals[g], -g))
    return GRID[best]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cdp")
    parser.add_argument("--no-nested", action="store_true", help="skip the nested cross-validation row")
    args = parser.parse_args(argv)

    conversations, libraries = load(args.data)
    by_brand: dict[str, list[Conversation]] = defaultdict(list)
    for conversation in conversations:
        by_brand[conversation.brand].append(conversation)
    brand_folds = {brand: folds(items) for brand, items in sorted(by_brand.items())}

    fixed, nested, frequent, text_only = Score(), Score(), Score(), Score()
    paired: Counter[tuple[str, bool, bool]] = Counter()  # (cut-off, ranker hit, baseline hit)
    timings: list[float] = []
    chosen: list[RankWeights] = []
    history_sizes: list[int] = []
    candidate_counts: list[int] = []
    text_weights = RankWeights(neighbours=0.0, profile=0.0, usage=0.0, language=0.0)
    for outer in range(FOLDS):
        weights = None
        if not args.no_nested:
            training = {
                brand: [c for j, fold in enumerate(parts) if j != outer for c in fold]
                for brand, parts in brand_folds.items()
            }
            weights = choose_weights(training, libraries)
            chosen.append(weights)
        for brand, parts in brand_folds.items():
            held_out = parts[outer]
            if not held_out:
                continue
            rest = [c for j, fold in enumerate(parts) if j != outer for c in fold]
            ranker = LinkRanker(libraries[brand], history(rest))
            library = ranker.replies
            counts = Counter(c.link for c in rest)
            by_frequency = sorted(library, key=lambda r: -counts[r.link or ""])  # stable: library order
            for conversation in held_out:
                history_sizes.append(len(rest))
                candidate_counts.append(len(library))
                started = time.perf_counter()
                suggestions = ranker.rank(conversation.text, None, now=conversation.at)
                timings.append(time.perf_counter() - started)
                found = position([s.reply for s in suggestions], conversation.link)
                fixed.add(found)
                scores = ranker.parts(conversation.text, None, now=conversation.at)
                if weights is not None:
                    nested.add(position(ranked(library, scores, weights), conversation.link))
                text_only.add(position(ranked(library, scores, text_weights), conversation.link))
                baseline = position(by_frequency, conversation.link)
                frequent.add(baseline)
                for cut in (1, 3):
                    paired[
                        (f"hit@{cut}", bool(found and found <= cut), bool(baseline and baseline <= cut))
                    ] += 1

    rows = [("LinkRanker, fixed weights", fixed)]
    if not args.no_nested:
        rows.append(("LinkRanker, nested-CV weights", nested))
    rows += [("Most frequent link (baseline)", frequent), ("Text only (baseline)", text_only)]
    print(
        f"{len(conversations)} conversations, {len(by_brand)} brands, {FOLDS}-fold per brand; "
        f"candidates per ranking: mean {statistics.mean(candidate_counts):.0f}, max {max(candidate_counts)}; "
        f"history per ranking: mean {statistics.mean(history_sizes):.0f}, max {max(history_sizes)}"
    )
    print()
    print("| ranking | hit@1 | hit@3 | MRR |")
    print("|---|---:|---:|---:|")
    for name, score in rows:
        hit1, hit3, mrr = score.row()
        print(f"| {name} | {hit1:.3f} | {hit3:.3f} | {mrr:.3f} |")
    print()
    timings.sort()
    print(
        f"LinkRanker.rank: {len(timings)} rankings, mean {statistics.mean(timings) * 1000:.2f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))] * 1000:.2f} ms"
    )
    print(
        "Fixed-weight LinkRanker vs most frequent link, conversation by conversation: "
        + "; ".join(
            f"{cut}: {paired[(cut, True, False)]} only the ranker gets, {paired[(cut, False, True)]} only "
            "the baseline"
            for cut in ("hit@1", "hit@3")
        )
    )
    if chosen:
        described = ", ".join(f"(n={w.neighbours:g}, p={w.profile:g}, u={w.usage:g})" for w in chosen)
        print(f"Nested-CV weights per outer fold (neighbours, profile, usage): {described}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
