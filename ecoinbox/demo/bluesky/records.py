"""What the local PDS stores (actors, posts, sessions' tokens) and how a post's record reads:
its facets, refs and words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import regex

from ecoinbox.demo.bluesky.atproto import parse_time

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)", re.IGNORECASE)
_LINK = re.compile(r"https?://\S+[^\s.,;:!?)]")
_HASHTAG = re.compile(r"(?<!\S)#(\w*[^\W\d_]\w*)")


@dataclass(slots=True)
class Actor:
    did: str
    handle: str
    display_name: str

    def basic(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "handle": self.handle,
            "displayName": self.display_name,
            "avatar": f"https://cdn.bsky.example/img/avatar/plain/{self.did}/avatar@jpeg",
            "labels": [],
            "viewer": {"muted": False, "blockedBy": False},
            "createdAt": "2023-04-01T00:00:00.000Z",
        }


@dataclass(slots=True)
class Post:
    uri: str
    cid: str
    author: Actor
    record: dict[str, Any]
    indexed_at: datetime
    parent: Post | None = None
    root: Post | None = None
    replies: list[Post] = field(default_factory=list)
    quotes: int = 0
    deleted: bool = False
    replies_off: bool = False  # a threadgate on this (root) post: nobody may reply but its author
    violates_gate: bool = False  # a reply the threadgate forbade: stored, shown to nobody

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def sort_at(self) -> datetime:
        return min(parse_time(self.record.get("createdAt")) or self.indexed_at, self.indexed_at)


@dataclass(slots=True)
class Token:
    value: str
    did: str
    scope: str  # "access" or "refresh"
    expires_at: datetime
    revoked: bool = False
    grant: str = "com.atproto.appPass"  # the JWT's scope claim: what signed in (see `_grant_of`)


@dataclass(frozen=True, slots=True)
class CreatedRecord:
    """A record created through `createRecord`, as the server stored it."""

    uri: str
    rkey: str
    record: dict[str, Any]


def make_facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    byte_start = len(text[:start].encode("utf-8"))
    return {
        "index": {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))},
        "features": [feature],
    }


def mentioned_dids(record: dict[str, Any]) -> set[str]:
    dids = set()
    for facet in record.get("facets") or []:
        for feature in as_dict(facet).get("features") or []:
            if as_dict(feature).get("$type") == "app.bsky.richtext.facet#mention":
                dids.add(str(feature.get("did")))
    return dids


def post_matches(post: Post, words: list[str], tags: set[str]) -> bool:
    text = str(post.record.get("text") or "")
    found = {w.lower() for w in WORDS.findall(text)}
    post_tags = {str(t).lower() for t in post.record.get("tags") or []}
    for facet in post.record.get("facets") or []:
        for feature in as_dict(facet).get("features") or []:
            if as_dict(feature).get("$type") == "app.bsky.richtext.facet#tag":
                post_tags.add(str(feature.get("tag")).lower())
    return all(w in found for w in words) and tags <= post_tags and bool(words or tags)


def strong_ref(post: Post) -> dict[str, str]:
    return {"uri": post.uri, "cid": post.cid}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


WORDS = regex.compile(r"[\p{L}\p{N}_]+")


def detect_facets(text: str, handles: Mapping[str, str]) -> list[dict[str, Any]]:
    """The facets a client adds to a post's text: mentions of known handles (their DIDs), links, tags."""
    facets = []
    for match in _MENTION.finditer(text):
        did = handles.get(match.group(1).lower())
        if did is not None:
            facets.append(
                make_facet(
                    text,
                    match.start(),
                    match.end(),
                    {"$type": "app.bsky.richtext.facet#mention", "did": did},
                )
            )
    for match in _LINK.finditer(text):
        facets.append(
            make_facet(
                text,
                match.start(),
                match.end(),
                {"$type": "app.bsky.richtext.facet#link", "uri": match.group()},
            )
        )
    for match in _HASHTAG.finditer(text):
        facets.append(
            make_facet(
                text,
                match.start(),
                match.end(),
                {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)},
            )
        )
    return sorted(facets, key=lambda f: f["index"]["byteStart"])
