"""Mastodon statuses, pure: what a status says (text, links, mentions, whom it answers), lengths as
the server counts them, the visibility a reply may have, and the pages and ids of the API."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ecoinbox.channels.json_values import as_dict, as_dict_or_none, aware_time, objects
from ecoinbox.contacts import claim
from ecoinbox.model import Message

DEFAULT_URL_LENGTH = 23


# From the most public to the least; a reply is never more public than its parent.
VISIBILITY_ORDER = ("public", "unlisted", "private", "direct")


def reply_visibility(parent: str | None, requested: str | None) -> str | None:
    """The visibility of a reply: the requested one, but never more public than the parent."""
    if requested is None:
        return parent
    if parent is None:
        return requested
    if parent not in VISIBILITY_ORDER or requested not in VISIBILITY_ORDER:
        return parent  # an unknown scope (e.g. Akkoma "local"): keep the parent's
    return max(parent, requested, key=VISIBILITY_ORDER.index)


_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


_MENTION = re.compile(r"(?<![\w/])@(\w+)(?:@[\w.-]+\w)?", re.IGNORECASE)


_QUALIFIED_MENTION = re.compile(r"(?<![\w/])@(\w+@[\w.-]+\w)", re.IGNORECASE)


_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def mastodon_length(text: str, url_length: int = DEFAULT_URL_LENGTH) -> int:
    """How Mastodon counts a status: each URL is `url_length`, a remote mention counts as
    `@user`, everything else by (approximate) grapheme clusters."""
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += _countable_length(text[position : match.start()]) + url_length
        position = match.start() + len(match.group(0).rstrip(_TRAILING_PUNCTUATION))
    return total + _countable_length(text[position:])


def _countable_length(text: str) -> int:
    return count_graphemes(_MENTION.sub(lambda m: "@" + m.group(1), text))


_ZWJ = "\u200d"


def count_graphemes(text: str) -> int:
    """User-perceived characters, close to Unicode extended grapheme clusters (UAX #29):
    combining marks, ZWJ sequences, variation selectors, skin tones, flags and CRLF join."""
    count = 0
    previous = ""
    pending_flag = False
    for char in text:
        code = ord(char)
        regional = 0x1F1E6 <= code <= 0x1F1FF
        joins = count > 0 and (
            previous == _ZWJ
            or char == _ZWJ
            or unicodedata.category(char) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
            or (previous == "\r" and char == "\n")
            or (regional and pending_flag)
        )
        if joins:
            pending_flag = False if regional else pending_flag
        else:
            count += 1
            pending_flag = regional
        previous = char
    return count


def text_and_links(status: dict[str, Any]) -> tuple[str, tuple[str, ...], bool]:
    """Plain text (Akkoma's own plain rendition when present), the real link targets, and
    whether decoding removed hidden characters from the text.

    Media attachments add a line such as "[image: receipt]" and their URLs to the links.
    """
    from ecoinbox.htmltext import html_to_text, plain_to_text  # imported on first use
    from ecoinbox.sanitize import safe_url

    rendered = html_to_text(str(status.get("content") or ""))
    plain = as_dict(as_dict(status.get("pleroma")).get("content")).get("text/plain")
    shown = plain_to_text(plain) if isinstance(plain, str) and plain.strip() else rendered
    text, hidden = shown.text, shown.hidden
    links = list(rendered.links)
    notes = []
    for media in objects(status.get("media_attachments")):
        kind = plain_to_text(str(media.get("type") or "attachment"))
        description = plain_to_text(str(media.get("description") or ""))
        hidden = hidden or kind.hidden or description.hidden
        label = description.text.strip()
        notes.append(f"[{kind.text}: {label}]" if label else f"[{kind.text}]")
        url = safe_url(str(media.get("url") or media.get("remote_url") or ""))
        if url and url not in links:
            links.append(url)
    if notes:
        text = (text + "\n" if text else "") + " ".join(notes)
    return text, tuple(links), hidden


def qualified_handle(acct: str, domain: str) -> str:
    acct = acct.lstrip("@")
    if not acct:
        return ""
    return acct if "@" in acct else f"{acct}@{domain}"


def bare_handle(handle: str, domain: str) -> str:
    """`user` for an account of this instance, `user@domain` for the others."""
    handle = handle.lstrip("@")
    user, _, host = handle.partition("@")
    return user if not host or host.casefold() == domain.casefold() else handle


def domain_of(value: Any) -> str:
    """The host of an instance `domain`/`uri` field ("social.example" or "https://...")."""
    if not isinstance(value, str) or not value:
        return ""
    if "//" in value:
        return urlsplit(value).hostname or ""
    return value.split("/")[0]


def version_number(version: str) -> str:
    """ "4.3.2" from "4.3.2"; "3.13.2" from Akkoma's "2.7.2 (compatible; Akkoma 3.13.2)"."""
    compatible = re.search(r"compatible; \w+ ([^\s)]+)", version)
    if compatible:
        return compatible.group(1)
    return version.split(" ")[0]


def server_software(version: str, source_url: str) -> str:
    for name in ("Akkoma", "Pleroma", "GoToSocial"):
        if name.casefold() in version.casefold() or name.casefold() in source_url.casefold():
            return name
    return "Mastodon"


def id_key(remote_id: str) -> tuple[int, str]:
    """Orders opaque ids: numeric snowflakes by length then text; flake ids lexically."""
    return (len(remote_id), remote_id)


def newest_id(page: list[dict[str, Any]]) -> str:
    return max((str(item["id"]) for item in page), key=id_key)


def oldest_id(page: list[dict[str, Any]]) -> str:
    return min((str(item["id"]) for item in page), key=id_key)


def link_param(links: dict[str, str], rel: str, name: str) -> str | None:
    """A paging parameter out of a Link target; the target itself is never requested, so a
    misconfigured server cannot send our token elsewhere."""
    target = links.get(rel)
    if not target:
        return None
    values = parse_qs(urlsplit(target).query).get(name)
    return values[0] if values else None


def strict_list_of(value: Any) -> list[dict[str, Any]] | None:
    """The objects of a JSON list, or None when the value is not a list at all."""
    return objects(value) if isinstance(value, list) else None


def status_itself(item: dict[str, Any]) -> dict[str, Any] | None:
    return item


def notified_status(notification: dict[str, Any]) -> dict[str, Any] | None:
    """The status of a mention or edit (`update`) notification; None for any other type a
    server slipped in."""
    if notification.get("type", "mention") not in ("mention", "update"):
        return None
    return as_dict_or_none(notification.get("status"))


def addresses(status: dict[str, Any] | None, own_id: str) -> bool:
    """Whether a status mentions our account or answers one of ours."""
    if status is None:
        return False
    if str(status.get("in_reply_to_account_id") or "") == own_id:
        return True
    return any(str(m.get("id")) == own_id for m in objects(status.get("mentions")))


def keep_newest(found: dict[str, Message], message: Message) -> None:
    """Collect `message`; seen already, an edited copy replaces it but keeps why it came
    (a mention stays a mention even when its edit arrives as an update)."""
    known = found.get(message.remote_id)
    if known is None:
        found[message.remote_id] = message
    elif message.edited_at and (known.edited_at is None or message.edited_at > known.edited_at):
        found[message.remote_id] = replace(message, origin=known.origin)


def mentioned_handles(status: dict[str, Any], domain: str, author: str) -> tuple[str, ...]:
    """Everyone a status mentions, qualified, its author aside."""
    handles: list[str] = []
    for mention in objects(status.get("mentions")):
        handle = qualified_handle(str(mention.get("acct") or ""), domain)
        if handle and handle.casefold() != author.casefold() and handle not in handles:
            handles.append(handle)
    return tuple(handles)


def mentions_of(parent: Message) -> tuple[str, ...]:
    """The parent's other addressees: stored with it; for a message stored before they were,
    only the fully qualified mentions in its text are certain."""
    if parent.mentions:
        return parent.mentions
    return tuple(match.group(1) for match in _QUALIFIED_MENTION.finditer(parent.text))


def _created(item: dict[str, Any]) -> datetime | None:
    try:
        return aware_time(item["created_at"])
    except (KeyError, TypeError, ValueError):
        return None


def within_backfill(page: list[dict[str, Any]], horizon: datetime, at_least: int) -> list[dict[str, Any]]:
    """The items of a newest-first page up to the first older than `horizon`, but `at_least`
    items whatever their age."""
    kept: list[dict[str, Any]] = []
    for item in page:
        if len(kept) >= at_least and older_than(item, horizon):
            break
        kept.append(item)
    return kept


def older_than(item: dict[str, Any], moment: datetime) -> bool:
    created = _created(item)
    return created is not None and created < moment


_NOT_WORDS = re.compile(r"^\W*$|[/@…]|^\W*[\w-]+(?:\.[\w-]+)+\W*$")


def comparable(text: str) -> str:
    """A text as both sides can agree on it: what we sent and what the server rendered from
    it differ in mentions (`@zoe@host` shows as `@zoe`), links (shortened, with their target)
    and spacing; the words between them are the same."""
    from ecoinbox.htmltext import plain_to_text  # imported on first use

    words = _URL.sub(" ", plain_to_text(text).text).split()
    return " ".join(word.casefold() for word in words if not _NOT_WORDS.search(word))


def is_our_reply(status: dict[str, Any], own_id: str, parent_id: str, cutoff: datetime, wanted: str) -> bool:
    """Whether `status` is ours, answers `parent_id`, is recent enough and says `wanted`."""
    if str(as_dict(status.get("account")).get("id")) != own_id:
        return False
    if str(status.get("in_reply_to_id") or "") != parent_id or older_than(status, cutoff):
        return False
    return comparable(text_and_links(status)[0]) == wanted


_HREF = re.compile(r'href="([^"]+)"')


def account_proofs(account: dict[str, Any]) -> tuple[str, ...]:
    """The account's own page, and the profile fields' links Mastodon verified point back at it
    (rel="me", claims: such a page may link back to several accounts), for contacts across channels."""
    proofs = [str(account["url"])] if account.get("url") else []
    for field in account.get("fields") or ():
        if isinstance(field, dict) and field.get("verified_at"):
            found = _HREF.search(str(field.get("value") or ""))
            if found:
                proofs.append(claim(html.unescape(found.group(1))))
    return tuple(proofs)


def str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def positive(*values: Any) -> int | None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


__all__ = [
    "DEFAULT_URL_LENGTH",
    "VISIBILITY_ORDER",
    "account_proofs",
    "addresses",
    "bare_handle",
    "comparable",
    "count_graphemes",
    "domain_of",
    "id_key",
    "is_our_reply",
    "keep_newest",
    "link_param",
    "mastodon_length",
    "mentioned_handles",
    "mentions_of",
    "newest_id",
    "notified_status",
    "older_than",
    "oldest_id",
    "positive",
    "qualified_handle",
    "reply_visibility",
    "server_software",
    "status_itself",
    "str_or_none",
    "strict_list_of",
    "text_and_links",
    "version_number",
    "within_backfill",
]
