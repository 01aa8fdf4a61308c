"""The demo's mailbox: customer emails and a French mailing list, on real local mail servers.

Seeded, deterministic by seed: customers writing in French and English (RFC 2047 subjects in
UTF-8 and ISO-8859-1), an HTML-only mail with a tracking pixel (never fetched), a reply from a
client that drops the threading headers ("Re: Re: Fwd: ..."), a hostile subject full of
escape sequences, a mailing-list thread in French and a MIME digest of the same list.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from typing import Self

from ecoinbox.demo import DEMO_MAIL_PASSWORD
from ecoinbox.demo.email.server import DovecotServer, MailingList, SmtpServer, make_mail

BRAND = "support@acme.example"
BRAND_FROM = "Acme Support <support@acme.example>"
OUTSIDE = "world@outside.example"  # the catch-all mailbox: the replies we send to customers
LIST_ADDRESS = "entraide@lists.acme.example"
LIST_ID = "entraide.lists.acme.example"
LIST_FOLDER = "Lists/entraide"
LIST_FOOTER = (
    "\n_______________________________________________\nentraide mailing list\nentraide@lists.acme.example\n"
)


@dataclass(frozen=True, slots=True)
class _Mail:
    folder: str
    raw: bytes
    minutes_ago: float


def _list_headers() -> dict[str, str]:
    return {"List-Id": f"Entraide Acme <{LIST_ID}>", "List-Post": f"<mailto:{LIST_ADDRESS}>"}


def seeded_mail(now: datetime) -> list[_Mail]:
    """The mailbox as the demo opens: oldest first."""

    def at(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    mails: list[_Mail] = []

    def add(folder: str, minutes: float, **fields: object) -> None:
        mails.append(_Mail(folder, make_mail(date=at(minutes), **fields), minutes))  # type: ignore[arg-type]

    # A customer order that went wrong, our answer, then their reply from a client that keeps
    # no threading headers: it joins the conversation by its subject.
    add(
        "INBOX",
        600,
        sender="Jamie Rivera <jamie.rivera@mail.example>",
        to=BRAND,
        subject="Order 123 – wrong size delivered",
        body="Hello,\n\nI ordered the blue jacket in M and received an XL. Can I swap it?\n\nJamie",
        message_id="order123.jamie@mail.example",
    )
    add(
        "Sent",
        540,
        sender=BRAND_FROM,
        to="jamie.rivera@mail.example",
        subject="Re: Order 123 – wrong size delivered",
        body="Hi Jamie, sorry about that! Could you send us a photo of the label?\n\nSam from Acme",
        message_id="ecoinbox.seed.1@acme.example",
        in_reply_to="order123.jamie@mail.example",
        references=("order123.jamie@mail.example",),
    )
    add(
        "INBOX",
        95,
        sender="Jamie Rivera <jamie.rivera@mail.example>",
        to=BRAND,
        subject="Re: Re: Fwd: Order 123 – wrong size delivered",
        body=(
            "Here is the photo my partner took (attached in my next mail, the app ate it).\n"
            "The label clearly says XL.\n\n"
            "On Tue, Sam from Acme wrote:\n> Hi Jamie, sorry about that! Could you send us a photo of the label?"
        ),
        message_id="k3j2h1.jamie@phone.mail.example",
    )
    # French, UTF-8 subject with an emoji (RFC 2047 base64 on the wire).
    add(
        "INBOX",
        240,
        sender="Élodie Martin <elodie.martin@mail.example>",
        to=BRAND,
        subject="Commande n°4512 jamais reçue 📦",
        body=(
            "Bonjour,\n\nMa commande n°4512 passée il y a trois semaines n'est toujours pas "
            "arrivée. Le suivi indique « en cours d'acheminement » depuis dix jours.\n\n"
            "Pouvez-vous m'aider ?\n\nÉlodie"
        ),
        message_id="4512.elodie@mail.example",
        extra={"Content-Language": "fr"},
    )
    # HTML only, with a tracking pixel and a link whose text lies about its target.
    add(
        "INBOX",
        180,
        sender="Priya Natarajan <priya@corp.example>",
        to=BRAND,
        subject="App crashes when I open Settings",
        body="",
        html=(
            "<html><body><p>Hi team,</p><p>Since yesterday's update the app <b>crashes</b> as soon "
            "as I open <i>Settings</i> (Android 14).</p><p>Steps: open app → tap the gear → "
            "crash.</p><p>I followed <a href='https://evil.example/steal'>acme.example/help</a> "
            "without luck.</p><img src='https://tracker.example/open.gif?u=priya' width='1' "
            "height='1' alt=''></body></html>"
        ),
        message_id="crash.priya@corp.example",
    )
    # A subject with escape sequences hidden in an encoded word: decoded, then sanitized.
    hostile = base64.b64encode("\x1b[2J\x1b]0;owned\x07Refund NOW \u202eelgoog".encode()).decode()
    mails.append(
        _Mail(
            "INBOX",
            (
                "From: =?UTF-8?Q?Totally_Legit?= <promo@spam.example>\r\n"
                f"To: {BRAND}\r\n"
                f"Subject: =?UTF-8?B?{hostile}?=\r\n"
                f"Date: {_rfc2822(at(150))}\r\n"
                "Message-ID: <hostile.1@spam.example>\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                "Click here \x1b[31mnow\x1b[0m to claim your refund.\r\n"
            ).encode(),
            150,
        )
    )
    # ISO-8859-1 everywhere: quoted-printable subject and name, a Latin-1 body.
    mails.append(
        _Mail(
            "INBOX",
            (
                b"From: =?ISO-8859-1?Q?Ren=E9_Lef=E8vre?= <rene.lefevre@exemple.fr>\r\n"
                + f"To: {BRAND}\r\n".encode()
                + b"Subject: =?ISO-8859-1?Q?Probl=E8me_de_facturation_=E0_r=E9gler?=\r\n"
                + f"Date: {_rfc2822(at(60))}\r\n".encode()
                + b"Message-ID: <facture.rene@exemple.fr>\r\n"
                b"MIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                + "Bonjour,\r\n\r\nJ'ai été débité deux fois pour la facture F-2291. "
                "Merci de régulariser.\r\n\r\nRené Lefèvre\r\n".encode("latin-1")
            ),
            60,
        )
    )
    # The French mailing list: a thread, with quoted history below each reply.
    root = "csv.camille@exemple.org"
    first = "re1.lucas@exemple.org"
    second = "re2.ines@exemple.org"
    subject = "[entraide] Exporter mes données en CSV ?"
    add(
        LIST_FOLDER,
        420,
        sender="Camille Roux <camille@exemple.org>",
        to=LIST_ADDRESS,
        subject=subject,
        body=(
            "Bonjour à toutes et à tous,\n\nQuelqu'un a-t-il réussi à exporter ses données en "
            "CSV depuis l'application ? Je ne trouve pas l'option.\n\nCamille" + LIST_FOOTER
        ),
        message_id=root,
        extra=_list_headers(),
    )
    add(
        LIST_FOLDER,
        380,
        sender="Lucas Bernard <lucas.b@exemple.org>",
        to=LIST_ADDRESS,
        subject="Re: " + subject,
        body=(
            "Salut Camille,\n\nC'est dans Réglages > Données > Exporter, mais seulement sur "
            "l'ordinateur.\n\nLe lun. 3 mars, Camille Roux a écrit :\n> Quelqu'un a-t-il réussi "
            "à exporter ses données en CSV ?\n> Je ne trouve pas l'option." + LIST_FOOTER
        ),
        message_id=first,
        in_reply_to=root,
        references=(root,),
        extra=_list_headers(),
    )
    add(
        LIST_FOLDER,
        300,
        sender="Inès Moreau <ines.moreau@exemple.org>",
        to=LIST_ADDRESS,
        subject="Re: " + subject,
        body=(
            "Sur mobile aussi, depuis la dernière version : menu ⋯ puis « Exporter ».\n\n"
            "Le lun. 3 mars, Lucas Bernard a écrit :\n> C'est dans Réglages > Données > Exporter"
            + LIST_FOOTER
        ),
        message_id=second,
        in_reply_to=first,
        references=(root, first),
        extra=_list_headers(),
    )
    add(
        LIST_FOLDER,
        45,
        sender="Camille Roux <camille@exemple.org>",
        to=LIST_ADDRESS,
        subject="Re: " + subject,
        body=(
            "Merci ! Chez moi l'export mobile s'arrête à 1000 lignes. L'équipe Acme peut-elle "
            "confirmer si c'est une limite voulue ?\n\nCamille" + LIST_FOOTER
        ),
        message_id="re3.camille@exemple.org",
        in_reply_to=second,
        references=(root, first, second),
        extra=_list_headers(),
    )
    mails.append(_Mail(LIST_FOLDER, _digest(at(30), root), 30))
    mails.sort(key=lambda mail: -mail.minutes_ago)
    return mails


def _digest(date: datetime, thread_root: str) -> bytes:
    """A MIME digest of the list: a new topic, and one more reply to the CSV thread."""
    digest = MIMEMultipart("digest", policy=email.policy.SMTP)
    digest["From"] = "entraide-request@lists.acme.example"
    digest["To"] = LIST_ADDRESS
    digest["Subject"] = "entraide Digest, Vol 4, Issue 2"
    digest["Date"] = _rfc2822(date)
    digest["Message-ID"] = "<digest.4.2@lists.acme.example>"
    digest["List-Id"] = f"Entraide Acme <{LIST_ID}>"
    digest["List-Post"] = f"<mailto:{LIST_ADDRESS}>"
    for sender, subject, body, mid, parent in (
        (
            "Hugo Petit <hugo.petit@exemple.org>",
            "[entraide] Thème sombre sur mobile",
            "Le thème sombre est-il prévu sur mobile ? Mes yeux vous remercieraient 🌙",
            "sombre.hugo@exemple.org",
            None,
        ),
        (
            "Zoé Laurent <zoe.l@exemple.org>",
            "Re: [entraide] Exporter mes données en CSV ?",
            "Même limite à 1000 lignes chez moi, sur Android.",
            "re4.zoe@exemple.org",
            thread_root,
        ),
    ):
        inner = EmailMessage(policy=email.policy.SMTP)
        inner.set_content(body)
        inner["From"] = sender
        inner["To"] = LIST_ADDRESS
        inner["Subject"] = subject
        inner["Date"] = _rfc2822(date - timedelta(minutes=20))
        inner["Message-ID"] = f"<{mid}>"
        if parent:
            inner["In-Reply-To"] = f"<{parent}>"
            inner["References"] = f"<{parent}>"
        digest.attach(MIMEMessage(inner, policy=email.policy.SMTP))
    return digest.as_bytes()


def _rfc2822(moment: datetime) -> str:
    import email.utils

    return email.utils.format_datetime(moment)


# Mail that keeps arriving while the demo runs: (folder, sender, subject, body, parent id).
TRAFFIC: tuple[tuple[str, str, str, str, str | None], ...] = (
    (
        "INBOX",
        "Noah Becker <noah.becker@mail.example>",
        "Where is my parcel?",
        "Hi, my order 7781 shows delivered but nothing is here. Can you check with the courier?",
        None,
    ),
    (
        LIST_FOLDER,
        "Lucas Bernard <lucas.b@exemple.org>",
        "Re: [entraide] Exporter mes données en CSV ?",
        "Même chose ici : 1000 lignes max sur mobile. Sur ordinateur, pas de limite.",
        "re3.camille@exemple.org",
    ),
    (
        "INBOX",
        "Chloé Dubois <chloe.dubois@mail.example>",
        "Remboursement toujours pas reçu",
        "Bonjour, j'ai renvoyé l'article il y a deux semaines et je n'ai toujours pas été remboursée.",
        None,
    ),
    (
        "INBOX",
        "Mateo García <mateo@correo.example>",
        "Export to CSV?",
        "Hello, is there a way to export my data to CSV from the web app? Thanks!",
        None,
    ),
)


class DemoMail:
    """Dovecot and the SMTP server, seeded with the demo's mailbox; `tick` brings new mail."""

    brand = BRAND
    brand_from = BRAND_FROM
    password = DEMO_MAIL_PASSWORD
    folders = ("INBOX", LIST_FOLDER)

    def __init__(self, *, seed: int = 1, now: datetime | None = None) -> None:
        self.seed = seed
        self.now = now or datetime.now(UTC)
        self._rng = random.Random(seed)
        users = {BRAND: DEMO_MAIL_PASSWORD, OUTSIDE: DEMO_MAIL_PASSWORD}
        self.dovecot = DovecotServer(users)
        self.smtp = SmtpServer(
            self.dovecot,
            logins={BRAND: DEMO_MAIL_PASSWORD},
            local={BRAND: BRAND},
            lists=(MailingList(LIST_ADDRESS, LIST_ID, BRAND, LIST_FOLDER),),
            catch_all=OUTSIDE,
        )
        self._ticks = 0

    async def start(self) -> Self:
        await self.dovecot.start()
        try:
            await self.smtp.start()
            await asyncio.to_thread(self._seed)
        except BaseException:
            await self.stop()
            raise
        return self

    def _seed(self) -> None:
        self.dovecot.ensure_folder(BRAND, LIST_FOLDER)
        with self.dovecot.session(BRAND) as client:  # one login: one per mail took a second
            for mail in seeded_mail(self.now):
                flags = (b"\\Seen",) if mail.folder == "Sent" else ()
                if not client.folder_exists(mail.folder):
                    client.create_folder(mail.folder)
                client.append(mail.folder, mail.raw, flags=flags)

    async def stop(self) -> None:
        await self.smtp.stop()
        await self.dovecot.stop()
        self.dovecot.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def tick(self) -> None:
        """One new mail, in turn from TRAFFIC (which one first depends on the seed)."""
        index = (self._ticks + self.seed) % len(TRAFFIC)
        self._ticks += 1
        folder, sender, subject, body, parent = TRAFFIC[index]
        number = self._ticks
        raw = make_mail(
            sender=sender,
            to=LIST_ADDRESS if folder == LIST_FOLDER else BRAND,
            subject=subject if number <= len(TRAFFIC) else f"{subject} (#{number})",
            body=body + (LIST_FOOTER if folder == LIST_FOLDER else ""),
            date=datetime.now(UTC),
            message_id=f"tick{number}.{self._rng.randrange(10**8)}@demo.example",
            in_reply_to=parent,
            references=(parent,) if parent else (),
            extra=_list_headers() if folder == LIST_FOLDER else None,
        )
        await asyncio.to_thread(self.dovecot.append, BRAND, folder, raw)
