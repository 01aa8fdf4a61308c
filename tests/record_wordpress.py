"""Record real WordPress answers into tests/data/recorded/wordpress/ (run: python -m tests.record_wordpress).

Starts the real WordPress of tests/real_wordpress.py (Debian's package), makes the requests the
WordPress channel makes, and saves each answer as JSON: {"request", "status", "headers" (the
ones the channel reads), "body"}. tests/test_recorded_wordpress.py serves them back to the
channel. Rerun after a WordPress upgrade; the site's port and dates change, nothing else should.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.real_wordpress import RealWordPress, why_no_wordpress

OUT = Path(__file__).parent / "data" / "recorded" / "wordpress"
HEADERS = ("content-type", "link", "x-wp-total", "x-wp-totalpages", "location", "allow")


def _ask(
    site: RealWordPress, method: str, target: str, login: str | None, password: str | None, body: Any = None
) -> dict[str, Any]:
    request = urllib.request.Request(site.base_url + target, method=method)
    if login and password:
        pair = base64.b64encode(f"{login}:{password.replace(' ', '')}".encode()).decode()
        request.add_header("Authorization", "Basic " + pair)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=30) as answer:
            status, headers, raw = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    text = raw.decode("utf-8")
    return {
        "request": {"method": method, "target": target, "json": body, "as": login or "anonymous"},
        "status": status,
        "headers": {name: headers[name] for name in HEADERS if headers.get(name) is not None},
        "body": json.loads(text) if text.strip() and "json" in headers.get("content-type", "") else text,
    }


def record() -> None:
    site = RealWordPress().start()
    try:
        admin, member = site.admin, site.writer
        assert admin is not None and member is not None
        brand = (admin.login, admin.password)
        first = site.add_comment("Ben & Jerry's", "Where can I buy the Widget 2?")
        held = site.add_comment("Hugo", "My order never came <b>help</b>", status="hold")
        trashed = site.add_comment("Spammy", "cheap watches", status="trash")
        route = "/?rest_route="
        answers = {
            "home_head": _ask(site, "HEAD", "/", None, None),
            "users_me_edit": _ask(site, "GET", f"{route}/wp/v2/users/me&context=edit", *brand),
            "users_me_wrong_password": _ask(
                site, "GET", f"{route}/wp/v2/users/me", admin.login, "abcd efgh ijkl mnop qrst uvwx"
            ),
            "comments_all": _ask(
                site, "GET", f"{route}/wp/v2/comments&orderby=date_gmt&order=desc&per_page=50&status=all",
                *brand,
            ),
            "comments_all_anonymous": _ask(
                site, "GET", f"{route}/wp/v2/comments&orderby=date_gmt&order=desc&per_page=50&status=all",
                None, None,
            ),
            "posts_include": _ask(
                site, "GET", f"{route}/wp/v2/posts&include={site.post}&per_page=100", *brand
            ),
            "comment_edit": _ask(
                site, "GET", f"{route}/wp/v2/comments/{first}&context=edit", *brand
            ),
            "comment_trashed_edit": _ask(
                site, "GET", f"{route}/wp/v2/comments/{trashed}&context=edit", *brand
            ),
            "comment_missing": _ask(
                site, "GET", f"{route}/wp/v2/comments/999&context=edit", *brand
            ),
            "approve_forbidden": _ask(
                site, "POST", f"{route}/wp/v2/comments/{held}", member.login, member.password,
                {"status": "approved"},
            ),
            "approve": _ask(
                site, "POST", f"{route}/wp/v2/comments/{held}", *brand, {"status": "approved"}
            ),
            "reply_created": _ask(
                site, "POST", f"{route}/wp/v2/comments", *brand,
                {"post": site.post, "parent": first, "content": "Thanks &amp; see the footer"},
            ),
            "reply_duplicate": _ask(
                site, "POST", f"{route}/wp/v2/comments", *brand,
                {"post": site.post, "parent": first, "content": "Thanks &amp; see the footer"},
            ),
            "reply_missing_parent": _ask(
                site, "POST", f"{route}/wp/v2/comments", *brand,
                {"post": site.post, "parent": 999, "content": "Under a parent that does not exist"},
            ),
            "reply_anonymous": _ask(
                site, "POST", f"{route}/wp/v2/comments", None, None,
                {"post": site.post, "parent": first, "content": "As nobody"},
            ),
        }  # fmt: skip
        OUT.mkdir(parents=True, exist_ok=True)
        for name, answer in answers.items():
            answer["wordpress"] = site.version
            (OUT / f"{name}.json").write_text(json.dumps(answer, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {len(answers)} answers of WordPress {site.version} into {OUT}")
    finally:
        site.stop()


if __name__ == "__main__":
    if (missing := why_no_wordpress()) is not None:
        sys.exit(missing)
    record()
