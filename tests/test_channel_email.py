"""The email channel against real mail servers on loopback: Dovecot (IMAP) and aiosmtpd (SMTP).

Dovecot comes from the system; where it is not installed these tests skip and say how to get it
(`.ci/run` installs it when apt is there). The parsing rules have pure tests at the end.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import Clock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecoinbox.channels.email.channel as email_channel
import ecoinbox.channels.email.imap as email_imap
import ecoinbox.channels.email.mail as email_mail
from ecoinbox.channels.base import AuthError, PermanentError, TransientError, UncertainSend
from ecoinbox.channels.email import (
    EmailChannel,
    MailServer,
    build_reply,
    is_reply_subject,
    message_ids,
    normalize_subject,
    parse_mail,
    reply_subject,
)
from ecoinbox.demo.email.seed import BRAND, LIST_ADDRESS, LIST_FOLDER, OUTSIDE, DemoMail
from ecoinbox.demo.email.server import (
    INSTALL_HINT,
    DovecotServer,
    MailingList,
    SmtpServer,
    make_mail,
    why_no_dovecot,
)
from ecoinbox.engine import Engine
from ecoinbox.model import Message, Origin, OutboxState, View
from ecoinbox.store import open_store

PASSWORD = "imap-pass-9f1c-never-in-messages"
NO_DOVECOT = why_no_dovecot()
needs_dovecot = pytest.mark.skipif(NO_DOVECOT is not None, reason=f"{NO_DOVECOT} - email tests need it")
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Mail:
    """A running Dovecot and SMTP server with the brand's mailbox, a list folder and the outside."""

    def __init__(self, dovecot: DovecotServer, smtp: SmtpServer) -> None:
        self.dovecot = dovecot
        self.smtp = smtp

    async def deliver(self, folder: str = "INBOX", **fields: object) -> None:
        fields.setdefault("sender", "Zoé <zoe@mail.example>")
        fields.setdefault("to", BRAND)
        fields.setdefault("date", NOW)
        raw = fields.pop("raw", None) or make_mail(**fields)  # type: ignore[arg-type]
        await asyncio.to_thread(self.dovecot.append, BRAND, folder, raw)

    async def folder(self, folder: str, user: str = BRAND) -> list[tuple[int, set[bytes], bytes]]:
        return await asyncio.to_thread(self.dovecot.messages, user, folder)

    def channel(self, **options: object) -> EmailChannel:
        options.setdefault("username", BRAND)
        options.setdefault("smtp_url", self.smtp.url)
        options.setdefault("from_address", f"Acme Support <{BRAND}>")
        options.setdefault("folders", ("INBOX", LIST_FOLDER))
        options.setdefault("timeout", 5.0)
        password = str(options.pop("password", PASSWORD))
        imap_url = str(options.pop("imap_url", self.dovecot.imap_url))
        return EmailChannel("email", imap_url, password, **options)  # type: ignore[arg-type]


@pytest.fixture
async def mail() -> AsyncIterator[Mail]:
    if NO_DOVECOT is not None:
        pytest.skip(f"{NO_DOVECOT}; the email channel's tests run against it")
    async with DovecotServer({BRAND: PASSWORD, OUTSIDE: PASSWORD}) as dovecot:
        await asyncio.to_thread(dovecot.ensure_folder, BRAND, LIST_FOLDER)
        smtp = SmtpServer(
            dovecot,
            logins={BRAND: PASSWORD},
            local={BRAND: BRAND},
            lists=(MailingList(LIST_ADDRESS, "entraide.lists.acme.example", BRAND, LIST_FOLDER),),
            catch_all=OUTSIDE,
        )
        async with smtp:
            yield Mail(dovecot, smtp)


@pytest.fixture
async def channel(mail: Mail) -> AsyncIterator[EmailChannel]:
    channel = mail.channel()
    yield channel
    await channel.aclose()


def by_id(messages: list[Message]) -> dict[str, Message]:
    return {m.remote_id: m for m in messages}


# --- polling: cursors, paging, UIDVALIDITY ---------------------------------------------------


