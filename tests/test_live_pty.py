"""A mention posted while the real inbox runs in a terminal is on screen within 2 s, with
poll_interval = 3600: it came by Mastodon's streaming API (bench/live.py measures the same)."""

from __future__ import annotations

import time

import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env, mastodon_in_a_thread, write_config

pytestmark = pytest.mark.slow

TOKEN = "live-pty-token-0123456789"


def test_a_mention_posted_while_the_inbox_runs_is_on_screen_within_two_seconds(tmp_path):
    with mastodon_in_a_thread(TOKEN) as server:
        config = write_config(tmp_path, server.base_url, token_env="ECOINBOX_LIVE_TOKEN")
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_LIVE_TOKEN=TOKEN))
        try:
            terminal.wait_for(b"Inbox", what="the inbox")
            deadline = time.monotonic() + 15
            while server.stream_count == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.stream_count == 1, "the inbox did not open the stream"
            time.sleep(3.0)  # past the start: the language model is loaded by now
            mark = len(terminal.snapshot())
            posted = time.monotonic()
            server.add_status(author="zoe@remote.example", text="qzlive my parcel never came")
            terminal.wait_for(b"qzlive", after=mark, timeout=2.0, what="the new mention")
            assert time.monotonic() - posted <= 2.0
            terminal.send("q")
            assert terminal.wait_exit() == 0
        finally:
            terminal.kill()
