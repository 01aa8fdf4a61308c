"""What the channel learns of its Mastodon-API server: its domain, software and length limits."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_CHARACTERS = 500


@dataclass(frozen=True, slots=True)
class _Instance:
    domain: str
    version: str
    software: str
    max_characters: int
    url_length: int
