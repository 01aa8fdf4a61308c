"""Train the spam filter's shipped prior (ecoinbox/screening/spam_weights.json.gz) on the training sources.

Data (see the protocol at the top of bench/README.md):
- The YouTube Spam Collection (Alberto, Lochter and Almeida, "TubeSpam: Comment Spam Filtering
  on YouTube", IEEE ICMLA 2015, doi:10.1109/ICMLA.2015.37; UCI Machine Learning Repository,
  CC BY 4.0), in ../shared/data/spam/youtube-spam-collection: one source per video. Four are
  training sources; `Youtube05-Shakira` is the untouched source, never read here.
- The project's own examples, tests/data/screening/spam.train.jsonl (source "velora"); its test
  split is never read here either.
- Real customers' tweets to brands' care accounts, ../shared/data/cdp/dev.json (IBM's Twitter
  Conversations Dataset for Conversational Document Prediction, Apache License 2.0; Ganhotra
  et al., EMNLP 2020): the client turns, all ham (source "cdp").
- The SMS Spam Collection (Almeida, Gomez Hidalgo and Yamakami, DocEng 2011; UCI Machine
  Learning Repository, doi:10.24432/C5CC84, CC BY 4.0), in bench/data/sms-spam-collection:
  5,574 real text messages (source "sms"), always in training, never a fold (`SMS_SHARE`).

Model: logistic regression over the features of `ecoinbox.screening.spam_model` (character
3-5-grams, words, word pairs, each word with the kind of channel it was written on, named
signals), L2-regularized, full-batch Adam in numpy;
deterministic (no random state), so the same data gives the same file. Each source weighs the
same in the loss (a source of 190 examples counts as much as one of 440) but the project's
examples (`VELORA_SHARE`) and the care tweets (`CDP_SHARE`), and spam and ham weigh the same
within a source. `--dev` cross-validates on the training sources (`folds`) for a grid of L2 strengths and
source weights and prints precision and recall at each threshold: that is where the shipped
settings and the filter's threshold were chosen (the rule is in bench/README.md).

    python bench/train_spam.py                 # train on every training source, write the weights
    python bench/train_spam.py --dev           # cross-validation on the training sources
    python bench/train_spam.py --dev --sms-share 0,1,3 --placed 0,1   # scoring 8's grid
    python bench/train_spam.py --dev --errors 0.7   # and each fold's misses at 0.7 (dev only)
    python bench/train_spam.py --youtube PATH  # the collection elsewhere
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import itertools
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.model import Author, Message
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.spam import FIXED, signal_names
from ecoinbox.screening.spam_model import WEIGHTS_FILE, Model, keys, padded_text

YOUTUBE = ROOT.parent / "shared" / "data" / "spam" / "youtube-spam-collection"
VELORA = ROOT / "tests" / "data" / "screening"
TRAIN_VIDEOS = ("Youtube01-Psy", "Youtube02-KatyPerry", "Youtube03-LMFAO", "Youtube04-Eminem")
UNTOUCHED = "Youtube05-Shakira"
"""The source kept for the reported numbers: the last file by name, fixed before any file was read."""
TRAIN_SOURCES = (*TRAIN_VIDEOS, "velora", "cdp")
SMS = ROOT / "bench" / "data" / "sms-spam-collection" / "SMSSpamCollection.tsv.gz"
CDP = ROOT.parent / "shared" / "data" / "cdp" / "dev.json"
"""Real customers' tweets to 25 brands' care accounts (IBM's Twitter Conversations Dataset for
Conversational Document Prediction, Apache License 2.0; Ganhotra et al., EMNLP 2020): the client
turns, all ham, a source of what a brand's inbox says ("my subscription", "please", "refund")."""
BRAND = ("velora",)
OWN_DOMAINS = ("velora.example",)
L2 = 1e-5
"""Chosen with --dev (leave-one-source-out over the training sources)."""
VELORA_SHARE = 10.0
"""The project's examples weigh this many videos in the loss. Chosen with --dev."""
CDP_SHARE = 1.0
SMS_SHARE = 0.0
"""The SMS Spam Collection's share of the loss (0: not trained on). Chosen with --dev."""
PLACED = True
"""Whether the model also weighs each word with the kind of channel it was written on ("youtube
subscribe"; `SpamFilter(kinds=)` gives the kind). Chosen with --dev (`--placed 0,1`)."""
KINDS = {"youtube": "youtube", "twitter": "x", "sms": "sms", "blog": "wordpress", "email": "email",
         "mastodon": "mastodon", "bluesky": "bluesky"}  # fmt: skip
