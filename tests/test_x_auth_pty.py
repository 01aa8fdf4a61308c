"""`ecoinbox auth x` in a real terminal: the address the browser lands on, pasted in one write
(as a terminal hands a paste over), finishes X's PKCE flow against the local X."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env, serving_in_a_thread

from ecoinbox.demo.x.server import XServer

REFRESH = "x-pty-refresh-token-0123456789"
CLIENT_ID = "x-pty-client"

pytestmark = pytest.mark.slow


def x_config(tmp_path: Path, server: XServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[brand]
name = "Acme"
[store]
path = "{tmp_path / "inbox.db"}"
[[channels]]
kind = "x"
name = "x"
base_url = "{server.base_url}"
auth_url = "{server.base_url}"
redirect_uri = "{server.redirect_uri}"
account = "acme"
client_id = "{CLIENT_ID}"
keyring = false
token_env = "UNUSED_X_TOKEN"
""", encoding="utf-8")  # fmt: skip
    return path


def test_the_pasted_address_finishes_the_authorization(tmp_path: Path) -> None:
    with serving_in_a_thread(XServer(seed=None, client_id=CLIENT_ID, refresh_token=REFRESH)) as server:
        argv = [*inbox_argv(x_config(tmp_path, server)), "auth", "x", "--print"]
        terminal = Terminal(argv, inbox_env())
        try:
            terminal.wait_for(b"Address (or code): ", what="the paste prompt")
            printed = terminal.snapshot().decode(errors="replace")
            [address] = re.findall(r"http://127\.0\.0\.1:\d+/i/oauth2/authorize\?\S+", printed)
            landed = httpx.get(address, follow_redirects=False).headers["location"]
            mark = terminal.send(landed + "\r")  # the whole paste and its Enter in one write
            assert terminal.wait_exit(20) == 0, terminal.tail()
            shown = terminal.snapshot()[mark:].decode(errors="replace")
        finally:
            terminal.kill()
        assert server.token_grants == 1
    assert landed not in shown, "the pasted address (its code) is not echoed"
    assert re.search(r"[A-Za-z0-9_-]{40,}", shown), f"the refresh token is shown once: {shown!r}"
