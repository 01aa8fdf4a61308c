"""Replay real customer-care conversations to measure link suggestion (`ecoinbox.replies.LinkRanker`).

Data: ../shared/data/cdp (see its README.md): Twitter conversations of 25 brands, each ending with
the help link the brand's agent sent. Only the dev split is there; its test split is kept away on
purpose, and everything here (weights, ties) was chosen by cross-validation on dev.

For a brand, the history is the training conversations of that brand (a `LinkUse` each: what the
client said and the link sent), the candidates are the brand's whole link library (one
canned-reply-like candidate per address, whose only text is its URL path), and each scored
conversation is ranked from its `dialogContent` client turns alone. Three rankings:
- ranker: `LinkRanker` with the weights it ships with;
- most_frequent: the brand's links by how often the history sent them;
- text_only: the conversation's words against the candidates' own words, no history.
Equal scores go to the link sent more often in the history, then alphabetically: never to the
library file's order, which follows how often links were used in the whole dataset, test included.

    python bench/link_suggestion.py                            # 5-fold CV on dev, per brand
    python bench/link_suggestion.py --train A.json --test B.json [--json]
    python bench/link_suggestion.py --nested                   # + weights chosen inside each fold
    python bench/link_suggestion.py --choose                   # the weights CV on dev picks

`--data DIR` says where company_docIDs.tsv and docID_url.tsv are (default ../shared/data/cdp).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.replies import CannedReply, LinkRanker, LinkUse, RankWeights, link_words

FOLDS = 5
METHODS = ("ranker", "most_frequent", "text_only")
TEXT_ONLY = RankWeights(neighbours=0.0, profile=0.0, usage=0.0, language=0.0)
_ARCHIVE_RE = re.compile(r"^https?://web\.archive\.org/web/\d+[a-z_]*/", re.IGNORECASE)

# The grid the shipped weights were chosen from (5-fold CV on dev, `--choose`), and that `--nested`
# chooses from inside each outer fold.
GRID = [
    RankWeights(text=t, neighbours=n, profile=p, usage=u)
    for t, n, p, u in itertools.product(
        (0.5, 1.0), (0.0, 0.5, 1.0, 2.0), (0.0, 0.5, 1.0), (0.2, 0.5, 1.0, 2.0)
    )
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
    count: int = 0

    def add(self, position: int | None) -> None:
        self.count += 1
        if position is not None:
            self.hits1 += position == 1
            self.hits3 += position <= 3

    def merge(self, other: Score) -> None:
        self.hits1 += other.hits1
        self.hits3 += other.hits3
        self.count += other.count

    @property
    def hit1(self) -> float:
        return self.hits1 / self.count if self.count else 0.0

    @property
    def hit3(self) -> float:
        return self.hits3 / self.count if self.count else 0.0

    def as_json(self) -> dict[str, float]:
        return {"hit@1": round(self.hit1, 4), "hit@3": round(self.hit3, 4)}


Scores = dict[str, dict[str, Score]]  # brand -> method -> score


def original_url(url: str) -> str:
    return _ARCHIVE_RE.sub("", url.strip())


def load_library(data: Path) -> tuple[dict[int, str], dict[str, list[CannedReply]]]:
    """Addresses by doc id, and each brand's candidates (one per address, in the file's order)."""
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
                candidates.setdefault(
                    url, CannedReply(name=url, title="", text=link_words(url), link=url, redirect=True)
                )
            libraries[brand] = list(candidates.values())  # the file's order: ties must not follow it
    return urls, libraries


def load_conversations(path: Path, urls: dict[int, str]) -> list[Conversation]:
    conversations = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        turns = item["dialogContent"]
        conversations.append(
            Conversation(
                brand=item["dialogHeader"]["company"],
                session=item["dialogHeader"]["sessionID"],
                text=" ".join(turn["message"] for turn in turns if "client" in turn),
                at=max(datetime.fromisoformat(turn["datetime"]) for turn in turns),
                link=urls[int(item["agentURL"]["doc_id"])],
            )
        )
    return conversations


def by_brand(conversations: Sequence[Conversation]) -> dict[str, list[Conversation]]:
    grouped: dict[str, list[Conversation]] = defaultdict(list)
    for conversation in conversations:
        grouped[conversation.brand].append(conversation)
    return dict(sorted(grouped.items()))


def position(order: Sequence[CannedReply], link: str) -> int | None:
    return next((index for index, reply in enumerate(order, start=1) if reply.link == link), None)


def evaluate(
    train: Sequence[Conversation],
    test: Sequence[Conversation],
    libraries: dict[str, list[CannedReply]],
    weights: RankWeights | None = None,
) -> Scores:
    """Each brand of `test` ranked with `train`'s conversations of that brand as its history."""
    return evaluate_many(train, test, libraries, [weights or RankWeights()])[0]


