"""SpamAssassin for mail: a spamd daemon asked with SYMBOLS (its score and the names of its rules).

The spamc/spamd protocol is a request line, a Content-length and the mail; the answer a status
line, a "Spam: True ; 7.3 / 5.0" header and the rules: `symbols` speaks it in a few lines. (The
`aiospamc` library does the same, but its command-line part needs typer, hence click, and with
click installed httpx loads its own command line, click, rich and pygments, at every import:
50 ms more at every start, and the core no longer starts without rich.)

The email channel keeps a mail's sender, subject, date, ids and text, not its raw bytes, so spamd
judges the mail rebuilt from them (`as_mail`): its body and header rules apply, not the relay,
SPF or DKIM ones. When spamd calls it spam (score at or above its own threshold), its verdict weighs
`SPAM_WEIGHT` in log-odds, one more per point beyond the threshold, up to `MAX_WEIGHT`; nothing
otherwise. Its reason names the score and the rules either way.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import re
import socket
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

from ecoinbox.config.screening import SpamAssassinSettings
from ecoinbox.model import Message
from ecoinbox.screening.engines import EngineDown
from ecoinbox.screening.spam import Signal

__all__ = ["SPAM_WEIGHT", "SpamAssassin", "as_mail"]

log = logging.getLogger(__name__)

SPAM_WEIGHT: Final = 4.0
"""Log-odds a spamd "spam" at its threshold adds (set by hand: a neutral mail goes to Spam)."""
MAX_WEIGHT: Final = 10.0  # far beyond the threshold: as sure as a platform's own spam status
MAIL_CHARS: Final = 100_000  # of a mail's text sent to spamd (it reads ~500 KB at most anyway)
CONCURRENCY: Final = 4  # mails asked at once (spamd forks 5 children by default)
RULES_SHOWN: Final = 6
MAX_ANSWER: Final = 64 * 1024  # spamd's SYMBOLS answer: a status, two headers, the rule names
_SPAM_HEADER: Final = re.compile(r"(true|false|yes|no)\s*;\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)", re.IGNORECASE)
_RULE_RE: Final = re.compile(r"[A-Z0-9_]{2,60}")
_HEADER_BREAKS: Final = re.compile(r"[\r\n\x00-\x1f\x7f]+")


class SpamAssassin:
    """One spamd, asked about the mail of its channels."""

    name = "SpamAssassin"

    def __init__(self, settings: SpamAssassinSettings) -> None:
        self.settings = settings
        self._channels = frozenset(settings.channels)

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def wants(self, message: Message) -> bool:
        return message.channel in self._channels and not message.is_ours

    def check(self, messages: Sequence[Message]) -> list[Signal | None]:
        # The engines' thread has no event loop: this batch gets one of its own.
        return asyncio.run(self._check_all(messages))

    def teach(self, message: Message, is_spam: bool) -> None:
        """Nothing: spamd learns only through TELL, which needs its allow-tell option and a
        Bayes database of the user's; the built-in filter learns the mark instead."""

    def probe(self) -> str:
        answer = self.check([_probe_message()])[0]
        return f"spamd at {self.where} answers ({answer.reason if answer else 'no verdict'})"

    def close(self) -> None:
        pass

    async def _check_all(self, messages: Sequence[Message]) -> list[Signal | None]:
        limit = asyncio.Semaphore(CONCURRENCY)
        results: list[Signal | None] = [None] * len(messages)
        problems: list[str] = []

        async def one(index: int) -> None:
            async with limit:
                try:
                    results[index] = await self._ask(messages[index])
                except EngineDown as exc:
                    problems.append(str(exc))

        tasks = [asyncio.create_task(one(index)) for index in range(len(messages))]
        _, late = await asyncio.wait(tasks, timeout=self.settings.timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
            answered = sum(result is not None for result in results)
            if answered and not problems:  # a backlog: the rest is screened without it, no outage
                log.info("SpamAssassin: %d of %d new mails asked within %g s; the others are screened"
                         " without it", answered, len(messages), self.settings.timeout)  # fmt: skip
                return results
            problems.append(f"spamd at {self.where} did not answer within {self.settings.timeout:g} s")
        if problems:
            raise EngineDown(problems[-1] if late else problems[0], results)
        return results

    async def _ask(self, message: Message) -> Signal:
        try:
            async with asyncio.timeout(self.settings.timeout):
                return await symbols(as_mail(message), self.settings.host, self.settings.port)
        except (ConnectionRefusedError, socket.gaierror):
            raise EngineDown(f"spamd cannot be reached at {self.where} (is it running?)") from None
        except TimeoutError:
            raise EngineDown(
                f"spamd at {self.where} did not answer within {self.settings.timeout:g} s"
            ) from None
        except (OSError, ValueError) as exc:
            raise EngineDown(f"spamd at {self.where} gave no usable answer ({exc})") from None


async def symbols(mail: bytes, host: str, port: int) -> Signal:
    """One SYMBOLS request (the spamc/spamd protocol, 1.5): spamd's verdict and the rules it hit.
    ValueError when the answer is not spamd's, OSError when the connection fails."""
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_ANSWER)
    try:
        writer.write(b"SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(mail) + mail)
        await writer.drain()
        writer.write_eof()  # spamd reads the message to its end, then answers and closes
        answer = b""
        while chunk := await reader.read(MAX_ANSWER):  # to its end: spamd closes once it has answered
            answer += chunk
            if len(answer) > MAX_ANSWER:
                raise ValueError("spamd's answer is too long")
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *headers = head.decode("ascii", "replace").split("\r\n")
    parts = status.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("SPAMD/"):
        raise ValueError("not a spamd answer")
    if parts[1] != "0":
        raise ValueError(f"spamd refused the request: {status[:80]}")
    for header in headers:
        name, _, value = header.partition(":")
        verdict = _SPAM_HEADER.fullmatch(value.strip()) if name.strip().lower() == "spam" else None
        if verdict is not None:
            is_spam = verdict[1].lower() in ("true", "yes")
            return signal(is_spam, float(verdict[2]), float(verdict[3]), body)
    raise ValueError("spamd answered without a verdict")


def signal(is_spam: bool, score: float, threshold: float, body: bytes) -> Signal:
    """spamd's answer as a signal: its score against its threshold and the first rules it hit."""
    rules = _RULE_RE.findall(body[:4000].decode("ascii", "replace"))
    shown = ", ".join(rules[:RULES_SHOWN]) + (", ..." if len(rules) > RULES_SHOWN else "")
    reason = f"SpamAssassin: {score:.1f} of {threshold:.1f}" + (f" ({shown})" if shown else "")
    if is_spam:
        weight = min(MAX_WEIGHT, SPAM_WEIGHT + max(0.0, score - threshold))
        return Signal("engine:spamassassin:spam", weight, reason)
    return Signal("engine:spamassassin:ham", 0.0, reason)


def as_mail(message: Message) -> bytes:
    """The mail rebuilt from what the channel kept: sender, subject, date, ids and text."""
    mail = EmailMessage(policy=email.policy.SMTP)
    author = message.author
    name = _header(author.display_name)
    address = _header(author.handle) if "@" in author.handle else "unknown@invalid"
    try:
        mail["From"] = f'"{name}" <{address}>' if name else address
    except (ValueError, TypeError):
        mail["From"] = "unknown@invalid"
    if message.title:
        mail["Subject"] = _header(message.title)
    mail["Date"] = format_datetime(message.created_at)
    for header, value in (("Message-ID", message.remote_id), ("In-Reply-To", message.in_reply_to or "")):
        value = _header(value)
        if value and " " not in value:
            mail[header] = value if value.startswith("<") else f"<{value}>"
    mail.set_content(message.text[:MAIL_CHARS] or " ")
    try:
        return bytes(mail)
    except (ValueError, TypeError, UnicodeError):  # an odd header: the text alone still says most
        plain = EmailMessage(policy=email.policy.SMTP)
        plain.set_content(message.text[:MAIL_CHARS] or " ")
        return bytes(plain)


def _header(value: str) -> str:
    """A header value on one line (a platform's text may hold line breaks), at most 300 characters."""
    return _HEADER_BREAKS.sub(" ", value).replace('"', "'").strip()[:300]


def _probe_message() -> Message:
    from datetime import UTC, datetime

    from ecoinbox.model import Author

    author = Author(channel="check", remote_id="check", handle="check@ecoinbox.invalid")
    text = "ecoinbox check: is spamd there?"
    return Message(channel="check", remote_id="check@ecoinbox.invalid", author=author, text=text,
                   created_at=datetime.now(UTC), title="ecoinbox check")  # fmt: skip
