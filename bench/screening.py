"""Spam and priority, measured by the protocol at the top of bench/README.md.

Spam (issue 15): the shipped filter (`SpamFilter` with the weights `bench/train_spam.py` trained
on the training sources) is run the way ingest runs it: `Screener.assess` on each message in the
order it was posted, with a blog comment's post text (as the WordPress channel reads it; the
off-topic signal) and no repeat count given (the filter counts repeats itself, as in the store). Rows:
- the untouched source (`Youtube05-Shakira`): the reported number; nothing was chosen on it;
- the project's test split (tests/data/screening/spam.test.jsonl): never trained on, but its
  examples were read while the old word lists were written, so it is not untouched;
- leave-one-source-out over the training sources (a model trained on the others each time);
- learning from the manager's marks: a prior trained on the four training videos only (it never
  saw the project's examples), corrected by marks on the project's train split (spam marks only,
  then both sides), scored on the project's test split;
- the demo's phishing email (ecoinbox/demo/email/seed.py, parsed by the email channel);
- the cost of one verdict (`SpamFilter.check`) and of the whole `Screener.assess`, per message.

Priority: `score_priority` on tests/data/screening/priority.{split}.jsonl (no learning).

Run from the repository root:

    python bench/screening.py [--youtube PATH] [--no-loso] [--errors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import train_spam
from train_spam import Example

from ecoinbox.model import Message
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.priority import score_priority
from ecoinbox.screening.spam import DEFAULT_THRESHOLD, SpamFilter, Verdict
from ecoinbox.screening.spam_model import Model

DATA = ROOT / "tests" / "data" / "screening"


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, truth: Sequence[bool], predicted: Sequence[bool]) -> Scores:
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
            f"| {self.tp} | {self.fp} | {self.fn} | {self.tn} |"
        )


HEADER = "| spam | precision | recall | F1 | TP | FP | FN | TN |\n|---|---:|---:|---:|---:|---:|---:|---:|"


def new_filter(model: Model | None = None) -> SpamFilter:
    return SpamFilter(
        brand_names=train_spam.BRAND, own_domains=train_spam.OWN_DOMAINS, model=model, kinds=train_spam.KINDS
    )


def verdicts(spam_filter: SpamFilter, examples: Sequence[Example]) -> list[Verdict]:
    """Each example's verdict as ingest gives it: in order, repeats counted by `Screener`."""
    screener = Screener(spam_filter)
    return [screener.assess(e.message).verdict for e in examples]


def spam_scores(spam_filter: SpamFilter, examples: Sequence[Example]) -> Scores:
    return Scores.of([e.is_spam for e in examples], [v.is_spam for v in verdicts(spam_filter, examples)])


def marked(prior: Model, train: Sequence[Example], *, spam_only: bool) -> SpamFilter:
    """A filter on `prior` after the manager went through `train` in order and marked what it
    got wrong (only the missed spam when `spam_only`)."""
    spam_filter = new_filter(prior)
    screener = Screener(spam_filter)
    for example in train:
        verdict = screener.assess(example.message).verdict
        if verdict.is_spam == example.is_spam or (spam_only and not example.is_spam):
            continue
        spam_filter.learn(example.message, example.is_spam)
    return spam_filter


def loso(youtube: Path) -> list[str]:
    """Leave-one-source-out over the training sources with the shipped settings."""
    sources = train_spam.load_sources(youtube, train_spam.TRAIN_SOURCES)
    rows = []
    for held in train_spam.TRAIN_SOURCES:
        training = {name: examples for name, examples in sources.items() if name != held}
        model = train_spam.train(train_spam.training_set(training, train_spam.VELORA_SHARE))
        label = {
            "velora": "project's train split, trained on the videos and care tweets only",
            "cdp": "care tweets (all ham), trained on the videos and the project's examples only",
        }.get(held, f"{held}, trained on the other sources")
        rows.append(spam_scores(new_filter(model), sources[held]).row(label))
    return rows


def demo_phishing() -> tuple[str, Verdict]:
    """The demo's phishing mail, parsed by the email channel, and its verdict."""
    from ecoinbox.channels.email import parse_mail
    from ecoinbox.demo.email.seed import seeded_mail

    raw = next(m.raw for m in seeded_mail(datetime.now(UTC)) if b"claim your refund" in m.raw)
    message = parse_mail(raw, channel="email")[0].message
    return f"{message.title!r} / {message.text.strip()!r}", Screener(new_filter()).assess(message).verdict


