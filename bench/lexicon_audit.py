"""Which word-list alternatives only the test split justifies (issue 15, item 1).

Every regex in the spam and priority modules' lists (`Term` tuples and module-level patterns) is
split into its top-level alternatives ("casinos?|free spins" -> "casinos?", "free spins"); each
alternative is matched, the way the filter matches it, against the normalized text of every
example of its own labelled set in tests/data/screening (spam.*.jsonl for the spam module,
priority.*.jsonl for priority), train and test split. An alternative that matches test examples and
no train example was written from the test split: the protocol (bench/README.md) says it goes.

    python bench/lexicon_audit.py                  # the table of test-only alternatives
    python bench/lexicon_audit.py --write FILE     # also write them, one a line, to FILE
    python bench/lexicon_audit.py --all            # every alternative with its train/test hits
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.screening import priority, spam
from ecoinbox.screening._text import Term, normalize

DATA = ROOT / "tests" / "data" / "screening"


@dataclass(frozen=True, slots=True)
class Alternative:
    module: str
    list_name: str
    expression: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def top_level(expression: str) -> list[str]:
    """The alternatives of `expression` at its outermost level (groups and classes kept whole)."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for index, char in enumerate(expression):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(expression[start:index])
            start = index + 1
    parts.append(expression[start:])
    return parts


def examples(name: str, split: str) -> list[tuple[str, str]]:
    """(id, normalized text) of the labelled set `name`'s `split`. Each module's lists are matched
    against its own set: the two sets share some texts, under ids that may fall in either split."""
    out = []
    for line in (DATA / f"{name}.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        out.append((record["id"], normalize(record["text"])))
    return out


def _lists(module: ModuleType) -> list[tuple[str, str, int]]:
    """(list name, expression, flags) of every Term and module-level pattern in `module`."""
    found = []
    for name, value in vars(module).items():
        if isinstance(value, tuple) and value and all(isinstance(item, Term) for item in value):
            for entry in value:
                # term() wraps the expression in word boundaries: take it back out.
                inner = entry.pattern.pattern.removeprefix(r"(?<![\w])(?:").removesuffix(r")(?![\w])")
                found.append((name, inner, entry.pattern.flags))
        elif isinstance(value, re.Pattern) and "|" in value.pattern:
            found.append((name, value.pattern, value.flags))
    return found


def audit() -> list[Alternative]:
    out = []
    for module in (spam, priority):
        name = module.__name__.rsplit(".", 1)[-1]
        train, test = examples(name, "train"), examples(name, "test")
        for list_name, expression, flags in _lists(module):
            wrapped = list_name in {n for n, v in vars(module).items() if isinstance(v, tuple)}
            for alternative in top_level(expression):
                source = rf"(?<![\w])(?:{alternative})(?![\w])" if wrapped else alternative
                try:
                    pattern = re.compile(source, flags)
                except re.error:
                    continue  # a piece that only makes sense whole (a lookaround split apart)
                out.append(
                    Alternative(
                        module.__name__.rsplit(".", 1)[-1],
                        list_name,
                        alternative,
                        tuple(i for i, text in train if pattern.search(text)),
                        tuple(i for i, text in test if pattern.search(text)),
                    )
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", type=Path, help="write the test-only alternatives to this file")
    parser.add_argument("--all", action="store_true", help="print every alternative")
    args = parser.parse_args()
    found = audit()
    test_only = [a for a in found if a.test and not a.train]
    shown = found if args.all else test_only
    for a in shown:
        print(
            f"{a.module}.{a.list_name}\t{a.expression}\ttrain {len(a.train)}\ttest {len(a.test)} {','.join(a.test)}"
        )
    by_module: dict[str, int] = {}
    for a in test_only:
        by_module[a.module] = by_module.get(a.module, 0) + 1
    print(f"\n{len(found)} alternatives; {len(test_only)} match only test examples: {by_module}")
    if args.write:
        lines = [f"{a.module}.{a.list_name}\t{a.expression}\t{','.join(a.test)}" for a in test_only]
        header = "# module.list<TAB>alternative<TAB>test examples it matches (and no train example)\n"
        args.write.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
