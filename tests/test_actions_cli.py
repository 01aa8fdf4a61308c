"""Every inbox action from the command line, as a script uses it: exit codes, JSON, the history,
and a reply queued by `ecoinbox reply` published once by the next `ecoinbox poll --once`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pty_terminal import mastodon_in_a_thread, write_config

from ecoinbox.cli import main
from ecoinbox.model import Author, Message, Origin, OutboxState
from ecoinbox.store import open_store

TOKEN = "cli-actions-token-0123456789"
FORUM = """
[[channels]]
kind = "discourse"
name = "forum"
base_url = "http://127.0.0.1:9"
account = "acme_team"
auth = "api_key"
keyring = false
token_env = "ECOINBOX_PTY_TOKEN"
[forum]
channel = "forum"
[team]
me = "ana"
members = ["camille"]
[[canned]]
name = "refund"
text = "Sorry {author_name}, here is how refunds work: {link}"
link = "{forum_url}/t/refunds/1"
keywords = ["refund", "never arrived"]
redirect = true
[[canned]]
name = "order-number"
text = "Could you send us your order number? We will look at {order} right away."
"""


def ecoinbox(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ECOINBOX_PTY_TOKEN": TOKEN}
    return subprocess.run([sys.executable, "-m", "ecoinbox.cli", *args], input=stdin, capture_output=True, check=False,
                          text=True, timeout=60, env=env)  # fmt: skip


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def seed(db: Path, count: int = 2) -> None:
    """`count` people writing to the brand on mastodon: conversations 1..count."""
    store = await open_store(db)
    for n in range(count):
        author = Author("mastodon", f"a{n}", f"p{n}@remote.example", f"Person {n}")
        text = "@acme my order never arrived, I want a refund" if n == 0 else f"@acme question {n}"
        await store.ingest([Message("mastodon", str(100 + n), author, text, datetime(2026, 11, 21, tzinfo=UTC) + timedelta(minutes=n),
                                    visibility="public")])  # fmt: skip
    await store.close()


async def history(db: Path, conversation_id: int) -> list[tuple[str, str, str | None, str | None]]:
    store = await open_store(db)
    try:
        return [
            (actor, action, old, new) for _, actor, action, old, new in await store.history(conversation_id)
        ]
    finally:
        await store.close()


@pytest.fixture
def inbox(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A config with two conversations from mastodon, a forum, canned replies and a team."""
    monkeypatch.setenv("ECOINBOX_PTY_TOKEN", TOKEN)
    path = write_config(tmp_path, "http://127.0.0.1:9")
    path.write_text(path.read_text(encoding="utf-8") + FORUM, encoding="utf-8")
    asyncio.run(seed(tmp_path / "inbox.db"))
    return str(path), tmp_path / "inbox.db"


