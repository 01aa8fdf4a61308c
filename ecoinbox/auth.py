"""`ecoinbox auth CHANNEL`: each platform's way to get a token, kept where the manager can keep it.

Where the token will go is settled before any flow starts (`choose_destination`): the OS keyring
when one works; otherwise the manager's choice of a plain credentials file (with a warning), an
encrypted file through an installed keyring backend, or showing it once (`--print`) for `pass`.
The token obtained is never lost: when saving fails it is shown once with what to do.
Each flow first says what it asks the platform for. No token reaches a log or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ecoinbox import credentials, secrets
from ecoinbox.config import ChannelSettings
from ecoinbox.credentials import Destination
from ecoinbox.sanitize import sanitize
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


class AuthError(Exception):
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


# ---- what each flow asks for -------------------------------------------------------------------


def what_it_asks_for(channel: ChannelSettings, paste: bool = False) -> str:
    """One or two lines on the rights the token will carry, said before the flow starts."""
    from ecoinbox.channels import mastodon, reddit
    from ecoinbox.channels.discourse import USER_API_SCOPES

    account = channel.account or "the brand account"
    if channel.kind == "mastodon":
        if paste:
            return (f"Paste an access token made under Preferences > Development with only these scopes: "
                    f"{mastodon.SCOPES}.")  # fmt: skip
        return (f"ecoinbox asks for: {mastodon.SCOPES} (read notifications, posts, profiles and search, "
                f"see who blocks the brand, post replies; nothing else: no follows, no deletes, no profile "
                f"changes).")  # fmt: skip
    if channel.kind == "discourse" and channel.auth == "user_api_key" and not paste:
        return (
            f"ecoinbox asks for a user API key with scopes {USER_API_SCOPES}: it reads and posts as "
            f"{account}, never as an admin; revoke it under the account's Preferences > Apps."
        )
    if channel.kind == "discourse":
        return "Paste an API key; an admin can scope it to the brand's user and to read and write topics."
    if channel.kind == "reddit":
        return (
            f"ecoinbox asks Reddit for: {' '.join(reddit.SCOPES)} (a refresh token, revocable in your apps)."
        )
    if channel.kind == "wordpress":
        return (
            f"WordPress has no narrower grant: the application password can do what {account} can. "
            f"Use an account that only moderates comments where you can."
        )
    if channel.kind == "bluesky":
        return (
            f"An app password signs in as @{account} but cannot change its email, password or delete "
            f"the account; revoke it under App passwords."
        )
    if channel.kind == "email":
        return (
            f"The mailbox password (or an app password) of {account}: ecoinbox reads and sends mail with it."
        )
    return f"The token of {channel.name}."


# ---- the flows -----------------------------------------------------------------------------------


def obtain_token(channel: ChannelSettings, paste: bool = False) -> Secret:
    """Run the channel's own flow and return the token (not yet kept anywhere)."""
    prompt = secrets.prompt_token  # looked up at call time: tests stand in for the terminal
    if channel.kind == "mastodon" and paste:
        return secrets.prompt_block("Access token (not echoed; paste it, then Enter on an empty line): ")
    if channel.kind == "mastodon":
        return asyncio.run(_mastodon_oauth(channel.base_url))
    if channel.kind == "discourse" and channel.auth == "user_api_key" and not paste:
        return _discourse_user_api_key(channel.base_url)
    if channel.kind == "wordpress":
        return _wordpress_app_password(channel)
    if channel.kind == "feed":
        return prompt(f"HTTP Basic password of {channel.account} for {channel.name}'s feeds (not echoed): ")
    if channel.kind == "reddit" and not paste:
        return asyncio.run(reddit_oauth(channel))
    if channel.kind == "bluesky":
        return _bluesky_app_password(channel, check=not paste)
    if channel.kind == "email":
        print(f"The password {channel.account} uses for IMAP and SMTP. With two-factor sign-in, make an")
        print("app password in the provider's security settings (Gmail, Fastmail, iCloud, Yahoo) and use it.")
        return prompt(f"Password for {channel.account} (not echoed): ")
    return secrets.prompt_block(
        f"Token for {channel.name} (not echoed; paste it, then Enter on an empty line): "
    )


async def _mastodon_oauth(base_url: str) -> Secret:
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient
    from ecoinbox.channels.mastodon import authorize_url, exchange_code, register_app

    client = HttpClient("auth", base_url)
    try:
        client_id, client_secret = await register_app(base_url, client)
        print("1. Open this address in a browser where you are logged in as the brand account:")
        print(f"   {authorize_url(base_url, client_id)}")
        print("2. Approve ecoinbox, then paste the code the page shows.")
        code = secrets.prompt_block("Code (not echoed; paste it, then Enter on an empty line): ").reveal()
        return Secret(await exchange_code(base_url, client_id, client_secret, code, client))
    except ChannelError as exc:
        raise AuthError(f"the OAuth flow failed: {exc}") from exc
    finally:
        await client.aclose()