@needs_dovecot
async def test_the_demo_mailbox_reads_as_threads_with_decoded_subjects_and_no_remote_content() -> None:
    async with DemoMail(seed=1) as demo:
        channel = EmailChannel(
            "email",
            demo.dovecot.imap_url,
            demo.password,
            username=demo.brand,
            smtp_url=demo.smtp.url,
            from_address=demo.brand_from,
            folders=demo.folders,
        )
        try:
            polled = await channel.poll({})
        finally:
            await channel.aclose()
    found = by_id(polled.messages)
    # The French list thread, and the digest split into the messages it carries.
    assert found["re1.lucas@exemple.org"].in_reply_to == "csv.camille@exemple.org"
    assert found["re3.camille@exemple.org"].in_reply_to == "re2.ines@exemple.org"
    assert found["re4.zoe@exemple.org"].in_reply_to == "csv.camille@exemple.org"
    assert found["re4.zoe@exemple.org"].author.display_name == "Zoé Laurent"
    assert found["re4.zoe@exemple.org"].author.proofs == ("mailto:zoe.l@exemple.org",)
    # List mail with the poster's own From: a proof all the same.
    assert found["csv.camille@exemple.org"].author.proofs == ("mailto:camille@exemple.org",)
    assert found["sombre.hugo@exemple.org"].in_reply_to is None
    assert "digest.4.2@lists.acme.example" not in found
    # Quoted history and the list footer are gone; the answer stays.
    lucas = found["re1.lucas@exemple.org"].text
    assert "Réglages > Données > Exporter" in lucas and "a écrit" not in lucas and "mailing list" not in lucas
    # "Re: Re: Fwd:" from a client without threading headers joins the order by its subject.
    assert found["k3j2h1.jamie@phone.mail.example"].in_reply_to == "order123.jamie@mail.example"
    # RFC 2047 in UTF-8 (with an emoji) and ISO-8859-1, decoded.
    assert found["4512.elodie@mail.example"].title == "Commande n°4512 jamais reçue 📦"
    assert found["facture.rene@exemple.fr"].title == "Problème de facturation à régler"
    assert found["facture.rene@exemple.fr"].author.display_name == "René Lefèvre"
    assert "débité deux fois" in found["facture.rene@exemple.fr"].text
    # Escape sequences hidden in an encoded word are decoded, then stripped, and flagged.
    hostile = found["hostile.1@spam.example"]
    assert "\x1b" not in hostile.title + hostile.text and "\u202e" not in hostile.title
    assert "Refund NOW" in hostile.title and hostile.hidden_characters
    # HTML only: converted; the link shows where it really goes; the pixel is not fetched
    # (the test run refuses any connection off loopback, and the poll went through).
    priya = found["crash.priya@corp.example"]
    assert "crashes" in priya.text and "<b>" not in priya.text
    assert "evil.example" in priya.text
    assert all(m.origin is Origin.MENTION for m in polled.messages)
    assert set(polled.cursor) == {"folder:INBOX", "folder:Lists/entraide"}


@needs_dovecot
async def test_the_cursor_resumes_without_gaps_or_repeats_across_a_restart(mail: Mail, channel: EmailChannel):
    await mail.deliver(subject="First", body="one", message_id="1@mail.example")
    first = await channel.poll({})
    again = await channel.poll(first.cursor)
    await mail.deliver(subject="Second", body="two", message_id="2@mail.example")
    await mail.deliver(LIST_FOLDER, subject="[entraide] Third", body="three", message_id="3@mail.example")
    restarted = mail.channel()  # a new process: nothing in memory but the stored cursor
    try:
        later = await restarted.poll(again.cursor)
        last = await restarted.poll(later.cursor)
    finally:
        await restarted.aclose()
    assert [m.remote_id for m in first.messages] == ["1@mail.example"]
    assert again.messages == [] and again.cursor == first.cursor
    assert sorted(m.remote_id for m in later.messages) == ["2@mail.example", "3@mail.example"]
    assert last.messages == []


@needs_dovecot
async def test_a_backlog_is_read_over_several_polls_in_order(
    mail: Mail, channel: EmailChannel, monkeypatch: pytest.MonkeyPatch
):
    await mail.deliver(subject="Before", body="x", message_id="before@mail.example")
    start = await channel.poll({})
    for number in range(23):
        await mail.deliver(subject=f"Mail {number}", body="x", message_id=f"m{number}@mail.example",
                           date=NOW + timedelta(minutes=number))  # fmt: skip
    monkeypatch.setattr(email_channel, "MAX_PER_POLL", 10)
    monkeypatch.setattr(email_imap, "FETCH_CHUNK", 4)
    monkeypatch.setattr(email_imap, "FETCH_BYTES", 700)  # about two mails per FETCH
    cursor, pages = start.cursor, []
    for _ in range(4):
        result = await channel.poll(cursor)
        pages.append([m.remote_id for m in result.messages])
        cursor = result.cursor
    assert [len(page) for page in pages] == [10, 10, 3, 0]
    assert [rid for page in pages for rid in page] == [f"m{n}@mail.example" for n in range(23)]


@needs_dovecot
async def test_a_rebuilt_folder_is_read_again_without_a_duplicate(
    mail: Mail, channel: EmailChannel, tmp_path
):
    store = await open_store(tmp_path / "inbox.db")
    try:
        for number in range(3):
            await mail.deliver(
                LIST_FOLDER, subject=f"Order {number}", body="?", message_id=f"o{number}@mail.example"
            )
        first = await channel.poll({})
        await store.ingest(first.messages, cursor=("email", first.cursor))
        before = await asyncio.to_thread(mail.dovecot.uidvalidity, BRAND, LIST_FOLDER)
        await asyncio.to_thread(mail.dovecot.rebuild_folder, BRAND, LIST_FOLDER)
        await mail.deliver(LIST_FOLDER, subject="Order 3", body="and this one?", message_id="o3@mail.example")
        assert await asyncio.to_thread(mail.dovecot.uidvalidity, BRAND, LIST_FOLDER) != before
        resync = await channel.poll(await store.cursor("email"))
        result = await store.ingest(resync.messages, cursor=("email", resync.cursor))
        after = await channel.poll(resync.cursor)
        assert {m.remote_id for m in resync.messages} >= {"o0@mail.example", "o3@mail.example"}
        assert result.new == 1  # only the new mail: the others were known by their Message-ID
        assert await store.count_conversations(View.INBOX) == 4
        assert after.messages == []
    finally:
        await store.close()


# --- threading ----------------------------------------------------------------------------------


