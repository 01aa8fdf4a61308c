"""What the local PDS refuses in a post record, as the lexicon of app.bsky.feed.post does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import regex

from ecoinbox.demo.bluesky.atproto import XrpcError, parse_time
from ecoinbox.demo.bluesky.records import Post

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000


def validate_post(record: dict[str, Any], posts: Mapping[str, Post] | None) -> None:
    """Refuse a post record as the PDS's lexicon does; `posts`: the reply refs are checked
    against them (None: only their shape, as the real PDS)."""

    def invalid(message: str) -> XrpcError:
        return XrpcError(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {message}")

    if record.get("$type") != POST:
        raise invalid('Record/$type must be "app.bsky.feed.post"')
    text = record.get("text")
    if not isinstance(text, str):
        raise invalid('Record must have the property "text"')
    if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES:
        raise invalid(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise invalid(f"Record/text must not be longer than {MAX_BYTES} characters")
    if parse_time(record.get("createdAt")) is None:
        raise invalid("Record/createdAt must be an valid atproto datetime")
    langs = record.get("langs", [])
    if not isinstance(langs, list) or len(langs) > 3:
        raise invalid("Record/langs must not have more than 3 elements")
    if "reply" in record:
        validate_reply(record["reply"], invalid, posts)
    for number, facet in enumerate(record.get("facets") or []):
        index = facet.get("index", {}) if isinstance(facet, dict) else {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            raise invalid(f"Record/facets/{number}/index is out of the text")
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(f"Record/facets/{number}/index cuts a UTF-8 character") from None
        features = facet.get("features")
        if not isinstance(features, list) or not features:
            raise invalid(f"Record/facets/{number}/features must not be empty")
        for feature in features:
            kind = feature.get("$type") if isinstance(feature, dict) else None
            if kind == "app.bsky.richtext.facet#mention" and not str(feature.get("did", "")).startswith(
                "did:"
            ):
                raise invalid(f"Record/facets/{number}: a mention needs a DID")
            if kind == "app.bsky.richtext.facet#link" and not str(feature.get("uri", "")).strip():
                raise invalid(f"Record/facets/{number}: a link needs a uri")
            if kind not in ("app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link",
                            "app.bsky.richtext.facet#tag"):  # fmt: skip
                raise invalid(f"Record/facets/{number}: unknown feature {kind!r}")


def validate_reply(reply: Any, invalid: Callable[[str], XrpcError], posts: Mapping[str, Post] | None) -> None:
    if not isinstance(reply, dict):
        raise invalid("Record/reply must be an object")
    refs = {}
    for key in ("root", "parent"):
        ref = reply.get(key)
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("uri"), str)
            or not isinstance(ref.get("cid"), str)
        ):
            raise invalid(f'Record/reply must have the property "{key}" (a strong ref: uri and cid)')
        if posts is None:
            continue  # the real PDS checks the shape of a ref, not what it points at
        post = posts.get(ref["uri"])
        if post is None or post.deleted:
            raise XrpcError(400, "InvalidRequest", f"Could not locate record: {ref['uri']}")
        if post.cid != ref["cid"]:
            raise invalid(f"Record/reply/{key} does not point at a post with that cid")
        refs[key] = post
    if refs and (refs["parent"].root or refs["parent"]) is not refs["root"]:
        raise invalid("Record/reply/root is not the root of the parent's thread")
