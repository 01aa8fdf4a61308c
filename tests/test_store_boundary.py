"""The store's boundary: what the rest of ecoinbox asks of a store is in the `Store` protocol
(a second backend implements that and nothing more), and writes announce typed change kinds."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime
from pathlib import Path

import ecoinbox
from ecoinbox.model import Author, DraftKind, Message, State
from ecoinbox.store import Change, ChangeKind, SQLiteStore, Store, open_store

PACKAGE = Path(ecoinbox.__file__).parent
NOT_A_STORE = {
    ("config.py", "path"): "the [store] section of the settings",
    ("config.py", "purge_deleted_after"): "the [store] section of the settings",
    ("demo/runner.py", "exists"): "a Path named store: the demo's database file",
}
"""Attributes read on something named `store` that is not a store, with what it is."""


def protocol_members() -> set[str]:
    return {name for name in dir(Store) if not name.startswith("_")} | set(Store.__annotations__)


def asked_of_a_store() -> dict[str, set[str]]:
    """Each attribute read on `store`, `self.store`, `app.store`... outside the store package,
    with the files that read it; `settings.store` is the config section and is left out."""
    asked: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith("store/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute) or node.attr.startswith("__"):
                continue
            receiver = node.value
            if isinstance(receiver, ast.Name) and receiver.id == "store":
                pass
            elif isinstance(receiver, ast.Attribute) and receiver.attr == "store":
                owner = receiver.value
                owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if owner_name == "settings":
                    continue
            else:
                continue
            if (where, node.attr) not in NOT_A_STORE:
                asked.setdefault(node.attr, set()).add(where)
    return asked


def test_everything_the_rest_of_ecoinbox_asks_of_a_store_is_in_the_protocol() -> None:
    asked = asked_of_a_store()
    missing = {name: sorted(files) for name, files in asked.items() if name not in protocol_members()}

    assert missing == {}
    assert {"ingest", "queue_reply", "claim_next_reply", "conversation_page", "search"} <= set(asked)


def test_nothing_private_of_the_sqlite_store_is_asked_outside_the_store() -> None:
    private = {name: sorted(files) for name, files in asked_of_a_store().items() if name.startswith("_")}

    assert private == {}


def test_the_sqlite_store_has_every_member_of_the_protocol() -> None:
    absent = sorted(name for name in protocol_members() if not hasattr(SQLiteStore, name) and name != "path")

    assert absent == []
    for name in protocol_members() - {"path", "me", "read_only_reason", "screener"}:
        wanted = inspect.iscoroutinefunction(getattr(Store, name))
        assert inspect.iscoroutinefunction(getattr(SQLiteStore, name)) == wanted, name


def test_every_kind_of_change_is_announced_somewhere_and_only_those() -> None:
    announced: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Change" and node.args:
                kind = node.args[0]
                assert isinstance(kind, ast.Attribute) and getattr(kind.value, "id", "") == "ChangeKind", (
                    f"{path}:{node.lineno}: a Change's kind is a ChangeKind"
                )
                announced.add(kind.attr)

    assert announced == {kind.name for kind in ChangeKind}


async def test_listeners_hear_typed_kinds(tmp_path: Path) -> None:
    heard: list[Change] = []
    store = await open_store(tmp_path / "inbox.db")
    try:
        store.add_listener(heard.append)
        zoe = Author("masto", "zoe", "zoe@example.social")
        message = Message("masto", "1", zoe, "Hello?", datetime(2026, 3, 1, tzinfo=UTC))
        result = await store.ingest([message])
        (conversation_id,) = result.conversation_ids
        await store.save_draft(conversation_id, DraftKind.REPLY, "Hi")
        await store.add_note(conversation_id, "a regular", author="manager")
        await store.queue_reply(conversation_id, message, "Hi Zoe")
        await store.set_state([conversation_id], State.DONE)
        store.refuse_writes("a test")
    finally:
        await store.close()

    assert [change.kind for change in heard] == [
        ChangeKind.INGEST,
        ChangeKind.DRAFT,
        ChangeKind.NOTE,
        ChangeKind.OUTBOX,
        ChangeKind.STATE,
        ChangeKind.READ_ONLY,
    ]
    assert all(type(change.kind) is ChangeKind for change in heard)
