"""Tokens: where they come from, in which order, and how they fail without ever showing up."""

from __future__ import annotations

import asyncio
import copy
import pickle
import sys
import threading
import time
from collections.abc import Iterator

import keyring
import keyring.backends.fail
import keyring.errors
import pytest
from fakes import MemoryKeyring
from keyring.backend import KeyringBackend

from ecoinbox import secrets
from ecoinbox.config import ChannelSettings
from ecoinbox.secrets import (
    KeyringUnavailable,
    Secret,
    SecretError,
    child_env,
    keyring_backend_name,
    prompt_token,
    resolve_token,
    resolve_token_sync,
    store_token,
)

TOKEN = "tok-8f3a-VALUE"
ENV = "ECOINBOX_TEST_TOKEN"


class NoKeyring(KeyringBackend):
    """What a headless box over SSH gives: every call raises NoKeyringError."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")


class LeakyKeyring(MemoryKeyring):
    """A backend whose error message repeats the password it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"could not store {password!r} for {username}")


class HangingKeyring(MemoryKeyring):
    """A locked keyring waiting for a graphical prompt: calls block until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread())
        self.release.wait(30)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread())
        self.release.wait(30)
        super().set_password(service, username, password)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """No test ever reaches the developer's real keyring."""
    monkeypatch.delenv(ENV, raising=False)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(keyring.backends.fail.Keyring())


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> NoKeyring:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    backend = NoKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def hanging_keyring() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()
    for thread in backend.threads:
        thread.join(5)


def channel(**overrides: object) -> ChannelSettings:
    values: dict[str, object] = {"kind": "mastodon", "name": "fedi", "base_url": "https://social.example"}
    values.update(overrides)
    return ChannelSettings(**values)  # type: ignore[arg-type]


def python_cmd(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


# --- Secret ----------------------------------------------------------------------------------


def test_secret_hides_its_value() -> None:
    secret = Secret(TOKEN)
    assert secret.reveal() == TOKEN
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        "%s" % secret,  # noqa: UP031  the old operator must hide it too
        repr([secret]),
    ):
        assert TOKEN not in shown
    assert repr(secret) == str(secret) == "Secret('***')"


def test_secret_refuses_pickling_and_compares_by_value() -> None:
    secret = Secret(TOKEN)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret(TOKEN)
    assert secret != Secret(TOKEN + "x")
    assert secret != TOKEN  # a Secret is not a str
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        hash(secret)


# --- resolution order ------------------------------------------------------------------------


