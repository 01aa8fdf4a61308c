"""Keys typed like a network delivers them: each sequence in ONE write to the real inbox in a pty.

Over SSH, a paste or `tmux send-keys`, the keys behind `/` or `r` come in the same read as it, so
they reach the app before the input they belong to exists (Pilot waits between keys: it cannot
show this). Each test writes one burst at 80x24, then checks what the keys asked for and nothing
else: the store (states, tags, notes, the outbox) and what the local Mastodon server received.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pty_terminal import Terminal, inbox_argv, inbox_env, mastodon_in_a_thread, write_config
from stack import polled_once

from ecoinbox.demo.mastodon.server import MastodonServer
from ecoinbox.store import open_store

pytestmark = pytest.mark.slow

TOKEN = "burst-test-token-0123456789"
COLUMNS, ROWS = 80, 24
CTRL_S, ESC, ENTER = "\x13", "\x1b", "\r"
# Newest first, as the list shows them: the cursor starts on Zoé's.
PEOPLE = [("zoe@remote.example", "Zoé", "my parcel never came, what now?"),
          ("sam@remote.example", "Sam", "is the shop open on sunday?"),
          ("ana@remote.example", "Ana", "love the new colours")]  # fmt: skip


@dataclass
class Inbox:
    terminal: Terminal
    server: MastodonServer
    db: Path

    def burst(self, keys: str) -> int:
        """The whole sequence in one write(), as one read of a network would hand it over."""
        return self.terminal.send(keys)

    def wait_for(self, needle: bytes, *, after: int, what: str) -> None:
        try:
            self.terminal.wait_for(needle, after=after, what=what)
        except AssertionError:
            raise AssertionError(f"no {what} on the terminal; it wrote:\n{self.since(after)}") from None

    def quit(self, keys: str = "q") -> None:
        mark = self.terminal.send(keys)
        status = self.terminal.wait_exit()
        assert status == 0, f"the app ended with {status}; it wrote since {keys!r}:\n{self.since(mark)}"

    def since(self, mark: int) -> str:
        """What the app wrote after `mark`, its escape sequences as spaces (readable in a report)."""
        text = re.sub(rb"\x1b\[[0-9;?<>]*[A-Za-z~]", b" ", self.terminal.snapshot()[mark:])
        return re.sub(" +", " ", text.decode("utf-8", "replace"))[-2000:]


async def seed(db: Path, server: MastodonServer) -> None:
    now = datetime.now(UTC)
    for minutes, (handle, name, text) in enumerate(PEOPLE):
        server.add_status(
            author=handle, display_name=name, text=text, created_at=now - timedelta(minutes=5 + minutes)
        )
    await polled_once(db, server.base_url, TOKEN)


async def read_store(db: Path) -> dict[str, Any]:
    """What the keys could have changed: each conversation's triage and notes, and the outbox."""
    store = await open_store(db)
    try:
        rows = {}
        for conversation_id in range(1, 20):
            row = await store.conversation_row(conversation_id)
            if row is not None:
                notes = [note.text for note in await store.notes(conversation_id)]
                rows[row.author_handle] = (
                    row.state,
                    row.tags,
                    row.assignee,
                    row.snoozed_until,
                    row.muted,
                    notes,
                )
        outbox = [(item.text, item.state) for item in await store.outbox_items()]
        return {"conversations": rows, "outbox": outbox}
    finally:
        await store.close()


@contextlib.contextmanager
def inbox_in_a_pty(tmp_path: Path) -> Iterator[Inbox]:
    with mastodon_in_a_thread(TOKEN) as server:
        db = tmp_path / "inbox.db"
        asyncio.run(seed(db, server))
        config = write_config(tmp_path, server.base_url, token_env="ECOINBOX_BURST_TOKEN", handle="acme",
                              extra_ui="send_delay = 0")  # fmt: skip
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_BURST_TOKEN=TOKEN), COLUMNS, ROWS)
        try:
            terminal.wait_for(f"Inbox 1/{len(PEOPLE)}".encode(), what="the inbox")
            terminal.wait_for(PEOPLE[0][2].encode(), what="Zoé's thread")
            yield Inbox(terminal, server, db)
        finally:
            terminal.kill()


