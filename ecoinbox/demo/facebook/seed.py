"""A day of Facebook and Instagram traffic about Acme for the local Graph server, by seed.

The Page's posts with comments and replies (a complaint, questions, praise, spam, one hostile
comment with escapes and markup look-alikes), a visitor post, a post tagging the Page, Messenger conversations (one
recent, one whose 24-hour window has closed), and Instagram media with comments, in English and
French. `tick` adds one more comment, message or Instagram comment.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from ecoinbox.demo.facebook.records import Comment, Person

if TYPE_CHECKING:
    from ecoinbox.demo.facebook.server import GraphServer

__all__ = ["PEOPLE", "seed_traffic", "tick"]

PEOPLE = (
    Person("7100000000000001", "Alice Martin", "alice.martin"),
    Person("7100000000000002", "Julien Moreau", "julien_moreau"),
    Person("7100000000000003", "Priya Shah", "priya.makes"),
    Person("7100000000000004", "Tom Becker", "tombecker"),
    Person("7100000000000005", "Camille Roux", "camille.rx"),
    Person("7100000000000006", "Free Gifts Today", "free.gifts.today"),
    Person("7100000000000007", "Marc Dupont", "marc.dupont"),
)
ALICE, JULIEN, PRIYA, TOM, CAMILLE, SPAMMER, MARC = PEOPLE  # Marc wrote once, 30 hours ago

POSTS: tuple[tuple[str, list[tuple[Person | None, str, int | None]]], ...] = (
    (
        (
            "Our new Acme Sync app is here! Faster backups, a dark mode, and your photos in one tap. "
            "Tell us what you think 👇"
        ),
        [
            (ALICE, "Does this ship to Canada? The store says 'unavailable in your region'.", None),
            (None, "Hi Alice! Yes, Canada is coming next month: we will post here when it opens.", 0),
            (ALICE, "Great, thanks!", 0),
            (
                JULIEN,
                (
                    "Depuis la mise à jour, l'appli plante à chaque ouverture sur mon Pixel 8. "
                    "C'est inadmissible, j'ai perdu mes sauvegardes."
                ),
                None,
            ),
            (SPAMMER, "🎁 FREE iPhone 15 for the first 100 people!! Click www.free-gifts.example now", None),
            (TOM, "\x1b]0;pwned\x07[bold red]Dark mode[/] looks great, but where is the setting?", None),
        ],
    ),
    (
        "Nouvelle semaine, nouveaux conseils : comment partager un album Acme avec votre famille 📸",
        [
            (CAMILLE, "Est-ce qu'on peut partager avec quelqu'un qui n'a pas de compte Acme ?", None),
            (
                PRIYA,
                "My order #4471 never arrived and nobody answers the support email. Third week now.",
                None,
            ),
        ],
    ),
)
MESSAGES = (
    (PRIYA, "Hi, I wrote on your post too: order #4471, still nothing. Can you check?", timedelta(hours=2)),
    (MARC, "Bonjour, je voudrais un remboursement pour mon abonnement annuel.", timedelta(hours=30)),
)
MEDIA = (
    (
        "Sunday mornings with Acme Notes ☕ #productivity",
        [
            (CAMILLE, "Trop bien ! C'est dispo sur iPad ?"),
            (TOM, "The sync between phone and laptop is so slow since Friday"),
        ],
    ),
    ("Behind the scenes at the Acme lab 🔬", [(SPAMMER, "DM us to get 10k followers fast 🚀🚀")]),
)
TICKS = (
    "Any news on the Android crash? Still happening this morning.",
    "Est-ce que l'abonnement famille inclut le stockage partagé ?",
    "Love the new dark mode, thanks team!",
    "I was charged twice this month, who can I talk to?",
    "Le service client m'a répondu en 5 minutes, bravo.",
    "How do I move my notes from the old app to Acme Notes?",
    "Ma commande est bloquée « en préparation » depuis 6 jours…",
    "Is there a student discount on Acme Cloud?",
    "The sync button does nothing on my iPad since the update.",
    "Vous livrez en Belgique ?",
    "Cancelled my subscription but I'm still being billed. Not ok.",
    "Merci pour le remboursement rapide 👍",
)


def seed_traffic(server: GraphServer, seed: int) -> None:
    """Fill `server` with a day of posts, comments, Messenger and Instagram traffic."""
    rng = random.Random(seed)
    now = server.now()
    for index, (text, comments) in enumerate(POSTS):
        start = now - timedelta(hours=20 - 8 * index)
        post = server.add_post(server.page, text, start)
        made: list[Comment] = []
        for step, (person, body, reply_to) in enumerate(comments):
            at = start + timedelta(minutes=20 * (step + 1) + rng.randint(0, 9))
            parent = made[reply_to].id if reply_to is not None else None
            made.append(server.add_comment(post.id, person or server.page, body, at, reply_to=parent))
    visitor = server.add_post(
        TOM, "Hey Acme, is there a student discount on Acme Cloud?", now - timedelta(hours=3)
    )
    server.add_comment(visitor.id, PRIYA, "Asked the same last year, they said 20% with a student card.",
                       now - timedelta(hours=2))  # fmt: skip
    server.add_tagged_post(
        CAMILLE, "Première commande chez Acme, livrée en 2 jours, top ! 📦", now - timedelta(hours=5)
    )
    for person, text, ago in MESSAGES:
        server.add_message(person, text, now - ago)
    server.add_message(CAMILLE, "Coucou ! Le carnet Acme Notes existe en vert ?", now - timedelta(hours=4),
                       instagram=True)  # fmt: skip
    for index, (caption, remarks) in enumerate(MEDIA):
        media = server.add_media(caption, now - timedelta(hours=10 + 5 * index))
        for step, (someone, said) in enumerate(remarks):
            server.add_comment(media.id, someone, said, media.created + timedelta(minutes=30 * (step + 1)))


def tick(server: GraphServer, rng: random.Random, *, instagram: bool = False) -> None:
    """One more comment or Messenger message (an Instagram comment with `instagram`), as the
    brand's people write: someone, something, somewhere among the latest posts."""
    person = rng.choice(PEOPLE[:5])
    text = rng.choice(TICKS)
    if instagram:
        recent = sorted(server.media.values(), key=lambda m: m.created)[-2:]
        if rng.random() < 0.25:
            server.add_message(person, text, instagram=True)
        elif recent:
            server.add_comment(rng.choice(recent).id, person, text)
        return
    posts = sorted(server.posts.values(), key=lambda p: p.created)[-3:]
    if posts and rng.random() < 0.7:
        post = rng.choice(posts)
        earlier = [c for c in server.comments.values() if c.on == post.id and c.parent is None]
        reply_to = rng.choice(earlier).id if earlier and rng.random() < 0.3 else None
        server.add_comment(post.id, person, text, reply_to=reply_to)
    else:
        server.add_message(person, text)
