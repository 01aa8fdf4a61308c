"""CI runs what the README tells a contributor to run: lint, format, types, then the tests."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def readme_test_commands() -> list[str]:
    """The lines of the shell block in the README's Tests section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert block, "the README's Tests section has no ```sh block"
    return [line.strip() for line in block[1].splitlines()]


def test_ci_runs_the_readmes_test_commands_line_for_line() -> None:
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    for command in readme_test_commands():
        # CI may install quietly; it runs the same command otherwise.
        assert command in ci or command.replace("pip install -e", "pip install -q -e") in ci, command


def test_the_readmes_test_commands_check_lint_format_and_types_before_the_tests() -> None:
    steps = [step.strip() for step in " ".join(readme_test_commands()).split("&&")]
    checks = ["ruff check", "ruff format --check", ".ci/mypy_baseline.py", "pytest"]
    where = [next(i for i, step in enumerate(steps) if check in step) for check in checks]
    assert where == sorted(where)
