"""Screening rules from the config ([[rules]]): which match a message, and what they would do.

Headless and pure: `CompiledRule.matches` reads a `Message` and nothing else; the store applies
the actions at ingest (`ecoinbox.store.screening`), `ecoinbox rules test` prints them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ecoinbox.config import RULE_PRIORITIES, RuleSettings
from ecoinbox.model import Message
from ecoinbox.screening._text import find_links, normalize

__all__ = ["CompiledRule", "RuleAction", "compile_rules", "message_kind"]


@dataclass(frozen=True, slots=True)
class RuleAction:
    """One thing a rule does: `what` is tag, priority, assign, snooze, spam, done or canned."""

    rule: str
    what: str
    value: str = ""

    @property
    def actor(self) -> str:
        return f"rule:{self.rule}"

    def __str__(self) -> str:
        return f"{self.what} {self.value}".strip()


def message_kind(message: Message) -> str:
    """ "reply" for an answer inside a thread, "mention" for a post that starts one."""
    return "reply" if message.in_reply_to else "mention"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to match: its words and regex compiled once."""

    settings: RuleSettings
    words: re.Pattern[str] | None
    regex: re.Pattern[str] | None

    @property
    def name(self) -> str:
        return self.settings.name

    def matches(
        self, message: Message, *, followers: int | None = None, normalized: str | None = None
    ) -> bool:
        """Whether the rule matches `message`. `normalized`: `normalize` of its title and text
        (as below) if the caller has it already."""
        match = self.settings.match
        if match.channel and message.channel not in match.channel:
            return False
        if match.kind is not None and message_kind(message) != match.kind:
            return False
        if match.language and (message.language or "") not in match.language:
            return False
        if match.author and message.author.handle.casefold() not in {a.casefold() for a in match.author}:
            return False
        if match.has_link is not None and bool(message.links or find_links(message.text)) != match.has_link:
            return False
        if match.min_followers is not None and (followers is None or followers < match.min_followers):
            return False
        text = f"{message.title}\n{message.text}" if message.title else message.text
        words = self.words
        if words is not None and words.search(normalize(text) if normalized is None else normalized) is None:
            return False
        return self.regex is None or self.regex.search(text) is not None

    def actions(self) -> list[RuleAction]:
        """What the rule does, in a fixed order (state last: the rest still applies to it)."""
        todo = self.settings.actions
        out = [RuleAction(self.name, "tag", tag) for tag in todo.tag]
        if todo.priority is not None:
            out.append(RuleAction(self.name, "priority", todo.priority))
        if todo.assign is not None:
            out.append(RuleAction(self.name, "assign", todo.assign))
        if todo.snooze is not None:
            out.append(RuleAction(self.name, "snooze", todo.snooze))
        if todo.canned is not None:
            out.append(RuleAction(self.name, "canned", todo.canned))
        if todo.spam:
            out.append(RuleAction(self.name, "spam"))
        if todo.done:
            out.append(RuleAction(self.name, "done"))
        return out

    @property
    def priority_level(self) -> int | None:
        priority = self.settings.actions.priority
        return None if priority is None else RULE_PRIORITIES[priority]


def compile_rules(rules: Sequence[RuleSettings]) -> tuple[CompiledRule, ...]:
    """The config's rules, compiled, in the order of the file."""
    out = []
    for rule in rules:
        words = None
        if rule.match.words:
            # Whole words over folded text (accents, case), so "rembourse" matches "remboursé".
            alternatives = "|".join(re.escape(normalize(word)) for word in rule.match.words)
            words = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        regex = re.compile(rule.match.regex, re.IGNORECASE) if rule.match.regex else None
        out.append(CompiledRule(rule, words, regex))
    return tuple(out)