@needs_dovecot
async def test_parents_are_found_on_the_server_and_headerless_replies_by_subject(mail: Mail):
    await mail.deliver(subject="Invoice 88 is wrong", body="Please fix.", message_id="inv88@mail.example")
    first = mail.channel()
    polled = await first.poll({})
    await first.aclose()
    # Later, a fresh process: the parents are only on the server now.
    await mail.deliver(subject="RE: Re: Fwd: Invoice 88 is wrong", body="Any news?", message_id="news@mail.example",
                       date=NOW + timedelta(hours=1))  # fmt: skip
    await mail.deliver(
        subject="Re: Invoice 88 is wrong",
        body="And the total too.",
        message_id="total@mail.example",
        in_reply_to="lost-in-a-client@mail.example",  # never seen anywhere
        references=("inv88@mail.example", "lost-in-a-client@mail.example"),
        date=NOW + timedelta(hours=2),
    )
    await mail.deliver(subject="Re: something never sent to us", body="?", message_id="orphan@mail.example",
                       in_reply_to="elsewhere@mail.example", date=NOW + timedelta(hours=3))  # fmt: skip
    second = mail.channel()
    try:
        later = by_id((await second.poll(polled.cursor)).messages)
    finally:
        await second.aclose()
    assert later["news@mail.example"].in_reply_to == "inv88@mail.example"  # by subject, on the server
    assert later["total@mail.example"].in_reply_to == "inv88@mail.example"  # nearest known reference
    assert later["orphan@mail.example"].in_reply_to == "elsewhere@mail.example"  # nothing better: as said


@needs_dovecot
async def test_context_reads_the_ancestors_from_the_server(mail: Mail, channel: EmailChannel):
    await mail.deliver(LIST_FOLDER, subject="[entraide] Q", body="q", message_id="q@x.example")
    await mail.deliver(LIST_FOLDER, subject="Re: [entraide] Q", body="a", message_id="a@x.example",
                       in_reply_to="q@x.example", references=("q@x.example",))  # fmt: skip
    await mail.deliver(LIST_FOLDER, subject="Re: [entraide] Q", body="b", message_id="b@x.example",
                       in_reply_to="a@x.example", references=("q@x.example", "a@x.example"))  # fmt: skip
    chain = await channel.context("b@x.example")
    assert [m.remote_id for m in chain] == ["q@x.example", "a@x.example", "b@x.example"]
    assert [m.origin for m in chain] == [Origin.CONTEXT, Origin.CONTEXT, Origin.MENTION]
    assert await channel.context("nowhere@x.example") == []


# --- replies ------------------------------------------------------------------------------------


@needs_dovecot
async def test_a_reply_goes_out_by_smtp_threaded_and_lands_in_the_imap_server(
    mail: Mail, channel: EmailChannel
):
    await mail.deliver(subject="=?utf-8?q?Colis_ab=C3=AEm=C3=A9?=", raw=None, body="Mon colis est abîmé.",
                       message_id="colis@mail.example", references=("older@mail.example",),
                       extra={"Reply-To": "Zoé Perso <zoe.perso@mail.example>"})  # fmt: skip
    (parent,) = (await channel.poll({})).messages
    sent = await channel.reply(parent, "Bonjour Zoé, nous vous renvoyons un colis.", "key-1")
    (delivered,) = await mail.folder("INBOX", OUTSIDE)
    out = email.message_from_bytes(delivered[2], policy=email.policy.default)
    assert out["To"] == "zoe.perso@mail.example"  # Reply-To wins over From
    assert out["In-Reply-To"] == "<colis@mail.example>"
    assert out["References"] == "<older@mail.example> <colis@mail.example>"
    assert out["Message-ID"] == f"<{sent.remote_id}>" and sent.remote_id.endswith("@acme.example")
    assert out["Subject"] == "Re: " + parent.title
    assert out.get_content().strip() == "Bonjour Zoé, nous vous renvoyons un colis."
    assert sent.in_reply_to == "colis@mail.example" and sent.origin is Origin.OURS
    (copy,) = await mail.folder("Sent")
    assert f"<{sent.remote_id}>".encode() in copy[2] and b"\\Seen" in copy[1]
    (answered,) = await mail.folder("INBOX")
    assert b"\\Answered" in answered[1]
    assert mail.smtp.received[0].mail_from == BRAND


@needs_dovecot
async def test_a_reply_to_list_mail_goes_to_the_list_and_comes_back_in_the_thread(
    mail: Mail, channel: EmailChannel
):
    await mail.deliver(LIST_FOLDER, subject="[entraide] Export CSV ?", body="Comment ?", message_id="csv@x.example",
                       to=LIST_ADDRESS, extra={"List-Post": f"<mailto:{LIST_ADDRESS}>"})  # fmt: skip
    first = await channel.poll({})
    (parent,) = first.messages
    sent = await channel.reply(parent, "Dans Réglages > Données.", "key-2")
    assert mail.smtp.received[0].recipients == (LIST_ADDRESS,)
    echoed = await channel.poll(first.cursor)
    (ours,) = echoed.messages
    assert ours.remote_id == sent.remote_id and ours.origin is Origin.OURS
    assert ours.in_reply_to == "csv@x.example"


@needs_dovecot
@pytest.mark.parametrize(
    ("reply", "stage", "error"),
    [
        ("451 4.3.0 Try again later", "rcpt", TransientError),
        ("550 5.1.1 No such user", "rcpt", PermanentError),
        ("452 4.3.1 Insufficient storage", "data", TransientError),
        ("554 5.6.0 Message rejected", "data", PermanentError),
    ],
)
async def test_smtp_refusals_are_said_for_what_they_are(
    mail: Mail, channel: EmailChannel, reply, stage, error
):
    await mail.deliver(subject="Help", body="?", message_id="help@mail.example")
    (parent,) = (await channel.poll({})).messages
    mail.smtp.fail_next(reply, stage=stage)
    with pytest.raises(error) as raised:
        await channel.reply(parent, "Hello", "key-3")
    assert not isinstance(raised.value, UncertainSend)
    assert reply.split()[0] in str(raised.value)
    assert mail.smtp.received == [] and await mail.folder("Sent") == []


