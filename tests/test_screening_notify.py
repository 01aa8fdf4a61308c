"""Notifications of new high-priority conversations: the bell, notify-send, never for muted ones,
and never the person's raw text."""

from __future__ import annotations

from datetime import UTC, datetime

from ecoinbox.model import ConversationRow, Origin, State
from ecoinbox.tui.notifier import Notifier, describe


def row(**changes) -> ConversationRow:
    values = {
        "id": 1, "channel": "mastodon", "state": State.OPEN, "needs_reply": True,
        "last_activity": datetime(2026, 1, 1, tzinfo=UTC), "author_label": "Zoé\x1b[2J", "author_handle": "zoe",
        "snippet": "my order never arrived", "message_count": 1, "origin": Origin.MENTION, "priority": 1,
        "priority_reason": "priority: never arrived\x1b]0;owned\x07",
    }  # fmt: skip
    values.update(changes)
    return ConversationRow(**values)


class Calls:
    def __init__(self) -> None:
        self.bells = 0
        self.spawned: list[list[str]] = []

    def bell(self) -> None:
        self.bells += 1

    def spawn(self, argv, **options) -> None:
        self.spawned.append(argv)


def test_off_does_nothing_and_bell_rings():
    calls = Calls()
    assert Notifier("off", bell=calls.bell)([row()]) is None
    assert Notifier("bell", bell=calls.bell)([row()]) == "bell"
    assert calls.bells == 1


def test_muted_or_normal_priority_conversations_never_notify():
    calls = Calls()
    notifier = Notifier("bell", bell=calls.bell)
    assert notifier([row(muted=True), row(id=2, priority=0)]) is None
    assert calls.bells == 0


def test_desktop_uses_notify_send_with_sanitized_text_as_argv():
    calls = Calls()
    notifier = Notifier(
        "desktop", bell=calls.bell, which=lambda name: "/usr/bin/notify-send", spawn=calls.spawn
    )
    assert notifier([row()]) == "desktop"
    [argv] = calls.spawned
    assert argv[0] == "/usr/bin/notify-send" and argv[-3] == "--"
    assert not any("\x1b" in part or "\x07" in part for part in argv)
    assert argv[-2].startswith("ecoinbox: Zoé") and "never arrived" in argv[-1]
    assert calls.bells == 0


def test_desktop_without_notify_send_rings_the_bell():
    calls = Calls()
    notifier = Notifier("desktop", bell=calls.bell, which=lambda name: None, spawn=calls.spawn)
    assert notifier([row()]) == "bell" and calls.bells == 1 and calls.spawned == []


def test_several_at_once_make_one_notification():
    title, body = describe([row(), row(id=2, priority_reason="priority: refund")])
    assert title == "ecoinbox: 2 high-priority conversations" and "refund" in body
