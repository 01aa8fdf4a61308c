"""Real mail servers on loopback for the tests and the demo: Dovecot for IMAP, aiosmtpd for SMTP.

Dovecot comes from the system (Debian and Ubuntu: `apt-get install -y dovecot-imapd`). This
module writes a private dovecot.conf in a temporary directory and runs `dovecot -F` in the
foreground on a free 127.0.0.1 port: users in a passwd-file, mail in Maildir, nothing of the
system's own configuration used. It runs as the current user; as root (CI, containers) the
mail itself belongs to the unprivileged `dovecot` user, since Dovecot refuses to serve mail
as root. With a certificate it offers STARTTLS on the IMAP port and implicit TLS on another.

The SMTP server is aiosmtpd in this process. It delivers what it accepts into Dovecot by IMAP
APPEND: to a local user's INBOX, to the subscribers' folder of a mailing list (with the
List-Id and List-Post headers a list adds), and everything else to one catch-all mailbox (the
outside world), so a reply sent through it can be read back from the IMAP server. It can
refuse (4xx, 5xx) or drop the connection after DATA on demand, for the tests.

`python -m ecoinbox.demo.email.server` runs both with the demo's seeded mail until ctrl+c.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import email.utils
import logging
import os
import pwd
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

INSTALL_HINT = "apt-get install -y dovecot-imapd"
START_TIMEOUT_S = 15.0


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the process that started it dies, however
    it dies (a closed SSH session sends the demo SIGHUP, which ends it without its cleanup)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class MailServerError(RuntimeError):
    """A mail server could not be started; the message says why and how to fix it."""


def dovecot_binary() -> str | None:
    """The dovecot executable, if it is installed."""
    found = shutil.which("dovecot")
    if found:
        return found
    for candidate in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def why_no_dovecot() -> str | None:
    """None when Dovecot can run here, else one line that says how to install it."""
    if dovecot_binary() is None:
        return f"Dovecot is not installed (Debian/Ubuntu: {INSTALL_HINT})"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
        except KeyError:
            return f"Dovecot's system users are missing (reinstall it: {INSTALL_HINT})"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class _Identity:
    """Who Dovecot's processes and mail files run as."""

    login_user: str
    internal_user: str
    internal_group: str
    mail_uid: int
    mail_gid: int


def _identity() -> _Identity:
    if os.geteuid() == 0:
        dovecot = pwd.getpwnam("dovecot")
        return _Identity("dovenull", "dovecot", "dovecot", dovecot.pw_uid, dovecot.pw_gid)
    me = pwd.getpwuid(os.geteuid())
    import grp

    group = grp.getgrgid(os.getegid()).gr_name
    return _Identity(me.pw_name, me.pw_name, group, os.geteuid(), os.getegid())


