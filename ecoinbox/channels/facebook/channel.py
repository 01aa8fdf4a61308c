"""The Facebook Page channel: comments on the Page's posts, visitor posts, posts tagging the Page,
Messenger.

The secret is a Page access token (`ecoinbox auth` derives it from the user token that Facebook
Login for Devices gives). Polling walks the Page feed (`/{page-id}/feed`, posts created within
`lookback_days`); a post whose `updated_time` moved since the cursor has new comments, read with
`/{post-id}/comments?filter=stream&order=reverse_chronological` (every level, newest first) down
to the cursor (see `cursor.Mark`). Messenger conversations (`/{page-id}/conversations`) are read
the same way, newest first, down to the cursor.

Graph has no idempotency key: a reply whose answer was lost raises `UncertainSend`, and
`find_sent` reads the post's comments (or the Messenger conversation) for ours before anything
is sent again. Hiding a comment (`is_hidden`) never deletes it.
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
from ecoinbox.channels.facebook.convert import COMMENT_FIELDS, POST_FIELDS, to_message
from ecoinbox.channels.facebook.cursor import Mark
from ecoinbox.channels.facebook.inbox import DirectInbox, same_text
from ecoinbox.channels.graph import GraphClient, graph_time, post_title
from ecoinbox.channels.http import UNREADABLE, Clock, channel_logger, one_line, skipped_unreadable, utc_now
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.model import Author, Message, Origin

__all__ = ["FEED_KEY", "MESSENGER_KEY", "PAGE_PERMISSIONS", "FacebookChannel"]

log = channel_logger(__name__)

FEED_KEY: Final = "feed"
MESSENGER_KEY: Final = "messenger"
TAGGED_KEY: Final = "tagged"
RESUME_KEY: Final = "feed_resume"  # posts whose comments a poll could not read down to the cursor
MAX_COMMENT_LENGTH: Final = 8000
FIRST_RUN: Final = timedelta(days=2)  # a first poll brings this much history
MAX_FEED_PAGES: Final = 10
MAX_COMMENT_PAGES: Final = 20
RECONCILE_SLACK: Final = timedelta(minutes=2)  # our clock and Meta's may disagree
PAGE_PERMISSIONS: Final = (
    ("pages_show_list", "find the Page"),
    ("pages_read_engagement", "read the Page's posts"),
    ("pages_read_user_content", "read visitors' comments and posts"),
    ("pages_manage_engagement", "reply to and hide comments"),
    ("pages_messaging", "read and answer Messenger"),
)
SAFEGUARDS: Final = (
    (
        "no idempotency key: an uncertain reply is looked up among the post's comments (or the "
        "Messenger conversation) before any resend"
    ),
    (
        "a Messenger reply more than 24 hours after the person's last message is refused before "
        "sending (7 days with the human agent tag, where granted)"
    ),
    "spam and abuse are hidden (is_hidden), never deleted",
)


class FacebookChannel(NamedChannel):
    """One Facebook Page, through a Page access token."""

    kind = "facebook"

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        page_id: str,
        human_agent: bool = False,
        messenger: bool = True,
        lookback_days: int = 14,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        if not token.strip():
            raise AuthError(f"no Page token for channel {name}: run `ecoinbox auth {name}`")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.page_id = page_id
        self.titles: dict[str, str] = {}  # post id -> its first words, its comments' title
        self.human_agent = human_agent
        self.messenger = messenger
        self.lookback = timedelta(days=lookback_days)
        self._clock = clock
        self.graph = GraphClient(name, self.base_url, token, timeout=timeout, clock=clock)
        self.direct = DirectInbox(name, self.graph, page_id, page_id, "messenger", "Messenger", human_agent)

    async def aclose(self) -> None:
        await self.graph.aclose()

    async def capabilities(self) -> Capabilities:
        return Capabilities(reply=True, max_length=MAX_COMMENT_LENGTH, reconcile=True, safeguards=SAFEGUARDS)

    def reply_limit(self, parent: Message) -> ReplyLimit | None:
        """A Messenger message's own limit (2,000 characters); None for comments (8,000)."""
        return self.direct.limit if parent.visibility == "direct" else None

    # -- check -----------------------------------------------------------------------------

    async def check(self) -> str:
        """The Page the token speaks for, the permissions granted and missing, the throttling."""
        me = await self.graph.get("me", {"fields": "id,name"})
        if str(me.get("id")) != self.page_id:
            raise PermanentError(
                f"channel {self.name}: the token speaks for {one_line(str(me.get('name') or me.get('id')))}, "
                f"not Page {self.page_id}: run `ecoinbox auth {self.name}`"
            )
        granted = await self.granted_permissions()
        wanted = PAGE_PERMISSIONS if self.messenger else PAGE_PERMISSIONS[:-1]
        missing = [f"{p} ({why})" for p, why in wanted if p not in granted]
        said = f"Page {one_line(str(me.get('name') or self.page_id))} on {self.host} (Facebook)"
        said += "; permissions granted: " + (", ".join(sorted(granted)) or "none")
        said += "; missing: " + (", ".join(missing) if missing else "nothing")
        return f"{said}; rate limits: {self.graph.usage_words()}"

    async def granted_permissions(self) -> set[str]:
        """The permissions the token carries (`/me/permissions`, status "granted")."""
        body = await self.graph.get("me/permissions")
        return {
            str(entry.get("permission"))
            for entry in objects(body.get("data"))
            if entry.get("status") == "granted"
        }

    # -- polling ---------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New visitor posts, comments and Messenger messages since `cursor`, oldest first."""
        start = self._clock() - FIRST_RUN
        found: list[Message] = []
        next_cursor = dict(cursor)
        feed = Mark.loads(cursor.get(FEED_KEY), start)
        resumes = await self._resume_comments(_resumes(cursor.get(RESUME_KEY)), found)
        taken = await self._poll_feed(feed, found, resumes)
        next_cursor[FEED_KEY] = feed.after(taken).dumps()
        next_cursor[RESUME_KEY] = json.dumps(resumes, separators=(",", ":"))
        tagged = Mark.loads(cursor.get(TAGGED_KEY), start)
        next_cursor[TAGGED_KEY] = tagged.after(await self._poll_tagged(tagged, found)).dumps()
        warnings: tuple[str, ...] = ()
        if self.messenger:
            inbox = Mark.loads(cursor.get(MESSENGER_KEY), start)
            try:
                taken = await self.direct.poll(inbox, found)
            except PermanentError as exc:
                warnings = (f"Messenger is not read: {exc}",)
            else:
                next_cursor[MESSENGER_KEY] = inbox.after(taken).dumps()
        found.sort(key=lambda message: message.created_at)
        return PollResult(found, next_cursor, warnings)

    async def _resume_comments(self, resumes: dict[str, Any], found: list[Message]) -> dict[str, Any]:
        """Go on down the posts whose comments an earlier poll could not read to its cursor (too
        many at once): from where it stopped to where it had to reach. What is left stays."""
        left: dict[str, Any] = {}
        for post_id, where in resumes.items():
            mark = Mark.loads(str(where.get("mark")), self._clock())
            _, cut = await self._poll_comments(post_id, mark, found, following=as_dict(where.get("next")))
            if cut is not None:
                left[post_id] = {"next": cut, "mark": mark.dumps()}
        return left

    async def _poll_feed(
        self, mark: Mark, found: list[Message], resumes: dict[str, Any]
    ) -> list[tuple[str, datetime]]:
        since = int(min(mark.floor, self._clock() - self.lookback).timestamp())
        params = {"fields": POST_FIELDS, "limit": "25", "since": str(since)}
        taken: list[tuple[str, datetime]] = []
        async for page in self.graph.pages(f"{self.page_id}/feed", params, max_pages=MAX_FEED_PAGES):
            for post in page.items:
                try:
                    created = graph_time(post["created_time"])
                    updated = graph_time(post.get("updated_time") or post["created_time"])
                    message = self.to_post(post, Origin.MENTION)
                except UNREADABLE as exc:
                    skipped_unreadable(log, self.name, "post", post.get("id"), exc)
                    continue
                self.titles[message.remote_id] = post_title(message.text)
                if mark.is_new(message.remote_id, created):
                    if not message.is_ours:  # the Page's own post: its comments carry its words
                        found.append(message)
                    taken.append((message.remote_id, created))
                if updated >= mark.floor and message.remote_id not in resumes:
                    comments, cut = await self._poll_comments(message.remote_id, mark, found)
                    taken += comments
                    if cut is not None:
                        log.info("channel %s: more new comments on %s than one poll reads: the next goes on",
                                 self.name, message.remote_id)  # fmt: skip
                        resumes[message.remote_id] = {"next": cut, "mark": mark.dumps()}
        return taken

    async def _poll_tagged(self, mark: Mark, found: list[Message]) -> list[tuple[str, datetime]]:
        """Posts of others that tag the Page (`/{page-id}/tagged`), newest first down to the mark."""
        params = {"fields": POST_FIELDS, "limit": "25"}
        taken: list[tuple[str, datetime]] = []
        async for page in self.graph.pages(f"{self.page_id}/tagged", params, max_pages=MAX_FEED_PAGES):
            for post in page.items:
                try:
                    message = self.to_post(post, Origin.MENTION)
                except UNREADABLE as exc:
                    skipped_unreadable(log, self.name, "tagged post", post.get("id"), exc)
                    continue
                if message.created_at < mark.floor:
                    return taken
                if mark.is_new(message.remote_id, message.created_at):
                    found.append(message)
                    taken.append((message.remote_id, message.created_at))
        return taken

    async def _poll_comments(
        self, post_id: str, mark: Mark, found: list[Message], *, following: dict[str, str] | None = None
    ) -> tuple[list[tuple[str, datetime]], dict[str, str] | None]:
        """The post's comments at every level newer than the mark, newest first (from `following`,
        where an earlier walk stopped); and where this walk stopped if it could not reach the mark."""
        params = {
            "filter": "stream",
            "order": "reverse_chronological",
            "fields": COMMENT_FIELDS,
            "limit": "100",
        }
        taken: list[tuple[str, datetime]] = []
        following = following or {}
        for _ in range(MAX_COMMENT_PAGES):
            page = self.graph.page_of(await self.graph.get(f"{post_id}/comments", params | following))
            for item in page.items:
                try:
                    message = self.to_comment(item, post_id, Origin.MENTION)
                except UNREADABLE as exc:
                    skipped_unreadable(log, self.name, "comment", item.get("id"), exc)
                    continue
                if message.created_at < mark.floor:
                    return taken, None
                if mark.is_new(message.remote_id, message.created_at):
                    found.append(message)
                    taken.append((message.remote_id, message.created_at))
            if page.next_params is None:
                return taken, None
            following = page.next_params
        return taken, following

    # -- JSON -> model ---------------------------------------------------------------------

    def to_post(self, item: dict[str, Any], origin: Origin) -> Message:
        return to_message(self.name, item, own_id=self.page_id, origin=origin, in_reply_to=None,
                          thread_ref=str(item["id"]))  # fmt: skip

    def to_comment(self, item: dict[str, Any], post_id: str, origin: Origin) -> Message:
        """A comment; a top-level one opens a conversation of its own (as a blog's comments do),
        titled with its post's first words, and the replies under it join it."""
        parent = as_dict(item.get("parent")).get("id")
        message = to_message(self.name, item, own_id=self.page_id, origin=origin,
                             in_reply_to=str(parent) if parent else None, thread_ref=post_id)  # fmt: skip
        title = self.titles.get(post_id, "")
        return replace(message, title=title) if title and not message.title else message

    def to_direct(self, item: dict[str, Any], conversation_id: str, parent: str | None) -> Message:
        """A Messenger message as a direct Message."""
        return self.direct.to_direct(item, conversation_id, parent)

    def post_of(self, comment_id: str) -> str:
        """The post a comment belongs to: Graph names a comment "{post}_{comment}" and a Page
        post "{page}_{post}"."""
        head = comment_id.partition("_")[0]
        return f"{self.page_id}_{head}"

    # -- threads ---------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The comment and the top-level comment it answers, oldest first (or the post itself)."""
        if remote_id.startswith("m_"):
            return []  # a Messenger message: its poll sends the one before it along
        chain: list[Message] = []
        focus: str | None = remote_id
        for _ in range(3):  # Facebook nests comments one level under the top-level comment
            if focus is None or focus.count("_") != 1 or focus.startswith(f"{self.page_id}_"):
                break
            try:
                item = await self.graph.get(focus, {"fields": COMMENT_FIELDS})
            except PermanentError as exc:
                if isinstance(exc, AuthError):
                    raise
                break  # not a comment after all (a post that tags the Page): read as a post below
            comment = self.to_comment(item, self.post_of(focus), Origin.CONTEXT)
            chain.insert(0, comment)
            focus = comment.in_reply_to
        if chain:
            return chain  # a top-level comment is its conversation's first message
        try:  # a post (one that tags the Page, a visitor's): a conversation of its own
            post = self.to_post(await self.graph.get(remote_id, {"fields": POST_FIELDS}), Origin.CONTEXT)
        except (ChannelError, *UNREADABLE) as exc:
            log.info(
                "channel %s: the post %s could not be read (%s)", self.name, remote_id, type(exc).__name__
            )
            return []
        return [post]

    # -- replying --------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        return ""  # a comment reply is threaded under its parent; Messenger is one-to-one

    def reply_refusal(self, parent: Message) -> str | None:
        """Why a reply to `parent` would be refused now (Messenger's window), in words."""
        return self.direct.refusal(parent, self._clock())

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """A comment under `parent` (`POST /{id}/comments`), or a Messenger message to its person."""
        if parent.visibility == "direct":
            return await self.direct.send(parent, text, self._clock())
        asked = self._clock()
        try:
            body = await self.graph.post(f"{parent.remote_id}/comments", {"message": text})
        except UncertainSend as uncertain:
            found = await self._read_back(parent, text, asked)
            if found is None:
                raise uncertain from None
            return found
        new_id = body.get("id")
        if not isinstance(new_id, str) or not new_id:
            raise UncertainSend(f"channel {self.name}: the reply was sent but {self.host} gave no id for it")
        return await self._sent_comment(new_id, parent, text, asked)

    async def _sent_comment(self, new_id: str, parent: Message, text: str, asked: datetime) -> Message:
        """Our new comment as Meta describes it; as we sent it if it cannot be read yet."""
        post_id = parent.thread_ref or parent.remote_id
        try:
            item = await self.graph.get(new_id, {"fields": COMMENT_FIELDS})
            message = self.to_comment(item, post_id, Origin.OURS)
        except (ChannelError, *UNREADABLE):
            message = Message(self.name, new_id, self._page_author(), text, asked, thread_ref=post_id,
                              origin=Origin.OURS)  # fmt: skip
        return _replying_to(message, parent.remote_id)

    def _page_author(self) -> Author:
        return Author(self.name, self.page_id, self.name, self.name)

    async def _read_back(self, parent: Message, text: str, since: datetime) -> Message | None:
        try:
            return await self.find_sent(parent, text, "", since)
        except ChannelError as exc:
            log.info("channel %s: reading the reply back failed: %s", self.name, exc)
            return None

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply to `parent` with this text, published since `since`, read back from the
        post's comments (every level, newest first) or the Messenger conversation."""
        if parent is None:
            return None  # a Page opens no topics
        cutoff = (since if since.tzinfo else since.replace(tzinfo=UTC)) - RECONCILE_SLACK
        if parent.visibility == "direct":
            return await self.direct.find(parent, text, cutoff)
        post_id = parent.thread_ref or parent.remote_id
        params = {
            "filter": "stream",
            "order": "reverse_chronological",
            "fields": COMMENT_FIELDS,
            "limit": "100",
        }
        async for page in self.graph.pages(f"{post_id}/comments", params, max_pages=MAX_COMMENT_PAGES):
            for item in page.items:
                try:
                    message = self.to_comment(item, post_id, Origin.OURS)
                except UNREADABLE:
                    continue
                if message.created_at < cutoff:
                    return None
                if message.is_ours and same_text(item.get("message"), text):
                    return _replying_to(message, parent.remote_id)
        return None

    # -- hiding ----------------------------------------------------------------------------

    async def hide(self, remote_id: str, *, spam: bool) -> None:
        """Hide a comment from everyone but its author and their friends (`is_hidden`); never
        deleted. Facebook takes no spam reports through the API: spam is hidden too."""
        await self._set_hidden(remote_id, True)

    async def unhide(self, remote_id: str) -> None:
        await self._set_hidden(remote_id, False)

    async def _set_hidden(self, remote_id: str, hidden: bool) -> None:
        if remote_id.startswith((f"{self.page_id}_", "m_")):
            raise PermanentError("Facebook hides comments only, not posts or Messenger messages")
        body = await self.graph.post(remote_id, {"is_hidden": "true" if hidden else "false"})
        if body.get("success") is not True:
            raise TransientError(f"channel {self.name}: {self.host} did not confirm the comment is "
                                 f"{'hidden' if hidden else 'shown'}")  # fmt: skip


def _resumes(text: str | None) -> dict[str, Any]:
    """The unfinished walks a cursor holds (none if it holds nothing readable)."""
    try:
        return {str(k): as_dict(v) for k, v in as_dict(json.loads(text or "{}")).items()}
    except ValueError:
        return {}


def _replying_to(message: Message, parent: str) -> Message:
    """`message` as an answer to `parent` (Facebook files a reply to a reply under the top one)."""
    return replace(message, in_reply_to=parent, origin=Origin.OURS)
