"""Posting a Bluesky reply: `root` and `parent` strong refs read from the AppView, mention, link and
tag facets at UTF-8 byte offsets, the reply's own language, and a record key made from the
outbox's idempotency key, so that a resend names the same record and is read back, never posted
twice. A parent that is gone, or whose thread a threadgate closes, is refused in words."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecoinbox.channels.base import AuthError, PermanentError, RateLimited, TransientError, UncertainSend
from ecoinbox.channels.bluesky.posts import POST, StrongRef, iso, own_message, strong_ref
from ecoinbox.channels.bluesky.text import byte_index, find_facets, record_key
from ecoinbox.channels.bluesky.xrpc import XrpcRefusal, parent_missing, record_not_found
from ecoinbox.channels.http import one_line
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.language import detect_language

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.deletions import Deletions
    from ecoinbox.channels.bluesky.xrpc import Session, XrpcSession
    from ecoinbox.model import Message


class Poster:
    """Publishes the brand's replies on one channel."""

    def __init__(self, xrpc: XrpcSession, deletions: Deletions, clock: Callable[[], datetime]) -> None:
        self.name = xrpc.name
        self.host = xrpc.host
        self._xrpc = xrpc
        self._deletions = deletions
        self._clock = clock

    async def reply(self, parent: Message, text: str, idempotency_key: str) -> Message:
        """Publish `text` under the parent with a record key made from `idempotency_key`.

        A resend names the same record: if an earlier attempt landed, whatever its answer said,
        the PDS refuses the taken key and the post is read back (`getRecord`) and returned, so
        a resend never makes a second post. Any refusal or error after sending is checked so.
        A parent that is gone, or whose thread is closed to replies, is refused before sending
        (unless an earlier attempt already landed: then that is the reply).
        """
        own = await self._xrpc.current()
        rkey = record_key(idempotency_key, parent.remote_id)
        target = await self._reply_target(parent)
        if isinstance(target, str):  # why it must not be sent, unless an earlier attempt landed
            landed = await self._sent_before(own, rkey, parent)
            if landed is not None:
                return landed
            raise PermanentError(target)
        parent_ref, root_ref = target
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso(self._clock()),
            "reply": {"root": root_ref.json(), "parent": parent_ref.json()},
        }
        facets = await self._facets(text)
        if facets:
            record["facets"] = facets
        # The reply's own language, not its parent's: a French answer to an English post is French.
        language = await asyncio.to_thread(detect_language, text)
        if language:
            record["langs"] = [language]
        body = {"repo": own.did, "collection": POST, "rkey": rkey, "record": record}
        try:
            response = await self._xrpc.call("POST", "com.atproto.repo.createRecord", body=body)
        except (UncertainSend, PermanentError) as exc:
            if isinstance(exc, AuthError):
                raise
            # A refusal may mean the key is taken (an earlier attempt landed); an error after
            # sending may hide a post that exists: look before anyone resends.
            try:
                landed = await self._sent_before(own, rkey, parent)
            except TransientError:
                raise UncertainSend(
                    f"{exc}; whether an earlier attempt landed could not be checked yet"
                ) from None
            if landed is not None:
                return landed
            if parent_missing(exc, parent.remote_id):
                self._deletions.found(parent)
                raise PermanentError(self._gone_words(parent)) from None
            raise
        created = as_dict(response.json())
        uri, cid = created.get("uri"), created.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} described it oddly")
        return own_message(self.name, own, uri, record, parent.remote_id, self._clock())

    async def _sent_before(self, own: Session, rkey: str, parent: Message) -> Message | None:
        """Our reply under record key `rkey`, if it exists (an earlier attempt landed)."""
        params = {"repo": own.did, "collection": POST, "rkey": rkey}
        try:
            response = await self._xrpc.call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if not record_not_found(exc):
                raise
            return None
        data = as_dict(response.json())
        record = as_dict(data.get("value"))
        uri = data.get("uri")
        replied_to = as_dict(as_dict(record.get("reply")).get("parent")).get("uri")
        if not isinstance(uri, str) or replied_to != parent.remote_id:
            raise PermanentError(
                f"channel {self.name}: record key {rkey} holds another post; the reply was not sent"
            )
        return own_message(self.name, own, uri, record, parent.remote_id, self._clock())

    async def _reply_target(self, parent: Message) -> tuple[StrongRef, StrongRef] | str:
        """Strong refs to the parent and to its thread's root (the parent's own root if it is
        itself a reply), read from the AppView (the store keeps no CIDs), or why not to reply."""
        uris = [parent.remote_id]
        if (
            parent.thread_ref
            and parent.thread_ref != parent.remote_id
            and parent.thread_ref.startswith("at://")
        ):
            uris.append(parent.thread_ref)  # the root: whose threadgate it is
        response = await self._xrpc.call(
            "GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in uris]
        )
        views = {str(post.get("uri")): post for post in objects(as_dict(response.json()).get("posts"))}
        post = views.get(parent.remote_id)
        if post is None:
            return await self._missing_parent(parent)
        parent_ref = strong_ref(post)
        if parent_ref is None:
            raise TransientError(f"channel {self.name}: malformed post from {self.host} (getPosts)")
        root_ref = (
            strong_ref(as_dict(as_dict(as_dict(post.get("record")).get("reply")).get("root"))) or parent_ref
        )
        if as_dict(post.get("viewer")).get("replyDisabled") is True:
            root_view = post if root_ref.uri == parent_ref.uri else views.get(root_ref.uri, {})
            who = str(as_dict(root_view.get("author")).get("handle") or "")
            owner = (
                f"@{one_line(who, 80)}" if who and who != "handle.invalid" else "the author of this thread"
            )
            return f"{owner} turned replies off on this post: not sent"
        return parent_ref, root_ref

    async def _missing_parent(self, parent: Message) -> str:
        """Why `getPosts` left the parent out, in words; a deletion the PDS confirms is noted."""
        try:
            gone = await self._deletions.record_gone(parent.remote_id)
        except RateLimited:
            raise
        except TransientError as exc:  # tell them apart on the next attempt
            raise TransientError(f"{exc} (checking whether the post this replies to was deleted)") from None
        if gone:
            self._deletions.found(parent)
            return self._gone_words(parent)
        if gone is False:
            return (
                f"channel {self.name}: Bluesky hides the post this replies to from the brand's "
                f"account (its author blocks it, or the post was taken down): not sent"
            )
        return f"channel {self.name}: the post this replies to was deleted or is hidden: not sent"

    def _gone_words(self, parent: Message) -> str:
        who = f"@{one_line(parent.author.handle, 80)}" if parent.author.handle else "its author"
        return f"channel {self.name}: {who} deleted the post this replies to: not sent"

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        """Facets for the mentions (resolved to DIDs), links and hashtags in `text`.

        A handle that does not resolve stays plain text, as in the Bluesky app."""
        facets: list[dict[str, Any]] = []
        resolved: dict[str, str | None] = {}
        for span in find_facets(text):
            if span.kind == "mention":
                key = span.value.casefold()
                if key not in resolved:
                    resolved[key] = await self._resolve_handle(span.value)
                did = resolved[key]
                if did is None:
                    continue
                feature: dict[str, str] = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            elif span.kind == "link":
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
            else:
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
            facets.append({"index": byte_index(text, span.start, span.end), "features": [feature]})
        return facets

    async def _resolve_handle(self, handle: str) -> str | None:
        try:
            response = await self._xrpc.call(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle.lower()}
            )
        except XrpcRefusal:
            return None  # not a handle anyone has: the mention stays plain text
        did = as_dict(response.json()).get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None


__all__ = ["Poster"]
