"""The local WordPress site behaves like WordPress where a client could be fooled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from ecoinbox.demo.wordpress.server import WordPressServer

AUTH = ("acme_team", "abcdEFGHijklMNOPqrstUVWX")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def test_after_is_strict_and_read_in_the_sites_timezone():
    async with WordPressServer(seed=None, now=lambda: NOW, utc_offset=timedelta(hours=2)) as site:
        post = site.add_post("p", "P", NOW - timedelta(days=1))
        at = NOW - timedelta(hours=1)
        comment = site.add_comment(post=post, author="A", text="x", created_at=at)
        gmt = at.strftime("%Y-%m-%dT%H:%M:%S")
        async with httpx.AsyncClient(base_url=site.base_url, auth=AUTH) as client:

            async def ids(after: str) -> list[int]:
                response = await client.get("/wp-json/wp/v2/comments", params={"after": after})
                return [c["id"] for c in response.json()]

            assert await ids(gmt + "+00:00") == []  # strictly after
            assert await ids((at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S") + "Z") == [comment]
            # Without an offset the date is local (UTC+2): two hours later than meant.
            assert await ids((at - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")) == [comment]
            assert await ids((at - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")) == [comment]
            assert await ids((at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")) == [comment]
            assert await ids((at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")) == []
            bad = await client.get("/wp-json/wp/v2/comments", params={"after": "yesterday"})
            assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


async def test_status_and_edit_context_need_an_account_that_may_moderate():
    async with WordPressServer(seed=1) as site:
        site.add_user("writer", "Writer", "pw pw pw pw", moderator=False)
        async with httpx.AsyncClient(base_url=site.base_url) as client:
            anonymous = await client.get("/wp-json/wp/v2/comments", params={"status": "all"})
            writer = await client.get(
                "/wp-json/wp/v2/comments", params={"status": "all"}, auth=("writer", "pwpwpwpw")
            )
            editor = await client.get(
                "/wp-json/wp/v2/comments", params={"status": "all", "context": "edit"}, auth=AUTH
            )
            public = await client.get("/wp-json/wp/v2/comments", params={"per_page": 100})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "rest_forbidden_param")
    assert (writer.status_code, writer.json()["code"]) == (403, "rest_forbidden_param")
    assert editor.status_code == 200 and {c["status"] for c in editor.json()} == {"approved", "hold"}
    assert "raw" in editor.json()[0]["content"]
    assert {c["status"] for c in public.json()} == {"approved"} and "raw" not in public.json()[0]["content"]


async def test_a_duplicate_comment_is_409_and_a_bad_password_401():
    async with WordPressServer(seed=1) as site:
        post = site.post_ids()[0]
        async with httpx.AsyncClient(base_url=site.base_url, auth=AUTH) as client:
            first = await client.post("/wp-json/wp/v2/comments", json={"post": post, "content": "Hello"})
            again = await client.post("/wp-json/wp/v2/comments", json={"post": post, "content": "Hello"})
            other_parent = await client.post(
                "/wp-json/wp/v2/comments",
                json={"post": post, "parent": first.json()["id"], "content": "Hello"},
            )
            wrong = await client.post(
                "/wp-json/wp/v2/comments", json={"post": post, "content": "x"}, auth=("acme_team", "no")
            )
    assert first.status_code == 201 and first.headers["Location"].endswith(f"/comments/{first.json()['id']}")
    assert (again.status_code, again.json()["code"]) == (409, "comment_duplicate")
    assert other_parent.status_code == 201  # WordPress compares the parent too
    assert (wrong.status_code, wrong.json()["code"]) == (401, "incorrect_password")


async def test_feeds_answer_304_to_their_own_validators():
    async with WordPressServer(seed=1) as site, httpx.AsyncClient(base_url=site.base_url) as client:
        for path in ("/comments/feed/", "/comments/feed/atom/"):
            first = await client.get(path)
            assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
            etag = await client.get(path, headers={"If-None-Match": first.headers["ETag"]})
            since = await client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
            assert (etag.status_code, since.status_code) == (304, 304)
        site.tick()
        assert (
            await client.get("/comments/feed/", headers={"If-None-Match": first.headers["ETag"]})
        ).status_code == 200


def content(site: WordPressServer) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "_links"} for c in site.comments()]  # links name the port


async def test_seeded_traffic_is_deterministic_and_looks_like_a_blog():
    async with (
        WordPressServer(seed=3, now=lambda: NOW) as one,
        WordPressServer(seed=3, now=lambda: NOW) as two,
    ):
        assert content(one) == content(two)
        assert one.tick() == two.tick() and content(one) == content(two)
        statuses = {c["status"] for c in one.comments()}
        texts = " ".join(c["content"]["raw"] for c in one.comments())
    assert statuses == {"approved", "hold", "spam"}
    assert "charging dock" in texts and "visit my site" in texts.lower()


# --- habits of real WordPress (tests/real_wordpress.py shows each on WordPress 6.1) ---------------


async def test_the_home_page_names_the_api_root_and_plain_permalinks_answer_only_at_rest_route():
    async with (
        WordPressServer(seed=1, pretty_permalinks=False) as plain,
        WordPressServer(seed=1) as pretty,
        httpx.AsyncClient(auth=AUTH) as client,
    ):
        assert (await client.head(pretty.base_url + "/")).headers["Link"] == (
            f'<{pretty.base_url}/wp-json/>; rel="https://api.w.org/"'
        )
        assert "?rest_route=/>" in (await client.head(plain.base_url + "/")).headers["Link"]
        home = await client.get(plain.base_url + "/wp-json/wp/v2/comments")
        assert home.status_code == 200 and home.headers["Content-Type"].startswith("text/html")
        routed = await client.get(
            plain.base_url + "/", params={"rest_route": "/wp/v2/comments", "per_page": 3}
        )
        assert routed.status_code == 200 and len(routed.json()) == 3 and plain.rest_route_hits == 1
        assert plain.requests[-1].path == "/wp-json/wp/v2/comments"  # recorded as the route it names


async def test_a_bad_password_is_served_as_anonymous_where_wordpress_does_so():
    async with WordPressServer(seed=1, anonymous_on_bad_password=True) as site:
        client = httpx.AsyncClient(base_url=site.base_url, auth=("acme_team", "nope"))
        async with client:
            me = await client.get("/wp-json/wp/v2/users/me")
            public = await client.get("/wp-json/wp/v2/comments")
            held = await client.get("/wp-json/wp/v2/comments", params={"status": "all"})
    assert (me.status_code, me.json()["code"]) == (401, "rest_not_logged_in")
    assert public.status_code == 200 and {c["status"] for c in public.json()} == {"approved"}
    assert (held.status_code, held.json()["code"]) == (401, "rest_forbidden_param")


async def test_unchecked_parents_approving_and_kses_names():
    async with WordPressServer(
        seed=None, checks_parent=False, kses_author_names=True, now=lambda: NOW
    ) as site:
        post = site.add_post("p", "P", NOW - timedelta(days=1))
        held = site.add_comment(post=post, author="Ben & Jerry's", text="hi", status="hold")
        async with httpx.AsyncClient(base_url=site.base_url, auth=AUTH) as client:
            orphan = await client.post(
                "/wp-json/wp/v2/comments", json={"post": post, "parent": 999, "content": "x"}
            )
            approved = await client.post(f"/wp-json/wp/v2/comments/{held}", json={"status": "approved"})
            anonymous = await client.post(
                f"/wp-json/wp/v2/comments/{held}", json={"status": "hold"}, auth=None
            )
    assert orphan.status_code == 201 and orphan.json()["parent"] == 999  # as WordPress 6.1 does
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["author_name"] == "Ben &amp; Jerry's"
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "rest_cannot_edit")


async def test_the_moderation_queue_approves_held_comments_keeping_their_date():
    clock = [NOW]
    async with WordPressServer(
        seed=None, approve_held_after=timedelta(hours=1), now=lambda: clock[0]
    ) as site:
        post = site.add_post("p", "P", NOW - timedelta(days=1))
        held = site.add_comment(post=post, author="A", text="x", status="hold", created_at=NOW)
        async with httpx.AsyncClient(base_url=site.base_url) as client:
            before = await client.get("/wp-json/wp/v2/comments")
            clock[0] = NOW + timedelta(hours=1)
            after = await client.get("/wp-json/wp/v2/comments")
    assert before.json() == [] and [(c["id"], c["date_gmt"]) for c in after.json()] == [
        (held, NOW.strftime("%Y-%m-%dT%H:%M:%S"))
    ]
