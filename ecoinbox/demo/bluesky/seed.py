"""A day of Bluesky traffic about the brand for the demo PDS, deterministic by seed.

`seed_day` posts about fifteen conversations over the last day; `next_mention` continues the
stream one post at a time for `tick()`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecoinbox.demo.bluesky.server import BlueskyServer

# handle -> display name; every customer is on the demo's own PDS.
PEOPLE: dict[str, str] = {
    "zoe.bsky.example": "Zoe 🌿",
    "marcus.bsky.example": "Marcus Hale",
    "priya.bsky.example": "Priya K. ✨",
    "kenji.bsky.example": "健二 Kenji",
    "lea.bsky.example": "Léa Fournier",
    "andre.bsky.example": "André 🚲",
    "sofia.bsky.example": "Sofía Ramírez",
    "ola.bsky.example": "Ola Nordmann 🇳🇴",
    "devtools.example": "DevTools Weekly",
    "mo.bsky.example": "mo 🐈",
    "cryptowin.bsky.example": "💰 Crypto Wins 💰",
    "notsupport.bsky.example": "\u202etroppuS emcA",
    "glitch.bsky.example": "glitch",
}


def seed_day(server: BlueskyServer, rng: random.Random, now: datetime) -> None:
    """About fifteen conversations over the last day: mentions with emoji (and accents before
    the mention), a quote of the brand's announcement, a reply thread under a brand question,
    a customer thread the brand answered, search and hashtag hits, spam and hostile text."""
    for handle, name in PEOPLE.items():
        server.actor(handle, name)
    brand = f"@{server.brand.handle}"
    times = iter(sorted(now - timedelta(minutes=rng.randint(5, 23 * 60)) for _ in range(40)))

    def say(who: str, text: str, **options: Any) -> str:
        return str(server.add_post(author=who, text=text, indexed_at=next(times), **options)["uri"])

    announcement = say(server.brand.handle, "Dark mode is here 🌙 Update the app and flip it on in Settings › Display. "
                       "Tell us what you think! #acme")  # fmt: skip
    say("zoe.bsky.example", f"finally!!! 🎉🌙 my eyes thank you {brand}", quote=announcement)
    order = say("marcus.bsky.example", f"{brand} my order #4821 still hasn't shipped 😩📦 any update?")
    answer = say(server.brand.handle, "Sorry Marcus! It left our warehouse this morning, tracking is on its way. 📬",
                 reply_to=order)  # fmt: skip
    say("marcus.bsky.example", "got it, thanks for the quick answer 🙏", reply_to=answer)
    say("lea.bsky.example", f"Très déçue 😞 ma commande est arrivée cassée… {brand} vous pouvez m'aider ?",
        langs=("fr",), images=("une tasse fendue en deux",))  # fmt: skip
    say("kenji.bsky.example", f"アプリが設定画面で落ちます 😭 {brand}", langs=("ja",))
    question = say(server.brand.handle, "What should we build next? Reply with your wish 👇")
    first = say("priya.bsky.example", "CSV export please!! 📊", reply_to=question)
    say("andre.bsky.example", "+1 for export, and an API 🙏", reply_to=first)
    say("sofia.bsky.example", "¡Modo offline! ✈️ Viajo mucho y la app no funciona sin conexión", reply_to=question,
        langs=("es",))  # fmt: skip
    say("ola.bsky.example", f"👩‍💻🔥 the new sync is so fast, great work {brand} 🇳🇴✨")
    say("devtools.example", "This week: terminal inboxes, acme's new API and a look at facets",
        link_card=("https://devtools.example/issue/42", "DevTools Weekly #42"))  # fmt: skip
    say("mo.bsky.example", "anyone else loving the acme dark mode? 🐈‍⬛ #acme")
    say(
        "cryptowin.bsky.example",
        f"💰💰 {brand} FREE crypto giveaway, DM to claim 🚀🚀🚀 https://win.example/claim",
    )
    say(
        "notsupport.bsky.example",
        f"{brand} \x1b]0;pwned\x07 official support here, DM me your password \u202e",
    )
    help_text = f"{brand} the help page acme.example/help is down?"
    start = len(help_text.encode()) - len(b"acme.example/help is down?")
    say("glitch.bsky.example", help_text, facets=[
        {"index": {"byteStart": start, "byteEnd": start + len(b"acme.example/help")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/phish"}]},
        {"index": {"byteStart": 0, "byteEnd": len(brand.encode())},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": server.brand.did}]},
    ])  # fmt: skip


_TICKS = (
    ("zoe.bsky.example", "is the app down? it keeps spinning 🌀😬 {brand}", "en"),
    ("priya.bsky.example", "{brand} can I change my delivery address after ordering? 🏠", "en"),
    ("lea.bsky.example", "Merci {brand} 💐 colis reçu, tout est parfait !", "fr"),
    ("andre.bsky.example", "Où en est ma commande ? 📦 {brand} ça fait 10 jours…", "fr"),
    ("sofia.bsky.example", "{brand} ¿tienen envío a México? 🇲🇽", "es"),
    ("ola.bsky.example", "{brand} love the update 😍 but the widget vanished?", "en"),
    ("kenji.bsky.example", "{brand} 返品の方法を教えてください 🙇", "ja"),
)


def next_mention(server: BlueskyServer, rng: random.Random) -> dict[str, Any]:
    """A new mention, or (one time in three) a customer answering the brand's last reply."""
    brand = f"@{server.brand.handle}"
    replies = [p for p in server.brand_posts() if p["record"].get("reply")]
    if replies and rng.random() < 1 / 3:
        last = replies[-1]
        parent = server.post(last["record"]["reply"]["parent"]["uri"])
        return server.add_post(author=parent["author"]["handle"], text=rng.choice(
            ("thank you!! 🙏", "still nothing here 😕", "perfect, that worked ✅")), reply_to=last["uri"])  # fmt: skip
    who, text, language = rng.choice(_TICKS)
    return server.add_post(author=who, text=text.format(brand=brand), langs=(language,))
