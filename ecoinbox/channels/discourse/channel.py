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
`ecoinbox.channels.discourse.bus`); the poll stays the one way posts come in.

Discourse has no idempotency key, and staff are exempt from its duplicate-body check: an
uncertain send is reconciled by reading the topic (`find_sent`), never by posting again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ecoinbox.channels.base import (
    AuthError,
    Capabilities,
    ChannelError,
    NamedChannel,
    PermanentError,
    PollResult,
    TransientError,
)
from ecoinbox.channels.discourse.bus import NotificationBus
from ecoinbox.channels.discourse.convert import SMALL_ACTION, PostConverter
from ecoinbox.channels.discourse.forum import Forum, Topic, TopicInfo
from ecoinbox.channels.discourse.posts import (
    POST_URL,
    fold,
    id_key,
    keep,
    keyword_pattern,
    notified_post_id,
    positive,
    post_id_of,
    wanted_notification,
)
from ecoinbox.channels.discourse.walk import UNBUDGETED, Budget, OutOfBudget, Position, Source, advance, walk
from ecoinbox.channels.discourse.writer import Writer
from ecoinbox.channels.http import HttpClient, channel_logger, one_line
from ecoinbox.channels.json_values import as_dict, as_int
from ecoinbox.model import Message, Origin

log = channel_logger(__name__)

AUTH_MODES = ("user_api_key", "api_key")
"""How the token is sent: a user API key (`ecoinbox auth` gets one), or an admin key and a username."""

DEFAULT_MAX_LENGTH = 32_000  # max_post_length
MAX_NOTIFICATION_PAGES = 10  # per poll; a longer backlog resumes on the next poll, without a gap
MAX_POST_PAGES = 5  # of /posts.json (50 posts each) per poll, same
# Requests one poll may make: a user API key allows 20 a minute, an admin key 60.
POLL_BUDGET = {"user_api_key": 12, "api_key": 40}
MAX_CONTEXT_POSTS = 400  # of a huge topic, `context` reads the first chunk and the newest ones

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


