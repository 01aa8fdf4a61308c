"""Akismet for blog comments and forum posts, with the user's own key (`akismet` package, over httpx).

comment-check gets what Akismet documents and the message has: blog, user_ip (WordPress's
author_ip for an account that may moderate; empty where no platform gives it), comment_type ("comment", "reply" or "forum-post"), comment_author, its site,
comment_content, comment_date_gmt and the permalink of the page commented. "true" weighs
`SPAM_WEIGHT`, "true" with `X-akismet-pro-tip: discard` (blatant spam) `DISCARD_WEIGHT`, "false"
`HAM_WEIGHT`. The manager's marks go back as submit-spam / submit-ham.

The package puts the key in some of its exception messages: none of them is ever shown or logged
here, each is said in our own words.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from ecoinbox.config.screening import AKISMET_API_URL, AkismetSettings
from ecoinbox.model import Message
from ecoinbox.screening.engines import EngineDown
from ecoinbox.screening.spam import Signal

if TYPE_CHECKING:
    import akismet

__all__ = ["DISCARD_WEIGHT", "HAM_WEIGHT", "SPAM_WEIGHT", "Akismet", "comment_fields"]

log = logging.getLogger(__name__)

SPAM_WEIGHT: Final = 4.0
"""Log-odds an Akismet "spam" adds (by hand: Akismet is sure of what it flags; alone it hides a comment)."""
DISCARD_WEIGHT: Final = 10.0
"""Akismet's "discard": blatant spam, as sure as the platform's own spam status."""
HAM_WEIGHT: Final = -1.0
"""Akismet's "not spam": some trust, not enough to keep what the manager marked like it."""
CONTENT_CHARS: Final = 20_000
FIELD_CHARS: Final = 500


class Akismet:
    """Akismet's REST API through the `akismet` package's synchronous client (in the engines' thread)."""

    name = "Akismet"

    def __init__(self, settings: AkismetSettings, *, kinds: Mapping[str, str]) -> None:
        self.settings = settings
        self._channels = frozenset(settings.channels)
        self._kinds = dict(kinds)
        self._client: akismet.SyncClient | None = None
        self._http: httpx.Client | None = None

    def wants(self, message: Message) -> bool:
        return message.channel in self._channels and not message.is_ours

    def check(self, messages: Sequence[Message]) -> list[Signal | None]:
        import akismet

        client = self._ready()
        deadline = time.monotonic() + self.settings.timeout
        results: list[Signal | None] = []
        for message in messages:
            if time.monotonic() > deadline:  # a backlog: the rest is screened without it, no outage
                log.info("Akismet: %d of %d new messages asked within %g s; the others are screened"
                         " without it", len(results), len(messages), self.settings.timeout)  # fmt: skip
                return results + [None] * (len(messages) - len(results))
            fields = comment_fields(message, self._kinds.get(message.channel, ""))
            try:
                answer = client.comment_check(user_ip=message.author_ip, **fields)
            except akismet.AkismetError as exc:
                raise EngineDown(self._said(exc), results) from None
            results.append(_signal(answer))
        return results

    def teach(self, message: Message, is_spam: bool) -> None:
        import akismet

        client = self._ready()
        fields = comment_fields(message, self._kinds.get(message.channel, ""))
        try:
            if is_spam:
                client.submit_spam(user_ip=message.author_ip, **fields)
            else:
                client.submit_ham(user_ip=message.author_ip, **fields)
        except akismet.AkismetError as exc:
            raise EngineDown(self._said(exc)) from None

    def probe(self) -> str:
        self._ready()
        return f"the key is valid for {self.settings.blog}"

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._client = self._http = None

    def _ready(self) -> akismet.SyncClient:
        """The client, made once the key is found and Akismet has said it is valid for the blog."""
        if self._client is not None:
            return self._client
        import akismet

        from ecoinbox.secrets import SecretError, resolve_token

        try:  # never from the terminal (the inbox owns it): a key_cmd runs in a session of its own
            key = asyncio.run(resolve_token(self.settings.key_source(), interactive=False))
        except SecretError as exc:
            if self.settings.key_cmd:
                detail = str(exc).split(": ", 1)[-1].splitlines()[0]
                raise EngineDown(f"the key_cmd of [screening.akismet] gave no key: {detail}") from None
            raise EngineDown(
                "no key found: put it in the keyring (`keyring set ecoinbox akismet`), or name"
                " a key_cmd or key_env in [screening.akismet]"
            ) from None
        from ecoinbox.channels.http import blocking_client

        transport = None if self.settings.api_url == AKISMET_API_URL else _Elsewhere(self.settings.api_url)
        http = blocking_client(
            headers={"User-Agent": f"ecoinbox | {akismet.USER_AGENT}"},
            timeout=self.settings.timeout,
            transport=transport,
        )
        client = akismet.SyncClient(
            config=akismet.Config(key=key.reveal(), url=self.settings.blog), http_client=http
        )
        try:
            valid = client.verify_key()
        except akismet.AkismetError as exc:
            http.close()
            raise EngineDown(self._said(exc)) from None
        if not valid:
            http.close()
            raise EngineDown(
                f"refused the key for {self.settings.blog}: check the key and the blog address"
                " it was registered for (`keyring set ecoinbox akismet` replaces it)"
            )
        self._client, self._http = client, http
        return client

    def _said(self, exc: Exception) -> str:
        """The failure in our words: the package's messages may hold the key."""
        import akismet

        where = urlsplit(self.settings.api_url).netloc
        if isinstance(exc, akismet.APIKeyError):
            self.close()  # the key may be replaced meanwhile: found and verified again next time
            return f"refused the key for {self.settings.blog} (`keyring set ecoinbox akismet` replaces it)"
        if isinstance(exc, akismet.ProtocolError):
            return f"{where} gave an answer that is not Akismet's"
        cause = exc.__cause__
        status = getattr(getattr(cause, "response", None), "status_code", None)
        if status is not None:
            return f"{where} answered with HTTP error {status}"
        if "timed out" in str(exc):
            return f"{where} did not answer within {self.settings.timeout:g} s"
        return f"{where} cannot be reached ({type(cause).__name__ if cause else 'no connection'})"


