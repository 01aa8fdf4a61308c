"""The Discourse channel: the brand's forum, as a source and as the redirect target.

Listens on the brand account's notifications (mentions, replies, quotes, private messages, new
posts in watched topics) and, when keywords or categories are configured, on the site-wide feed
of new posts; reads whole topics; replies with `reply_to_post_number`; opens new topics.

Every post of a topic lands in one conversation rooted at the topic's first post: a post's
`in_reply_to` is the post it answers (`reply_to_post_number`) when that post is known, else the
first post. Polls are budget-aware, since a user API key allows 20 requests a minute: a steady
poll with nothing new costs two requests (notifications, latest posts), a poll never makes more
than `POLL_BUDGET` requests, and what it could not read waits in the cursor for the next one.

With `stream` (the default), MessageBus wakes the poll as soon as a notification arrives (see
`ecoinbox.channels.discourse_bus`); the poll stays the one way posts come in.

Discourse has no idempotency key, and staff are exempt from its duplicate-body check: an
uncertain send is reconciled by reading the topic (`find_sent`), never by posting again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
    UncertainSend,
)
from ecoinbox.channels.discourse.posts import (
    POST_URL,
    answers_post,
    aware_utc,
    collapse,
    error_words,
    flag_verdict,
    fold,
    id_key,
    is_own,
    keep,
    keyword_pattern,
    loose,
    max_or_none,
    notified_post_id,
    positive,
    post_edited_at,
    post_id_of,
    post_locale,
    required_int,
    slug_of,
    wanted_notification,
    with_parent,
)
from ecoinbox.channels.discourse_bus import NotificationBus
from ecoinbox.channels.http import (
    HttpClient,
    HttpResponse,
    channel_logger,
    one_line,
)
from ecoinbox.channels.json_values import as_dict, as_int, as_list, aware_time, json_or_none, objects
from ecoinbox.model import Author, Message, Origin

log = channel_logger(__name__)

AUTH_MODES = ("user_api_key", "api_key")
"""Size of the RSA key pair of the User API Key flow (the pasted block is one RSA block)."""

DEFAULT_MAX_LENGTH = 32_000  # max_post_length
TOPIC_CHUNK = 20  # posts in a topic's first chunk, and per /t/{id}/posts.json request
NOTIFICATIONS_PAGE = 60  # the API's page size (INDEX_LIMIT)
MAX_NOTIFICATION_PAGES = 10  # per poll; a longer backlog resumes on the next poll, without a gap
MAX_POST_PAGES = 5  # of /posts.json (50 posts each) per poll, same
# Requests one poll may make: a user API key allows 20 a minute, an admin key 60.
POLL_BUDGET = {"user_api_key": 12, "api_key": 40}
MAX_CONTEXT_POSTS = 400  # of a huge topic, `context` reads the first chunk and the newest ones
MAX_RECONCILE_CHUNKS = 10  # how far back `find_sent` reads before it says "cannot tell yet"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECONCILE_SLACK = timedelta(minutes=1)  # our clock and the forum's may disagree
TOPIC_CACHE = 1024
POST_CACHE = 8192
MAX_CHAIN = 200  # reply chains followed at most this deep (hostile data can loop)

SAFEGUARDS = (
    (
        "no idempotency key (staff are not even checked for duplicates): an uncertain reply or topic "
        "is read back from the topic or the latest posts before any resend"
    ),
    (
        "a member account may not post the same words twice within minutes (422, any topic): a refused "
        "resend found in the topic counts as sent; otherwise the refusal says to change the words or wait"
    ),
    "a 429 may give its wait only in the body: ecoinbox waits extras.wait_seconds, not a guess",
    (
        "posts withdrawn or deleted show as deleted when their topic is read again (a member "
        "account no longer sees posts staff deleted)"
    ),
)

SMALL_ACTION = 3  # post_type of "closed this topic" and the like: not a message

NOTIFICATIONS_KEY = "notifications"
POSTS_KEY = "posts"
WALK_SUFFIX = "_walk"


class _Refused(PermanentError):
    """The forum refused a post with a 422: for good, unless it is already there."""


class _OutOfBudget(Exception):
    """This poll has spent its requests: stop here, the cursor keeps the rest."""


class _Budget:
    """How many requests one poll may still make."""

    def __init__(self, requests: int | None) -> None:
        self.left = requests

    def take(self) -> None:
        if self.left is None:
            return
        if self.left <= 0:
            raise _OutOfBudget
        self.left -= 1


# Outside a poll (check, context, reply, reconcile) requests are not counted.
_UNBUDGETED = _Budget(None)


# ---------------------------------------------------------------------------------------------
# Topics as the channel knows them


@dataclass(slots=True)
class _TopicInfo:
    """What the channel remembers of a topic: enough to name, link and thread its posts."""

    id: int
    title: str = ""
    slug: str = "topic"
    private: bool = False
    first_post_id: int | None = None
    numbers: dict[int, int] = field(default_factory=dict)  # post_number -> post id


@dataclass(slots=True)
class _Topic:
    """A topic read from /t/{id}.json: its post stream and the posts loaded so far."""

    info: _TopicInfo
    stream: list[int]
    posts: dict[int, dict[str, Any]]  # post id -> post JSON

    def by_number(self, number: int) -> dict[str, Any] | None:
        post_id = self.info.numbers.get(number)
        return self.posts.get(post_id) if post_id is not None else None


# ---------------------------------------------------------------------------------------------
# Cursors: a newest-first walk that may span several polls


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a newest-first source stands.

    Everything at or below `floor` is done. A walk that a page or request limit cut short is
    resumed at `token` (an offset, or a `before` id) for the ids under `below`; once it reaches
    the floor, `ceiling` (the newest id the walk had covered) becomes the floor.
    """

    floor: int | None
    ceiling: int | None = None
    below: int | None = None
    token: int | None = None

    @property
    def resuming(self) -> bool:
        return self.below is not None and self.ceiling is not None

    @classmethod
    def load(cls, cursor: Mapping[str, str], key: str) -> _Position:
        floor = as_int(cursor.get(key))
        walk = (cursor.get(key + WALK_SUFFIX) or "").split(":")
        if floor is None or len(walk) != 3:
            return cls(floor)
        ceiling, below, token = (as_int(part) for part in walk)
        if ceiling is None or below is None:
            return cls(floor)
        return cls(floor, ceiling, below, token)

    def store(self, cursor: dict[str, str], key: str) -> None:
        if self.floor is None:
            cursor.pop(key, None)
        else:
            cursor[key] = str(self.floor)
        if self.resuming:
            cursor[key + WALK_SUFFIX] = f"{self.ceiling}:{self.below}:{self.token or ''}"
        else:
            cursor.pop(key + WALK_SUFFIX, None)


