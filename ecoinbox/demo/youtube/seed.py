"""A day of comments on the brand's YouTube channel: questions, complaints, praise and spam, in
English and French, some held for review, a few answered by the brand."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.demo.youtube.server import YouTubeServer

REVIEW = "Pulse 3, one month later"
UNBOXING = "Unboxing the Pulse 3"
FR = "Pulse 3 : le test complet"

# (minutes ago, video, author, text, status, replies as (minutes ago, author, text))
DAY: tuple[tuple[int, str, str, str, str, tuple[tuple[int, str, str], ...]], ...] = (
    (1300, REVIEW, "marco_tech", "Does the Pulse 3 work with the old charging dock or do I need the new one?",
     "published", ((1290, "acme", "The old dock works, only fast charging needs the new one."),
                   (1200, "marco_tech", "Perfect, thanks!"))),
    (1100, UNBOXING, "lea.dubois", "Le mien s'éteint tout seul depuis la mise à jour 3.2, c'est normal ?",
     "published", ()),
    (980, REVIEW, "sam_reviews", "Battery went from 3 days to barely one since the update. Anyone else?",
     "published", ((960, "kenji_w", "Same here, lost about half."), (940, "priya.n", "Same, Pixel 8."))),
    (900, FR, "julien_m", "Commande passée il y a 3 semaines, toujours rien reçu. Numéro 48213.",
     "published", ()),
    (820, UNBOXING, "crypto_gains_now", "I made $5,000 a week with this one trick, DM me on telegram @fastcash",
     "likelySpam", ()),
    (700, REVIEW, "nina_w", "Honestly the best watch I've owned, the sleep tracking is spot on.",
     "published", ((690, "acme", "Thank you Nina, glad it helps you sleep better!"),)),
    (610, FR, "camille_r", "Est-ce qu'on peut changer le bracelet sans outil ?", "published", ()),
    (520, REVIEW, "tom_okafor", ("Got charged twice for my order, support hasn't answered in 10 days. "
     "See https://shop.example/order/7781"), "heldForReview", ()),
    (430, UNBOXING, "free_giftcards", "FREE gift cards for the first 100 viewers >>> giftz.example",
     "likelySpam", ()),
    (360, REVIEW, "dan_h", "Refund requested 10 days ago, still nothing. Not impressed.", "published", ()),
    (240, FR, "manon", "Super vidéo, merci ! Il sort quand en noir ?", "published", ()),
    (150, UNBOXING, "hana_sato", "Can I use it while swimming in the sea, or only in a pool?", "published", ()),
    (60, REVIEW, "glitch", "App crashes every time I open the sleep tab, Android 14.", "published", ()),
)  # fmt: skip

NEW = (
    (REVIEW, "Is there a way to turn off the always-on display?"),
    (FR, "Bonjour, le GPS met 5 minutes à se connecter, une solution ?"),
    (UNBOXING, "The strap broke after two weeks, how do I get a replacement?"),
    (REVIEW, "Just ordered mine after this video 🎉"),
    (FR, "Toujours pas de remboursement après 15 jours, je commence à m'inquiéter."),
    (UNBOXING, "Does it show WhatsApp messages or only SMS?"),
)
PEOPLE = ("alex_p", "sophie_l", "yuki", "rene_l", "ben_k", "chloe", "omar_t", "zoe")


def seed_day(server: YouTubeServer, rng: random.Random, now: datetime) -> None:
    for minutes, video, author, text, status, replies in DAY:
        top = server.add_comment(author=author, text=text, video=video,
                                 at=now - timedelta(minutes=minutes), status=status)  # fmt: skip
        for reply_minutes, reply_author, reply_text in replies:
            server.add_reply(parent=top, author=reply_author, text=reply_text,
                             at=now - timedelta(minutes=reply_minutes))  # fmt: skip


def next_item(server: YouTubeServer, rng: random.Random, now: datetime) -> str:
    """Someone comments: a new question most of the time, else an answer in a recent thread."""
    tops = server.top_level_ids()[:5]
    if tops and rng.random() < 0.3:
        return server.add_reply(parent=rng.choice(tops), author=rng.choice(PEOPLE),
                                text=rng.choice(("Same question here.", "Pareil pour moi.", "+1, any news?")),
                                at=now)  # fmt: skip
    video, text = rng.choice(NEW)
    return server.add_comment(author=rng.choice(PEOPLE), text=text, video=video, at=now)