def comment_fields(message: Message, kind: str) -> dict[str, Any]:
    """comment-check's documented fields that `message` has (user_ip and blog are added by the client)."""
    author = message.author
    fields: dict[str, Any] = {
        "comment_type": "forum-post"
        if kind == "discourse"
        else "reply"
        if message.in_reply_to
        else "comment",
        "comment_author": (author.display_name or author.handle)[:FIELD_CHARS],
        "comment_content": message.text[:CONTENT_CHARS],
        "comment_date_gmt": message.created_at.isoformat(timespec="seconds"),
        "blog_charset": "UTF-8",
    }
    if author.url:
        fields["comment_author_url"] = author.url[:FIELD_CHARS]
    if message.url:
        fields["permalink"] = _page(message.url)
    return fields


def _page(url: str) -> str:
    """The page a comment is on: its address without the "#comment-12" anchor."""
    parts = urlsplit(url[:FIELD_CHARS])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _signal(answer: int) -> Signal:
    if answer == 2:
        return Signal("engine:akismet:discard", DISCARD_WEIGHT, "Akismet: blatant spam (discard)")
    if answer == 1:
        return Signal("engine:akismet:spam", SPAM_WEIGHT, "Akismet: spam")
    return Signal("engine:akismet:ham", HAM_WEIGHT, "Akismet: not spam")


class _Elsewhere(httpx.BaseTransport):
    """An httpx transport that sends Akismet's requests to another address (a compatible service,
    or the local stand-in of the tests): the package names rest.akismet.com itself."""

    def __init__(self, base: str) -> None:
        self._base = httpx.URL(base)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self._base.scheme, host=self._base.host, port=self._base.port
        )
        request.headers["Host"] = self._base.netloc.decode("ascii")
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
