"""Channel tokens: found through a command, the OS keyring or an environment variable.

Resolution order for a channel (the first that yields a token wins):

1. ``token_cmd``: an argv list run without a shell (e.g. ``pass show ecoinbox/NAME``); its
   stdout is the token. It runs with the user's own environment, since ``pass`` needs
   ``GPG_TTY``, ``GNUPGHOME`` and the agent sockets; its output is never shown in an error.
2. The OS keyring (when the channel has ``keyring = true``): service ``ecoinbox``, username =
   the channel name. Over SSH there is often no keyring at all (``NoKeyringError``) or a locked
   one that waits forever for a graphical prompt, so every keyring call runs in a daemon thread
   under a deadline.
3. The plain credentials file `ecoinbox auth` writes when there is no keyring and the user
   chooses it (``credentials.toml`` in the config directory, 0600; see `ecoinbox.credentials`).
4. The environment variable named by ``token_env``.

Resolve tokens before the TUI takes the terminal: ``pass`` may need pinentry-curses. When a
platform later refuses a token, the engine reads it again through `token_source`, which never
lets the command reach the terminal (see `TokenSource`).
A token is held in a `Secret`, whose repr and str never show it. It is never logged and never
put in an exception message.
"""

from __future__ import annotations

import getpass
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, NoReturn, TypeVar

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.credentials import CredentialsFileError, read_credential

__all__ = [
    "KEYRING_SERVICE",
    "KeyringUnavailable",
    "Secret",
    "SecretError",
    "TokenSource",
    "child_env",
    "keyring_backend_name",
    "keyring_unusable_reason",
    "prompt_block",
    "prompt_token",
    "resolve_token",
    "resolve_token_sync",
    "store_token",
    "token_source",
]

log = logging.getLogger(__name__)

KEYRING_SERVICE: Final = "ecoinbox"
TOKEN_CMD_TIMEOUT: Final = 10.0
"""Seconds a token_cmd may take (a gpg passphrase prompt included)."""
KEYRING_TIMEOUT: Final = 5.0
"""Seconds a keyring call may take before we decide it is locked and waiting for a GUI prompt."""

_T = TypeVar("_T")
_Outcome = tuple[bool, object]  # (True, result) or (False, the exception raised)


class Secret:
    """A token held in memory. Shows as ``Secret('***')``; `reveal()` gives the value.

    It refuses to be pickled (so it cannot end up in a cache or a queue by accident) and
    compares in constant time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """The token itself: pass it straight to the request that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # here: its OpenSSL start (9 ms) is not for a command that never compares tokens

        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    __hash__ = None  # type: ignore[assignment]  # a hash of the token would be a leak of sorts

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self


class SecretError(Exception):
    """A token could not be found or read. The message says why and what to do; never the token."""

    def __init__(self, message: str, *, channel: str | None = None) -> None:
        super().__init__(message)
        self.channel = channel


class KeyringUnavailable(SecretError):
    """The OS keyring cannot be used here (none, locked, or not answering).

    `reason` is the one-line cause; the message adds the ways to do without the keyring.
    """

    def __init__(self, message: str, *, reason: str, channel: str | None = None) -> None:
        super().__init__(message, channel=channel)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Resolution


def resolve_token_sync(
    channel: ChannelSettings,
    *,
    keyring_timeout: float = KEYRING_TIMEOUT,
    command_timeout: float = TOKEN_CMD_TIMEOUT,
) -> Secret:
    """The channel's token, for the CLI. Raises SecretError (KeyringUnavailable when the
    keyring could not be asked and nothing else had a token)."""
    if not channel.needs_token:
        return Secret("")  # a public feed: nothing to find
    if channel.token_cmd:
        return _run_token_cmd(channel, command_timeout)
    keyring_failure: KeyringUnavailable | None = None
    if channel.keyring:
        try:
            value = _call_keyring_sync(lambda: _keyring_get(channel.name), keyring_timeout)
        except KeyringUnavailable as exc:
            keyring_failure = exc
        else:
            if value:
                return Secret(value)
    saved = _from_credentials_file(channel)
    if saved is not None:
        return saved
    return _from_env_or_fail(channel, keyring_failure)


