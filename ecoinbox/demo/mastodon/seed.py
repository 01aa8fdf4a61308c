"""A realistic day of brand traffic for the demo Mastodon server, deterministic by seed.

`seed_day` publishes about seventy conversations spread over the 24 hours before `now`:
complaints, questions, praise, feature requests and spam, in English and French, threads where
the brand answered and the customer came back, threads other people join, posts found only by
hashtag or keyword, mentions held by the notification policy, and a handful of hostile posts
(terminal escapes, BiDi overrides, markup look-alikes, a homoglyph impostor) that the inbox
must show harmlessly. `next_mention` continues the stream one post at a time for `tick()`.

Texts use `{brand}`, `{Brand}` and `{domain}` for the brand's name, and `{@key}` for the
address of one of the AUTHORS. A reply that does not start with "@" gets the mentions a
Mastodon client would add (the parent's author and the people it mentions).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecoinbox.demo.mastodon.state import MastodonState

BRAND = "B"  # the author key of the brand account in the scripts below

# key -> (handle, display name). Handles without "@host" are local to the server's domain.
AUTHORS: dict[str, tuple[str, str]] = {
    "zoe": ("zoe@remote.example", "Zoe 🌿"),
    "marcus": ("marcus@mastodon.example", "Marcus Hale"),
    "priya": ("priya@fosstodon.example", "Priya K."),
    "dan": ("dan@remote.example", "dan"),
    "kenji": ("kenji@hachyderm.example", "Kenji Watanabe"),
    "sam": ("sam", "Sam R."),
    "lena": ("lena", "Lena"),
    "oliver": ("oliver@other.example", "Oliver Brandt"),
    "maya": ("maya@tech.example", "Maya ✨"),
    "tom": ("tom@remote.example", "Tom Okafor"),
    "ruth": ("ruth", "Ruth Ellis"),
    "jay": ("jay@other.example", "jay"),
    "nina": ("nina", "Nina"),
    "camille": ("camille@piaille.example", "Camille D."),
    "julien": ("julien@framapiaf.example", "Julien 🚲"),
    "amelie": ("amelie@piaille.example", "Amélie"),
    "thomas": ("thomas", "Thomas Girard"),
    "manon": ("manon@mamot.example", "Manon"),
    "lucas": ("lucas@piaille.example", "Lucas B."),
    "sophie": ("sophie@mamot.example", "Sophie Lefèvre"),
    "hugo": ("hugo", "hugo"),
    "karen": ("helpmepls@new.example", "Karen W."),
    "jeanne": ("jeanne@petit.example", "Jeanne"),
    "crypto": ("cryptoking@spam.example", "💰 Crypto King 💰"),
    "f4f": ("f4f_growth@other.example", "Follow4Follow 🔁"),
    "deals": ("bestdeals@spam.example", "BEST DEALS 2026"),
    "quitter": ("quitter@evil.example", "[ @click=app.quit]x[/]"),
    "rtl": ("notsupport@evil.example", "\u202etroppuS {Brand}"),
    "glitch": ("glitch@evil.example", "glitch"),
    "zw": ("zerowidth@evil.example", "Ze\u200bro\u200d W\u2060idth"),
    "markup": ("markup@evil.example", "[bold red]Admin[/]"),
    "zalgo": ("zalgo@evil.example", "Z̷a̶l̵g̴o"),
    "shouty": ("shouty@evil.example", "SHOUTY"),
    "impostor": ("{brand}support@evil.example", "{Homoglyph} Support"),
}

# Customers who write again and again; `next_mention` picks among them.
REGULARS = (
    "zoe",
    "marcus",
    "priya",
    "dan",
    "kenji",
    "sam",
    "lena",
    "oliver",
    "maya",
    "tom",
    "ruth",
    "jay",
    "nina",
    "camille",
    "julien",
    "amelie",
    "thomas",
    "manon",
    "lucas",
    "sophie",
    "hugo",
)
FRENCH = frozenset({"camille", "julien", "amelie", "thomas", "manon", "lucas", "sophie", "hugo", "jeanne"})
# Some Latin letters and the Cyrillic ones that look the same ("Acme" -> "Асme").
_HOMOGLYPHS = str.maketrans("AaCcOoPp", "АаСсОоРр")


@dataclass(frozen=True, slots=True)
class Turn:
    """One post of a scripted conversation; `parent` is the index of the turn it answers
    (None: the previous turn)."""

    who: str
    text: str
    parent: int | None = None


@dataclass(frozen=True, slots=True)
class Script:
    """A conversation to publish: its turns, oldest first, and how its root is delivered."""

    language: str
    turns: tuple[Turn, ...]
    mention: bool = True  # the root mentions the brand
    filtered: bool = False  # the root author's mentions are held by the notification policy
    hashtags: tuple[str, ...] = ()
    spoiler_text: str = ""
    visibility: str = "public"
    html: str | None = None  # raw remote HTML for the root instead of the rendered text


@dataclass(frozen=True, slots=True)
class OpenReply:
    """A brand reply nobody answered yet: a customer may come back to it."""

    status_id: str
    customer: str  # acct
    language: str | None


@dataclass(frozen=True, slots=True)
class Draft:
    """A mention for `tick()` to publish."""

    author: str
    text: str
    language: str
    in_reply_to_id: str | None = None
    display_name: str | None = None


def _conv(language: str, *turns: tuple[Any, ...], **options: Any) -> Script:
    return Script(language, tuple(Turn(*turn) for turn in turns), **options)


def _zalgo(text: str, rng: random.Random, marks: int = 24) -> str:
    return "".join(c + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(marks)) for c in text)


def _scripts(rng: random.Random, brand: str) -> list[Script]:
    """The day's conversations. Long-form data, grouped by what the manager has to do."""
    # fmt: off
    return [
        # -- complaints, English --------------------------------------------------------------
        _conv(
            "en",
            ("zoe", "my order #48213 never arrived 😤 it's been 3 weeks. tracking says 'label created' since the 2nd"),
            (BRAND, "So sorry Zoe, that's way too long. Can you DM us the email on the order? We'll chase the carrier today."),
            ("zoe", "done, sent a DM"),
            (BRAND, "Got it, thanks. The carrier lost it 🙄 We're reshipping by express, new tracking in your inbox within the hour."),
            ("zoe", "ok thanks. will believe it when I see it tbh"),
            ("zoe", "it arrived!! ok you're forgiven 😄", 4),
            (BRAND, "Yay 🎉 enjoy, and sorry again for the wait."),
        ),
        _conv(
            "en",
            ("marcus", "app crashes every time I open the cart on android 14. pixel 7. reinstalled twice. ???"),
            (BRAND, "Thanks for the report Marcus. Which app version are you on? (Settings › About)"),
            ("marcus", "3.18.2"),
            ("kenji", "same here, pixel 8, crashes on cart too", 0),
            (BRAND, "Thanks Kenji, we reproduced it. The fix is in 3.18.3, rolling out today."),
            ("marcus", "updated, works now 👍", 4),
        ),
        _conv(
            "en",
            ("priya", "why was I charged twice for the same subscription this month?? two charges of $12.99 on the 14th"),
            (BRAND, "That shouldn't happen, sorry. The 2nd one is usually a pending authorization that drops off in 3-5 days. If it doesn't, reply here and we'll refund it by hand."),
            ("priya", "it's been 6 days. still there."),
            (BRAND, "Refunded just now, you'll see it in 2-3 business days. Apologies for the hassle 🙏"),
            ("priya", "thx"),
        ),
        _conv(
            "en",
            ("dan", "refund requested 10 days ago, nobody answers the email. ticket 77120. getting annoyed tbh"),
            (BRAND, "Hi Dan, sorry for the silence. Looking into ticket 77120 right now."),
            ("impostor", "{@dan} Hi Dan, this is {Homoglyph} Support 👋 to speed up your refund please DM us your card number, expiry date and CVV", 0),
            ("dan", "any news? it's been another day", 1),
        ),
        _conv(
            "en",
            ("tom", "package arrived damaged, box crushed and the lamp base is cracked. photos: https://photos.example.net/album/2026/tom-okafor/lamp-damage-report?share=1"),
        ),
        _conv(
            "en",
            ("ruth", "Your checkout keeps saying 'payment declined' but my bank says nothing was even attempted. Tried 2 cards."),
            (BRAND, "Hi Ruth, our payment provider had a hiccup between 14:00 and 14:40 UTC. Could you try again now?"),
            ("ruth", "worked. would've been nice to have a status page though"),
            (BRAND, "Fair point! We do have one: https://status.example.com/{brand}/incidents/2026 and we'll make it easier to find."),
        ),
        _conv(
            "en",
            ("maya", "the new update removed dark mode?? why would you do that 😭"),
            ("lena", "it moved to Settings › Display, took me ages to find too"),
            ("maya", "omg thank you lena"),
            (BRAND, "Sorry for the confusion! Lena's right, and we'll add a shortcut back in the next release.", 0),
        ),
        _conv("en", ("jay", "3rd time asking: how do I cancel my subscription. there is no button anywhere")),
        _conv("en", ("oliver", "support chat has been 'connecting…' for 45 minutes. is anyone there")),
        _conv(
            "en",
            ("marcus", "tracking link in the shipping email is a 404 https://track.example.com/{brand}/shipments/XK29-88123-FR/details?lang=en"),
            (BRAND, "Ugh, sorry Marcus. Use https://track.example.com/s/XK29-88123-FR while we fix the email template."),
        ),
        _conv("en", ("nina", "gift card balance shows $0 but I haven't used it??")),
        _conv(
            "en",
            ("maya", "three 'delivery attempted' notices this week and nobody ever rang the bell. I was HOME. all day. working. next to the door.\n\nif the driver is reading this: the bell works, I tested it"),
            spoiler_text="delivery rant",
        ),
        _conv(
            "en",
            ("dan", "sent you the details for ticket 77120 here so it's not public: order 99812, paid with paypal on the 3rd"),
            (BRAND, "Thanks Dan, found it. The refund goes out today."),
            visibility="direct",
        ),
        # -- questions, English ---------------------------------------------------------------
        _conv(
            "en",
            ("kenji", "how do I export my data? need a CSV of all my orders for taxes"),
            (BRAND, "Account › Privacy › Export data. You get a CSV and a JSON by email within a few minutes."),
            ("kenji", "found it, thanks!"),
        ),
        _conv(
            "en",
            ("sam", "is there an API? want to pull order status into my home dashboard"),
            (BRAND, "There is! Docs at https://developer.example.com/{brand}/api/v2/getting-started (you need an API key from your account page)."),
            ("sam", "nice. rate limits?"),
            (BRAND, "600 requests/hour per key. Ping us if you need more."),
            ("sam", "👍"),
            ("nina", "wait there's an API?? since when", 0),
            ("sam", "apparently! link above"),
        ),
        _conv(
            "en",
            ("lena", "what are your opening hours for the store on Rue Keller? google says 9-19 but it was closed at 18:30"),
            (BRAND, "Sorry about that Lena, winter hours are 10-18 until March. We'll fix Google."),
        ),
        _conv(
            "en",
            ("nina", "do you ship to Canada?"),
            (BRAND, "We do! 5-8 business days, duties included at checkout."),
            ("nina", "perfect ty"),
        ),
        _conv("en", ("marcus", "quick q: does the pro plan include the desktop app or is that separate")),
        _conv(
            "en",
            ("tom", "Can I change the delivery address after ordering? just moved 🙃"),
            (BRAND, "If it hasn't shipped yet, yes: Orders › your order › Edit address. Otherwise DM us the order number."),
        ),
        _conv(
            "en",
            ("kenji", "where do I find the invoice for order 55120? need it for expenses"),
            (BRAND, "Orders › 55120 › Download invoice (PDF). Company name and VAT number can be added before you download."),
            ("kenji", "perfect"),
        ),
        _conv("en", ("lena", "is the black friday discount stackable with the student one?")),
        _conv(
            "en",
            ("priya", "your privacy policy says you share data with 'partners'. which partners exactly?"),
            (BRAND, "Good question. Payment and delivery only, the full list is at https://{brand}.example.com/legal/privacy/processors-and-subprocessors"),
            ("priya", "ok, that's better than I feared. thanks for the straight answer"),
        ),
        _conv("en", ("ruth", "Do you take returns on sale items? Bought the wrong size.")),
        # -- praise, English ------------------------------------------------------------------
        _conv("en", ("maya", "shoutout to @{brand} support, replaced my broken kettle in 2 days no questions asked. this is how you keep customers ❤️")),
        _conv(
            "en",
            ("jay", "ok the new search in the app is actually really good. found the cable I bought in 2023 in 2 seconds"),
            (BRAND, "Thanks Jay, passing this on to the team, they'll be thrilled 😊"),
        ),
        _conv("en", ("ruth", "Delivered a day early and the packaging was all paper. Well done.")),
        _conv("en", ("tom", "love the new packaging but the tape is impossible to open without a knife lol")),
        # -- feature requests, English --------------------------------------------------------
        _conv(
            "en",
            ("priya", "feature request: let me pause my subscription instead of cancelling. going travelling for 2 months"),
            (BRAND, "Love this idea, it's on our roadmap board. You can vote here: https://feedback.example.com/{brand}/ideas/pause-subscription-instead-of-cancel"),
            ("priya", "voted!"),
            ("dan", "+1, would use this", 0),
        ),
        _conv("en", ("kenji", "would love a keyboard shortcut to reorder my last order. power user here ⌨️")),
        _conv("en", ("oliver", "any plans for an RSS feed of order updates? asking for a nerd friend"), hashtags=("feedback",)),
        _conv("en", ("jay", "pls bring back the old icons 🥲")),
        # -- an outage: everyone joins --------------------------------------------------------
        _conv(
            "en",
            ("sam", "is the site down for everyone or just me? getting 502s"),
            ("lena", "down here too", 0),
            ("kenji", "same, EU", 0),
            (BRAND, "We're on it, looks like a problem at our CDN. Updates in this thread.", 0),
            ("sam", "any ETA?", 3),
            (BRAND, "Partial recovery, browsing works, checkout still flaky.", 3),
            ("lena", "cart works again for me", 5),
            ("kenji", "still 502 on checkout", 5),
            (BRAND, "Should be fully back now. Sorry everyone!", 5),
            ("sam", "confirmed, order went through", 8),
            ("kenji", "works now 👍", 8),
            (BRAND, "Thanks for your patience. Post-mortem coming tomorrow on our blog.", 8),
        ),
        # -- French ---------------------------------------------------------------------------
        _conv(
            "fr",
            ("camille", "bonjour, j'ai jamais reçu ma commande 😡 passée le 3, toujours rien. c'est normal ??"),
            (BRAND, "Bonjour Camille, désolés pour l'attente ! Vous pouvez nous envoyer votre numéro de commande en MP ?"),
            ("camille", "c fait"),
            (BRAND, "Merci ! Le colis est bloqué au dépôt de Lyon, on relance le transporteur aujourd'hui."),
            ("camille", "toujours rien 3 jours après…"),
            (BRAND, "On vous renvoie la commande en express, sans frais. Encore désolés."),
            ("camille", "bon ok merci"),
        ),
        _conv(
            "fr",
            ("julien", "comment changer mon mot de passe ? le lien 'mot de passe oublié' m'envoie rien"),
            (BRAND, "Bonjour Julien ! Regardez dans les spams, l'expéditeur est no-reply@{brand}.example.com. Sinon : Compte › Sécurité › Changer le mot de passe."),
            ("julien", "c'était dans les spams 🤦 merci"),
        ),
        _conv(
            "fr",
            ("amelie", "l'appli plante dès que j'ouvre mes factures, iPhone 12, iOS 18. super pratique pour la compta 🙄"),
            (BRAND, "Désolés Amélie ! C'est corrigé dans la version 3.18.3, disponible sur l'App Store depuis ce matin."),
            ("amelie", "mise à jour faite, toujours pareil"),
        ),
        _conv(
            "fr",
            ("manon", "remboursement demandé il y a 2 semaines, toujours pas reçu. dossier 55302"),
            (BRAND, "Bonjour Manon, le remboursement est parti hier, comptez 3 à 5 jours ouvrés."),
            ("manon", "ok on verra"),
        ),
        _conv(
            "fr",
            ("lucas", "vous êtes ouverts le dimanche à Lille ?"),
            (BRAND, "Oui, de 10h à 13h !"),
        ),
        _conv("fr", ("sophie", "Merci à l'équipe @{brand}, commande arrivée en 24h et emballage sans plastique 👏")),
        _conv(
            "fr",
            ("hugo", "est-ce qu'il y a une API pour récupérer mes factures ? je voudrais automatiser ma compta"),
            (BRAND, "Oui ! La doc est ici : https://developer.example.com/{brand}/api/v2/factures-et-export-comptable"),
            ("hugo", "top merci"),
        ),
        _conv(
            "fr",
            ("thomas", "double prélèvement ce mois-ci 😤 12,99 € x2"),
            (BRAND, "Bonjour Thomas, désolés ! Le second prélèvement est une pré-autorisation, elle disparaît sous 5 jours."),
            ("thomas", "ok je surveille"),
            ("sophie", "pareil pour moi !", 0),
            (BRAND, "Sophie, pouvez-vous nous écrire en MP avec l'adresse mail du compte ?"),
        ),
        _conv("fr", ("amelie", "suggestion : un mode hors-ligne pour la liste de courses dans l'appli, au supermarché j'ai jamais de réseau")),
        _conv("fr", ("julien", "la nouvelle interface est vraiment plus claire, bravo 👍")),
        _conv("fr", ("manon", "vous livrez en Belgique ?")),
        _conv(
            "fr",
            ("manon", "commande reçue mais il manque un article (le câble USB-C)"),
            (BRAND, "Oups, désolés ! On vous l'envoie aujourd'hui par courrier."),
            ("manon", "toujours pas reçu le câble…"),
        ),
        _conv("fr", ("lucas", "c'est possible de payer en 3 fois ?")),
        _conv("fr", ("hugo", "appli qui rame depuis la mise à jour, android 13. genre 10 secondes pour ouvrir le panier")),
        _conv("fr", ("thomas", "horaires d'ouverture du magasin de Nantes pendant les fêtes ?")),
        _conv(
            "fr",
            ("camille", "question TVA : vos factures pour les pros affichent la TVA intracom ? mon comptable me la demande"),
            (BRAND, "Bonjour ! Oui, ajoutez votre numéro de TVA dans Compte › Entreprise et régénérez la facture."),
            ("camille", "je le trouve pas ce menu"),
            ("julien", "il faut activer le compte pro d'abord, c'est dans Compte › Type de compte", 2),
            ("camille", "ah merci julien !!"),
            (BRAND, "Merci Julien 🙏 on va rendre ça plus visible.", 3),
            ("thomas", "tant qu'on y est : la facture ne mentionne pas le SIRET, c'est voulu ?", 0),
            (BRAND, "Bien vu Thomas, c'est un oubli, corrigé d'ici vendredi.", 6),
        ),
        _conv(
            "fr",
            ("jeanne", "Bonjour, ma carte cadeau ne fonctionne pas sur le site, ça dit « code invalide ». Je l'ai reçue à Noël."),
            filtered=True,
        ),
        # -- found only by hashtag or keyword (no mention) ------------------------------------
        _conv("en", ("marcus", "honestly #{brand} customer service has gone downhill this year. 40 min on hold today"), mention=False),
        _conv("fr", ("lucas", "Premier achat chez #{Brand}, on verra bien 🤞"), mention=False),
        _conv("en", ("nina", "unboxing my new desk lamp, so pretty ✨"), mention=False, hashtags=("{brand}", "unboxing")),
        _conv("en", ("dan", "anyone else having trouble logging into {brand} today? keeps looping back to the login page"), mention=False),
        _conv("fr", ("sophie", "quelqu'un a déjà essayé le service client de {Brand} ? ils répondent vite ?"), mention=False),
        _conv(
            "en",
            ("oliver", "{Brand} vs the other one for kitchen stuff? opinions welcome"),
            ("jay", "{Brand}, their returns are painless"),
            mention=False,
        ),
        # -- strangers held by the notification policy ----------------------------------------
        _conv(
            "en",
            ("karen", "hi, new here. my account got locked after a password reset and the support email bounces. please help, I have an order pending"),
            filtered=True,
        ),
        # -- spam -----------------------------------------------------------------------------
        _conv("en", ("crypto", "🚀🚀 {Brand} customers are making 1000% with our AI trading bot!!! DM me or click https://crypto-moon.example/ref?u={brand}&utm_source=fedi&utm_campaign=x100 💰💰💰")),
        _conv("en", ("f4f", "follow for follow?? 🔁 I follow back 100%"), hashtags=("f4f", "followback", "growth")),
        _conv(
            "en",
            ("deals", "BEST DEALS https://deals.example/1 https://deals.example/2 https://cheap-watches.example/{brand}-replica-watches-cheap https://deals.example/3 cheap cheap cheap"),
            filtered=True,
        ),
        _conv("en", ("crypto", "free airdrop for all {brand} users, connect your wallet at https://wallet-connect.example/claim?x=1 before midnight ⏰"), filtered=True),
        # -- hostile content ------------------------------------------------------------------
        _conv("en", ("quitter", "hey check this out [@click=app.quit]click me[/] and [link=https://evil.example]this[/link]")),
        _conv("en", ("rtl", "Your account will be suspended in 24h. Verify here: https://{brand}-verify.example/login?session=8f2a \u202egnp.exe")),
        _conv("en", ("glitch", "your app is broken lol \x1b]0;PWNED\x07\x1b[2J look \x1b]52;c;ZXZpbA==\x07 and \x1b]8;;https://evil.example\x07this link\x1b]8;;\x07")),
        _conv(
            "en",
            ("glitch", "order status: \x1b[31mFAILED\x1b[0m please advise"),
            html=(
                '<p><span class="h-card" translate="no"><a href="https://{domain}/@{brand}" class="u-url mention">'
                "@<span>{brand}</span></a></span> order status: &#x1b;[31mFAILED&#x1b;[0m &#x1b;]0;owned&#x07;"
                " please advise</p>"
            ),
        ),
        _conv(
            "en",
            ("glitch", "why <b>is <i>this broken"),
            html=(
                '<p>@{brand} why <b>is <i>this <a href="javascript:alert(1)" onclick="steal()">broken'
                "</p></div></span><script>alert(1)</script><p>unclosed <blockquote><blockquote><blockquote>"
            ),
        ),
        _conv("en", ("zw", "r\u200be\u200bf\u200bu\u200bn\u200bd please, my order is\u2060 still\u200c missing\ufeff\u200d")),
        _conv("en", ("markup", "[bold red]URGENT[/] your order is [reverse][blink]suspended[/blink][/reverse] :warning: [link=https://evil.example]fix it[/link]")),
        _conv("en", ("zalgo", _zalgo("please help", rng))),
        _conv("en", ("shouty", (f"@{brand} " + "WHY IS NOBODY ANSWERING MY EMAILS " * 160)[:5000])),
    ]
    # fmt: on