@needs_dovecot
async def test_wrong_passwords_are_auth_errors_that_never_show_the_password(mail: Mail):
    await mail.deliver(subject="Help", body="?", message_id="help@mail.example")
    # Logged in first: after a failed login Dovecot makes the next ones from that address wait.
    good = mail.channel()
    wrong = mail.channel(password="wrong-password-123456")
    try:
        (parent,) = (await good.poll({})).messages
        with pytest.raises(AuthError) as imap_refused:
            await wrong.poll({})
        mail.smtp.logins[BRAND] = "changed-on-the-server"
        with pytest.raises(AuthError) as smtp_refused:
            await good.reply(parent, "Hello", "key-4")
    finally:
        await wrong.aclose()
        await good.aclose()
    assert "ecoinbox auth email" in str(imap_refused.value) and "ecoinbox auth email" in str(
        smtp_refused.value
    )
    for text in (str(imap_refused.value), str(smtp_refused.value), repr(wrong), repr(good)):
        assert PASSWORD not in text and "wrong-password-123456" not in text
    assert mail.smtp.received == []


@needs_dovecot
async def test_a_missing_folder_is_named_and_a_stopped_server_is_transient(mail: Mail):
    channel = mail.channel(folders=("INBOX", "Lists/nope"))
    try:
        with pytest.raises(PermanentError, match="Lists/nope"):
            await channel.poll({})
        with pytest.raises(PermanentError, match="Lists/nope"):
            await channel.check()
    finally:
        await channel.aclose()
    await mail.dovecot.stop()
    later = mail.channel()
    try:
        with pytest.raises(TransientError) as down:
            await later.poll({})
    finally:
        await later.aclose()
    assert not isinstance(down.value, PermanentError) and "unreachable" in str(down.value)


@needs_dovecot
async def test_check_says_who_and_where(mail: Mail, channel: EmailChannel):
    said = await channel.check()
    assert BRAND in said and "IDLE" in said and mail.smtp.url.removeprefix("smtp://") in said


# Senders whose names hold `;` or `[`, as real mailers write them: encoded (Thunderbird, Gmail),
# raw (ticket systems, old mailers, and Python before the gh-121284 fix when it folds a long
# encoded name), raw 8-bit UTF-8 (RFC 6532).
SPECIAL_SENDERS = [
    (b"=?utf-8?q?Dupont=3B_Marie?= <marie@exemple.fr>", "marie@exemple.fr", "Dupont; Marie"),
    (b"=?UTF-8?Q?=5BACME_Pro=5D_Bob?= <bob@mail.example>", "bob@mail.example", "[ACME Pro] Bob"),
    (b"Martin; Paul <paul@exemple.fr>", "paul@exemple.fr", "Martin; Paul"),
    (b"[Ticket #881] Nadia <nadia@help.example>", "nadia@help.example", "[Ticket #881] Nadia"),
    (b"Zo\xc3\xa9 [Lyon] <zoe@exemple.fr>", "zoe@exemple.fr", "Zoé [Lyon]"),
    (b"=?utf-8?q?L=C3=A9a_=5Bvia_Site=5D?=\r\n <lea@exemple.fr>", "lea@exemple.fr", "Léa [via Site]"),
]


def special_mail(number: int, sender: bytes) -> bytes:
    return (b"From: " + sender + b"\r\nTo: support@acme.example\r\nSubject: Commande %d\r\n"
            b"Message-ID: <special.%d@mail.example>\r\nDate: Mon, 4 May 2026 09:%02d:00 +0000\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nO\xc3\xb9 est ma commande ?\r\n"
            % (number, number, number))  # fmt: skip


@needs_dovecot
async def test_senders_with_semicolons_or_brackets_in_their_names_stay_apart_and_answerable(
    mail: Mail, channel: EmailChannel
):
    for number, (sender, _, _) in enumerate(SPECIAL_SENDERS):
        await mail.deliver(raw=special_mail(number, sender))
    polled = sorted((await channel.poll({})).messages, key=lambda m: m.remote_id)
    assert [(m.author.handle, m.author.display_name) for m in polled] == [
        (address, name) for _, address, name in SPECIAL_SENDERS
    ]
    assert len({m.author.remote_id for m in polled}) == len(SPECIAL_SENDERS)  # never one "unknown"
    assert all(m.author.proofs == (f"mailto:{m.author.handle}",) for m in polled)
    martin = next(m for m in polled if m.author.handle == "paul@exemple.fr")
    await channel.reply(martin, "Bonjour Paul, elle part demain.", "key-special")
    assert mail.smtp.received[-1].recipients == ("paul@exemple.fr",)
    safeguards = (await channel.capabilities()).safeguards
    assert any("by address, never by name" in line for line in safeguards)
    assert any("looked for by that Message-ID" in line for line in safeguards)


@pytest.mark.parametrize(("sender", "address", "name"), SPECIAL_SENDERS)
def test_an_address_is_split_from_the_raw_header_before_its_name_is_decoded(
    sender: bytes, address: str, name: str
):
    (parsed,) = parse_mail(special_mail(1, sender).replace(b"\r\nTo:", b"\r\nReply-To: " + sender + b"\r\nTo:"),
                           channel="email")  # fmt: skip
    assert (parsed.message.author.handle, parsed.message.author.display_name) == (address, name)
    assert parsed.reply_to == (address,)