def wait_posted(server: MastodonServer, count: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while len(server.posted) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_slash_and_a_query_in_one_read_is_all_search(tmp_path):
    with inbox_in_a_pty(tmp_path) as inbox:
        before = asyncio.run(read_store(inbox.db))
        mark = inbox.burst("/invoice")  # a word in no post and not in the search line's hint
        inbox.wait_for(b"invoice", after=mark, what="the query in the search line")
        mark = inbox.burst(ENTER)  # the search tab is named after the whole query
        inbox.wait_for(b"/invoice", after=mark, what="the search tab /invoice")
        inbox.quit()
    assert asyncio.run(read_store(inbox.db)) == before  # no state, tag, note, reply
    assert inbox.server.posted == []


def test_slash_e_in_one_read_marks_nothing_done(tmp_path):
    with inbox_in_a_pty(tmp_path) as inbox:
        before = asyncio.run(read_store(inbox.db))
        mark = inbox.burst("/e" + ENTER)
        inbox.wait_for(b"/e", after=mark, what="the search tab /e")
        time.sleep(0.5)  # a done (the e reaching the list) would be written by now
        inbox.quit()
    after = asyncio.run(read_store(inbox.db))
    assert [row[0] for row in after["conversations"].values()] == ["open"] * 3, after
    assert after == before


def test_reply_and_ctrl_s_in_one_read_sends_the_whole_text_once(tmp_path):
    typed = "thanks Zoé, we are checking where your parcel is and write back today"
    with inbox_in_a_pty(tmp_path) as inbox:
        mark = inbox.burst("r" + typed + CTRL_S + "j")  # the j moves the list's cursor once sent
        inbox.wait_for(b"Inbox 2/3", after=mark, what="the list's cursor on Sam")
        wait_posted(inbox.server, 1)
        time.sleep(1.0)  # a second send would have come by now
        inbox.quit()
    posted = [status.text for status in inbox.server.posted]
    assert posted == [f"@zoe@remote.example {typed}"], posted
    after = asyncio.run(read_store(inbox.db))
    assert [text for text, _ in after["outbox"]] == [f"@zoe@remote.example {typed}"]
    assert after["conversations"]["sam@remote.example"][0] == "open"


def test_reply_and_esc_in_one_read_asks_before_discarding(tmp_path):
    with inbox_in_a_pty(tmp_path) as inbox:
        before = asyncio.run(read_store(inbox.db))
        mark = inbox.burst("r" + "we are on it" + ESC)
        inbox.wait_for(b"Discard this reply?", after=mark, what="the discard question")
        time.sleep(0.2)
        inbox.terminal.send("y")  # discard: the box closes, the list has the keys again
        time.sleep(0.5)
        inbox.quit()
    assert inbox.server.posted == []
    assert asyncio.run(read_store(inbox.db)) == before


def test_tag_and_enter_in_one_read_tags_the_whole_tag(tmp_path):
    with inbox_in_a_pty(tmp_path) as inbox:
        before = asyncio.run(read_store(inbox.db))
        mark = inbox.burst("t" + "parcel-lost" + ENTER + "j")
        inbox.wait_for(b"#parcel-lost", after=mark, what="the tag in the list or thread")
        inbox.wait_for(b"Inbox 2/3", after=mark, what="the list's cursor on Sam")
        inbox.quit()
    after = asyncio.run(read_store(inbox.db))
    zoe = after["conversations"].pop("zoe@remote.example")
    assert zoe[1] == ("parcel-lost",), zoe
    del before["conversations"]["zoe@remote.example"]
    assert after == before


def test_a_typed_zero_width_joiner_reaches_the_server(tmp_path):
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, three without the joiners
    with inbox_in_a_pty(tmp_path) as inbox:
        inbox.burst(f"rfrom the whole {family} team" + CTRL_S)
        wait_posted(inbox.server, 1)
        inbox.quit()
    assert [status.text for status in inbox.server.posted] == [
        f"@zoe@remote.example from the whole {family} team"
    ]


def test_a_typed_emoji_with_joiners_stays_whole_in_a_tag(tmp_path):
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    with inbox_in_a_pty(tmp_path) as inbox:
        mark = inbox.burst(f"tfamily-{family}" + ENTER)
        inbox.wait_for(b"#family-", after=mark, what="the tag in the list or thread")
        inbox.quit()
    zoe = asyncio.run(read_store(inbox.db))["conversations"]["zoe@remote.example"]
    assert zoe[1] == (f"family-{family}",), zoe


def test_ctrl_p_reply_enter_and_a_reply_in_one_read_sends_it_once(tmp_path):
    typed = "thanks Zoé, on it"
    with inbox_in_a_pty(tmp_path) as inbox:
        mark = inbox.burst("\x10" + "reply" + ENTER + typed + CTRL_S)  # ctrl+p: the command palette
        wait_posted(inbox.server, 1)
        time.sleep(1.0)  # a second send would have come by now
        inbox.wait_for(b"Inbox 1/3", after=mark, what="the inbox again")
        inbox.quit()
    assert [status.text for status in inbox.server.posted] == [f"@zoe@remote.example {typed}"]


def test_keys_typed_behind_a_refused_reply_are_not_run_on_the_list(tmp_path):
    """`r` on a read-only feed opens no box but says why: "hello everyone" typed behind it in the
    same read must not become e (done), s (snooze), n (note)... on the list."""
    from ecoinbox.model import Author, Message, Origin

    async def seed_feed() -> None:
        store = await open_store(tmp_path / "inbox.db")
        try:
            fan = Author("fanblog", "guest:Lena|", "Lena", "Lena")
            await store.ingest([Message(channel="fanblog", remote_id="c1", author=fan, text="great kettle review",
                                        created_at=datetime.now(UTC), origin=Origin.MENTION)])  # fmt: skip
        finally:
            await store.close()

    with mastodon_in_a_thread(TOKEN) as server:
        db = tmp_path / "inbox.db"
        asyncio.run(seed(db, server))
        asyncio.run(seed_feed())
        config = write_config(tmp_path, server.base_url, token_env="ECOINBOX_BURST_TOKEN", handle="acme")
        with config.open("a", encoding="utf-8") as more:
            more.write('\n[[channels]]\nkind = "feed"\nname = "fanblog"\nbase_url = "http://127.0.0.1:9"\n'
                       'feeds = ["/comments/feed/"]\npoll_interval = 3600\n')  # fmt: skip
        before = asyncio.run(read_store(db))
        terminal = Terminal(inbox_argv(config), inbox_env(ECOINBOX_BURST_TOKEN=TOKEN), COLUMNS, ROWS)
        inbox = Inbox(terminal, server, db)
        try:
            terminal.wait_for(b"great kettle review", what="Lena's comment, the newest")
            mark = inbox.burst("rhello everyone")
            inbox.wait_for(b"read-only", after=mark, what="the refusal")
            time.sleep(1.0)  # a done, a snooze or a note would be written by now
            inbox.quit("q")
        finally:
            terminal.kill()
    assert asyncio.run(read_store(db)) == before
