"""Post-to-screen time of a new Mastodon mention, measured from outside the inbox process.

    python bench/live.py                 # 10 mentions, streaming on (the default)
    python bench/live.py --posts 20      # more
    python bench/live.py --no-stream     # the same with stream = false, to see the difference
    python bench/live.py --forum         # a Discourse forum instead (MessageBus)

The real `ecoinbox` runs in a pseudo-terminal of 100x30 against the local Mastodon server (its
own thread and event loop, over loopback HTTP) with poll_interval = 3600: a mention can only
come in time by the streaming API (with --forum: the local Discourse server and MessageBus,
a new topic mentioning the brand each round). Each round publishes one status mentioning the brand on the
server, then reads the terminal's output until the status's unique word is on it; the time
from the publication to the first byte of that word is one sample. The first round comes
--settle seconds (3) after the stream opened; rounds are --gap seconds (1.5) apart.
Printed: each sample, then the median, p95 and max.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pty_terminal import (
    Terminal,
    inbox_argv,
    inbox_env,
    mastodon_in_a_thread,
    serving_in_a_thread,
    write_config,
)

from ecoinbox.demo.discourse.server import DiscourseServer

TOKEN = "bench-live-token-0123456789"
GAP_S = 1.5
SETTLE_S = 3.0  # the inbox has been up for a few seconds (--settle 0: a mention right at the start)
TIMEOUT_S = 30.0


def first_seen(terminal: Terminal, needle: bytes, after: int, timeout: float) -> float | None:
    """When `needle` first appears in the output past `after` (monotonic), polling every ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in terminal.snapshot()[after:]:
            return time.monotonic()
        time.sleep(0.001)
    return None


def subscribed(server: object) -> bool:
    if isinstance(server, DiscourseServer):
        return server.bus_polls > 0
    return getattr(server, "stream_count", 0) > 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def forum_in_a_thread(key: str) -> contextlib.AbstractContextManager[DiscourseServer]:
    """The local Discourse server on its own loop, as `mastodon_in_a_thread` does Mastodon."""
    return serving_in_a_thread(DiscourseServer(seed=None, user_api_key=key))


def forum_config(tmp: Path, base_url: str) -> Path:
    """The Mastodon config's shape with one Discourse channel instead."""
    path = write_config(tmp, base_url, token_env="ECOINBOX_BENCH_TOKEN")
    text = (
        path.read_text()
        .replace('kind = "mastodon"', 'kind = "discourse"')
        .replace('name = "mastodon"', 'name = "forum"')
    )
    path.write_text(text.replace('account = "acme"', 'account = "acme_team"\nauth = "user_api_key"'))
    return path


def run(posts: int, stream: bool, settle: float, forum: bool, gap: float) -> list[float | None]:
    samples: list[float | None] = []
    servers = forum_in_a_thread(TOKEN) if forum else mastodon_in_a_thread(TOKEN)
    with tempfile.TemporaryDirectory() as tmp, servers as server:
        if forum:
            config = forum_config(Path(tmp), server.base_url)
        else:
            config = write_config(Path(tmp), server.base_url, token_env="ECOINBOX_BENCH_TOKEN")
        if not stream:
            config.write_text(config.read_text() + "stream = false\n")
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_BENCH_TOKEN=TOKEN))
        try:
            terminal.wait_for(b"Inbox", timeout=30)
            deadline = time.monotonic() + 10
            while stream and not subscribed(server) and time.monotonic() < deadline:
                time.sleep(0.01)  # the first poll is done and the stream open
            time.sleep(settle)
            for round_ in range(posts):
                word = f"lv{round_:02d}q"
                mark = len(terminal.snapshot())
                posted = time.monotonic()
                if isinstance(server, DiscourseServer):
                    server.add_topic(author=f"p{round_}", title=f"{word} where is my order",
                                     raw=f"{word} where is my order? It is late.", mention_brand=True)  # fmt: skip
                else:
                    server.add_status(author=f"p{round_}@remote.example", text=f"{word} where is my order?")
                seen = first_seen(terminal, word.encode(), mark, TIMEOUT_S if stream else 5.0)
                samples.append(None if seen is None else seen - posted)
                shown = "not on screen" if seen is None else f"{(seen - posted) * 1000:.0f} ms"
                print(f"  mention {round_ + 1:2d}: {shown}", flush=True)
                time.sleep(gap)
            terminal.send("q")
            terminal.wait_exit()
        finally:
            terminal.kill()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--no-stream", action="store_true", help="stream = false (polling only)")
    parser.add_argument("--forum", action="store_true", help="a Discourse forum (MessageBus) instead")
    parser.add_argument(
        "--gap", type=float, default=GAP_S, help="seconds between rounds (default %(default)s)"
    )
    parser.add_argument("--settle", type=float, default=SETTLE_S,
                        help="seconds between the stream opening and the first post (default %(default)s)")  # fmt: skip
    args = parser.parse_args()
    stream = not args.no_stream
    where = "Discourse (MessageBus)" if args.forum else "Mastodon"
    print(f"{where} post-to-screen, poll_interval 3600, stream = {str(stream).lower()}, {args.posts} mentions, "
          f"the first {args.settle:g} s after the stream opened, {args.gap:g} s apart:")  # fmt: skip
    samples = run(args.posts, stream, args.settle, args.forum, args.gap)
    seen = [s for s in samples if s is not None]
    missed = len(samples) - len(seen)
    if not seen:
        print(f"  none of {len(samples)} reached the screen")
        return
    print(
        f"  median {statistics.median(seen) * 1000:.0f} ms, p95 {pct(seen, 0.95) * 1000:.0f} ms, "
        f"max {max(seen) * 1000:.0f} ms" + (f"; {missed} not on screen" if missed else "")
    )


if __name__ == "__main__":
    main()
