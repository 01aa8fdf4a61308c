"""The MediaWiki unit: a wiki's talk pages, signed in with a bot password or an OAuth 2.0 token."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ecoinbox import secrets
from ecoinbox.channels.settings import ChannelSettings, common_values
from ecoinbox.channels.unit import FlowError, Question, refuse_when_set
from ecoinbox.config.validate import Invalid, Table, base_url, string_list
from ecoinbox.sanitize import sanitize

if TYPE_CHECKING:
    from ecoinbox.channels.base import Channel
    from ecoinbox.config.brand import BrandSettings
    from ecoinbox.secrets import Secret

__all__ = ["UNIT", "MediaWikiSettings"]

BOT_PASSWORD: Final = "bot_password"  # the same words as channels/mediawiki/api.py, kept light here
OAUTH2: Final = "oauth2"
ILLEGAL_IN_TITLES: Final = re.compile(r"[#<>\[\]{}|]")


@dataclass(frozen=True, slots=True)
class MediaWikiSettings(ChannelSettings):
    """A wiki (MediaWiki), where api.php lives under `base_url` (e.g. "https://wiki.acme.example/w")."""

    pages: tuple[str, ...] = ()
    """MediaWiki: talk pages to follow, by title (e.g. "Talk:Acme X2"); new comments on them come
    to the inbox, each section a conversation."""
    namespaces: tuple[int, ...] = ()
    """MediaWiki: namespaces whose every page is followed, by number (1 Talk, 3 User talk,
    5 the project's talk...), found through the wiki's recent changes."""


def titles(value: object) -> tuple[str, ...]:
    """Page titles, as the wiki shows them ("Talk:Acme X2"; "_" for spaces is fine)."""
    found = []
    for index, item in enumerate(string_list(value)):
        title = " ".join(item.replace("_", " ").split())
        if not title or ILLEGAL_IN_TITLES.search(title):
            raise Invalid('a page title such as "Talk:Acme X2" (no # < > [ ] { } |)', at=(index,))
        found.append(title)
    return tuple(found)


def namespaces(value: object) -> tuple[int, ...]:
    """Namespace numbers: talk namespaces are odd (1 Talk, 3 User talk...)."""
    if not isinstance(value, list):
        raise Invalid("expected a list of namespace numbers, e.g. [1, 5]")
    found = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise Invalid(
                "a namespace number, e.g. 1 for Talk: (see Special:AllPages on the wiki)", at=(index,)
            )
        found.append(item)
    return tuple(found)


_CHECKS: Final[dict[str, Callable[[object], object]]] = {"pages": titles, "namespaces": namespaces}


class MediaWikiUnit:
    kind: Final = "mediawiki"
    description: Final = "A wiki's talk pages (MediaWiki): new comments in, replies signed on the page."
    default_name: Final = "wiki"
    questions: Final = (
        Question("base_url", "The wiki's address where api.php lives (e.g. https://wiki.acme.example/w)"),
        Question(
            "account",
            'The bot password\'s login name, as Special:BotPasswords shows it (e.g. "Acme@ecoinbox")',
        ),
        Question("pages", "Talk pages to follow (e.g. Talk:Acme X2)", is_list=True, optional=True),
    )
    auth_modes: Final = (BOT_PASSWORD, OAUTH2)
    settings_type: Final = MediaWikiSettings
    streams: Final = False
    read_only: Final = False
    brand_site: Final = True
    default_base_url: Final = None
    base_url_check = staticmethod(base_url)

    def read(self, table: Table, common: ChannelSettings) -> MediaWikiSettings:
        pages = table.get("pages", titles, ())
        spaces = table.get("namespaces", namespaces, ())
        if (
            (common.auth or BOT_PASSWORD) == BOT_PASSWORD
            and not common.account
            and "account" not in table.data
        ):
            table.problem(
                "account",
                'missing (required with a bot password: its login name, e.g. "Acme@ecoinbox", '
                "as Special:BotPasswords shows it)",
            )
        if not pages and not spaces and "pages" not in table.data and "namespaces" not in table.data:
            table.problem("pages", 'missing: name talk pages to follow (e.g. ["Talk:Acme X2"]) or namespaces')
        return MediaWikiSettings(**common_values(common), pages=pages, namespaces=spaces)

    def refuse(self, table: Table, key: str, kind: str) -> None:
        refuse_when_set(table, key, _CHECKS[key], f"only mediawiki channels use {key} (this one is {kind})")

    def build(self, settings: ChannelSettings, token: Secret, brand: BrandSettings | None) -> Channel:
        from ecoinbox.channels.mediawiki.channel import MediaWikiChannel

        assert isinstance(settings, MediaWikiSettings)
        return MediaWikiChannel(
            settings.name,
            settings.base_url,
            token.reveal(),
            auth=settings.auth or BOT_PASSWORD,
            login_name=settings.account,
            pages=settings.pages,
            namespaces=settings.namespaces,
            timeout=settings.timeout,
        )

    def what_it_asks_for(self, settings: ChannelSettings, paste: bool) -> str:
        if settings.auth == OAUTH2:
            return (
                "An owner-only OAuth 2.0 consumer acts as your account with the grants you tick: "
                '"Basic rights", "High-volume editing" and "Edit existing pages" are enough.'
            )
        return (
            f"A bot password signs in as {settings.account or 'your account'} with the grants you tick: "
            '"Basic rights", "High-volume editing" and "Edit existing pages" are enough.'
        )

    def obtain_token(self, settings: ChannelSettings, paste: bool) -> Secret:
        """The wiki shows the bot password (or OAuth token) once: paste it."""
        wiki = settings.base_url
        if settings.auth == OAUTH2:
            print(
                f"1. On {wiki}/index.php?title=Special:OAuthConsumerRegistration/propose/oauth2, propose an"
            )
            print('   owner-only consumer ("This consumer is for use only by ..."), with the grants above.')
            print("2. Paste the access token the wiki shows.")
            token = secrets.prompt_token("Access token (not echoed): ")
            return _checked(settings, token) if not paste else token
        print(f"1. On {wiki}/index.php?title=Special:BotPasswords, logged in as the brand's account, create")
        print('   a bot password named "ecoinbox" with the grants above.')
        print(f'2. Set account = the login name it shows (e.g. "{settings.account or "Acme@ecoinbox"}").')
        print("3. Paste the password it shows.")
        token = secrets.prompt_token("Bot password (not echoed): ")
        return _checked(settings, token) if not paste else token


def _checked(settings: ChannelSettings, token: Secret) -> Secret:
    """Sign in once with the pasted secret: a refused one is not stored."""
    from ecoinbox.channels.base import AuthError as RefusedError
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.channels.mediawiki.api import WikiApi

    async def who() -> str:
        api = WikiApi(settings.name, settings.base_url, token.reveal(), auth=settings.auth or BOT_PASSWORD,
                      login_name=settings.account, timeout=settings.timeout)  # fmt: skip
        try:
            return await api.whoami()
        finally:
            await api.aclose()

    if not token.reveal().strip():
        return token
    import asyncio  # here: a config naming this unit is read by `ecoinbox list` too

    try:
        user = asyncio.run(who())
    except RefusedError as exc:
        raise FlowError(f"not stored: {exc}") from exc
    except ChannelError as exc:
        print(f"Could not check it now ({exc}); storing it anyway.")
    else:
        print(f"Signed in as {sanitize(user, single_line=True)}.")
    return token


UNIT: Final = MediaWikiUnit()
