"""A Page's private conversations through the Messenger Platform: Messenger itself, and Instagram
direct messages (the same API with `platform=instagram`). Read newest first down to a cursor,
answered through the Send API within the 24-hour window (see `messenger`), never twice."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import ChannelError, PermanentError, ReplyLimit, TransientError, UncertainSend
from ecoinbox.channels.facebook.convert import MESSAGE_FIELDS, to_message
from ecoinbox.channels.facebook.cursor import Mark
from ecoinbox.channels.facebook.messenger import (
    MESSENGER_LIMIT,
    STANDARD_WINDOW,
    recipient_of,
    send_body,
    window_refusal,
)
from ecoinbox.channels.graph import OUTSIDE_WINDOW_SUBCODE, GraphClient, graph_time
from ecoinbox.channels.http import UNREADABLE, channel_logger, skipped_unreadable
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.model import Author, Message, Origin

__all__ = ["DirectInbox", "same_text"]

log = channel_logger(__name__)

MAX_CONVERSATION_PAGES: Final = 10
MAX_MESSAGE_PAGES: Final = 20
RECONCILE_SLACK: Final = timedelta(minutes=2)  # our clock and Meta's may disagree


def same_text(said: Any, text: str) -> bool:
    """Whether Meta's copy of a message is the text we sent (it trims and may fold whitespace)."""
    return isinstance(said, str) and " ".join(said.split()) == " ".join(text.split())


