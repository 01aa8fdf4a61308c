"""`ecoinbox auth CHANNEL`: each platform's way to get a token, kept where the manager can keep it.

Where the token will go is settled before any flow starts (`choose_destination`): the OS keyring
when one works; otherwise the manager's choice of a plain credentials file (with a warning), an
encrypted file through an installed keyring backend, or showing it once (`--print`) for `pass`.
The token obtained is never lost: when saving fails it is shown once with what to do.
Each flow first says what it asks the platform for. No token reaches a log or an error message.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ecoinbox import credentials, secrets
from ecoinbox.channels import registry
from ecoinbox.channels.reddit.unit import reddit_oauth
from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.channels.unit import FlowError
from ecoinbox.credentials import Destination
from ecoinbox.secrets import Secret, SecretError

__all__ = [
    "AuthError",
    "AuthOptions",
    "Plan",
    "choose_destination",
    "keep_token",
    "obtain_token",
    "reddit_oauth",
    "run_auth",
    "what_it_asks_for",
]


AuthError = FlowError
"""The auth flow stopped; the message says why and what to do (never a token)."""


@dataclass(frozen=True, slots=True)
class AuthOptions:
    """The command line's choices for `ecoinbox auth`."""

    paste: bool = False
    print_only: bool = False
    """--print: show the token once, keep it nowhere."""
    secure_only: bool = False
    """--secure-only: never the plain credentials file."""
    insecure_storage: bool = False
    """--insecure-storage: the plain credentials file without asking, even with a keyring."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Where the token will go, settled before the flow starts."""

    destination: Destination
    encrypted: credentials.EncryptedBackend | None = None


# ---- where the token goes ------------------------------------------------------------------------


def choose_destination(channel: str, options: AuthOptions, *, say: Callable[[str], None] = print,
                       ask: Callable[[str], str] = input) -> Plan:  # fmt: skip
    """The keyring if it works; else what the manager picks among the ways left (asked on the
    terminal; a script answers on standard input or passes --insecure-storage or --print)."""
    if options.print_only:
        return Plan(Destination.PRINT)
    if options.insecure_storage and options.secure_only:
        raise AuthError("--insecure-storage and --secure-only contradict each other: choose one")
    if options.insecure_storage:
        say(_plain_file_warning())
        return Plan(Destination.FILE)
    reason = secrets.keyring_unusable_reason(channel)
    if reason is None:
        return Plan(Destination.KEYRING)
    encrypted = credentials.encrypted_backend()
    file_label = (
        f"a credentials file, {credentials.credentials_path()}: readable only by you, but NOT encrypted"
    )
    choices: list[tuple[Plan, str]] = []
    if not options.secure_only:
        choices.append((Plan(Destination.FILE), file_label))
    if encrypted is not None:
        label = f"an encrypted file ({encrypted.name}): asks its password when ecoinbox starts"
        choices.append((Plan(Destination.ENCRYPTED, encrypted), label))
    label = f"nowhere: show it once, for `pass insert ecoinbox/{channel}` and token_cmd"
    choices.append((Plan(Destination.PRINT), label))
    say(f"The token cannot go into an OS keyring here: {reason}.")
    say(f"Where should ecoinbox keep the token for {channel}?")
    for number, (_, label) in enumerate(choices, 1):
        say(f"  {number}. {label}")
    refused = " (--secure-only: the plain file is not offered)" if options.secure_only else ""
    while True:
        try:
            answer = ask(f"Choose 1-{len(choices)}{refused}: ").strip()
        except EOFError:
            raise AuthError(
                f"no usable keyring ({reason}) and no answer on standard input: run `ecoinbox auth "
                f"{channel}` again with --insecure-storage (a plain 0600 file) or --print (show it once)"
            ) from None
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            plan = choices[int(answer) - 1][0]
            if plan.destination is Destination.FILE:
                say(_plain_file_warning())
            return plan
        say(f"Type a number from 1 to {len(choices)}.")


def _plain_file_warning() -> str:
    path = credentials.credentials_path()
    return (
        f"! The token will be saved in plain text in {path} (0600, in a 0700 directory). Anyone who can "
        f"read your files, root or your backups can use the account. Prefer pass (--print) where you can."
    )


