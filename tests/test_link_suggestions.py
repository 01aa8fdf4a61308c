"""Link suggestion that keeps learning, headless: each link sent counts at the next `f`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecoinbox.link_suggestions import LinkSuggestions
from ecoinbox.model import Author, Message, Origin, View
from ecoinbox.replies import CannedReply
from ecoinbox.store import open_store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ZOE = Author("m", "1", "zoe@remote.example", "Zoé")
LEA = Author("m", "2", "lea@remote.example", "Léa")
BRAND = Author("m", "99", "acme", "Acme")
ALPHA = CannedReply(name="alpha", text="Here: {link}", link="https://forum.example/t/alpha/1", redirect=True)
BETA = CannedReply(name="beta", text="There: {link}", link="https://forum.example/t/beta/2", redirect=True)
NOT_A_REDIRECT = CannedReply(name="docs", text="Docs: {link}", link="https://docs.example/parcel")


def msg(remote_id: str, text: str, author: Author, *, parent: str | None = None, at: int = 0) -> Message:
    return Message(channel="m", remote_id=remote_id, author=author, text=text, in_reply_to=parent,
                   created_at=T0 + timedelta(minutes=at),
                   origin=Origin.OURS if author is BRAND else Origin.MENTION)  # fmt: skip


async def test_a_link_sent_ranks_first_at_the_next_suggestion_for_a_similar_conversation(tmp_path):
    store = await open_store(tmp_path / "inbox.db", clock=lambda: T0 + timedelta(hours=1))
    try:
        await store.ingest([msg("1", "My parcel vanished somewhere", ZOE),
                            msg("2", "Parcel vanished, tracking frozen", LEA, at=1)])  # fmt: skip
        zoe, lea = sorted(await store.conversation_page(View.INBOX), key=lambda row: row.id)
        suggestions = LinkSuggestions(store, [ALPHA, BETA, NOT_A_REDIRECT])

        # Nothing learnt yet, and no word in common: the links' alphabetical order decides.
        first = await suggestions.for_redirect(await store.conversation(lea.id), T0)
        assert [s.reply.name for s in first] == ["alpha", "beta"]  # only the redirects

        parent = await store.message("m", "1")
        assert parent is not None
        item = await store.queue_reply(zoe.id, parent, "There: https://forum.example/t/beta/2",
                                       canned=("beta",), link=BETA.link)  # fmt: skip
        claimed = await store.claim_next_reply("me")
        assert claimed is not None and claimed.id == item.id
        await store.reply_sent(claimed, msg("3", "There: https://forum.example/t/beta/2", BRAND, parent="1"))

        # The same suggestions learn the link sent to Zoé: Léa's parcel vanished too.
        again = await suggestions.for_redirect(await store.conversation(lea.id), T0)
        assert [s.reply.name for s in again] == ["beta", "alpha"]
        assert "similar conversation" in again[0].why
    finally:
        await store.close()
