"""Two blogs for the demo WordPress servers, deterministic by seed.

`seed_blog` publishes a site's posts and about two weeks of comments on them, in time order (so
comment ids grow with time, as on a live site). The brand's blog ("acme") has a real question
under a product post, praise, a held first-time comment, link-stuffing spam that got through
(approved or held) and spam Akismet already caught (status "spam"), a French comment, the brand
answering, and a few hostile texts. The second blog ("fans", a fan site read through its comment
feed) talks about the brand's products from the outside. `next_comment` continues a site's
stream one comment at a time for `tick()`.

Comment texts are WordPress comment HTML (what `content.raw` holds); `{brand}` marks a reply by
the brand account.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoinbox.demo.wordpress.server import WordPressServer


@dataclass(frozen=True, slots=True)
class PostSpec:
    slug: str
    title: str
    days_ago: int
    comments_open: bool = True


@dataclass(frozen=True, slots=True)
class CommentSpec:
    """One comment of a script: `reply_to` is the index of an earlier comment of the same post."""

    post: int  # index in the site's posts
    author: str  # display name; BRAND for the brand account
    text: str
    status: str = "approved"
    reply_to: int | None = None
    url: str = ""
    email: str = ""


BRAND = "{brand}"

ACME_POSTS: tuple[PostSpec, ...] = (
    PostSpec("introducing-the-acme-widget-2", "Introducing the Acme Widget 2", 13),
    PostSpec("how-we-cut-shipping-times-in-half", "How we cut shipping times in half", 9),
    PostSpec("acme-app-3-0-whats-new", "Acme app 3.0: what's new", 5),
    PostSpec("our-2019-roadmap", "Our 2019 roadmap", 2400, comments_open=False),
)

# Indexes refer to the comments of the same post, in the order of this list.
ACME_COMMENTS: tuple[CommentSpec, ...] = (
    CommentSpec(
        0,
        "Priya Raman",
        "<p>Does the Widget 2 work with the old charging dock, or do I need "
        "the new one? I have two of the v1 docks at the office.</p>",
        email="priya@example.net",
    ),
    CommentSpec(
        0,
        "Great Deals",
        "<p>Great post! Visit my site for the best deals: "
        '<a href="http://cheap-widgets.example/?ref=blog">cheap widgets</a> '
        '<a href="http://cheap-widgets.example/pills">best prices</a> '
        '<a href="http://casino-bonus.example">bonus</a></p>',
        url="http://cheap-widgets.example",
    ),
    CommentSpec(
        0,
        "Marc Dubois",
        "<p>Superbe article ! Est-ce que le Widget 2 sera disponible en France avant l'été ?</p>",
        email="marc@example.fr",
    ),
    CommentSpec(
        0, "Tom Becker", "<p>Pre-ordered mine. The battery numbers look great &#8212; can't wait.</p>"
    ),
    CommentSpec(0, BRAND, "<p>Thanks Tom! Shipping starts on the 12th.</p>", reply_to=3),
    CommentSpec(
        1,
        "Jenny O.",
        "<p>Nice to read. My last two orders still took 6 days to Lyon "
        "though: is Europe included in the new times?</p>",
    ),
    CommentSpec(
        1,
        "SEO Expert",
        "<p>Very informative article, thanks for sharing. I also wrote "
        'about this topic, check <a href="http://seo-backlinks.example">my blog</a> '
        "for more info!!</p>",
        status="hold",
        url="http://seo-backlinks.example",
    ),
    CommentSpec(
        1,
        "replica watches",
        '<p><a href="http://replica.example">replica watches</a> '
        '<a href="http://replica.example/2">cheap replica</a></p>',
        status="spam",
        url="http://replica.example",
    ),
    CommentSpec(1, "Ahmed K.", "<p>Same question as Jenny, I'm in Berlin.</p>", reply_to=0),
    CommentSpec(
        2,
        "Lena Fischer",
        "<p>The new dark mode is lovely. But the app crashes when I open "
        "Settings &gt; Notifications on Android 14. Known issue?</p>",
        status="hold",
        email="lena@example.de",
    ),
    CommentSpec(
        2,
        "Hidden Ink",
        "<p>Looks fine\x1b]0;pwned\x07 until it doesn&#8217;t \u202eevil\u202c &lt;b&gt;bold?&lt;/b&gt;</p>",
    ),
    CommentSpec(
        2,
        "Online Casino",
        "<p>great post! visit my site http://casino-bonus.example http://casino-bonus.example/vip</p>",
        status="spam",
    ),
    CommentSpec(2, "Sam Ortiz", "<p>Can I export my data to CSV from the new app, or only from the web?</p>"),
)

FANS_POSTS: tuple[PostSpec, ...] = (
    PostSpec("acme-widget-2-review", "Acme Widget 2 review: six weeks later", 6),
    PostSpec("best-docks-for-your-widget", "The best docks for your widget", 3),
)

FANS_COMMENTS: tuple[CommentSpec, ...] = (
    CommentSpec(
        0,
        "Nadia",
        "<p>Great review. Did you have the Bluetooth dropouts with the Acme "
        "app? Mine disconnects every hour.</p>",
    ),
    CommentSpec(
        0, "Widget Fans", "<p>Not on my unit, Nadia, but I saw it reported on Acme's forum.</p>", reply_to=0
    ),
    CommentSpec(0, "Oscar", "<p>Acme support fixed my dead battery in two days, for what it's worth.</p>"),
    CommentSpec(1, "Kim", "<p>Any news on whether Acme will make an official v1-compatible dock?</p>"),
    CommentSpec(
        1,
        "Best Docks Shop",
        '<p>Great post! visit my site <a href="http://docks.example">docks</a> for cheap docks</p>',
    ),
)

SITES = {"acme": (ACME_POSTS, ACME_COMMENTS), "fans": (FANS_POSTS, FANS_COMMENTS)}

_TICK_QUESTIONS = (
    "<p>Is there a student discount on the Widget 2?</p>",
    "<p>Where can I find the user manual for the dock? The link in the box is dead.</p>",
    "<p>My order #48213 says delivered but nothing arrived. Who do I contact?</p>",
    "<p>Bonjour, la garantie couvre-t-elle la batterie ?</p>",
    "<p>Love the new colours. Will there be a green one?</p>",
)
_TICK_SPAM = (
    '<p>Great post! visit my site <a href="http://cheap-widgets.example">cheap widgets</a></p>',
    "<p>nice blog!! http://seo-backlinks.example http://seo-backlinks.example/a</p>",
)
_TICK_NAMES = ("Alex P.", "Bea", "Chen Wei", "Dario", "Elif", "Femi", "Greta")


def seed_blog(server: WordPressServer, rng: random.Random, now: datetime, site: str) -> None:
    """Publish `site`'s posts and comments, spread over the days before `now`."""
    posts, comments = SITES[site]
    post_ids = [
        server.add_post(
            spec.slug, spec.title, now - timedelta(days=spec.days_ago), comments_open=spec.comments_open
        )
        for spec in posts
    ]
    # Indexes of each post's comments, in script order (what `reply_to` counts).
    of_post: dict[int, list[int]] = {}
    for index, spec in enumerate(comments):
        of_post.setdefault(spec.post, []).append(index)
    times: list[datetime] = []
    parents: list[int | None] = []
    for spec in comments:
        published = now - timedelta(days=posts[spec.post].days_ago)
        at = published + timedelta(hours=rng.uniform(1, 24 * min(posts[spec.post].days_ago, 12)))
        parent = of_post[spec.post][spec.reply_to] if spec.reply_to is not None else None
        if parent is not None:
            at = max(at, times[parent] + timedelta(minutes=rng.uniform(5, 300)))
        times.append(min(at, now - timedelta(minutes=5)))
        parents.append(parent)
    ids: dict[int, int] = {}
    for index in sorted(range(len(comments)), key=lambda i: times[i]):
        spec, parent = comments[index], parents[index]
        ids[index] = server.add_comment(
            post=post_ids[spec.post],
            author=spec.author,
            text=spec.text,
            parent=ids[parent] if parent is not None else 0,
            status=spec.status,
            author_url=spec.url,
            author_email=spec.email,
            created_at=times[index],
        )


@dataclass(frozen=True, slots=True)
class NextComment:
    post_index: int
    author: str
    text: str
    status: str


def next_comment(rng: random.Random, posts: int) -> NextComment:
    """One more comment for `tick()`: mostly questions, sometimes spam that got past the filter."""
    if rng.random() < 0.3:
        return NextComment(
            rng.randrange(posts), "Great Deals " + str(rng.randrange(100)), rng.choice(_TICK_SPAM), "approved"
        )
    return NextComment(rng.randrange(posts), rng.choice(_TICK_NAMES), rng.choice(_TICK_QUESTIONS), "approved")
