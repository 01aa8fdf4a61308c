"""The demo's mailbox: a real Dovecot (IMAP) and an SMTP server on loopback. Without Dovecot on
this machine the demo runs without the email channel and says why."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ecoinbox.demo import DEMO_MAIL_PASSWORD
from ecoinbox.demo.site import DemoContext, DemoSite, SiteUnavailable, TomlValue, channel_block

if TYPE_CHECKING:
    from ecoinbox.demo.email.seed import DemoMail

TOKENS = {"email": DEMO_MAIL_PASSWORD}
STARTS_FIRST = True  # Dovecot, a process, takes a second to listen: it starts first


class MailSite:
    name = "email"
    every = (4, 2)
    handles: Sequence[str] = ()

    def __init__(self, context: DemoContext) -> None:
        self.context = context
        self.mail: DemoMail | None = None

    @property
    def base_url(self) -> str:
        return self.mail.dovecot.imap_url if self.mail is not None else ""

    async def start(self) -> None:
        from ecoinbox.demo.email.seed import DemoMail
        from ecoinbox.demo.email.server import MailServerError, why_no_dovecot

        if (missing := why_no_dovecot()) is not None:
            raise SiteUnavailable(missing)
        mail = DemoMail(seed=self.context.seed)
        try:
            await mail.start()
        except MailServerError as exc:
            raise SiteUnavailable(str(exc)) from None
        self.mail = mail

    async def stop(self) -> None:
        if self.mail is not None:
            await self.mail.stop()

    async def tick(self) -> None:
        if self.mail is not None:
            with contextlib.suppress(Exception):  # a hiccup of the demo's mail server
                await self.mail.tick()

    def channel_toml(self) -> str:
        if self.mail is None:
            return ""
        settings: dict[str, TomlValue] = {
            "smtp_url": self.mail.smtp.url,
            "account": self.mail.brand,
            "from_address": self.mail.brand_from,
            "folders": self.mail.folders,
            "poll_interval": 5,
        }
        return channel_block("email", self.name, self.base_url, settings, self.context)

    def addresses(self) -> Sequence[tuple[str, str]]:
        if self.mail is None:
            return []
        return [("imap", self.mail.dovecot.imap_url), ("smtp", self.mail.smtp.url)]

    def meet(self, others: Mapping[str, DemoSite]) -> None:
        return None


def sites(context: DemoContext) -> list[DemoSite]:
    return [MailSite(context)]
