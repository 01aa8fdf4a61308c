"""Spam and priority on the held-out labelled examples: precision, recall, F1, learning, speed.

Data: tests/data/triage (see its README.md): hand-written blog comments and social mentions in
English and French, split into train and test by a fixed rule on the id before any code existed.
Everything was tuned on train; this prints the test split unless `--split train`.

Rows:
- spam, signals only: `SpamFilter` with no marks (what a fresh install does).
- spam, + N marks: the same after the manager marked N train messages. Two ways to pick them:
  "random" (N train messages in a fixed shuffled order, each marked with its label) and
  "corrections" (going through train in that order, marking only what the filter got wrong,
  until N marks: what a manager fixing mistakes does).
- spam, + all train marks: every train message marked.
- priority: `score_priority` (no learning).

Run from the repository root: `python bench/triage.py [--split test|train] [--marks 20] [--errors]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.model import Author, Message
from ecoinbox.triage.priority import score_priority
from ecoinbox.triage.spam import SpamFilter

DATA = ROOT / "tests" / "data" / "triage"
BRAND = ("velora",)
OWN_DOMAINS = ("velora.example",)
_AT = datetime(2025, 3, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SpamExample:
    id: str
    is_spam: bool
    message: Message
    post: str | None
    repeats: int
    note: str


@dataclass(frozen=True, slots=True)
class PriorityExample:
    id: str
    urgent: bool
    text: str
    note: str


def load_spam(split: str) -> list[SpamExample]:
    out = []
    for line in (DATA / f"spam.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        who = record["author"]
        author = Author(record["channel"], who["handle"], who["handle"], who["name"], who["url"])
        message = Message(record["channel"], record["id"], author, record["text"], _AT)
        post = record["post"]
        out.append(
            SpamExample(
                record["id"],
                record["label"] == "spam",
                message,
                f"{post['title']}\n{post['text']}" if post else None,
                record["repeats"],
                record.get("note", ""),
            )
        )
    return out


def load_priority(split: str) -> list[PriorityExample]:
    out = []
    for line in (DATA / f"priority.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        out.append(
            PriorityExample(record["id"], record["label"] == "high", record["text"], record.get("note", ""))
        )
    return out


def new_filter() -> SpamFilter:
    return SpamFilter(brand_names=BRAND, own_domains=OWN_DOMAINS)


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, truth: list[bool], predicted: list[bool]) -> Scores:
        pairs = list(zip(truth, predicted, strict=True))
        return cls(
            sum(t and p for t, p in pairs),
            sum(p and not t for t, p in pairs),
            sum(t and not p for t, p in pairs),
            sum(not t and not p for t, p in pairs),
        )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self, name: str) -> str:
        return (
            f"| {name} | {self.precision:.3f} | {self.recall:.3f} | {self.f1:.3f} "
            f"| {self.tp} | {self.fp} | {self.fn} |"
        )


def spam_scores(spam_filter: SpamFilter, examples: list[SpamExample]) -> Scores:
    predicted = [spam_filter.check(e.message, post=e.post, repeats=e.repeats).is_spam for e in examples]
    return Scores.of([e.is_spam for e in examples], predicted)


def marked(train: list[SpamExample], count: int, *, corrections: bool, seed: int = 7) -> SpamFilter:
    """A filter after the manager marked `count` train messages (see the module docstring)."""
    order = list(train)
    random.Random(seed).shuffle(order)
    spam_filter = new_filter()
    marks = 0
    for example in order:
        if marks >= count:
            break
        if corrections:
            verdict = spam_filter.check(example.message, post=example.post, repeats=example.repeats)
            if verdict.is_spam == example.is_spam:
                continue
        spam_filter.learn(example.message, example.is_spam, post=example.post, repeats=example.repeats)
        marks += 1
    return spam_filter


def priority_scores(examples: list[PriorityExample]) -> Scores:
    return Scores.of([e.urgent for e in examples], [score_priority(e.text).urgent for e in examples])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--marks", type=int, default=20)
    parser.add_argument("--errors", action="store_true", help="list the misclassified examples")
    args = parser.parse_args()

    train = load_spam("train")
    examples = train if args.split == "train" else load_spam("test")
    priorities = load_priority(args.split)
    spam_count = sum(e.is_spam for e in examples)
    urgent_count = sum(e.urgent for e in priorities)
    print(
        f"split: {args.split}; spam: {len(examples)} messages ({spam_count} spam); "
        f"priority: {len(priorities)} messages ({urgent_count} high)\n"
    )
    print("| model | precision | recall | F1 | TP | FP | FN |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    fresh = new_filter()
    print(spam_scores(fresh, examples).row("spam, signals only"))
    if args.split == "test":
        random_marks = marked(train, args.marks, corrections=False)
        print(spam_scores(random_marks, examples).row(f"spam, + {args.marks} random train marks"))
        corrected = marked(train, args.marks, corrections=True)
        print(spam_scores(corrected, examples).row(f"spam, + {len(corrected.marks)} train corrections"))
        everything = marked(train, len(train), corrections=False)
        print(spam_scores(everything, examples).row(f"spam, + all {len(train)} train marks"))
    print(priority_scores(priorities).row("priority (high)"))

    print()
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        sweep = SpamFilter(threshold=threshold, brand_names=BRAND, own_domains=OWN_DOMAINS)
        scores = spam_scores(sweep, examples)
        print(
            f"    signals only at threshold {threshold:.2f}: precision {scores.precision:.3f}, "
            f"recall {scores.recall:.3f}, FP {scores.fp}"
        )

    timing = marked(train, len(train), corrections=False)
    messages = [(e.message, e.post, e.repeats) for e in examples] * 20
    start = time.perf_counter()
    for message, post, repeats in messages:
        timing.check(message, post=post, repeats=repeats)
    spam_ms = (time.perf_counter() - start) * 1000 / len(messages)
    texts = [e.text for e in priorities] * 20
    start = time.perf_counter()
    for text in texts:
        score_priority(text)
    priority_ms = (time.perf_counter() - start) * 1000 / len(texts)
    print(
        f"\n    time per message: spam check {spam_ms:.3f} ms (with {len(timing.marks)} marks learned), "
        f"priority {priority_ms:.3f} ms"
    )

    if args.errors:
        print("\nspam errors (signals only):")
        for e in examples:
            verdict = fresh.check(e.message, post=e.post, repeats=e.repeats)
            if verdict.is_spam != e.is_spam:
                kind = "FP" if verdict.is_spam else "FN"
                print(f"  {kind} {e.id} {verdict.score:.2f} [{e.note}] {verdict} | {e.message.text[:90]!r}")
                print("       ", [(s.name, round(s.weight, 1)) for s in verdict.signals])
        print("\npriority errors:")
        for e in priorities:
            result = score_priority(e.text)
            if result.urgent != e.urgent:
                kind = "FP" if result.urgent else "FN"
                print(f"  {kind} {e.id} {result.score:.2f} [{e.note}] {result} | {e.text[:100]!r}")


if __name__ == "__main__":
    main()
    from priority_share import print_priority_share  # issue 15, item 5: how many get `!`

    print_priority_share()