def test_token_cmd_comes_before_keyring_and_env(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_keyring.set_password("ecoinbox", "fedi", "from-keyring")
    monkeypatch.setenv(ENV, "from-env")
    settings = channel(token_cmd=python_cmd("print('from-cmd')"), token_env=ENV)
    assert resolve_token_sync(settings).reveal() == "from-cmd"


def test_keyring_comes_before_env(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    memory_keyring.set_password("ecoinbox", "fedi", "from-keyring")
    monkeypatch.setenv(ENV, "from-env")
    assert resolve_token_sync(channel(token_env=ENV)).reveal() == "from-keyring"
    # keyring = false skips it
    assert resolve_token_sync(channel(token_env=ENV, keyring=False)).reveal() == "from-env"


def test_env_is_used_when_the_keyring_has_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, f"  {TOKEN}\n")
    assert resolve_token_sync(channel(token_env=ENV)).reveal() == TOKEN


def test_keyring_entry_is_per_channel_name(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("ecoinbox", "other", "not-mine")
    memory_keyring.set_password("ecoinbox", "fedi", "mine")
    assert resolve_token_sync(channel()).reveal() == "mine"


async def test_async_resolution_follows_the_same_order(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "from-env")
    assert (await resolve_token(channel(token_env=ENV))).reveal() == "from-env"
    memory_keyring.set_password("ecoinbox", "fedi", "from-keyring")
    assert (await resolve_token(channel(token_env=ENV))).reveal() == "from-keyring"
    cmd = channel(token_env=ENV, token_cmd=python_cmd("print('from-cmd')"))
    assert (await resolve_token(cmd)).reveal() == "from-cmd"


# --- token_cmd ---------------------------------------------------------------------------------


def test_token_cmd_takes_the_first_line_like_pass() -> None:
    settings = channel(token_cmd=python_cmd(f"print('  {TOKEN}  '); print('login: acme'); print('url: x')"))
    assert resolve_token_sync(settings).reveal() == TOKEN


def test_token_cmd_failure_names_the_command_and_status_but_not_its_output() -> None:
    code = "import sys; print('LEAKED-STDOUT'); print('LEAKED-STDERR', file=sys.stderr); sys.exit(3)"
    with pytest.raises(SecretError) as info:
        resolve_token_sync(channel(token_cmd=python_cmd(code)))
    message = str(info.value)
    assert sys.executable in message
    assert "exited with status 3" in message
    assert "LEAKED" not in message
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_token_cmd_does_not_fall_back_when_it_fails(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("ecoinbox", "fedi", "from-keyring")
    with pytest.raises(SecretError, match="status 1"):
        resolve_token_sync(channel(token_cmd=python_cmd("raise SystemExit(1)")))


def test_token_cmd_timeout() -> None:
    settings = channel(token_cmd=python_cmd("import time; print('LEAKED'); time.sleep(30)"))
    started = time.monotonic()
    with pytest.raises(SecretError) as info:
        resolve_token_sync(settings, command_timeout=0.3)
    assert time.monotonic() - started < 10
    assert "did not finish within 0.3 s" in str(info.value)
    assert "LEAKED" not in str(info.value)


async def test_token_cmd_timeout_async() -> None:
    settings = channel(token_cmd=python_cmd("import time; time.sleep(30)"))
    with pytest.raises(SecretError, match="did not finish"):
        await resolve_token(settings, command_timeout=0.3)


def test_token_cmd_not_found_or_silent() -> None:
    with pytest.raises(SecretError, match="command '/nonexistent/ecoinbox-pass' not found"):
        resolve_token_sync(channel(token_cmd=("/nonexistent/ecoinbox-pass", "show")))
    with pytest.raises(SecretError, match="printed nothing"):
        resolve_token_sync(channel(token_cmd=python_cmd("print('   ')")))


def test_token_cmd_runs_without_a_shell() -> None:
    settings = channel(token_cmd=python_cmd("import sys; print(sys.argv[1])") + ("$HOME;echo",))
    assert resolve_token_sync(settings).reveal() == "$HOME;echo"


# --- no usable keyring ----------------------------------------------------------------------------


def test_no_keyring_falls_through_to_env(no_keyring: NoKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    assert resolve_token_sync(channel(token_env=ENV)).reveal() == TOKEN


async def test_no_keyring_falls_through_to_env_async(
    no_keyring: NoKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    assert (await resolve_token(channel(token_env=ENV))).reveal() == TOKEN


def test_no_keyring_and_nothing_else_gives_one_message_with_the_alternatives(no_keyring: NoKeyring) -> None:
    with pytest.raises(KeyringUnavailable) as info:
        resolve_token_sync(channel(token_env=ENV))
    message = str(info.value)
    assert message.startswith("no token for channel 'fedi': tried the OS keyring (unusable) and ")
    assert f"${ENV} (not set or empty)" in message
    assert "No usable OS keyring: no D-Bus session (typical over SSH)." in message
    for alternative in (
        'token_cmd = ["pass", "show", "ecoinbox/fedi"]',
        "pinentry-curses",
        f"export {ENV}=... (token_env is set",
        "dbus-run-session -- sh",
        "gnome-keyring-daemon --unlock",
        "pip install keyrings.cryptfile",
        "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring",
        "ecoinbox auth fedi",
    ):
        assert alternative in message
    assert info.value.reason == "no usable OS keyring: no D-Bus session (typical over SSH)"
    assert info.value.channel == "fedi"
    assert isinstance(info.value, SecretError)


def test_nothing_found_with_a_working_keyring_lists_the_ways() -> None:
    with pytest.raises(SecretError) as info:
        resolve_token_sync(channel())
    assert not isinstance(info.value, KeyringUnavailable)
    message = str(info.value)
    assert "no token for channel 'fedi'" in message
    assert "nothing stored for 'fedi'" in message
    assert "ecoinbox auth fedi" in message
    assert "token_cmd" in message and "token_env" in message


def test_nothing_found_with_keyring_off() -> None:
    with pytest.raises(SecretError) as info:
        resolve_token_sync(channel(keyring=False))
    assert "no token_cmd, keyring = false and no token_env" in str(info.value)
    assert "set keyring = true" in str(info.value)


# --- a keyring that never answers -------------------------------------------------------------------


def test_hanging_keyring_times_out(hanging_keyring: HangingKeyring) -> None:
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable) as info:
        resolve_token_sync(channel(), keyring_timeout=0.2)
    assert time.monotonic() - started < 2
    assert "did not answer within 0.2 s" in str(info.value)
    assert "locked and waiting for a graphical prompt" in str(info.value)
    assert "token_cmd" in str(info.value)


async def test_hanging_keyring_times_out_async_and_env_still_works(
    hanging_keyring: HangingKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.2 s"):
        await resolve_token(channel(), keyring_timeout=0.2)
    monkeypatch.setenv(ENV, TOKEN)
    # While the first call is stuck, later ones do not wait again: they fail over at once.
    started = time.monotonic()
    assert (await resolve_token(channel(token_env=ENV), keyring_timeout=5)).reveal() == TOKEN
    assert time.monotonic() - started < 1
    assert len(hanging_keyring.threads) == 1


def test_keyring_is_asked_again_once_the_stuck_call_returns(hanging_keyring: HangingKeyring) -> None:
    hanging_keyring.passwords[("ecoinbox", "fedi")] = TOKEN
    with pytest.raises(KeyringUnavailable):
        resolve_token_sync(channel(), keyring_timeout=0.2)
    hanging_keyring.release.set()  # the user unlocked it
    hanging_keyring.threads[0].join(5)
    assert resolve_token_sync(channel(), keyring_timeout=2).reveal() == TOKEN


def test_a_stuck_keyring_does_not_keep_asyncio_run_from_returning(hanging_keyring: HangingKeyring) -> None:
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable):
        asyncio.run(resolve_token(channel(), keyring_timeout=0.2))
    assert time.monotonic() - started < 2


# --- storing ------------------------------------------------------------------------------------------


def test_store_token_roundtrip(memory_keyring: MemoryKeyring) -> None:
    backend = store_token("fedi", f"  {TOKEN}\n")
    assert backend == f"{MemoryKeyring.__module__}.MemoryKeyring"
    assert memory_keyring.passwords == {("ecoinbox", "fedi"): TOKEN}
    assert resolve_token_sync(channel()).reveal() == TOKEN
    assert keyring_backend_name() == backend


def test_store_token_refuses_an_empty_token(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(SecretError, match="empty"):
        store_token("fedi", "   ")
    assert memory_keyring.passwords == {}


def test_store_token_without_a_keyring_gives_the_alternatives(no_keyring: NoKeyring) -> None:
    with pytest.raises(KeyringUnavailable) as info:
        store_token("fedi", TOKEN)
    message = str(info.value)
    assert message.startswith("cannot store the token for channel 'fedi': no usable OS keyring")
    assert "dbus-run-session" in message and "keyrings.cryptfile" in message
    assert TOKEN not in message


def test_store_token_scrubs_a_backend_error_that_repeats_the_token() -> None:
    keyring.set_keyring(LeakyKeyring())
    with pytest.raises(KeyringUnavailable) as info:
        store_token("fedi", TOKEN)
    assert TOKEN not in str(info.value)
    assert "PasswordSetError" in str(info.value)


def test_store_token_on_a_hanging_keyring(hanging_keyring: HangingKeyring) -> None:
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.2 s"):
        store_token("fedi", TOKEN, timeout=0.2)


# --- terminal and child processes ---------------------------------------------------------------------


def test_prompt_token_uses_getpass(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return f" {TOKEN} "

    monkeypatch.setattr(secrets.getpass, "getpass", fake_getpass)
    assert prompt_token("Token for fedi: ").reveal() == TOKEN
    assert prompts == ["Token for fedi: "]
    monkeypatch.setattr(secrets.getpass, "getpass", lambda prompt="": "")
    with pytest.raises(SecretError, match="no token entered"):
        prompt_token("Token: ")


def test_child_env_drops_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "my_secret", "DB_PASSWORD", "OPENAI_API_KEY", "MASTO_KEY"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("EDITOR", "vim")
    monkeypatch.setenv("GPG_TTY", "/dev/pts/1")
    env = child_env(also_drop=["masto_key"])
    assert env["EDITOR"] == "vim" and env["GPG_TTY"] == "/dev/pts/1"
    for name in ("GITHUB_TOKEN", "my_secret", "DB_PASSWORD", "OPENAI_API_KEY", "MASTO_KEY"):
        assert name not in env
