"""Mail as text, both ways and pure: parsing what a mailbox holds (headers, bodies, digests, threading ids) and writing a reply (its Message-ID chosen before sending)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.message import Message as MimeMessage
from urllib.parse import unquote

from ecoinbox.contacts import email_proof
from ecoinbox.model import Author, Message, Origin

MAX_REFERENCES = 20  # References header of a reply: the root and the newest ones

# ---------------------------------------------------------------------------------------------
# Parsing mail (pure)

POLICY = email.policy.default
_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_SAFE_ID = re.compile(r"[!#-;=?-~]{1,250}")  # printable ASCII but space, quote, angle brackets
_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:re|fwd?|tr|aw|wg|sv|vs|antw|ref|réf|rép|enc|odp|r)\s*(?:\[\d+\]|\(\d+\))?\s*:"
    r"|\[[^\]]{1,60}\]"
    r")\s*",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,60}\]\s*)*(?:re|fwd?|tr|aw|wg|sv|vs|antw|ref|réf|rép|enc|odp)\s*(?:\[\d+\]|\(\d+\))?\s*:",
    re.IGNORECASE,
)
_DIGEST_SUBJECT = re.compile(r"\bdigest\b.*\bvol(?:ume)?\b.*\bissue\b|\bdigest\b\s*,?\s*vol", re.IGNORECASE)
_FWD_SUFFIX = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"^(?:on\b.{0,200}\bwrote\s*:|le\b.{0,200}\ba écrit\s*:|am\b.{0,200}\bschrieb\b.{0,80}:|"
    r"el\b.{0,200}\bescribió\s*:|-{2,}\s*(?:original message|message d'origine|forwarded message)"
    r".{0,20}-*)\s*$",
    re.IGNORECASE,
)
_LIST_FOOTER = re.compile(r"^_{20,}\s*$")
_PLAIN_ADDRESS = re.compile(r"[^\s<>@\"]+@[^\s<>@\"]+")
_RFC1153_SEPARATOR = re.compile(r"^-{30}\s*$", re.MULTILINE)


def message_id(value: str | None) -> str | None:
    """The Message-ID in a header value, without angle brackets; None when there is none or it
    holds characters that have no business in one (it is used in IMAP searches)."""
    if not value:
        return None
    value = str(value).strip()
    match = _MSGID.search(value)
    candidate = match.group(1) if match else value
    return candidate if _SAFE_ID.fullmatch(candidate) else None


def message_ids(value: str | None) -> list[str]:
    """Every Message-ID of a References or In-Reply-To header, in order, without duplicates."""
    if not value:
        return []
    found = [m.group(1) for m in _MSGID.finditer(str(value)) if _SAFE_ID.fullmatch(m.group(1))]
    if not found:
        single = message_id(value)
        found = [single] if single else []
    return list(dict.fromkeys(found))


def normalize_subject(subject: str) -> str:
    """The subject a thread keeps once "Re:", "Fwd:", "TR:", "AW:"... and [list] tags are gone,
    casefolded; "" for a digest's subject (replies to a digest are not about the digest)."""
    text = " ".join((subject or "").split())
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1)
    text = _FWD_SUFFIX.sub("", text).strip()
    if _DIGEST_SUBJECT.search(text):
        return ""
    return text.casefold()


def is_reply_subject(subject: str) -> bool:
    """ "Re: ...", "[list] Re: ...", "Fwd: ...", "TR: ..." and the like."""
    return bool(_REPLY_PREFIX.match(subject or ""))


def reply_subject(subject: str) -> str:
    """ "Re: <subject>" with the reply and forward prefixes collapsed into one "Re:"."""
    core = " ".join((subject or "").split())
    previous = None
    while previous != core:
        previous = core
        core = re.sub(
            r"^\s*(?:re|aw|sv|vs|antw|réf|rép|odp)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
            "",
            core,
            flags=re.IGNORECASE,
        )
    return f"Re: {core}" if core else "Re:"


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """A mail turned into a `Message`, with what threading and replying need besides."""

    message: Message
    parents: tuple[str, ...] = ()  # In-Reply-To, then References from the newest: nearest first
    subject: str = ""  # decoded and sanitized
    reply_to: tuple[str, ...] = ()
    list_post: str | None = None
    references: tuple[str, ...] = ()  # as the mail said, oldest first
    digest_id: str | None = None  # the digest this message was carried in


