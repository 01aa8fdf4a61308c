"""Sending a reply over SMTP: the session (TLS, login) and the submission, each failure said for
what it is (refused before DATA: not sent; lost during DATA: maybe sent)."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
from collections.abc import AsyncIterator, Sequence
from email.message import EmailMessage
from typing import Any

from ecoinbox.channels.base import AuthError, ChannelError, PermanentError, TransientError, UncertainSend
from ecoinbox.channels.email.imap import MailServer, describe_error, tls_context
from ecoinbox.channels.http import one_line, redact

__all__ = ["smtp_session", "submit"]


@contextlib.asynccontextmanager
async def smtp_session(
    channel: str, server: MailServer, username: str, password: str, timeout: float
) -> AsyncIterator[Any]:
    """A connected, logged-in aiosmtplib client (STARTTLS required but on loopback)."""
    import aiosmtplib

    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.implicit,
        start_tls=None if server.implicit or server.loopback else True,
        tls_context=tls_context(),
        timeout=timeout,
    )
    where = f"channel {channel}: SMTP {server.label}"
    try:
        await client.connect()
        if client.is_ehlo_or_helo_needed:  # after implicit TLS nothing has greeted yet
            await client.ehlo()
        if client.supports_extension("auth"):
            await client.login(username, password)
        elif not server.loopback:
            raise PermanentError(f"{where} offers no login; check smtp_url")
    except aiosmtplib.SMTPAuthenticationError:
        await _quit(client)
        raise AuthError(
            f"{where} refused the login for {one_line(username)}: run `ecoinbox auth {channel}`"
        ) from None
    except ChannelError:
        await _quit(client)
        raise
    except (aiosmtplib.SMTPException, OSError) as exc:
        await _quit(client)
        raise TransientError(f"{where} unreachable ({describe_error(exc)})") from None
    try:
        yield client
    finally:
        await _quit(client)


async def submit(
    session: contextlib.AbstractAsyncContextManager[Any],
    channel: str,
    server: MailServer,
    address: str,
    mail: EmailMessage,
    recipients: Sequence[str],
) -> None:
    """MAIL, RCPT and DATA, each failure said for what it is: refused before DATA is not
    sent; a connection lost during DATA may have been sent."""
    import aiosmtplib

    where = f"channel {channel}: SMTP {server.label}"
    payload = mail.as_bytes(policy=email.policy.SMTP)
    async with session as client:
        limit = client.esmtp_extensions.get("size", "")
        if limit.isdigit() and int(limit) and len(payload) > int(limit):
            raise PermanentError(f"{where} accepts mails up to {int(limit)} bytes; this reply is larger")
        try:
            await client.mail(address)
            for recipient in recipients:
                await client.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            raise _smtp_refusal(where, exc) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{where} lost before the mail was sent ({describe_error(exc)})") from None
        try:
            await client.data(payload)
        except aiosmtplib.SMTPResponseException as exc:
            if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
                raise UncertainSend(f"{where}: the connection closed while the mail was sent") from None
            raise _smtp_refusal(where, exc) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise UncertainSend(
                f"{where}: no answer after the mail was sent ({describe_error(exc)})"
            ) from None


def _smtp_refusal(where: str, exc: Any) -> ChannelError:
    code = int(getattr(exc, "code", 0) or 0)
    said = one_line(redact(str(getattr(exc, "message", "") or "")), limit=160)
    if code in (530, 534, 535, 538):
        return AuthError(f"{where} refused the login ({code} {said})")
    if 400 <= code < 500:
        return TransientError(f"{where} said try later ({code} {said})")
    return PermanentError(f"{where} refused the mail ({code} {said})")


async def _quit(client: Any) -> None:
    with contextlib.suppress(Exception):
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=2.0)
    with contextlib.suppress(Exception):
        client.close()
