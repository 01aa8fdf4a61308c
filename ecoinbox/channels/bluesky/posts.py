"""Bluesky's JSON as ecoinbox's model: post records and views to Messages (text with its real link
targets and embeds, author, times, threading), strong refs, thread nodes, and the times the API
writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ecoinbox.channels.bluesky.text import rkey_of
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.model import Author, Message, Origin

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.xrpc import Session

POST = "app.bsky.feed.post"
WEB_APP = "https://bsky.app"  # where a post's page is (the AppView's web client)


@dataclass(frozen=True, slots=True)
class StrongRef:
    """A record's address and content hash, as a reply names its parent and root."""

    uri: str
    cid: str

    def json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def to_message(channel: str, item: dict[str, Any], origin: Origin, own_did: str) -> Message:
    """A notification or a post view as a Message (ValueError/KeyError/TypeError if broken)."""
    uri = item["uri"]
    if not isinstance(uri, str) or not uri.startswith("at://") or f"/{POST}/" not in uri:
        raise ValueError("not a post URI")
    record = item["record"]
    if not isinstance(record, dict) or not isinstance(record.get("text", ""), str):
        raise TypeError("no post record")
    author_json = as_dict(item["author"])
    did = author_json["did"]
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ValueError("no author DID")
    handle = str(author_json.get("handle") or "")
    if not handle or handle == "handle.invalid":
        handle = did
    author = Author(
        channel=channel,
        remote_id=did,
        handle=handle,
        display_name=str(author_json.get("displayName") or ""),
        url=f"{WEB_APP}/profile/{quote(handle, safe=':.')}",
        # A handle is a domain the account proved it controls (DNS or /.well-known).
        proofs=(f"{WEB_APP}/profile/{quote(handle, safe=':.')}", f"https://{handle}")
        if "." in handle and ":" not in handle
        else (),
    )
    text, links, hidden = post_text(record)
    reply = as_dict(record.get("reply"))
    parent_uri = as_dict(reply.get("parent")).get("uri")
    root_uri = as_dict(reply.get("root")).get("uri")
    langs = record.get("langs")
    language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    return Message(
        channel=channel,
        remote_id=uri,
        author=author,
        text=text,
        created_at=post_time(record, item.get("indexedAt")),
        in_reply_to=parent_uri if isinstance(parent_uri, str) and parent_uri else None,
        url=post_url(uri, handle),
        language=language,
        origin=Origin.OURS if did == own_did else origin,
        links=links,
        hidden_characters=hidden,
        thread_ref=root_uri if isinstance(root_uri, str) and root_uri else uri,
    )


def own_message(
    channel: str, own: Session, uri: str, record: dict[str, Any], parent_uri: str, now: datetime
) -> Message:
    """The reply we just published (or found published), from its record."""
    text, links, hidden = post_text(record)
    return Message(
        channel=channel,
        remote_id=uri,
        author=Author(
            channel=channel,
            remote_id=own.did,
            handle=own.handle,
            url=f"{WEB_APP}/profile/{quote(own.handle, safe=':.')}",
        ),
        text=text,
        created_at=post_time(record, None, fallback=now),
        in_reply_to=parent_uri,
        url=post_url(uri, own.handle),
        language=(record.get("langs") or [None])[0],
        origin=Origin.OURS,
        links=links,
        hidden_characters=hidden,
        thread_ref=as_dict(as_dict(record.get("reply")).get("root")).get("uri") or uri,
    )


# ---------------------------------------------------------------------------------------------
# Helpers (pure)


def post_text(record: dict[str, Any]) -> tuple[str, tuple[str, ...], bool]:
    """A post record's text, sanitized, with its real link targets and what its embeds hold.

    Link facets whose visible text does not name their target get the target written after
    them ("my shop (https://elsewhere.example)"), as HTML links do; embeds add a line such as
    "[image: receipt]" or "[quoting: https://bsky.app/...]".
    """
    from ecoinbox.htmltext import plain_to_text, same_target
    from ecoinbox.sanitize import safe_url

    raw = str(record.get("text") or "")
    shown, targets = _with_link_targets(raw, record.get("facets"), same_target, safe_url)
    plain = plain_to_text(shown)
    links = list(dict.fromkeys([*targets, *plain.links]))
    hidden = plain.hidden
    notes: list[str] = []
    for note, url in _embed_notes(as_dict(record.get("embed"))):
        cleaned = plain_to_text(note)
        hidden = hidden or cleaned.hidden
        notes.append(cleaned.text)
        safe = safe_url(url) if url else None
        if safe and safe not in links:
            links.append(safe)
    text = plain.text
    if notes:
        text = (text + "\n" if text else "") + " ".join(notes)
    return text, tuple(links), hidden