def evaluate_many(
    train: Sequence[Conversation],
    test: Sequence[Conversation],
    libraries: dict[str, list[CannedReply]],
    grid: Sequence[RankWeights],
) -> list[Scores]:
    """`evaluate` for each mix of `grid` at once: the signals are computed once per conversation
    (`k` and `half_life_days` are the first mix's)."""
    history = by_brand(train)
    out: list[Scores] = [{} for _ in grid]
    for brand, conversations in by_brand(test).items():
        if brand not in libraries:
            continue
        past = history.get(brand, [])
        ranker = LinkRanker(libraries[brand], [LinkUse(c.text, c.link, c.at) for c in past], weights=grid[0])
        counts = Counter(c.link for c in past)
        replies = ranker.replies
        frequent = sorted(replies, key=lambda r: (-counts[r.link or ""], r.link or "", r.name))
        for conversation in conversations:
            parts = ranker.parts(conversation.text, None, now=conversation.at)
            text = position([replies[i] for i in ranker.order(parts, TEXT_ONLY)], conversation.link)
            baseline = position(frequent, conversation.link)
            for scores, weights in zip(out, grid, strict=True):
                found = position([replies[i] for i in ranker.order(parts, weights)], conversation.link)
                brand_scores = scores.setdefault(brand, {method: Score() for method in METHODS})
                brand_scores["ranker"].add(found)
                brand_scores["most_frequent"].add(baseline)
                brand_scores["text_only"].add(text)
    return out


def folds(items: Sequence[Conversation], k: int = FOLDS) -> list[list[Conversation]]:
    """Deterministic folds by conversation: sorted by session id (random strings), dealt round-robin."""
    ordered = sorted(items, key=lambda c: c.session)
    return [ordered[i::k] for i in range(k)]


def split_folds(conversations: Sequence[Conversation], k: int = FOLDS) -> list[list[Conversation]]:
    """k folds with each brand's conversations spread evenly over them."""
    out: list[list[Conversation]] = [[] for _ in range(k)]
    for items in by_brand(conversations).values():
        for index, fold in enumerate(folds(items, k)):
            out[index].extend(fold)
    return out


def merge(total: Scores, part: Scores) -> None:
    for brand, methods in part.items():
        into = total.setdefault(brand, {method: Score() for method in METHODS})
        for method, score in methods.items():
            into[method].merge(score)


def cross_validate(
    conversations: Sequence[Conversation],
    libraries: dict[str, list[CannedReply]],
    weights: RankWeights | None = None,
    k: int = FOLDS,
    *,
    nested: bool = False,
) -> tuple[Scores, list[RankWeights]]:
    """k-fold by conversation: each fold scored with the other folds as history. With `nested`,
    the ranker's weights for a fold are chosen by an inner k-fold CV on the other folds alone."""
    parts = split_folds(conversations, k)
    total: Scores = {}
    chosen: list[RankWeights] = []
    for index, held_out in enumerate(parts):
        train = [c for j, fold in enumerate(parts) if j != index for c in fold]
        fold_weights = weights
        if nested:
            fold_weights = choose_weights(train, libraries, k)
            chosen.append(fold_weights)
        merge(total, evaluate(train, held_out, libraries, fold_weights))
    return total, chosen


def cross_validate_grid(
    conversations: Sequence[Conversation],
    libraries: dict[str, list[CannedReply]],
    grid: Sequence[RankWeights],
    k: int = FOLDS,
) -> list[Scores]:
    """`cross_validate` for every mix of `grid`, each conversation's signals computed once."""
    parts = split_folds(conversations, k)
    totals: list[Scores] = [{} for _ in grid]
    for index, held_out in enumerate(parts):
        train = [c for j, fold in enumerate(parts) if j != index for c in fold]
        for total, scores in zip(totals, evaluate_many(train, held_out, libraries, grid), strict=True):
            merge(total, scores)
    return totals


