"""Screening helpers that decide nothing on their own: spam verdicts and priority, with reasons.

Headless (no Textual, no Rich, no I/O): the engine calls them on ingest, the store keeps the
spam filter's learned state (`SpamMarks.to_bytes`), the TUI shows the reasons.
"""

from ecoinbox.screening.priority import Priority, score_priority
from ecoinbox.screening.spam import Signal, SpamFilter, SpamMarks, Verdict, spam_signals

__all__ = ["Priority", "Signal", "SpamFilter", "SpamMarks", "Verdict", "score_priority", "spam_signals"]
