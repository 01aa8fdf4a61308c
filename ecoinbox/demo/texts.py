"""What the generated customers and the brand write, in seven languages, deterministic by seed:
names, phrases, replies, spam and titles (`ecoinbox.demo.generate` picks from them)."""

from __future__ import annotations

import random

BRAND = "Acme"

INSTANCES = (
    "mastodon.example",
    "fosstodon.example",
    "piaille.example",
    "hachyderm.example",
    "mamot.example",
    "social.example",
    "tech.example",
    "framapiaf.example",
)


FIRST_NAMES = (
    "Zoe",
    "Marcus",
    "Priya",
    "Dan",
    "Kenji",
    "Sam",
    "Lena",
    "Oliver",
    "Maya",
    "Tom",
    "Ruth",
    "Jay",
    "Nina",
    "Camille",
    "Julien",
    "Amélie",
    "Thomas",
    "Manon",
    "Lucas",
    "Sophie",
    "Hugo",
    "Jeanne",
    "Lukas",
    "Anna",
    "Jonas",
    "Lucía",
    "Mateo",
    "Giulia",
    "Marco",
    "João",
    "Femke",
    "Aisha",
    "Wei",
    "Olga",
    "Noah",
    "Emma",
    "Léa",
    "Chloé",
    "Raphaël",
    "Inès",
    "Karim",
    "Yuki",
)


LAST_NAMES = (
    "Hale",
    "K.",
    "Watanabe",
    "R.",
    "Brandt",
    "Okafor",
    "Ellis",
    "D.",
    "Girard",
    "B.",
    "Lefèvre",
    "Martin",
    "Bernard",
    "Dubois",
    "Müller",
    "Schmidt",
    "García",
    "López",
    "Rossi",
    "Bianchi",
    "Silva",
    "de Vries",
    "Nguyen",
    "Kowalski",
    "Novak",
    "Moreau",
    "Fournier",
    "Petit",
    "",
)


NAME_DECOR = ("", "", "", "", "", " 🌿", " ✨", " 🚲", " 🎧", " 🐈", " ☕")


_EN = {
    "open": (
        "Hi {brand},",
        "Hey {brand}",
        "Hello!",
        "Quick question:",
        "Ugh.",
        "",
        "",
        "@{brand_l}",
        "Dear {brand} team,",
        "So,",
    ),
    "issue": (
        "my order {order} still hasn't shipped",
        "the app crashes every time I open the settings",
        "I was charged twice for my subscription this month",
        "{product} stopped syncing after the update",
        "how do I export all my data?",
        "is there a dark mode yet?",
        "the battery drains overnight since {ver}",
        "I can't log in since yesterday, the password reset mail never arrives",
        "where can I find the invoice for {month}?",
        "the delivery tracking link is broken",
        "any plans for a Linux version of {product}?",
        "the new pricing page is confusing",
        "{product} is great, thanks for the quick fix!",
        "notifications arrive hours late",
        "the refund for order {order} never came",
        "can I change the email on my account?",
        "the checkout page times out on mobile",
        "two-factor codes are rejected as expired",
        "love the redesign, much faster now",
        "the export is missing every attachment",
    ),
    "detail": (
        "I've tried reinstalling twice.",
        "It's been {n} days.",
        "Running {ver} on {device}.",
        "Support ticket {ticket}.",
        "Screenshot: {shot}",
        "Same problem as last week.",
        "Any news?",
        "Nobody answered my email.",
        "My whole team has it too.",
        "Cleared the cache, no change.",
        "It worked fine before the update.",
        "Happens on wifi and on 4G.",
    ),
    "close": (
        "Thanks!",
        "Please help.",
        "🙏",
        "Cheers",
        "",
        "",
        "Not happy.",
        "Love the product otherwise ❤️",
        "Any idea?",
        "#help",
    ),
}


_FR = {
    "open": ("Bonjour {brand},", "Salut {brand}", "Bonjour !", "Petite question :", "Sérieusement ?", "", "",
             "@{brand_l}", "Bonsoir,"),
    "issue": (
        "ma commande {order} n'est toujours pas arrivée", "l'application plante au démarrage",
        "j'ai été prélevé deux fois ce mois-ci", "la synchro ne marche plus depuis la mise à jour {ver}",
        "comment exporter toutes mes données ?", "où trouver la facture de {month} ?",
        "impossible de me connecter depuis hier", "merci pour la réponse rapide, c'est réglé !",
        "le café de la réunion était froid, mais l'appli est super",
        "le remboursement de {order} est en retard",
        "le suivi de livraison affiche une erreur", "est-ce qu'une version Linux est prévue ?",
        "les notifications arrivent avec des heures de retard", "je suis très déçu du service client",
        "le nouveau tarif est beaucoup trop élevé", "problème de paiement sur mobile",
    ),
    "detail": ("J'ai déjà réinstallé deux fois.", "Ça fait {n} jours.", "Version {ver} sur {device}.",
               "Ticket {ticket}.", "Capture : {shot}", "Même problème que la semaine dernière.",
               "Des nouvelles ?", "Personne ne répond à mes mails.", "Toute l'équipe a le même souci."),
    "close": ("Merci !", "Merci d'avance.", "🙏", "Cordialement,", "", "", "Pas content.", "Bonne journée"),
}  # fmt: skip