def test_reply_from_a_script_is_published_exactly_once_by_the_next_poll(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOINBOX_PTY_TOKEN", TOKEN)
    with mastodon_in_a_thread(TOKEN) as server:
        config = str(write_config(tmp_path, server.base_url))
        status = server.add_status(
            author="zoe@remote.example", display_name="Zoé", text="@acme my order never arrived"
        )
        assert main(["--config", config, "poll", "--once"]) == 0
        (row,) = [
            json.loads(line) for line in ecoinbox("--config", config, "list", "--json").stdout.splitlines()
        ]
        queued = ecoinbox(
            "--config", config, "reply", str(row["id"]), "--json", stdin="Sorry! DM us your order number.\n"
        )
        assert queued.returncode == 0, queued.stderr
        said = json.loads(queued.stdout)
        assert said["state"] == "queued" and said["to_message"] == status["id"]
        assert server.posted == []  # queued, not sent: the engine sends
        assert main(["--config", config, "poll", "--once"]) == 0
        assert main(["--config", config, "poll", "--once"]) == 0
        (posted,) = server.posted
    assert posted.in_reply_to_id == status["id"]
    assert posted.text == "@zoe@remote.example Sorry! DM us your order number."  # the mention, as `r` starts
    assert ("manager", "reply queued", None, str(said["outbox_id"])) in asyncio.run(
        history(tmp_path / "inbox.db", row["id"])
    )


def test_reply_json_exit_codes_and_refusals(inbox, capsys):
    config, db = inbox
    code, out, _ = run(capsys, "--config", config, "reply", "1", "--text", "On it!", "--json")
    assert code == 0
    queued = json.loads(out)
    assert queued["text"] == "@p0@remote.example On it!" and queued["conversation"] == 1
    # A second reply to the same message while the first waits: a conflict, unless --again.
    code, _, err = run(capsys, "--config", config, "reply", "1", "--text", "On it!")
    assert code == 4 and f"reply {queued['outbox_id']}" in err and "--again" in err
    assert (
        run(capsys, "--config", config, "reply", "1", "--text", "@p0@remote.example Also", "--again")[0] == 0
    )
    assert run(capsys, "--config", config, "reply", "99", "--text", "x")[0] == 3
    assert run(capsys, "--config", config, "reply", "2", "--text", "x", "--to-message", "nope")[0] == 3
    code, _, err = run(capsys, "--config", config, "reply", "2", "--text", "   ")
    assert code == 2 and "empty" in err
    code, out, _ = run(capsys, "--config", config, "reply", "2", "--text", "exact", "--as-is", "--to-message",
                       "101", "--visibility", "unlisted", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["text"] == "exact" and json.loads(out)["visibility"] == "unlisted"
    with pytest.raises(SystemExit) as usage:  # argparse: an unknown visibility
        main(["--config", config, "reply", "2", "--text", "x", "--visibility", "everyone"])
    assert usage.value.code == 2
    assert ("ana", "reply queued", None, str(queued["outbox_id"])) in asyncio.run(history(db, 1))


def test_state_snooze_tag_assign_and_note_write_the_same_history_as_the_keys(inbox, capsys):
    config, db = inbox
    code, out, _ = run(capsys, "--config", config, "done", "1", "2", "--json")
    assert code == 0 and json.loads(out)["changed"] == [1, 2]
    code, out, _ = run(capsys, "--config", config, "done", "1")
    assert code == 0 and "Nothing changed" in out
    assert run(capsys, "--config", config, "open", "1")[0] == 0
    assert run(capsys, "--config", config, "spam", "2", "3")[0] == 3  # 3 does not exist: nothing changed
    code, out, _ = run(capsys, "--config", config, "spam", "2", "--json")
    assert code == 0 and json.loads(out)["conversations"][0]["state"] == "spam"
    code, out, _ = run(capsys, "--config", config, "snooze", "1", "2d", "--json")
    assert code == 0 and json.loads(out)["conversations"][0]["snoozed_until"]
    assert run(capsys, "--config", config, "snooze", "1", "someday")[0] == 2
    code, out, _ = run(capsys, "--config", config, "tag", "1", "+refund", "vip", "--json")
    assert code == 0 and json.loads(out)["conversations"][0]["tags"] == ["refund", "vip"]
    code, out, _ = run(capsys, "--config", config, "tag", "1", "-vip", "+later")
    assert code == 0 and "#later -#vip" in out
    assert run(capsys, "--config", config, "tag", "1")[0] == 2
    code, out, _ = run(capsys, "--config", config, "assign", "1", "camille", "--json")
    assert code == 0 and json.loads(out)["conversations"][0]["assignee"] == "camille"
    code, _, err = run(capsys, "--config", config, "assign", "1", "camile")
    assert code == 2 and "did you mean 'camille'" in err
    assert run(capsys, "--config", config, "assign", "1", "nobody")[0] == 0
    code, out, _ = run(capsys, "--config", config, "note", "1", "--text", "called them", "--json")
    assert code == 0 and json.loads(out)["text"] == "called them"
    assert run(capsys, "--config", config, "note", "42", "--text", "x")[0] == 3
    mine = [e for e in asyncio.run(history(db, 1)) if e[0] == "ana"]
    assert mine == [
        ("ana", "state", "open", "done"),
        ("ana", "state", "done", "open"),
        ("ana", "state", "open", mine[2][3]),
        ("ana", "tagged", None, "refund"),
        ("ana", "tagged", None, "vip"),
        ("ana", "tagged", None, "later"),
        ("ana", "untagged", "vip", None),
        ("ana", "assigned", None, "camille"),
        ("ana", "assigned", "camille", None),
        ("ana", "note", None, "called them"),
    ]
    assert mine[2][3].startswith("snoozed until ")


def test_redirect_with_a_canned_reply_or_a_new_topic(inbox, capsys):
    config, db = inbox
    code, _, err = run(capsys, "--config", config, "redirect", "1")
    assert code == 2 and "--canned refund" in err and "--new-topic" in err
    assert run(capsys, "--config", config, "redirect", "1", "--canned", "refnd")[0] == 3
    code, _, err = run(capsys, "--config", config, "redirect", "1", "--canned", "order-number")
    assert code == 2 and "--value order=" in err
    code, out, _ = run(capsys, "--config", config, "redirect", "1", "--canned", "refund", "--json")
    assert code == 0
    said = json.loads(out)
    assert (
        said["text"]
        == "@p0@remote.example Sorry Person 0, here is how refunds work: http://127.0.0.1:9/t/refunds/1"
    )
    assert said["state"] == "done" and said["reason"] == "redirected"
    code, out, _ = run(capsys, "--config", config, "redirect", "2", "--new-topic", "--json")
    assert code == 0
    topic = json.loads(out)
    assert topic["title"] == "Question from Person 1: question 1" and "{topic_url}" in topic["text"]
    entries = asyncio.run(history(db, 2))
    assert ("ana", "forum topic queued", None, topic["title"]) in entries
    assert ("ana", "state", "open", "done (redirected)") in entries


def test_outbox_list_and_cancel(inbox, capsys):
    config, db = inbox
    code, out, _ = run(capsys, "--config", config, "outbox")
    assert code == 0 and out.strip() == "Nothing waits to go out."
    queued = json.loads(run(capsys, "--config", config, "reply", "1", "--text", "hi", "--json")[1])
    code, out, _ = run(capsys, "--config", config, "outbox", "list", "--json")
    (line,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and line["id"] == queued["outbox_id"] and line["to"] == "Person 0"
    code, out, _ = run(capsys, "--config", config, "outbox", "cancel", str(queued["outbox_id"]), "--json")
    assert code == 0 and json.loads(out)["state"] == "discarded"
    code, _, err = run(capsys, "--config", config, "outbox", "cancel", str(queued["outbox_id"]))
    assert code == 4 and "already cancelled" in err
    assert run(capsys, "--config", config, "outbox", "cancel", "999")[0] == 3
    assert run(capsys, "--config", config, "outbox", "cancel")[0] == 2
    assert ("ana", "reply discarded", OutboxState.QUEUED.value, str(queued["outbox_id"])) in asyncio.run(
        history(db, 1)
    )


def test_a_sent_reply_cannot_be_cancelled(inbox, capsys):
    config, db = inbox
    queued = json.loads(run(capsys, "--config", config, "reply", "1", "--text", "hi", "--json")[1])

    async def sent() -> None:
        store = await open_store(db)
        item = await store.claim_next_reply("test-sender")
        assert item is not None and item.id == queued["outbox_id"]
        author = Author("mastodon", "me", "acme", "Acme")
        await store.reply_sent(
            item, Message("mastodon", "900", author, item.text, datetime.now(UTC), origin=Origin.OURS)
        )
        await store.close()

    asyncio.run(sent())
    code, _, err = run(capsys, "--config", config, "outbox", "cancel", str(queued["outbox_id"]))
    assert code == 4 and "it was sent" in err


def test_rules_test_reads_the_text_from_standard_input(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "inbox.db"}"\n'
                    '[[rules]]\nname = "refunds"\n[rules.match]\nwords = ["refund"]\n[rules.actions]\ntag = "billing"\n',
                    encoding="utf-8")  # fmt: skip
    result = ecoinbox("--config", str(path), "rules", "test", "-", stdin="I want a refund\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "rules: refunds"


@pytest.mark.parametrize(
    "command", ["list --limit 400", "list --json --limit 400", "list --query question --limit 400"]
)
def test_output_piped_into_head_ends_quietly(inbox, command):
    config, db = inbox
    asyncio.run(seed(db, 400))  # more than a pipe's buffer: the writer meets the closed pipe
    script = f"{sys.executable} -m ecoinbox.cli --config {config} {command} | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "ECOINBOX_PTY_TOKEN": TOKEN})  # fmt: skip
    assert result.stderr == "" and result.returncode == 0
    assert len(result.stdout.splitlines()) == 1


def test_action_model_is_the_one_the_inbox_uses():
    """The inbox's screens call the same headless helpers (no copy to drift apart)."""
    from ecoinbox import actions
    from ecoinbox.tui.screens import inbox_replies, triage

    assert inbox_replies.reply_target is actions.reply_target
    assert triage.parse_tag_edit is actions.parse_tag_edit