def parse_mail(
    raw: bytes,
    *,
    channel: str,
    own_addresses: Iterable[str] = (),
    origin: Origin = Origin.MENTION,
    received: datetime | None = None,
    truncated: int = 0,
) -> list[ParsedMail]:
    """A raw RFC 5322 message as one ParsedMail, or several for a digest. Never raises on bad
    input: what cannot be decoded is replaced, what is missing is made up stably."""
    try:
        mime = email.message_from_bytes(raw, policy=POLICY)
    except Exception:  # noqa: BLE001 - the parser is tolerant; this is for its own bugs
        mime = email.message_from_bytes(b"Subject: (unreadable message)\r\n\r\n", policy=POLICY)
    own = {address.casefold() for address in own_addresses}
    parsed = _one_mail(mime, channel, own, origin, received, truncated)
    parts = _digest_parts(mime, parsed.subject)
    if not parts:
        return [parsed]
    carried = []
    for part in parts:
        one = _one_mail(part, channel, own, origin, parsed.message.created_at, 0)
        carried.append(replace(one, digest_id=parsed.message.remote_id))
    return carried


def _one_mail(
    mime: MimeMessage, channel: str, own: set[str], origin: Origin, received: datetime | None, truncated: int
) -> ParsedMail:
    subject, subject_hidden = clean_line(mail_header(mime, "subject"), 300)
    name, address = _sender(mime)
    display, name_hidden = clean_line(name, 120)
    address = address.casefold()
    created = mail_date(mime, received)
    text, links, text_hidden = _body(mime)
    if truncated:
        text += f"\n[the rest of this mail ({truncated / 1024 / 1024:.1f} MB with attachments) was not downloaded]"
    in_reply_to = message_ids(mail_header(mime, "in-reply-to"))
    references = message_ids(mail_header(mime, "references"))
    remote_id = message_id(mail_header(mime, "message-id")) or _made_up_id(mime, address, subject, text)
    parents = tuple(p for p in dict.fromkeys([*in_reply_to, *reversed(references)]) if p != remote_id)
    language = _language(mail_header(mime, "content-language"))
    # A list that rewrites From to its own address (DMARC) would make all its posters one person.
    munged = address == (_list_post(mail_header(mime, "list-post")) or "").casefold()
    author = Author(
        channel=channel, remote_id=address or "unknown", handle=address or "unknown", display_name=display,
        proofs=(email_proof(address),) if "@" in address and not munged else (),
    )  # fmt: skip
    message = Message(
        channel=channel,
        remote_id=remote_id,
        author=author,
        text=text,
        created_at=created,
        in_reply_to=parents[0] if parents else None,
        language=language,
        origin=Origin.OURS if address and address in own else origin,
        links=links,
        title=subject,
        hidden_characters=subject_hidden or name_hidden or text_hidden,
    )
    reply_to = tuple(a for a in _addresses(mime, "reply-to") if a)
    # Whom else it was sent to, our own addresses aside: a reply-all copies them.
    others = [a.casefold() for a in [*_addresses(mime, "to"), *_addresses(mime, "cc")] if a]
    others = [a for a in dict.fromkeys(others) if a != address and a not in own]
    message = replace(message, mentions=tuple(others))
    return ParsedMail(
        message=message,
        parents=parents,
        subject=subject,
        reply_to=reply_to,
        list_post=_list_post(mail_header(mime, "list-post")),
        references=tuple(references),
    )


def mail_header(mime: MimeMessage, name: str) -> str:
    """A header's decoded value ("" if absent); RFC 2047 words decoded, defects tolerated."""
    try:
        value = mime.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - a header the modern parser chokes on: decode it the old way
        from email.header import decode_header, make_header

        raw = mime.get_all(name, failobj=[""])
        try:
            return str(make_header(decode_header(str(raw[0]))))
        except Exception:  # noqa: BLE001
            return str(raw[0]).encode("ascii", "replace").decode("ascii")


