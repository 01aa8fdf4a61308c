"""A day of Reddit traffic about the brand for the demo Reddit server, deterministic by seed.

Subreddit threads about the brand (found by the channel's search), username mentions
("ask u/acme"), people answering the brand's comments, replies under the brand's own weekly
support post, one French thread, a [deleted] and a [removed] comment, and a few hostile
comments (terminal escapes, markup look-alikes) the inbox must show harmlessly. `next_item`
continues the stream one comment at a time for `tick()`.

Texts use `{brand}` (the account name) and `{Brand}` (the brand's display name).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.demo.reddit.server import RedditServer

# (subreddit, author, title, selftext or "", link url or None, [(parent index, author, body)])
# Comment parents: -1 is the post, n the n-th comment of the thread. "B" is the brand.
THREADS: list[tuple[str, str, str, str, str | None, list[tuple[int, str, str]]]] = [
    (
        "BuyItForLife",
        "kettle_enjoyer",
        "Is the {Brand} kettle actually worth it?",
        (
            "Mine is 2 years old and the lid hinge started to wobble. Is that normal? Thinking about "
            "getting a replacement but the price went up a lot."
        ),
        None,
        [
            (-1, "BIFL_Ben", "Had mine for 6 years. The hinge is a known weak spot, the rest is a tank."),
            (0, "kettle_enjoyer", "Good to know. Did you get it fixed under warranty?"),
            (
                -1,
                "throwaway_8812",
                "Ask u/{brand}, they actually answer on here. Got a free hinge last year.",
            ),
            (
                -1,
                "B",
                (
                    "Hi! The lid hinge is covered for 5 years. Send us your order number by DM "
                    "and we'll ship a new one."
                ),
            ),
            (3, "kettle_enjoyer", "Sent! Thanks, that was quick 🙏"),
        ],
    ),
    (
        "gadgets",
        "dev_null_42",
        "{Brand} Widget 3 review after six months",
        "",
        "https://blog.example/widget-3-six-months",
        [
            (-1, "marcus_h", "The app is the weak part. **Crashes every time** I open the settings screen."),
            (0, "sarah_codes", "Same here on Android 14. u/{brand} any news on a fix?"),
            (-1, "techbro_99", "Honestly the hardware is fine, battery life is great."),
            (-1, "quiet_lurker", "[deleted]"),
            (3, "dev_null_42", "No, it's not a scam. Read the review before commenting."),
        ],
    ),
    (
        "acme",
        "B",
        "Weekly support thread: ask us anything",
        (
            "Post your questions about orders, the app and your devices here. The team answers "
            "every weekday. For anything with personal data, please use DMs."
        ),
        None,
        [
            (-1, "lina_makes", "Where can I export my data to CSV? The help page moved."),
            (-1, "pkt_tracker", 'My order #4471 has been "label created" for 9 days. Is it lost?'),
            (-1, "helpmepls", "Fish & chips <3 — also, does the kettle work on 110V?"),
        ],
    ),
    (
        "france",
        "camille_d",
        "Quelqu'un a essayé les bouilloires {Brand} ?",
        "Je cherche une bouilloire qui dure. Le SAV est-il réactif en France ?",
        None,
        [
            (-1, "julien_velo", "Oui, très bon SAV. Vous pouvez demander à u/{brand} directement."),
            (-1, "amelie_r", "La mienne fuit depuis une semaine, j'attends toujours une réponse…"),
        ],
    ),
    (
        "CasualConversation",
        "glitchy",
        "Weirdest customer support chat you ever had?",
        "Mine was with a kettle company.",
        None,
        [
            (-1, "glitchy", "u/{brand} \x1b]0;pwned\x07 support \x1b[2J replied in 3 minutes, I was shocked"),
            (
                -1,
                "markup_fan",
                "[bold red]ADMIN[/] u/{brand} please call [link=https://evil.example]here[/link]",
            ),
            (-1, "rtl_user", "u/{brand} \u202etroppus\u202c is great"),
        ],
    ),
]

# Comments that will be removed by a moderator once seeded (thread index, comment index).
REMOVED = [(1, 2)]

NEW_MENTIONS = [
    ("sarah_codes", "gadgets", "u/{brand} the settings crash is still there after today's update."),
    ("BIFL_Ben", "BuyItForLife", "For what it's worth u/{brand} replaced my base for free, no questions."),
    ("noor_a", "gadgets", "Does anyone know if u/{brand} ships to Canada yet?"),
    ("amelie_r", "france", "u/{brand} toujours pas de réponse pour ma bouilloire qui fuit 😞"),
    ("lina_makes", "acme", "Thanks u/{brand}, found the CSV export. Maybe pin it?"),
]
COMEBACKS = [
    "Thanks, that fixed it!",
    "Still not working for me, sorry.",
    "Got it, I'll send the order number now.",
    "Merci beaucoup !",
]


def _fill(text: str, brand: str) -> str:
    return text.replace("{brand}", brand).replace("{Brand}", brand.capitalize())


def seed_day(server: RedditServer, rng: random.Random, now: datetime) -> None:
    """Publish the scripted threads over the 24 hours before `now`, in time order."""
    brand = server.brand.name
    starts = sorted(rng.uniform(2, 23) for _ in THREADS)
    for number, ((subreddit, author, title, selftext, url, comments), hours) in enumerate(
        zip(THREADS, reversed(starts), strict=True)
    ):
        at = now - timedelta(hours=hours)
        post = server.add_post(
            author=brand if author == "B" else author, subreddit=subreddit, title=_fill(title, brand),
            selftext=_fill(selftext, brand), url=url, created_at=at,
        )  # fmt: skip
        names: list[str] = []
        for parent, who, body in comments:
            at += timedelta(minutes=rng.randint(4, 70))
            at = min(at, now - timedelta(minutes=1))
            names.append(
                server.add_comment(
                    author=brand if who == "B" else who,
                    parent=post if parent < 0 else names[parent],
                    body=_fill(body, brand),
                    created_at=at,
                )
            )
            if body == "[deleted]":
                server.delete(names[-1])
        for thread, index in REMOVED:
            if thread == number:
                server.delete(names[index], removed=True)


def next_item(server: RedditServer, rng: random.Random, now: datetime) -> str:
    """One more comment: someone answering the brand's latest comment, or a new mention."""
    brand = server.brand.name
    waiting = [name for name in server.brand_comments() if not server.replies_to(name)]
    if waiting and rng.random() < 0.4:
        target = waiting[-1]
        parent_author = server.comment(target)["parent_id"]
        who = _author_of(server, parent_author) or "kettle_enjoyer"
        return server.add_comment(author=who, parent=target, body=rng.choice(COMEBACKS), created_at=now)
    author, subreddit, body = rng.choice(NEW_MENTIONS)
    post = server.newest_post_in(subreddit)
    if post is None:
        post = server.add_post(author=author, subreddit=subreddit, title="Quick question", created_at=now)
    return server.add_comment(author=author, parent=post, body=_fill(body, brand), created_at=now)


def _author_of(server: RedditServer, fullname: str) -> str | None:
    if not fullname.startswith("t1_"):
        return None
    author = server.comment(fullname)["author"]
    return author if author != "[deleted]" else None