def test_a_misread_mailbox_does_not_hide_the_next_one():
    raw = (
        b"From: x@y.example\r\nReply-To: Bob [ACME] <bob@mail.example>, Alice <alice@mail.example>\r\n\r\nhi"
    )
    (parsed,) = parse_mail(raw, channel="email")
    assert parsed.reply_to == ("bob@mail.example", "alice@mail.example")


RECORDED = Path(__file__).parent / "data" / "recorded" / "email"
RECORDED_SENDERS = {  # file -> (sender, display name, reply-to): see SOURCES.md there
    "cpython_msg_47.txt": ("123@example.com", "123@abuse.net", ()),
    "imap_tools_double_fields.eml": (
        "kaukinvk@yandex.ru",
        "Каукин Владимир",
        ("foma1@company.ru", "petr1@company.ru"),
    ),
    "imap_tools_address_quoted_newlines.eml": ("status@sender.com", "Sender", ()),
}


def test_recorded_real_mails_name_their_senders():
    for name, (sender, display, reply_to) in RECORDED_SENDERS.items():
        (parsed,) = parse_mail((RECORDED / name).read_bytes(), channel="email")
        assert (parsed.message.author.handle, parsed.message.author.display_name) == (sender, display), name
        assert parsed.reply_to == reply_to, name


@needs_dovecot
async def test_recorded_real_mails_read_through_dovecot(mail: Mail, channel: EmailChannel):
    for name in RECORDED_SENDERS:
        await mail.deliver(raw=(RECORDED / name).read_bytes())
    polled = (await channel.poll({})).messages
    found = {(m.author.handle, m.author.display_name) for m in polled}
    assert found == {(sender, display) for sender, display, _ in RECORDED_SENDERS.values()}


# --- an uncertain send: the Message-ID is looked for before anything is resent ------------------


async def _engine_with_a_queued_reply(mail: Mail, tmp_path, folder: str = "INBOX"):
    clock = Clock()
    store = await open_store(tmp_path / "inbox.db", clock=clock)
    to = LIST_ADDRESS if folder == LIST_FOLDER else BRAND
    extra = {"List-Post": f"<mailto:{LIST_ADDRESS}>"} if folder == LIST_FOLDER else None
    await mail.deliver(folder, subject="Refund?", body="Where is my refund?", message_id="refund@mail.example",
                       to=to, extra=extra)  # fmt: skip
    engine = Engine(store, {"email": mail.channel()}, clock=clock, leased=False)
    await engine.poll_channel("email")
    (row,) = await store.conversation_page(View.INBOX)
    thread = await store.conversation(row.id)
    item = await store.queue_reply(row.id, thread.messages[-1].message, "Your refund left today.")
    return clock, store, engine, item


@needs_dovecot
async def test_after_a_crash_the_sent_copy_is_found_and_nothing_is_sent_twice(mail: Mail, tmp_path):
    clock, store, engine, _ = await _engine_with_a_queued_reply(mail, tmp_path)
    try:
        claimed = await store.claim_next_reply("the process that dies")
        parent = await store.message("email", claimed.parent_remote_id)
        sent = await engine.channels["email"].reply(
            parent, claimed.text, claimed.idempotency_key
        )  # then: SIGKILL
        clock.advance(minutes=5)
        fresh = Engine(store, {"email": mail.channel()}, clock=clock, leased=False)
        await fresh.sender.recover()
        clock.advance(seconds=31)
        await fresh.sender.send_due()
        await fresh.stop()
        (done,) = await store.outbox_items()
        assert done.state is OutboxState.SENT and done.remote_id == sent.remote_id
        assert len(mail.smtp.received) == 1
    finally:
        await engine.stop()
        await store.close()


@needs_dovecot
async def test_an_uncertain_send_to_a_list_is_found_in_the_list_folder(mail: Mail, tmp_path):
    clock, store, engine, _ = await _engine_with_a_queued_reply(mail, tmp_path, LIST_FOLDER)
    try:
        mail.smtp.drop_after_data(deliver=True)  # it went out; the answer never came
        await engine.sender.send_due()
        (unsure,) = await store.outbox_items()
        assert unsure.state is OutboxState.UNKNOWN
        clock.advance(seconds=31)  # the read-back waits for a slow server to settle
        await engine.sender.send_due()  # reconcile: looks for the Message-ID before anything else
        (done,) = await store.outbox_items()
        assert done.state is OutboxState.SENT
        assert len(mail.smtp.received) == 1
    finally:
        await engine.stop()
        await store.close()


@needs_dovecot
async def test_an_uncertain_send_that_never_arrived_is_resent_with_the_same_message_id(mail: Mail, tmp_path):
    clock, store, engine, item = await _engine_with_a_queued_reply(mail, tmp_path)
    try:
        mail.smtp.drop_after_data(deliver=False)  # the line dropped before the server took it
        await engine.sender.send_due()
        (unsure,) = await store.outbox_items()
        assert unsure.state is OutboxState.UNKNOWN
        clock.advance(seconds=31)
        await engine.sender.send_due()  # not in Sent: safe to send again
        await engine.sender.send_due()
        (done,) = await store.outbox_items()
        assert done.state is OutboxState.SENT
        (delivered,) = await mail.folder("INBOX", OUTSIDE)
        assert f"<{done.remote_id}>".encode() in delivered[2]
        assert done.remote_id.split(".")[2].startswith(item.idempotency_key[:8])
    finally:
        await engine.stop()
        await store.close()