def cost(examples: Sequence[Example], rounds: int = 5) -> tuple[float, float, float]:
    """Median microseconds per message: `SpamFilter.check` on the messages it finds not spam,
    on those it finds spam (their reasons name words: slower), and the whole `Screener.assess`."""
    spam_filter = new_filter()
    ham = [e.message for e in examples if not spam_filter.check(e.message).is_spam]
    spam = [e.message for e in examples if spam_filter.check(e.message).is_spam]

    def per_message(call: Callable[[Message], object], messages: list[Message]) -> float:
        runs = []
        for _ in range(rounds):
            start = time.perf_counter()
            for message in messages:
                call(message)
            runs.append((time.perf_counter() - start) / max(1, len(messages)))
        return statistics.median(runs) * 1e6

    screener = Screener(spam_filter)
    return (
        per_message(spam_filter.check, ham),
        per_message(spam_filter.check, spam),
        per_message(screener.assess, ham + spam),
    )


def calibration() -> float:
    """Microseconds for a fixed piece of pure Python: how loaded the machine is right now."""
    start = time.perf_counter()
    for _ in range(200):
        sum(range(1000))
    return (time.perf_counter() - start) / 200 * 1e6


# ---- priority (issue 7; no learning) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriorityExample:
    id: str
    urgent: bool
    text: str
    note: str


def load_priority(split: str) -> list[PriorityExample]:
    out = []
    for line in (DATA / f"priority.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        out.append(
            PriorityExample(record["id"], record["label"] == "high", record["text"], record.get("note", ""))
        )
    return out


def priority_scores(examples: list[PriorityExample]) -> Scores:
    return Scores.of([e.urgent for e in examples], [score_priority(e.text).urgent for e in examples])


# ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--youtube", type=Path, help="the youtube-spam-collection folder")
    parser.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out (trains 5 models)")
    parser.add_argument("--errors", action="store_true", help="list the misclassified examples")
    args = parser.parse_args()
    youtube = train_spam.youtube_dir(args.youtube)

    untouched = train_spam.load_youtube(youtube, train_spam.UNTOUCHED)
    velora_test = train_spam.load_velora("test")
    velora_train = train_spam.load_velora("train")
    shipped = new_filter()
    print(
        f"spam filter: shipped weights, threshold {DEFAULT_THRESHOLD}; a blog comment's post text, "
        "repeats counted by Screener\n"
    )
    print(HEADER)
    count = f"{len(untouched)}, {sum(e.is_spam for e in untouched)} spam"
    print(spam_scores(shipped, untouched).row(f"**untouched source: {train_spam.UNTOUCHED}** ({count})"))
    count = f"{len(velora_test)}, {sum(e.is_spam for e in velora_test)} spam"
    print(spam_scores(shipped, velora_test).row(f"project's test split ({count})"))
    if not args.no_loso:
        for row in loso(youtube):
            print(row)
    # Learning from marks: a prior that never saw the project's examples (the four videos only),
    # then the manager corrects it on the train split, and the test split is scored.
    videos = train_spam.load_sources(youtube, train_spam.TRAIN_VIDEOS)
    prior = train_spam.train(train_spam.design([videos[name] for name in train_spam.TRAIN_VIDEOS]))
    print(
        spam_scores(new_filter(prior), velora_test).row(
            "test split, prior from the four videos only, no marks"
        )
    )
    one_sided = marked(prior, velora_train, spam_only=True)
    row = f"test split, same prior + {len(one_sided.marks)} spam-only marks (train)"
    print(spam_scores(one_sided, velora_test).row(row))
    both = marked(prior, velora_train, spam_only=False)
    side = f"{both.marks.marks[0]} spam + {both.marks.marks[1]} not-spam"
    print(spam_scores(both, velora_test).row(f"test split, same prior + {side} marks (train)"))

    shown, verdict = demo_phishing()
    print(f"\n    demo phishing mail {shown}: {verdict} (score {verdict.score:.3f})")
    ham_us, spam_us, assess_us = cost([*untouched, *velora_test])
    print(
        f"    per message: SpamFilter.check {ham_us:.1f} µs (not spam), {spam_us:.1f} µs (spam, with reasons); "
        f"Screener.assess {assess_us:.1f} µs (spam, repeats, priority, rules)\n"
        f"    (the machine's load: sum(range(1000)) took {calibration():.1f} µs in this run)"
    )

    priorities = load_priority("test")
    print(
        "\n| priority | precision | recall | F1 | TP | FP | FN | TN |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    print(priority_scores(priorities).row(f"priority (high), test split ({len(priorities)})"))

    if args.errors:
        print("\nspam errors (shipped filter):")
        for name, examples in (("untouched", untouched), ("project test", velora_test)):
            for e, v in zip(examples, verdicts(shipped, examples), strict=True):
                if v.is_spam != e.is_spam:
                    kind = "FP" if v.is_spam else "FN"
                    print(f"  {name} {kind} {e.id} {v.score:.2f} {v} | {e.message.text[:90]!r}")


if __name__ == "__main__":
    main()
    from priority_share import print_priority_share  # issue 15, item 5: how many get `!`

    print_priority_share()