def keep_token(channel: ChannelSettings, token: Secret, plan: Plan, *, out: TextIO | None = None,
               err: TextIO | None = None, next_step: str | None = "Try it: ecoinbox check") -> bool:  # fmt: skip
    """Keep `token` as planned; True when it is kept. If saving fails, the token is shown once
    with the ways to keep it, so an approved flow is never thrown away."""
    out, err = out or sys.stdout, err or sys.stderr
    name, value = channel.name, token.reveal().strip()
    if plan.destination is Destination.PRINT:
        if out.isatty():
            print(f"The token for {name}, shown this once (ecoinbox keeps no copy):", file=err)
        print(value, file=out, flush=True)
        print(_ways_to_keep(name), file=err)
        return True
    try:
        where = _save(name, value, plan)
    except (SecretError, credentials.CredentialsFileError) as exc:
        reason = str(exc).splitlines()[0]
    except OSError as exc:
        reason = f"{exc.strerror or type(exc).__name__}{f' ({exc.filename})' if exc.filename else ''}"
    else:
        print(f"Saved the token for {name} in {where}.", file=out)
        if next_step:
            print(next_step, file=out)
        return True
    print(f"The token for {name} could not be saved: {reason.replace(value, '***')}.", file=err)
    print("Here it is, shown this once (ecoinbox keeps no copy):", file=err)
    print(f"    {value}", file=err, flush=True)
    print(_ways_to_keep(name), file=err)
    return False


def _save(name: str, value: str, plan: Plan) -> str:
    if plan.destination is Destination.KEYRING:
        return f"the OS keyring ({secrets.store_token(name, value)})"
    if plan.destination is Destination.ENCRYPTED:
        assert plan.encrypted is not None
        backend = plan.encrypted.backend
        backend.set_password(secrets.KEYRING_SERVICE, name, value)  # type: ignore[attr-defined]
        return (f"the encrypted file of {plan.encrypted.name}. ecoinbox reads it when started with "
                f"PYTHON_KEYRING_BACKEND={plan.encrypted.name} in its environment (add it to your "
                f"shell's profile)")  # fmt: skip
    path = credentials.save_credential(name, value)
    return f"{path} (plain text, 0600; the channel reads it from there)"


def _ways_to_keep(name: str) -> str:
    return "\n".join([
        "Keep it one of these ways:",
        f"  - pass insert ecoinbox/{name}  (paste it), then in its [[channels]] entry:",
        f'      token_cmd = ["pass", "show", "ecoinbox/{name}"]',
        f"  - or save it in the plain credentials file: ecoinbox auth {name} --insecure-storage",
        '  - or export it in the environment ecoinbox starts from, with token_env = "NAME" in its entry',
    ])  # fmt: skip


# ---- each platform's flow (its unit's) -----------------------------------------------------------


def what_it_asks_for(channel: ChannelSettings, paste: bool = False) -> str:
    """One or two lines on the rights the token will carry, said before the flow starts."""
    return registry.unit(channel.kind).what_it_asks_for(channel, paste)


def obtain_token(channel: ChannelSettings, paste: bool = False) -> Secret:
    """Run the channel's own flow and return the token (not yet kept anywhere)."""
    return registry.unit(channel.kind).obtain_token(channel, paste)


# ---- the command ---------------------------------------------------------------------------------


def run_auth(channel: ChannelSettings, options: AuthOptions) -> int:
    """`ecoinbox auth NAME`: settle where the token goes, say what is asked, run the flow, keep it.
    Returns the exit status (1 when the token could only be shown)."""
    if not channel.needs_token:
        print(f"Channel {channel.name} reads public feeds: it needs no password, nothing to store.")
        print(
            'For a feed behind HTTP Basic, set auth = "basic" and account = "USER" in its [[channels]] entry.'
        )
        return 0
    # With --print the token is the only thing on standard output (`... --print | pass insert -m`).
    talk = contextlib.redirect_stdout(sys.stderr) if options.print_only else contextlib.nullcontext()
    out = sys.stdout
    with talk:
        plan = choose_destination(channel.name, options)
        print(what_it_asks_for(channel, options.paste))
        token = obtain_token(channel, options.paste)
        if not token.reveal().strip():
            raise AuthError("no token given; nothing stored")
        kept = keep_token(channel, token, plan, out=out if options.print_only else sys.stdout)
    return 0 if kept else 1
