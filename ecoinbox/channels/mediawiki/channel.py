"""The MediaWiki channel: new comments on the talk pages the brand follows, and replies there.

What it follows: chosen pages (`pages`) and whole namespaces (`namespaces`, e.g. 1 for Talk:),
the latter found through `list=recentchanges` (continued with `rccontinue`). A page is read
whole (its wikitext) when its latest revision is not the one the cursor remembers; the comments
of that revision that the remembered one lacks are the new ones (`talk.parse_talk_page`). So an
edit is never skipped however many came between two polls, and a page that could not be read
keeps its old revision in the cursor and is read again next time. Each section is a
conversation: its first comment opens it, replies hang under the comment they indent under.

Replies: with DiscussionTools (the wiki lists the extension), `action=discussiontoolsedit` with
`paction=addcomment` under the comment's name, and our idempotency key as its `formtoken` (the
wiki refuses a second comment with the same one). Elsewhere, an edit of the comment's section
that puts the reply one level deeper, signed "~~~~", with `baserevid`/`basetimestamp`/
`starttimestamp` so that the wiki detects edit conflicts; on a conflict the page is read again.
Neither way has an idempotency key MediaWiki keeps for section edits, so before any new attempt
(and in `find_sent`, for the outbox's uncertain sends) the page is read back for a comment signed
by the brand's account with the same text under the same parent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.channels.base import (
    Capabilities,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.http import UNREADABLE, channel_logger, skipped_unreadable, utc_now
from ecoinbox.channels.json_values import as_dict, as_int, aware_time, objects
from ecoinbox.channels.mediawiki.api import BOT_PASSWORD, EditConflict, WikiApi, WikiError
from ecoinbox.channels.mediawiki.talk import Comment, TalkPage, comment_name, insert_reply, parse_talk_page
from ecoinbox.channels.mediawiki.wikitext import page_url, plain_text
from ecoinbox.model import Author, Message, Origin

__all__ = ["MediaWikiChannel", "same_comment_text"]

log = channel_logger(__name__)

FIRST_RUN: Final = timedelta(days=7)  # a first poll brings the last week's comments, not the archive
SLACK: Final = timedelta(minutes=5)  # recentchanges rows may be written a little out of order
RC_LIMIT: Final = "500"
MAX_RC_PAGES: Final = 10  # per poll; the next goes on from the cursor
TITLES_PER_QUERY: Final = 50  # the API's limit for titles=A|B|...
MAX_TRACKED: Final = 2000  # pages whose last revision the cursor remembers
EDIT_ATTEMPTS: Final = 3  # edit conflicts in a row before the reply waits for the next try
RECONCILE_SLACK: Final = timedelta(minutes=2)
MAX_CONTEXT: Final = 50
DT_CANNOT_FIND: Final = frozenset({
    "discussiontools-commentname-ambiguous", "discussiontools-commentname-notfound",
    "discussiontools-commentid-notfound",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Revision:
    title: str
    revid: int
    timestamp: str
    content: str | None  # None when it was not asked for, or is hidden


class MediaWikiChannel(NamedChannel):
    """The brand's account on one wiki: its talk pages' comments in, replies out."""

    kind = "mediawiki"

    def __init__(
        self,
        name: str,
        base_url: str,
        secret: str,
        *,
        auth: str = BOT_PASSWORD,
        login_name: str | None = None,
        pages: Sequence[str] = (),
        namespaces: Sequence[int] = (),
        timeout: float = 20.0,
        clock: Any = utc_now,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.pages = tuple(_title(page) for page in pages)
        self.namespaces = tuple(namespaces)
        self.clock = clock
        self.api = WikiApi(name, self.base_url, secret, auth=auth, login_name=login_name, timeout=timeout,
                           clock=clock)  # fmt: skip
        self._site: dict[str, Any] | None = None

    async def aclose(self) -> None:
        await self.api.aclose()

    async def capabilities(self) -> Capabilities:
        return Capabilities(
            reply=True,
            max_length=5000,
            reconcile=True,
            safeguards=(
                (
                    "a section edit has no idempotency key: an uncertain reply is looked up on the talk "
                    "page, signed by the brand's account, before any resend"
                ),
                "edit conflicts are read again and retried; a lagging wiki (maxlag) is waited for",
            ),
        )

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        return ""

    # -- the wiki --------------------------------------------------------------------------------

    async def site(self) -> dict[str, Any]:
        """The wiki's name, version and extensions (asked once)."""
        if self._site is None:
            data = await self.api.get(action="query", meta="siteinfo", siprop="general|extensions")
            query = as_dict(data.get("query"))
            extensions = {str(item.get("name")) for item in objects(query.get("extensions"))}
            general = as_dict(query.get("general"))
            self._site = {
                "name": str(general.get("sitename") or self.host),
                "generator": str(general.get("generator") or "MediaWiki"),
                "discussiontools": "DiscussionTools" in extensions,
            }
        return self._site

    async def check(self) -> str:
        user = await self.api.whoami()
        site = await self.site()
        info = await self.api.get(action="query", meta="userinfo", uiprop="ratelimits")
        limits = as_dict(
            as_dict(as_dict(as_dict(info.get("query")).get("userinfo")).get("ratelimits")).get("edit")
        )
        limit = next((as_dict(each) for each in limits.values()), {})
        hits, seconds = as_int(limit.get("hits")), as_int(limit.get("seconds"))
        per = "a minute" if seconds == 60 else "an hour" if seconds == 3600 else f"per {seconds} s"
        rate = f"at most {hits} edits {per}" if hits and seconds else "no edit rate limit"
        how = (
            "replies through DiscussionTools"
            if site["discussiontools"]
            else "replies as section edits signed ~~~~ (no DiscussionTools)"
        )
        following = [f"{len(self.pages)} page{'s' if len(self.pages) > 1 else ''}"] if self.pages else []
        if self.namespaces:
            following.append("every page of " + ", ".join(await self._namespace_names()))
        signed = "a bot password" if self.api.auth == BOT_PASSWORD else "an OAuth 2.0 token"
        return (
            f"signed in to {site['name']} ({site['generator']}) as {user} with {signed}; {how}; "
            f"following {' and '.join(following) or 'nothing yet (set pages or namespaces)'}; "
            f"{rate}; waits when the wiki's database lags more than 5 s"
        )

    async def _namespace_names(self) -> list[str]:
        """The followed namespaces as the wiki names them ("Talk"; "namespace 7" if it has none)."""
        data = await self.api.get(action="query", meta="siteinfo", siprop="namespaces")
        spaces = as_dict(as_dict(data.get("query")).get("namespaces"))
        names = []
        for number in self.namespaces:
            name = as_dict(spaces.get(str(number))).get("name")
            names.append(name if isinstance(name, str) and name else f"namespace {number}")
        return names

    # -- reading ---------------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        now = self.clock()
        first = "at" not in cursor
        since = now - FIRST_RUN if first else aware_time(cursor["at"]) - SLACK
        known: dict[str, int] = json.loads(cursor.get("pages", "{}")) if cursor.get("pages") else {}
        titles = list(self.pages)
        # Pages a poll could not read: asked again whether or not they changed since.
        titles += [title for title in json.loads(cursor.get("retry", "[]")) if title not in titles]
        rc_cursor = cursor.get("rc")
        if self.namespaces:
            start = since if rc_cursor is None else aware_time(rc_cursor) - SLACK
            changed, rc_cursor = await self._recent_changes(start)
            since = min(since, start)  # a page first met in changes still being caught up on
            titles += [title for title in changed if title not in titles]
        latest = await self._latest(titles)
        messages: list[Message] = []
        unread: list[str] = []
        for title, revid in latest.items():
            if known.get(title) == revid:
                continue
            try:
                new = await self._page_comments(title, known.get(title), revid, since)
            except UNREADABLE as exc:
                skipped_unreadable(log, self.name, "talk page", title, exc)
                unread.append(title)
                continue
            messages += new
            known[title] = revid
        messages.sort(key=lambda message: message.created_at)  # stable: page order within a minute
        next_cursor = {"at": now.isoformat(), "pages": json.dumps(_most_recent(known), sort_keys=True)}
        if rc_cursor is not None:
            next_cursor["rc"] = rc_cursor
        if unread:
            next_cursor["retry"] = json.dumps(unread)
        warnings = tuple(f"{title} could not be read (its text is hidden or unreadable); it is read again "
                         "at the next poll" for title in unread[:3])  # fmt: skip
        return PollResult(messages, next_cursor, warnings)

    async def _recent_changes(self, start: datetime) -> tuple[list[str], str | None]:
        """Titles changed since `start` in the followed namespaces, and the newest change's time."""
        titles: list[str] = []
        newest: str | None = None
        params = {
            "action": "query", "list": "recentchanges", "rcnamespace": "|".join(map(str, self.namespaces)),
            "rctype": "edit|new", "rcprop": "title|ids|timestamp", "rcdir": "newer", "rclimit": RC_LIMIT,
            "rcstart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }  # fmt: skip
        for _ in range(MAX_RC_PAGES):
            data = await self.api.get(**params)
            for change in objects(as_dict(data.get("query")).get("recentchanges")):
                title, stamp = change.get("title"), change.get("timestamp")
                if isinstance(title, str) and title not in titles:
                    titles.append(title)
                if isinstance(stamp, str):
                    newest = stamp
            more = as_dict(data.get("continue")).get("rccontinue")
            if not isinstance(more, str):
                break
            params["rccontinue"] = more
        return titles, newest

    async def _latest(self, titles: Sequence[str]) -> dict[str, int]:
        """Each existing page's latest revision id."""
        latest: dict[str, int] = {}
        for start in range(0, len(titles), TITLES_PER_QUERY):
            chunk = titles[start : start + TITLES_PER_QUERY]
            data = await self.api.get(action="query", prop="revisions", rvprop="ids", titles="|".join(chunk))
            for page in objects(as_dict(data.get("query")).get("pages")):
                revision = next(iter(objects(page.get("revisions"))), {})
                revid = as_int(revision.get("revid"))
                if isinstance(page.get("title"), str) and revid is not None:
                    latest[page["title"]] = revid
        return latest

    async def _revisions(self, revids: Iterable[int]) -> dict[int, _Revision]:
        wanted = "|".join(str(revid) for revid in revids)
        data = await self.api.get(action="query", prop="revisions", revids=wanted,
                                  rvprop="ids|timestamp|content", rvslots="main")  # fmt: skip
        found: dict[int, _Revision] = {}
        for page in objects(as_dict(data.get("query")).get("pages")):
            for revision in objects(page.get("revisions")):
                revid = as_int(revision.get("revid"))
                content = as_dict(as_dict(revision.get("slots")).get("main")).get("content")
                if revid is not None:
                    found[revid] = _Revision(str(page.get("title")), revid, str(revision.get("timestamp")),
                                             content if isinstance(content, str) else None)  # fmt: skip
        return found

    async def _page_comments(self, title: str, old: int | None, new: int, since: datetime) -> list[Message]:
        revisions = await self._revisions([new] if old is None else [old, new])
        current = revisions[new]
        if current.content is None:
            raise ValueError("revision without content")
        page = parse_talk_page(current.content)
        before = revisions.get(old) if old is not None else None
        if before is not None and before.content is not None:
            seen = {comment.name for comment in parse_talk_page(before.content).comments}
            fresh = [comment for comment in page.comments if comment.name not in seen]
        else:  # a page new to us: what was written since the last poll (the last week at first)
            fresh = [comment for comment in page.comments if comment.timestamp >= since]
        me = self.api.user or await self.api.whoami()
        return [self._message(title, page, comment, me) for comment in fresh]

    def _message(self, title: str, page: TalkPage, comment: Comment, me: str) -> Message:
        text, links = plain_text(comment.text, self.base_url)
        section = page.section(comment.section)
        heading = section.title or title
        ours = comment.author == me
        return Message(
            channel=self.name,
            remote_id=f"{title}#{comment.name}",
            author=Author(
                channel=self.name,
                remote_id=comment.author,
                handle=comment.author,
                display_name=comment.author,
                url=page_url(self.base_url, f"User:{comment.author}"),
                proofs=(page_url(self.base_url, f"User:{comment.author}"),),
            ),
            text=text,
            created_at=comment.timestamp,
            in_reply_to=f"{title}#{comment.parent}" if comment.parent else None,
            url=page_url(self.base_url, title) + (f"#{_anchor(section.title)}" if section.title else ""),
            origin=Origin.OURS if ours else Origin.MENTION,
            links=links,
            title=f"{title}: {heading}" if section.title else title,
            thread_ref=f"{title}#{section.index}",
        )

    async def _read(self, title: str) -> tuple[_Revision, str, TalkPage]:
        """The page's latest revision, the server's time of the read, and its comments."""
        data = await self.api.get(action="query", prop="revisions", titles=title, curtimestamp="1",
                                  rvprop="ids|timestamp|content", rvslots="main")  # fmt: skip
        page = next(iter(objects(as_dict(data.get("query")).get("pages"))), {})
        revision = next(iter(objects(page.get("revisions"))), None)
        if page.get("missing") or revision is None:
            raise PermanentError(f"channel {self.name}: the page {title!r} no longer exists on the wiki")
        content = as_dict(as_dict(revision.get("slots")).get("main")).get("content")
        if not isinstance(content, str):
            raise PermanentError(f"channel {self.name}: the text of {title!r} is hidden")
        current = _Revision(
            title, as_int(revision.get("revid")) or 0, str(revision.get("timestamp")), content
        )
        return current, str(data.get("curtimestamp") or current.timestamp), parse_talk_page(content)

    async def context(self, remote_id: str) -> list[Message]:
        title, _, name = remote_id.partition("#")
        _, _, page = await self._read(title)
        me = await self.api.whoami()
        chain: list[Message] = []
        comment = page.comment(name)
        while comment is not None and len(chain) < MAX_CONTEXT:
            chain.append(self._message(title, page, comment, me))
            comment = page.comment(comment.parent) if comment.parent else None
        return list(reversed(chain))

    # -- replying --------------------------------------------------------------------------------

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        title, _, name = parent.remote_id.partition("#")
        if not title or not name:
            raise PermanentError(f"channel {self.name}: {parent.remote_id!r} is not a talk page comment")
        started = self.clock()
        if (await self.site())["discussiontools"]:
            try:
                return await self._reply_with_discussiontools(title, name, text, idempotency_key, started)
            except WikiError as exc:
                if exc.code not in DT_CANNOT_FIND:
                    raise
                # DiscussionTools reads the page otherwise (two comments of one name): a section edit.
        return await self._reply_with_section_edit(title, name, text, started)

    async def _reply_with_section_edit(self, title: str, name: str, text: str, started: datetime) -> Message:
        for attempt in range(EDIT_ATTEMPTS):
            revision, now, page = await self._read(title)
            if attempt:  # read back before any new attempt: the last one may have landed
                found = self._ours_in(page, title, name, text, started)
                if found is not None:
                    return found
            target = page.comment(name)
            if target is None:
                raise PermanentError(
                    f"channel {self.name}: the comment you answer is no longer on {title!r} (removed or "
                    f"archived); answer on the wiki itself"
                )
            section, section_text = insert_reply(page, target, text)
            try:
                result = await self.api.post(
                    action="edit", title=title, section=str(section), text=section_text,
                    baserevid=str(revision.revid), basetimestamp=revision.timestamp, starttimestamp=now,
                    summary=f"Reply to {target.author} (ecoinbox)", nocreate="1",
                )  # fmt: skip
            except EditConflict:
                continue
            edit = as_dict(result.get("edit"))
            if edit.get("result") != "Success":
                raise WikiError(f"channel {self.name}: the wiki did not save the reply ({edit.get('result')})",
                                "editfailed")  # fmt: skip
            return await self._read_back(title, name, text, started, as_int(edit.get("newrevid")))
        raise TransientError(f"channel {self.name}: {title!r} changed {EDIT_ATTEMPTS} times while we answered; "
                             "the reply will be tried again")  # fmt: skip

    async def _reply_with_discussiontools(self, title: str, name: str, text: str, key: str,
                                          started: datetime) -> Message:  # fmt: skip
        base_name = re.sub(r"(-\d{14})-\d+$", r"\1", name)  # DiscussionTools' name, without our "-2"
        try:
            result = await self.api.post(
                action="discussiontoolsedit", paction="addcomment", page=title, commentname=base_name,
                wikitext=text, formtoken=_form_token(key), summary="Reply (ecoinbox)",
            )  # fmt: skip
        except WikiError as exc:
            if exc.code != "discussiontools-formtoken-used":
                raise
            result = {}  # it was saved by an earlier attempt: find it
        saved = as_dict(result.get("discussiontoolsedit"))
        return await self._read_back(title, name, text, started, as_int(saved.get("newrevid")))

    async def _read_back(
        self, title: str, name: str, text: str, started: datetime, revid: int | None
    ) -> Message:
        """Our saved comment as the page now has it."""
        if revid is not None:
            revision = (await self._revisions([revid])).get(revid)
            if revision is not None and revision.content is not None:
                found = self._ours_in(parse_talk_page(revision.content), title, name, text, started)
                if found is not None:
                    return found
        _, _, page = await self._read(title)
        found = self._ours_in(page, title, name, text, started)
        if found is not None:
            return found
        if revid is None:
            raise UncertainSend(f"channel {self.name}: the wiki's answer to the reply on {title!r} said "
                                "nothing of it; it will be looked for before any resend")  # fmt: skip
        # Saved (the wiki said so) but signed in a way we cannot read (a custom signature): as sent.
        me = self.api.user
        mine = Comment(comment_name(me, self.clock()), me, self.clock(), 0, text, 0, name, 0, 0)
        parent = page.comment(name)
        message = self._message(title, page, mine, me)
        return (
            message
            if parent is None
            else replace(message, title=self._message(title, page, parent, me).title)
        )

    def _ours_in(self, page: TalkPage, title: str, parent: str, text: str, since: datetime) -> Message | None:
        me = self.api.user
        wanted = same_comment_text(plain_text(text, self.base_url)[0])
        for comment in page.comments:
            if (
                comment.author == me
                and comment.parent == parent
                and comment.timestamp >= since.replace(second=0, microsecond=0) - RECONCILE_SLACK
                and same_comment_text(plain_text(comment.text, self.base_url)[0]) == wanted
            ):
                return self._message(title, page, comment, me)
        return None

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        if parent is None:
            return None
        page_title, _, name = parent.remote_id.partition("#")
        await self.api.whoami()
        _, _, page = await self._read(page_title)
        return self._ours_in(page, page_title, name, text, since)


def same_comment_text(text: str) -> str:
    """A comment's text as compared when reading back (spaces and case of no account)."""
    return " ".join(text.split()).casefold()


def _form_token(key: str) -> str:
    """DiscussionTools' formtoken (at most 16 characters) for an idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _title(page: str) -> str:
    return page.strip().replace("_", " ")


def _anchor(heading: str) -> str:
    return heading.replace(" ", "_")


def _most_recent(known: dict[str, int]) -> dict[str, int]:
    """The pages the cursor keeps: the most recently changed (revision ids grow)."""
    if len(known) <= MAX_TRACKED:
        return known
    return dict(sorted(known.items(), key=lambda item: item[1])[-MAX_TRACKED:])
