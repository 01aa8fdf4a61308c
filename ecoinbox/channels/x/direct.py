"""X's direct messages, when the account's access allows them (`dm.read`, `dm.write`): the
brand's DM events (`GET /2/dm_events`, newest first, page tokens: no `since_id`), answered with
`POST /2/dm_conversations/with/:participant_id/messages`.

A DM is a Message with visibility "direct" and its conversation's id as `thread_ref`; each one
answers the one before it in its conversation, so the inbox keeps a conversation in one thread.
The last event id of the most recent conversations is kept in the cursor ("dm:<conversation>"),
so a new message after a restart still joins its thread.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import PermanentError, ReplyLimit, UncertainSend
from ecoinbox.channels.http import UNREADABLE, channel_logger, one_line, skipped_unreadable
from ecoinbox.channels.json_values import as_dict, aware_time, objects, text_or_none
from ecoinbox.channels.x.tweets import newer_id
from ecoinbox.model import Author, Message, Origin

__all__ = ["DM_SCOPES", "DirectMessages", "DmPage"]

log = channel_logger(__name__)

DM_SCOPES: Final = ("dm.read", "dm.write")
DM_FIELDS: Final = {
    "event_types": "MessageCreate",
    "dm_event.fields": "id,text,created_at,sender_id,dm_conversation_id,participant_ids,entities",
    "expansions": "sender_id",
    "user.fields": "username,name",
}
KEY, WALK, TOP = "dms", "dms_walk", "dms_top"
THREAD_PREFIX: Final = "dm:"
KEPT_THREADS: Final = 200  # conversations whose last event the cursor remembers
FIRST_RUN: Final = 50
MAX_PAGES: Final = 5
MAX_DM_LENGTH: Final = 10_000  # POST /2/dm_conversations/.../messages: plain characters
DM_LIMIT: Final = ReplyLimit(MAX_DM_LENGTH)

Read = Callable[[str, dict[str, str]], Awaitable[Any]]
Post = Callable[[str, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class DmPage:
    events: list[Any]
    users: dict[str, dict[str, Any]]
    next_token: str | None


def read_dm_page(body: Any) -> DmPage:
    data = as_dict(body)
    events = data.get("data", [])
    if not isinstance(events, list):
        raise TypeError("not a list of DM events")
    users = {str(u["id"]): u for u in objects(as_dict(data.get("includes")).get("users")) if "id" in u}
    return DmPage(list(events), users, text_or_none(as_dict(data.get("meta")).get("next_token")))


class DirectMessages:
    """The DM side of one X channel: reading new events since the cursor, answering one."""

    def __init__(self, channel: str, read: Read, post: Post) -> None:
        self.channel = channel
        self._read = read
        self._post = post

    async def poll(self, cursor: dict[str, str], me: Author) -> tuple[list[Message], dict[str, str]]:
        """New DM events since the cursor's, oldest first, each answering the one before it in its
        conversation, and the cursor after them (a walk cut short goes on at the next poll)."""
        since = cursor.get(KEY) or None
        walk = cursor.get(WALK) or None
        top = cursor.get(TOP) or None
        params = dict(DM_FIELDS, max_results=str(FIRST_RUN if since is None else 100))
        collected: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]] = []
        reached = since is None  # a first run reads one page: the recent messages only
        for _ in range(1 if since is None else MAX_PAGES):
            if walk:
                params["pagination_token"] = walk
            page = read_dm_page(await self._read("/2/dm_events", params))
            for event in page.events:
                event_id = as_dict(event).get("id")
                if since is not None and isinstance(event_id, str) and newer_id(event_id, since) == since:
                    reached = True
                    break
                collected.append((as_dict(event), page.users))
                if isinstance(event_id, str) and event_id.isdigit():
                    top = newer_id(top, event_id)
            walk = page.next_token
            if reached or walk is None:
                reached = True
                break
        messages = self._thread(collected, cursor, me)
        updates = (
            {KEY: top or since or "", WALK: "", TOP: ""}
            if reached
            else {KEY: since or "", WALK: walk or "", TOP: top or ""}
        )
        updates.update(self._remembered(messages, cursor))
        return messages, updates

    def _thread(
        self,
        collected: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]],
        cursor: dict[str, str],
        me: Author,
    ) -> list[Message]:
        """The events as Messages, oldest first, each answering the previous one of its conversation."""
        messages: list[Message] = []
        last: dict[str, str] = {}
        for event, users in sorted(
            collected, key=lambda pair: (len(str(pair[0].get("id"))), str(pair[0].get("id")))
        ):
            try:
                conversation = str(event["dm_conversation_id"])
                previous = last.get(conversation) or cursor.get(THREAD_PREFIX + conversation)
                message = to_dm_message(event, users, self.channel, me, previous)
            except UNREADABLE as exc:
                skipped_unreadable(log, self.channel, "direct message", event.get("id"), exc)
                continue
            last[conversation] = message.remote_id
            messages.append(message)
        return messages

    def _remembered(self, messages: list[Message], cursor: dict[str, str]) -> dict[str, str]:
        """Every "dm:<conversation>" key of the cursor after these messages (they replace the old
        ones): the newest conversations only, older ones dropped (a message there later starts a
        new thread)."""
        threads = {key: value for key, value in cursor.items() if key.startswith(THREAD_PREFIX)}
        for message in messages:
            threads.pop(THREAD_PREFIX + (message.thread_ref or ""), None)
            threads[THREAD_PREFIX + (message.thread_ref or "")] = message.remote_id
        return dict(list(threads.items())[-KEPT_THREADS:])

    async def reply(self, parent: Message, text: str, me: Author, now: datetime) -> Message:
        """Answer a DM in its conversation (one-to-one: to the other participant)."""
        if (too_long := DM_LIMIT.refusal("X", text)) is not None:
            raise PermanentError(f"channel {self.channel}: {too_long}")
        participant = other_participant(parent, me)
        answer = await self._post(f"/2/dm_conversations/with/{participant}/messages", {"text": text})
        data = as_dict(as_dict(answer).get("data"))
        event_id = text_or_none(data.get("dm_event_id"))
        if event_id is None or not event_id.isdigit():
            raise UncertainSend(f"channel {self.channel}: the message was sent but X described it oddly")
        from ecoinbox.htmltext import plain_to_text  # imported on first use

        shown = plain_to_text(text)
        return Message(
            channel=self.channel, remote_id=event_id, author=me, text=shown.text, created_at=now,
            in_reply_to=parent.remote_id, visibility="direct", origin=Origin.OURS, links=shown.links,
            thread_ref=text_or_none(data.get("dm_conversation_id")) or parent.thread_ref,
        )  # fmt: skip

    async def find_sent(self, parent: Message, text: str, me: Author, cutoff: datetime) -> Message | None:
        """Our message with this text in the conversation since `cutoff` (the newest 100 events)."""
        participant = other_participant(parent, me)
        params = dict(DM_FIELDS, max_results="100")
        page = read_dm_page(await self._read(f"/2/dm_conversations/with/{participant}/dm_events", params))
        for event in page.events:
            event = as_dict(event)
            if str(event.get("sender_id")) != me.remote_id:
                continue
            try:
                if aware_time(event["created_at"]) < cutoff - timedelta(seconds=1):
                    return None  # newest first: the rest is older still
                if " ".join(html.unescape(str(event["text"])).split()) == " ".join(text.split()):
                    return to_dm_message(event, page.users, self.channel, me, parent.remote_id)
            except UNREADABLE:
                continue
        return None


def other_participant(parent: Message, me: Author) -> str:
    """Whom a reply in `parent`'s one-to-one conversation goes to ("111-222": not us)."""
    ids = [part for part in (parent.thread_ref or "").split("-") if part.isdigit() and part != me.remote_id]
    if parent.author.remote_id != me.remote_id and parent.author.remote_id.isdigit():
        return parent.author.remote_id
    if len(ids) != 1:
        raise PermanentError(
            f"channel {parent.channel}: {one_line(parent.thread_ref or '?')} is a group conversation; "
            "ecoinbox answers one-to-one direct messages only"
        )
    return ids[0]


def to_dm_message(
    event: dict[str, Any], users: dict[str, dict[str, Any]], channel: str, me: Author, previous: str | None
) -> Message:
    """A DM event as a direct Message. Raises KeyError, TypeError or ValueError when malformed."""
    from ecoinbox.htmltext import plain_to_text  # imported on first use

    event_id, sender = str(event["id"]), str(event["sender_id"])
    if not event_id.isdigit() or not sender.isdigit():
        raise ValueError("ids are digits")
    user = users.get(sender, {})
    username = text_or_none(user.get("username"))
    shown = plain_to_text(html.unescape(str(event["text"])))
    ours = sender == me.remote_id
    author = me if ours else Author(
        channel, sender, username or sender, str(user.get("name") or ""),
        f"https://x.com/{username}" if username else None,
    )  # fmt: skip
    return Message(
        channel=channel, remote_id=event_id, author=author, text=shown.text,
        created_at=aware_time(event["created_at"]), in_reply_to=previous, visibility="direct",
        origin=Origin.OURS if ours else Origin.MENTION, links=shown.links,
        thread_ref=str(event["dm_conversation_id"]), hidden_characters=shown.hidden,
    )  # fmt: skip
