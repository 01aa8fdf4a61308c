"""Write the train and test files from the full labelled sets, by a fixed rule on the id alone.

An example is in the test split when the first 8 hex digits of sha256(its id), as an integer,
modulo 10, are 0, 1 or 2 (about 30%); otherwise it is in train. The rule never looks at the text
or the label, and it was applied before any filter code was written or tuned.

    python tests/data/screening/split.py          # rewrite the *.train.jsonl / *.test.jsonl files
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = ("spam", "priority")


def in_test(example_id: str) -> bool:
    """The fixed rule: the split an example belongs to, from its id only."""
    return int(hashlib.sha256(example_id.encode("utf-8")).hexdigest()[:8], 16) % 10 < 3


def split(name: str) -> tuple[list[str], list[str]]:
    train: list[str] = []
    test: list[str] = []
    for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            (test if in_test(json.loads(line)["id"]) else train).append(line)
    return train, test


def main() -> None:
    for name in SETS:
        train, test = split(name)
        (HERE / f"{name}.train.jsonl").write_text("".join(f"{line}\n" for line in train), encoding="utf-8")
        (HERE / f"{name}.test.jsonl").write_text("".join(f"{line}\n" for line in test), encoding="utf-8")
        print(f"{name}: {len(train)} train, {len(test)} test")


if __name__ == "__main__":
    main()
