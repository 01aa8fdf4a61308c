"""What an action acts on, named for its dialog and its notice.

"Tag Zoé's conversation", "Marked done: René Lefèvre, facture F-2291": a manager who pressed a
key in a hurry reads whom it touched. Names and words come from platforms: everything here is
sanitized, single-line and short, and is shown as plain text, never as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecoinbox.model import ConversationRow
from ecoinbox.sanitize import sanitize

__all__ = ["Target", "person", "sentence"]

NAME_CHARS = 30
WORDS_CHARS = 32
# "@acme @zoe: " before the words; anchored, so a long run of "@" is tried from its start only
_LEADING_MENTIONS = re.compile(r"\A(?:@[\w.@-]{1,200}[\s,:]{1,20})+")


@dataclass(frozen=True, slots=True)
class Target:
    """One conversation (its person, and the start of what they wrote), or several."""

    count: int = 1
    name: str = ""  # sanitized
    words: str = ""  # sanitized: the start of the snippet

    @classmethod
    def of_row(cls, row: ConversationRow) -> Target:
        words = _LEADING_MENTIONS.sub("", row.snippet, count=1)
        return cls(
            1,
            person(row.author_label or row.author_handle),
            sanitize(words.strip(), single_line=True, max_chars=WORDS_CHARS),
        )

    @classmethod
    def many(cls, count: int) -> Target:
        return cls(count)

    def whose(self) -> str:
        """ "Zoé's conversation", "3 conversations", or "this conversation" when nameless."""
        if self.count != 1:
            return f"{self.count:,} conversations"
        if not self.name:
            return "this conversation"
        return f"{self.name}'s conversation" if not self.name.endswith("…") else f"{self.name} (conversation)"

    def label(self) -> str:
        """ "René Lefèvre, facture F-2291", or "3 conversations"."""
        if self.count != 1:
            return f"{self.count:,} conversations"
        if not self.name:
            return self.words or "the conversation"
        return f"{self.name}, {self.words}" if self.words else self.name


def person(label: str) -> str:
    """A person's name as a dialog or a notice names them: sanitized, one line, short."""
    return sanitize(label, single_line=True, max_chars=NAME_CHARS)


def sentence(text: str) -> str:
    """`text` with its first letter up, the rest as typed (`str.capitalize` would lower "René")."""
    return text[:1].upper() + text[1:]
