"""The store's quick check in a process of its own, at the lowest CPU priority.

SQLite's quick check reads the whole file: about a second of CPU at a million messages. Run in
the inbox's process (a thread: SQLite lets go of the GIL) it still takes one of the machine's
cores from the keys: measured at 1M on 2 busy cores, a `j` in the first seconds took up to 230 ms
to its last byte against 160 ms without the check. In a process of its own at nice 19, the
kernel runs it only when the inbox does not need the core. Nothing else changes: the same
check (`SQLiteStore.check_integrity`), its problems or its error in the same words.

    python -m ecoinbox.background_check STORE_PATH   # what the inbox runs (prints JSON)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

from ecoinbox.store import StoreError

LOWEST_PRIORITY = 19
_STORE_ERROR_EXIT = 3  # the check could not run: its words follow on stdout


class CheckFailed(Exception):
    """The checking process itself failed (not the store): the reason, for the log."""


async def check_store_file(path: Path) -> list[str]:
    """SQLite's quick check of the store at `path` in a background process: what is wrong with
    the file, [] when it is sound. Raises StoreError as `check_integrity` does (a newer
    ecoinbox's store, a disk that cannot be read), CheckFailed if the process itself failed."""
    code_root = str(Path(__file__).resolve().parent.parent)  # this tree's code, installed or not
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [code_root, os.environ.get("PYTHONPATH")])),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ecoinbox.background_check", str(path),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    with contextlib.suppress(OSError):  # not on every system: then it runs at the inbox's priority
        os.setpriority(os.PRIO_PROCESS, process.pid, LOWEST_PRIORITY)
    try:
        out, err = await process.communicate()
    except asyncio.CancelledError:  # the manager quit: the check must not hold up the exit
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode == _STORE_ERROR_EXIT:
        raise StoreError(out.decode("utf-8", "replace").strip())
    if process.returncode != 0:
        raise CheckFailed(f"exit {process.returncode}: {err.decode('utf-8', 'replace')[-500:]}")
    problems = json.loads(out)
    if not isinstance(problems, list):
        raise CheckFailed(f"unexpected answer: {out[:200]!r}")
    return [str(problem) for problem in problems]


def main(argv: list[str] | None = None) -> int:
    from ecoinbox.store import SQLiteStore

    (path,) = sys.argv[1:] if argv is None else argv
    try:
        problems = asyncio.run(SQLiteStore(Path(path)).check_integrity())
    except StoreError as exc:
        print(str(exc))
        return _STORE_ERROR_EXIT
    print(json.dumps(problems))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
