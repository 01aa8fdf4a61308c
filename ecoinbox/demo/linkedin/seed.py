"""The demo page's posts and the comments people leave on them (English and French)."""

from __future__ import annotations

from typing import Final

TOKEN: Final = "demo-linkedin-token"
"""The demo server's access token: public, worth nothing anywhere else."""
ORGANIZATION_ID: Final = 2414183
ORGANIZATION_NAME: Final = "Acme"
MEMBERS: Final = {
    "aX3kP9": "Priya Raman",
    "bQ7nL2": "Julien Marchand",
    "cR8mT4": "Hannah Okafor",
    "dZ1vW6": "Claire Dubois",
    "eK5sY3": "Tomás Rivera",
    "fH2jB8": "Growth Hacks Daily",
    "gM4cN1": "Aiko Tanaka",
}

# (post text, minutes ago, [(member, text, minutes ago, [(member or "" for the page, reply, minutes ago)])])
Replies = list[tuple[str, str, int]]
Comments = list[tuple[str, str, int, Replies]]
POSTS: Final[tuple[tuple[str, int, Comments], ...]] = (
    (
        (
            "We're hiring! Acme is looking for a support engineer in Lyon to help our customers "
            "get the most out of Acme Widgets. Apply on our careers page."
        ),
        60 * 30,
        [
            ("bQ7nL2", "Is the role open to remote candidates from Belgium?", 60 * 29, []),
            (
                "fH2jB8",
                "Boost your LinkedIn reach 10x!!! DM me for our growth package, guaranteed results",
                60 * 28,
                [],
            ),
        ],
    ),
    (
        (
            "Acme Widgets 3.2 is out: CSV export for every report, faster sync, and a dark mode "
            "many of you asked for. Release notes on our forum."
        ),
        60 * 8,
        [
            (
                "aX3kP9",
                "Great update! Does the CSV export include custom fields too?",
                60 * 7,
                [
                    ("", "Hi Priya, yes: custom fields are exported as extra columns.", 60 * 6),
                    (
                        "aX3kP9",
                        "Perfect, thank you. Any plan for an API endpoint for the same export?",
                        60 * 2,
                    ),
                ],
            ),
            (
                "cR8mT4",
                (
                    "Since the update my sync fails every night with error 502. Our team depends on it, "
                    "please help, we already opened a ticket 5 days ago."
                ),
                60 * 3,
                [],
            ),
        ],
    ),
    (
        "Nous serons au salon Tech Lyon la semaine prochaine, stand B12. Venez nous dire bonjour !",
        60 * 5,
        [
            ("dZ1vW6", "Super ! Est-ce que vous ferez une démo de l'export CSV sur le stand ?", 60 * 4, []),
            (
                "eK5sY3",
                "Je ne reçois plus les factures par e-mail depuis octobre, à qui dois-je écrire ?",
                90,
                [],
            ),
        ],
    ),
)

TRAFFIC: Final = (
    ("gM4cN1", "How do I add a second admin to our Acme workspace? The settings page won't let me."),
    ("dZ1vW6", "Merci pour la réponse rapide de votre équipe support hier !"),
    ("bQ7nL2", "Any news on the remote question? I'd love to apply."),
    ("cR8mT4", "Still failing tonight. This is the 6th day without sync."),
    ("eK5sY3", "Les factures sont revenues, merci !"),
)
