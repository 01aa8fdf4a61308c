"""Talk pages read as DiscussionTools reads them: signatures, indentation, sections, replies."""

from __future__ import annotations

from datetime import UTC, datetime

from ecoinbox.channels.mediawiki.talk import insert_reply, parse_talk_page
from ecoinbox.channels.mediawiki.wikitext import plain_text

PAGE = """Intro, unsigned: not a comment.
== Battery ==
The battery of my '''Acme X2''' dies. [[User:Zoe|Zoe]] ([[User talk:Zoe|talk]]) 10:00, 7 December 2026 (UTC)
:Same here. [[User:Luc|Luc]] ([[User talk:Luc|talk]]) 11:00, 7 December 2026 (UTC)
::Which firmware? [[User:Acme|Acme]] ([[User talk:Acme|talk]]) 12:00, 7 December 2026 (UTC)
:Mine too.
:Second paragraph. --[[Utilisateur:Marie|Marie]] ([[Discussion utilisateur:Marie|discuter]]) 7 décembre 2026 à 13:05 (UTC)
Another remark. [[User:Zoe|Zoe]] ([[User talk:Zoe|talk]]) 10:00, 7 December 2026 (UTC)

== Écran ==
unsigned text
:{{ping|Zoe}} see [https://acme.example/fix the fix] [[Special:Contributions/192.0.2.7|192.0.2.7]] 14:00, 7 December 2026 (UTC)
"""


def test_comments_are_found_by_signature_with_their_level_parent_and_section():
    page = parse_talk_page(PAGE)

    assert [(c.name, c.level, c.parent, c.section) for c in page.comments] == [
        ("c-Zoe-20261207100000", 0, None, 1),
        ("c-Luc-20261207110000", 1, "c-Zoe-20261207100000", 1),
        ("c-Acme-20261207120000", 2, "c-Luc-20261207110000", 1),
        ("c-Marie-20261207130500", 1, "c-Zoe-20261207100000", 1),
        ("c-Zoe-20261207100000-2", 0, "c-Zoe-20261207100000", 1),  # the section is one conversation
        ("c-192.0.2.7-20261207140000", 1, None, 2),
    ]
    marie = page.comments[3]
    assert marie.text == "Mine too.\nSecond paragraph."
    assert marie.timestamp == datetime(2026, 12, 7, 13, 5, tzinfo=UTC)
    assert [s.title for s in page.sections] == ["", "Battery", "Écran"]


def test_a_comments_wikitext_reads_as_text_with_its_links():
    page = parse_talk_page(PAGE)

    assert plain_text(page.comments[0].text, "https://wiki.example/w") == (
        "The battery of my Acme X2 dies.",
        (),
    )
    assert plain_text(page.comments[-1].text, "https://wiki.example/w") == (
        "@Zoe see the fix",
        ("https://acme.example/fix",),
    )


def test_a_reply_goes_one_level_deeper_after_the_replies_already_there():
    page = parse_talk_page(PAGE)

    section, text = insert_reply(page, page.comments[1], "Thanks Luc.\nWe look into it.")

    lines = text.split("\n")
    assert section == 1 and lines[0] == "== Battery =="
    at = lines.index("::Thanks Luc.")
    assert lines[at - 1].startswith("::Which firmware?") and lines[at + 1] == "::We look into it. ~~~~"
    assert lines[at + 2] == ":Mine too."