"""The training data's channel names and the kind of channel each is (what the product calls it)."""
GRAM_WEIGHT = 1.0
"""The character n-grams' value against a whole word's. Chosen with --dev."""
EPOCHS = 300
_AT = datetime(2025, 3, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    id: str
    message: Message
    is_spam: bool


def youtube_dir(path: Path | None) -> Path:
    found = path or YOUTUBE
    if not (found / f"{UNTOUCHED}.csv").is_file():
        raise SystemExit(f"The YouTube Spam Collection is not in {found}: pass --youtube PATH.")
    return found


def load_youtube(folder: Path, video: str) -> list[Example]:
    """One video's comments in the order they were posted (as ingest would see them)."""
    out = []
    with (folder / f"{video}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            when = _date(row["DATE"])
            author = Author("youtube", f"yt:{row['AUTHOR']}", row["AUTHOR"], row["AUTHOR"])
            message = Message("youtube", row["COMMENT_ID"], author, row["CONTENT"], when)
            out.append(Example(video, row["COMMENT_ID"], message, row["CLASS"].strip() == "1"))
    out.sort(key=lambda e: (e.message.created_at, e.id))
    return out


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        return _AT  # a few rows have no date: they keep their place at the start


def load_velora(split: str) -> list[Example]:
    """The project's examples (one JSON a line; `repeats` is not read: the filter counts repeats
    itself; `post` only for a blog comment, as `post_text`: the WordPress channel reads a post's text,
    the other channels do not, and the model never reads it)."""
    out = []
    for line in (VELORA / f"spam.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        who = record["author"]
        # A blog guest's identity is their name and site, as the WordPress channel makes it.
        remote = f"guest:{who['name']}|{who['url'] or ''}" if record["channel"] == "blog" else who["handle"]
        author = Author(record["channel"], remote, who["handle"], who["name"], who["url"])
        post = record.get("post") or {}
        under = (
            f"{post.get('title') or ''}\n{post.get('text') or ''}".strip()
            if record["channel"] == "blog"
            else ""
        )
        message = Message(
            record["channel"], record["id"], author, record["text"], _AT, title=record.get("title", ""),
            post_text=under,
        )  # fmt: skip
        out.append(
            Example(
                "velora" if split == "train" else "velora-test",
                record["id"],
                message,
                record["label"] == "spam",
            )
        )
    return out


def load_cdp(path: Path = CDP) -> list[Example]:
    """The client turns of the care conversations, in the order they were posted (all ham)."""
    out = []
    for conversation in json.loads(path.read_text(encoding="utf-8")):
        for turn in conversation["dialogContent"]:
            if "client" not in turn:
                continue
            author = Author("twitter", turn["client"], turn["client"], turn["client"])
            when = _date(turn["datetime"].replace("Z", ""))
            message = Message("twitter", turn["tweet_ID"], author, turn["message"], when)
            out.append(Example("cdp", turn["tweet_ID"], message, False))
    out.sort(key=lambda e: (e.message.created_at, e.id))
    return out


def load_sms(path: Path = SMS) -> list[Example]:
    """The SMS Spam Collection, in the file's order (it has no dates), as short mails with no
    subject: text only, as a phone number would send it."""
    out = []
    for number, line in enumerate(gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()):
        label, _, text = line.partition("\t")
        author = Author("sms", f"sms:{number}", f"sms{number}", "")
        message = Message("sms", str(number), author, text, _AT)
        out.append(Example("sms", str(number), message, label == "spam"))
    return out


@functools.cache
def cached_sms() -> list[Example]:
    return load_sms()


def load_sources(youtube: Path, names: Iterable[str]) -> dict[str, list[Example]]:
    out = {}
    for name in names:
        if name == "cdp":
            out[name] = load_cdp()
        elif name == "sms":
            out[name] = load_sms()
        elif name == "velora":
            out[name] = load_velora("train")
        elif name == "velora-test":
            out[name] = load_velora("test")
        else:
            out[name] = load_youtube(youtube, name)
    return out


def contexts(examples: Sequence[Example]) -> list[tuple[int, int]]:
    """(repeats, other authors) of each example, counted as ingest counts them, in order."""
    screener = Screener()
    return [screener.context(e.message) for e in examples]


def named_signals(example: Example, context: tuple[int, int]) -> list[str]:
    names = signal_names(
        example.message,
        repeats=context[0],
        authors=context[1],
        brand_names=BRAND,
        own_domains=OWN_DOMAINS,
    )
    return [name for name, _ in names if name not in FIXED]


@dataclass(frozen=True, slots=True)
class Design:
    """A sparse design matrix (entry k: row[k], column index[k], value[k]) and its vocabulary."""

    index: np.ndarray
    value: np.ndarray
    row: np.ndarray
    labels: np.ndarray
    weights: np.ndarray  # each example's weight in the loss
    vocabulary: list[str]  # column -> "kind:feature"
    gram_weight: float = 1.0  # the character n-grams' value (the model keeps it)
    placed: bool = False  # words with the channel's kind among the features


def kind_of(message: Message) -> str:
    """The kind of channel a training example was written on, as the product names it."""
    return KINDS[message.channel]


def example_values(
    example: Example, context: tuple[int, int], gram_weight: float = 1.0, placed: bool = False
) -> dict[str, float]:
    """Each feature of an example ("kind:feature") and its value, as `Model` weighs them."""
    padded = padded_text(_text(example.message))
    names = named_signals(example, context)
    every = keys(padded, names, kind_of(example.message) if placed else "")
    text_count = len(every) - len(names)
    scale = 1.0 / math.sqrt(text_count) if text_count else 0.0
    values: dict[str, float] = {}
    for position, key in enumerate(every):
        value = (scale * gram_weight if key.startswith("g:") else scale) if position < text_count else 1.0
        values[key] = values.get(key, 0.0) + value
    return values


def design(
    groups: Sequence[Sequence[Example]],
    shares: Sequence[float] | None = None,
    gram_weight: float = 1.0,
    placed: bool = False,
) -> Design:
    """The examples of each source; `shares[i]` is source i's share of the loss (all the same by
    default). Within a source, spam and ham weigh the same."""
    shares = list(shares) if shares is not None else [1.0] * len(groups)
    columns: dict[str, int] = {}
    indices: list[int] = []
    values: list[float] = []
    rows: list[int] = []
    labels, weights = [], []
    row = 0
    for examples, share in zip(groups, shares, strict=True):
        spam = sum(e.is_spam for e in examples)
        ham = len(examples) - spam
        for example, context in zip(examples, contexts(examples), strict=True):
            for key, value in example_values(example, context, gram_weight, placed).items():
                indices.append(columns.setdefault(key, len(columns)))
                values.append(value)
                rows.append(row)
            labels.append(1.0 if example.is_spam else 0.0)
            weights.append(share * 0.5 / max(1, spam if example.is_spam else ham))
            row += 1
    return Design(
        np.array(indices, dtype=np.intp),
        np.array(values),
        np.array(rows, dtype=np.intp),
        np.array(labels),
        np.array(weights) / sum(shares),
        list(columns),
        gram_weight,
        placed,
    )


def _text(message: Message) -> str:
    return f"{message.title}\n{message.text}" if message.title else message.text


PRUNE = 1e-3  # weights smaller than this are left out of the shipped file (they change nothing)


def train(data: Design, *, l2: float = L2, epochs: int = EPOCHS) -> Model:
    """Weighted logistic regression, full-batch Adam; the bias is not regularized."""
    size = len(data.vocabulary)
    w = np.zeros(size)
    bias = 0.0
    m, v = np.zeros(size), np.zeros(size)
    mb = vb = 0.0
    rate, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    rows = data.labels.size
    for step in range(1, epochs + 1):
        logits = bias + np.bincount(data.row, weights=w[data.index] * data.value, minlength=rows)
        p = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        error = (p - data.labels) * data.weights
        grad = np.bincount(data.index, weights=error[data.row] * data.value, minlength=size) + l2 * w
        grad_bias = float(error.sum())
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        w -= rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
        mb = beta1 * mb + (1 - beta1) * grad_bias
        vb = beta2 * vb + (1 - beta2) * grad_bias * grad_bias
        bias -= rate * (mb / (1 - beta1**step)) / (math.sqrt(vb / (1 - beta2**step)) + eps)
    model = Model(bias=round(float(bias), 4), gram_weight=data.gram_weight)
    for key, weight in zip(data.vocabulary, w.tolist(), strict=True):
        if abs(weight) >= PRUNE:
            kind, _, name = key.partition(":")
            model.table(kind)[name] = round(weight, 4)  # as the shipped file keeps it
    return model


def scores(model: Model, examples: Sequence[Example]) -> np.ndarray:
    """P(spam) of each example under `model` alone (no marks, no hand-set signals), computed
    the way the filter computes it."""
    out = []
    for example, context in zip(examples, contexts(examples), strict=True):
        text_score, _ = model.text_score(padded_text(_text(example.message)), kind_of(example.message))
        out.append(model.bias + text_score + model.named_score(named_signals(example, context)))
    return 1.0 / (1.0 + np.exp(-np.array(out)))


def precision_recall(truth: Sequence[bool], probability: np.ndarray, threshold: float) -> tuple[float, float]:
    predicted = probability >= threshold
    truth_array = np.array(truth, dtype=bool)
    tp = int((predicted & truth_array).sum())
    fp = int((predicted & ~truth_array).sum())
    fn = int((~predicted & truth_array).sum())
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


THRESHOLDS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)


def training_set(
    sources: dict[str, list[Example]],
    velora_share: float,
    cdp_share: float | None = None,
    gram_weight: float | None = None,
    sms_share: float | None = None,
    placed: bool | None = None,
) -> Design:
    """Every source given, the project's own (the only one from a brand's inbox) weighing
    `velora_share` times a video, the care tweets `cdp_share` times (`CDP_SHARE` by default),
    plus the SMS collection weighing `sms_share` times a video (`SMS_SHARE` by default; left
    out at 0)."""
    sms = SMS_SHARE if sms_share is None else sms_share
    if sms > 0 and "sms" not in sources:
        sources = {**sources, "sms": cached_sms()}
    names = list(sources)
    shares = {"velora": velora_share, "cdp": CDP_SHARE if cdp_share is None else cdp_share, "sms": sms}
    weight = GRAM_WEIGHT if gram_weight is None else gram_weight
    groups, weights = [sources[n] for n in names], [shares.get(n, 1.0) for n in names]
    return design(groups, weights, weight, PLACED if placed is None else placed)


def folds(sources: dict[str, list[Example]]) -> list[tuple[str, dict[str, list[Example]], list[Example]]]:
    """(name, training sources, held-out examples): each video left out in turn (the others
    always in training), then the project's train split and the care tweets, each in five folds
    (example i is in fold i mod 5)."""
    out = []
    for video in TRAIN_VIDEOS:
        out.append((video, {n: e for n, e in sources.items() if n != video}, sources[video]))
    for name in ("velora", "cdp"):
        examples = sources[name]
        for fold in range(5):
            rest = {n: e for n, e in sources.items() if n != name}
            rest[name] = [e for i, e in enumerate(examples) if i % 5 != fold]
            out.append((f"{name} fold {fold}", rest, [e for i, e in enumerate(examples) if i % 5 == fold]))
    return out


def dev(
    youtube: Path,
    grid: Sequence[float],
    velora_shares: Sequence[float],
    cdp_shares: Sequence[float] = (CDP_SHARE,),
    gram_weights: Sequence[float] = (GRAM_WEIGHT,),
    sms_shares: Sequence[float] = (SMS_SHARE,),
    placed: Sequence[bool] = (PLACED,),
    errors: float | None = None,
) -> None:
    """Cross-validation on the training sources (`folds`) for a grid of L2 strengths and of
    the project's share of the loss."""
    sources = load_sources(youtube, TRAIN_SOURCES)
    for l2, velora_share, cdp_share, gram_weight, sms_share, where in itertools.product(
        grid, velora_shares, cdp_shares, gram_weights, sms_shares, placed
    ):
        print(
            f"L2 {l2:g}, project's share {velora_share:g}, care tweets' share {cdp_share:g}, "
            f"n-grams' weight {gram_weight:g}, SMS share {sms_share:g}, words by kind {where}"
        )
        pooled_truth: list[bool] = []
        pooled: list[np.ndarray] = []
        in_domain_truth: list[bool] = []
        in_domain: list[np.ndarray] = []
        care: list[np.ndarray] = []
        for held, training, examples in folds(sources):
            data = training_set(training, velora_share, cdp_share, gram_weight, sms_share, where)
            model = train(data, l2=l2)
            probability = scores(model, examples)
            truth = [e.is_spam for e in examples]
            if held.startswith("velora"):
                in_domain_truth += truth
                in_domain.append(probability)
            elif held.startswith("cdp"):
                care.append(probability)
            pooled_truth += truth
            pooled.append(probability)
            row = ", ".join(
                "{:.2f}: P {:.3f} R {:.3f}".format(t, *precision_recall(truth, probability, t))
                for t in (0.5, 0.7, 0.9)
            )
            print(f"    {held:22} {row}")
            if errors is not None:  # the dev error analysis: what each fold's model got wrong
                for example, score in zip(examples, probability.tolist(), strict=True):
                    if (score >= errors) != example.is_spam:
                        kind = "FP" if score >= errors else "FN"
                        who, text = (
                            example.message.author.display_name[:24],
                            " ".join(_text(example.message).split()),
                        )
                        print(f"      {kind} {score:.2f} {who!r}: {text[:150]!r}")
        everything = np.concatenate(pooled)
        project = np.concatenate(in_domain)
        tweets = np.concatenate(care) if care else np.zeros(0)
        for threshold in THRESHOLDS:
            p, r = precision_recall(pooled_truth, everything, threshold)
            pp, pr = precision_recall(in_domain_truth, project, threshold)
            print(
                f"    at {threshold:.2f}: pooled precision {p:.3f}, recall {r:.3f}; "
                f"project's folds precision {pp:.3f}, recall {pr:.3f}; "
                f"care tweets called spam {int((tweets >= threshold).sum())}/{tweets.size}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--youtube", type=Path, help="the youtube-spam-collection folder")
    parser.add_argument("--dev", action="store_true", help="leave-one-source-out on the training sources")
    parser.add_argument("--l2", default="1e-5,3e-5,1e-4,3e-4,1e-3", help="the L2 strengths --dev tries")
    parser.add_argument(
        "--velora-share", default="1,4,10", help="the project's shares of the loss --dev tries"
    )
    parser.add_argument("--cdp-share", default="1,3", help="the care tweets' shares of the loss --dev tries")
    parser.add_argument("--gram-weight", default="1,0.5,0.25", help="the n-grams' weights --dev tries")
    parser.add_argument("--sms-share", default="0,1,3", help="the SMS collection's shares --dev tries")
    parser.add_argument("--placed", default="0", help="words by the channel's kind: 0, 1 or 0,1 (--dev)")
    parser.add_argument("--errors", type=float, help="--dev: list each fold's misses at this threshold")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args()
    youtube = youtube_dir(args.youtube)
    if args.dev:
        grid = [float(value) for value in args.l2.split(",")]
        shares = [float(value) for value in args.velora_share.split(",")]
        cdp = [float(value) for value in args.cdp_share.split(",")]
        grams = [float(value) for value in args.gram_weight.split(",")]
        sms = [float(value) for value in args.sms_share.split(",")]
        placed = [value == "1" for value in args.placed.split(",")]
        dev(youtube, grid, shares, cdp, grams, sms, placed, args.errors)
        return
    sources = load_sources(youtube, TRAIN_SOURCES)
    model = train(training_set(sources, VELORA_SHARE))
    model.save(args.out)
    count = sum(len(examples) for examples in sources.values())
    kept = sum(len(model.table(kind)) for kind in "gwpnc")
    print(f"trained on {count} examples from {', '.join(TRAIN_SOURCES)}: {kept} weights kept")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