# --- IDLE ---------------------------------------------------------------------------------------


@needs_dovecot
async def test_idle_wakes_the_poller_when_mail_arrives(mail: Mail, channel: EmailChannel):
    assert (await channel.capabilities()).stream
    woken = asyncio.Event()
    watcher = asyncio.create_task(channel.watch(woken.set))
    try:
        await asyncio.sleep(0.5)  # let IDLE start; mail before that is read by the next poll anyway
        await mail.deliver(subject="Ping", body="new", message_id="ping@mail.example")
        async with asyncio.timeout(20):
            await woken.wait()
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


@needs_dovecot
async def test_the_engine_polls_at_once_when_idle_says_mail_arrived(mail: Mail, tmp_path):
    from stack import wait_until

    store = await open_store(tmp_path / "inbox.db")
    engine = Engine(store, {"email": mail.channel()}, poll_intervals={"email": 3600.0}, leased=False)
    try:
        await mail.deliver(subject="Before", body="x", message_id="before@mail.example")
        await engine.start()
        await wait_until(lambda: store.count_conversations(View.INBOX), timeout=20)
        await asyncio.sleep(0.5)  # IDLE is being set up meanwhile; a mail before it is polled anyway
        await mail.deliver(subject="After", body="y", message_id="after@mail.example")
        # The next scheduled poll is an hour away: only the push can bring it in.
        await wait_until(lambda: _count_is(store, 2), timeout=20)
    finally:
        await engine.stop()
        await store.close()


async def _count_is(store, expected: int) -> bool:
    return await store.count_conversations(View.INBOX) == expected


# --- malformed and large mail -------------------------------------------------------------------


MALFORMED = [
    b"Subject: no sender, no id, no date\r\n\r\nbody\r\n",
    b"From: x@y.example\r\nSubject: =?x-unknown?Q?caf=E9?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\ncaf\xe9\r\n",
    b"From: b@y.example\r\nMessage-ID: <b64@y.example>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n",
    b"From: \xff\xfe <raw8bit@y.example>\r\nSubject: \xe9t\xe9 \x1b[31mred\r\nMessage-ID: <8bit@y.example>\r\n\r\nhi\x1b]0;x\x07\r\n",
    b"From: c@y.example\r\nMessage-ID: <future@y.example>\r\nDate: Fri, 1 Jan 2100 00:00:00 +0000\r\n\r\nfrom the future\r\n",
    b'From: d@y.example\r\nMessage-ID: <"quoted stuff" with spaces@y.example>\r\nIn-Reply-To: garbage\r\n\r\nodd id\r\n',
    b'Content-Type: multipart/mixed; boundary="x"\r\nFrom: e@y.example\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>unclosed',
]


@needs_dovecot
async def test_malformed_mail_is_read_with_stable_ids_and_clean_text(mail: Mail, channel: EmailChannel):
    for raw in MALFORMED:
        await mail.deliver(raw=raw)
    first = await channel.poll({})
    again = await mail.channel().poll({})
    assert len(first.messages) == len(MALFORMED)
    assert sorted(m.remote_id for m in first.messages) == sorted(m.remote_id for m in again.messages)
    for message in first.messages:
        assert "\x1b" not in message.text + message.title + message.author.display_name
        assert " " not in message.remote_id and '"' not in message.remote_id
        assert message.created_at <= datetime.now(UTC) + timedelta(days=1)
    assert any("café" in m.title or "caf" in m.title for m in first.messages)
    assert any(m.hidden_characters for m in first.messages)


@needs_dovecot
async def test_a_huge_mail_is_read_in_part_and_says_so(
    mail: Mail, channel: EmailChannel, monkeypatch: pytest.MonkeyPatch
):
    big = email.message.EmailMessage()
    big["From"], big["To"], big["Subject"], big["Message-ID"] = "f@y.example", BRAND, "Big", "<big@y.example>"
    big.set_content("See the attached video, please.")
    big.add_attachment(b"\0" * 300_000, maintype="video", subtype="mp4", filename="clip.mp4")
    monkeypatch.setattr(email_imap, "MAX_MESSAGE_BYTES", 100_000)
    monkeypatch.setattr(email_imap, "TEXT_PREFIX", 4096)
    await mail.deliver(raw=big.as_bytes())
    (message,) = (await channel.poll({})).messages
    assert "See the attached video" in message.text and "was not downloaded" in message.text


# --- transport security -------------------------------------------------------------------------