@dataclass(slots=True)
class DirectInbox:
    """One channel's private conversations on `platform` ("messenger" or "instagram")."""

    channel: str
    graph: GraphClient
    page_id: str  # whose Send API answers
    own_id: str  # who "we" are in these conversations: the Page, or the Instagram account
    platform: str
    label: str  # "Messenger", "Instagram"
    human_agent: bool = False
    limit: ReplyLimit = MESSENGER_LIMIT  # how long a message may be (Instagram's counts bytes)

    def refusal(self, parent: Message, now: datetime) -> str | None:
        return window_refusal(parent, now, human_agent=self.human_agent, platform=self.label)

    # -- reading ---------------------------------------------------------------------------

    async def poll(self, mark: Mark, found: list[Message]) -> list[tuple[str, datetime]]:
        """Messages newer than the mark in the conversations updated since, added to `found`."""
        params = {"platform": self.platform, "fields": "id,updated_time", "limit": "25"}
        taken: list[tuple[str, datetime]] = []
        path = f"{self.page_id}/conversations"
        async for page in self.graph.pages(path, params, max_pages=MAX_CONVERSATION_PAGES):
            for conversation in page.items:
                try:
                    updated = graph_time(conversation["updated_time"])
                    conversation_id = str(conversation["id"])
                except UNREADABLE as exc:
                    skipped_unreadable(log, self.channel, "conversation", conversation.get("id"), exc)
                    continue
                if updated < mark.floor:
                    return taken
                taken += await self._poll_conversation(conversation_id, mark, found)
        return taken

    async def _poll_conversation(
        self, conversation_id: str, mark: Mark, found: list[Message]
    ) -> list[tuple[str, datetime]]:
        """The conversation's messages newer than the mark, each answering the one before it."""
        params = {"fields": MESSAGE_FIELDS, "limit": "50"}
        new: list[dict[str, Any]] = []
        older: dict[str, Any] | None = (
            None  # the newest message before the mark: the first new one answers it
        )
        path = f"{conversation_id}/messages"
        async for page in self.graph.pages(path, params, max_pages=MAX_MESSAGE_PAGES):
            for item in page.items:
                try:
                    created = graph_time(item["created_time"])
                    remote_id = str(item["id"])
                except UNREADABLE as exc:
                    skipped_unreadable(log, self.channel, "message", item.get("id"), exc)
                    continue
                if not mark.is_new(remote_id, created):
                    older = item
                    break
                new.append(item)
            if older is not None:
                break
        taken: list[tuple[str, datetime]] = []
        parent: str | None = None
        if older is not None and new:
            # Sent along as context (the store keeps a copy it has): the conversation's thread
            # then holds, even when the cursor is older than what the store ever saw.
            with contextlib.suppress(*UNREADABLE):
                before = self.to_direct(older, conversation_id, None)
                found.append(replace(before, origin=Origin.OURS if before.is_ours else Origin.CONTEXT))
                parent = before.remote_id
        for item in reversed(new):
            try:
                message = self.to_direct(item, conversation_id, parent)
            except UNREADABLE as exc:
                skipped_unreadable(log, self.channel, "message", item.get("id"), exc)
                continue
            found.append(message)
            taken.append((message.remote_id, message.created_at))
            parent = message.remote_id
        return taken

    def to_direct(self, item: dict[str, Any], conversation_id: str, parent: str | None) -> Message:
        """A message of the conversation as a direct Message; the others it was sent to as
        `mentions` (our own message names the person it answered)."""
        message = to_message(self.channel, item, own_id=self.own_id, origin=Origin.MENTION,
                             in_reply_to=parent, thread_ref=conversation_id, direct=True)  # fmt: skip
        others = [str(p.get("id")) for p in objects(as_dict(item.get("to")).get("data"))]
        others = [p for p in others if p and p not in (message.author.remote_id, self.own_id, self.page_id)]
        return replace(message, mentions=tuple(others))

    # -- answering -------------------------------------------------------------------------

    async def send(self, parent: Message, text: str, now: datetime) -> Message:
        """Answer the person of `parent` through the Send API: refused in words past the window,
        read back rather than sent again when the answer was lost."""
        refusal = self.refusal(parent, now)
        if refusal is not None:
            raise PermanentError(refusal)
        if (too_long := self.limit.refusal(self.label, text)) is not None:
            raise PermanentError(too_long)
        recipient = recipient_of(parent)
        if recipient is None:
            raise PermanentError(
                f"this {self.label} message names no person to answer: reply to their message"
            )
        tagged = not parent.is_ours and now - parent.created_at > STANDARD_WINDOW
        try:
            body = await self.graph.post(
                f"{self.page_id}/messages", json_body=send_body(recipient, text, tagged=tagged)
            )
        except UncertainSend as uncertain:
            found = await self._read_back(parent, text, now)
            if found is None:
                raise uncertain from None
            return found
        except PermanentError as exc:
            if str(OUTSIDE_WINDOW_SUBCODE) in str(exc):
                raise PermanentError(
                    f"{self.label} refused: the 24-hour window to answer {parent.author.label} has closed"
                ) from None
            raise
        new_id = body.get("message_id")
        if not isinstance(new_id, str) or not new_id:
            raise UncertainSend(
                f"channel {self.channel}: the message was sent but {self.label} gave no id for it"
            )
        ours = Author(self.channel, self.own_id, self.channel, self.channel)
        return Message(self.channel, new_id, ours, text, now, in_reply_to=parent.remote_id, visibility="direct",
                       origin=Origin.OURS, thread_ref=parent.thread_ref, mentions=(recipient,))  # fmt: skip

    async def _read_back(self, parent: Message, text: str, since: datetime) -> Message | None:
        try:
            return await self.find(parent, text, since - RECONCILE_SLACK)
        except ChannelError as exc:
            log.info("channel %s: reading the message back failed: %s", self.channel, exc)
            return None

    async def find(self, parent: Message, text: str, cutoff: datetime) -> Message | None:
        """Our message with this text in `parent`'s conversation since `cutoff`, newest first."""
        conversation = parent.thread_ref
        if not conversation:
            raise TransientError(
                f"channel {self.channel}: the {self.label} conversation of this message is unknown"
            )
        params = {"fields": MESSAGE_FIELDS, "limit": "50"}
        path = f"{conversation}/messages"
        async for page in self.graph.pages(path, params, max_pages=MAX_MESSAGE_PAGES):
            for item in page.items:
                try:
                    message = self.to_direct(item, conversation, parent.remote_id)
                except UNREADABLE:
                    continue
                if message.created_at < cutoff:
                    return None
                if message.is_ours and same_text(item.get("message"), text):
                    return message
        return None