@dataclass(frozen=True, slots=True)
class _Page:
    items: list[dict[str, Any]]
    next_token: int | None
    end: bool  # nothing older exists


@dataclass(slots=True)
class _Walked:
    items: dict[int, dict[str, Any]]  # id -> item, newer than the floor and not yet done
    top: int | None  # the newest id seen
    reached: bool  # the walk got down to the floor (or to the end)
    next_token: int | None
    pages: int


@dataclass(frozen=True, slots=True)
class _Source:
    """One thing the channel listens on: its cursor key, how to read a page, how to use items."""

    key: str
    max_pages: int
    page: Callable[[int | None, _Budget], Awaitable[_Page]]
    process: Callable[
        [list[dict[str, Any]], _Budget, dict[str, Message]],
        Awaitable[tuple[set[int], ChannelError | None]],
    ]


def _advance(position: _Position, walked: _Walked, done: set[int]) -> _Position:
    """The position after a walk: past every item done, and never past one that is not."""
    if walked.pages == 0:
        return position
    ids = sorted(walked.items)
    upto: int | None = None
    for item_id in ids:
        if item_id not in done:
            break
        upto = item_id
    all_done = upto == (ids[-1] if ids else None)
    if walked.reached:
        if not all_done:  # the rest is read again from the top next time
            return _Position(max_or_none(position.floor, upto))
        if position.resuming:
            return _Position(position.ceiling)
        return _Position(max_or_none(position.floor, walked.top))
    lowest = ids[0] if ids else position.below
    if lowest is None:
        return position
    if all_done:
        ceiling = position.ceiling if position.resuming else walked.top
        return _Position(position.floor, ceiling, lowest, walked.next_token)
    if upto is None:
        return position
    return _Position(position.floor, upto, lowest, walked.next_token)


# ---------------------------------------------------------------------------------------------
# The channel


