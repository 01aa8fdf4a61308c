"""The servers a mailbox is reached at, and the IMAP session run in the channel's own thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ecoinbox.channels.base import (
    AuthError,
    ChannelError,
    PermanentError,
    TransientError,
)
from ecoinbox.channels.http import RedactingFilter, channel_logger, one_line, redact

log = channel_logger(__name__)

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# Where the servers are


@dataclass(frozen=True, slots=True)
class MailServer:
    """One server address from the config: scheme ("imaps", "imap", "smtps", "smtp"), host, port.

    `implicit` is TLS from the first byte; otherwise STARTTLS is required, except on loopback
    where plain text is allowed when the server offers no STARTTLS (the demo servers).
    """

    scheme: str
    host: str
    port: int

    @property
    def implicit(self) -> bool:
        return self.scheme.endswith("s")

    @property
    def loopback(self) -> bool:
        from ecoinbox.config.validate import is_loopback_host

        return is_loopback_host(self.host)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def parse_server(url: str, schemes: dict[str, int]) -> MailServer:
    """ "imaps://imap.example.com" -> MailServer("imaps", "imap.example.com", 993)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.hostname:
        allowed = " or ".join(f"{s}://host" for s in schemes)
        raise PermanentError(f"not a mail server address: expected {allowed}")
    return MailServer(scheme, parts.hostname, parts.port or schemes[scheme])


def tls_context() -> ssl.SSLContext:
    """Certificates always verified; SSL_CERT_FILE trusts a private CA (as for HTTPS)."""
    return ssl.create_default_context()


# ---------------------------------------------------------------------------------------------
# The IMAP side, run in the channel's own thread


@dataclass(slots=True)
class Found:
    folder: str
    uid: int


@dataclass(slots=True)
class Fetched:
    raw: bytes
    received: datetime | None
    truncated: int = 0


@dataclass(frozen=True, slots=True)
class FolderCursor:
    uidvalidity: int
    last_uid: int
    day: str = ""

    @classmethod
    def load(cls, value: str | None) -> FolderCursor | None:
        parts = (value or "").split(":")
        if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        day = parts[2] if len(parts) > 2 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[2]) else ""
        return cls(int(parts[0]), int(parts[1]), day)

    def dump(self) -> str:
        return f"{self.uidvalidity}:{self.last_uid}:{self.day}"


@dataclass(slots=True)
class FolderBatch:
    fetched: list[Fetched] = field(default_factory=list)
    cursor: str | None = None


class ImapSession:
    """One IMAP connection, opened on demand and used from one thread only."""

    def __init__(
        self, channel: str, server: MailServer, username: str, password: str, timeout: float
    ) -> None:
        self.channel = channel
        self.server = server
        self.username = username
        self._password = password
        self.timeout = timeout
        self.client: Any = None
        self.capabilities: frozenset[str] = frozenset()
        self.sent_folder: str | None = None

    def __repr__(self) -> str:
        return f"ImapSession(channel={self.channel!r}, server={self.server.label!r})"

    def set_password(self, password: str) -> None:
        self._password = password
        self.close()

    def connect(self) -> Any:
        """A logged-in client: implicit TLS, or STARTTLS (plain only to loopback)."""
        from imapclient import IMAPClient
        from imapclient.exceptions import LoginError

        server = self.server
        client = IMAPClient(
            server.host,
            port=server.port,
            ssl=server.implicit,
            ssl_context=tls_context(),
            timeout=self.timeout,
        )
        try:
            client.normalise_times = False
            if not server.implicit:
                if client.has_capability("STARTTLS"):
                    client.starttls(tls_context())
                elif not server.loopback:
                    raise PermanentError(
                        f"channel {self.channel}: {server.label} offers no STARTTLS; the password "
                        "would cross the network in clear. Use imaps:// (port 993)"
                    )
            try:
                client.login(self.username, self._password)
            except LoginError:
                raise AuthError(
                    f"channel {self.channel}: {server.label} refused the login for {one_line(self.username)}: "
                    f"run `ecoinbox auth {self.channel}` to store the right password"
                ) from None
            self.capabilities = frozenset(c.decode("ascii", "replace").upper() for c in client.capabilities())
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self.client = client
        return client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def run(self, operation: Callable[[Any], _T], *, retry: bool = True) -> _T:
        """Run `operation(client)`, reconnecting once when a kept connection went stale."""
        from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

        fresh = self.client is None
        try:
            client = self.client or self.connect()
            return operation(client)
        except ChannelError:
            raise
        except (IMAPClientAbortError, OSError) as exc:
            self.close()
            if retry and not fresh and not isinstance(exc, ssl.SSLCertVerificationError):
                return self.run(operation, retry=False)
            raise TransientError(
                f"channel {self.channel}: {self.server.label} unreachable ({describe_error(exc)})"
            ) from None
        except IMAPClientError as exc:
            raise imap_refusal(self.channel, self.server, exc) from None

    # -- operations (called inside `run`) ---------------------------------------------------

    def sent(self, client: Any, configured: str | None) -> str | None:
        """The Sent folder: the configured one, else the \\Sent special-use folder, else "Sent"."""
        if configured:
            return configured
        if self.sent_folder is None:
            from imapclient.imapclient import SENT

            found = None
            with contextlib.suppress(Exception):
                found = client.find_special_folder(SENT)
            self.sent_folder = found or "Sent"
        return self.sent_folder