async def reddit_oauth(channel: ChannelSettings, *, say: Callable[[str], None] = print,
                       timeout: float = 600.0) -> Secret:  # fmt: skip
    """Reddit's code flow for an installed app: the browser comes back to a loopback listener
    (state checked), and the permanent grant's refresh token becomes the channel's secret."""
    from ecoinbox.channels import reddit
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.http import HttpClient

    if not channel.client_id or not channel.auth_url or not channel.redirect_uri:
        raise AuthError(f"channel {channel.name} needs client_id (your Reddit app's id) in the config")
    state = reddit.new_state()
    try:
        listener = reddit.RedirectListener(channel.redirect_uri, state)
    except ChannelError as exc:
        raise AuthError(f"the Reddit authorization cannot start: {exc}") from exc
    client = HttpClient(
        channel.name, channel.auth_url, auth_headers=reddit.client_auth(channel.client_id),
        headers={"User-Agent": reddit.user_agent(channel.account)},
    )  # fmt: skip
    try:
        await listener.start()
        port = listener.port
        say("1. Open this address in a browser where you are logged in to Reddit as the brand account:")
        say(f"   {reddit.authorize_url(channel.auth_url, channel.client_id, channel.redirect_uri, state)}")
        say(f"2. Approve ecoinbox: the browser comes back to {channel.redirect_uri}, where ecoinbox waits.")
        say(f"   Over SSH, forward that port first: ssh -L {port}:127.0.0.1:{port} this-host")
        code = await listener.wait(timeout)
        refresh_token, _ = await reddit.exchange_code(client, channel.name, code, channel.redirect_uri)
        return Secret(refresh_token)
    except ChannelError as exc:
        raise AuthError(f"the Reddit authorization failed: {exc}") from exc
    finally:
        await listener.aclose()
        await client.aclose()


def _discourse_user_api_key(base_url: str) -> Secret:
    """Discourse's no-redirect User API Key flow: the forum shows an encrypted key to paste."""
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.discourse import (
        KEY_BITS,
        decrypt_payload,
        generate_key_pair,
        new_nonce,
        user_api_key_url,
    )

    private_key, public_key = generate_key_pair()
    nonce = new_nonce()
    print("1. Open this address in a browser where you are logged in as the brand's forum account:")
    print(f"   {user_api_key_url(base_url, public_key, nonce, client_id=f'ecoinbox-{nonce[:8]}')}")
    print("2. Approve ecoinbox, then paste the whole block of text the page shows, as it shows it.")
    whole = 4 * -(-(KEY_BITS // 8) // 3)  # base64 characters of one RSA block: the paste is complete
    payload = secrets.prompt_block(
        "Key block (not echoed; paste it, then Enter on an empty line): ",
        complete=lambda text: len(text) >= whole,
    ).reveal()
    try:
        return Secret(decrypt_payload(private_key, payload, nonce))
    except ChannelError as exc:
        raise AuthError(f"the forum's answer could not be read: {exc}") from exc


def _wordpress_app_password(channel: ChannelSettings) -> Secret:
    """WordPress application passwords: the site shows a new one to copy (no redirect)."""
    from ecoinbox.channels.wordpress import authorize_url

    print(f"1. Open this address in a browser where you are logged in to WordPress as {channel.account}:")
    print(f"   {authorize_url(channel.base_url)}")
    print('   (or Users > Profile > Application Passwords, name it "ecoinbox" and add it)')
    print("2. Approve, then paste the password WordPress shows (spaces and all).")
    return secrets.prompt_token("Application password (not echoed): ")


def _bluesky_app_password(channel: ChannelSettings, *, check: bool) -> Secret:
    """Ask for an app password (never the account's own) and sign in once with it to check it."""
    from ecoinbox.channels.base import AuthError as RefusedError
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.bluesky import verify_app_password

    print(f"1. In Bluesky, signed in as @{channel.account}: Settings > Privacy and security > App passwords.")
    print("2. Add an app password named ecoinbox, then paste it here (it looks like xxxx-xxxx-xxxx-xxxx).")
    token = secrets.prompt_token("App password (not echoed): ")
    if not check or not token.reveal().strip():
        return token
    try:
        who = asyncio.run(verify_app_password(
            channel.name, channel.base_url, channel.account or "", token.reveal(),
            account_password=channel.auth == "account_password",
        ))  # fmt: skip
    except RefusedError as exc:
        raise AuthError(f"not stored: {exc}") from exc
    except ChannelError as exc:
        print(f"Could not check it now ({exc}); storing it anyway.")
    else:
        print(f"Signed in as {sanitize(who, single_line=True)}.")
    return token


# ---- the command ---------------------------------------------------------------------------------


def run_auth(channel: ChannelSettings, options: AuthOptions) -> int:
    """`ecoinbox auth NAME`: settle where the token goes, say what is asked, run the flow, keep it.
    Returns the exit status (1 when the token could only be shown)."""
    if channel.kind == "feed" and not channel.needs_token:
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
