"""[[rules]]: screening rules, each a [rules.match] and the [rules.actions] applied on a match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.config.validate import (
    T,
    Table,
    boolean,
    choice,
    describe,
    did_you_mean,
    duration,
    integer,
    nonempty_string,
    regex,
    string_or_list,
)

__all__ = ["RULE_PRIORITIES", "RuleActions", "RuleMatch", "RuleSettings", "read_rules"]

RULE_PRIORITIES: Final[dict[str, int]] = {"high": 1, "normal": 0, "low": -1}
"""A rule's `priority` action, as the conversation's priority level."""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """What a rule looks for in a new message from outside: every condition given must hold."""

    channel: tuple[str, ...] = ()
    """Channel names from [[channels]] (any of them). Default: every channel."""
    words: tuple[str, ...] = ()
    """Words or phrases, any of them, as whole words; case and accents do not matter."""
    regex: str | None = None
    """A Python regular expression searched in the text (case-insensitive)."""
    language: tuple[str, ...] = ()
    """Language codes, e.g. ["fr"], as the platform says or as detected."""
    author: tuple[str, ...] = ()
    """Handles (as shown in the inbox, e.g. "zoe@remote.example"), case-insensitive."""
    has_link: bool | None = None
    """true: only messages with a link; false: only messages without one."""
    kind: str | None = None
    """"reply" (an answer inside a thread) or "mention" (a post that starts a thread)."""
    min_followers: int | None = None
    """Only authors with at least this many followers. No channel reports followers yet: a rule
    with this condition does not match until one does."""


@dataclass(frozen=True, slots=True)
class RuleActions:
    """What a rule does to the conversation of a message it matches; each is recorded as
    "rule:<name>" in the conversation's history."""

    tag: tuple[str, ...] = ()
    """Tags to add."""
    priority: str | None = None
    """"high" (floats up in the Inbox), "normal" or "low"."""
    assign: str | None = None
    """A team member's name to assign the conversation to."""
    snooze: str | None = None
    """Snooze for a while: a number and a unit, e.g. "30m", "4h", "2d"."""
    spam: bool = False
    """Send a new conversation to Spam (with the rule's name as the reason)."""
    done: bool = False
    """Mark the conversation done."""
    canned: str | None = None
    """The name of a canned reply to suggest in the thread."""


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """A screening rule: when a new message matches, its actions apply to the conversation."""

    name: str
    """Unique; shown as "rule:<name>" wherever the rule acted."""
    match: RuleMatch
    """The conditions ([rules.match]); at least one."""
    actions: RuleActions
    """The actions ([rules.actions]); at least one."""


def read_rules(top: Table, channels: tuple[ChannelSettings, ...]) -> tuple[RuleSettings, ...]:
    top.known.append("rules")
    entries = top.data.get("rules", [])
    if not isinstance(entries, list):
        top.validator.problem(("rules",), f"expected a list of [[rules]] tables, got {describe(entries)}")
        return ()
    rules: list[RuleSettings] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            top.validator.problem(("rules", index), f"expected a [[rules]] table, got {describe(entry)}")
            continue
        table = Table(top.validator, entry, ("rules", index), "rules")
        name = table.get("name", nonempty_string)
        match = _rule_part(table, "match", lambda t: _rule_match(t, channels))
        actions = _rule_part(table, "actions", _rule_actions)
        table.finish()
        if name is not None and name in first_index:
            table.problem("name", f"duplicate rule name '{name}' (also rules[{first_index[name]}])")
            continue
        if name is not None:
            first_index[name] = index
        if name is not None and match is not None and actions is not None:
            rules.append(RuleSettings(name, match, actions))
    return tuple(rules)


def _rule_part(table: Table, key: str, read: Callable[[Table], T | None]) -> T | None:
    table.known.append(key)
    value = table.data.get(key)
    if value is None:
        table.problem(key, f"missing (required): a [rules.{key}] table")
        return None
    if not isinstance(value, dict):
        table.problem(key, f"expected a table ([rules.{key}]), got {describe(value)}")
        return None
    part = read(Table(table.validator, value, (*table.path, key), f"rules.{key}"))
    if part is not None and part == type(part)():
        table.problem(
            key, f"is empty: a rule needs at least one {'condition' if key == 'match' else 'action'}"
        )
        return None
    return part


def _rule_match(table: Table, channels: tuple[ChannelSettings, ...]) -> RuleMatch:
    names = [c.name for c in channels]
    match = RuleMatch(
        channel=table.get("channel", string_or_list, ()),
        words=table.get("words", string_or_list, ()),
        regex=table.get("regex", regex, None),
        language=table.get("language", string_or_list, ()),
        author=table.get("author", string_or_list, ()),
        has_link=table.get("has_link", boolean, None),
        kind=table.get("kind", choice(("reply", "mention"), "kind"), None),
        min_followers=table.get("min_followers", integer(0, 10**12), None),
    )
    for index, channel in enumerate(match.channel):
        if channel not in names:
            hint = did_you_mean(channel, names) or f" (channels: {', '.join(names) or 'none'})"
            where = ("channel", index) if isinstance(table.data.get("channel"), list) else ("channel",)
            table.validator.problem(
                (*table.path, *where), f"'{channel}' is not a channel of this config{hint}"
            )
    table.finish()
    return match


def _rule_actions(table: Table) -> RuleActions:
    actions = RuleActions(
        tag=table.get("tag", string_or_list, ()),
        priority=table.get("priority", choice(tuple(RULE_PRIORITIES), "priority"), None),
        assign=table.get("assign", nonempty_string, None),
        snooze=table.get("snooze", duration, None),
        spam=table.get("spam", boolean, False),
        done=table.get("done", boolean, False),
        canned=table.get("canned", nonempty_string, None),
    )
    if actions.spam and actions.done:
        table.problem("done", "a rule cannot both mark spam and mark done: choose one")
    table.finish()
    return actions
