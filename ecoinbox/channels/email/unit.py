"""The email unit: a mailbox read over IMAP, answered over SMTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import Question, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, boolean, nonempty_string, string_list

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["MAIL_SCHEMES", "UNIT", "EmailSettings", "from_address", "mail_url"]

MAIL_SCHEMES: Final = {"imap": ("imaps", "imap"), "smtp": ("smtps", "smtp")}


@dataclass(frozen=True, slots=True)
class EmailSettings(ChannelSettings):
    """A mailbox: base_url is its IMAP server."""

    smtp_url: str | None = None
    """Email: the SMTP server replies go through, "smtps://host" (TLS, port 465) or
    "smtp://host" (STARTTLS, port 587). None: the mailbox is read only."""
    from_address: str | None = None
    """Email: the From of replies, e.g. "Acme Support <support@acme.example>" (default: account)."""
    folders: tuple[str, ...] = ("INBOX",)
    """Email: the IMAP folders to read, e.g. ["INBOX", "Lists/entraide"] for a mailing list's."""
    sent_folder: str | None = None
    """Email: where sent replies are filed and looked for; None finds the \\Sent folder."""
    append_sent: bool = True
    """Email: file a copy of each reply in the Sent folder (false where the provider does, e.g. Gmail)."""


def mail_url(protocol: str) -> Callable[[object], str]:
    """An IMAP or SMTP server address: imaps://host[:port] (TLS) or imap://host[:port]
    (STARTTLS, required but on loopback); the same with smtps/smtp."""
    secure, starttls = MAIL_SCHEMES[protocol]

    def check(value: object) -> str:
        text = nonempty_string(value)
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise Invalid("not a valid server address") from None
        if parts.scheme not in (secure, starttls) or not parts.hostname:
            raise Invalid(
                f'expected "{secure}://host" (TLS) or "{starttls}://host" (STARTTLS), '
                f'e.g. "{secure}://{protocol}.example.com"'
            )
        if parts.username is not None or parts.password is not None:
            raise Invalid("credentials do not belong in the address (the password is read like a token)")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise Invalid("a server address has no path, query or fragment")
        return text.rstrip("/")

    return check


def from_address(value: object) -> str:
    """A From address, with or without a display name."""
    from email.utils import parseaddr

    text = nonempty_string(value)
    if "\n" in text or "\r" in text or "@" not in parseaddr(text)[1]:
        raise Invalid('expected an address such as "Acme Support <support@acme.example>"')
    return text


_CHECKS: Final[dict[str, Callable[[object], object]]] = {
    "smtp_url": mail_url("smtp"),
    "from_address": from_address,
    "folders": string_list,
    "sent_folder": nonempty_string,
    "append_sent": boolean,
}


class EmailUnit:
    kind: Final = "email"
    description: Final = "A mailbox (IMAP) and its mailing lists, answered by SMTP."
    default_name: Final = "support"
    questions: Final = (
        Question("base_url", "IMAP server (e.g. imaps://imap.example.com)"),
        Question(
            "smtp_url",
            "SMTP server for replies (e.g. smtps://smtp.example.com; Enter: read only)",
            optional=True,
        ),
        Question("account", "The mailbox login (e.g. support@acme.example)"),
    )
    auth_modes: Final = ("password",)
    settings_type: Final = EmailSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = False
    default_base_url: Final = None
    base_url_check = staticmethod(mail_url("imap"))

    def read(self, table: Table, common: ChannelSettings) -> EmailSettings:
        values = {key: table.get(key, check, None) for key, check in _CHECKS.items()}
        account = common.account
        if not account:
            table.problem("account", "missing: the mailbox's login (e.g. support@acme.example)")
        if values["smtp_url"] and not (values["from_address"] or "@" in (account or "")):
            table.problem("from_address", "missing: replies need a From address (account is not one)")
        return EmailSettings(
            **common_values(common),
            smtp_url=values["smtp_url"],
            from_address=values["from_address"],
            folders=values["folders"] or ("INBOX",),
            sent_folder=values["sent_folder"],
            append_sent=True if values["append_sent"] is None else values["append_sent"],
        )

    def refuse(self, table: Table, key: str, kind: str) -> None:
        message = 'only email channels have this setting (kind = "email")'
        refuse_when_set(table, key, _CHECKS[key], message, empty_too=True)

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.email.channel import EmailChannel

        assert isinstance(settings, EmailSettings)
        return EmailChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            username=settings.account,
            smtp_url=settings.smtp_url,
            from_address=settings.from_address,
            folders=settings.folders,
            sent_folder=settings.sent_folder,
            append_sent=settings.append_sent,
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        return (
            f"The mailbox password (or an app password) of {settings.account or 'the brand account'}: ecoinbox reads and sends "
            f"mail with it."
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        print(f"The password {settings.account} uses for IMAP and SMTP. With two-factor sign-in, make an")
        print("app password in the provider's security settings (Gmail, Fastmail, iCloud, Yahoo) and use it.")
        return secrets.prompt_token(f"Password for {settings.account} (not echoed): ")


UNIT: Final = EmailUnit()