def imap_refusal(channel: str, server: MailServer, exc: Exception) -> ChannelError:
    said = one_line(redact(str(exc)), limit=160)
    if re.search(r"\[(?:THROTTLED|LIMIT|UNAVAILABLE|INUSE|SERVERBUG)\]", said, re.IGNORECASE):
        return TransientError(f"channel {channel}: {server.label} is busy ({said})")
    return PermanentError(f"channel {channel}: {server.label} refused the request ({said})")


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted; set SSL_CERT_FILE if the server uses a private CA"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    text = one_line(redact(str(exc)), limit=100)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def folder_not_found(channel: str, folder: str, exc: Exception) -> PermanentError:
    return PermanentError(
        f"channel {channel}: no folder {one_line(folder, 80)!r} on the server "
        f"({one_line(redact(str(exc)), limit=120)}): check `folders` in the config"
    )


def any_message_id(ids: Sequence[str]) -> list[Any]:
    """SEARCH criteria matching any of `ids` in the Message-ID header (OR is binary in IMAP)."""
    criteria: list[Any] = []
    for index, ref in enumerate(ids):
        if index < len(ids) - 1:
            criteria.append("OR")
        criteria.extend(["HEADER", "Message-ID", f"<{ref}>"])
    return criteria


def by_size(uids: Sequence[int], sizes: dict[int, Any], budget: int) -> list[list[int]]:
    """`uids` in groups whose mails add up to about `budget` bytes (one mail at least)."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid in uids:
        size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
        if current and total + size > budget:
            groups.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        groups.append(current)
    return groups


def select_or_skip(client: Any, folder: str) -> bool:
    """Select `folder` read-only; False when the server has no such folder (connection errors
    still raise)."""
    from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

    try:
        client.select_folder(folder, readonly=True)
    except IMAPClientAbortError:
        raise
    except IMAPClientError:
        return False
    return True


def aware_or_none(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def quiet_imap_logs() -> None:
    """imaplib's protocol trace (through IMAPClient) carries mail: keep it at WARNING, redacted."""
    for name in ("imapclient", "aiosmtplib"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


IDLE_CHECK_S = 30.0
IDLE_RENEW_S = 25 * 60.0  # re-issue IDLE before servers drop it at 30 minutes (RFC 2177)


class IdleWatcher(threading.Thread):
    """One folder in IDLE on its own connection (`open_session` makes one), in its own thread."""

    def __init__(
        self,
        channel: str,
        open_session: Callable[[], ImapSession],
        folder: str,
        loop: asyncio.AbstractEventLoop,
        wake: Callable[[], None],
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"idle-{channel}-{folder}", daemon=True)
        self.channel = channel
        self.open_session = open_session
        self.folder = folder
        self.loop = loop
        self.wake = wake
        self.stop = stop
        self._session: ImapSession | None = None

    def interrupt(self) -> None:
        session = self._session
        client = session.client if session is not None else None
        if client is not None:
            with contextlib.suppress(Exception):
                client.socket().shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            session = self.open_session()
            self._session = session
            try:
                client = session.connect()
                client.select_folder(self.folder, readonly=True)
                client.idle()
                renewed = time.monotonic()
                backoff = 1.0
                while not self.stop.is_set():
                    responses = client.idle_check(timeout=IDLE_CHECK_S)
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        self.loop.call_soon_threadsafe(self.wake)
                    if time.monotonic() - renewed > IDLE_RENEW_S:
                        client.idle_done()
                        client.idle()
                        renewed = time.monotonic()
                with contextlib.suppress(Exception):
                    client.idle_done()
            except Exception as exc:  # noqa: BLE001 - reconnect later; polling goes on meanwhile
                if not self.stop.is_set():
                    log.info(
                        "channel %s: IDLE on %s stopped (%s); retrying",
                        self.channel,
                        self.folder,
                        describe_error(exc),
                    )
            finally:
                session.close()
            if self.stop.wait(backoff):
                return
            backoff = min(backoff * 2, 300.0)


FETCH_CHUNK = 50
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # larger mails: headers and the first TEXT_PREFIX bytes only
TEXT_PREFIX = 256 * 1024
FETCH_BYTES = 8 * 1024 * 1024  # whole mails fetched in one response, at most about this much


def fetch_mails(client: Any, uids: Sequence[int]) -> list[Fetched]:
    """Whole mails, except the huge ones: their headers and the start of their text."""
    out: list[Fetched] = []
    for start in range(0, len(uids), FETCH_CHUNK):
        chunk = list(uids[start : start + FETCH_CHUNK])
        sizes = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
        small = [u for u in chunk if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= MAX_MESSAGE_BYTES]
        large = [u for u in chunk if u in sizes and u not in small]
        bodies: dict[int, Any] = {}
        for group in by_size(small, sizes, FETCH_BYTES):  # a bounded response each
            bodies.update(client.fetch(group, ["BODY.PEEK[]"]))
        partial = (
            client.fetch(large, ["BODY.PEEK[HEADER]", f"BODY.PEEK[TEXT]<0.{TEXT_PREFIX}>"]) if large else {}
        )
        for uid in chunk:
            meta = sizes.get(uid)
            if meta is None:
                continue  # expunged meanwhile
            received = aware_or_none(meta.get(b"INTERNALDATE"))
            if uid in bodies:
                raw = bodies[uid].get(b"BODY[]")
                if isinstance(raw, bytes):
                    out.append(Fetched(raw, received))
            elif uid in partial:
                header = partial[uid].get(b"BODY[HEADER]") or b""
                text = partial[uid].get(b"BODY[TEXT]<0>") or b""
                size = int(meta.get(b"RFC822.SIZE", 0))
                out.append(Fetched(bytes(header) + bytes(text), received, truncated=size))
    return out