_DE = {
    "open": ("Hallo {brand},", "Hi {brand}", "Kurze Frage:", ""),
    "issue": ("meine Bestellung {order} ist immer noch nicht da", "die App stürzt beim Start ab",
              "mir wurde zweimal abgebucht", "die Synchronisierung geht seit dem Update nicht mehr",
              "wie exportiere ich meine Daten?", "danke für die schnelle Hilfe!"),
    "detail": ("Schon {n} Tage.", "Version {ver} auf {device}.", "Ticket {ticket}.", "Gibt es Neuigkeiten?"),
    "close": ("Danke!", "Grüße", "", "🙏"),
}  # fmt: skip


_ES = {
    "open": ("Hola {brand},", "Buenas,", "Una pregunta:", ""),
    "issue": ("mi pedido {order} todavía no ha llegado", "la aplicación se cierra al abrirla",
              "me cobraron dos veces este mes", "la sincronización no funciona desde la actualización",
              "¿cómo exporto mis datos?", "¡gracias por la ayuda tan rápida!"),
    "detail": ("Ya van {n} días.", "Versión {ver} en {device}.", "Ticket {ticket}.", "¿Alguna novedad?"),
    "close": ("¡Gracias!", "Saludos", "", "🙏"),
}  # fmt: skip


_IT = {
    "open": ("Ciao {brand},", "Buongiorno,", "Domanda veloce:", ""),
    "issue": ("il mio ordine {order} non è ancora arrivato", "l'app si chiude all'avvio",
              "mi avete addebitato due volte", "la sincronizzazione non funziona dopo l'aggiornamento",
              "come esporto i miei dati?", "grazie per l'aiuto veloce!"),
    "detail": ("Sono già {n} giorni.", "Versione {ver} su {device}.", "Ticket {ticket}.", "Novità?"),
    "close": ("Grazie!", "Saluti", "", "🙏"),
}  # fmt: skip


_PT = {
    "open": ("Olá {brand},", ""),
    "issue": ("meu pedido {order} ainda não chegou", "o aplicativo fecha ao abrir",
              "como exporto meus dados?"),
    "detail": ("Já são {n} dias.", "Versão {ver} no {device}."),
    "close": ("Obrigado!", ""),
}  # fmt: skip


_NL = {
    "open": ("Hallo {brand},", ""),
    "issue": ("mijn bestelling {order} is nog steeds niet binnen", "de app crasht bij het opstarten",
              "hoe exporteer ik mijn gegevens?"),
    "detail": ("Al {n} dagen.", "Versie {ver} op {device}."),
    "close": ("Bedankt!", ""),
}  # fmt: skip


PHRASES = {"en": _EN, "fr": _FR, "de": _DE, "es": _ES, "it": _IT, "pt": _PT, "nl": _NL}


REPLIES = {
    "en": ("Hi {name}, sorry about that! Could you send us your order number in a private message?",
           "Thanks for reporting this, {name}: our team is on it and we'll update you here.",
           "This is fixed in {ver}, please update and tell us if it still happens.",
           "You can find the steps here: {help}", "Glad it works now, {name}! 🎉",
           "We've refunded order {order}; it can take 3-5 days to show up.",
           "Could you tell us which device and version you use?"),
    "fr": ("Bonjour {name}, désolés pour ce souci ! Envoyez-nous votre numéro de commande en privé ?",
           "Merci {name}, l'équipe regarde ça et on revient vers vous ici.",
           "C'est corrigé dans la {ver}, pouvez-vous mettre à jour ?", "Toutes les étapes sont ici : {help}",
           "Ravi que ça marche, {name} ! 🎉", "Le remboursement de {order} est parti, comptez 3 à 5 jours."),
    "de": ("Hallo {name}, das tut uns leid! Schick uns bitte deine Bestellnummer per DM.",
           "Hier steht, wie es geht: {help}", "Ist in {ver} behoben, bitte aktualisieren."),
    "es": ("Hola {name}, ¡lo sentimos! ¿Nos envías tu número de pedido por privado?",
           "Aquí tienes los pasos: {help}", "Está corregido en la {ver}."),
    "it": ("Ciao {name}, ci dispiace! Ci mandi il numero d'ordine in privato?", "Ecco i passaggi: {help}"),
    "pt": ("Olá {name}, desculpe! Pode nos enviar o número do pedido?", "Os passos estão aqui: {help}"),
    "nl": ("Hallo {name}, sorry! Stuur je ons je bestelnummer?", "Hier staan de stappen: {help}"),
}  # fmt: skip


