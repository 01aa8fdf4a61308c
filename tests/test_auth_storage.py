"""`ecoinbox auth` on a machine with no keyring: where the token goes is asked before the flow,
the credentials file is private and read back by the channels, and no token is ever lost."""

from __future__ import annotations

import html
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import httpx
import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from configs import channel_toml, config_file
from pty_terminal import serving_in_a_thread

from ecoinbox.cli import main
from ecoinbox.credentials import credentials_path, read_credential, save_credential
from ecoinbox.demo.discourse.server import DiscourseServer
from ecoinbox.demo.mastodon.server import MastodonServer

MASTODON_TOKEN = "oauth-issued-token-5e1f0a77"
FORUM_KEY = "forum-user-key-9c2d4b11"


class Typist:
    """Standard input as the manager types it: each answer is made when the program asks for it
    (a callable reads what was printed so far, e.g. to open the address it shows)."""

    def __init__(self, *answers: str | Callable[[], str]) -> None:
        self.answers = list(answers)
        self.pending: list[str] = []
        self.asked = 0

    def readline(self) -> str:
        self.asked += 1
        if not self.pending and self.answers:
            answer = self.answers.pop(0)
            text = answer() if callable(answer) else answer
            self.pending = text.splitlines(keepends=True) or ["\n"]
        return self.pending.pop(0) if self.pending else ""  # "" is the end of the input

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("not a real file")


@pytest.fixture(params=["fail", "null"])
def no_keyring(request, monkeypatch):
    """No usable keyring, as over SSH: the fail backend (nothing found) or the null one."""
    backend = keyring.backends.fail.Keyring() if request.param == "fail" else keyring.backends.null.Keyring()
    keyring.set_keyring(backend)  # the autouse isolation fixture puts the previous one back
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    return request.param


def config(tmp_path: Path, kind: str, name: str, base_url: str) -> Path:
    channel = channel_toml(kind=kind, name=name, base_url=base_url, account="acme")
    return config_file(tmp_path, channel, brand={"name": "Acme", "handles": ["acme"]})


class Screen:
    """What the command printed so far (a paste step reads it to open the address shown)."""

    def __init__(self, capsys) -> None:
        self.capsys, self.out, self.err = capsys, "", ""

    def read(self) -> str:
        printed = self.capsys.readouterr()
        self.out, self.err = self.out + printed.out, self.err + printed.err
        return printed.out + printed.err


def mastodon_code(screen: Screen) -> Callable[[], str]:
    """What the manager pastes: the code the authorization page shows, then an empty line."""

    def paste() -> str:
        printed = screen.read()
        address = re.search(r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)", printed)
        assert address, printed
        page = httpx.get(address.group(1)).text
        code = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page).group(1)
        return code + "\n\n"

    return paste


def forum_block(screen: Screen) -> Callable[[], str]:
    """The key block as the approval page shows it: base64 in 60-character lines."""

    def paste() -> str:
        printed = screen.read()
        address = re.search(r"(http://127\.0\.0\.1:\d+/user-api-key/new\?\S+)", printed)
        assert address, printed
        page = httpx.get(address.group(1)).text
        block = html.unescape(
            re.search(r'<code id="user-api-key-payload">(.*?)</code>', page, re.DOTALL).group(1)
        )
        assert len(block.strip().splitlines()) > 1  # wrapped, as Discourse shows it
        return block + "\n"

    return paste


def everything_written(root: Path) -> str:
    """Every file under the test's home (config, logs, store), to look for a leaked token."""
    return "".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file())


def test_mastodon_oauth_without_keyring_saves_a_private_file_that_the_channel_polls_with(
    tmp_path, capsys, monkeypatch, no_keyring
):
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        screen = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist("1\n", mastodon_code(screen)))
        assert main(["--config", str(path), "auth", "mastodon"]) == 0
        screen.read()
        out = screen.out
        assert "no usable OS keyring" in out and "NOT encrypted" in out  # asked, with the warning
        assert "read:notifications" in out  # what the flow asks for, said before it starts
        assert f"Saved the token for mastodon in {credentials_path()}" in out

        saved = credentials_path()
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
        assert read_credential("mastodon") == MASTODON_TOKEN

        server.add_status(author="zoe@remote.example", text="where is my order?")
        assert main(["--config", str(path), "poll", "--once"]) == 0
        polled = capsys.readouterr().out
    assert "mastodon: 1 new" in polled
    assert MASTODON_TOKEN not in out + polled
    home = credentials_path().parents[2]
    leaked = everything_written(home).replace(saved.read_text(), "")
    assert MASTODON_TOKEN not in leaked and MASTODON_TOKEN not in everything_written(tmp_path)


