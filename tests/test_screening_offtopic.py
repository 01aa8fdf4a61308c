"""Off-topic: a blog comment that shares no word with the post it sits under is one more spam signal.
The WordPress channel reads each post's text once (with its title, in the request it already made)
and hands it with the comments; screening compares them at ingest."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecoinbox.channels.wordpress import WordPressChannel
from ecoinbox.config import parse_config
from ecoinbox.demo.wordpress.server import WordPressServer
from ecoinbox.model import Author, Message, View
from ecoinbox.screening.inbound import Screener
from ecoinbox.screening.offtopic import REASON, WEIGHT, off_topic, topic_share
from ecoinbox.store import open_store

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TITLE = "Winter care for your e-bike battery"
POST = (
    "Cold shortens your range. Store the battery indoors between 10 and 20°C, charge it to about 60% "
    "before a long break, and never charge a battery that is still frozen. Lithium cells age faster "
    "when they sit empty for weeks."
)
PROMO = "Our agency offers professional roof repairs in Leeds at fair prices, call us for a quote"
READER = "Does the battery lose range if I leave it in the garage over winter?"
ASKING = "Is the shop in Lyon open on Sunday afternoons? We would like to come with the kids"
SITE = "https://roofs-leeds.example"
PASSWORD = "abcd efgh ijkl mnop qrst uvwx"


def comment(text: str, post_text: str = POST, site: str | None = None) -> Message:
    author = Author("blog", f"guest:Max|{site or ''}", "Max", "Max", site)
    return Message("blog", "1", author, text, NOW, title=TITLE, post_text=post_text)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_a_comment_that_shares_no_word_with_the_post_is_off_topic():
    assert topic_share(PROMO, f"{TITLE}\n{POST}") == (10, 0.0)
    signal = off_topic(PROMO, f"{TITLE}\n{POST}")
    assert signal is not None and (signal.name, signal.weight, signal.reason) == ("off_topic", WEIGHT, REASON)
    assert off_topic(READER, f"{TITLE}\n{POST}") is None  # battery, range, winter: the post's words
    assert off_topic("Great, thanks!", f"{TITLE}\n{POST}") is None  # too few words to say
    assert off_topic(PROMO, "Launch day") is None  # a post of a title alone: nothing to compare


def test_screening_adds_the_signal_where_the_post_is_known_and_the_comment_gives_a_way_to_reach_someone():
    without = Screener().assess(comment(PROMO, post_text="", site=SITE)).verdict
    with_post = Screener().assess(comment(PROMO, site=SITE)).verdict
    assert REASON in with_post.reasons and REASON not in without.reasons
    assert math.isclose(logit(with_post.score) - logit(without.score), WEIGHT, abs_tol=1e-6)
    assert with_post.is_spam  # the model alone lets it in (below); off-topic tips it over
    assert not without.is_spam
    reader = Screener().assess(comment(READER, site=SITE)).verdict
    assert not reader.is_spam and REASON not in reader.reasons
    # Off-topic, but no link, website, phone or address: a reader asking something else.
    asking = Screener().assess(comment(ASKING)).verdict
    assert off_topic(ASKING, f"{TITLE}\n{POST}") is not None
    assert REASON not in asking.reasons and not asking.is_spam
    assert REASON not in Screener().assess(comment(PROMO)).verdict.reasons  # the same, without its site


async def test_the_wordpress_channel_hands_the_posts_text_and_ingest_judges_it(tmp_path):
    async with WordPressServer(seed=None, app_password=PASSWORD, now=lambda: NOW) as site:
        post = site.add_post("winter-battery", TITLE, NOW - timedelta(days=2), text=POST)
        site.add_comment(
            post=post, author="Roofs Leeds", text=f"<p>{PROMO}</p>", created_at=NOW - timedelta(hours=2),
            author_url=SITE,
        )  # fmt: skip
        site.add_comment(
            post=post, author="Max", text=f"<p>{READER}</p>", created_at=NOW - timedelta(hours=1)
        )
        channel = WordPressChannel("blog", site.base_url, PASSWORD, account="acme_team")
        try:
            page = await channel.poll({})
        finally:
            await channel.aclose()
    messages = sorted(page.messages, key=lambda m: m.created_at)
    assert [m.post_text for m in messages] == [POST, POST] and messages[0].title == TITLE
    settings = parse_config(
        f'[brand]\nname = "Velora"\n[[channels]]\nkind = "wordpress"\nname = "blog"\nbase_url = "{site.base_url}"\n'
        'account = "acme_team"\n',
        Path("test.toml"),
    )
    store = await open_store(tmp_path / "inbox.db", clock=lambda: NOW)
    try:
        await store.attach_screener(Screener.from_settings(settings))
        result = await store.ingest(messages)
        assert len(result.spam) == 1
        [spam] = await store.conversation_page(View.SPAM)
        assert REASON in spam.reason
        [inbox] = await store.conversation_page(View.INBOX)
        assert inbox.snippet == READER
    finally:
        await store.close()


async def test_the_youtube_channel_hands_the_videos_description_and_screening_judges_it():
    """A YouTube comment's parent text is its video's description (read with the title the
    channel already asks for): a comment selling something else there, with a link, is off-topic."""
    import json

    from fakes import Clock

    from ecoinbox.channels.youtube import YouTubeChannel
    from ecoinbox.demo.youtube.server import API, BRAND_CHANNEL, YouTubeServer

    client, secret, refresh = (
        "test-client.apps.example",
        "client-secret-never-shown",
        "refresh-token-never-shown",
    )
    clock = Clock(NOW)
    video = "Winter battery care"
    async with YouTubeServer(
        seed=None, client_id=client, client_secret=secret, refresh_token=refresh, now=clock
    ) as server:
        server.video(video, description=POST)
        server.add_comment(author="max", text=f"{PROMO} {SITE}", video=video, at=NOW - timedelta(minutes=5))
        server.add_comment(author="ana", text=READER, video=video, at=NOW - timedelta(minutes=4))
        channel = YouTubeChannel(
            "videos", server.base_url + API, json.dumps({"client_secret": secret, "refresh_token": refresh}),
            channel_id=BRAND_CHANNEL, client_id=client, token_url=server.base_url + "/token", clock=clock,
        )  # fmt: skip
        try:
            promo, reader = (await channel.poll({})).messages
        finally:
            await channel.aclose()
    assert (promo.title, promo.post_text) == (video, POST) and reader.post_text == POST
    screener = Screener()
    assert REASON in screener.assess(promo).verdict.reasons
    assert not any(s.name == "off_topic" for s in screener.assess(reader).verdict.signals)


async def test_the_discourse_channel_hands_a_replys_topic_first_post_and_screening_judges_it():
    """A forum reply's parent text is its topic's first post (the channel holds it to thread the
    topic): a reply selling something else there, with a link, is off-topic; the first post is not."""
    from ecoinbox.channels.discourse import DiscourseChannel
    from ecoinbox.demo.discourse.server import DiscourseServer

    key = "api-key-never-shown"
    async with DiscourseServer(api_key=key, user_api_key="user-key-never-shown", seed=None) as server:
        asked = server.add_topic(author="ana", title=TITLE, raw=POST, mention_brand=True)
        server.add_post(topic_id=asked["topic_id"], author="max", raw=f"{PROMO} {SITE} @acme_team")
        server.add_post(topic_id=asked["topic_id"], author="leo", raw=f"{READER} @acme_team")
        channel = DiscourseChannel("forum", server.base_url, key, auth="api_key", username="acme_team")
        try:
            messages = (await channel.poll({})).messages
        finally:
            await channel.aclose()
    by_text = {m.text.split()[0]: m for m in messages}
    first, promo, reader = by_text["Cold"], by_text[PROMO.split()[0]], by_text[READER.split()[0]]
    assert first.post_text == "" and promo.post_text.startswith("Cold shortens") and reader.post_text
    screener = Screener()
    assert REASON in screener.assess(promo).verdict.reasons
    assert not any(s.name == "off_topic" for s in screener.assess(reader).verdict.signals)
