"""The email channel: a mailbox (and its mailing-list folders) over IMAP, replies over SMTP.

IMAP library: IMAPClient (a well-kept wrapper of the standard library's imaplib), run in a
thread of its own per channel. It parses FETCH, SEARCH and LIST responses (literals included),
quotes search criteria, encodes folder names (modified UTF-7) and speaks STARTTLS and IDLE:
the parts of IMAP that are easy to get subtly wrong by hand. aioimaplib is asyncio-native but
hands back raw response lines to parse; one blocking connection per channel, driven from one
thread, costs nothing here (a poll is a handful of round trips). SMTP goes through aiosmtplib.

Cursors, per folder: "folder:<name>" = "<UIDVALIDITY>:<last UID>:<day of the newest mail>".
A poll asks for `UID <last+1>:*`; a changed UIDVALIDITY (the folder was rebuilt) re-reads the
folder from that day on, and nothing is doubled because a message's remote id is its
Message-ID, not its UID (a mail without one gets a stable id hashed from its headers).

Threading: a message's parent is the nearest of In-Reply-To, then References (newest first)
that is in the batch or on the server (the folders and Sent); a reply from a client that sends
no such headers ("Re: Re: Fwd: ...") falls back to the newest earlier mail with the same
subject once reply prefixes and [list] tags are stripped. A mailing-list digest (MIME
multipart/digest, or RFC 1153 plain text) is split into the messages it carries.

Content: text/plain is preferred; HTML, when it is the only body, goes through `htmltext` (and
nothing remote is ever fetched: no image, no tracking pixel). Headers are RFC 2047-decoded, then
sanitized. A trailing quoted history ("On ... wrote:" and ">" lines) is dropped.

Replies: the Message-ID is chosen before sending, from the parent and the text (and the outbox
key), so a resend after an uncertain send or a crash carries the same one; `find_sent` looks
for it in Sent (and in the folders, where a list echoes our own post) before anything is sent
again. The sent copy is APPENDed to Sent, and the parent marked \\Answered.

The password lives in the IMAP session and the SMTP login only: never in `repr`, an error or
a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    MailHeaders,
    PermanentError,
    PollResult,
    TransientError,
)
from ecoinbox.channels.email.imap import (
    Fetched,
    FolderBatch,
    FolderCursor,
    Found,
    IdleWatcher,
    ImapSession,
    MailServer,
    any_message_id,
    aware_or_none,
    fetch_mails,
    folder_not_found,
    imap_refusal,
    parse_server,
    quiet_imap_logs,
    select_or_skip,
)
from ecoinbox.channels.email.mail import (
    POLICY,
    ParsedMail,
    build_reply,
    clean_line,
    content_tag,
    earlier_same_subject,
    from_display_name,
    is_reply_subject,
    mail_date,
    mail_header,
    message_id,
    message_ids,
    normalize_subject,
    parse_mail,
    reply_message_id,
    reply_recipients,
    reply_subject,
    search_words,
    subject_index,
)
from ecoinbox.channels.email.smtp import smtp_session, submit
from ecoinbox.channels.http import channel_logger, one_line, register_secret
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

IMAP_PORTS = {"imaps": 993, "imap": 143}
SMTP_PORTS = {"smtps": 465, "smtp": 587}

FOLDER_PREFIX = "folder:"
FIRST_RUN = 200  # a first run imports this many recent mails per folder, not the whole history
MAX_PER_POLL = 500  # per folder; the rest waits for the next poll, the cursor just before it
MAX_LOOKUPS = 60  # Message-IDs looked up on the server per poll (parents of replies)
LOOKUP_CHUNK = 20
SUBJECT_WINDOW = timedelta(days=60)  # how far back a subject fallback looks
MAX_CONTEXT_DEPTH = 30
KNOWN_CACHE = 8192
RESYNC_SLACK = timedelta(days=1)
RECONCILE_SLACK = timedelta(minutes=5)
IDLE_FOLDERS = 3  # one connection per folder watched: providers cap connections
DEFAULT_MAX_LENGTH = 100_000

_T = TypeVar("_T")

SAFEGUARDS = (
    (
        "SMTP has no idempotency key: a reply's Message-ID is chosen before it is sent, and an "
        "uncertain send is looked for by that Message-ID in Sent (and the list's folder) before any resend"
    ),
    (
        "the From header proves nothing by itself: a sender is told apart by address, never by name, "
        "and a list that rewrites From to its own address gives no proof of who wrote"
    ),
)
# ---------------------------------------------------------------------------------------------
# The channel


class EmailChannel:
    """One mailbox: IMAP folders to read, an SMTP server to reply through.

    `imap_url` is "imaps://host[:993]" (TLS) or "imap://host[:143]" (STARTTLS); `smtp_url` is
    "smtps://host[:465]" or "smtp://host[:587]" (STARTTLS). Plain text only to loopback. The
    same `username` and password log in to both. `folders` are read in order ("INBOX" and, say,
    a mailing list's folder); `sent_folder` None finds the \\Sent folder; `append_sent` False
    for providers that file sent mail themselves (Gmail).
    """

    kind = "email"

    def __init__(
        self,
        name: str,
        imap_url: str,
        password: str,
        *,
        username: str | None,
        smtp_url: str | None,
        from_address: str | None = None,
        folders: Sequence[str] = ("INBOX",),
        sent_folder: str | None = None,
        append_sent: bool = True,
        idle: bool = True,
        timeout: float = 20.0,
    ) -> None:
        password = password.strip("\r\n")  # a token_cmd's trailing newline is not part of it
        if not password:
            raise AuthError(f"no password for channel {name}: run `ecoinbox auth {name}`")
        if not username:
            raise AuthError(f"channel {name}: the mailbox's login (account) is missing")
        register_secret(password)
        quiet_imap_logs()
        self.name = name
        self.imap = parse_server(imap_url, IMAP_PORTS)
        self.smtp = parse_server(smtp_url, SMTP_PORTS) if smtp_url else None
        self.username = username
        self._password = password
        from_address = (from_address or "").strip() or (username if "@" in username else "")
        self.from_address = from_address
        self.address = email.utils.parseaddr(from_address)[1].casefold() if from_address else ""
        self.domain = self.address.rpartition("@")[2] or "ecoinbox.invalid"
        self.folders = tuple(dict.fromkeys(f.strip() for f in folders if f.strip())) or ("INBOX",)
        self.sent_folder = sent_folder.strip() if sent_folder else None
        self.append_sent = append_sent
        self.idle = idle
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"imap-{name}")
        self._session = ImapSession(name, self.imap, username, password, timeout)
        # Message-IDs known to exist (seen or sent by this process), for threading.
        self._known: OrderedDict[str, None] = OrderedDict()
        self._digests: OrderedDict[str, None] = OrderedDict()
        self._closed = False

    def __repr__(self) -> str:
        return f"EmailChannel(name={self.name!r}, imap={self.imap.label!r})"

    __str__ = __repr__

    @property
    def own_addresses(self) -> tuple[str, ...]:
        return tuple(a for a in (self.address, self.username.casefold()) if "@" in a)

    async def aclose(self) -> None:
        """Log out of IMAP and stop the channel's thread."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(self._executor, self._session.close)
        self._executor.shutdown(wait=False)

    def set_token(self, token: str) -> bool:
        """Use a renewed password from now on; False when it is empty or the one in use."""
        token = token.strip("\r\n")
        if not token or token == self._password:
            return False
        register_secret(token)
        self._password = token
        self._executor.submit(self._session.set_password, token)
        return True

    async def _imap(self, operation: Callable[[Any], _T]) -> _T:
        if self._closed:
            raise TransientError(f"channel {self.name} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._session.run, operation)

    # -- capabilities and check --------------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """Replies when an SMTP server is configured; `stream` when the server offers IDLE."""
        caps = await self._imap(lambda client: self._session.capabilities)
        return Capabilities(
            reply=self.smtp is not None and bool(self.address),
            search=False,
            stream=self.idle and "IDLE" in caps,
            max_length=DEFAULT_MAX_LENGTH,
            length_counting="characters",
            idempotency_window=None,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Log in to IMAP (and see every folder), then to SMTP; say who we are and where."""

        def folders(client: Any) -> list[str]:
            missing = []
            for folder in self.folders:
                try:
                    client.folder_status(folder, ["UIDVALIDITY"])
                except Exception:  # noqa: BLE001 - reported below, all at once
                    missing.append(folder)
            return missing

        missing = await self._imap(folders)
        if missing:
            raise PermanentError(
                f"channel {self.name}: no folder {', '.join(repr(one_line(f, 60)) for f in missing)} "
                "on the server: check `folders` in the config"
            )
        idle = "IDLE" in self._session.capabilities
        said = f"{one_line(self.username)} on {self.imap.label} ({'IDLE' if idle else 'polling'})"
        if self.smtp is None:
            return said + ", no SMTP server: read only"
        async with self._smtp_session():
            pass
        return said + f", replies through {self.smtp.label}"

    # -- polling -----------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New mail in every folder since `cursor`, threaded, oldest first.

        A folder that fails after others were read keeps its own cursor; the poll returns what
        it has. A folder that does not exist is an error that names it.
        """
        next_cursor = dict(cursor)
        found: dict[str, ParsedMail] = {}
        first_error: ChannelError | None = None
        for folder in self.folders:
            key = FOLDER_PREFIX + folder
            try:
                batch = await self._imap(
                    lambda client, f=folder, k=key: self._read_folder(client, f, cursor.get(k))
                )
            except (AuthError, PermanentError):
                raise
            except TransientError as exc:
                first_error = first_error or exc
                break
            for fetched in batch.fetched:
                for parsed in parse_mail(
                    fetched.raw,
                    channel=self.name,
                    own_addresses=self.own_addresses,
                    received=fetched.received,
                    truncated=fetched.truncated,
                ):
                    found.setdefault(parsed.message.remote_id, parsed)
            if batch.cursor is not None:
                next_cursor[key] = batch.cursor
        if first_error is not None and not found:
            raise first_error
        if first_error is not None:
            log.warning("channel %s: poll stopped early: %s", self.name, first_error)
        messages = await self._thread(list(found.values()))
        messages.sort(key=lambda m: (m.created_at, m.remote_id))
        return PollResult(messages=messages, cursor=next_cursor)

    def _read_folder(self, client: Any, folder: str, saved_value: str | None) -> FolderBatch:
        """The raw mails of one folder after its cursor, and the cursor after them."""
        from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

        try:
            info = client.select_folder(folder, readonly=True)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            refusal = imap_refusal(self.name, self.imap, exc)
            if refusal.transient:
                raise refusal from None
            raise folder_not_found(self.name, folder, exc) from None
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        uidnext = info.get(b"UIDNEXT")
        saved = FolderCursor.load(saved_value)
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        if saved is not None and saved.uidvalidity == uidvalidity:
            if isinstance(uidnext, int) and uidnext <= saved.last_uid + 1:
                return FolderBatch(cursor=saved.dump())  # nothing new: one round trip
            uids = [u for u in client.search(["UID", f"{saved.last_uid + 1}:*"]) if u > saved.last_uid]
            day = saved.day
        elif saved is not None and saved.day:
            log.info(
                "channel %s: folder %s was rebuilt (new UIDVALIDITY): reading it again", self.name, folder
            )
            since = datetime.strptime(saved.day, "%Y-%m-%d").date() - RESYNC_SLACK
            uids = list(client.search(["SINCE", since]))
            day = saved.day
        else:
            uids = sorted(client.search(["ALL"]))[-FIRST_RUN:]
            day = today
        uids = sorted(uids)[:MAX_PER_POLL]
        if not uids:
            last = saved.last_uid if saved is not None and saved.uidvalidity == uidvalidity else 0
            if isinstance(uidnext, int) and uidnext > 0:
                last = max(last, uidnext - 1)
            return FolderBatch(cursor=FolderCursor(uidvalidity, last, day or today).dump())
        fetched = fetch_mails(client, uids)
        newest = max((f.received for f in fetched if f.received is not None), default=None)
        if newest is not None:
            day = max(day or "", newest.astimezone(UTC).strftime("%Y-%m-%d"))
        return FolderBatch(fetched=fetched, cursor=FolderCursor(uidvalidity, uids[-1], day or today).dump())

    # -- threading ---------------------------------------------------------------------------

    async def _thread(self, batch: list[ParsedMail]) -> list[Message]:
        """Point each message at its nearest parent that exists, or an earlier mail with the
        same subject when a client sent no threading headers."""
        ids = {p.message.remote_id for p in batch}
        digests = {p.digest_id for p in batch if p.digest_id}
        self._remember(ids)
        for digest in digests:
            self._digests[digest] = None
        unknown = [ref for p in batch for ref in p.parents if ref not in ids and ref not in self._known]
        unknown = list(dict.fromkeys(unknown))[:MAX_LOOKUPS]
        if unknown:
            located = await self._imap(lambda client: self._locate(client, unknown))
            self._remember(ref for ref in located if ref not in self._digests)
        out: list[Message] = []
        by_subject = subject_index(batch)
        for parsed in batch:
            message = parsed.message
            parent = next(
                (
                    ref
                    for ref in parsed.parents
                    if (ref in ids or ref in self._known) and ref not in self._digests
                ),
                None,
            )
            if parent is None and is_reply_subject(parsed.subject):
                parent = earlier_same_subject(by_subject, parsed)
                if parent is None:
                    parent = await self._subject_fallback(parsed)
            if parent is None and parsed.parents and parsed.parents[0] in self._digests:
                parent = None  # a reply to a digest: the digest is not a message of its own
            elif parent is None:
                parent = message.in_reply_to
            out.append(replace(message, in_reply_to=parent) if parent != message.in_reply_to else message)
        return out

    def _remember(self, ids: Iterable[str]) -> None:
        for remote_id in ids:
            self._known[remote_id] = None
            self._known.move_to_end(remote_id)
        while len(self._known) > KNOWN_CACHE:
            self._known.popitem(last=False)

    def _search_folders(self, client: Any) -> list[str]:
        sent = self._session.sent(client, self.sent_folder)
        return list(dict.fromkeys([*self.folders, *([sent] if sent else [])]))

    def _locate(self, client: Any, wanted: Sequence[str]) -> dict[str, Found]:
        """Where each of these Message-IDs is on the server (folders and Sent), if anywhere."""
        located: dict[str, Found] = {}
        for folder in self._search_folders(client):
            missing = [ref for ref in wanted if ref not in located]
            if not missing:
                break
            if not select_or_skip(client, folder):
                continue  # a folder missing here (say, no Sent) holds nothing
            for start in range(0, len(missing), LOOKUP_CHUNK):
                chunk = missing[start : start + LOOKUP_CHUNK]
                uids = client.search(any_message_id(chunk))
                if not uids:
                    continue
                headers = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID CONTENT-TYPE)]"])
                for uid, data in headers.items():
                    raw = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
                    head = email.message_from_bytes(bytes(raw), policy=POLICY)
                    found = message_id(mail_header(head, "message-id"))
                    if found in chunk and found not in located:
                        located[found] = Found(folder, uid)
                        if "digest" in mail_header(head, "content-type").lower():
                            self._digests[found] = None
        return located

    async def _subject_fallback(self, parsed: ParsedMail) -> str | None:
        """The newest earlier mail on the server with the same subject, prefixes aside."""
        core = normalize_subject(parsed.subject)
        if len(core) < 4:
            return None
        words = search_words(parsed.subject)
        if not words:
            return None
        before = parsed.message.created_at
        since = (before - SUBJECT_WINDOW).date()

        def search(client: Any) -> str | None:
            best: tuple[datetime, str] | None = None
            for folder in self._search_folders(client):
                if not select_or_skip(client, folder):
                    continue
                uids = client.search(["SUBJECT", words, "SINCE", since], charset="UTF-8")
                for data in client.fetch(sorted(uids)[-50:], ["BODY.PEEK[HEADER]", "INTERNALDATE"]).values():
                    head = email.message_from_bytes(bytes(data.get(b"BODY[HEADER]") or b""), policy=POLICY)
                    candidate = message_id(mail_header(head, "message-id"))
                    if not candidate or candidate == parsed.message.remote_id:
                        continue
                    subject, _ = clean_line(mail_header(head, "subject"), 300)
                    if normalize_subject(subject) != core:
                        continue
                    when = mail_date(head, aware_or_none(data.get(b"INTERNALDATE")))
                    if when <= before and (best is None or when > best[0]):
                        best = (when, candidate)
            return best[1] if best else None

        return await self._imap(search)

    # -- context -----------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The mail `remote_id` and its ancestors on the server, oldest first."""
        chain: list[Message] = []
        seen: set[str] = set()
        current: str | None = remote_id
        while current and current not in seen and len(chain) < MAX_CONTEXT_DEPTH:
            seen.add(current)
            parsed = await self._fetch_by_id(current)
            if parsed is None:
                break
            origin = Origin.MENTION if current == remote_id else Origin.CONTEXT
            message = parsed.message if parsed.message.is_ours else replace(parsed.message, origin=origin)
            threaded = await self._thread([replace(parsed, message=message)])
            chain.append(threaded[0])
            current = threaded[0].in_reply_to
        chain.reverse()
        return chain

    async def _fetch_by_id(self, remote_id: str) -> ParsedMail | None:
        if message_id(f"<{remote_id}>") != remote_id:
            return None

        def fetch(client: Any) -> Fetched | None:
            located = self._locate(client, [remote_id]).get(remote_id)
            if located is None:
                return None
            client.select_folder(located.folder, readonly=True)
            fetched = fetch_mails(client, [located.uid])
            return fetched[0] if fetched else None

        fetched = await self._imap(fetch)
        if fetched is None:
            return None
        for parsed in parse_mail(
            fetched.raw, channel=self.name, own_addresses=self.own_addresses, received=fetched.received
        ):
            if parsed.message.remote_id == remote_id:
                return parsed
        return None

    # -- replying ----------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: a mail reply starts however the manager likes."""
        return ""

    def reply_headers(self, parent: Message, *, reply_all: bool = False) -> MailHeaders:
        """To the sender (a list mail's reply still goes to the list while To is left as it is);
        with `reply_all`, Cc the others it was sent to, our own addresses aside."""
        own = {a.casefold() for a in self.own_addresses}
        sender = parent.author.handle if "@" in parent.author.handle else ""
        to = tuple(a for a in [sender] if a and a.casefold() not in own)
        cc = tuple(a for a in parent.mentions if a.casefold() not in own and a not in to) if reply_all else ()
        return MailHeaders(to, cc, reply_subject(parent.title))

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """Send `text` by SMTP as a reply to `parent` (to the list for list mail, else to its
        Reply-To or sender), then file a copy in Sent and mark the parent answered."""
        return await self._send_reply(parent, text, idempotency_key, None)

    async def reply_headed(
        self, parent: Message, text: str, idempotency_key: str, headers: MailHeaders
    ) -> Message:
        """`reply`, to the recipients and under the subject the manager set in the reply box."""
        return await self._send_reply(parent, text, idempotency_key, headers)

    async def _send_reply(
        self, parent: Message, text: str, idempotency_key: str, headers: MailHeaders | None
    ) -> Message:
        if self.smtp is None or not self.address:
            raise PermanentError(f"channel {self.name}: replies need smtp_url and from_address in the config")
        original = await self._fetch_by_id(parent.remote_id)
        to = list(headers.to) if headers is not None and headers.to else []
        to = to or reply_recipients(parent, original, self.own_addresses)
        cc = [a for a in (headers.cc if headers is not None else ()) if a not in to]
        if not to:
            raise PermanentError(f"channel {self.name}: the mail has no address to reply to")
        subject = original.subject if original is not None else parent.title
        exact = headers is not None and bool(headers.subject.strip())
        if exact:
            assert headers is not None
            subject = " ".join(headers.subject.split())
        references = (
            original.references if original is not None else tuple(filter(None, [parent.in_reply_to]))
        )
        mid = reply_message_id(parent.remote_id, text, idempotency_key, self.domain)
        sent_at = datetime.now(UTC).replace(microsecond=0)
        mail = build_reply(
            message_id=mid,
            from_address=self.from_address,
            to=to,
            subject=subject,
            parent_id=parent.remote_id,
            references=references,
            text=text,
            date=sent_at,
            language=parent.language,
            cc=cc,
            exact_subject=exact,
        )
        await self._submit(mail, [*to, *cc])
        self._remember([mid])
        await self._after_send(mail, parent.remote_id)
        return Message(
            channel=self.name,
            remote_id=mid,
            author=Author(self.name, self.address, self.address, from_display_name(self.from_address)),
            text=text.strip(),
            created_at=sent_at,
            in_reply_to=parent.remote_id,
            origin=Origin.OURS,
            title=str(mail["Subject"]),
            language=parent.language,
        )

    def _new_session(self) -> ImapSession:
        """Another IMAP connection of this mailbox (the watchers' own)."""
        return ImapSession(self.name, self.imap, self.username, self._password, self.timeout)

    def _smtp_session(self) -> contextlib.AbstractAsyncContextManager[Any]:
        assert self.smtp is not None
        return smtp_session(self.name, self.smtp, self.username, self._password, self.timeout)

    async def _submit(self, mail: EmailMessage, recipients: Sequence[str]) -> None:
        assert self.smtp is not None
        await submit(self._smtp_session(), self.name, self.smtp, self.address, mail, recipients)

    async def _after_send(self, mail: EmailMessage, parent_id: str) -> None:
        """File the sent copy in Sent and flag the parent \\Answered; a failure here is only
        logged, the mail went out."""
        raw = mail.as_bytes(policy=email.policy.SMTP)

        def file_copy(client: Any) -> None:
            if self.append_sent:
                sent = self._session.sent(client, self.sent_folder)
                if sent:
                    client.append(sent, raw, flags=[b"\\Seen"], msg_time=datetime.now(UTC))
            located = self._locate(client, [parent_id]).get(parent_id)
            if located is not None and located.folder in self.folders:
                client.select_folder(located.folder)
                client.add_flags([located.uid], [b"\\Answered"])

        try:
            await self._imap(file_copy)
        except ChannelError as exc:
            log.warning(
                "channel %s: the reply went out but its copy was not filed in Sent: %s", self.name, exc
            )

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, if Sent (or a folder, where a list echoes it)
        holds it: looked up by the Message-ID it was given before it was sent."""
        if parent is None:
            return None
        prefix = f"ecoinbox.{content_tag(parent.remote_id, text)}."
        cutoff = since - RECONCILE_SLACK

        def search(client: Any) -> Fetched | None:
            for folder in self._search_folders(client):
                if not select_or_skip(client, folder):
                    continue  # a folder missing here (say, no Sent) holds nothing
                uids = client.search(["HEADER", "Message-ID", prefix])
                for fetched in fetch_mails(client, sorted(uids, reverse=True)[:10]):
                    head = email.message_from_bytes(fetched.raw, policy=POLICY)
                    found = message_id(mail_header(head, "message-id")) or ""
                    if found.startswith(prefix) and mail_date(head, fetched.received) >= cutoff:
                        return fetched
            return None

        fetched = await self._imap(search)
        if fetched is None:
            return None
        parsed = parse_mail(
            fetched.raw, channel=self.name, own_addresses=self.own_addresses, received=fetched.received
        )
        message = replace(parsed[0].message, origin=Origin.OURS, in_reply_to=parent.remote_id)
        self._remember([message.remote_id])
        return message

    # -- push --------------------------------------------------------------------------------

    async def watch(self, wake: Callable[[], None]) -> None:
        """IMAP IDLE on the first folders (one connection each) until cancelled: `wake` is
        called when mail arrives, so the next poll comes at once. Without IDLE, returns."""
        if not self.idle:
            return
        caps = await self._imap(lambda client: self._session.capabilities)
        if "IDLE" not in caps:
            log.info("channel %s: the server offers no IDLE; polling only", self.name)
            return
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        watchers = [
            IdleWatcher(self.name, self._new_session, folder, loop, wake, stop)
            for folder in self.folders[:IDLE_FOLDERS]
        ]
        for watcher in watchers:
            watcher.start()
        try:
            await asyncio.Event().wait()
        finally:
            stop.set()
            for watcher in watchers:
                watcher.interrupt()
            await asyncio.gather(
                *(asyncio.to_thread(watcher.join, 5.0) for watcher in watchers), return_exceptions=True
            )


# ---------------------------------------------------------------------------------------------
# Helpers


__all__ = [
    "EmailChannel",
    "MailServer",
    "ParsedMail",
    "build_reply",
    "is_reply_subject",
    "message_id",
    "message_ids",
    "normalize_subject",
    "parse_mail",
    "parse_server",
    "reply_message_id",
    "reply_subject",
]
