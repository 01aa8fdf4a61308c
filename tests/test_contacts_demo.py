"""`ecoinbox demo` shows a person's history across two channels: Sophie on Mastodon (with a
verified link to her forum profile) and on the forum are one contact, linked by the proof."""

from __future__ import annotations

import asyncio

from ecoinbox.cli import build_engine, resolve_tokens
from ecoinbox.config import load_config
from ecoinbox.demo.mastodon.site import PERSON as DEMO_PERSON_MASTODON
from ecoinbox.demo.mastodon.site import PERSON_ON_FORUM as DEMO_PERSON_FORUM
from ecoinbox.demo.runner import Demo
from ecoinbox.store import open_store


async def test_the_demo_links_one_person_across_mastodon_and_the_forum(tmp_path):
    async with Demo(data_dir=tmp_path, traffic=False) as demo:
        settings = load_config(demo.config_path)
        store = await open_store(settings.store.path)
        engine = build_engine(settings, await asyncio.to_thread(resolve_tokens, settings), store)
        try:
            await engine.poll_all_once()
            found = await store.find_authors("sophie")
            mastodon = next(a for a in found if a.handle == DEMO_PERSON_MASTODON)
            contact = await store.contact(mastodon.author_id)
            assert {(a.channel, a.handle) for a in contact.accounts} == {
                ("mastodon", DEMO_PERSON_MASTODON), ("forum", DEMO_PERSON_FORUM),
            }  # fmt: skip
            assert {a.linked_by for a in contact.accounts} == {"proof"}
            assert {c.channel for c in contact.conversations} >= {"mastodon", "forum"}
            # Namesakes on other channels (the blog, email) stay people of their own.
            others = [a for a in found if a.author_id not in {x.author_id for x in contact.accounts}]
            for other in others:
                assert len((await store.contact(other.author_id)).accounts) == 1
        finally:
            await engine.stop()
            await store.close()
