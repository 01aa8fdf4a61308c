"""The LinkedIn channel: comments on an organization page's posts (Community Management API).

Reads the page's newest posts (`GET /rest/posts?q=author`), asks `socialMetadata` how many
comments each has, and reads the comments (`GET /rest/socialActions/{urn}/comments`, paged by
start/count, replies to a comment under the comment's own URN) of the posts whose count moved.
Every request carries the `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0` headers.

Replies are comments made as the organization (`POST /rest/socialActions/{urn}/comments` with
`actor` = the organization); LinkedIn nests one level only, so an answer to a reply goes under
the first-level comment it belongs to. LinkedIn takes no idempotency key: a reply whose answer
was lost is looked up among the comments it would sit in before anything is sent again.

Cursors: one key per watched post, "post:<urn>" -> {"count": comments seen, "at": newest comment
time in ms, "ids": the ids at that time}; a post that leaves the watched window loses its key. A
post whose comment count has not moved is not read again (one deleted and one new comment between
two polls wait for the next change of the count).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    NamedChannel,
    PermanentError,
    PollResult,
    UncertainSend,
)
from ecoinbox.channels.http import (
    UNREADABLE,
    HttpClient,
    HttpResponse,
    channel_logger,
    platform_error,
    skipped_unreadable,
    utc_now,
)
from ecoinbox.channels.json_values import as_dict, as_int, objects
from ecoinbox.model import Author, Message, Origin
from ecoinbox.sanitize import sanitize, sanitize_and_flag

log = channel_logger(__name__)

MAX_COMMENT = 1250
"""LinkedIn's longest comment, in characters."""
PAGE = 100
"""Comments asked for per page (the most a page gives)."""
MAX_PAGES = 50
"""Pages read from one post in one poll: a post with more comments goes on at the next poll."""
FEED_URL = "https://www.linkedin.com/feed/update/"
RECONCILE_SLACK = timedelta(minutes=2)
SAFEGUARDS = (
    (
        "LinkedIn takes no idempotency key: a reply whose answer was lost is looked up among the "
        "comments it would sit in before anything is sent again"
    ),
    "LinkedIn nests replies one level deep: an answer to a reply goes under the first comment of its thread",
)


def _time(ms: Any) -> datetime:
    value = as_int(ms)
    if value is None:
        raise ValueError("no time")
    return datetime.fromtimestamp(value / 1000, UTC)


def member_id(urn: str) -> str:
    """The id at the end of a member or organization URN ("urn:li:person:abc" -> "abc")."""
    return urn.rsplit(":", 1)[-1]


def comment_post(urn: str) -> str:
    """The activity a comment URN belongs to: "urn:li:comment:(urn:li:activity:1,2)" -> the activity."""
    if not urn.startswith("urn:li:comment:(") or not urn.endswith(")"):
        raise ValueError("not a comment URN")
    return urn[len("urn:li:comment:(") : -1].rsplit(",", 1)[0]


