"""The Acme product wiki's talk pages: a day of questions, complaints and spam, EN and FR."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Final

from ecoinbox.demo.mediawiki.server import WikiServer

PAGES: Final = ("Talk:Acme X2", "Talk:Acme X2/fr", "Talk:Acme Cloud")

# (hours ago, page, section, user, indent, text)
SEED: Final = (
    (20.0, "Talk:Acme X2", "Battery life after firmware 2.1", "Zoe", 0,
     ("Since firmware 2.1 the battery of my '''Acme X2''' lasts two hours instead of a day. "
     "Is this known? The [[Acme X2/Firmware|firmware page]] says nothing about it.")),
    (19.0, "Talk:Acme X2", "Battery life after firmware 2.1", "Luc", 1,
     "Same here, and the phone gets warm when idle."),
    (17.5, "Talk:Acme X2", "Battery life after firmware 2.1", "Zoe", 2,
     "Mine too. I'd like a way back to 2.0 until this is fixed."),
    (15.0, "Talk:Acme X2", "Where is the user manual?", "Kenji", 0,
     ("The link in the article to the PDF manual is dead: [https://acme.example/x2/manual.pdf manual]. "
     "Does anyone have the new address?")),
    (9.0, "Talk:Acme X2", "Cheap accessories", "BestDeals2026", 0,
     "Acme X2 cases 90% off!!! Visit [http://deals.example/acme cheap-acme-cases] now"),
    (18.0, "Talk:Acme X2/fr", "Écran noir au démarrage", "Marie", 0,
     "Mon Acme X2 reste sur un écran noir après la mise à jour. J'ai déjà essayé le redémarrage forcé."),
    (16.0, "Talk:Acme X2/fr", "Écran noir au démarrage", "Hugo", 1,
     "Pareil chez moi depuis hier soir. Le support ne répond pas."),
    (6.0, "Talk:Acme X2/fr", "Garantie en Belgique", "Camille", 0,
     "La garantie de deux ans s'applique-t-elle aussi aux appareils achetés en Belgique ?"),
    (12.0, "Talk:Acme Cloud", "Sync stopped on Linux", "Priya", 0,
     ("The desktop sync client stopped syncing on Debian 12 after the last update; the log says "
     "<code>token expired</code> every minute.")),
    (3.0, "Talk:Acme Cloud", "Sync stopped on Linux", "Sam", 1,
     "Logging out and in again fixed it for me, but it came back today."),
)  # fmt: skip

NEW_TRAFFIC: Final = (
    ("Talk:Acme X2", "Battery life after firmware 2.1", "Nadia", 1, "Any update from Acme on this? Still draining here."),
    ("Talk:Acme X2/fr", "Écran noir au démarrage", "Julien", 1, "Même problème, le voyant clignote en orange."),
    ("Talk:Acme Cloud", "Sharing links expire too soon", "Oskar", 0,
     "Shared links expire after one day even when I choose a week. Is this a bug?"),
    ("Talk:Acme X2", "Where is the user manual?", "Lena", 1, "I found an old copy on the Wayback Machine, but a real link would help."),
    ("Talk:Acme X2/fr", "Garantie en Belgique", "Thomas", 1, "Question intéressante, je me la pose aussi pour la Suisse."),
    ("Talk:Acme X2", "Cheap accessories", "MegaDeals", 0, "Best prices on Acme parts [http://deals.example/x2 click here]"),
)  # fmt: skip

BRAND_USER: Final = "Acme"


def seed(server: WikiServer, now: datetime) -> None:
    """Each page's intro, then the day's comments in the order they were written."""
    for title in PAGES:
        server.save(
            title, f"Talk page of [[{title.removeprefix('Talk:')}]].", "Admin", now - timedelta(days=30)
        )
    for hours, title, section, user, indent, text in sorted(SEED, key=lambda row: -row[0]):
        server.comment(title, user, text, section=section, indent=indent, at=now - timedelta(hours=hours))


def next_comment(server: WikiServer, rng: random.Random, now: datetime) -> None:
    """Someone writes: a reply in a known section or a new one."""
    title, section, user, indent, text = rng.choice(NEW_TRAFFIC)
    server.comment(title, user, text, section=section, indent=indent, at=now)


class SeededWiki(WikiServer):
    """The demo's wiki: seeded when it starts, someone writes at each `tick()`."""

    def __init__(self, *, seed: int, bot_logins: dict[str, str], discussiontools: bool = True) -> None:
        super().__init__(bot_logins=bot_logins, discussiontools=discussiontools)
        self._tick_rng = random.Random(f"mediawiki-tick-{seed}")
        self._seeded = False

    async def start(self, **options: Any) -> str:
        if not self._seeded:
            seed(self, self.now())
            self._seeded = True
        return await super().start(**options)

    def tick(self) -> None:
        next_comment(self, self._tick_rng, self.now())
