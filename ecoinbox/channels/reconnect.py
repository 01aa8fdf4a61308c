"""When a live connection (Mastodon's stream, Discourse's MessageBus) tries again after a failure."""

from __future__ import annotations

import random

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 300.0
REFUSED_FAILURES = 8  # a refused connection (404, 403) waits as the 8th failure does: 64-128 s


def backoff(failures: int) -> float:
    """Seconds before reconnect attempt `failures`: doubling from RETRY_FIRST_S, jittered (so
    clients cut at once do not come back at once), capped at RETRY_MAX_S."""
    ceiling = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** min(failures - 1, 16))
    return random.uniform(ceiling / 2, ceiling)
