"""Which accounts on different channels are one person, and only where the platforms prove it.

Headless (no Textual, no Rich, no I/O). A channel lists in `Author.proofs` what its platform
proves about an account: what is the account's own (its profile page there, a domain handle on
Bluesky, the address a mail came from) and, marked with `claim()`, pages that link back to it
(Mastodon's verified profile fields, rel="me"). The store links two accounts into one contact
on ingest when they own the same thing (the same address on two mailboxes), or when one claims
what the other owns and nobody else claims it: an organisation's site may link back to all its
staff's accounts, so a page claimed by two accounts proves nothing. Never a display name, never
a website a commenter merely typed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["CLAIM", "PROOF_ACTOR", "claim", "email_proof", "normalize_proof", "proof_reason"]

CLAIM = "claims:"
"""Marks a proof as a page that links back to the account (not the account's own)."""

PROOF_ACTOR = "proof"
"""Who linked accounts automatically, as the contact's history says it."""


def claim(url: str) -> str:
    """The proof a page the platform verified links back to the account (rel="me") stands for."""
    return CLAIM + url


def email_proof(address: str) -> str:
    """The proof an address a mail came from stands for."""
    return f"mailto:{address.strip().casefold()}"


def normalize_proof(value: str) -> str | None:
    """One spelling per thing owned, so two platforms' ways of writing it meet; None if unusable.

    Addresses fold case. Web addresses fold the scheme (http and https are the same page's
    owner), the host's case and a leading "www.", a trailing slash and the fragment; the path
    keeps its case (two people's pages may differ only by it).
    """
    text = value.strip()
    if text.startswith(CLAIM):
        owned = normalize_proof(text[len(CLAIM) :])
        return None if owned is None or owned.startswith("mailto:") else CLAIM + owned
    if text.lower().startswith("mailto:"):
        address = text[7:].strip().casefold()
        return f"mailto:{address}" if "@" in address and " " not in address else None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port is not None and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, parts.query, ""))


def proof_reason(proof: str) -> str:
    """Why two accounts were linked by what one of them owns, in the manager's words."""
    owned = proof.removeprefix(CLAIM)
    if owned.startswith("mailto:"):
        return f"the same email address ({owned[7:]})"
    return f"verified link to {owned.removeprefix('https://')}"