async def resolve_token(
    channel: ChannelSettings,
    *,
    keyring_timeout: float = KEYRING_TIMEOUT,
    command_timeout: float = TOKEN_CMD_TIMEOUT,
    interactive: bool = True,
) -> Secret:
    """The channel's token, without blocking the event loop. Same rules as `resolve_token_sync`.

    With `interactive=False` a token_cmd cannot reach the terminal (see `token_source`).
    """
    import asyncio  # here: `ecoinbox list` reads the config's channels, never their tokens

    if not channel.needs_token:
        return Secret("")
    if channel.token_cmd:
        # subprocess.run kills the command at its timeout, so this thread always ends.
        return await asyncio.to_thread(_run_token_cmd, channel, command_timeout, interactive)
    keyring_failure: KeyringUnavailable | None = None
    if channel.keyring:
        try:
            value = await _call_keyring(lambda: _keyring_get(channel.name), keyring_timeout)
        except KeyringUnavailable as exc:
            keyring_failure = exc
        else:
            if value:
                return Secret(value)
    saved = await asyncio.to_thread(_from_credentials_file, channel)
    if saved is not None:
        return saved
    return _from_env_or_fail(channel, keyring_failure)


@dataclass(frozen=True, slots=True)
class TokenSource:
    """How a running channel gets its token again once the platform has refused it, and what
    the manager does to renew it (`hint`, e.g. "run `ecoinbox auth mastodon`")."""

    resolve: Callable[[], Awaitable[Secret]]
    hint: str


def token_source(channel: ChannelSettings) -> TokenSource:
    """The channel's token source for the engine: read the way the token was first found, but
    never from the terminal, which the TUI owns by then."""
    return TokenSource(partial(resolve_token, channel, interactive=False), renew_hint(channel))


def renew_hint(channel: ChannelSettings) -> str:
    """What to do about a refused token, for the source the channel reads it from."""
    if channel.token_cmd:
        return f"update the token `{os.path.basename(channel.token_cmd[0])}` prints"
    if not channel.keyring and channel.token_env:
        return f"restart ecoinbox with a new ${channel.token_env}"
    return f"run `ecoinbox auth {channel.name}`"


def _from_credentials_file(channel: ChannelSettings) -> Secret | None:
    """The token `ecoinbox auth` saved in the plain credentials file, when the user chose it."""
    try:
        value = read_credential(channel.name)
    except CredentialsFileError as exc:
        raise SecretError(f"channel '{channel.name}': {exc}", channel=channel.name) from None
    return Secret(value) if value else None


def _keyring_get(channel_name: str) -> str | None:
    import keyring  # when a channel asks it: `ecoinbox list` starts without it (60 ms)

    return keyring.get_password(KEYRING_SERVICE, channel_name)


