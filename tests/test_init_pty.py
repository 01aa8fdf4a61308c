"""`ecoinbox init` as a new user runs it over SSH: a pty at 80x24, no keyring, the demo's Mastodon
and forum on loopback. It connects both through their own auth flows, writes the config at the
platform's path, checks it, and the inbox then opens on that config."""

from __future__ import annotations

import html
import re
import stat
import sys
import tomllib

import httpx
import pytest
from pty_terminal import Terminal, inbox_env, serving_in_a_thread

from ecoinbox.config import default_config_path, parse_config
from ecoinbox.credentials import credentials_path
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer

MASTODON_TOKEN = "init-mastodon-token-7f3a9c"
FORUM_KEY = "init-forum-user-key-2b8e41"


class Session:
    """The terminal, answered one prompt at a time, as a person reads then types."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.mark = 0

    def wait(self, needle: bytes, timeout: float = 20.0) -> str:
        self.terminal.wait_for(needle, after=self.mark, timeout=timeout)
        seen = self.terminal.snapshot()[self.mark :].decode("utf-8", "replace")
        self.mark = self.terminal.snapshot().index(needle, self.mark) + len(needle)
        return seen

    def answer(self, prompt: bytes, typed: str) -> str:
        seen = self.wait(prompt)
        self.mark = self.terminal.send(typed + "\r")
        return seen


def address(seen: str, pattern: str) -> str:
    found = re.search(pattern, seen.replace("\r\n", "\n"))
    assert found, seen
    return found.group(1)


@pytest.mark.slow
def test_init_connects_mastodon_and_the_forum_without_a_keyring_then_the_inbox_opens(tmp_path):
    mastodon = MastodonServer(seed=None, token=MASTODON_TOKEN)
    forum = DiscourseServer(seed=None, user_api_key=FORUM_KEY)
    with serving_in_a_thread(mastodon), serving_in_a_thread(forum):
        mastodon.add_status(author="zoe@remote.example", text="QINIT1 where is my order?")
        env = inbox_env()
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        assert env["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"  # no keyring
        terminal = Terminal([sys.executable, "-m", "ecoinbox.cli", "init"], env, columns=80, rows=24)
        try:
            session = Session(terminal)
            session.answer(b"Brand name", "Acme")
            session.answer(b"Its own accounts", "acme")
            session.answer(b"Words that mean the brand", "acme")

            session.answer(b"Kind of the next channel", "mastodon")
            session.answer(b"Name (", "")
            session.answer(b"Server address", mastodon.base_url)
            session.answer(b"username there", "acme")
            offered = session.answer(b"Choose 1-", "1")
            assert "no usable OS keyring" in offered and "read:notifications" in offered
            seen = session.wait(b"Code (not echoed")
            authorize = address(seen, r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)")
            page = httpx.get(authorize).text
            code = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page).group(1)
            session.mark = terminal.send(code + "\r\r")
            session.wait(b"Saved the token for mastodon")

            session.answer(b"Kind of the next channel", "discourse")
            session.answer(b"Name (", "")
            session.answer(b"Forum address", forum.base_url)
            session.answer(b"username on the forum", "acme_team")
            seen = session.wait(b"Key block (not echoed")
            approve = address(seen, r"(http://127\.0\.0\.1:\d+/user-api-key/new\?\S+)")
            page = httpx.get(approve).text
            block = html.unescape(
                re.search(r'<code id="user-api-key-payload">(.*?)</code>', page, re.DOTALL).group(1)
            )
            session.mark = terminal.send(block.strip().replace("\n", "\r") + "\r\r")
            session.wait(b"Saved the token for forum")

            session.answer(b"Kind of the next channel", "")
            checked = session.wait(b"All set", timeout=60)
            assert terminal.wait_exit(30) == 0, terminal.tail()
        finally:
            terminal.kill()
        output = terminal.snapshot().decode("utf-8", "replace")
        assert "mastodon: ok, @acme" in checked and "forum: ok" in checked
        assert MASTODON_TOKEN not in output and FORUM_KEY not in output  # pasted without echo

        written = default_config_path()
        settings = parse_config(written.read_text(encoding="utf-8"), written)
        assert [c.name for c in settings.channels] == ["mastodon", "forum"]
        assert settings.brand.name == "Acme" and settings.forum is not None
        assert written.read_text().startswith("# ecoinbox configuration, written by `ecoinbox init`")
        assert MASTODON_TOKEN not in written.read_text() and FORUM_KEY not in written.read_text()
        saved = tomllib.loads(credentials_path().read_text())["tokens"]
        assert saved == {"mastodon": MASTODON_TOKEN, "forum": FORUM_KEY}
        assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600

        # The inbox, with no --config: it reads what init wrote and polls with the saved tokens.
        inbox = Terminal([sys.executable, "-m", "ecoinbox.cli"], env, columns=80, rows=24)
        try:
            inbox.wait_for(b"QINIT1", timeout=30, what="the mention polled from the local Mastodon")
            inbox.send("q")
            assert inbox.wait_exit(20) == 0, inbox.tail()
        finally:
            inbox.kill()


def test_init_never_replaces_a_config_without_asking(tmp_path):
    written = default_config_path()
    written.parent.mkdir(parents=True)
    written.write_text("# mine\n")
    terminal = Terminal([sys.executable, "-m", "ecoinbox.cli", "init"], inbox_env(), columns=80, rows=24)
    try:
        Session(terminal).answer(b"Replace it", "")
        assert terminal.wait_exit(20) == 1
    finally:
        terminal.kill()
    assert written.read_text() == "# mine\n"