def _with_link_targets(
    raw: str, facets: Any, same_target: Callable[[str, str], bool], safe_url: Callable[[str], str | None]
) -> tuple[str, list[str]]:
    """`raw` with the target of each misleading link facet written after its label, and the
    targets of all link facets. Offsets are UTF-8 bytes; broken or overlapping facets are skipped."""
    data = raw.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in objects(facets):
        index = as_dict(facet.get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        for feature in objects(facet.get("features")):
            uri = feature.get("uri")
            if feature.get("$type") == "app.bsky.richtext.facet#link" and isinstance(uri, str):
                target = safe_url(uri.strip())
                if target is not None:
                    spans.append((start, end, target))
    spans.sort()
    pieces: list[bytes] = []
    targets: list[str] = []
    position = 0
    for start, end, target in spans:
        if start < position:
            continue  # overlaps the one before
        label = data[start:end].decode("utf-8", errors="replace")
        targets.append(target)
        pieces.append(data[position:end])
        if not same_target(label, target):
            pieces.append(f" ({target})".encode())
        position = end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8", errors="replace"), targets


def _embed_notes(embed: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(note, link) for what a post embeds: images, video, a link card, a quoted post."""
    kind = str(embed.get("$type") or "")
    notes: list[tuple[str, str | None]] = []
    if kind == "app.bsky.embed.images":
        for image in objects(embed.get("images"))[:4]:
            alt = " ".join(str(image.get("alt") or "").split())
            notes.append((f"[image: {alt}]" if alt else "[image]", None))
    elif kind == "app.bsky.embed.video":
        alt = " ".join(str(embed.get("alt") or "").split())
        notes.append((f"[video: {alt}]" if alt else "[video]", None))
    elif kind == "app.bsky.embed.external":
        external = as_dict(embed.get("external"))
        title = " ".join(str(external.get("title") or "").split())
        uri = external.get("uri")
        notes.append((f"[link: {title}]" if title else "[link]", uri if isinstance(uri, str) else None))
    elif kind == "app.bsky.embed.record":
        uri = as_dict(embed.get("record")).get("uri")
        if isinstance(uri, str) and f"/{POST}/" in uri:
            url = post_url(uri)
            notes.append((f"[quoting: {url}]", url))
        elif isinstance(uri, str):
            notes.append(("[quoting a record]", None))
    elif kind == "app.bsky.embed.recordWithMedia":
        notes.extend(_embed_notes(as_dict(embed.get("record"))))
        notes.extend(_embed_notes(as_dict(embed.get("media"))))
    return notes


def post_url(uri: str, handle: str | None = None) -> str:
    """The web page of a post: https://bsky.app/profile/<handle or DID>/post/<rkey>."""
    authority = uri.removeprefix("at://").split("/", 1)[0]
    who = handle if handle and handle != authority and "." in handle else authority
    return f"{WEB_APP}/profile/{quote(who, safe=':.')}/post/{quote(rkey_of(uri), safe='')}"


def strong_ref(value: dict[str, Any]) -> StrongRef | None:
    """The strong ref in `value` (a post view, or a reply's root), if it has a readable one."""
    uri, cid = value.get("uri"), value.get("cid")
    if isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid:
        return StrongRef(uri, cid)
    return None


def is_thread_post(node: dict[str, Any]) -> bool:
    """A `#threadViewPost` node (not a blocked or missing one)."""
    kind = node.get("$type")
    return (kind in (None, "app.bsky.feed.defs#threadViewPost")) and isinstance(node.get("post"), dict)


def collect_replies(node: dict[str, Any], into: list[dict[str, Any]], depth: int) -> None:
    """Append the posts of the replies under `node`, `depth` levels deep, to `into`."""
    if depth <= 0:
        return
    for reply in objects(node.get("replies")):
        if is_thread_post(reply):
            into.append(reply["post"])
            collect_replies(reply, into, depth - 1)


def post_time(record: dict[str, Any], indexed_at: Any, *, fallback: datetime | None = None) -> datetime:
    """A post's time as Bluesky sorts it: `createdAt`, unless it claims to be later than when
    the AppView saw it (a post dated in the future must not stay on top of the inbox)."""
    indexed = timestamp(indexed_at) if indexed_at else None
    try:
        created = timestamp(record.get("createdAt"))
    except (TypeError, ValueError):
        created = None
    times = [t for t in (created, indexed) if t is not None]
    if not times:
        if fallback is not None:
            return fallback
        raise ValueError("a post without a time")
    return min(times)


def timestamp(value: Any) -> datetime:
    """An ISO time from the API, aware (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise TypeError("a time must be a string")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A time as the API writes one."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = [
    "POST",
    "StrongRef",
    "collect_replies",
    "is_thread_post",
    "iso",
    "own_message",
    "post_text",
    "post_time",
    "post_url",
    "strong_ref",
    "timestamp",
    "to_message",
]
