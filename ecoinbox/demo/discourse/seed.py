"""Two weeks of the Acme community forum for the demo Discourse server, deterministic by seed.

`seed_forum` first publishes the canonical help topics, written by the brand months ago (their
ids and slugs never change: canned replies link to them, see `HELP_TOPICS`), then about
twenty-five community topics spread over the 14 days before `now`, in Support, Feedback,
Announcements and the French-speaking Entraide: orders, delivery, app crashes, CSV export,
the API, billing, feature requests; members answering each other, the brand answering,
people mentioning @brand or quoting it, one long "known issue" thread, and a few posts whose
raw text is hostile (terminal escapes, markup look-alikes, HTML). All posts are published in
time order, so post and notification ids grow with time as on a live forum. `next_post`
continues the stream one post at a time for `tick()`.

Texts use `{@brand}` for a mention of the brand account, `{brand}` for its username and
`{help:key}` for the path of a help topic.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ecoinbox.demo.discourse.scripts import (
    BACK_TO_BRAND_EN,
    BACK_TO_BRAND_FR,
    BRAND,
    NEW_TOPICS_EN,
    NEW_TOPICS_FR,
    REPLIES_EN,
    REPLIES_FR,
    TopicScript,
    community_scripts,
    help_scripts,
)

if TYPE_CHECKING:
    from ecoinbox.demo.discourse.state import DiscourseState


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """A forum category; its id is its position in CATEGORIES plus one."""

    slug: str
    name: str
    color: str
    description: str
    language: str = "en"


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "uncategorized",
        "Uncategorized",
        "0088CC",
        "Topics that don't need a category, or don't fit into any other existing category.",
    ),
    CategorySpec(
        "announcements",
        "Announcements",
        "BF1E2E",
        "News from the Acme team: releases, maintenance, policy changes.",
    ),
    CategorySpec(
        "support", "Support", "0E76BD", "Questions about orders, delivery, billing, the app and the API."
    ),
    CategorySpec(
        "feedback", "Feedback", "12A89D", "Ideas and feature requests. Tell us what would make Acme better."
    ),
    CategorySpec(
        "entraide",
        "Entraide",
        "F7941D",
        "Questions et réponses entre membres francophones : commandes, livraison, factures.",
        "fr",
    ),
)
# The brand watches these for first posts: every new topic there notifies it.
BRAND_WATCHES_FIRST_POST = ("support", "entraide")

# key -> (username, display name, trust level)
USERS: dict[str, tuple[str, str, int]] = {
    "sarah": ("sarah_k", "Sarah Kim", 1),
    "mike": ("mike_t", "Mike Torres", 2),
    "priya": ("priya.n", "Priya Nair", 2),
    "devon": ("devon", "Devon", 1),
    "tomasz": ("tomasz", "Tomasz Wójcik", 2),
    "kate": ("kate_b", "Kate Brennan", 1),
    "jamie": ("jlee", "Jamie Lee", 1),
    "nina": ("nina_w", "Nina W.", 0),
    "sam": ("sam_r", "Sam Reyes", 1),
    "hana": ("hana", "Hana Sato", 3),
    "bob": ("bob_builds", "Bob", 3),
    "camille": ("camille_d", "Camille Dupont", 1),
    "julien": ("julien.m", "Julien Martin", 2),
    "amelie": ("amelie", "Amélie", 2),
    "lucas": ("lucas_b", "Lucas B.", 1),
    "sophie": ("sophie_l", "Sophie Lefèvre", 1),
    "marc": ("marc-antoine", "Marc-Antoine Roy", 2),
    "hugo": ("hugo_r", "hugo", 1),
    "glitch": ("glitch", "glitch\x1b]0;pwned\x07", 0),
    "mel": ("markup_mel", "[bold red]Admin[/] Mel", 0),
    "rick": ("rtl_rick", "\u202ekcir troppus", 0),
}
REGULARS_EN = ("sarah", "mike", "priya", "devon", "tomasz", "kate", "jamie", "nina", "sam", "hana", "bob")
REGULARS_FR = ("camille", "julien", "amelie", "lucas", "sophie", "marc", "hugo")


@dataclass(frozen=True, slots=True)
class HelpTopic:
    """A canonical help topic: canned replies link to it by this id and slug."""

    key: str
    topic_id: int
    title: str
    slug: str
    category: str
    language: str

    @property
    def path(self) -> str:
        return f"/t/{self.slug}/{self.topic_id}"


HELP_TOPICS: tuple[HelpTopic, ...] = (
    HelpTopic("track", 1, "How to track your order", "how-to-track-your-order", "support", "en"),
    HelpTopic("export", 2, "Export your data to CSV", "export-your-data-to-csv", "support", "en"),
    HelpTopic("refunds", 3, "Refunds and returns policy", "refunds-and-returns-policy", "support", "en"),
    HelpTopic("suivre", 4, "Suivre votre commande", "suivre-votre-commande", "entraide", "fr"),
    HelpTopic(
        "remboursements", 5, "Remboursements et retours", "remboursements-et-retours", "entraide", "fr"
    ),
    HelpTopic(
        "known-crash",
        6,
        "Known issue: app crash on settings screen",
        "known-issue-app-crash-on-settings-screen",
        "support",
        "en",
    ),
)
HELP_BY_KEY = {help_topic.key: help_topic for help_topic in HELP_TOPICS}


@dataclass(frozen=True, slots=True)
class OpenTopic:
    """A recently active topic where `next_post` may add a reply."""

    topic_id: int
    language: str
    category: str
    posters: tuple[str, ...]  # usernames, in post order
    brand_post_numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Draft:
    """A post for `tick()` to publish: a reply (`topic_id`) or a new topic (`title`).
    `mention_brand`: the post mentions the brand."""

    author: str
    name: str
    trust_level: int
    raw: str
    language: str
    topic_id: int | None = None
    reply_to_post_number: int | None = None
    title: str | None = None
    category: str = "support"
    mention_brand: bool = False


def seed_forum(server: DiscourseState, rng: random.Random, now: datetime) -> None:
    """Publish the help topics and two weeks of community topics on `server`, in time order."""
    for username, name, trust_level in USERS.values():
        server.add_user(username, name=name, trust_level=trust_level, created_at=now - timedelta(days=300))
    # Days before now: older than every community topic, so the help topic ids stay 1..6. The
    # known issue (the last one) is still discussed: its replies run until today.
    help_ages = (200, 190, 180, 170, 160, 15)
    scheduled: list[tuple[datetime, int, int]] = []
    scripts = [*help_scripts(), *community_scripts()]
    for index, script in enumerate(scripts):
        posts = 1 + len(script.replies)
        if index < len(help_ages):
            root = now - timedelta(days=help_ages[index])
            times = _timeline(rng, posts, root, now, fill=index == len(help_ages) - 1)
        else:
            times = _timeline(rng, posts, None, now)
        scheduled.extend((at, index, number) for number, at in enumerate(times))
    topic_ids: dict[int, int] = {}
    for at, index, number in sorted(scheduled):
        _publish(server, scripts[index], number, at, topic_ids, index)


def _publish(
    server: DiscourseState,
    script: TopicScript,
    number: int,
    at: datetime,
    topic_ids: dict[int, int],
    index: int,
) -> None:
    brand = server.brand_username
    if number == 0:
        created = server.add_topic(
            author=_username(script.who, brand),
            title=script.title,
            raw=_fill(script.raw, brand),
            category=script.category,
            created_at=at,
            language=script.language,
        )
        topic_ids[index] = created["topic_id"]
        return
    reply = script.replies[number - 1]
    server.add_post(
        topic_id=topic_ids[index],
        author=_username(reply.who, brand),
        raw=_fill(reply.raw, brand),
        reply_to_post_number=reply.to,
        created_at=at,
    )


def _username(who: str, brand: str) -> str:
    return brand if who == BRAND else USERS[who][0]


def _fill(text: str, brand: str) -> str:
    text = text.replace("{@brand}", f"@{brand}").replace("{brand}", brand)
    return re.sub(r"\{help:([\w-]+)\}", lambda m: HELP_BY_KEY[m[1]].path, text)


def _timeline(
    rng: random.Random, posts: int, root: datetime | None, now: datetime, *, fill: bool = False
) -> list[datetime]:
    """Times for a topic's posts, strictly increasing and all before `now`: gaps of minutes to
    most of a day; the first post at `root`, or somewhere in the last 14 days. With `fill`,
    the gaps stretch so that the last post is recent."""
    gaps = [timedelta(minutes=rng.uniform(4, 60) * rng.choice((1, 1, 3, 12))) for _ in range(posts - 1)]
    end = now - timedelta(minutes=rng.uniform(5, 90))
    if root is None:
        room = timedelta(days=14)
        total = sum(gaps, timedelta())
        if total > room / 2:
            gaps = [gap * (room / 2 / total) for gap in gaps]
            total = sum(gaps, timedelta())
        root = end - total - (room - total) * rng.random()
    total = sum(gaps, timedelta())
    if gaps and (fill or root + total > end):  # stretch, or squeeze the replies in before now
        gaps = [gap * ((end - root) / total) for gap in gaps]
    times = [root]
    for gap in gaps:
        times.append(times[-1] + max(gap, timedelta(seconds=1)))
    return times


# -- the stream for tick() -----------------------------------------------------------------------


def next_post(rng: random.Random, open_topics: list[OpenTopic], titles: set[str]) -> Draft:
    """One more post: usually a reply in a recently active topic (to the brand's last answer
    when there is one, half of the time), sometimes a new topic with a title not yet used."""
    unused = [spec for spec in (*NEW_TOPICS_EN, *NEW_TOPICS_FR) if spec[1].lower() not in titles]
    if unused and (not open_topics or rng.random() < 0.2):
        return _new_topic(rng, rng.choice(unused))
    if not open_topics:
        return _new_topic(rng, rng.choice((*NEW_TOPICS_EN, *NEW_TOPICS_FR)), numbered=len(titles) + 1)
    topic = rng.choice(open_topics[:6])
    french = topic.language == "fr"
    author = _author(rng, french, exclude=topic.posters[-1])
    reply_to = None
    if topic.brand_post_numbers and rng.random() < 0.5:
        reply_to = topic.brand_post_numbers[-1]
        raw = rng.choice(BACK_TO_BRAND_FR if french else BACK_TO_BRAND_EN)
    else:
        raw = rng.choice(REPLIES_FR if french else REPLIES_EN)
    return Draft(
        *author,
        raw=raw,
        language=topic.language,
        topic_id=topic.topic_id,
        reply_to_post_number=reply_to,
        mention_brand=rng.random() < 0.15,
    )


def _new_topic(rng: random.Random, spec: tuple[str, str, str], numbered: int = 0) -> Draft:
    category, title, raw = spec
    french = category == "entraide"
    number = str(rng.randint(10000, 99999))
    return Draft(
        *_author(rng, french, exclude=""),
        raw=raw.replace("{n}", number),
        language="fr" if french else "en",
        title=(f"{title} ({numbered})" if numbered else title).replace("{n}", number),
        category=category,
        mention_brand=rng.random() < 0.2,
    )


def _author(rng: random.Random, french: bool, exclude: str) -> tuple[str, str, int]:
    choices = [USERS[key] for key in (REGULARS_FR if french else REGULARS_EN)]
    username, name, trust_level = rng.choice([u for u in choices if u[0] != exclude] or choices)
    return username, name, trust_level
