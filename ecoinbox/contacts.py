"""Which accounts on different channels are one person, and only where the platforms prove it.

Headless (no Textual, no Rich, no I/O). A channel lists in `Author.proofs` what its platform
proves an account owns: its own profile page there, links the platform checked point back at it
(Mastodon's verified profile fields), a domain handle (Bluesky), the address a mail came from.
Two accounts that own the same thing are one person; the store links them into one contact on
ingest. Never a display name, never a website a commenter merely typed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["PROOF_ACTOR", "email_proof", "normalize_proof", "proof_reason"]

PROOF_ACTOR = "proof"
"""Who linked accounts automatically, as the contact's history says it."""


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
    """Why two accounts were linked, in the manager's words."""
    if proof.startswith("mailto:"):
        return f"the same email address ({proof[7:]})"
    return f"both proven to own {proof.removeprefix('https://')}"