class DiscourseChannel(NamedChannel):
    """The brand's account on a Discourse forum.

    `auth="user_api_key"` sends `User-Api-Key: token` (the key `ecoinbox auth` obtains);
    `auth="api_key"` sends an admin key as `Api-Key` with `Api-Username: username`. `keywords`
    and `categories` (slugs, names or ids) turn on listening to the site-wide feed of new posts.
    `poll` cursors are a dict of sub-cursors: "notifications" (highest notification id done)
    and "posts" (highest post id done), each with an optional "<key>_walk" while a long
    backlog is read over several polls. The token lives only in the HTTP client's auth header:
    never in `repr`, `str` or an error.
    """

    kind = "discourse"

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        username: str | None = None,
        auth: str = "user_api_key",
        keywords: Sequence[str] = (),
        categories: Sequence[str] = (),
        timeout: float = 20.0,
        stream: bool = True,
    ) -> None:
        token = token.strip()  # a token_cmd's trailing newline is not part of it
        if not token:
            raise AuthError(f"no token for channel {name}: run `ecoinbox auth {name}`")
        if auth not in AUTH_MODES:
            raise PermanentError(
                f"channel {name}: unknown auth {auth!r} (use one of: {', '.join(AUTH_MODES)})"
            )
        username = username.strip().lstrip("@") if username else None
        if auth == "api_key" and not username:
            raise AuthError(f"channel {name}: an admin API key needs the username to act as (account)")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.auth = auth
        self.keywords = tuple(word.strip() for word in keywords if word.strip())
        self.categories = tuple(str(c).strip() for c in categories if str(c).strip())
        # The admin key's Api-Username is not a secret: a plain header, kept out of redaction.
        headers = {"Api-Username": username or ""} if auth == "api_key" else {}
        self._http = HttpClient(
            name, self.base_url, auth_headers=self._auth_headers(token), headers=headers, timeout=timeout
        )
        self._patterns = tuple(keyword_pattern(word) for word in self.keywords)
        self._me: dict[str, Any] | None = None
        self._max_length: int | None = None
        self._category_ids: dict[str, int] | None = None  # slug, folded name, id -> id
        self._topics: OrderedDict[int, _TopicInfo] = OrderedDict()
        self._post_topics: OrderedDict[int, tuple[int, int]] = OrderedDict()  # -> topic, number
        self.stream = stream
        self.notification_bus = NotificationBus(name, self._http, self._own_user_id)

    async def aclose(self) -> None:
        """Close the channel's HTTP client."""
        await self._http.aclose()

    def _auth_headers(self, token: str) -> dict[str, str]:
        return {"Api-Key": token} if self.auth == "api_key" else {"User-Api-Key": token}

    def set_token(self, token: str) -> bool:
        """Use a renewed key from now on; False when it is empty or the one in use."""
        token = token.strip()
        if not token or not self._http.set_auth_headers(self._auth_headers(token)):
            return False
        self._me = None  # the new key may act as another account: ask again
        return True

    # -- the forum and the account -------------------------------------------------------

    async def capabilities(self) -> Capabilities:
        """Replies and new topics always; search when keywords are set; the length limit from
        /site.json when the forum exposes it (asked once), else Discourse's default."""
        if self._max_length is None:
            await self._load_max_length()
        return Capabilities(
            reply=True,
            search=bool(self.keywords),
            stream=self.stream,
            max_length=self._max_length or DEFAULT_MAX_LENGTH,
            length_counting="characters",
            idempotency_window=None,
            topics=True,
            reconcile=True,
            safeguards=SAFEGUARDS,
        )

    async def _load_max_length(self) -> None:
        try:
            site = as_dict(await self._http.get_json("/site.json"))
        except AuthError:
            raise
        except PermanentError:
            self._max_length = DEFAULT_MAX_LENGTH
            return
        except TransientError as exc:  # try again next time; the default will do meanwhile
            log.info("channel %s: length limit not known yet: %s", self.name, exc)
            return
        settings = as_dict(site.get("site_settings"))
        self._max_length = (
            positive(site.get("max_post_length"), settings.get("max_post_length")) or DEFAULT_MAX_LENGTH
        )

    async def check(self) -> str:
        """Verify the key; return "@username on host (Discourse, staff)"."""
        self._me = None  # ask now: the key may have been revoked since
        me = await self._session(_UNBUDGETED)
        username = str(me["username"])
        if self.username and self.username.casefold() != username.casefold():
            raise PermanentError(
                f"the key for channel {self.name} belongs to @{one_line(username)}, "
                f"not @{one_line(self.username)}: run `ecoinbox auth {self.name}`"
            )
        staff = any(me.get(flag) is True for flag in ("staff", "admin", "moderator"))
        level = me.get("trust_level")
        role = "staff" if staff else f"trust level {level}" if isinstance(level, int) else "member"
        said = f"@{one_line(username)} on {self.host} (Discourse, {role})"
        if not staff:
            said += (
                "\nthe account is not staff: the forum refuses the same words from it twice within "
                "minutes (in any topic), and posts staff delete vanish from what it reads"
            )
        return said

    async def _session(self, budget: _Budget) -> dict[str, Any]:
        if self._me is None:
            budget.take()
            response = await self._http.request("GET", "/session/current.json", check=False)
            if response.status == 404:  # Discourse: no user behind these credentials
                raise AuthError(
                    f"channel {self.name}: {self.host} does not know the account behind this "
                    f"key: run `ecoinbox auth {self.name}`"
                )
            self._http.raise_for_status(response)
            me = as_dict(as_dict(response.json()).get("current_user"))
            if not isinstance(me.get("username"), str) or not me["username"]:
                raise TransientError(f"channel {self.name}: malformed response from {response.where}")
            self._me = me
        return self._me

    async def _brand(self, budget: _Budget) -> str:
        """The brand's username: configured for an admin key, asked once for a user key."""
        if self.auth == "api_key" and self.username:
            return self.username
        return str((await self._session(budget))["username"])

    # -- polling -------------------------------------------------------------------------

    async def poll(self, cursor: dict[str, str]) -> PollResult:
        """New notifications, then keyword and category hits in the latest posts, oldest first.

        A source that fails keeps its own cursor; if nothing was collected, the first error is
        raised. A source cut short by the request budget resumes there on the next poll.
        """
        budget = _Budget(POLL_BUDGET[self.auth])
        await self._brand(budget)
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        first_error: ChannelError | None = None
        for source in self._sources():
            position = _Position.load(cursor, source.key)
            try:
                walked = await self._walk(source, position, budget)
            except AuthError:
                raise
            except ChannelError as exc:
                first_error = first_error or exc
                if isinstance(exc, TransientError):
                    break
                log.warning("channel %s: %s skipped this poll: %s", self.name, source.key, exc)
                continue
            ascending = [walked.items[item_id] for item_id in sorted(walked.items)]
            done, error = await source.process(ascending, budget, found)
            _advance(position, walked, done).store(next_cursor, source.key)
            if error is not None:
                first_error = first_error or error
                break
        if first_error is not None and not found and next_cursor == cursor:
            raise first_error
        if first_error is not None:
            log.warning("channel %s: poll stopped early: %s", self.name, first_error)
        messages = sorted(found.values(), key=lambda m: (m.created_at, id_key(m.remote_id)))
        self.notification_bus.token_accepted()  # MessageBus may subscribe with it
        return PollResult(messages=messages, cursor=next_cursor)

    async def watch(self, wake: Callable[[], None]) -> None:
        """Until cancelled, wake the poll as soon as MessageBus says a notification arrived
        (see `ecoinbox.channels.discourse_bus`). Returns at once with `stream = false`."""
        if self.stream:
            await self.notification_bus.run(wake)

    async def _own_user_id(self) -> int:
        user_id = as_int((await self._session(_Budget(None))).get("id"))
        if user_id is None:
            raise TransientError(f"channel {self.name}: {self.host} did not say which user we are")
        return user_id

    def _sources(self) -> list[_Source]:
        sources = [
            _Source(
                NOTIFICATIONS_KEY,
                MAX_NOTIFICATION_PAGES,
                self._notifications_page,
                self._take_notifications,
            )
        ]
        if self.keywords or self.categories:
            sources.append(_Source(POSTS_KEY, MAX_POST_PAGES, self._latest_posts_page, self._take_posts))
        return sources

    async def _walk(self, source: _Source, position: _Position, budget: _Budget) -> _Walked:
        """Read pages newest first down to the floor (a first run reads one page)."""
        first_run = position.floor is None
        walked = _Walked({}, None, first_run, position.token if position.resuming else None, 0)
        while walked.pages < (1 if first_run else source.max_pages):
            try:
                page = await source.page(walked.next_token, budget)
            except _OutOfBudget:
                break
            walked.pages += 1
            for item in page.items:
                item_id = as_int(item.get("id"))
                if item_id is None:
                    continue
                walked.top = max_or_none(walked.top, item_id)
                if position.floor is not None and item_id <= position.floor:
                    walked.reached = True
                elif not (position.resuming and item_id >= (position.below or 0)):
                    walked.items[item_id] = item
            walked.next_token = page.next_token
            if page.end:
                walked.reached = True
            if walked.reached:
                break
        return walked

    # -- notifications -------------------------------------------------------------------

    async def _notifications_page(self, offset: int | None, budget: _Budget) -> _Page:
        offset = offset or 0
        params = {"offset": str(offset)} if offset else None
        budget.take()
        response = await self._http.request("GET", "/notifications.json", params=params)
        data = as_dict(response.json())
        items = data.get("notifications")
        if not isinstance(items, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        notifications = objects(items)
        total = as_int(data.get("total_rows_notifications"))
        end = len(items) < NOTIFICATIONS_PAGE or (total is not None and offset + len(items) >= total)
        return _Page(notifications, offset + len(items), end)

    async def _take_notifications(
        self, items: list[dict[str, Any]], budget: _Budget, found: dict[str, Message]
    ) -> tuple[set[int], ChannelError | None]:
        """Turn notifications into messages strictly oldest first (so the cursor can stop at
        any of them), reading each topic once and its notified posts in one batch."""
        done: set[int] = set()
        brand = await self._brand(budget)
        loaded: dict[int, _Topic] = {}
        for notification in items:
            notification_id = int(notification["id"])
            if wanted_notification(notification):
                try:
                    await self._notified_post(notification, items, loaded, budget, found, brand)
                except _OutOfBudget:
                    break
                except AuthError as exc:
                    return done, exc
                except PermanentError as exc:  # the topic is gone or hidden: nothing to answer
                    log.info("channel %s: skipped notification %s: %s", self.name, notification_id, exc)
                except TransientError as exc:
                    return done, exc
            done.add(notification_id)
        return done, None

    async def _notified_post(
        self,
        notification: dict[str, Any],
        items: list[dict[str, Any]],
        loaded: dict[int, _Topic],
        budget: _Budget,
        found: dict[str, Message],
        brand: str,
    ) -> None:
        topic_id = int(notification["topic_id"])
        topic = loaded.get(topic_id)
        if topic is None:
            topic = await self._load_topic(topic_id, budget)
            loaded[topic_id] = topic
            batch = [notified_post_id(n) for n in items if as_int(n.get("topic_id")) == topic_id]
            await self._load_posts(topic, [i for i in batch if i in topic.stream], budget)
        number = int(notification["post_number"])
        post = topic.posts.get(notified_post_id(notification) or -1) or topic.by_number(number)
        if post is None:
            await self._load_numbers(topic, [number], budget)
            post = topic.by_number(number)
        if post is None:
            log.info("channel %s: post %s of topic %s is gone", self.name, number, topic_id)
            return
        replying_to = as_int(post.get("reply_to_post_number"))
        if replying_to is not None and topic.by_number(replying_to) is None:
            try:  # the parent is a bonus: it saves the engine a context fetch
                await self._load_numbers(topic, [replying_to], budget)
            except _OutOfBudget:
                pass
        message = self._convert(post, topic.info, Origin.MENTION, brand)
        if message is not None:
            keep(found, message)
            self._keep_ancestors(found, message, topic.posts, topic.info, brand)

    # -- listening: the latest posts -----------------------------------------------------

    async def _latest_posts_page(self, before: int | None, budget: _Budget) -> _Page:
        params = {"before": str(before)} if before else None
        budget.take()
        response = await self._http.request("GET", "/posts.json", params=params)
        items = as_dict(response.json()).get("latest_posts")
        if not isinstance(items, list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        posts = objects(items)
        ids = [i for i in (as_int(p.get("id")) for p in posts) if i is not None]
        lowest = min(ids) if ids else None
        end = lowest is None or (before is not None and lowest >= before)
        return _Page(posts, lowest, end)

    async def _take_posts(
        self, items: list[dict[str, Any]], budget: _Budget, found: dict[str, Message]
    ) -> tuple[set[int], ChannelError | None]:
        """Keep the posts (oldest first) that match a keyword or a listened category."""
        done: set[int] = set()
        try:
            categories = await self._listened_categories(budget)
            brand = await self._brand(budget)
        except _OutOfBudget:
            return done, None
        except ChannelError as exc:
            return done, exc
        for post in items:
            self._remember(post)
        held = {int(p["id"]): p for p in items}
        loaded: dict[int, _Topic] = {}
        for post in items:
            post_id = int(post["id"])
            if self._matches(post, categories):
                try:
                    info = await self._info_for(post, budget, loaded)
                except _OutOfBudget:
                    break
                except AuthError as exc:
                    return done, exc
                except PermanentError as exc:
                    log.info("channel %s: skipped post %s: %s", self.name, post_id, exc)
                    info = None
                except TransientError as exc:
                    return done, exc
                message = self._convert(post, info, Origin.SEARCH, brand) if info else None
                if message is not None and info is not None:
                    keep(found, message)
                    topic = loaded.get(info.id)
                    chain = {**held, **(topic.posts if topic else {})}
                    self._keep_ancestors(found, message, chain, info, brand)
            done.add(post_id)
        return done, None

    def _matches(self, post: dict[str, Any], categories: frozenset[int]) -> bool:
        if post.get("post_type") == SMALL_ACTION:
            return False
        if categories and as_int(post.get("category_id")) in categories:
            return True
        if not self._patterns:
            return False
        from ecoinbox.htmltext import html_to_text  # imported on first use

        text = html_to_text(str(post.get("cooked") or "")).text
        if as_int(post.get("post_number")) == 1:
            text = f"{post.get('topic_title') or ''}\n{text}"
        folded = fold(text)
        return any(pattern.search(folded) for pattern in self._patterns)

    async def _info_for(self, post: dict[str, Any], budget: _Budget, loaded: dict[int, _Topic]) -> _TopicInfo:
        """What threading this post needs: its topic's first post (read once if unknown)."""
        topic_id = as_int(post.get("topic_id"))
        if topic_id is None:
            raise PermanentError(f"channel {self.name}: a post without a topic")
        info = self._topics.get(topic_id)
        if topic_id in loaded:
            return loaded[topic_id].info
        if info is not None and info.first_post_id is not None:
            return info
        topic = loaded[topic_id] = await self._load_topic(topic_id, budget)
        return topic.info

    async def _listened_categories(self, budget: _Budget) -> frozenset[int]:
        if not self.categories:
            return frozenset()
        known = await self._category_table(budget)
        ids = set()
        for wanted in self.categories:
            category_id = known.get(fold(wanted))
            if category_id is None:
                log.warning("channel %s: no category %r on the forum", self.name, one_line(wanted))
            else:
                ids.add(category_id)
        return frozenset(ids)

    # -- topics ----------------------------------------------------------------------------

    async def _load_topic(self, topic_id: int, budget: _Budget) -> _Topic:
        """One /t/{id}.json: the first chunk of posts and the ids of all of them."""
        budget.take()
        response = await self._http.request("GET", f"/t/{topic_id}.json")
        data = as_dict(response.json())
        stream_data = data.get("post_stream")
        if not isinstance(stream_data, dict) or not isinstance(stream_data.get("posts"), list):
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        stream = [i for i in (as_int(v) for v in as_list(stream_data.get("stream"))) if i is not None]
        info = self._topic_info(topic_id)
        info.title = str(data.get("title") or info.title)
        info.slug = slug_of(data.get("slug")) or info.slug
        info.private = data.get("archetype") == "private_message"
        topic = _Topic(info, stream, {})
        self._hold(topic, objects(stream_data["posts"]))
        first = topic.by_number(1)
        info.first_post_id = as_int(first.get("id")) if first else stream[0] if stream else None
        return topic

    async def _load_posts(self, topic: _Topic, ids: Iterable[int], budget: _Budget) -> None:
        """Fetch the posts of `topic` with these ids (that it does not hold yet), 20 a request."""
        missing = [i for i in dict.fromkeys(ids) if i not in topic.posts]
        for start in range(0, len(missing), TOPIC_CHUNK):
            chunk = missing[start : start + TOPIC_CHUNK]
            budget.take()
            response = await self._http.request(
                "GET",
                f"/t/{topic.info.id}/posts.json",
                params=[("post_ids[]", str(post_id)) for post_id in chunk],
            )
            posts = as_dict(as_dict(response.json()).get("post_stream")).get("posts")
            if not isinstance(posts, list):
                raise TransientError(f"channel {self.name}: malformed response from {response.where}")
            self._hold(topic, objects(posts))

    async def _load_numbers(self, topic: _Topic, numbers: Iterable[int], budget: _Budget) -> None:
        """Fetch posts by post_number. Post n sits at index n-1 of the stream, or before it
        when earlier posts were deleted, so the chunk ending there nearly always holds it."""
        for number in sorted(set(numbers), reverse=True):
            end = min(number, len(topic.stream))
            for _ in range(3):
                if topic.by_number(number) is not None or end <= 0:
                    break
                await self._load_posts(topic, topic.stream[max(0, end - TOPIC_CHUNK) : end], budget)
                end -= TOPIC_CHUNK

    def _hold(self, topic: _Topic, posts: Iterable[dict[str, Any]]) -> None:
        for post in posts:
            post_id = as_int(post.get("id"))
            if post_id is not None:
                topic.posts[post_id] = post
                self._remember(post, topic.info)

    def _topic_info(self, topic_id: int) -> _TopicInfo:
        info = self._topics.get(topic_id)
        if info is None:
            info = self._topics[topic_id] = _TopicInfo(topic_id)
        self._topics.move_to_end(topic_id)
        while len(self._topics) > TOPIC_CACHE:
            self._topics.popitem(last=False)
        return info

    def _remember(self, post: dict[str, Any], info: _TopicInfo | None = None) -> None:
        """Note where a post sits (topic, number) and what it tells of its topic."""
        post_id, topic_id = as_int(post.get("id")), as_int(post.get("topic_id"))
        number = as_int(post.get("post_number"))
        if info is not None and topic_id is None:
            topic_id = info.id
        if post_id is None or topic_id is None or number is None:
            return
        self._post_topics[post_id] = (topic_id, number)
        self._post_topics.move_to_end(post_id)
        while len(self._post_topics) > POST_CACHE:
            self._post_topics.popitem(last=False)
        if info is None:
            info = self._topics.get(topic_id)
            if info is None and number != 1:
                return
            info = info or self._topic_info(topic_id)
        info.numbers[number] = post_id
        if number == 1:
            info.first_post_id = post_id
        if not info.title and isinstance(post.get("topic_title"), str):
            info.title = post["topic_title"]
        info.slug = slug_of(post.get("topic_slug")) or info.slug

    async def _locate(self, post_id: int) -> tuple[int, int]:
        """(topic id, post number) of a post: remembered, or asked with /posts/{id}.json."""
        known = self._post_topics.get(post_id)
        if known is not None:
            return known
        post = await self._fetch_post(post_id)
        self._remember(post)
        located = self._post_topics.get(post_id)
        if located is None:
            raise TransientError(f"channel {self.name}: malformed response from {self.host}/posts")
        return located

    async def _fetch_post(self, post_id: int) -> dict[str, Any]:
        response = await self._http.request("GET", f"/posts/{post_id}.json")
        post = as_dict(response.json())
        if as_int(post.get("id")) != post_id:
            raise TransientError(f"channel {self.name}: malformed response from {response.where}")
        return post

    # -- JSON -> model -----------------------------------------------------------------

    def _convert(self, post: dict[str, Any], info: _TopicInfo, origin: Origin, brand: str) -> Message | None:
        """The message of a post; None (and a log line) for one that cannot be read."""
        if post.get("post_type") == SMALL_ACTION:
            return None
        try:
            return self._to_message(post, info, origin, brand)
        except (KeyError, TypeError, ValueError) as exc:
            # One broken post must not block the inbox: skip it, say so.
            log.warning(
                "channel %s: skipped an unreadable post %s (%s)",
                self.name,
                one_line(str(post.get("id", "?")), 40),
                type(exc).__name__,
            )
            return None

    def _to_message(self, post: dict[str, Any], info: _TopicInfo, origin: Origin, brand: str) -> Message:
        from ecoinbox.htmltext import html_to_text  # imported on first use

        post_id = required_int(post.get("id"))
        number = required_int(post.get("post_number"))
        username = post.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("no username")
        user_id = as_int(post.get("user_id"))
        author = Author(
            channel=self.name,
            remote_id=str(user_id) if user_id is not None else username,
            handle=username,
            display_name=str(post.get("name") or ""),
            url=f"{self.base_url}/u/{quote(username, safe='')}",
            proofs=(f"{self.base_url}/u/{quote(username, safe='')}",),  # their profile: the forum's own
        )
        rendered = html_to_text(str(post.get("cooked") or ""))
        slug = slug_of(post.get("topic_slug")) or info.slug
        ours = username.casefold() == brand.casefold()
        return Message(
            channel=self.name,
            remote_id=str(post_id),
            author=author,
            text=rendered.text,
            created_at=aware_time(post["created_at"]),
            in_reply_to=self._parent_of(post, number, info),
            url=f"{self.base_url}/t/{slug}/{info.id}/{number}",
            visibility="direct" if info.private else "public",
            language=post_locale(post.get("locale")),
            origin=Origin.OURS if ours else origin,
            links=rendered.links,
            edited_at=post_edited_at(post),
            deleted=bool(post.get("deleted_at") or post.get("user_deleted")),
            title=info.title or str(post.get("topic_title") or ""),
            thread_ref=str(info.id),
            hidden_characters=rendered.hidden,
            platform_verdict=flag_verdict(post),
        )

    @staticmethod
    def _parent_of(post: dict[str, Any], number: int, info: _TopicInfo) -> str | None:
        """The post answered (when known), else the topic's first post: one tree per topic."""
        if number <= 1:
            return None
        replying_to = as_int(post.get("reply_to_post_number"))
        if replying_to is not None and 1 <= replying_to < number:
            parent = info.numbers.get(replying_to)
            if parent is not None:
                return str(parent)
        return str(info.first_post_id) if info.first_post_id is not None else None

    def _keep_ancestors(
        self,
        found: dict[str, Message],
        message: Message,
        held: Mapping[int, dict[str, Any]],
        info: _TopicInfo,
        brand: str,
    ) -> None:
        """Add the posts above `message` that are already in hand, up to the first post."""
        seen: set[str] = set()
        parent_id = message.in_reply_to
        while parent_id and parent_id not in seen and len(seen) < MAX_CHAIN:
            seen.add(parent_id)
            post = held.get(int(parent_id))
            parent = self._convert(post, info, Origin.CONTEXT, brand) if post else None
            if parent is None:
                return
            keep(found, parent)
            parent_id = parent.in_reply_to

    # -- threads ---------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The whole topic of the post, oldest first (of a huge topic: the first chunk, the
        newest `MAX_CONTEXT_POSTS` posts and the post itself)."""
        post_id = post_id_of(remote_id, self.name)
        brand = await self._brand(_UNBUDGETED)
        topic_id, _ = await self._locate(post_id)
        topic = await self._load_topic(topic_id, _UNBUDGETED)
        missing = [i for i in topic.stream if i not in topic.posts]
        wanted = missing[-MAX_CONTEXT_POSTS:]
        if post_id in missing and post_id not in wanted:
            wanted.append(post_id)
        await self._load_posts(topic, wanted, _UNBUDGETED)
        if post_id not in topic.posts:  # not in the stream (e.g. deleted): ask for it alone
            self._hold(topic, [await self._fetch_post(post_id)])
        posts = sorted(topic.posts.values(), key=lambda p: as_int(p.get("post_number")) or 0)
        messages = [self._convert(post, topic.info, Origin.CONTEXT, brand) for post in posts]
        return [message for message in messages if message is not None]

    def topic_url(self, message: Message) -> str:
        """The public address of the topic holding `message`: `{base}/t/{slug}/{topic_id}`."""
        topic_id = as_int(message.thread_ref)
        slug = None
        matched = POST_URL.match(message.url or "")
        if matched and message.url and message.url.startswith(self.base_url + "/"):
            slug = matched.group("slug")
            topic_id = topic_id if topic_id is not None else int(matched.group("topic"))
        if topic_id is None:
            raise PermanentError(f"channel {self.name}: message {message.remote_id} has no topic")
        info = self._topics.get(topic_id)
        slug = (info.slug if info else None) or slug or "topic"
        return f"{self.base_url}/t/{slug}/{topic_id}"

    # -- replying and new topics -------------------------------------------------------------

    def reply_prefix(self, parent: Message, own_handle: str | None = None) -> str:
        """Nothing: `reply_to_post_number` links a Discourse reply, no @mention is needed."""
        return ""

    async def reply(
        self, parent: Message, text: str, idempotency_key: str, visibility: str | None = None
    ) -> Message:
        """POST the reply in the parent's topic, answering the parent's post number.

        Discourse has no idempotency key: a lost answer raises `UncertainSend`, to be
        reconciled with `find_sent`, never resent blindly.
        """
        brand = await self._brand(_UNBUDGETED)
        topic_id, number = await self._where(parent)
        try:
            created = await self._publish({"topic_id": topic_id, "raw": text, "reply_to_post_number": number})
        except _Refused as refused:
            # "Body is too similar to what you recently posted" (in the forum's language) may
            # mean this very reply is already there: an earlier send whose answer was lost.
            there = await self._already_there(self._find_reply(brand, parent, text, _EPOCH, chunks=1))
            if there is None:
                raise
            log.info("channel %s: the forum refused a resend (%s); the reply is there", self.name, refused)
            return there
        info = self._topic_info(topic_id)
        info.title = info.title or parent.title
        message = self._created(created, info, brand)
        return with_parent(message, parent.remote_id)

    async def create_topic(
        self, title: str, text: str, category: str | None, idempotency_key: str
    ) -> Message:
        """Open a topic in `category` (an id, slug or name); return its first post."""
        brand = await self._brand(_UNBUDGETED)
        body: dict[str, Any] = {"title": title, "raw": text}
        if category:
            body["category"] = await self._category_id(category)
        try:
            created = await self._publish(body)
        except _Refused:
            # "Title has already been used" may mean this very topic is already there.
            there = await self._already_there(self._find_topic(brand, text, title, _EPOCH, chunks=1))
            if there is None:
                raise
            return there
        topic_id = as_int(created.get("topic_id"))
        if topic_id is None:
            raise UncertainSend(f"channel {self.name}: the topic was sent but {self.host} described it oddly")
        info = self._topic_info(topic_id)
        info.title = str(created.get("topic_title") or title)
        return self._created(created, info, brand)

    async def _where(self, parent: Message) -> tuple[int, int]:
        """The parent's topic id and post number (asking the forum if we don't know them)."""
        post_id = post_id_of(parent.remote_id, self.name)
        matched = POST_URL.match(parent.url or "")
        if (
            post_id not in self._post_topics
            and matched
            and matched.group("number")
            and (parent.url or "").startswith(self.base_url + "/t/")
            and matched.group("topic") == parent.thread_ref
        ):
            return int(matched.group("topic")), int(matched.group("number"))
        return await self._locate(post_id)

    async def _publish(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.request("POST", "/posts.json", json=body, check=False)
        if response.status in (403, 422):
            raise self._refusal(response)
        self._http.raise_for_status(response)
        created = as_dict(response.json())
        errors = error_words(created)
        if errors:
            raise PermanentError(f"channel {self.name}: the forum refused the post ({errors})")
        if created.get("action") == "enqueued":
            raise PermanentError(
                f"channel {self.name}: the forum queued the post for a moderator's approval; "
                "it will appear once approved (do not send it again)"
            )
        return created

    def _refusal(self, response: HttpResponse) -> PermanentError:
        said = error_words(json_or_none(response.content)) or str(response.status)
        if response.status == 403:
            return PermanentError(
                f"channel {self.name}: {response.where} refused the post (403: {said}); the "
                f"account may not post there, or the key cannot write (`ecoinbox auth {self.name}`)"
            )
        hint = ""
        if "similar" in said.casefold():
            hint = (
                ": the account posted the same words a few minutes ago, perhaps in another topic; "
                "change a few words or send it later"
            )
        return _Refused(f"channel {self.name}: the forum refused the post ({said}){hint}")

    async def _already_there(self, lookup: Awaitable[Message | None]) -> Message | None:
        """The post a refusal may be about, read back; None when it is not there or cannot be
        read now (the refusal then stands)."""
        try:
            return await lookup
        except ChannelError as exc:
            log.info("channel %s: could not read back after a refusal: %s", self.name, exc)
            return None

    def _created(self, created: dict[str, Any], info: _TopicInfo, brand: str) -> Message:
        self._remember(created, info)
        try:
            return self._to_message(created, info, Origin.OURS, brand)
        except (KeyError, TypeError, ValueError):
            raise UncertainSend(
                f"channel {self.name}: the post was sent but {self.host} described it oddly"
            ) from None

    async def _category_id(self, category: str) -> int:
        if category.strip().isdigit():
            return int(category)
        table = await self._category_table(_UNBUDGETED)
        found = table.get(fold(category))
        if found is None:
            raise PermanentError(f"channel {self.name}: no category {one_line(category)!r} on {self.host}")
        return found

    async def _category_table(self, budget: _Budget) -> dict[str, int]:
        """Categories by slug, name and id (and subcategories), read once."""
        if self._category_ids is None:
            budget.take()
            data = await self._http.get_json("/categories.json", params={"include_subcategories": "true"})
            table: dict[str, int] = {}
            pending = list(objects(as_dict(as_dict(data).get("category_list")).get("categories")))
            while pending:
                category = pending.pop()
                category_id = as_int(category.get("id"))
                if category_id is None:
                    continue
                for name in (category.get("slug"), category.get("name"), str(category_id)):
                    if isinstance(name, str) and name:
                        table.setdefault(fold(name), category_id)
                pending.extend(objects(category.get("subcategory_list")))
            self._category_ids = table
        return self._category_ids

    # -- reconciling an uncertain send -------------------------------------------------------

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our post with this text (a reply to `parent`, or the first post of a new topic with
        this title) published since `since`, read back without posting. None only when every
        post since then was read; a topic too busy to read back that far raises TransientError.
        """
        brand = await self._brand(_UNBUDGETED)
        cutoff = aware_utc(since) - RECONCILE_SLACK
        if parent is None:
            return await self._find_topic(brand, text, title, cutoff)
        return await self._find_reply(brand, parent, text, cutoff)

    async def _find_reply(
        self, brand: str, parent: Message, text: str, cutoff: datetime, chunks: int = MAX_RECONCILE_CHUNKS
    ) -> Message | None:
        """Read the topic from its newest post back to `cutoff`, a chunk at a time."""
        topic_id, number = await self._where(parent)
        topic = await self._load_topic(topic_id, _UNBUDGETED)
        end = len(topic.stream)
        for _ in range(chunks):
            chunk = topic.stream[max(0, end - TOPIC_CHUNK) : end]
            await self._load_posts(topic, chunk, _UNBUDGETED)
            for post_id in reversed(chunk):
                post = topic.posts.get(post_id)
                if post is None:
                    continue
                if aware_time(post.get("created_at")) < cutoff:
                    return None
                if is_own(post, brand) and answers_post(post, number) and await self._same_text(post, text):
                    message = self._to_message(post, topic.info, Origin.OURS, brand)
                    return with_parent(message, parent.remote_id)
            end -= TOPIC_CHUNK
            if end <= 0:
                return None
        raise TransientError(
            f"channel {self.name}: topic {topic_id} is too busy to tell yet whether the reply was published"
        )

    async def _find_topic(
        self, brand: str, text: str, title: str, cutoff: datetime, chunks: int = MAX_RECONCILE_CHUNKS
    ) -> Message | None:
        """A new topic of ours: walk the latest posts back to `cutoff`, looking for its first
        post (exact text, same title up to case and spacing)."""
        before: int | None = None
        for _ in range(chunks):
            page = await self._latest_posts_page(before, _UNBUDGETED)
            for post in page.items:
                if aware_time(post.get("created_at")) < cutoff:
                    return None
                if (
                    is_own(post, brand)
                    and as_int(post.get("post_number")) == 1
                    and loose(str(post.get("topic_title") or "")) == loose(title)
                    and await self._same_text(post, text)
                ):
                    self._remember(post)
                    info = self._topic_info(required_int(post.get("topic_id")))
                    return self._to_message(post, info, Origin.OURS, brand)
            if page.end:
                return None
            before = page.next_token
        raise TransientError(
            f"channel {self.name}: {self.host} is too busy to tell yet whether the topic was published"
        )

    async def _same_text(self, post: dict[str, Any], text: str) -> bool:
        """Whether `post` says `text`: its raw Markdown (fetched if not in hand) compared with
        whitespace collapsed."""
        raw = post.get("raw")
        if not isinstance(raw, str):
            raw = (await self._fetch_post(required_int(post.get("id")))).get("raw")
        return isinstance(raw, str) and collapse(raw) == collapse(text)


__all__ = ["AUTH_MODES", "DiscourseChannel"]
