"""The YouTube channel: comments on the brand's channel through the Data API v3.

`ecoinbox auth NAME` stores a refresh token (with the desktop client's secret, see `oauth`); the
channel trades it for one-hour access tokens at `token_url` and calls the API at `base_url`.

Listening: `commentThreads.list` with `allThreadsRelatedToChannelId` and `order=time`, and, for
the owner, the same with `moderationStatus=heldForReview` and `likelySpam` (shown as held). The
API has no "since": each list is read newest first, page by page (`pageToken`), down to the
newest comment of the last complete walk (its `publishedAt`; equal times are read again, the
store drops what it has). A walk cut by the poll's quota budget keeps its page token and the time
it started from in the cursor, goes on at the next poll, and only then moves the mark: nothing in
between is skipped. A thread embeds a few replies; the others come from `comments.list` with
`parentId`, and the threads we answered are read again at each poll for the answers to us.

Replying: `comments.insert` under the top-level comment (replies are one level deep). No
idempotency key exists: a lost answer raises `UncertainSend`, and `find_sent` reads our replies
under the parent back before anything is sent again. Moderation: `setModerationStatus`.

Quota: every call is counted (`quota`), a poll spends at most `quota_per_poll` units and leaves
`REPLY_RESERVE` of the day for replies; 403 `quotaExceeded` pauses everything until midnight
Pacific, said in words.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import (
    Capabilities,
    NamedChannel,
    PermanentError,
    PollResult,
    RateLimited,
    TransientError,
)
from ecoinbox.channels.http import (
    UNREADABLE,
    Clock,
    channel_logger,
    one_line,
    skipped_unreadable,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, json_or_none, objects
from ecoinbox.channels.youtube import quota as units
from ecoinbox.channels.youtube.api import DataApi
from ecoinbox.channels.youtube.comments import comment_message, thread_comments
from ecoinbox.htmltext import plain_to_text
from ecoinbox.model import Message

log = channel_logger(__name__)

MAX_COMMENT_LENGTH: Final = 10_000
PAGE: Final = 100  # maxResults' maximum
BACKFILL: Final = timedelta(days=14)  # a first walk goes back this far
RECONCILE_SLACK: Final = timedelta(minutes=2)
WATCHED: Final = 10  # threads we answered whose replies each poll reads again
WATCH_FOR: Final = timedelta(days=14)
WATCH_EVERY: Final = timedelta(minutes=10)  # a unit per thread each time: 1,440 a day at most
READ_BACK_PAGES: Final = 10
TITLES_KEPT: Final = 2000  # video titles remembered (a request per 50 new videos)
DESCRIPTION_CHARS: Final = 2000  # of a video's description kept for screening (as a blog post's text)
QUOTA_WARNING: Final = 0.8  # from this share of the day's quota, each poll says what was used

SAFEGUARDS: Final = (
    (
        "no idempotency key: an uncertain reply is looked up among the replies under its comment "
        "before any resend"
    ),
    (
        "no 'since' parameter: each list is read newest first down to the last comment seen, a walk "
        "cut by the quota budget goes on at the next poll, so none in between is skipped"
    ),
    (
        "a daily quota (midnight Pacific): polls stop short of it and leave room for replies; a "
        "quotaExceeded answer pauses the channel until the reset, replies wait"
    ),
)


@dataclass(frozen=True, slots=True)
class Source:
    """One list of comment threads: the published ones, or those the owner must look at."""

    key: str
    status: str | None  # moderationStatus; None: published


PUBLISHED, HELD, LIKELY_SPAM = (
    Source("threads", None),
    Source("held", "heldForReview"),
    Source("spam", "likelySpam"),
)


class YouTubeChannel(NamedChannel):
    """The brand's YouTube channel (`channel_id`, "UC..."), through an installed app's OAuth.

    The refresh token, client secret and access tokens live only in headers and form bodies: never
    in `repr`, `str` or an error.
    """

    kind = "youtube"

    def __init__(
        self,
        name: str,
        base_url: str,
        secret: str,
        *,
        channel_id: str,
        client_id: str,
        token_url: str,
        quota_per_day: int = units.DAILY_QUOTA,
        quota_per_poll: int = 50,
        include_held: bool = True,
        timeout: float = 20.0,
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.channel_id = channel_id.strip()
        self.include_held = include_held
        self.quota = units.Quota(daily=quota_per_day, per_poll=quota_per_poll)
        self._clock = clock
        self._api = DataApi(
            name, self.base_url, secret, client_id=client_id, token_url=token_url, quota=self.quota,
            timeout=timeout, clock=clock,
        )  # fmt: skip
        self._watched: dict[str, datetime] = {}  # thread id -> when we last answered in it
        # Comments whose status we changed -> the status: read again at the next poll (a list
        # walk would not meet them again, and comments.list by id does not say the status).
        self._moderated: dict[str, str] = {}
        self._titles: dict[str, tuple[str, str]] = {}  # video id -> its title and description, oldest first

    async def aclose(self) -> None:
        await self._api.aclose()

    def set_token(self, token: str) -> bool:
        """Use a renewed secret from now on; False when it is empty, unreadable or the one in use."""
        return self._api.set_secret(token)

    # -- identity and capabilities ---------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        return Capabilities(
            reply=True,
            max_length=MAX_COMMENT_LENGTH,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def check(self) -> str:
        """Renew the access token and ask which channel it manages; say the quota used."""
        self._api.forget_access()
        body = await self._api.get("/channels", {"part": "snippet", "mine": "true"})
        items = objects(body.get("items"))
        ids = [str(item.get("id")) for item in items]
        if self.channel_id not in ids:
            mine = ", ".join(one_line(i, limit=40) for i in ids) or "none"
            raise PermanentError(
                f"the authorization of channel {self.name} manages YouTube channel(s) {mine}, not "
                f"{one_line(self.channel_id, limit=40)}: run `ecoinbox auth {self.name}` as its owner"
            )
        title = one_line(str(as_dict(items[ids.index(self.channel_id)].get("snippet")).get("title") or ""))
        return f"{title} ({self.channel_id}) on {self.host} (YouTube); {self.quota.describe(self._clock())}"

    # -- polling ---------------------------------------------------------------------------

    def _sources(self) -> list[Source]:
        return [PUBLISHED, HELD, LIKELY_SPAM] if self.include_held else [PUBLISHED]

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New comments and replies since `cursor`, oldest first, within the poll's budget."""
        now = self._clock()
        self.quota.take_cursor(cursor, now)
        self._take_watched(cursor.get("watched", ""), now)
        next_cursor = dict(cursor)
        budget = _Budget(self.quota.per_poll)
        found: dict[str, Message] = {}
        warnings: list[str] = []
        try:
            for source in self._sources():
                messages, fields, finished = await self._walk(source, cursor, budget)
                next_cursor.update(fields)
                found.update((m.remote_id, m) for m in messages)
                if not finished:
                    warnings.append(
                        "more comments wait on YouTube: this poll's quota budget was spent, the next "
                        "poll goes on where it stopped"
                    )
                    break
            else:
                for message in await self._moderated_again(budget):
                    found[message.remote_id] = message
                last = _time_or_none(cursor.get("watched_at"))
                if last is None or now - last >= WATCH_EVERY:
                    for message in await self._watched_replies(budget):
                        found.setdefault(message.remote_id, message)
                    next_cursor["watched_at"] = now.isoformat()
        except RateLimited:
            if not found:
                raise
            warnings.append(self.quota.blocked_words(self._clock()))
        titled = await self._with_titles(list(found.values()), budget)
        if self.quota.used >= self.quota.daily * QUOTA_WARNING:
            warnings.append(self.quota.describe(self._clock()))  # the status line keeps it in sight
        next_cursor.update(self.quota.to_cursor())
        next_cursor["watched"] = self._watched_text()
        ordered = sorted(titled, key=lambda m: (m.created_at, m.remote_id))
        return PollResult(ordered, next_cursor, tuple(dict.fromkeys(warnings)))

    async def _with_titles(self, messages: list[Message], budget: _Budget) -> list[Message]:
        """Top-level comments titled with their video's title (videos.list, 1 unit per 50 new
        videos; kept): the conversation says which video it is about."""
        wanted = {_video_of(m) for m in messages if m.in_reply_to is None} - {""} - set(self._titles)
        ids = sorted(wanted)
        for start in range(0, len(ids), 50):
            if not budget.take(units.LIST):
                break
            try:
                body = await self._api.get(
                    "/videos", {"part": "snippet", "id": ",".join(ids[start : start + 50])}
                )
            except (RateLimited, TransientError):
                break  # titles are a comfort: the comments come in without them
            for item in objects(body.get("items")):
                snippet = as_dict(item.get("snippet"))
                title, about = snippet.get("title"), snippet.get("description")
                if isinstance(item.get("id"), str) and isinstance(title, str):
                    # The description is what a comment is off-topic to (screening; not stored).
                    about = plain_to_text(about[:DESCRIPTION_CHARS]).text if isinstance(about, str) else ""
                    self._titles[item["id"]] = (plain_to_text(title).text, about)
        while len(self._titles) > TITLES_KEPT:
            self._titles.pop(next(iter(self._titles)))
        return [
            replace(m, title=video[0], post_text=video[1])
            if m.in_reply_to is None and not m.title and (video := self._titles.get(_video_of(m)))
            else m
            for m in messages
        ]

    async def _walk(
        self, source: Source, cursor: dict[str, str], budget: _Budget
    ) -> tuple[list[Message], dict[str, str], bool]:
        """Read one list newest first down to its mark; the messages, the cursor's fields for
        this source and whether the walk finished (else it goes on at the next poll)."""
        mark_text = cursor.get(f"{source.key}_mark")
        mark = _time_or_none(mark_text) or (self._clock() - BACKFILL)
        token = cursor.get(f"{source.key}_page") or None
        top = cursor.get(f"{source.key}_top") or None
        messages: list[Message] = []
        while True:
            if not budget.take(units.LIST):
                fields = {f"{source.key}_page": token or "", f"{source.key}_top": top or ""}
                return messages, fields, False
            params = {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": self.channel_id,
                "order": "time",
                "maxResults": str(PAGE),
                "textFormat": "plainText",
            }
            if source.status:
                params["moderationStatus"] = source.status
            if token:
                params["pageToken"] = token
            body = await self._api.get("/commentThreads", params, reserve=units.REPLY_RESERVE)
            reached = False
            for thread in objects(body.get("items")):
                published = self._thread_messages(thread)
                if published is None:
                    continue
                first, replies = published
                if top is None:
                    top = first.created_at.isoformat()
                if first.created_at < mark:
                    reached = True
                    break
                messages.append(first)
                messages.extend(replies)
                if _more_replies(thread, replies):
                    messages.extend(await self._replies(first.remote_id, budget))
            next_token = body.get("nextPageToken")
            token = next_token if isinstance(next_token, str) and next_token else None
            if reached or token is None:
                fields = {f"{source.key}_page": "", f"{source.key}_top": ""}
                fields[f"{source.key}_mark"] = top or mark_text or mark.isoformat()
                return messages, fields, True

    def _thread_messages(self, thread: dict[str, Any]) -> tuple[Message, list[Message]] | None:
        try:
            top, replies, _ = thread_comments(thread)
            thread_id = str(thread.get("id") or top["id"])
            video = str(as_dict(thread.get("snippet")).get("videoId") or "")
            first = comment_message(top, self.name, self.channel_id, thread=thread_id, video_id=video)
        except UNREADABLE as exc:
            skipped_unreadable(log, self.name, "comment thread", thread.get("id"), exc)
            return None
        return first, self._convert_all(replies, thread_id, video)

    def _convert_all(self, items: list[dict[str, Any]], thread: str, video: str) -> list[Message]:
        out = []
        for item in items:
            try:
                out.append(comment_message(item, self.name, self.channel_id, thread=thread, video_id=video))
            except UNREADABLE as exc:
                skipped_unreadable(log, self.name, "comment", item.get("id"), exc)
        return out

    async def _replies(self, parent: str, budget: _Budget | None, *, pages: int = 5) -> list[Message]:
        """Every reply under the top-level comment `parent` (comments.list, paged)."""
        found: list[Message] = []
        token: str | None = None
        for _ in range(pages):
            if budget is not None and not budget.take(units.LIST):
                break
            params = {
                "part": "snippet",
                "parentId": parent,
                "maxResults": str(PAGE),
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            body = await self._api.get("/comments", params, reserve=units.REPLY_RESERVE if budget else 0)
            found.extend(self._convert_all(objects(body.get("items")), parent, ""))
            next_token = body.get("nextPageToken")
            token = next_token if isinstance(next_token, str) and next_token else None
            if token is None:
                break
        return found

    async def _moderated_again(self, budget: _Budget) -> list[Message]:
        """The comments we published, held or rejected lately, as they are now (held or not)."""
        ids = list(self._moderated)[:50]  # comments.list takes up to 50 ids
        if not ids or not budget.take(units.LIST):
            return []
        params = {"part": "snippet", "id": ",".join(ids), "textFormat": "plainText"}
        body = await self._api.get("/comments", params, reserve=units.REPLY_RESERVE)
        found = []
        for item in objects(body.get("items")):
            parent = as_dict(item.get("snippet")).get("parentId")
            thread = parent if isinstance(parent, str) and parent else str(item.get("id"))
            for message in self._convert_all([item], thread, ""):
                status = self._moderated.get(message.remote_id, "published")
                found.append(replace(message, held=status == "heldForReview"))
        for done in ids:
            self._moderated.pop(done, None)
        return found

    async def _watched_replies(self, budget: _Budget) -> list[Message]:
        """The replies in the threads we answered lately: the answers to us, wherever the thread is."""
        found: list[Message] = []
        for thread in sorted(self._watched, key=self._watched.__getitem__, reverse=True):
            if budget.left < units.LIST:
                break
            found.extend(await self._replies(thread, budget, pages=1))
        return found

    def _take_watched(self, text: str, now: datetime) -> None:
        for part in filter(None, text.split(",")):
            thread, _, when = part.rpartition("@")
            at = _time_or_none(when)
            if thread and at is not None and thread not in self._watched:
                self._watched[thread] = at
        self._prune_watched(now)

    def _watch(self, thread: str, now: datetime) -> None:
        self._watched[thread] = now
        self._prune_watched(now)

    def _prune_watched(self, now: datetime) -> None:
        keep = sorted(
            ((t, at) for t, at in self._watched.items() if now - at < WATCH_FOR), key=lambda p: p[1]
        )[-WATCHED:]
        self._watched = dict(keep)

    def _watched_text(self) -> str:
        return ",".join(f"{thread}@{at.isoformat()}" for thread, at in self._watched.items())

    # -- threads ---------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The comment and, for a reply, the top-level comment it answers, oldest first."""
        comment = await self._comment(remote_id, None)
        if comment is None:
            return []
        if comment.in_reply_to is None:
            return [comment]
        parent = await self._comment(comment.in_reply_to, comment.in_reply_to)
        return [parent, comment] if parent is not None else [comment]

    async def _comment(self, remote_id: str, thread: str | None) -> Message | None:
        body = await self._api.get(
            "/comments", {"part": "snippet", "id": remote_id, "textFormat": "plainText"}
        )
        for item in objects(body.get("items")):
            parent = as_dict(item.get("snippet")).get("parentId")
            ref = thread or (parent if isinstance(parent, str) and parent else remote_id)
            converted = self._convert_all([item], ref, "")
            if converted and converted[0].remote_id == remote_id:
                return converted[0]
        return None

    # -- replying --------------------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Under a reply, YouTube's way of answering its author: "@handle "."""
        if parent.in_reply_to is None or parent.is_ours:
            return ""
        return f"@{parent.author.handle} " if parent.author.handle else ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """comments.insert under the parent's top-level comment (50 units). No idempotency key:
        a lost answer raises `UncertainSend` and `find_sent` reads it back before any resend."""
        top = _top_level(parent)
        self._watch(top, self._clock())
        body = {"snippet": {"parentId": top, "textOriginal": text}}
        response = await self._api.call(
            "POST", "/comments", units.INSERT, params={"part": "snippet"}, json=body
        )
        created = as_dict(json_or_none(response.content))
        made = self._convert_all([created], top, _video_of(parent)) if created else []
        if not made:
            raise TransientError(f"channel {self.name}: the reply was sent but YouTube described it oddly")
        return made[0]

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our reply with this text under `parent`'s top-level comment, published since `since`,
        read back from comments.list (every page), without posting anything."""
        if parent is None:
            return None  # no new topics on YouTube
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        wanted = _comparable(text)
        top = _top_level(parent)
        for reply in await self._replies(top, None, pages=READ_BACK_PAGES):
            if (
                reply.is_ours
                and reply.created_at >= since - RECONCILE_SLACK
                and _comparable(reply.text) == wanted
            ):
                return reply
        return None

    # -- moderation (ModeratedChannel, HidingChannel) ---------------------------------------

    async def _set_status(self, remote_id: str, status: str) -> None:
        params = {"id": remote_id, "moderationStatus": status, "banAuthor": "false"}
        await self._api.call("POST", "/comments/setModerationStatus", units.MODERATE, params=params)
        self._moderated[remote_id] = status

    async def approve(self, remote_id: str) -> None:
        """Publish a comment held for review (or marked likely spam)."""
        await self._set_status(remote_id, "published")

    async def hide(self, remote_id: str, *, spam: bool) -> None:
        """Take it out of public view without deleting it: held for review, or rejected when it is
        spam (YouTube's markAsSpam is no longer supported; rejecting hides it from everyone but
        the owner, who can publish it again)."""
        await self._set_status(remote_id, "rejected" if spam else "heldForReview")

    async def unhide(self, remote_id: str) -> None:
        await self._set_status(remote_id, "published")


class _Budget:
    """What one poll may still spend."""

    def __init__(self, units_left: int) -> None:
        self.left = units_left

    def take(self, cost: int) -> bool:
        if cost > self.left:
            return False
        self.left -= cost
        return True


def _top_level(message: Message) -> str:
    """The top-level comment a reply to `message` goes under (replies are one level deep)."""
    return message.in_reply_to or message.thread_ref or message.remote_id


def _video_of(message: Message) -> str:
    url = message.url or ""
    start = url.find("v=")
    return url[start + 2 :].split("&", 1)[0] if start >= 0 else ""


def _more_replies(thread: dict[str, Any], embedded: list[Message]) -> bool:
    try:
        _, _, total = thread_comments(thread)
    except UNREADABLE:
        return False
    return total > len(embedded)


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _time_or_none(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["MAX_COMMENT_LENGTH", "SAFEGUARDS", "YouTubeChannel"]