NOTIFICATIONS_KEY = "notifications"
POSTS_KEY = "posts"


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
        self._forum = Forum(name, self._http)
        self._posts = PostConverter(name, self.base_url)
        self._writer = Writer(name, self._http, self._forum, self._posts)
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
        me = await self._session(UNBUDGETED)
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

    async def _session(self, budget: Budget) -> dict[str, Any]:
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

    async def _brand(self, budget: Budget) -> str:
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
        budget = Budget(POLL_BUDGET[self.auth])
        await self._brand(budget)
        next_cursor = dict(cursor)
        found: dict[str, Message] = {}
        first_error: ChannelError | None = None
        for source in self._sources():
            position = Position.load(cursor, source.key)
            try:
                walked = await walk(source, position, budget)
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
            advance(position, walked, done).store(next_cursor, source.key)
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
        (see `ecoinbox.channels.discourse.bus`). Returns at once with `stream = false`."""
        if self.stream:
            await self.notification_bus.run(wake)

    async def _own_user_id(self) -> int:
        user_id = as_int((await self._session(Budget(None))).get("id"))
        if user_id is None:
            raise TransientError(f"channel {self.name}: {self.host} did not say which user we are")
        return user_id

    def _sources(self) -> list[Source]:
        sources = [
            Source(
                NOTIFICATIONS_KEY,
                MAX_NOTIFICATION_PAGES,
                self._forum.notifications_page,
                self._take_notifications,
            )
        ]
        if self.keywords or self.categories:
            sources.append(Source(POSTS_KEY, MAX_POST_PAGES, self._forum.latest_posts_page, self._take_posts))
        return sources

    # -- notifications -------------------------------------------------------------------

    async def _take_notifications(
        self, items: list[dict[str, Any]], budget: Budget, found: dict[str, Message]
    ) -> tuple[set[int], ChannelError | None]:
        """Turn notifications into messages strictly oldest first (so the cursor can stop at
        any of them), reading each topic once and its notified posts in one batch."""
        done: set[int] = set()
        brand = await self._brand(budget)
        loaded: dict[int, Topic] = {}
        for notification in items:
            notification_id = int(notification["id"])
            if wanted_notification(notification):
                try:
                    await self._notified_post(notification, items, loaded, budget, found, brand)
                except OutOfBudget:
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
        loaded: dict[int, Topic],
        budget: Budget,
        found: dict[str, Message],
        brand: str,
    ) -> None:
        topic_id = int(notification["topic_id"])
        topic = loaded.get(topic_id)
        if topic is None:
            topic = await self._forum.load_topic(topic_id, budget)
            loaded[topic_id] = topic
            batch = [notified_post_id(n) for n in items if as_int(n.get("topic_id")) == topic_id]
            await self._forum.load_posts(topic, [i for i in batch if i in topic.stream], budget)
        number = int(notification["post_number"])
        post = topic.posts.get(notified_post_id(notification) or -1) or topic.by_number(number)
        if post is None:
            await self._forum.load_numbers(topic, [number], budget)
            post = topic.by_number(number)
        if post is None:
            log.info("channel %s: post %s of topic %s is gone", self.name, number, topic_id)
            return
        replying_to = as_int(post.get("reply_to_post_number"))
        if replying_to is not None and topic.by_number(replying_to) is None:
            try:  # the parent is a bonus: it saves the engine a context fetch
                await self._forum.load_numbers(topic, [replying_to], budget)
            except OutOfBudget:
                pass
        message = self._posts.convert(post, topic.info, Origin.MENTION, brand)
        if message is not None:
            keep(found, message)
            self._posts.keep_ancestors(found, message, topic.posts, topic.info, brand)

    # -- listening: the latest posts -----------------------------------------------------

    async def _take_posts(
        self, items: list[dict[str, Any]], budget: Budget, found: dict[str, Message]
    ) -> tuple[set[int], ChannelError | None]:
        """Keep the posts (oldest first) that match a keyword or a listened category."""
        done: set[int] = set()
        try:
            categories = await self._listened_categories(budget)
            brand = await self._brand(budget)
        except OutOfBudget:
            return done, None
        except ChannelError as exc:
            return done, exc
        for post in items:
            self._forum.remember(post)
        held = {int(p["id"]): p for p in items}
        loaded: dict[int, Topic] = {}
        for post in items:
            post_id = int(post["id"])
            if self._matches(post, categories):
                try:
                    info = await self._info_for(post, budget, loaded)
                except OutOfBudget:
                    break
                except AuthError as exc:
                    return done, exc
                except PermanentError as exc:
                    log.info("channel %s: skipped post %s: %s", self.name, post_id, exc)
                    info = None
                except TransientError as exc:
                    return done, exc
                message = self._posts.convert(post, info, Origin.SEARCH, brand) if info else None
                if message is not None and info is not None:
                    keep(found, message)
                    topic = loaded.get(info.id)
                    chain = {**held, **(topic.posts if topic else {})}
                    self._posts.keep_ancestors(found, message, chain, info, brand)
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

    async def _info_for(self, post: dict[str, Any], budget: Budget, loaded: dict[int, Topic]) -> TopicInfo:
        """What threading this post needs: its topic's first post (read once if unknown)."""
        topic_id = as_int(post.get("topic_id"))
        if topic_id is None:
            raise PermanentError(f"channel {self.name}: a post without a topic")
        info = self._forum.topics.get(topic_id)
        if topic_id in loaded:
            return loaded[topic_id].info
        if info is not None and info.first_post_id is not None:
            return info
        topic = loaded[topic_id] = await self._forum.load_topic(topic_id, budget)
        return topic.info

    async def _listened_categories(self, budget: Budget) -> frozenset[int]:
        if not self.categories:
            return frozenset()
        known = await self._forum.category_table(budget)
        ids = set()
        for wanted in self.categories:
            category_id = known.get(fold(wanted))
            if category_id is None:
                log.warning("channel %s: no category %r on the forum", self.name, one_line(wanted))
            else:
                ids.add(category_id)
        return frozenset(ids)

    # -- threads ---------------------------------------------------------------------------

    async def context(self, remote_id: str) -> list[Message]:
        """The whole topic of the post, oldest first (of a huge topic: the first chunk, the
        newest `MAX_CONTEXT_POSTS` posts and the post itself)."""
        post_id = post_id_of(remote_id, self.name)
        brand = await self._brand(UNBUDGETED)
        topic_id, _ = await self._forum.locate(post_id)
        topic = await self._forum.load_topic(topic_id, UNBUDGETED)
        missing = [i for i in topic.stream if i not in topic.posts]
        wanted = missing[-MAX_CONTEXT_POSTS:]
        if post_id in missing and post_id not in wanted:
            wanted.append(post_id)
        await self._forum.load_posts(topic, wanted, UNBUDGETED)
        if post_id not in topic.posts:  # not in the stream (e.g. deleted): ask for it alone
            self._forum.hold(topic, [await self._forum.fetch_post(post_id)])
        posts = sorted(topic.posts.values(), key=lambda p: as_int(p.get("post_number")) or 0)
        messages = [self._posts.convert(post, topic.info, Origin.CONTEXT, brand) for post in posts]
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
        info = self._forum.topics.get(topic_id)
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
        return await self._writer.reply(parent, text, await self._brand(UNBUDGETED))

    async def create_topic(
        self, title: str, text: str, category: str | None, idempotency_key: str
    ) -> Message:
        """Open a topic in `category` (an id, slug or name); return its first post."""
        return await self._writer.create_topic(title, text, category, await self._brand(UNBUDGETED))

    async def find_sent(
        self, parent: Message | None, text: str, title: str, since: datetime
    ) -> Message | None:
        """Our post with this text (a reply to `parent`, or the first post of a new topic with
        this title) published since `since`, read back without posting. None only when every
        post since then was read; a topic too busy to read back that far raises TransientError.
        """
        return await self._writer.find_sent(parent, text, title, since, await self._brand(UNBUDGETED))


__all__ = ["AUTH_MODES", "DiscourseChannel"]