def clean_line(text: str, limit: int) -> tuple[str, bool]:
    from ecoinbox.sanitize import sanitize_and_flag

    return sanitize_and_flag(text, single_line=True, max_chars=limit)


def _sender(mime: MimeMessage) -> tuple[str, str]:
    for header in ("from", "sender"):
        if mailboxes := _mailboxes(mime, header):
            return mailboxes[0]
    return "", ""


def _safe_address(address: str) -> str:
    clean, _ = clean_line(address.strip().strip("<>"), 254)
    return clean.replace(" ", "")


def _addresses(mime: MimeMessage, header: str) -> list[str]:
    return [address for _, address in _mailboxes(mime, header)]


def _mailboxes(mime: MimeMessage, header: str) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox in an address header. The structured parser
    first; where it finds no plain address (a raw `;` or `[` in a name, as some mailers write
    them, or a name a Python version decoded before splitting), the raw header is split at its
    <angle addresses> first and only then are the names decoded, so no decoded `;` can cut one."""
    found: list[tuple[str, str]] = []
    with contextlib.suppress(Exception):  # a header the modern parser chokes on: the raw split
        value = mime.get(header)
        found = [
            (_utf8(address.display_name or ""), _safe_address(address.addr_spec))
            for address in getattr(value, "addresses", ()) if _PLAIN_ADDRESS.fullmatch(address.addr_spec or "")
        ]  # fmt: skip
    raw = next((str(v) for k, v in mime.raw_items() if k.lower() == header), "")
    split = _split_raw_addresses(raw)
    return split if len(split) > len(found) else found  # the parser dropped a mailbox it misread


_ANGLE_ADDRESS = re.compile(r"<\s*([^\s<>@\"]+@[^\s<>@\"]+)\s*>")
_BARE_ADDRESS = re.compile(r"(?<![^\s,;:])([^\s<>@\",;:()]+@[^\s<>@\",;:()]+)(?![^\s,;])")


def _split_raw_addresses(raw: str) -> list[tuple[str, str]]:
    """Mailboxes of a raw (undecoded, maybe 8-bit) address header: every <address> with the
    text before it as its name, else bare addresses with no name. Encoded words hold no raw
    `<`, `;` or `[`, so splitting before decoding cannot be fooled by what they decode to."""
    text = _utf8(re.sub(r"\r?\n[ \t]", " ", raw))
    found, start = [], 0
    for match in _ANGLE_ADDRESS.finditer(text):
        name = text[start : match.start()].strip(" \t,")
        found.append((_decoded_name(name), _safe_address(match.group(1))))
        start = match.end()
    if found:
        return found
    return [("", _safe_address(match.group(1))) for match in _BARE_ADDRESS.finditer(text)]


def _utf8(text: str) -> str:
    """Raw 8-bit header bytes (kept as surrogates by the parser) read as UTF-8 (RFC 6532)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _decoded_name(name: str) -> str:
    """A display name with its RFC 2047 words decoded and its quotes removed."""
    from email.header import decode_header, make_header

    with contextlib.suppress(Exception):  # an unknown charset: the words as they came
        name = str(make_header(decode_header(name)))
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    return name.strip()


def _list_post(value: str) -> str | None:
    """The list's posting address from `List-Post: <mailto:list@host>` (None for "NO")."""
    match = re.search(r"<mailto:([^>?\s]+)", value or "", re.IGNORECASE)
    if not match:
        return None
    address = unquote(match.group(1))
    return _safe_address(address) if "@" in address else None


def mail_date(mime: MimeMessage, received: datetime | None) -> datetime:
    """The Date header, in UTC; the server's arrival time when it is missing, broken, or more
    than a day after the arrival (spam likes to date itself in the future)."""
    moment: datetime | None = None
    raw = mail_header(mime, "date")
    if raw:
        try:
            moment = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = received or datetime.now(UTC)
    if moment is None or moment > fallback + timedelta(days=1) or moment.year < 1990:
        moment = fallback
    return moment.astimezone(UTC)


def _language(value: str) -> str | None:
    tag = (value or "").split(",")[0].strip()
    return tag if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?", tag) else None