def test_forum_key_block_wrapped_at_60_characters_is_accepted(tmp_path, capsys, monkeypatch, no_keyring):
    with serving_in_a_thread(DiscourseServer(seed=None, user_api_key=FORUM_KEY)) as server:
        path = config(tmp_path, "discourse", "forum", server.base_url)
        screen = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist("1\n", forum_block(screen)))
        assert main(["--config", str(path), "auth", "forum"]) == 0
        screen.read()
        out = screen.out
        assert "scopes read,write,notifications,session_info" in out
        assert read_credential("forum") == FORUM_KEY
        assert main(["--config", str(path), "poll", "--once"]) == 0
        assert "forum: 0 new" in capsys.readouterr().out  # the forum took the key


def test_mastodon_paste_reads_a_token_split_over_lines(tmp_path, capsys, monkeypatch, no_keyring):
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        wrapped = f"{MASTODON_TOKEN[:10]}\n  {MASTODON_TOKEN[10:]}\n\n"
        monkeypatch.setattr("sys.stdin", Typist("1\n", wrapped))
        assert main(["--config", str(path), "auth", "mastodon", "--paste"]) == 0
        assert read_credential("mastodon") == MASTODON_TOKEN
        assert main(["--config", str(path), "check"]) == 0
        assert "mastodon: ok, @acme" in capsys.readouterr().out


def test_secure_only_never_offers_the_plain_file(tmp_path, capsys, monkeypatch, no_keyring):
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        printed = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist("1\n", mastodon_code(printed)))
        assert main(["--config", str(path), "auth", "mastodon", "--secure-only"]) == 0
        printed.read()
    assert "credentials file" not in printed.out.split("Where should")[1].split("Choose")[0]
    assert "1. nowhere: show it once" in printed.out  # the one way left without an encrypted backend
    assert printed.out.strip().splitlines()[-1] == MASTODON_TOKEN  # shown once, on stdout
    assert printed.out.count(MASTODON_TOKEN) == 1 and MASTODON_TOKEN not in printed.err
    assert not credentials_path().exists()


def test_secure_only_and_insecure_storage_contradict(tmp_path, capsys):
    path = config(tmp_path, "mastodon", "mastodon", "http://127.0.0.1:9")
    with pytest.raises(SystemExit):
        main(["--config", str(path), "auth", "mastodon", "--secure-only", "--insecure-storage"])


def test_without_keyring_and_without_an_answer_nothing_starts(tmp_path, capsys, monkeypatch, no_keyring):
    """A script with no keyring is told its choices before any app is registered."""
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        monkeypatch.setattr("sys.stdin", Typist())
        assert main(["--config", str(path), "auth", "mastodon"]) == 1
        requests = [r for r in server.requests if r.path.startswith(("/api/v1/apps", "/oauth"))]
    err = capsys.readouterr().err
    assert "--insecure-storage" in err and "--print" in err
    assert requests == []


def test_print_puts_the_token_alone_on_stdout(tmp_path, capsys, monkeypatch):
    """--print keeps nothing, even with a keyring: `ecoinbox auth m --print | pass insert -m ...`."""
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        printed = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist(mastodon_code(printed)))
        assert main(["--config", str(path), "auth", "mastodon", "--print"]) == 0
    printed.read()
    assert printed.out == MASTODON_TOKEN + "\n"
    assert "pass insert ecoinbox/mastodon" in printed.err and MASTODON_TOKEN not in printed.err
    assert keyring.get_password("ecoinbox", "mastodon") is None and not credentials_path().exists()


def test_a_token_that_cannot_be_saved_is_shown_once_with_what_to_do(
    tmp_path, capsys, monkeypatch, no_keyring
):
    credentials_path().parent.parent.mkdir(parents=True, exist_ok=True)
    credentials_path().parent.write_text("a file where the config directory should be")
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        printed = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist("1\n", mastodon_code(printed)))
        assert main(["--config", str(path), "auth", "mastodon"]) == 1
    printed.read()
    assert "could not be saved" in printed.err and "pass insert ecoinbox/mastodon" in printed.err
    assert (printed.out + printed.err).count(MASTODON_TOKEN) == 1


def test_insecure_storage_keeps_the_other_channels_tokens(tmp_path):
    save_credential("forum", "first-token")
    save_credential("mastodon", 'with "quotes" and \\ backslash')
    assert read_credential("forum") == "first-token"
    assert read_credential("mastodon") == 'with "quotes" and \\ backslash'


def test_a_credentials_file_others_can_read_is_refused_without_showing_it(tmp_path, capsys):
    save_credential("mastodon", MASTODON_TOKEN)
    credentials_path().chmod(0o644)
    path = config(tmp_path, "mastodon", "mastodon", "http://127.0.0.1:9")
    assert main(["--config", str(path), "list"]) == 0  # reading the store needs no token
    assert main(["--config", str(path), "poll", "--once"]) == 1
    err = capsys.readouterr().err
    assert "chmod 600" in err and MASTODON_TOKEN not in err


