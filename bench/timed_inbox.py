"""`ecoinbox` as the user starts it, with one mark: when its imports are done (for bench/scale.py).

    python bench/timed_inbox.py MARKS_FILE --config CONFIG

Writes `time.monotonic()` (one clock for every process of the machine) at the start of the
interpreter's work and once every module the inbox needs is imported, then runs the real
command line, `ecoinbox.cli.main`, exactly as `python -m ecoinbox` does.
"""

from __future__ import annotations

import sys
import time

started = time.monotonic()

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What `ecoinbox` imports on its way to the first frame: the CLI, then (lazily, in `_inbox`) the
# engine, the channels, the secrets and the Textual app with its screens.
import ecoinbox.channels
import ecoinbox.cli
import ecoinbox.engine
import ecoinbox.secrets
import ecoinbox.tui.app

imported = time.monotonic()
Path(sys.argv[1]).write_text(f"{started} {imported}\n", encoding="utf-8")
raise SystemExit(ecoinbox.cli.main(sys.argv[2:]))
