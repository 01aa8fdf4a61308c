"""The Instagram channel: comments on the professional account's media and their replies, and
(with `messages`) its direct messages through the Messenger Platform.

Through the Graph API with the token of the Facebook Page linked to the account (Instagram
through Facebook Login). Polling reads the account's recent media (`/{ig-user-id}/media`) and
each one's comments with their replies (`/{ig-media-id}/comments`, `replies{...}` expanded),
keeping those newer than the cursor (`facebook.cursor.Mark`): Instagram documents no order for
comments, so every page is read rather than stopping at the first old one. The five newest media
are read at every poll, the older ones when their `comments_count` moved (a comment made and
another deleted between two polls would leave it still: the price of not reading fifty media
a minute).

A reply goes to a top-level comment (`POST /{ig-comment-id}/replies`); answering a reply
answers its top-level comment, with an @mention of the person. No idempotency key: a lost answer
is read back among the comment's replies before anything is sent again. Hiding (`hide=true`)
never deletes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    ReplyLimit,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.facebook.cursor import Mark
from ecoinbox.channels.facebook.inbox import DirectInbox, same_text
from ecoinbox.channels.facebook.messenger import INSTAGRAM_LIMIT, window_refusal
from ecoinbox.channels.graph import GraphClient, graph_time, post_title
from ecoinbox.channels.http import UNREADABLE, Clock, channel_logger, one_line, skipped_unreadable, utc_now
from ecoinbox.channels.json_values import as_dict, as_int, objects
from ecoinbox.htmltext import plain_to_text
from ecoinbox.model import Author, Message, Origin
from ecoinbox.sanitize import safe_url

__all__ = ["COMMENTS_KEY", "INSTAGRAM_PERMISSIONS", "InstagramChannel"]

log = channel_logger(__name__)

COMMENTS_KEY: Final = "comments"
MESSAGES_KEY: Final = "messages"
COUNTS_KEY: Final = "counts"  # media id -> its comments_count at the last poll
ALWAYS_READ: Final = 5  # the newest media, whose comments are read at every poll
MAX_LENGTH: Final = 2200  # Instagram's limit for a comment
FIRST_RUN: Final = timedelta(days=2)
MEDIA_PAGES: Final = 2  # the 50 most recent media are watched for comments
COMMENT_PAGES: Final = 10
RECONCILE_SLACK: Final = timedelta(minutes=2)
MEDIA_FIELDS: Final = "id,caption,timestamp,permalink,comments_count"
_COMMENT: Final = "id,text,timestamp,username,from,hidden,parent_id"
COMMENT_FIELDS: Final = f"{_COMMENT},replies{{{_COMMENT}}}"
INSTAGRAM_PERMISSIONS: Final = (
    ("instagram_basic", "read the account's media"),
    ("instagram_manage_comments", "read, answer and hide comments"),
    ("pages_show_list", "find the linked Page"),
    ("pages_read_engagement", "read through the linked Page"),
)
MESSAGES_PERMISSION: Final = ("instagram_manage_messages", "read and answer direct messages")
SAFEGUARDS: Final = (
    "no idempotency key: an uncertain reply is looked up among the comment's replies before any resend",
    "spam and abuse are hidden (hide), never deleted",
)
DIRECT_SAFEGUARD: Final = (
    "a direct reply more than 24 hours after the person's last message is refused before sending "
    "(7 days with the human agent tag, where granted)"
)


class InstagramChannel(NamedChannel):
    """One Instagram professional account, through its linked Facebook Page's token."""

    kind = "instagram"

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        page_id: str,
        ig_user_id: str | None = None,
        messages: bool = False,
        human_agent: bool = False,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        if not token.strip():
            raise AuthError(f"no Page token for channel {name}: run `ecoinbox auth {name}`")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.page_id = page_id
        self.ig_user_id = ig_user_id
        self.username = ""
        self.titles: dict[str, str] = {}  # media id -> its caption's first words, its comments' title
        self.messages = messages
        self.human_agent = human_agent
        self._clock = clock
        self.graph = GraphClient(name, self.base_url, token, timeout=timeout, clock=clock)

    async def aclose(self) -> None:
        await self.graph.aclose()

    async def capabilities(self) -> Capabilities:
        said = SAFEGUARDS + ((DIRECT_SAFEGUARD,) if self.messages else ())
        return Capabilities(reply=True, max_length=MAX_LENGTH, reconcile=True, safeguards=said)

    async def _account(self) -> str:
        """The Instagram account's id: configured, or the one linked to the Page."""
        if self.ig_user_id:
            return self.ig_user_id
        page = await self.graph.get(self.page_id, {"fields": "instagram_business_account"})
        found = as_dict(page.get("instagram_business_account")).get("id")
        if not isinstance(found, str) or not found:
            raise PermanentError(
                f"channel {self.name}: Page {self.page_id} has no Instagram professional account linked "
                "(link it in the Page's settings > Linked accounts)"
            )
        self.ig_user_id = found
        return found

    async def _direct(self) -> DirectInbox:
        """The account's direct messages, through the Messenger Platform (`platform=instagram`)."""
        account = await self._account()
        return DirectInbox(self.name, self.graph, self.page_id, account, "instagram", "Instagram",
                           self.human_agent, INSTAGRAM_LIMIT)  # fmt: skip

    def reply_limit(self, parent: Message) -> ReplyLimit | None:
        """A direct message's own limit (1,000 bytes of UTF-8); None for comments (2,200 characters)."""
        return INSTAGRAM_LIMIT if parent.visibility == "direct" else None

    def reply_refusal(self, parent: Message) -> str | None:
        """Why a direct reply to `parent` would be refused now (the 24-hour window), in words."""
        return window_refusal(parent, self._clock(), human_agent=self.human_agent, platform="Instagram")

    async def check(self) -> str:
        """The account, the permissions granted and missing, the throttling."""
        account = await self._account()
        me = await self.graph.get(account, {"fields": "id,username"})
        self.username = str(me.get("username") or "")
        body = await self.graph.get("me/permissions")
        granted = {
            str(e.get("permission")) for e in objects(body.get("data")) if e.get("status") == "granted"
        }
        wanted = INSTAGRAM_PERMISSIONS + ((MESSAGES_PERMISSION,) if self.messages else ())
        missing = [f"{p} ({why})" for p, why in wanted if p not in granted]
        said = (
            f"@{one_line(self.username or account)} on {self.host} (Instagram, through Page {self.page_id})"
        )
        said += "; permissions granted: " + (", ".join(sorted(granted)) or "none")
        said += "; missing: " + (", ".join(missing) if missing else "nothing")
        return f"{said}; rate limits: {self.graph.usage_words()}"

    # -- polling ---------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New comments and replies on the account's recent media since `cursor`, oldest first."""
        account = await self._account()
        mark = Mark.loads(cursor.get(COMMENTS_KEY), self._clock() - FIRST_RUN)
        found: list[Message] = []
        taken: list[tuple[str, datetime]] = []
        counts = _counts(cursor.get(COUNTS_KEY))
        seen_counts: dict[str, int] = {}
        params = {"fields": MEDIA_FIELDS, "limit": "25"}
        async for page in self.graph.pages(f"{account}/media", params, max_pages=MEDIA_PAGES):
            for media in page.items:
                media_id, count = media.get("id"), as_int(media.get("comments_count"))
                if not isinstance(media_id, str) or not media_id:
                    continue
                if count is not None:
                    seen_counts[media_id] = count
                self.titles[media_id] = post_title(str(media.get("caption") or ""))
                # Instagram says nothing of when a media was last commented: the newest media
                # are read every poll, the others when their comments_count moved.
                if len(seen_counts) <= ALWAYS_READ or count is None or counts.get(media_id) != count:
                    taken += await self._poll_media(media_id, mark, found)
        next_cursor = {**cursor, COMMENTS_KEY: mark.after(taken).dumps(), COUNTS_KEY: json.dumps(seen_counts)}
        warnings: tuple[str, ...] = ()
        if self.messages:
            inbox = Mark.loads(cursor.get(MESSAGES_KEY), self._clock() - FIRST_RUN)
            try:
                got = await (await self._direct()).poll(inbox, found)
            except PermanentError as exc:
                warnings = (f"Instagram direct messages are not read: {exc}",)
            else:
                next_cursor[MESSAGES_KEY] = inbox.after(got).dumps()
        found.sort(key=lambda message: message.created_at)
        return PollResult(found, next_cursor, warnings)

    async def _poll_media(
        self, media_id: str, mark: Mark, found: list[Message]
    ) -> list[tuple[str, datetime]]:
        taken: list[tuple[str, datetime]] = []
        params = {"fields": COMMENT_FIELDS, "limit": "50"}
        async for page in self.graph.pages(f"{media_id}/comments", params, max_pages=COMMENT_PAGES):
            for item in page.items:
                replies = objects(as_dict(item.get("replies")).get("data"))
                for each in (item, *replies):
                    try:
                        message = self.to_comment(each, media_id, Origin.MENTION)
                    except UNREADABLE as exc:
                        skipped_unreadable(log, self.name, "comment", each.get("id"), exc)
                        continue
                    if mark.is_new(message.remote_id, message.created_at):
                        found.append(message)
                        taken.append((message.remote_id, message.created_at))
        return taken

    def to_comment(self, item: dict[str, Any], media_id: str, origin: Origin) -> Message:
        remote_id = item["id"]
        if not isinstance(remote_id, str) or not remote_id:
            raise ValueError("no id")
        who = as_dict(item.get("from"))
        username = str(who.get("username") or item.get("username") or "")
        author_id = str(who.get("id") or (f"ig/{username}" if username else f"unnamed/{remote_id}"))
        author = Author(self.name, author_id, username or "Instagram user", username,
                        f"https://www.instagram.com/{username}/" if username else None)  # fmt: skip
        text = plain_to_text(str(item.get("text") or ""))
        parent = item.get("parent_id")
        ours = author_id == self.ig_user_id or (bool(self.username) and username == self.username)
        return Message(
            channel=self.name, remote_id=remote_id, author=author, text=text.text,
            created_at=graph_time(item["timestamp"]),
            in_reply_to=str(parent) if parent else None, thread_ref=media_id, title=self.titles.get(media_id, ""),
            origin=Origin.OURS if ours else origin, links=text.links, hidden_characters=text.hidden,
        )  # fmt: skip

    def to_media(self, item: dict[str, Any]) -> Message:
        text = plain_to_text(str(item.get("caption") or ""))
        url = item.get("permalink")
        author = Author(self.name, self.ig_user_id or "", self.username or self.name, self.username)
        return Message(
            channel=self.name, remote_id=str(item["id"]), author=author, text=text.text,
            created_at=graph_time(item["timestamp"]), url=safe_url(url) if isinstance(url, str) else None,
            origin=Origin.OURS, links=text.links, thread_ref=str(item["id"]), hidden_characters=text.hidden,
        )  # fmt: skip

    async def context(self, remote_id: str) -> list[Message]:
        """The media (its caption), the top-level comment and the comment, oldest first."""
        await self._account()
        chain: list[Message] = []
        focus: str | None = remote_id
        media_id: str | None = None
        for _ in range(2):
            if focus is None:
                break
            try:
                item = await self.graph.get(focus, {"fields": f"{_COMMENT},media"})
            except PermanentError as exc:
                if isinstance(exc, AuthError) or chain:
                    raise
                return []  # no comment nor media (a direct message): its poll sends its thread along
            media_id = str(as_dict(item.get("media")).get("id") or "") or None
            if media_id is None:
                return [self.to_media(item)] if item.get("timestamp") else []  # the media itself
            comment = self.to_comment(item, media_id, Origin.CONTEXT)
            chain.insert(0, comment)
            focus = str(item["parent_id"]) if item.get("parent_id") else None
        return chain  # a top-level comment is its conversation's first message

    # -- replying --------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """An @mention when answering a reply: Instagram files it under the top-level comment."""
        if parent.is_ours or parent.in_reply_to in (None, parent.thread_ref):
            return ""
        return f"@{parent.author.handle} "

    def _top_of(self, parent: Message) -> str:
        if parent.in_reply_to and parent.in_reply_to != parent.thread_ref:
            return parent.in_reply_to  # a reply: its top-level comment takes the answer
        return parent.remote_id

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """`POST /{ig-comment-id}/replies` under the top-level comment (`/{media}/comments` under
        the account's own media)."""
        await self._account()
        if parent.visibility == "direct":
            return await (await self._direct()).send(parent, text, self._clock())
        media = parent.thread_ref or parent.remote_id
        target = self._top_of(parent)
        path = f"{media}/comments" if target == media else f"{target}/replies"
        asked = self._clock()
        try:
            body = await self.graph.post(path, {"message": text})
        except UncertainSend as uncertain:
            try:
                found = await self.find_sent(parent, text, "", asked)
            except ChannelError as exc:
                log.info("channel %s: reading the reply back failed: %s", self.name, exc)
                found = None
            if found is None:
                raise uncertain from None
            return found
        new_id = body.get("id")
        if not isinstance(new_id, str) or not new_id:
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} gave no id for it")
        author = Author(self.name, self.ig_user_id or "", self.username or self.name, self.username)
        return Message(self.name, new_id, author, text, asked, in_reply_to=parent.remote_id,
                       origin=Origin.OURS, thread_ref=media)  # fmt: skip

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply with this text since `since`, among the top-level comment's replies (or the
        media's comments)."""
        if parent is None:
            return None
        await self._account()
        cutoff = (since if since.tzinfo else since.replace(tzinfo=UTC)) - RECONCILE_SLACK
        if parent.visibility == "direct":
            return await (await self._direct()).find(parent, text, cutoff)
        media = parent.thread_ref or parent.remote_id
        target = self._top_of(parent)
        path = f"{media}/comments" if target == media else f"{target}/replies"
        async for page in self.graph.pages(
            path, {"fields": _COMMENT, "limit": "50"}, max_pages=COMMENT_PAGES
        ):
            for item in page.items:
                try:
                    message = self.to_comment(item, media, Origin.OURS)
                except UNREADABLE:
                    continue
                if message.is_ours and message.created_at >= cutoff and same_text(item.get("text"), text):
                    return replace(message, in_reply_to=parent.remote_id)
        return None

    # -- hiding ----------------------------------------------------------------------------

    async def hide(self, remote_id: str, *, spam: bool) -> None:
        """Hide a comment (`hide=true`): its author still sees it, nobody else; never deleted."""
        await self._set_hidden(remote_id, True)

    async def unhide(self, remote_id: str) -> None:
        await self._set_hidden(remote_id, False)

    async def _set_hidden(self, remote_id: str, hidden: bool) -> None:
        body = await self.graph.post(remote_id, {"hide": "true" if hidden else "false"})
        if body.get("success") is not True:
            raise TransientError(f"channel {self.name}: {self.host} did not confirm the comment is "
                                 f"{'hidden' if hidden else 'shown'}")  # fmt: skip


def _counts(text: str | None) -> dict[str, int]:
    """The comments_count of each media at the last poll, as the cursor keeps them."""
    try:
        return {str(k): v for k, v in as_dict(json.loads(text or "{}")).items() if isinstance(v, int)}
    except ValueError:
        return {}
