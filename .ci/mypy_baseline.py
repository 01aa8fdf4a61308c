"""Run mypy and fail on any type error that .ci/mypy-baseline.txt does not already hold.

The baseline keeps the errors of modules written before type checks ran (the modules that
pyproject.toml lists as not yet strict). An error is known by its file and message, not its
line: code that moves within a file keeps its entry. The baseline may only shrink:

    python .ci/mypy_baseline.py            # the check (CI runs it)
    python .ci/mypy_baseline.py --update   # rewrite the baseline from mypy's answer, after a review
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
HEADER = (
    "# mypy's errors in modules that are not yet strict (file: message [code]), one per error.\n"
    "# Delete the lines of the errors you fix; `python .ci/mypy_baseline.py --update` rewrites it.\n"
)
# "path/to/file.py:12: error: message  [code]" (mypy's default output)
ERROR = re.compile(r"^(?P<path>[^:\n]+\.pyi?):\d+(?::\d+)?: error: (?P<message>.*)$")
# Line numbers inside a message ("defined on line 40") move with the code too.
LINE_IN_MESSAGE = re.compile(r"\bline \d+\b")


def run_mypy() -> tuple[int, str]:
    """mypy on what pyproject.toml names, in its plain one-line-per-error output."""
    command = [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", "--hide-error-context"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return completed.returncode, completed.stdout + completed.stderr


def errors_in(output: str) -> list[tuple[str, str]]:
    """(the key of an error in the baseline, the line as mypy printed it) for each error."""
    found = []
    for line in output.splitlines():
        match = ERROR.match(line)
        if match:
            message = LINE_IN_MESSAGE.sub("line N", match["message"].strip())
            found.append((f"{match['path']}: {message}", line))
    return found


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line.strip() and not line.startswith("#"))


def legacy_modules() -> list[str]:
    """The modules pyproject.toml lists as not yet strict (the override that turns strict off)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for override in config["tool"]["mypy"].get("overrides", []):
        if override.get("disallow_untyped_defs") is False:
            modules = override["module"]
            return [modules] if isinstance(modules, str) else list(modules)
    return []


def module_of(path: str) -> str:
    dotted = path.removesuffix(".pyi").removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def is_legacy(path: str, legacy: list[str]) -> bool:
    module = module_of(path)
    return any(
        module == name or (name.endswith(".*") and (module + ".").startswith(name[:-1])) for name in legacy
    )


def check(found: list[tuple[str, str]]) -> int:
    known = read_baseline()
    current = Counter(key for key, _ in found)
    new = current - known
    gone = known - current
    status = 0
    if new:
        print(f"mypy: {sum(new.values())} new type error(s). Fix them; the baseline is for old code only:")
        unseen = Counter(new)
        for key, line in found:
            if unseen[key] > 0:
                unseen[key] -= 1
                print(f"  {line}")
        status = 1
    if gone:
        print(
            f"mypy: {sum(gone.values())} error(s) of {BASELINE.relative_to(ROOT)} no longer occur. "
            "Well done: delete these lines from it (the baseline may only shrink):"
        )
        for key in sorted(gone.elements()):
            print(f"  {key}")
        status = 1
    if status == 0:
        print(f"mypy: no new type errors ({sum(known.values())} known in old modules)")
    return status


def update(found: list[tuple[str, str]]) -> int:
    legacy = legacy_modules()
    strict = sorted({line for key, line in found if not is_legacy(key.split(": ", 1)[0], legacy)})
    if strict:
        print("mypy: errors in strict modules do not go in the baseline. Fix them, or, for code moved")
        print("out of a module that was not strict, add its new module to the list in pyproject.toml:")
        for line in strict:
            print(f"  {line}")
        return 1
    before = read_baseline()
    after = Counter(key for key, _ in found)
    BASELINE.write_text(HEADER + "".join(f"{key}\n" for key in sorted(after.elements())), encoding="utf-8")
    print(
        f"mypy: wrote {sum(after.values())} error(s) to {BASELINE.relative_to(ROOT)} "
        f"({sum((after - before).values())} added, {sum((before - after).values())} removed)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from mypy's answer")
    arguments = parser.parse_args()
    status, output = run_mypy()
    found = errors_in(output)
    if status not in (0, 1) or (status == 1 and not found):
        print(output, end="")
        print(f"mypy could not check the code (exit status {status}): see its message above")
        return 2
    return update(found) if arguments.update else check(found)


if __name__ == "__main__":
    sys.exit(main())
