"""Contacts across channels in the store: linked only where the platforms prove it, by hand,
unlinked for good, with who and why; a person's conversations on every channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import Clock

from ecoinbox.contacts import claim, normalize_proof
from ecoinbox.model import Author, Message, Origin, State

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FORUM_PROFILE = "https://forum.example/u/sophie_l"
# Mastodon verified (rel=me) that her forum profile links back to her account.
SOPHIE_MASTODON = Author(
    "mastodon",
    "101",
    "sophie@mamot.example",
    "Sophie Lefèvre",
    "https://mamot.example/@sophie",
    proofs=("https://mamot.example/@sophie", claim("http://forum.example/u/sophie_l/")),
)
SOPHIE_FORUM = Author("forum", "7", "sophie_l", "Sophie Lefèvre", FORUM_PROFILE, proofs=(FORUM_PROFILE,))
# Same display name, no proof: never the same person for ecoinbox.
OTHER_SOPHIE = Author("bluesky", "did:plc:x", "sophie.bsky.example", "Sophie Lefèvre",
                      "https://bsky.app/profile/sophie.bsky.example")  # fmt: skip
# A blog comment's typed website proves nothing: it is not a proof.
BLOG_SOPHIE = Author("blog", "guest:Sophie", "Sophie", "Sophie", FORUM_PROFILE)


def post(author: Author, remote_id: str, at: int, *, parent: str | None = None) -> Message:
    return Message(
        channel=author.channel, remote_id=remote_id, author=author, text=f"post {remote_id}",
        created_at=T0 + timedelta(hours=at), in_reply_to=parent, origin=Origin.MENTION,
    )  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=1))


async def author_id(store, author: Author) -> int:
    row = await store._read().execute_fetchall(
        "SELECT id FROM authors WHERE channel = ? AND remote_id = ?", (author.channel, author.remote_id)
    )
    return int(next(iter(row))[0])


def test_proofs_meet_whatever_the_spelling():
    assert normalize_proof("http://WWW.Forum.example/u/sophie_l/") == "https://forum.example/u/sophie_l"
    assert normalize_proof("https://forum.example/u/Sophie_L") != normalize_proof(FORUM_PROFILE)
    assert normalize_proof("mailto:Sophie@Example.ORG") == "mailto:sophie@example.org"
    assert normalize_proof("javascript:alert(1)") is None
    assert normalize_proof("https://127.0.0.1:8443/u/x") == "https://127.0.0.1:8443/u/x"


async def test_a_verified_link_links_accounts_across_channels_in_either_order(store):
    await store.ingest([post(SOPHIE_FORUM, "f1", 0)])
    await store.ingest(
        [post(SOPHIE_MASTODON, "m1", 2), post(OTHER_SOPHIE, "b1", 3), post(BLOG_SOPHIE, "w1", 4)]
    )
    forum = await store.contact(await author_id(store, SOPHIE_FORUM))
    assert forum.id is not None
    assert {(a.channel, a.handle) for a in forum.accounts} == {
        ("forum", "sophie_l"),
        ("mastodon", "sophie@mamot.example"),
    }
    mastodon = next(a for a in forum.accounts if a.channel == "mastodon")
    assert mastodon.linked_by == "proof" and "forum.example/u/sophie_l" in mastodon.why
    # Newest first, both channels; the first contact is her forum post.
    assert [(c.channel, c.snippet) for c in forum.conversations] == [
        ("mastodon", "post m1"),
        ("forum", "post f1"),
    ]
    assert forum.first_contact == T0
    # Same name elsewhere, or a typed website: a contact of one.
    for alone in (OTHER_SOPHIE, BLOG_SOPHIE):
        contact = await store.contact(await author_id(store, alone))
        assert contact.id is None and len(contact.accounts) == 1 and len(contact.conversations) == 1


async def test_the_same_email_address_links_two_mailboxes(store):
    support = Author("support", "zoe@x.org", "zoe@x.org", "Zoé", proofs=("mailto:Zoe@X.org",))
    press = Author("press", "zoe@x.org", "zoe@x.org", "Zoe L.", proofs=("mailto:zoe@x.org",))
    await store.ingest([post(support, "<a@x>", 0), post(press, "<b@x>", 1)])
    contact = await store.contact(await author_id(store, press))
    assert {a.channel for a in contact.accounts} == {"support", "press"}
    assert "the same email address (zoe@x.org)" in {a.why for a in contact.accounts}


async def test_seeing_the_proofs_again_writes_nothing(store):
    await store.ingest([post(SOPHIE_FORUM, "f1", 0), post(SOPHIE_MASTODON, "m1", 1)])
    events = await store.contact_events(await author_id(store, SOPHIE_FORUM))
    await store.ingest([post(SOPHIE_FORUM, "f2", 2), post(SOPHIE_MASTODON, "m2", 3)])
    assert await store.contact_events(await author_id(store, SOPHIE_FORUM)) == events
    assert [e[1:3] for e in events] == [("proof", "linked")]


async def test_link_by_hand_then_unlink_for_good(store):
    camille_m = Author("mastodon", "5", "camille@piaille.example", "Camille D.")
    camille_f = Author("forum", "9", "camille_d", "Camille Dupont", "https://forum.example/u/camille_d",
                       proofs=("https://forum.example/u/camille_d",))  # fmt: skip
    await store.ingest([post(camille_m, "m1", 0), post(camille_f, "f1", 1)])
    m, f = await author_id(store, camille_m), await author_id(store, camille_f)
    assert (await store.contact(m)).id is None  # no proof: not linked
    assert await store.link_authors(m, f, actor="Sam", reason="same order number") is True
    assert await store.link_authors(f, m, actor="Sam") is False  # already one person
    contact = await store.contact(f)
    assert {a.author_id for a in contact.accounts} == {m, f}
    assert {(a.linked_by, a.why) for a in contact.accounts} == {("Sam", "same order number")}
    await store.set_contact_note(m, "prefers French; VAT invoices", actor="Sam")
    assert (await store.contact(f)).note == "prefers French; VAT invoices"

    assert await store.unlink_author(m, actor="Sam", reason="not her") is True
    assert (await store.contact(m)).accounts[0].author_id == m and len((await store.contact(m)).accounts) == 1
    assert [a.author_id for a in (await store.contact(f)).accounts] == [f]
    history = await store.contact_events(m)
    assert [(e[1], e[2], e[3]) for e in history] == [
        ("Sam", "linked", "same order number"), ("Sam", "note", "prefers French; VAT invoices"),
        ("Sam", "unlinked", "not her"),
    ]  # fmt: skip
    # A proof that turns up later does not undo the manager's "not one person".
    proven = Author("mastodon", "5", "camille@piaille.example", "Camille D.",
                    proofs=(claim("https://forum.example/u/camille_d"),))  # fmt: skip
    await store.ingest([post(proven, "m2", 3)])
    assert len((await store.contact(m)).accounts) == 1
    # ... but the manager may link them again.
    assert await store.link_authors(m, f, actor="Sam") is True


async def test_merging_two_contacts_keeps_both_notes_and_every_conversation(store):
    a = Author("mastodon", "1", "a@x", "A")
    b = Author("forum", "2", "a_forum", "A")
    c = Author("mail", "a@y", "a@y", "A")
    d = Author("bluesky", "did:4", "a.example", "A")
    await store.ingest([post(a, "1", 0), post(b, "2", 1), post(c, "3", 2), post(d, "4", 3, parent=None)])
    ia, ib, ic, id_ = [await author_id(store, x) for x in (a, b, c, d)]
    await store.link_authors(ia, ib, actor="Sam")
    await store.set_contact_note(ia, "first note", actor="Sam")
    await store.link_authors(ic, id_, actor="Sam")
    await store.set_contact_note(ic, "second note", actor="Sam")
    await store.link_authors(ib, ic, actor="Sam")
    contact = await store.contact(id_)
    assert {x.author_id for x in contact.accounts} == {ia, ib, ic, id_}
    assert contact.note == "first note\n\nsecond note"
    assert len(contact.conversations) == 4
    rows = await store._read().execute_fetchall("SELECT count(*) FROM contacts")
    assert next(iter(rows))[0] == 1


async def test_a_reply_in_someone_elses_thread_counts_as_their_conversation(store):
    starter = Author("forum", "1", "bob", "Bob")
    await store.ingest([post(starter, "t1", 0), post(SOPHIE_FORUM, "t2", 1, parent="t1")])
    await store.set_state([1], State.DONE)
    contact = await store.contact(await author_id(store, SOPHIE_FORUM))
    assert [(c.id, c.state) for c in contact.conversations] == [(1, State.DONE)]


async def test_find_authors_across_channels(store):
    await store.ingest(
        [post(SOPHIE_FORUM, "f1", 0), post(SOPHIE_MASTODON, "m1", 1), post(OTHER_SOPHIE, "b1", 2)]
    )
    found = await store.find_authors("sophie")
    assert {a.channel for a in found} == {"forum", "mastodon", "bluesky"}
    assert [a.channel for a in await store.find_authors("Lefèvre")] != []
    assert await store.find_authors("%") == []  # a LIKE wildcard is only a character


async def test_a_page_that_links_back_to_several_accounts_proves_nothing(store):
    """An organisation's site verified by two staff accounts, and the organisation's Bluesky
    handle on that domain: three accounts, no person."""
    site = "https://coop.example"
    ana = Author("mastodon", "1", "ana@coop.example", "Ana", proofs=(claim(site),))
    ben = Author("mastodon", "2", "ben@coop.example", "Ben", proofs=(claim(site + "/"),))
    org = Author("bluesky", "did:plc:coop", "coop.example", "Coop", proofs=(site,))
    await store.ingest([post(ana, "1", 0), post(ben, "2", 1), post(org, "3", 2)])
    for author in (ana, ben, org):
        assert len((await store.contact(await author_id(store, author))).accounts) == 1
    # One account claiming the domain handle's site: that one is the person.
    solo = Author("mastodon", "3", "dana@elsewhere.example", "Dana", proofs=(claim("https://dana.example"),))
    dana = Author("bluesky", "did:plc:dana", "dana.example", "Dana", proofs=("https://dana.example",))
    await store.ingest([post(dana, "4", 3)])
    await store.ingest([post(solo, "5", 4)])
    contact = await store.contact(await author_id(store, dana))
    assert {a.channel for a in contact.accounts} == {"bluesky", "mastodon"}
    assert "verified link to dana.example" in {a.why for a in contact.accounts}