def _made_up_id(mime: MimeMessage, address: str, subject: str, text: str) -> str:
    """A stable id for a mail without a usable Message-ID: the same mail always gets the same."""
    digest = hashlib.sha256(
        "\0".join([address, mail_header(mime, "date"), subject, text[:4096]]).encode("utf-8", "replace")
    ).hexdigest()[:32]
    return f"{digest}@no-message-id.invalid"


def _body(mime: MimeMessage) -> tuple[str, tuple[str, ...], bool]:
    """The readable text of a mail: text/plain preferred, else its HTML as text; attachments as
    "[attachment: name]" lines. Nothing is fetched: remote images stay unfetched links."""
    from ecoinbox.htmltext import html_to_text, plain_to_text

    part = None
    with contextlib.suppress(Exception):
        part = mime.get_body(preferencelist=("plain", "html"))
    if part is None and not mime.is_multipart() and mime.get_content_maintype() == "text":
        part = mime
    text, links, hidden = "", (), False
    if part is not None:
        content = _decoded(part)
        if part.get_content_subtype() == "html":
            rendered = html_to_text(content)
        else:
            if str(part.get_param("format", "")).lower() == "flowed":
                content = _unflow(content, str(part.get_param("delsp", "")).lower() == "yes")
            rendered = plain_to_text(_strip_quoted_tail(content))
        text, links, hidden = rendered.text, rendered.links, rendered.hidden
    notes = []
    with contextlib.suppress(Exception):
        for attachment in mime.iter_attachments():
            if attachment.get_content_type() == "message/rfc822":
                continue
            name, name_hidden = clean_line(attachment.get_filename() or attachment.get_content_type(), 80)
            hidden = hidden or name_hidden
            notes.append(f"[attachment: {name}]")
    if notes:
        text = (text + "\n" if text else "") + " ".join(notes)
    return text.strip(), tuple(links), hidden


def _decoded(part: MimeMessage) -> str:
    content = None
    with contextlib.suppress(Exception):  # unknown charset, broken transfer encoding
        content = part.get_content()
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space goes on with the next one."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        line = line.removeprefix(" ")  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


def _strip_quoted_tail(text: str) -> str:
    """Drop the history a reply carries below it ("On ... wrote:" then ">" lines) and a
    mailing list's footer; quotes interleaved with answers stay."""
    lines = text.replace("\r\n", "\n").split("\n")
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    # The list footer: a line of underscores near the end.
    for index in range(max(0, end - 8), end):
        if _LIST_FOOTER.match(lines[index]):
            end = index
            break
    cut = end
    while cut > 0 and (lines[cut - 1].startswith(">") or not lines[cut - 1].strip()):
        cut -= 1
    quoted = any(line.startswith(">") for line in lines[cut:end])
    if quoted:
        end = cut
        if end > 0 and _ATTRIBUTION.match(lines[end - 1].strip()):
            end -= 1
        elif end > 1 and _ATTRIBUTION.match((lines[end - 2] + " " + lines[end - 1]).strip()):
            end -= 2  # an attribution wrapped over two lines
    body = "\n".join(lines[:end]).rstrip()
    return body or text.strip()


def _digest_parts(mime: MimeMessage, subject: str) -> list[MimeMessage]:
    """The messages a digest carries: message/rfc822 parts of a MIME digest, or the chunks of
    an RFC 1153 plain-text digest. [] for an ordinary mail."""
    try:
        if mime.get_content_type() == "multipart/digest" or (
            mime.is_multipart() and _DIGEST_SUBJECT.search(subject)
        ):
            found: list[MimeMessage] = []
            for part in mime.walk():
                if part.get_content_type() == "message/rfc822":
                    inner = part.get_payload()
                    if isinstance(inner, list) and inner:
                        found.append(inner[0])
                    elif isinstance(inner, MimeMessage):
                        found.append(inner)
            return found
        if _DIGEST_SUBJECT.search(subject) and mime.get_content_type() == "text/plain":
            return _rfc1153_parts(_decoded(mime))
    except Exception:  # noqa: BLE001 - a broken digest is shown as one mail
        return []
    return []