def merit(scores: Scores) -> tuple[int, int, int]:
    """How a mix is chosen: hits at 1 less what brands lose against their most frequent link,
    then hits at 1, then at 3."""
    total = overall(scores)["ranker"]
    lost = sum(max(0, m["most_frequent"].hits1 - m["ranker"].hits1) for m in scores.values())
    return total.hits1 - lost, total.hits1, total.hits3


def choose_weights(
    conversations: Sequence[Conversation], libraries: dict[str, list[CannedReply]], k: int = FOLDS
) -> RankWeights:
    """The grid point with the best `merit` over a k-fold CV of `conversations`."""
    results = cross_validate_grid(conversations, libraries, GRID, k)
    best = max(range(len(GRID)), key=lambda g: (merit(results[g]), -g))
    return GRID[best]


def overall(scores: Scores) -> dict[str, Score]:
    total = {method: Score() for method in METHODS}
    for methods in scores.values():
        for method, score in methods.items():
            total[method].merge(score)
    return total


def print_table(scores: Scores, history: dict[str, int]) -> None:
    total = overall(scores)
    print("| ranking | hit@1 | hit@3 |")
    print("|---|---:|---:|")
    for method in METHODS:
        print(f"| {method} | {total[method].hit1:.3f} | {total[method].hit3:.3f} |")
    print()
    print("| brand | conversations | history | ranker hit@1 | most frequent hit@1 | text only hit@1 "
          "| ranker hit@3 | most frequent hit@3 |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for brand, methods in scores.items():
        ranker, frequent, text = methods["ranker"], methods["most_frequent"], methods["text_only"]
        print(
            f"| {brand} | {ranker.count} | {history.get(brand, 0)} | {ranker.hit1:.3f} | {frequent.hit1:.3f} "
            f"| {text.hit1:.3f} | {ranker.hit3:.3f} | {frequent.hit3:.3f} |"
        )
    behind = [
        b for b, m in scores.items() if history.get(b, 0) and m["ranker"].hits1 < m["most_frequent"].hits1
    ]
    print(
        f"\nBrands with history where the ranker's hit@1 is below the most frequent link: {behind or 'none'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cdp")
    parser.add_argument(
        "--train", type=Path, help="the conversations that make the history (dev.json's format)"
    )
    parser.add_argument("--test", type=Path, help="the conversations to rank (dev.json's format)")
    parser.add_argument("--json", action="store_true", help="print only the overall hit@1 and hit@3 as JSON")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--nested", action="store_true", help="also choose the weights inside each fold")
    parser.add_argument("--choose", action="store_true", help="print the weights a 5-fold CV on dev chooses")
    args = parser.parse_args(argv)
    if (args.train is None) != (args.test is None):
        parser.error("--train and --test go together")

    urls, libraries = load_library(args.data)
    chosen: list[RankWeights] = []
    if args.train is not None:
        train = load_conversations(args.train, urls)
        scores = evaluate(train, load_conversations(args.test, urls), libraries)
        history = {brand: len(items) for brand, items in by_brand(train).items()}
        described = f"trained on {args.train} ({len(train)} conversations), scored on {args.test}"
    else:
        conversations = load_conversations(args.data / "dev.json", urls)
        scores, _ = cross_validate(conversations, libraries, k=args.folds)
        # The history a brand's conversation is ranked with: its other folds.
        history = {
            brand: len(items) * (args.folds - 1) // args.folds
            for brand, items in by_brand(conversations).items()
        }
        described = f"{len(conversations)} conversations of dev.json, {args.folds}-fold by conversation within each brand"
        if args.nested:
            nested, chosen = cross_validate(conversations, libraries, k=args.folds, nested=True)
        if args.choose:
            best = choose_weights(conversations, libraries, args.folds)
            print(f"chosen: text={best.text:g}, neighbours={best.neighbours:g}, profile={best.profile:g}, "
                  f"usage={best.usage:g} (shipped: {RankWeights()})")  # fmt: skip
    if args.json:
        print(json.dumps({method: score.as_json() for method, score in overall(scores).items()}))
        return 0
    print(described + "\n")
    print_table(scores, history)
    if chosen:
        total = overall(nested)["ranker"]
        weights = ", ".join(
            f"(t={w.text:g}, n={w.neighbours:g}, p={w.profile:g}, u={w.usage:g})" for w in chosen
        )
        print(
            f"\nNested CV (weights chosen inside each fold): hit@1 {total.hit1:.3f}, hit@3 {total.hit3:.3f}"
        )
        print(f"Weights chosen per fold (text, neighbours, profile, usage): {weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