class DovecotServer:
    """A private Dovecot on 127.0.0.1 with Maildir users from `users` (address -> password).

    `tls` = (certificate file, key file) turns on STARTTLS on `port` and implicit TLS on
    `tls_port`; without it the IMAP port is plain text (loopback only).
    """

    def __init__(
        self, users: Mapping[str, str], *, tls: tuple[Path, Path] | None = None, directory: Path | None = None
    ) -> None:
        self.users = dict(users)
        self.tls = tls
        self._own_dir = directory is None
        self.directory = directory
        self.port = 0
        self.tls_port = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def imap_url(self) -> str:
        """Plain (or STARTTLS, with a certificate) IMAP."""
        return f"imap://127.0.0.1:{self.port}"

    @property
    def imaps_url(self) -> str:
        """IMAP over TLS from the first byte (only with a certificate)."""
        return f"imaps://127.0.0.1:{self.tls_port}"

    @property
    def log_file(self) -> Path:
        assert self.directory is not None
        return self.directory / "dovecot.log"

    async def start(self) -> Self:
        binary = dovecot_binary()
        reason = why_no_dovecot()
        if binary is None or reason is not None:
            raise MailServerError(reason or "Dovecot is not installed")
        if self.directory is None:
            # Short: Dovecot's unix sockets live under it (a socket path has ~100 bytes at most).
            self.directory = Path(tempfile.mkdtemp(prefix="ecoinbox-imap-", dir="/tmp"))
        self.directory.chmod(0o755)  # Dovecot's unprivileged processes read the config and users
        self.port = free_port()
        self.tls_port = free_port() if self.tls else 0
        config = self._write_config()
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "-F",
            "-c",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # a ctrl+c in the terminal goes to us, and we stop it
            preexec_fn=_die_with_parent,  # a closed terminal or a kill -9 of ours ends it too
        )
        await self._wait_until_listening()
        return self

    def _write_config(self) -> Path:
        assert self.directory is not None
        identity = _identity()
        root = self.directory
        home = root / "home"
        home.mkdir(exist_ok=True)
        for sub in ("run", "state"):
            (root / sub).mkdir(exist_ok=True)
        users_file = root / "users"
        lines = []
        for address, password in self.users.items():
            if ":" in address or ":" in password or "\n" in address + password:
                raise MailServerError("a demo user or password holds ':' or a newline")
            user_home = home / address
            user_home.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                os.chown(home, identity.mail_uid, identity.mail_gid)
                os.chown(user_home, identity.mail_uid, identity.mail_gid)
            lines.append(
                f"{address}:{{PLAIN}}{password}:{identity.mail_uid}:{identity.mail_gid}::{user_home}::"
            )
        users_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        users_file.chmod(0o644)  # demo passwords only: Dovecot's auth process must read them
        if self.tls:
            cert, key = self.tls
            tls = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
            imaps = f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.tls_port}\n    ssl = yes\n  }}\n"
        else:
            tls = "ssl = no\n"
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        config = root / "dovecot.conf"
        config.write_text(
            f"""# Written by ecoinbox.demo.email.server: a private Dovecot, nothing of the system's.
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {identity.internal_user}
default_internal_group = {identity.internal_group}
default_login_user = {identity.login_user}
first_valid_uid = {min(identity.mail_uid, 500)}
{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users_file}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""",
            encoding="utf-8",
        )
        return config

    async def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                break
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        tail = self._log_tail()
        await self.stop()
        raise MailServerError(f"Dovecot did not start on 127.0.0.1:{self.port}: {tail}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-3:]) or "no log"

    async def stop(self) -> None:
        """Ask Dovecot to stop; a second later, end whatever of it is left (the mail is
        throwaway: tests and the demo only)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)  # the master and its children at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=1.0)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only Dovecot's processes
        await process.wait()

    def cleanup(self) -> None:
        if self._own_dir and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        self.cleanup()

    # -- mailbox access for seeding and tests (blocking: call through asyncio.to_thread) -------

    @contextlib.contextmanager
    def session(self, user: str) -> Iterator[Any]:
        """A logged-in IMAPClient for `user` (plain text: loopback)."""
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        try:
            client.normalise_times = False
            client.login(user, self.users[user])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def ensure_folder(self, user: str, folder: str) -> None:
        with self.session(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
                client.subscribe_folder(folder)

    def append(
        self,
        user: str,
        folder: str,
        raw: bytes,
        *,
        flags: tuple[bytes, ...] = (),
        when: datetime | None = None,
    ) -> None:
        with self.session(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags=flags, msg_time=when)

    def messages(self, user: str, folder: str) -> list[tuple[int, set[bytes], bytes]]:
        """(UID, flags, raw mail) of every mail in a folder, oldest first."""
        with self.session(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
            return [(uid, set(data[uid][b"FLAGS"]), bytes(data[uid][b"BODY[]"])) for uid in sorted(data)]

    def uidvalidity(self, user: str, folder: str) -> int:
        with self.session(user) as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def rebuild_folder(self, user: str, folder: str) -> None:
        """Delete and recreate `folder` (not INBOX) with the same mails: a new UIDVALIDITY and new
        UIDs, as after a server move or a repaired index."""
        kept = self.messages(user, folder)
        time.sleep(1.1)  # Dovecot's UIDVALIDITY is a timestamp: make sure the new one differs
        with self.session(user) as client:
            client.delete_folder(folder)
            client.create_folder(folder)
            for _, flags, raw in kept:
                client.append(folder, raw, flags=tuple(f for f in flags if f != b"\\Recent"))


# ---------------------------------------------------------------------------------------------
# SMTP


@dataclass(frozen=True, slots=True)
class Received:
    """One mail the SMTP server accepted (or dropped the line on)."""

    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes


@dataclass(slots=True)
class _SmtpFault:
    stage: str  # "mail", "rcpt" or "data"
    reply: str
    remaining: int


@dataclass(slots=True)
class MailingList:
    """A list address whose mail lands in a subscriber's folder, as a list server sends it."""

    address: str
    list_id: str
    subscriber: str
    folder: str


@dataclass(slots=True)
class _Routes:
    local: dict[str, str] = field(default_factory=dict)  # address -> Dovecot user (INBOX)
    lists: dict[str, MailingList] = field(default_factory=dict)
    catch_all: str | None = None  # Dovecot user that receives mail for everyone else


class SmtpServer:
    """aiosmtpd on 127.0.0.1 delivering into `dovecot` by IMAP APPEND.

    `logins` (user -> password) turns on AUTH (required to send). `tls_context` offers
    STARTTLS, or with `implicit_tls` speaks TLS from the first byte.
    """

    def __init__(
        self,
        dovecot: DovecotServer,
        *,
        logins: Mapping[str, str] | None = None,
        local: Mapping[str, str] | None = None,
        lists: tuple[MailingList, ...] = (),
        catch_all: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        size_limit: int = 10 * 1024 * 1024,
    ) -> None:
        self.dovecot = dovecot
        self.logins = dict(logins or {})
        self.routes = _Routes(dict(local or {}), {m.address.casefold(): m for m in lists}, catch_all)
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.size_limit = size_limit
        self.received: list[Received] = []
        self.port = 0
        self._faults: list[_SmtpFault] = []
        self._drops: list[bool] = []  # deliver-before-dropping flags, one per drop to come
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, reply: str, *, stage: str = "rcpt", times: int = 1) -> None:
        """Answer the next `times` MAIL/RCPT/DATA with `reply`, e.g. "451 4.3.0 try later"."""
        self._faults.append(_SmtpFault(stage, reply, times))

    def drop_after_data(self, *, deliver: bool = True, times: int = 1) -> None:
        """Close the connection instead of answering the end of DATA: the client cannot know
        whether the mail went out (it did when `deliver`)."""
        self._drops.extend([deliver] * times)

    def _fault(self, stage: str) -> str | None:
        for fault in self._faults:
            if fault.stage == stage and fault.remaining > 0:
                fault.remaining -= 1
                return fault.reply
        return None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()
        starttls = self.tls_context if not self.implicit_tls else None

        # Plain AUTH is fine on loopback (aiosmtpd warns, per connection, that it is not).
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

        def factory() -> SMTP:
            return SMTP(
                _Handler(self),
                hostname="mail.127.0.0.1.test",
                data_size_limit=self.size_limit,
                tls_context=starttls,
                auth_required=bool(self.logins),
                auth_require_tls=False,  # loopback: the client decides (it refuses plain elsewhere)
                authenticator=self._authenticate if self.logins else None,
                loop=loop,
            )

        self.port = free_port()
        self._server = await loop.create_server(
            factory, "127.0.0.1", self.port, ssl=self.tls_context if self.implicit_tls else None
        )
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=2.0)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(data, LoginPassword):
            user = data.login.decode("utf-8", "replace")
            if self.logins.get(user) == data.password.decode("utf-8", "replace"):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, mail_from: str, recipients: list[str], raw: bytes) -> None:
        for recipient in recipients:
            address = recipient.casefold()
            listed = self.routes.lists.get(address)
            if listed is not None:
                copy = _as_list_mail(raw, listed)
                await asyncio.to_thread(self.dovecot.append, listed.subscriber, listed.folder, copy)
                continue
            user = self.routes.local.get(address) or self.routes.catch_all
            if user is not None:
                await asyncio.to_thread(self.dovecot.append, user, "INBOX", raw)


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self.owner._fault("mail")
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self.owner._fault("rcpt")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self.owner._fault("data")
        if fault:
            return fault
        raw = bytes(envelope.original_content or envelope.content)
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw)
        if self.owner._drops:
            deliver = self.owner._drops.pop(0)
            if deliver:
                self.owner.received.append(received)
                await self.owner.deliver(envelope.mail_from, list(envelope.rcpt_tos), raw)
            server.transport.abort()
            return "250 OK (never heard)"
        self.owner.received.append(received)
        await self.owner.deliver(envelope.mail_from, list(envelope.rcpt_tos), raw)
        return "250 2.0.0 OK: queued"


