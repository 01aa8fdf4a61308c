"""Bluesky announces no deletion: the channel notes a post it finds gone (a reply refused, a thread
read), and the next polls hand the stored post back with `deleted=True`; `find` checks stored
posts on demand (getPosts, then getRecord)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ecoinbox.channels.bluesky.xrpc import XrpcRefusal, record_not_found
from ecoinbox.channels.http import channel_logger
from ecoinbox.channels.json_values import as_dict, objects

if TYPE_CHECKING:
    from ecoinbox.channels.bluesky.xrpc import XrpcSession
    from ecoinbox.model import Message

log = channel_logger(__name__)

GET_POSTS_LIMIT = 25  # uris per getPosts, the API maximum
# How many polls hand a post found deleted back to the store.
DELETION_POLLS = 3


class Deletions:
    """The posts of one channel found gone from Bluesky, and how to look for more."""

    def __init__(self, xrpc: XrpcSession) -> None:
        self.name = xrpc.name
        self._xrpc = xrpc
        # Stored posts found deleted, handed back marked so by the next DELETION_POLLS polls (a
        # store that failed to save one poll gets it again; marking twice changes nothing).
        self._deleted: dict[str, tuple[Message, int]] = {}

    def found(self, message: Message) -> None:
        """`message` (stored) is gone from Bluesky: the next polls hand it back marked deleted."""
        if not message.deleted:
            self._deleted[message.remote_id] = (dataclasses.replace(message, deleted=True), DELETION_POLLS)

    def to_hand_back(self) -> dict[str, Message]:
        """The posts this poll hands back marked deleted, by URI."""
        return {uri: marked for uri, (marked, _) in self._deleted.items()}

    def handed_back(self, uris: Sequence[str]) -> None:
        """A poll handed these back: each goes once it was handed back DELETION_POLLS times."""
        for uri in uris:  # a post found deleted during this poll waits for the next
            marked, left = self._deleted[uri]
            if left > 1:
                self._deleted[uri] = (marked, left - 1)
            else:
                del self._deleted[uri]

    async def find(self, messages: Sequence[Message]) -> list[Message]:
        """Those of `messages` (stored posts of this channel) that are gone from Bluesky, marked
        `deleted=True`: Bluesky announces no deletion, so an open conversation is checked so.

        One `getPosts` per 25 posts; a post it leaves out counts as deleted only when the PDS
        cannot locate its record either (else it is hidden from the brand: blocked, taken down)."""
        gone: list[Message] = []
        wanted = [m for m in messages if not m.deleted and m.remote_id.startswith("at://")]
        for start in range(0, len(wanted), GET_POSTS_LIMIT):
            batch = wanted[start : start + GET_POSTS_LIMIT]
            response = await self._xrpc.call(
                "GET", "app.bsky.feed.getPosts", params=[("uris", m.remote_id) for m in batch]
            )
            seen = {str(post.get("uri")) for post in objects(as_dict(response.json()).get("posts"))}
            for message in batch:
                if message.remote_id not in seen and await self.record_gone(message.remote_id) is True:
                    gone.append(dataclasses.replace(message, deleted=True))
        return gone

    async def record_gone(self, uri: str) -> bool | None:
        """Whether the PDS cannot locate the record at `uri` (True) or has it (False); None when
        it refuses to say. Transient errors are raised."""
        authority, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        params = {"repo": authority, "collection": collection, "rkey": rkey}
        try:
            await self._xrpc.call("GET", "com.atproto.repo.getRecord", params=params)
        except XrpcRefusal as exc:
            if record_not_found(exc):
                return True
            log.info("channel %s: could not tell a deleted post from a hidden one: %s", self.name, exc)
            return None
        return False


__all__ = ["DELETION_POLLS", "GET_POSTS_LIMIT", "Deletions"]