SPAM = (
    "💰 Make $5000 a week from home, DM me now {spam}",
    "Follow back? f4f 🔁 #follow4follow",
    "Best deals 2026 → {spam}",
    "Crypto giveaway!!! send 0.1 BTC, get 1 BTC back {spam}",
    "Free followers, check my profile 🔥🔥🔥",
    "Cheap watches and bags {spam} {spam}",
    "Gagnez 500 € par jour sans rien faire {spam}",
    "I can promote your brand to 2M followers, DM",
)


TITLES = {
    "en": ("Sync broken after update", "Charged twice", "Feature request: dark mode", "Order never arrived",
           "Export is missing attachments", "Login loop on mobile", "Great release!", "Invoice question"),
    "fr": ("Synchro cassée depuis la mise à jour", "Prélevé deux fois", "Suggestion : mode sombre",
           "Commande jamais reçue", "Problème de facture", "Bravo pour la nouvelle version"),
}  # fmt: skip


_PRODUCTS = ("Acme Cloud", "the Acme app", "Acme Sync", "the Acme router", "Acme Notes")


_DEVICES = ("Android 14", "iOS 18", "Pixel 8", "iPhone 15", "Windows 11", "macOS", "Ubuntu 24.04")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September")


def _fill(template: str, rng: random.Random, name: str, language: str) -> tuple[str, list[str]]:
    """A template with its slots filled, and the links the text now holds."""
    links: list[str] = []
    values: dict[str, str] = {"brand": BRAND, "brand_l": BRAND.lower(), "name": name}
    if "{order}" in template:
        values["order"] = f"#{rng.randrange(100000, 999999)}"
    if "{ver}" in template:
        values["ver"] = f"{rng.randrange(2, 6)}.{rng.randrange(0, 20)}.{rng.randrange(0, 9)}"
    if "{n}" in template:
        values["n"] = str(rng.randrange(2, 30))
    if "{ticket}" in template:
        values["ticket"] = f"#{rng.randrange(10000, 99999)}"
    if "{month}" in template:
        values["month"] = rng.choice(_MONTHS)
    if "{product}" in template:
        values["product"] = rng.choice(_PRODUCTS)
    if "{device}" in template:
        values["device"] = rng.choice(_DEVICES)
    if "{shot}" in template:
        values["shot"] = f"https://img.example/{rng.getrandbits(40):010x}.png"
        links.append(values["shot"])
    if "{help}" in template:
        values["help"] = f"https://help.acme.example/{language}/articles/{rng.randrange(1000, 1400)}"
        links.append(values["help"])
    if "{spam}" in template:
        # One link per slot: format fills every {spam} with the same value, so draw once.
        host = rng.choice(("deals", "win", "crypto", "free"))
        values["spam"] = f"https://{host}{rng.randrange(99)}.example/x"
        links.append(values["spam"])
    return template.format(**values), links


def customer_text(rng: random.Random, language: str, name: str, long: bool) -> tuple[str, list[str]]:
    """What a person writes: an opener, the point, some details, a closer (longer in mail and blogs)."""
    phrases = PHRASES[language]
    details = rng.choice((0, 0, 1, 1, 2)) + (rng.randrange(2, 6) if long else 0)
    point = rng.choice(phrases["issue"])
    parts = [rng.choice(phrases["open"]), point[0].upper() + point[1:] + ("" if point[-1] in "?!" else ".")]
    parts += rng.sample(phrases["detail"], min(details, len(phrases["detail"])))
    parts.append(rng.choice(phrases["close"]))
    text, links = _fill(" ".join(p for p in parts if p), rng, name, language)
    return text, links


def brand_text(rng: random.Random, language: str, name: str) -> tuple[str, list[str]]:
    return _fill(rng.choice(REPLIES[language]), rng, name, language)


def spam_text(rng: random.Random) -> tuple[str, list[str]]:
    return _fill(rng.choice(SPAM), rng, "", "en")
