"""bench/scale.py's search rows alone, on its cached stores (made if missing, upgraded to this
commit's schema first): the first page of each query, in-process, median of warm runs.

    python bench/searches.py --sizes 1m
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

import scale

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated: 10k, 100k, 1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ecoinbox-bench")
    args = parser.parse_args(argv)
    for size in args.sizes.split(","):
        path, made = scale.store_for(args.cache, SIZES[size], args.seed, rebuild=False)
        print(f"{size}: {path.name} (median of {scale.SEARCH_RUNS} warm runs, in-process; budget "
              f"{scale.SEARCH_S * 1000:.0f} ms)")  # fmt: skip
        for search in scale.search_s(path, datetime.fromisoformat(made["end"])):
            print(f"  {search.query:<58} {search.rows:>3} rows  {search.seconds * 1000:6.1f} ms"
                  f"  (CPU {search.cpu_s * 1000:5.1f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
