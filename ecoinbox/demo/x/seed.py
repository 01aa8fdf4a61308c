"""A week of X traffic about the brand for the local X, deterministic by seed: mentions
(complaints, questions, praise), people answering the brand's replies, posts that name the brand
or its hashtag without mentioning it (found by the search), French threads, spam, and a post
with terminal escapes the inbox must show harmlessly. `next_post` continues one post at a time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.demo.x.server import XServer

__all__ = ["next_post", "seed_week"]

# (author, language, [(parent index or None, author, text)]): "B" is the brand; parent -1: none.
THREADS: list[tuple[str, list[tuple[int, str, str]]]] = [
    (
        "en",
        [
            (
                -1,
                "kettle_kate",
                "@acme my kettle stopped heating after 3 weeks. Order #48213. Not impressed.",
            ),
            (0, "B", "So sorry Kate! Could you DM us the serial on the base? We'll sort a replacement."),
            (1, "kettle_kate", "@acme done, thanks for the quick answer"),
        ],
    ),
    (
        "en",
        [
            (-1, "dev_dan", "@acme does the Widget 2 API support webhooks yet? Docs say 'soon' since March"),
        ],
    ),
    (
        "fr",
        [
            (
                -1,
                "claire_dlb",
                "@acme bonjour, ma commande n'est toujours pas arrivée, 12 jours déjà. Un suivi ?",
            ),
            (0, "B", "Bonjour Claire, désolés ! Pouvez-vous nous envoyer votre numéro de commande en DM ?"),
            (1, "claire_dlb", "@acme c'est fait, merci. Commande 77120."),
        ],
    ),
    (
        "en",
        [
            (
                -1,
                "gadget_gabe",
                "Unboxing the new #acme widget tonight, stream at 8pm https://example.com/live",
            ),
        ],
    ),
    (
        "en",
        [
            (-1, "sam_reviews", "Honest take: acme's support fixed my issue in 10 minutes. Rare these days."),
        ],
    ),
    (
        "fr",
        [
            (-1, "lucas_m", "Quelqu'un a testé la bouilloire #acme ? Elle vaut le prix ?"),
        ],
    ),
    (
        "en",
        [
            (-1, "crypto_win_now", "@acme 🚀🚀 FREE AIRDROP claim yours now https://example.net/claim 💰💰"),
        ],
    ),
    (
        "ja",
        [
            (-1, "yuki_t", "@acme ウィジェットの日本語マニュアルはありますか？"),
        ],
    ),
    (
        "en",
        [
            (
                -1,
                "mallory_x",
                "@acme \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ [red]totally fine[/red]",
            ),
        ],
    ),
    (
        "en",
        [
            (-1, "ops_olivia", "@acme is the status page right? The app has been down for us since 9:00 UTC"),
            (0, "B", "Hi Olivia, we're on it: a fix is rolling out, should be back within the hour."),
            (1, "ops_olivia", "@acme back up here, thanks for the update 👍"),
        ],
    ),
]

TICKS: list[tuple[str, str, str]] = [
    ("en", "jo_builds", "@acme any news on the Widget 2 restock? Been waiting a month"),
    ("fr", "nadia_r", "@acme le lien de suivi ne marche pas, il renvoie une erreur 404"),
    ("en", "pete_p", "@acme thanks for replacing my kettle, the new one is great"),
    ("en", "quiet_quinn", "Does anyone else find the #acme app logs you out every day?"),
    ("fr", "hugo_b", "@acme votre service client est injoignable par téléphone depuis ce matin"),
    ("en", "spam_bot_77", "@acme Get 10k followers today!!! https://example.org/grow"),
]


DMS: list[tuple[str, str]] = [
    ("kettle_kate", "Hi, here's the serial from the base: AK-2291-0457. Thanks!"),
    ("claire_dlb", "Bonjour, voici mon numéro de commande : 77120. Merci de votre aide."),
]


def seed_week(server: XServer, rng: random.Random, now: datetime) -> None:
    """Post the threads over the last six days, oldest first, the brand answering in some."""
    start = now - timedelta(days=6)
    step = timedelta(days=6) / (len(THREADS) + 1)
    for index, (lang, posts) in enumerate(THREADS):
        at = start + step * index + timedelta(minutes=rng.randint(0, 90))
        ids: list[str] = []
        for parent, author, text in posts:
            name = server.brand.username if author == "B" else author
            reply_to = ids[parent] if parent >= 0 else None
            ids.append(server.add_post(author=name, text=text, reply_to=reply_to, lang=lang, created_at=at))
            at += timedelta(minutes=rng.randint(4, 120))
    for index, (author, text) in enumerate(DMS):
        server.add_dm(
            author=author, text=text, created_at=now - timedelta(days=3 - index, minutes=rng.randint(0, 60))
        )


def next_post(server: XServer, rng: random.Random, now: datetime) -> str:
    """One more post: a new mention or listening hit, said now."""
    lang, author, text = TICKS[rng.randrange(len(TICKS))]
    return server.add_post(author=author, text=text, lang=lang, created_at=now)