def _as_list_mail(raw: bytes, mailing_list: MailingList) -> bytes:
    """The mail as the list redistributes it: List-Id and List-Post added when missing."""
    mail = email.message_from_bytes(raw, policy=email.policy.SMTP)
    if mail.get("List-Id") is None:
        mail["List-Id"] = f"<{mailing_list.list_id}>"
    if mail.get("List-Post") is None:
        mail["List-Post"] = f"<mailto:{mailing_list.address}>"
    return mail.as_bytes()


def make_mail(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    date: datetime,
    message_id: str | None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    html: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> bytes:
    """A mail as a client would write it (headers encoded as RFC 2047 where needed)."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = email.utils.format_datetime(date)
    if message_id:
        mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references)
    for key, value in (extra or {}).items():
        mail[key] = value
    if body:
        mail.set_content(body)
        if html:
            mail.add_alternative(html, subtype="html")
    elif html:
        mail.set_content(html, subtype="html")
    return mail.as_bytes()


async def _serve_demo() -> None:
    from ecoinbox.demo.email.seed import DemoMail

    async with DemoMail(seed=1) as demo:
        print(f"imap:  {demo.dovecot.imap_url}  (user {demo.brand}, password {demo.password})", flush=True)
        print(f"smtp:  {demo.smtp.url}", flush=True)
        print("Ctrl+C stops the servers.", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_demo())