@pytest.mark.parametrize("kind", ["wordpress", "bluesky"])
def test_password_flows_save_to_the_file_with_insecure_storage_and_the_channel_polls(
    tmp_path, capsys, monkeypatch, no_keyring, kind
):
    """The flows that paste one password (WordPress, Bluesky) end in the same place: the 0600
    file chosen up front with --insecure-storage, read back by the channel."""
    from ecoinbox.demo.bluesky.server import BlueskyServer
    from ecoinbox.demo.wordpress.server import WordPressServer
    from ecoinbox.secrets import Secret

    password = "abcd-efgh-ijkl-mnop"
    server, account = (
        (WordPressServer(seed=None, app_password=password), "acme_team") if kind == "wordpress"
        else (BlueskyServer(brand="acme.bsky.example", seed=None, app_password=password), "acme.bsky.example")
    )  # fmt: skip
    with serving_in_a_thread(server):
        path = config_file(
            tmp_path, channel_toml(kind=kind, name=kind, base_url=server.base_url, account=account)
        )
        monkeypatch.setattr("ecoinbox.secrets.prompt_token", lambda prompt: Secret(password))
        assert main(["--config", str(path), "auth", kind, "--insecure-storage"]) == 0
        printed = capsys.readouterr()
        assert "NOT encrypted" not in printed.out and "plain text" in printed.out  # the warning
        assert read_credential(kind) == password
        assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
        assert main(["--config", str(path), "poll", "--once"]) == 0, capsys.readouterr()
    polled = capsys.readouterr().out
    assert f"{kind}: 0 new" in polled and password not in printed.out + printed.err + polled


class FakeEncryptedKeyring:
    """Stands in for keyrings.alt's EncryptedKeyring (not installed here): same name, same calls."""

    viable = True
    kept: ClassVar[dict[tuple[str, str], str]] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password


def test_an_installed_encrypted_file_backend_is_offered_and_used(tmp_path, capsys, monkeypatch, no_keyring):
    import sys
    import types

    module = types.ModuleType("keyrings.alt.file")
    module.EncryptedKeyring = FakeEncryptedKeyring  # type: ignore[attr-defined]
    for name in ("keyrings", "keyrings.alt"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "keyrings.alt.file", module)
    with serving_in_a_thread(MastodonServer(seed=None, token=MASTODON_TOKEN)) as server:
        path = config(tmp_path, "mastodon", "mastodon", server.base_url)
        screen = Screen(capsys)
        monkeypatch.setattr("sys.stdin", Typist("1\n", mastodon_code(screen)))
        assert main(["--config", str(path), "auth", "mastodon", "--secure-only"]) == 0
        screen.read()
    assert "1. an encrypted file (keyrings.alt.file.EncryptedKeyring)" in screen.out
    assert FakeEncryptedKeyring.kept[("ecoinbox", "mastodon")] == MASTODON_TOKEN
    assert "PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring" in screen.out
    assert MASTODON_TOKEN not in screen.out + screen.err and not credentials_path().exists()


def test_reddit_flow_without_keyring_saves_the_refresh_token_and_the_channel_polls(
    tmp_path, capsys, monkeypatch, no_keyring
):
    """Reddit's browser comes back to a loopback listener: the refresh token lands in the file."""
    import socket
    import threading

    from ecoinbox import auth
    from ecoinbox.demo.reddit.server import RedditServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect = f"http://localhost:{port}"
    with serving_in_a_thread(
        RedditServer(seed=None, client_id="test-client-id", redirect_uri=redirect)
    ) as server:
        reddit = channel_toml(
            kind="reddit",
            name="reddit",
            account="acme",
            client_id="test-client-id",
            base_url=server.base_url,
            auth_url=server.base_url,
            redirect_uri=redirect,
        )
        path = config_file(tmp_path, reddit)

        def browse(address: str) -> None:  # the manager approves in a browser
            with httpx.Client(trust_env=False) as browser:
                approved = browser.get(address)
                browser.get(approved.headers["location"])

        real_flow = auth.reddit_oauth

        async def flow_with_a_browser(channel, **_: object):  # type: ignore[no-untyped-def]
            def say(line: str) -> None:
                print(line)
                if line.strip().startswith(server.base_url):
                    threading.Thread(target=browse, args=(line.strip(),), daemon=True).start()

            return await real_flow(channel, say=say, timeout=10)

        monkeypatch.setattr("ecoinbox.channels.reddit.unit.reddit_oauth", flow_with_a_browser)
        monkeypatch.setattr("sys.stdin", Typist("1\n"))
        assert main(["--config", str(path), "auth", "reddit"]) == 0
        out = capsys.readouterr().out
        assert "identity read history privatemessages submit" in out and "Saved the token for reddit" in out
        token = read_credential("reddit")
        assert token and token not in out
        assert main(["--config", str(path), "poll", "--once"]) == 0
        assert "reddit: 0 new" in capsys.readouterr().out