def _rfc1153_parts(text: str) -> list[MimeMessage]:
    chunks = _RFC1153_SEPARATOR.split(text.replace("\r\n", "\n"))
    parts = []
    for chunk in chunks[1:]:  # the first chunk is the table of contents
        chunk = chunk.strip("\n")
        if not re.match(r"^(?:Message: \d+\n)?(?:[A-Za-z-]+: .*\n)+", chunk + "\n"):
            continue
        if re.match(r"^End of .*digest", chunk, re.IGNORECASE):
            continue
        part = email.message_from_string(chunk + "\n", policy=POLICY)
        if part.get("from") or part.get("subject"):
            parts.append(part)
    return parts


# ---------------------------------------------------------------------------------------------
# Writing a reply (pure)


def reply_message_id(parent_id: str, text: str, key: str, domain: str) -> str:
    """The Message-ID of our reply, chosen before sending: the same outbox item always gets the
    same one, and its first part can be recomputed from the parent and the text alone."""
    return f"ecoinbox.{content_tag(parent_id, text)}.{_safe_key(key)}@{domain}"


def content_tag(parent_id: str, text: str) -> str:
    normalized = " ".join(text.split())
    return hashlib.sha256(f"{parent_id}\n{normalized}".encode()).hexdigest()[:24]


def _safe_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", key)[:40] or "0"


def build_reply(
    *,
    message_id: str,
    from_address: str,
    to: Sequence[str],
    subject: str,
    parent_id: str,
    references: Sequence[str],
    text: str,
    date: datetime,
    language: str | None = None,
    cc: Sequence[str] = (),
    exact_subject: bool = False,
) -> EmailMessage:
    """A plain-text reply with the threading headers of RFC 5322 §3.6.4; `subject` gets its
    "Re:" unless it is `exact_subject` (as the manager typed it)."""
    chain = [ref for ref in references if ref != parent_id] + [parent_id]
    if len(chain) > MAX_REFERENCES:  # keep the root and the newest ones
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = from_address
    mail["To"] = ", ".join(to)
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = subject if exact_subject else reply_subject(subject)
    mail["Date"] = email.utils.format_datetime(date)
    mail["Message-ID"] = f"<{message_id}>"
    mail["In-Reply-To"] = f"<{parent_id}>"
    mail["References"] = " ".join(f"<{ref}>" for ref in chain)
    if language:
        mail["Content-Language"] = language
    mail["User-Agent"] = "ecoinbox"
    mail.set_content(text if text.endswith("\n") else text + "\n")
    return mail


def search_words(subject: str) -> str:
    """The subject without its prefixes, as given to SEARCH SUBJECT (a substring match)."""
    text = " ".join(subject.split())
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1)
    text = _FWD_SUFFIX.sub("", text).strip()
    return text[:120]


def subject_index(batch: Sequence[ParsedMail]) -> dict[str, list[ParsedMail]]:
    index: dict[str, list[ParsedMail]] = {}
    for parsed in batch:
        core = normalize_subject(parsed.subject)
        if core:
            index.setdefault(core, []).append(parsed)
    return index


def earlier_same_subject(index: dict[str, list[ParsedMail]], parsed: ParsedMail) -> str | None:
    core = normalize_subject(parsed.subject)
    earlier = [
        p
        for p in index.get(core, [])
        if p.message.remote_id != parsed.message.remote_id
        and p.message.created_at <= parsed.message.created_at
    ]
    if not earlier:
        return None
    return max(earlier, key=lambda p: (p.message.created_at, p.message.remote_id)).message.remote_id


def reply_recipients(parent: Message, original: ParsedMail | None, own: Sequence[str]) -> list[str]:
    """Who a reply goes to: the list for list mail, else Reply-To, else the sender."""
    if original is not None and original.list_post:
        return [original.list_post]
    candidates = list(original.reply_to) if original is not None and original.reply_to else []
    if not candidates and "@" in parent.author.handle:
        candidates = [parent.author.handle]
    own_set = {a.casefold() for a in own}
    return [address for address in dict.fromkeys(candidates) if address.casefold() not in own_set]


def from_display_name(from_address: str) -> str:
    return email.utils.parseaddr(from_address)[0]