@needs_dovecot
async def test_tls_and_starttls_with_verified_certificates(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from tls import make_local_ca

    ca = make_local_ca(tmp_path / "ca")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    async with DovecotServer(
        {BRAND: PASSWORD, OUTSIDE: PASSWORD}, tls=(ca.cert_file, ca.key_file)
    ) as dovecot:
        await asyncio.to_thread(dovecot.append, BRAND, "INBOX", make_mail(
            sender="z@mail.example", to=BRAND, subject="Hi", body="x", date=NOW, message_id="tls@mail.example"))  # fmt: skip
        untrusted = EmailChannel(
            "email", dovecot.imaps_url, PASSWORD, username=BRAND, smtp_url=None, timeout=5
        )
        try:
            with pytest.raises(TransientError, match="certificate"):
                await untrusted.poll({})
        finally:
            await untrusted.aclose()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
        smtps = SmtpServer(dovecot, logins={BRAND: PASSWORD}, catch_all=OUTSIDE,
                           tls_context=ca.server_context(), implicit_tls=True)  # fmt: skip
        async with smtps:
            for url in (dovecot.imaps_url, dovecot.imap_url):  # implicit TLS, then STARTTLS
                channel = EmailChannel("email", url, PASSWORD, username=BRAND, smtp_url=smtps.url, timeout=5)
                try:
                    (message,) = (await channel.poll({})).messages
                    await channel.reply(message, "over TLS", f"key-{url[:5]}")
                finally:
                    await channel.aclose()
            assert len(smtps.received) == 2


@needs_dovecot
async def test_plain_imap_is_refused_off_loopback(mail: Mail, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(MailServer, "loopback", property(lambda self: False))
    channel = mail.channel()
    try:
        with pytest.raises(PermanentError, match="STARTTLS"):
            await channel.poll({})
    finally:
        await channel.aclose()


# --- the servers themselves ---------------------------------------------------------------------


def test_without_dovecot_the_reason_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch):
    from ecoinbox.demo.email import server as email_server

    monkeypatch.setattr(email_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(email_server.os, "access", lambda path, mode: False)
    reason = email_server.why_no_dovecot()
    assert reason is not None and INSTALL_HINT in reason


@needs_dovecot
async def test_the_smtp_server_delivers_list_mail_with_list_headers(mail: Mail):
    import aiosmtplib

    raw = make_mail(
        sender=BRAND, to=LIST_ADDRESS, subject="Hello list", body="hi", date=NOW, message_id="l@x.example"
    )
    await aiosmtplib.send(raw, sender=BRAND, recipients=[LIST_ADDRESS, "someone@else.example"],
                          hostname="127.0.0.1", port=mail.smtp.port, username=BRAND, password=PASSWORD)  # fmt: skip
    (listed,) = await mail.folder(LIST_FOLDER)
    (outside,) = await mail.folder("INBOX", OUTSIDE)
    assert b"List-Id: <entraide.lists.acme.example>" in listed[2]
    assert b"List-Id" not in outside[2]
    with pytest.raises(aiosmtplib.SMTPException):
        await aiosmtplib.send(
            raw, sender=BRAND, recipients=[LIST_ADDRESS], hostname="127.0.0.1", port=mail.smtp.port
        )  # no login: refused


# --- pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "core"),
    [
        ("Re: Re: Fwd: Order 123", "order 123"),
        ("RE : TR: [entraide] Re: Export CSV ?", "export csv ?"),
        ("AW: WG: Rechnung", "rechnung"),
        ("Re[2]: Re(3): hello", "hello"),
        ("Fwd: parcel (fwd)", "parcel"),
        ("entraide Digest, Vol 4, Issue 2", ""),
        ("Re: entraide Digest, Vol 4, Issue 2", ""),
        ("Recipe for success", "recipe for success"),
    ],
)
def test_subjects_lose_their_prefixes_and_tags(subject: str, core: str):
    assert normalize_subject(subject) == core


def test_reply_subjects():
    assert is_reply_subject("[list] Re: hi") and is_reply_subject("TR: hi") and not is_reply_subject("Recipe")
    assert reply_subject("Re: Re: AW: Order") == "Re: Order"
    assert reply_subject("Fwd: Order") == "Re: Fwd: Order"


def test_message_ids_keep_order_and_drop_junk():
    assert message_ids("<a@x> <b@x>\r\n <a@x> <bad id@x> <c@x>") == ["a@x", "b@x", "c@x"]
    assert message_ids("") == [] and message_ids("<\x1b[31m@x>") == []


def test_a_reply_carries_the_threading_headers_and_a_bounded_references_chain():
    references = tuple(f"r{n}@x" for n in range(30))
    mail = build_reply(message_id="ours@acme.example", from_address="Acme <s@acme.example>", to=["z@x"],
                       subject="Re: Re: Help", parent_id="p@x", references=references, text="Hi",
                       date=NOW)  # fmt: skip
    chain = message_ids(mail["References"])
    assert chain[0] == "r0@x" and chain[-1] == "p@x" and len(chain) == email_mail.MAX_REFERENCES
    assert mail["In-Reply-To"] == "<p@x>" and mail["Subject"] == "Re: Help"


def test_an_rfc1153_plain_text_digest_is_split():
    text = (
        "Today's Topics:\n\n   1. Hello (Ann)\n   2. Re: Hello (Bob)\n\n"
        + "-" * 30 + "\n\nMessage: 1\nDate: Mon, 4 May 2026 08:00:00 +0000\nFrom: Ann <ann@x.example>\n"
        "Subject: Hello\nMessage-ID: <h1@x.example>\n\nHi all\n\n"
        + "-" * 30 + "\n\nMessage: 2\nDate: Mon, 4 May 2026 08:30:00 +0000\nFrom: Bob <bob@x.example>\n"
        "Subject: Re: Hello\nMessage-ID: <h2@x.example>\nIn-Reply-To: <h1@x.example>\n\nHi Ann\n\n"
        + "-" * 30 + "\n\nEnd of list Digest, Vol 1, Issue 1\n"
    )  # fmt: skip
    raw = make_mail(sender="list-request@x.example", to="me@x.example", subject="list Digest, Vol 1, Issue 1",
                    body=text, date=NOW, message_id="d@x.example")  # fmt: skip
    parts = parse_mail(raw, channel="email")
    assert [p.message.remote_id for p in parts] == ["h1@x.example", "h2@x.example"]
    assert parts[1].message.in_reply_to == "h1@x.example" and parts[1].message.text == "Hi Ann"


def test_own_mail_is_ours_and_a_quoted_tail_is_dropped_but_inline_quotes_stay():
    raw = make_mail(sender="Acme <s@acme.example>", to="z@x", subject="Re: a", date=NOW, message_id="o@acme.example",
                    body="> question one\nanswer one\n> question two\nanswer two")  # fmt: skip
    (ours,) = parse_mail(raw, channel="email", own_addresses=["s@acme.example"])
    assert ours.message.origin is Origin.OURS
    assert ours.message.text == "> question one\nanswer one\n> question two\nanswer two"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_parse_into_clean_messages(raw: bytes):
    for parsed in parse_mail(raw, channel="email"):
        message = parsed.message
        assert "\x1b" not in message.text + message.title + message.author.display_name
        assert message.remote_id and " " not in message.remote_id


def test_the_made_up_id_is_stable():
    raw = b"From: a@x\r\nSubject: no id\r\n\r\nsame\r\n"
    first, second = parse_mail(raw, channel="email"), parse_mail(raw, channel="email")
    assert first[0].message.remote_id == second[0].message.remote_id
    assert replace(first[0].message, text="x").remote_id.endswith("@no-message-id.invalid")


def test_ssl_context_verifies():
    context = email_imap.tls_context()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


# --- config and wiring --------------------------------------------------------------------------

EMAIL_TOML = """[brand]
name = "Acme"

[[channels]]
kind = "email"
name = "support"
base_url = "imaps://imap.example.com"
smtp_url = "smtp://smtp.example.com:587"
account = "support@acme.example"
from_address = "Acme Support <support@acme.example>"
folders = ["INBOX", "Lists/entraide"]
append_sent = false
"""


def test_an_email_channel_parses_and_builds():
    from ecoinbox.channels import build_channel
    from ecoinbox.config import parse_config
    from ecoinbox.secrets import Secret

    (settings,) = parse_config(EMAIL_TOML).channels
    assert settings.folders == ("INBOX", "Lists/entraide") and settings.append_sent is False
    channel = build_channel(settings, Secret(PASSWORD))
    assert isinstance(channel, EmailChannel)
    assert channel.imap == MailServer("imaps", "imap.example.com", 993)
    assert channel.smtp == MailServer("smtp", "smtp.example.com", 587)
    assert channel.address == "support@acme.example" and PASSWORD not in repr(channel)


@pytest.mark.parametrize(
    ("change", "key", "said"),
    [
        (("imaps://imap.example.com", "https://imap.example.com"), "base_url", "imaps://"),
        (("smtp://smtp.example.com:587", "ftp://smtp.example.com"), "smtp_url", "smtps://"),
        (
            ('from_address = "Acme Support <support@acme.example>"', 'from_address = "nobody"'),
            "from_address",
            "",
        ),
        (('account = "support@acme.example"\n', ""), "account", "missing"),
        (("imaps://imap.example.com", "imaps://user:pw@imap.example.com"), "base_url", "credentials"),
    ],
)
def test_email_settings_errors_name_the_key(change, key, said):
    from ecoinbox.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as raised:
        parse_config(EMAIL_TOML.replace(*change))
    (problem,) = raised.value.problems
    assert problem.key == f"channels[0].{key}" and said in problem.message


def test_email_only_settings_are_refused_on_other_channels():
    from ecoinbox.config import ConfigError, parse_config

    toml = (
        '[brand]\nname = "A"\n[[channels]]\nkind = "mastodon"\nname = "m"\nbase_url = "https://s.example"\n'
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(toml + 'folders = ["INBOX"]\n')
    assert "only email channels" in str(raised.value) and "channels[0].folders" in str(raised.value)


def test_auth_asks_for_the_mailbox_password_and_keeps_it_in_the_keyring(
    tmp_path, capsys, monkeypatch, isolated_environment
):
    from ecoinbox.cli import main
    from ecoinbox.secrets import KEYRING_SERVICE, Secret

    path = tmp_path / "config.toml"
    path.write_text(EMAIL_TOML, encoding="utf-8")
    prompts: list[str] = []

    def type_password(prompt: str) -> Secret:
        prompts.append(prompt)
        return Secret(PASSWORD)

    monkeypatch.setattr("ecoinbox.secrets.prompt_token", type_password)
    assert main(["--config", str(path), "auth", "support"]) == 0
    assert isolated_environment.passwords[(KEYRING_SERVICE, "support")] == PASSWORD
    out = capsys.readouterr().out
    assert "app password" in out and PASSWORD not in out
    assert prompts == ["Password for support@acme.example (not echoed): "]


def test_the_from_address_is_a_proof_unless_a_list_put_its_own_there():
    """Contacts across channels: the same address links people, but a list that rewrote From to
    itself (DMARC) would make all its posters one person."""
    own = b"From: Zoe <Zoe@Example.org>\r\nSubject: hi\r\nMessage-ID: <a@x>\r\n\r\nhello\r\n"
    munged = (b"From: Zoe via Entraide <entraide@lists.example>\r\n"
              b"List-Post: <mailto:entraide@lists.example>\r\n"
              b"Subject: hi\r\nMessage-ID: <b@x>\r\n\r\nhello\r\n")  # fmt: skip
    assert parse_mail(own, channel="email")[0].message.author.proofs == ("mailto:zoe@example.org",)
    assert parse_mail(munged, channel="email")[0].message.author.proofs == ()