def _run_token_cmd(channel: ChannelSettings, timeout: float, interactive: bool = True) -> Secret:
    assert channel.token_cmd
    argv = list(channel.token_cmd)
    program = argv[0]
    where = f"token_cmd of channel '{channel.name}'"
    # The user's own environment on purpose: pass/gpg need GPG_TTY, GNUPGHOME, agent sockets.
    # Once the TUI owns the terminal, a prompt there would garble it: then the command runs in
    # a session of its own (no /dev/tty) and gpg is not told the terminal (a GUI pinentry or
    # the agent's cache still work).
    env = None if interactive else {k: v for k, v in os.environ.items() if k != "GPG_TTY"}
    try:
        result = subprocess.run(
            argv, shell=False, timeout=timeout, capture_output=True, stdin=subprocess.DEVNULL,
            check=False, env=env, start_new_session=not interactive,
        )  # fmt: skip
    except FileNotFoundError:
        raise SecretError(f"{where}: command '{program}' not found", channel=channel.name) from None
    except PermissionError:
        raise SecretError(f"{where}: command '{program}' is not executable", channel=channel.name) from None
    except subprocess.TimeoutExpired:
        raise SecretError(
            f"{where}: '{program}' did not finish within {timeout:g} s and was stopped "
            "(is it waiting for a passphrase it cannot ask for?)",
            channel=channel.name,
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SecretError(f"{where}: could not run '{program}': {reason}", channel=channel.name) from None
    if result.returncode != 0:
        status = (
            f"was killed by signal {-result.returncode}"
            if result.returncode < 0
            else f"exited with status {result.returncode}"
        )
        raise SecretError(
            f"{where}: '{program}' {status} (its output is not shown, as it may hold the token; "
            "run the command yourself to see why)",
            channel=channel.name,
        )
    try:
        output = result.stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        message = f"{where}: '{program}' printed something that is not UTF-8 text"
        raise SecretError(message, channel=channel.name) from None
    # pass(1) convention: the secret is the first line, metadata may follow.
    token = output.splitlines()[0].strip() if output else ""
    if not token:
        raise SecretError(f"{where}: '{program}' printed nothing on stdout", channel=channel.name)
    return Secret(token)


def _from_env_or_fail(channel: ChannelSettings, keyring_failure: KeyringUnavailable | None) -> Secret:
    if channel.token_env:
        value = os.environ.get(channel.token_env, "").strip()
        if value:
            if keyring_failure is not None:
                log.info(
                    "channel %s: keyring unusable (%s); token taken from $%s",
                    channel.name,
                    keyring_failure.reason,
                    channel.token_env,
                )
            return Secret(value)
    tried: list[str] = []
    if keyring_failure is not None:
        tried.append("the OS keyring (unusable)")
    elif channel.keyring:
        tried.append(f"the OS keyring (nothing stored for '{channel.name}')")
    if channel.token_env:
        tried.append(f"${channel.token_env} (not set or empty)")
    looked = f"tried {' and '.join(tried)}" if tried else "no token_cmd, keyring = false and no token_env"
    header = f"no token for channel '{channel.name}': {looked}."
    if keyring_failure is not None:
        reason = keyring_failure.reason
        cause = f"{reason[:1].upper()}{reason[1:]}."
        message = "\n".join([header, cause, _alternatives(channel.name, channel.token_env)])
        raise KeyringUnavailable(message, reason=keyring_failure.reason, channel=channel.name)
    raise SecretError("\n".join([header, _ways_to_provide(channel)]), channel=channel.name)


def _env_suggestion(name: str) -> str:
    return "ECOINBOX_" + "".join(char if char.isalnum() else "_" for char in name.upper()) + "_TOKEN"


def _env_way(name: str, token_env: str | None, where: str) -> str:
    if token_env:
        return f"  - export {token_env}=... (token_env is set in {where})"
    return f'  - set token_env = "{_env_suggestion(name)}" in {where} and export that variable'


def _ways_to_provide(channel: ChannelSettings) -> str:
    name = channel.name
    keyring_way = (
        f"  - run `ecoinbox auth {name}` to store it in the OS keyring"
        if channel.keyring
        else f"  - set keyring = true in its [[channels]] entry, then run `ecoinbox auth {name}`"
    )
    return "\n".join(
        [
            "Provide it one of these ways:",
            keyring_way,
            (
                f'  - set token_cmd = ["pass", "show", "ecoinbox/{name}"] in its [[channels]] entry '
                "(any command that prints the token)"
            ),
            _env_way(name, channel.token_env, "its [[channels]] entry"),
        ]
    )


def _alternatives(name: str, token_env: str | None = None) -> str:
    """What to do when there is no usable keyring, most robust first."""
    return "\n".join(
        [
            "Ways to provide the token without it:",
            (
                f"  - run `ecoinbox auth {name}`: without a keyring it offers a credentials file (0600, "
                "not encrypted) or shows the token once (--print) for pass"
            ),
            (
                f'  - token_cmd = ["pass", "show", "ecoinbox/{name}"] in the [[channels]] entry '
                "(pass with gpg-agent and pinentry-curses works over SSH; export GPG_TTY=$(tty))"
            ),
            _env_way(name, token_env, "the [[channels]] entry"),
            (
                "  - start a keyring for this session: `dbus-run-session -- sh`, then in that shell "
                "`gnome-keyring-daemon --unlock` (type the keyring password, then Ctrl-D), "
                f"then `ecoinbox auth {name}`"
            ),
            (
                "  - an encrypted file keyring: `pip install keyrings.cryptfile`, "
                "export PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring, "
                f"then `ecoinbox auth {name}`"
            ),
        ]
    )


# --------------------------------------------------------------------------------------------
# Storing


def store_token(channel_name: str, token: str, *, timeout: float = KEYRING_TIMEOUT) -> str:
    """Save `token` in the OS keyring for `channel_name`; returns the backend's name.

    Raises KeyringUnavailable (with the alternatives) when there is no usable keyring, and
    SecretError for an empty token. Nothing is ever written to a plain file.
    """
    token = token.strip()
    if not token:
        raise SecretError("the token is empty; nothing was stored", channel=channel_name)

    def store() -> str:
        import keyring

        keyring.set_password(KEYRING_SERVICE, channel_name, token)
        return _backend_name(keyring.get_keyring())

    try:
        return _call_keyring_sync(store, timeout, scrub=token)
    except KeyringUnavailable as exc:
        message = "\n".join(
            [
                f"cannot store the token for channel '{channel_name}': {exc.reason}.",
                _alternatives(channel_name),
            ]
        )
        raise KeyringUnavailable(message, reason=exc.reason, channel=channel_name) from None


def keyring_unusable_reason(channel_name: str, *, timeout: float = KEYRING_TIMEOUT) -> str | None:
    """Why `ecoinbox auth` could not keep a token in the OS keyring here, or None if it can.

    Asked before any flow starts, so a manager never approves an app only to learn at the end
    that the token has nowhere to go. A locked keyring that does not answer counts as unusable.
    """

    def probe() -> str | None:
        import keyring

        backend = keyring.get_keyring()
        name = _backend_name(backend)
        inner = getattr(backend, "backends", None)
        if name.startswith(("keyring.backends.fail", "keyring.backends.null")) or inner == []:
            if _no_dbus():
                return "no usable OS keyring: no D-Bus session (typical over SSH)"
            return f"no usable OS keyring: the backend in use ({name}) stores nothing"
        _keyring_get(channel_name)  # a locked keyring fails or hangs here, not after the flow
        return None

    try:
        return _call_keyring_sync(probe, timeout)
    except KeyringUnavailable as exc:
        return exc.reason


def keyring_backend_name(*, timeout: float = KEYRING_TIMEOUT) -> str:
    """The keyring backend in use, e.g. "keyring.backends.SecretService.Keyring" (for `check`)."""
    import keyring

    return _call_keyring_sync(lambda: _backend_name(keyring.get_keyring()), timeout)


def _backend_name(backend: object) -> str:
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    inner = getattr(backend, "backends", None)  # the chainer delegates to several backends
    if isinstance(inner, list | tuple) and inner:
        name += " (" + ", ".join(f"{type(b).__module__}.{type(b).__qualname__}" for b in inner) + ")"
    return name


# --------------------------------------------------------------------------------------------
# Calling the keyring under a deadline
#
# A locked keyring can block forever inside D-Bus. `asyncio.to_thread` would leave that thread
# in the default executor, which `asyncio.run` joins at exit (and concurrent.futures joins at
# interpreter exit): the program would hang on quit. So each call gets its own daemon thread,
# and while one is stuck, later calls fail at once instead of stacking up more stuck threads.

_stuck_lock = threading.Lock()
_stuck_call: threading.Thread | None = None


def _no_dbus() -> bool:
    return not os.environ.get("DBUS_SESSION_BUS_ADDRESS")


def _reason_for(exc: BaseException, scrub: str | None) -> str:
    """One line saying why the keyring failed, with the token scrubbed out if it leaked in."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if scrub and scrub in detail:
        detail = detail.replace(scrub, "***")
    detail = detail[:200]
    import keyring.errors

    if isinstance(exc, keyring.errors.NoKeyringError):
        if _no_dbus():
            return "no usable OS keyring: no D-Bus session (typical over SSH)"
        return "no usable OS keyring: no recommended keyring backend is available"
    if isinstance(exc, keyring.errors.KeyringLocked):
        return f"the OS keyring is locked and could not be unlocked ({detail or 'no detail'})"
    if isinstance(exc, keyring.errors.InitError):
        return f"the OS keyring could not be initialised ({detail or 'no detail'})"
    label = type(exc).__name__
    return f"the OS keyring failed ({label}: {detail})" if detail else f"the OS keyring failed ({label})"


def _timeout_reason(timeout: float) -> str:
    return (
        f"the keyring did not answer within {timeout:g} s "
        "(it is probably locked and waiting for a graphical prompt)"
    )


def _unavailable(reason: str) -> KeyringUnavailable:
    return KeyringUnavailable(reason, reason=reason)


def _start_call(fn: Callable[[], _T], on_done: Callable[[_Outcome], None]) -> threading.Thread:
    global _stuck_call
    with _stuck_lock:
        if _stuck_call is not None and _stuck_call.is_alive():
            raise _unavailable(
                "the keyring still has not answered an earlier request "
                "(it is probably locked and waiting for a graphical prompt)"
            )
        _stuck_call = None

    def run() -> None:
        try:
            outcome: _Outcome = (True, fn())
        except Exception as exc:  # noqa: BLE001 - reported to the caller, whatever it is
            outcome = (False, exc)
        on_done(outcome)

    thread = threading.Thread(target=run, name="ecoinbox-keyring", daemon=True)
    thread.start()
    return thread


def _mark_stuck(thread: threading.Thread) -> None:
    global _stuck_call
    with _stuck_lock:
        _stuck_call = thread


def _unwrap(outcome: _Outcome, scrub: str | None) -> Any:
    ok, value = outcome
    if ok:
        return value
    assert isinstance(value, BaseException)
    raise _unavailable(_reason_for(value, scrub)) from None


def _call_keyring_sync(fn: Callable[[], _T], timeout: float, *, scrub: str | None = None) -> _T:
    done = threading.Event()
    box: list[_Outcome] = []

    def on_done(outcome: _Outcome) -> None:
        box.append(outcome)
        done.set()

    thread = _start_call(fn, on_done)
    if not done.wait(timeout):
        _mark_stuck(thread)
        raise _unavailable(_timeout_reason(timeout))
    return _unwrap(box[0], scrub)


async def _call_keyring(fn: Callable[[], _T], timeout: float, *, scrub: str | None = None) -> _T:
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[_Outcome] = loop.create_future()

    def settle(outcome: _Outcome) -> None:
        if not future.done():
            future.set_result(outcome)

    def on_done(outcome: _Outcome) -> None:
        try:
            loop.call_soon_threadsafe(settle, outcome)
        except RuntimeError:  # the loop closed while the keyring was stuck: nobody is waiting
            pass

    thread = _start_call(fn, on_done)
    try:
        outcome = await asyncio.wait_for(future, timeout)
    except TimeoutError:
        _mark_stuck(thread)
        raise _unavailable(_timeout_reason(timeout)) from None
    return _unwrap(outcome, scrub)


# --------------------------------------------------------------------------------------------
# Terminal and child processes


def prompt_token(prompt: str) -> Secret:
    """Ask for a token on the terminal without echoing it. Raises SecretError if none is typed."""
    value = getpass.getpass(prompt).strip()
    if not value:
        raise SecretError("no token entered")
    return Secret(value)


def prompt_block(prompt: str, *, complete: Callable[[str], bool] | None = None) -> Secret:
    """Read a pasted token or key block without echoing it: lines until an empty one, the end of
    the input, or until `complete(text)` says the block is whole. Whitespace is dropped, so a key
    the page wrapped at 60 characters reads as one. Raises SecretError if nothing was pasted."""
    stream = sys.stdin
    saved = _echo_off(stream)  # before the prompt: a paste typed the moment it shows is not echoed
    print(prompt, end="", file=sys.stderr, flush=True)
    parts: list[str] = []
    try:
        while True:
            line = stream.readline()
            piece = "".join(line.split())
            if piece:
                parts.append(piece)
            if not line or not piece or (complete is not None and complete("".join(parts))):
                break
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(stream.fileno(), termios.TCSANOW, saved)
        print(file=sys.stderr, flush=True)  # the Enter the user typed was not echoed either
    text = "".join(parts)
    if not text:
        raise SecretError("nothing was pasted")
    return Secret(text)


def _echo_off(stream: Any) -> list[Any] | None:
    """Stop the terminal echoing what is typed; returns what to restore (None: not a terminal).
    TCSANOW, not getpass's TCSAFLUSH: a paste already in the buffer must not be thrown away."""
    import termios

    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return None
        saved = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):
        return None
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    return saved


_SECRET_ENV_MARKERS: Final = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "CREDENTIAL")


def child_env(also_drop: Iterable[str] = ()) -> dict[str, str]:
    """The environment for child processes such as $EDITOR, without anything that looks like
    a credential: names containing TOKEN, SECRET, PASSWORD, PASSWD, API_KEY, APIKEY or CREDENTIAL
    (any case), plus the names in `also_drop` (pass every channel's token_env).

    Not used for token_cmd: `pass` and gpg need the user's full environment.
    """
    dropped = {name.upper() for name in also_drop}
    return {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in dropped and not any(marker in name.upper() for marker in _SECRET_ENV_MARKERS)
    }
