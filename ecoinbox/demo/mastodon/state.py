"""What every part of the local Mastodon shares: its state (accounts, statuses, notifications,
tokens), the model that changes it, and how it renders statuses, accounts and notifications."""

from __future__ import annotations

import asyncio
import bisect
import html
import random
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoinbox.demo.loopback import (
    FixedWindow,
    LoopbackServer,
    iso_millis,
    json_text,
)
from ecoinbox.demo.mastodon import seed as seeding
from ecoinbox.demo.mastodon.records import (
    Account,
    App,
    Grant,
    Notification,
    PostedStatus,
    Snowflakes,
    Status,
    by_id,
)
from ecoinbox.demo.mastodon.text import (
    TOKENS,
    URL_TRAILING,
    escape_html,
    link_html,
    mention_html,
    tags_in,
)

Clock = Callable[[], datetime]
VERSION = "4.3.2"
HEARTBEAT_S = 15.0  # Mastodon's streaming server writes ":thump" this often on an idle stream
ALL_SCOPES = "read write follow push"
"""What a token made by hand under Preferences > Development may carry (the server's own token)."""


class MastodonState(LoopbackServer):
    def __init__(
        self,
        *,
        brand: str = "acme",
        domain: str = "social.example",
        seed: int | None = 1,
        token: str = "demo-token",
        max_characters: int = 500,
        now: Clock | None = None,
        rate_limit: int = 300,
        rate_window: float = 300.0,
        stand_in_parents: bool = False,
        honours_idempotency_key: bool = True,
        page_cap: int = 80,
        bad_token_status: int = 401,
        bad_token_body: str = "The access token is invalid",
        drop_answer_after_post: int = 0,
        post_answer_delay: float = 0.0,
        full_text_search: bool = True,
        version: str = VERSION,
        source_url: str = "https://github.com/mastodon/mastodon",
        streaming: bool = True,
        drop_stream_after: int = 0,
        heartbeat: float = HEARTBEAT_S,
        streaming_url: str | None = None,
        checks_scopes: bool = True,
    ) -> None:
        super().__init__()
        self.streaming = streaming
        self.drop_stream_after = drop_stream_after
        self.heartbeat = heartbeat
        self.streaming_url = streaming_url
        self.streamed: list[str] = []  # the events pushed, in order, as "event: ..." (all streams)
        self.heartbeats = 0  # ":thump"s written, on all streams
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = []
        self.checks_scopes = checks_scopes
        """Refuse (403) a request the token's scopes do not cover, as Mastodon does."""
        self.token_scopes = frozenset(ALL_SCOPES.split())
        """The scopes of the accepted token: all for the one given here, the granted ones once
        `/oauth/token` issues it."""
        self.refused_scopes: list[tuple[str, str]] = []
        """(method, route) of each request refused for its token's scopes."""
        self.stand_in_parents = stand_in_parents
        self.honours_idempotency_key = honours_idempotency_key
        self.page_cap = page_cap
        self.bad_token_status = bad_token_status
        self.bad_token_body = bad_token_body
        self.drop_answer_after_post = drop_answer_after_post
        self.post_answer_delay = post_answer_delay
        self.full_text_search = full_text_search
        self.version = version
        self.source_url = source_url
        self._blocked_by: set[str] = set()  # ids of the accounts that block the brand
        self.brand = brand
        self.domain = domain
        self.max_characters = max_characters
        self.posted: list[PostedStatus] = []
        self._token = token
        self._clock: Clock = now or (lambda: datetime.now(UTC))
        self._ids = Snowflakes()
        self._limits = FixedWindow(rate_limit, rate_window)
        self._accounts: dict[str, Account] = {}  # by acct
        self._statuses: dict[str, Status] = {}
        self._notifications: list[Notification] = []  # ascending id
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._apps: dict[str, App] = {}  # by client_id
        self._grants: dict[str, Grant] = {}  # by authorization code
        self._tick_rng = random.Random(f"tick-{seed if seed is not None else 0}")
        start = self._now()
        self._brand = self._add_account(
            brand, domain, f"{brand.capitalize()} Support", start - timedelta(days=1200)
        )
        self._brand.note = (
            f"<p>Official {brand.capitalize()} support. We answer Mon–Fri, 9–18 CET. "
            f"Orders &amp; refunds: DM us.</p>"
        )
        if seed is not None:
            seeding.seed_day(self, random.Random(seed), start)

    def add_status(
        self,
        *,
        author: str,
        text: str,
        in_reply_to_id: str | None = None,
        visibility: str = "public",
        language: str | None = "en",
        mention_brand: bool = True,
        hashtags: Sequence[str] = (),
        filtered: bool = False,
        display_name: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        spoiler_text: str = "",
    ) -> dict[str, Any]:
        """Publish a status as `author` ("zoe@remote.example", "@zoe@remote.example" or a local
        "sam") and return its JSON.

        `mention_brand` prepends "@brand" unless the text already mentions it; `hashtags` are
        appended as "#tag" unless present. The brand gets a mention notification when it is
        mentioned or the status replies to one of its own; `filtered` marks that notification
        as held by the 4.3 notification policy (listed only with `include_filtered=true`).
        `html` replaces the rendered content (for hostile or broken remote HTML).
        Raises KeyError when `in_reply_to_id` is unknown.
        """
        at = self._aware(created_at) if created_at is not None else self._now()
        account = self._account_for(author, display_name, at)
        parent = self._statuses.get(in_reply_to_id) if in_reply_to_id else None
        if in_reply_to_id and parent is None:
            raise KeyError(f"no status {in_reply_to_id}")
        brand_mentioned = self._brand in self._mentioned(text)
        if mention_brand and account is not self._brand and not brand_mentioned:
            text = f"@{self.brand} {text}"
        missing = [tag for tag in hashtags if tag.lower() not in tags_in(text)]
        if missing:
            text = text + " " + " ".join(f"#{tag}" for tag in missing)
        status = self._create_status(
            account,
            text,
            at,
            parent=parent,
            visibility=visibility,
            language=language,
            spoiler_text=spoiler_text,
            content=html,
        )
        self._notify_brand(status, filtered=filtered)
        return self._status_json(status)

    def _push(self, notification: Notification) -> None:
        """Send a notification to every open stream (from any thread: tests post from theirs)."""
        frame = f"event: notification\ndata: {json_text(self._notification_json(notification))}\n\n"
        for loop, queue in list(self._subscribers):
            loop.call_soon_threadsafe(queue.put_nowait, frame)

    # -- the model ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._aware(self._clock())

    @staticmethod
    def _aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _add_account(self, username: str, host: str, display_name: str, at: datetime) -> Account:
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        account = Account(
            id=self._ids.next(midnight),
            username=username,
            host=host,
            local=host == self.domain,
            display_name=display_name,
            note="",
            created_at=midnight,
        )
        self._accounts[account.acct] = account
        return account

    def add_profile_link(self, handle: str, name: str, url: str, *, verified: bool = True) -> None:
        """A profile field linking to `url`; `verified` as Mastodon marks a link whose page links
        back to the profile (rel="me")."""
        account = self._account_for(handle, None, self._now())
        link = html.escape(url)
        value = f'<a href="{link}" target="_blank" rel="nofollow noopener me">{link}</a>'
        verified_at = iso_millis(self._now()) if verified else None
        account.fields.append({"name": name, "value": value, "verified_at": verified_at})

    def _account_for(self, handle: str, display_name: str | None, at: datetime) -> Account:
        username, _, host = handle.lstrip("@").partition("@")
        host = host or self.domain
        acct = username if host == self.domain else f"{username}@{host}"
        account = self._accounts.get(acct)
        if account is None:
            return self._add_account(username, host, display_name or username, at)
        if display_name is not None:
            account.display_name = display_name
        return account

    def _resolve_mention(self, username: str, host: str | None) -> Account | None:
        """A local @name must exist; a remote @name@host is assumed to resolve (WebFinger)."""
        if host is None or host.lower() == self.domain:
            return self._accounts.get(username)
        return self._accounts.get(f"{username}@{host}") or self._add_account(
            username, host, username, self._now()
        )

    def _mentioned(self, text: str) -> list[Account]:
        found: list[Account] = []
        for match in TOKENS.finditer(text):
            if match["user"]:
                account = self._resolve_mention(match["user"], match["host"])
                if account is not None and account not in found:
                    found.append(account)
        return found

    def _create_status(
        self,
        account: Account,
        text: str,
        at: datetime,
        *,
        parent: Status | None,
        visibility: str,
        language: str | None,
        spoiler_text: str = "",
        content: str | None = None,
    ) -> Status:
        status = Status(
            id=self._ids.next(at),
            account=account,
            text=text,
            content=content if content is not None else self._render(text),
            created_at=at,
            parent=parent,
            visibility=visibility,
            language=language,
            spoiler_text=spoiler_text,
            mentions=self._mentioned(text),
            tags=sorted(tags_in(text)),
        )
        self._statuses[status.id] = status
        if parent is not None:
            parent.replies.append(status)
        account.statuses_count += 1
        account.last_status_at = max(at, account.last_status_at or at)
        return status

    def _stand_in(self, status_id: str, now: datetime) -> Status:
        """A status with this id that no timeline, search or notification shows: what a reply
        to a conversation of a generated store answers (its posts were never on this server)."""
        account = self._account_for("someone@generated.example", "Someone", now)
        status = Status(id=status_id, account=account, text="", content="", created_at=now,
                         parent=None, visibility="direct", language=None, spoiler_text="",
                         mentions=[], tags=[])  # fmt: skip
        self._statuses[status_id] = status
        return status

    def _notify_brand(self, status: Status, *, filtered: bool) -> None:
        """A mention of the brand, or a reply to it, by anyone but the brand itself."""
        if status.account is self._brand:
            return
        replies_to_brand = status.parent is not None and status.parent.account is self._brand
        if self._brand in status.mentions or replies_to_brand:
            at = status.created_at
            notification = Notification(self._ids.next(at), at, status.account, status, filtered)
            bisect.insort(self._notifications, notification, key=by_id)
            if not filtered:
                self._push(notification)

    def _awaiting_customer(self) -> list[seeding.OpenReply]:
        """Brand replies to someone that nobody has answered yet: where a customer may come back."""
        waiting = sorted(
            (
                s
                for s in self._statuses.values()
                if s.account is self._brand
                and not s.replies
                and s.parent is not None
                and s.parent.account is not self._brand
            ),
            key=by_id,
        )
        return [
            seeding.OpenReply(s.id, s.parent.account.acct, s.language)
            for s in waiting
            if s.parent is not None
        ]

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, text: str) -> str:
        """Plain text to Mastodon's HTML: paragraphs, <br />, linked mentions, hashtags and URLs."""
        paragraphs = re.split(r"\n{2,}", text.replace("\r\n", "\n").strip("\n"))
        return "".join(
            "<p>" + "<br />".join(self._render_line(line) for line in p.split("\n")) + "</p>"
            for p in paragraphs
        )

    def _render_line(self, line: str) -> str:
        out: list[str] = []
        position = 0
        for match in TOKENS.finditer(line):
            start, end = match.span()
            out.append(escape_html(line[position:start]))
            position = end
            if match["url"]:
                url = match["url"].rstrip(URL_TRAILING)
                position = start + len(url)
                out.append(link_html(url))
            elif match["tag"]:
                name = match["tag"]
                out.append(
                    f'<a href="https://{self.domain}/tags/{escape_html(name.lower())}" '
                    f'class="mention hashtag" rel="tag">#<span>{escape_html(name)}</span></a>'
                )
            else:
                account = self._resolve_mention(match["user"], match["host"])
                out.append(escape_html(match[0]) if account is None else mention_html(account))
        out.append(escape_html(line[position:]))
        return "".join(out)

    def _account_json(self, account: Account) -> dict[str, Any]:
        avatar = f"https://{account.host}/avatars/{account.username}.png"
        last_status_at = account.last_status_at
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.acct,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": iso_millis(account.created_at),
            "note": account.note,
            "url": account.url,
            "uri": f"https://{account.host}/users/{account.username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": account.statuses_count,
            "last_status_at": last_status_at.date().isoformat() if last_status_at else None,
            "emojis": [],
            "fields": list(account.fields),
        }

    def _status_json(self, status: Status) -> dict[str, Any]:
        account = status.account
        parent = status.parent
        return {
            "id": status.id,
            "created_at": iso_millis(status.created_at),
            "in_reply_to_id": parent.id if parent else None,
            "in_reply_to_account_id": parent.account.id if parent else None,
            "sensitive": bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"https://{account.host}/users/{account.username}/statuses/{status.id}",
            "url": f"{account.url}/{status.id}",
            "replies_count": len(status.replies),
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": iso_millis(status.edited_at) if status.edited_at else None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": status.content,
            "filtered": [],
            "reblog": None,
            "account": self._account_json(account),
            "media_attachments": [],
            "mentions": [
                {"id": m.id, "username": m.username, "url": m.url, "acct": m.acct} for m in status.mentions
            ],
            "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _notification_json(self, notification: Notification) -> dict[str, Any]:
        return {
            "id": notification.id,
            "type": notification.type,
            "created_at": iso_millis(notification.created_at),
            "group_key": f"ungrouped-{notification.id}",
            "account": self._account_json(notification.account),
            "status": self._status_json(notification.status),
        }