class LinkedInChannel(NamedChannel):
    """One organization page on LinkedIn, through a member token of one of its administrators."""

    kind = "linkedin"

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        organization: str,
        version: str,
        posts: int = 20,
        timeout: float = 20.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        token = token.strip()
        if not token:
            raise AuthError(f"no token for channel {name}: run `ecoinbox auth {name}`")
        if not organization:
            raise AuthError(
                f'channel {name} has no organization: set organization = "12345678" in the config'
            )
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.organization = organization
        self.version = version
        self.posts = posts
        self._clock = clock
        self._names: dict[str, str] = {}
        self._titles: dict[str, str] = {}  # post URN -> its first words, the comments' title
        self._people_refused = False
        self._http = HttpClient(
            name,
            self.base_url,
            auth_headers={"Authorization": f"Bearer {token}"},
            headers={"LinkedIn-Version": version, "X-Restli-Protocol-Version": "2.0.0"},
            timeout=timeout,
            clock=clock,
        )

    def set_token(self, token: str) -> bool:
        """Use a new token from now on (LinkedIn's last 60 days); False when empty or the one in use."""
        token = token.strip()
        if not token or not self._http.set_auth_headers({"Authorization": f"Bearer {token}"}):
            return False
        self._people_refused = False
        return True

    # -- requests ------------------------------------------------------------------------

    async def _call(self, method: str, path: str, **options: Any) -> HttpResponse:
        response = await self._http.request(method, path, check=False, **options)
        if response.status == 426:  # the asked version is no longer served
            raise PermanentError(
                f"channel {self.name}: LinkedIn no longer serves API version {self.version}: set "
                f'linkedin_version = "YYYYMM" to a month of the last year in the config'
            )
        if response.status == 403:
            said = platform_error(response.content)
            raise AuthError(
                f"channel {self.name}: LinkedIn refused {response.where} (403{': ' + said if said else ''}): "
                f"the token's member must administer organization {member_id(self.organization)} and the app "
                f"needs the Community Management API; run `ecoinbox auth {self.name}` with a new token",
                status=403,
            )
        self._http.raise_for_status(response)
        return response

    async def _get(self, path: str, params: dict[str, str | int] | None = None) -> dict[str, Any]:
        return as_dict((await self._call("GET", path, params=params)).json())

    # -- the protocol --------------------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        return Capabilities(reply=True, max_length=MAX_COMMENT, reconcile=True, safeguards=SAFEGUARDS)

    async def check(self) -> str:
        name = await self._organization_name()
        return f"the LinkedIn page {name} ({self.organization}), API version {self.version}"

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        posts = await self._posts()
        counts = await self._comment_counts([urn for urn, _ in posts])
        messages: list[Message] = []
        new_cursor: dict[str, str] = {}
        for urn, post in posts:
            self._titles[urn] = sanitize(str(post.get("commentary") or ""), single_line=True, max_chars=80)
            key = f"post:{urn}"
            mark = _mark(cursor.get(key))
            count = counts.get(urn)
            if count is not None and mark is not None and count == mark["count"]:
                new_cursor[key] = cursor[key]  # nothing new under it
                continue
            comments = await self._comments_of(urn)
            messages.extend(c for c in comments if mark is None or _is_new(c, mark))
            new_cursor[key] = json.dumps(_new_mark(comments, count, mark), separators=(",", ":"))
        messages.sort(key=lambda m: m.created_at)
        return PollResult(messages, new_cursor)

    async def context(self, remote_id: str) -> list[Message]:
        """Nothing to complete: a poll brings a reply with the comment it answers, the first
        time, and after it."""
        return []

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """A comment as the organization in `parent`'s thread (under its first-level comment)."""
        target, post = self._target(parent)
        body: dict[str, Any] = {"actor": self.organization, "object": post, "message": {"text": text}}
        if target != post:
            body["parentComment"] = target
        response = await self._call(
            "POST", f"/rest/socialActions/{quote(target, safe='')}/comments", json=body
        )
        described = as_dict(response.json()) if response.content.strip() else {}
        created = await self._comment_message(described, _parent(target), post) if described else None
        if created is None:  # made (201), but not described: read it back
            found = await self.find_sent(parent, text, "", self._clock() - RECONCILE_SLACK)
            if found is None:
                raise UncertainSend(
                    f"channel {self.name}: LinkedIn took the comment without describing it; it is "
                    "looked up again before anything is resent"
                )
            return found
        return created

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our comment with this text under `parent`'s thread, made since `since`."""
        if parent is None:
            return None  # LinkedIn channels open no topics
        target, post = self._target(parent)
        cutoff = since.replace(tzinfo=since.tzinfo or UTC) - RECONCILE_SLACK
        wanted = " ".join(text.split())
        for comment in await self._comments_under(target, _parent(target), post):
            if (comment.is_ours and comment.created_at >= cutoff
                    and " ".join(comment.text.split()) == wanted):  # fmt: skip
                return comment
        return None

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- reading -------------------------------------------------------------------------

    async def _posts(self) -> list[tuple[str, dict[str, Any]]]:
        data = await self._get("/rest/posts", {"q": "author", "author": self.organization, "count": self.posts,
                                               "sortBy": "LAST_MODIFIED"})  # fmt: skip
        found = []
        for item in objects(data.get("elements"))[: self.posts]:
            urn = item.get("id")
            if isinstance(urn, str) and urn.startswith("urn:li:"):
                found.append((urn, item))
            else:
                skipped_unreadable(log, self.name, "post", urn, ValueError("no id"))
        return found

    async def _comment_counts(self, urns: list[str]) -> dict[str, int]:
        """How many comments each post has now (socialMetadata, one batch request)."""
        if not urns:
            return {}
        listed = ",".join(quote(urn, safe="") for urn in urns)
        response = await self._call("GET", f"/rest/socialMetadata?ids=List({listed})")
        counts: dict[str, int] = {}
        for urn, meta in as_dict(as_dict(response.json()).get("results")).items():
            count = as_int(as_dict(as_dict(meta).get("commentSummary")).get("count"))
            if count is not None:
                counts[urn] = count
        return counts

    async def _comments_of(self, post: str) -> list[Message]:
        """Every comment of a post, replies to comments after the comment they answer."""
        found: list[Message] = []
        for comment, has_replies in await self._read_comments(post, None, post):
            found.append(comment)
            if has_replies:
                replies = await self._read_comments(comment.remote_id, comment.remote_id, post)
                found.extend(reply for reply, _ in replies)
        return found

    async def _comments_under(self, urn: str, parent: str | None, post: str) -> list[Message]:
        return [comment for comment, _ in await self._read_comments(urn, parent, post)]

    async def _read_comments(self, urn: str, parent: str | None, post: str) -> list[tuple[Message, bool]]:
        """The comments directly under `urn` (a post or a comment), paged, each with whether it
        has replies. `parent` is what they answer in ecoinbox's threads: None for a post's
        first-level comments (each opens a conversation, as a blog's comments do)."""
        read: list[tuple[Message, bool]] = []
        start = 0
        for _ in range(MAX_PAGES):
            data = await self._get(f"/rest/socialActions/{quote(urn, safe='')}/comments",
                                   {"start": start, "count": PAGE})  # fmt: skip
            elements = objects(data.get("elements"))
            for item in elements:
                message = await self._comment_message(item, parent, post)
                if message is not None:
                    summary = as_dict(item.get("commentsSummary"))
                    read.append((message, bool(as_int(summary.get("totalFirstLevelComments")))))
            total = as_int(as_dict(data.get("paging")).get("total"))
            start += len(elements)
            if not elements or (total is not None and start >= total):
                break
        return read

    async def _comment_message(self, item: dict[str, Any], parent: str | None, post: str) -> Message | None:
        try:
            urn = item.get("commentUrn") or item.get("$URN")
            if not isinstance(urn, str) or not urn.startswith("urn:li:comment:"):
                raise ValueError("no comment URN")
            actor = str(item["actor"])
            created = _time(as_dict(item.get("created")).get("time"))
            text, hidden = sanitize_and_flag(str(as_dict(item.get("message")).get("text") or ""))
            activity = comment_post(urn)
        except UNREADABLE as exc:
            skipped_unreadable(log, self.name, "comment", item.get("commentUrn"), exc)
            return None
        return Message(
            channel=self.name,
            remote_id=urn,
            author=await self._author(actor),
            text=text,
            created_at=created,
            in_reply_to=parent,
            url=f"{FEED_URL}{activity}/",
            origin=Origin.OURS if actor == self.organization else Origin.MENTION,
            hidden_characters=hidden,
            title=self._titles.get(post, ""),
            thread_ref=post,
        )

    async def _author(self, urn: str) -> Author:
        name = self._names.get(urn)
        if name is None:
            name = await self._lookup_name(urn)
            self._names[urn] = name
        return Author(self.name, urn, member_id(urn), sanitize_and_flag(name)[0].replace("\n", " "))

    async def _lookup_name(self, urn: str) -> str:
        """A member's or organization's name; LinkedIn gives members' names to few apps, so a
        refusal is remembered and the member shown as "LinkedIn member"."""
        if urn.startswith("urn:li:organization:"):
            return await self._organization_name(urn)
        if not urn.startswith("urn:li:person:") or self._people_refused:
            return "LinkedIn member"
        response = await self._http.request(
            "GET", f"/rest/people/(id:{quote(member_id(urn), safe='')})", check=False
        )
        if response.status in (401, 403, 404):
            self._people_refused = response.status != 404
            return "LinkedIn member"
        self._http.raise_for_status(response)
        data = as_dict(response.json())
        name = f"{data.get('localizedFirstName') or ''} {data.get('localizedLastName') or ''}".strip()
        return name or "LinkedIn member"

    async def _organization_name(self, urn: str | None = None) -> str:
        """An organization's name (ours: a refusal is an error; another's: its id then)."""
        ident = member_id(urn or self.organization)
        if urn is None or urn == self.organization:
            return str((await self._get(f"/rest/organizations/{ident}")).get("localizedName") or ident)
        response = await self._http.request("GET", f"/rest/organizations/{ident}", check=False)
        if response.status != 200:
            return f"organization {ident}"
        return str(as_dict(response.json()).get("localizedName") or f"organization {ident}")

    def _target(self, parent: Message) -> tuple[str, str]:
        """Where a reply to `parent` goes, and its post: a comment takes replies, and a reply's
        answer goes under its own first-level comment (LinkedIn nests one level)."""
        remote = parent.remote_id
        if not remote.startswith("urn:li:comment:"):
            return remote, remote
        post = parent.thread_ref or comment_post(remote)
        first = parent.in_reply_to if (parent.in_reply_to or "").startswith("urn:li:comment:") else remote
        return str(first), post


def _parent(target: str) -> str | None:
    """What a comment made under `target` answers in ecoinbox's threads."""
    return target if target.startswith("urn:li:comment:") else None


def _mark(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        mark = json.loads(raw)
        return {"count": int(mark["count"]), "at": int(mark["at"]), "ids": [str(i) for i in mark["ids"]]}
    except (ValueError, KeyError, TypeError):
        return None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _is_new(message: Message, mark: dict[str, Any]) -> bool:
    at = _ms(message.created_at)
    return at > mark["at"] or (at == mark["at"] and message.remote_id not in mark["ids"])


def _new_mark(comments: Iterable[Message], count: int | None, old: dict[str, Any] | None) -> dict[str, Any]:
    listed = list(comments)
    at = max((_ms(c.created_at) for c in listed), default=old["at"] if old else 0)
    ids = sorted(c.remote_id for c in listed if _ms(c.created_at) == at)
    return {"count": count if count is not None else len(listed), "at": at, "ids": ids}


__all__ = ["LinkedInChannel", "comment_post", "member_id"]
