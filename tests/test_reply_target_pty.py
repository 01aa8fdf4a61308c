"""Picking an older message and answering it, typed like a network delivers it: `[`, `r`, the
text and ctrl+s in ONE write to the real inbox in a pty, checked on the local Mastodon server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env, mastodon_in_a_thread, write_config
from stack import polled_once

from ecoinbox.demo.mastodon.server import MastodonServer

pytestmark = pytest.mark.slow

TOKEN = "reply-target-token-0123456789"
CTRL_S = "\x13"


async def seed(db: Path, server: MastodonServer) -> dict[str, str]:
    """Zoé asks; Bob answers her in the same thread (the newest: what r answers by default)."""
    now = datetime.now(UTC)
    zoe = server.add_status(
        author="zoe@remote.example",
        display_name="Zoé",
        created_at=now - timedelta(minutes=9),
        text="@acme my parcel never came, what now?",
    )
    bob = server.add_status(
        author="bob@other.example",
        display_name="Bob",
        in_reply_to_id=zoe["id"],
        text="@zoe@remote.example @acme mine neither",
        created_at=now - timedelta(minutes=5),
    )
    await polled_once(db, server.base_url, TOKEN)
    return {"zoe": zoe["id"], "bob": bob["id"]}


def test_bracket_r_text_and_ctrl_s_in_one_read_answer_the_older_message(tmp_path):
    typed = "sorry Zoé, your parcel is on its way again today"
    with mastodon_in_a_thread(TOKEN) as server:
        ids = asyncio.run(seed(tmp_path / "inbox.db", server))
        config = write_config(tmp_path, server.base_url, token_env="ECOINBOX_TARGET_TOKEN", handle="acme",
                              extra_ui="send_delay = 0")  # fmt: skip
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_TARGET_TOKEN=TOKEN), 80, 24)
        try:
            terminal.wait_for(b"mine neither", what="the thread")
            terminal.send("[r" + typed + CTRL_S)
            deadline = time.monotonic() + 15
            while not server.posted and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # a second send would have come by now
            terminal.send("q")
            assert terminal.wait_exit() == 0
        finally:
            terminal.kill()
    assert [(s.in_reply_to_id, s.text) for s in server.posted] == [
        (ids["zoe"], f"@zoe@remote.example {typed}")
    ]
