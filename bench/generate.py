"""Realistic ecoinbox stores at any scale, deterministic by seed: the command line.

    python bench/generate.py --messages 1000000 --seed 1 --out /tmp/bench/1m.db

The generator itself is `ecoinbox.demo.generate` (the demo builds its big stores with it):
this file runs it and lets bench/scale.py `import generate` as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoinbox.demo.generate import BIG_THREAD, GENERATOR_VERSION, generate, main, manifest  # noqa: F401

if __name__ == "__main__":
    raise SystemExit(main())