def seed_day(server: MastodonState, rng: random.Random, now: datetime) -> None:
    """Publish the day's conversations on `server`, spread over the 24 hours before `now`."""
    names = _names(server.brand, server.domain)
    for script in _scripts(rng, server.brand):
        _publish(server, script, _timeline(rng, len(script.turns), now), names)


def _names(brand: str, domain: str) -> dict[str, str]:
    return {
        "{brand}": brand,
        "{Brand}": brand.capitalize(),
        "{domain}": domain,
        "{Homoglyph}": brand.capitalize().translate(_HOMOGLYPHS),
    }


def _fill(text: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return re.sub(r"\{@(\w+)\}", lambda m: "@" + _fill(AUTHORS[m[1]][0], names), text)


def _timeline(rng: random.Random, turns: int, now: datetime) -> list[datetime]:
    """Times for a conversation's turns: a root somewhere in the last day, then gaps of
    minutes to a few hours, all before `now`."""
    gaps = [timedelta(minutes=rng.uniform(2, 150)) for _ in range(turns - 1)]
    total = sum(gaps, timedelta())
    room = timedelta(hours=23)
    if total > room / 2:
        gaps = [gap * (room / 2 / total) for gap in gaps]
        total = sum(gaps, timedelta())
    root = now - timedelta(minutes=1) - total - (room - total) * rng.random()
    times = [root]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


def _publish(server: MastodonState, script: Script, times: list[datetime], names: dict[str, str]) -> None:
    published: list[dict[str, Any]] = []
    root_author = script.turns[0].who
    for index, (turn, at) in enumerate(zip(script.turns, times, strict=True)):
        parent = _parent(published, index, turn)
        text = _fill(turn.text, names)
        if parent is not None and not text.startswith("@"):
            text = _reply_prefix(parent, _acct(turn.who, server.brand, names)) + text
        handle, display_name = (server.brand, None) if turn.who == BRAND else AUTHORS[turn.who]
        published.append(
            server.add_status(
                author=_fill(handle, names),
                text=text,
                in_reply_to_id=parent["id"] if parent else None,
                visibility=script.visibility,
                language=script.language,
                mention_brand=index == 0 and script.mention,
                hashtags=[_fill(tag, names) for tag in script.hashtags] if index == 0 else (),
                filtered=script.filtered and turn.who == root_author,
                display_name=_fill(display_name, names) if display_name else None,
                created_at=at,
                html=_fill(script.html, names) if script.html and index == 0 else None,
                spoiler_text=script.spoiler_text if index == 0 else "",
            )
        )


def _parent(published: list[dict[str, Any]], index: int, turn: Turn) -> dict[str, Any] | None:
    if index == 0:
        return None
    return published[index - 1 if turn.parent is None else turn.parent]


def _acct(who: str, brand: str, names: dict[str, str]) -> str:
    return brand if who == BRAND else _fill(AUTHORS[who][0], names)


def _reply_prefix(parent: dict[str, Any], own_acct: str) -> str:
    """The mentions a Mastodon client puts in a reply: the parent's author and its mentions."""
    accts = [parent["account"]["acct"], *(m["acct"] for m in parent["mentions"])]
    unique = [a for i, a in enumerate(accts) if a != own_acct and a not in accts[:i]]
    return "".join(f"@{acct} " for acct in unique)


# -- the stream for tick() -----------------------------------------------------------------------

_NEW_EN = (
    "hey, is checkout broken? card keeps getting declined",
    "where's my package?? order {n} shipped 5 days ago and tracking hasn't moved",
    "just wanted to say the new app update is 🔥",
    "how do I change the email on my account?",
    "can I return something I bought in store through the website?",
    "the unsubscribe link in your newsletter doesn't work. 4th email this week",
    "do you have a student discount?",
    "order {n} arrived with the wrong colour 😕",
    "app logs me out every time I close it, iphone 15",
    "is there a way to merge two accounts? I made one by mistake",
    "your delivery guy was super nice today, give him a raise 🙌",
    "billing question: can I get invoices with my company name on them?",
    "any news on the pause-subscription feature?",
    "promo code WINTER10 says expired but your email says valid till sunday",
    "the size guide on the site is way off, ordered M and it fits like an XS",
)
_NEW_FR = (
    "bonjour, ma commande {n} est marquée livrée mais j'ai rien reçu",
    "c'est normal que l'appli me demande de me reconnecter tous les jours ?",
    "merci pour le geste commercial, c'est apprécié 🙏",
    "comment je supprime mon compte ?",
    "le code promo ne marche pas au panier",
    "vous avez des points de retrait à Bordeaux ?",
    "la facture de ma commande {n} est vide, juste un PDF blanc",
    "livraison ultra rapide, bravo 👏",
    "je n'arrive pas à changer mon adresse de livraison, le bouton est grisé",
)
_BACK_EN = (
    "thanks, that worked 🙏",
    "still nothing :( any update?",
    "ok just DM'd you",
    "tried that, same error",
    "perfect, thank you!",
    "hmm that link gives me a 404",
)
_BACK_FR = (
    "merci, ça marche !",
    "toujours rien…",
    "c'est fait, je vous ai écrit en MP",
    "j'ai essayé, même erreur",
    "super merci 🙏",
)


def next_mention(rng: random.Random, open_replies: list[OpenReply]) -> Draft:
    """One more mention: a customer coming back to an answered thread, or a new question."""
    if open_replies and rng.random() < 0.35:
        reply = rng.choice(open_replies)
        french = reply.language == "fr"
        return Draft(
            author=reply.customer,
            text=rng.choice(_BACK_FR if french else _BACK_EN),
            language="fr" if french else "en",
            in_reply_to_id=reply.status_id,
        )
    who = rng.choice(REGULARS)
    french = who in FRENCH
    text = rng.choice(_NEW_FR if french else _NEW_EN).replace("{n}", str(rng.randint(10000, 99999)))
    handle, display_name = AUTHORS[who]
    return Draft(handle, text, "fr" if french else "en", display_name=display_name)
