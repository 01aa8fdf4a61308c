"""The Graph API client Facebook and Instagram share: errors, throttling headers, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock

from ecoinbox.channels.base import PermanentError, TransientError, UncertainSend
from ecoinbox.channels.graph import GraphClient, graph_time, parse_usage
from ecoinbox.demo.facebook.records import Person
from ecoinbox.demo.facebook.server import PAGE_ID, GraphServer

TOKEN = "graph-token-91ab-never-in-urls"


def test_usage_headers_are_read_as_meta_documents_them() -> None:
    headers = {
        "x-app-usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
        "x-business-use-case-usage": '{"112233":[{"type":"pages","call_count":100,"total_cputime":40,'
        '"total_time":40,"estimated_time_to_regain_access":12}]}',
    }
    app, pages = parse_usage(headers)
    assert (app.source, app.highest, app.regain_minutes) == ("app", 28, 0)
    assert (pages.source, pages.highest, pages.regain_minutes) == ("pages", 100, 12)
    assert pages.words == "pages (business use case): 100% of the limit used, blocked for about 12 min more"
    assert parse_usage({"x-app-usage": "not json"}) == []


def test_graph_times_with_a_basic_offset_are_read() -> None:
    assert graph_time("2026-05-01T10:00:00+0000") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert graph_time("2026-05-01T12:00:00+0200") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        graph_time("2026-05-01T10:00:00")


async def test_paging_follows_cursors_never_the_next_url_that_carries_the_token() -> None:
    clock = Clock()
    async with GraphServer(seed=None, now=clock, page_token=TOKEN) as server:
        post = server.add_post(server.page, "Hello", clock() - timedelta(hours=1))
        for n in range(7):
            server.add_comment(post.id, Person("1", "A"), f"c{n}", clock() - timedelta(minutes=50 - n))
        graph = GraphClient("fb", server.base_url, TOKEN, clock=clock)
        try:
            pages = [page async for page in graph.pages(f"{post.id}/comments", {"limit": "3"}, max_pages=10)]
        finally:
            await graph.aclose()
    assert [len(page.items) for page in pages] == [3, 3, 1] and pages[-1].after is None
    assert all("access_token" not in request.query for request in server.requests)
    assert all(request.path.startswith("/v23.0/") for request in server.requests)


async def test_errors_are_said_with_their_code_and_trace_and_a_full_usage_pauses_the_app() -> None:
    clock = Clock()
    async with GraphServer(seed=None, now=clock, page_token=TOKEN, hourly_budget=3) as server:
        graph = GraphClient("fb", server.base_url, TOKEN, clock=clock)
        try:
            with pytest.raises(PermanentError, match=r"does not exist \(code 100, subcode 33, trace "):
                await graph.get("424242")
            await graph.get(PAGE_ID)
            with pytest.raises(TransientError, match=r"Meta throttles this app until .* \(.*code 80001"):
                await graph.get(PAGE_ID)  # the third call uses the budget up
            asked = len(server.requests)
            with pytest.raises(TransientError, match="Meta throttles this app until"):
                await graph.get(PAGE_ID)  # the fourth waits without calling
            assert len(server.requests) == asked
            assert graph.throttled_until is not None and graph.throttled_until >= clock() + timedelta(
                minutes=9
            )
        finally:
            await graph.aclose()


async def test_an_unreadable_answer_is_said_and_a_lost_post_is_uncertain() -> None:
    clock = Clock()
    async with GraphServer(seed=None, now=clock, page_token=TOKEN) as server:
        graph = GraphClient("fb", server.base_url, TOKEN, clock=clock)
        try:
            server.inject(f"/v23.0/{PAGE_ID}", status=200, body='{"id": "cut off', times=2)
            with pytest.raises(TransientError, match="unreadable answer to GET") as read:
                await graph.get(PAGE_ID)
            assert not isinstance(read.value, UncertainSend)
            with pytest.raises(UncertainSend, match="unreadable answer to POST"):
                await graph.post(PAGE_ID, {"is_hidden": "true"})
        finally:
            await graph.aclose()
