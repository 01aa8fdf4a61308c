"""The forum's scripted traffic, as data: the help topics, two weeks of community threads in
English and French, and the new topics and replies `tick()` draws from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BRAND = "B"  # the author key of the brand account in the scripts below


@dataclass(frozen=True, slots=True)
class Reply:
    """A post after the first; `to` is the post number it answers (None: the topic)."""

    who: str
    raw: str
    to: int | None = None


@dataclass(frozen=True, slots=True)
class TopicScript:
    """A topic to publish: its first post, then its replies in order."""

    category: str
    who: str
    title: str
    raw: str
    replies: tuple[Reply, ...] = ()

    @property
    def language(self) -> str:
        return "fr" if self.category == "entraide" else "en"


def _topic(category: str, who: str, title: str, raw: str, *replies: tuple[Any, ...]) -> TopicScript:
    return TopicScript(category, who, title, raw, tuple(Reply(*reply) for reply in replies))


def help_scripts() -> list[TopicScript]:
    """The canonical help topics, in HELP_TOPICS order. Long-form data."""
    # fmt: off
    return [
        _topic(
            "support", BRAND, "How to track your order",
            "Every order gets a tracking number as soon as the carrier picks it up.\n\n"
            "- Go to **Account › Orders** and open the order\n"
            "- Click **Track package**: you'll see every scan from the carrier\n"
            "- The same link is in your shipping confirmation email\n\n"
            "\"Label created\" means we've packed it and the carrier hasn't scanned it yet. "
            "That usually changes within 48 hours. If it stays on \"label created\" for more than "
            "5 business days, reply here or open a topic in Support and we'll chase the carrier.",
            ("bob", ("Tip from a long-time customer: the carrier's own site often updates a few hours "
                     "before the Acme page does.")),
            ("sarah", "Is there a way to get SMS updates instead of email? I never check my inbox."),
            (BRAND, ("Not yet, Sarah, but you can turn on push notifications in the app under "
                     "Settings › Notifications › Deliveries."), 3),
        ),
        _topic(
            "support", BRAND, "Export your data to CSV",
            "You can download everything we hold about your account:\n\n"
            "- **Account › Privacy › Export data**\n"
            "- Pick CSV (spreadsheet friendly) or JSON (for developers)\n"
            "- We email you a download link within a few minutes; it stays valid for 7 days\n\n"
            "The orders file has one row per item, with date, order number, price, VAT and status. "
            "Developers can also use the `GET /v2/orders` endpoint of the API.",
            ("tomasz", "Is the CSV comma or semicolon separated? Excel in Poland expects semicolons."),
            (BRAND, ("Comma separated, UTF-8. In Excel use Data › From Text/CSV and pick the comma "
                     "delimiter; we'll look at a semicolon option."), 2),
            ("hana", "LibreOffice asks you on import, so it just works there."),
        ),
        _topic(
            "support", BRAND, "Refunds and returns policy",
            "You can return any item within **30 days** of delivery, for any reason.\n\n"
            "- Start a return from **Account › Orders › Return items**\n"
            "- Print the prepaid label, drop the parcel at any carrier point\n"
            "- We refund to your original payment method within 5 business days of receiving it\n\n"
            "Damaged or wrong items: don't send them back first, post a photo in Support or tell us "
            "through the app and we'll replace or refund right away. Sale items can be returned too.",
            ("devon", "What about items bought with a gift card? Does the refund go back on the card?"),
            (BRAND, ("Yes Devon, gift card payments are refunded to the gift card, the rest to your "
                     "card or PayPal."), 2),
        ),
        _topic(
            "entraide", BRAND, "Suivre votre commande",
            "Chaque commande reçoit un numéro de suivi dès que le transporteur la prend en charge.\n\n"
            "- Allez dans **Compte › Commandes** et ouvrez la commande\n"
            "- Cliquez sur **Suivre le colis** pour voir chaque étape\n"
            "- Le lien se trouve aussi dans l'e-mail de confirmation d'expédition\n\n"
            "« Étiquette créée » signifie que le colis est prêt mais pas encore scanné par le "
            "transporteur. Au-delà de 5 jours ouvrés, écrivez-nous ici.",
            ("julien", ("Pour les envois en point relais, le suivi passe par le site du transporteur, "
                        "le lien est dans le même e-mail.")),
        ),
        _topic(
            "entraide", BRAND, "Remboursements et retours",
            "Vous pouvez retourner un article dans les **30 jours** suivant la livraison.\n\n"
            "- Lancez le retour depuis **Compte › Commandes › Retourner des articles**\n"
            "- Imprimez l'étiquette prépayée et déposez le colis en point relais\n"
            "- Le remboursement arrive sous 5 jours ouvrés après réception\n\n"
            "Article abîmé ou erroné : ne le renvoyez pas, envoyez-nous une photo et nous "
            "remplaçons ou remboursons tout de suite.",
            ("sophie", "Et pour un article acheté en soldes, c'est pareil ? Merci d'avance."),
            (BRAND, "Oui Sophie, les articles soldés se retournent aussi, dans les mêmes conditions.", 2),
        ),
        _topic(
            "support", BRAND, "Known issue: app crash on settings screen",
            "Some of you are seeing the app close as soon as you open **Settings** on Android 14 "
            "with app version 3.19.0. We know, and we're on it.\n\n"
            "**Workaround:** change your settings from the website for now "
            "(Account › Preferences). Your orders, cart and tracking are not affected.\n\n"
            "We'll update this topic as soon as the fix ships. If you're on iOS or an older Android "
            "and it crashes too, please reply with your phone model and app version.",
            ("mike", "Same here, Pixel 8, Android 14, app 3.19.0. Crashes instantly."),
            ("nina", "Samsung S23, same crash. Glad it's not just me."),
            ("devon", "Happens on my Pixel 7 as well, even after clearing the cache."),
            ("hana", "If anyone needs the website path: Account › Preferences, it has the same options."),
            ("kate", "iPhone 13, iOS 17.5, app 3.19.0: no crash for me, for what it's worth."),
            ("tomasz", ("OnePlus 11 here. Crash log says something about a null theme resource, in case "
                        "that helps the devs.")),
            (BRAND, ("Thanks everyone, the log pointer helps a lot Tomasz. The cause is the new theme "
                     "picker; a fix is in review."), 7),
            ("sam", "Any ETA? I need to change my delivery address and the website keeps timing out."),
            (BRAND, ("Sam, the fix should be in the stores early next week. For the address, reply "
                     "with your order number in a private message and we'll change it for you."), 9),
            ("priya", "Pixel 6a, same problem. Subscribing to this thread."),
            ("jamie", "Also crashing on a Xiaomi 13 with Android 14."),
            ("bob", "Been here for years: they do ship fixes quickly, hang in there folks."),
            (BRAND, ("Update: version 3.19.1 is rolling out on Google Play now, with the fix. It can "
                     "take up to 24 hours to reach everyone.")),
            ("mike", "Updated to 3.19.1, Settings opens fine now. Thanks!", 14),
            ("nina", "Still crashing on my S23 with 3.19.1 :( tried reinstalling too.", 14),
            (BRAND, ("Nina, could you send us the crash report from Settings › Help › Send logs on the "
                     "website? That version should not crash."), 16),
            ("nina", "Sent the logs, reference 88-2231. Thanks for looking.", 17),
            ("devon", "Works for me on the Pixel 7 after the update."),
            ("sarah", "{@brand} is the fix coming to the Huawei AppGallery too? Still on 3.19.0 there."),
            (BRAND, "Yes Sarah, AppGallery review takes longer, we expect 3.19.1 there this week.", 20),
            ("hana", "Marking mine as solved too, Pixel 8 Pro works with 3.19.1."),
            ("nina", "New update today and it finally works on the S23. Thanks {@brand}!", 17),
            (BRAND, ("Great news Nina, and thanks for the logs. We'll keep this topic open a few "
                     "more days in case anyone is still affected."), 23),
        ),
    ]
    # fmt: on


def community_scripts() -> list[TopicScript]:
    """The last two weeks of community topics. Long-form data."""
    # fmt: off
    return [
        # -- support, English -----------------------------------------------------------------
        _topic(
            "support", "sarah", "Order #48213 stuck on 'label created' for 9 days",
            "My order #48213 has said \"label created\" since the 2nd. I read [the tracking guide]"
            "({help:track}) and it says more than 5 business days means you'll chase the carrier. "
            "Can someone please look at it?",
            ("hana", ("Same happened to me in March: the carrier had lost the label. Support sorted it "
                      "out quickly once they knew.")),
            (BRAND, ("Sorry Sarah, 9 days is far too long. We've asked the carrier for a trace and "
                     "will update you here by tomorrow."), 1),
            ("sarah", "Thanks. Any news? It's now day 11.", 3),
            (BRAND, ("The carrier confirmed they lost the parcel. We're reshipping by express at no "
                     "cost, you'll get a new tracking link by email within the hour."), 4),
            ("sarah", "Got the email and the new tracking already shows 'in transit'. Thank you!", 5),
            ("bob", "Nice turnaround. Always worth posting here instead of waiting on email."),
        ),
        _topic(
            "support", "mike", "App crashes when I open Settings on Pixel 8",
            "Every time I tap Settings the app closes. Pixel 8, Android 14, app 3.19.0. "
            "Reinstalled twice, no change.",
            ("hana", ("This is a known issue, see [Known issue: app crash on settings screen]"
                      "({help:known-crash}). There's a workaround through the website."), 1),
            (BRAND, "Thanks Hana! Mike, please follow the known-issue topic: the fix is in 3.19.1.", 1),
        ),
        _topic(
            "support", "priya", "How do I export only last year's orders to CSV?",
            "I need my 2025 orders for my tax return. The export in Account › Privacy gives me "
            "everything since 2019. Is there a date filter somewhere?",
            ("bob", ("The export has no filter, but the CSV has a date column: open it in a "
                     "spreadsheet and filter on the year. Takes a minute."), 1),
            ("priya", "That worked, sorted by date and deleted the rest. Thanks Bob!", 2),
        ),
        _topic(
            "support", "devon", "Charged twice for my subscription this month",
            "{@brand} I see two charges of $12.99 on the 14th for the same subscription. "
            "Only one account, only one subscription. What happened?",
            (BRAND, ("Hi Devon, sorry about that. The second one is often a pending authorization "
                     "that disappears in 3 to 5 days. If it's still there after that, tell us here."), 1),
            ("devon", "It's been 6 days and both are still there, and both are marked as completed.", 2),
            (BRAND, ("You're right, it was a double charge on our side. Refunded just now, it takes "
                     "2 to 3 business days to show."), 3),
            ("devon", "Refund showed up today. Thanks for sorting it out.", 4),
        ),
        _topic(
            "support", "tomasz", "API rate limit for the order status endpoint?",
            "I'm polling `GET /v2/orders/{id}/status` from my home dashboard and started getting "
            "HTTP 429 after a while. What are the limits?",
            ("bob", ("It's 600 requests per hour per key, last time I checked. Poll less often or "
                     "use the webhook for status changes."), 1),
            ("tomasz", "600/h should be plenty, I'm doing one call every 10 minutes. Still 429.", 2),
            ("tomasz", "{@brand} could someone from the team check my key? It ends in ...f3a9."),
            (BRAND, ("Tomasz, your key was created before we raised the limits and is still on the "
                     "old 60/h plan. We've moved it to 600/h, no need to change anything."), 4),
        ),
        _topic(
            "support", "kate", "Password reset email never arrives",
            "I clicked \"forgot password\" five times today and no email ever came. The address "
            "is right, I get your newsletters on it.",
            ("hana", ("Check the spam folder and the Promotions tab if you're on Gmail, the sender "
                      "is no-reply@acme.example."), 1),
            ("kate", "Not in spam, not in promotions. Still nothing after an hour.", 2),
        ),
        _topic(
            "support", "jamie", "Invoice shows the wrong company name",
            "The PDF invoice for order 55120 has my old employer's name on it. I changed the "
            "company name in my profile last month. Can the invoice be regenerated?",
        ),
        _topic(
            "support", "nina", "Parcel delivered to the wrong address",
            "Tracking says delivered with a photo, but the photo shows a door that isn't mine. "
            "Order 61877. What do I do now?",
            ("sam", ("Same thing happened to me last month. Ask your neighbours first, mine was two "
                     "doors down. If not, support will reship."), 1),
        ),
        _topic(
            "support", "mike", "Where do I find my invoices for expense reports?",
            "My company wants a PDF invoice for each order. Where are they?",
            ("bob", ("Account › Orders › open the order › Download invoice. You can add a company "
                     "name and VAT number before downloading."), 1),
        ),
        _topic(
            "support", "glitch", "Order page shows [bold]weird[/bold] text and my terminal beeps",
            "When I copy my order status from the page I get this: \x1b]0;x\x07 \x1b[31mFAILED\x1b[0m "
            "and my terminal title changes. Also the page shows <script>alert(1)</script>, "
            "[bold]weird[/bold] and [link=https://evil.example]click here[/link] in the notes "
            "field.\n\n"
            "Raw bytes: \\x1b]52;c;ZXZpbA==\\x07 \x1b]52;c;ZXZpbA==\x07 ok?",
            (BRAND, ("Thanks for the report. Could you send a screenshot of the order page? We'll "
                     "check how the notes field is displayed."), 1),
        ),
        _topic(
            "support", "sam", "Refund for a damaged lamp, still waiting after 2 weeks",
            "Your refunds policy says:\n\n"
            "[quote=\"{brand}, post:1, topic:3\"]\n"
            "Damaged or wrong items: don't send them back first, post a photo in Support or tell us "
            "through the app and we'll replace or refund right away.\n"
            "[/quote]\n\n"
            "I sent photos of the cracked lamp base through the app two weeks ago. Nothing since.",
            ("priya", "Post the photos here too, that's what got mine moving."),
            ("sam", "Photos: https://photos.example.net/album/sam-reyes/lamp-damage?share=1"),
        ),
        _topic(
            "support", "mel", "Account locked after changing my email",
            "I changed my email and now I can't log in, it says the account is locked. "
            "[bold red]URGENT[/] please, I have an order on the way.",
        ),
        # -- feedback, English ----------------------------------------------------------------
        _topic(
            "feedback", "priya", "Feature request: pause a subscription instead of cancelling",
            "I'm travelling for two months and would rather pause my subscription than cancel it "
            "and lose my plan's price. Would anyone else use this?",
            ("devon", "Yes please. I cancelled last summer for exactly this reason."),
            ("kate", "Would use it every year around the holidays."),
            ("bob", "A pause with a date picker (restart on X) would be ideal."),
            ("tomasz", "Agreed, as long as it doesn't reset the loyalty points.", 4),
            (BRAND, ("Thanks all, this is on our roadmap for the spring. We'll post here when it's "
                     "in beta. Tomasz: points would be kept."), 1),
            ("priya", "Fantastic, thank you! Happy to test the beta.", 6),
            ("jamie", "Would the pause be limited in length? Three months would cover most cases."),
            ("sam", "Please also let us pause from the app, not only the website."),
        ),
        _topic(
            "feedback", "kate", "Bring back the old order history layout",
            "The new order history hides the order number behind a click. I look up order "
            "numbers all the time for returns. Please bring back the old layout, or add an option.",
            ("mike", "I actually prefer the new one, it's much cleaner on mobile."),
            ("kate", "On mobile maybe, but on desktop there's so much wasted space now.", 2),
            ("hana", "A compact view toggle would make both of you happy."),
            ("mike", "Fair point, a toggle sounds good to me too.", 4),
            ("kate", "{@brand} any chance of a compact view toggle? Would solve it for everyone."),
        ),
        _topic(
            "feedback", "tomasz", "Dark mode for the web dashboard",
            "The app has dark mode but the website is blinding at night. Any plans?",
            ("jamie", "Using a browser extension for now, but it breaks the charts."),
            (BRAND, "It's planned for the next big website release. No date yet, but it's coming.", 1),
            ("tomasz", "Good to hear, thanks for the honest answer.", 3),
        ),
        _topic(
            "feedback", "jamie", "Keyboard shortcuts in the web app would be amazing",
            "Power user here: shortcuts for search (/), reorder (r) and next/previous order (j/k) "
            "would save me a lot of clicks.",
            ("bob", "Strong +1 for j/k, every good web app has them."),
        ),
        # -- announcements --------------------------------------------------------------------
        _topic(
            "announcements", BRAND, "Acme app 3.19.1 is out: settings crash fixed",
            "Version 3.19.1 is rolling out on Google Play and the App Store. It fixes the crash "
            "when opening Settings on Android 14 (see [the known issue]({help:known-crash})), and "
            "makes the order page load faster.\n\nThanks to everyone who sent logs!",
            ("mike", "Updated and confirmed fixed on my Pixel 8. Thanks team!"),
            ("nina", "Still crashing on S23 for me, posted details in the known-issue topic."),
            ("hana", "Order page is noticeably faster, nice work."),
        ),
        _topic(
            "announcements", BRAND, "Scheduled maintenance on Sunday 02:00 to 04:00 UTC",
            "We're upgrading our database on Sunday between 02:00 and 04:00 UTC. The website and "
            "the app will be read-only during that window: you can browse, but not order.",
            ("sophie", "Merci pour l'info ! Les commandes passées avant seront bien expédiées ?"),
            (BRAND, "Oui Sophie, les commandes déjà passées ne sont pas concernées.", 2),
        ),
        # -- entraide, French ------------------------------------------------------------------
        _topic(
            "entraide", "camille", "Commande jamais reçue, colis bloqué à Lyon",
            "Bonjour, ma commande passée le 3 est toujours « en transit » au dépôt de Lyon depuis "
            "une semaine. J'ai lu [Suivre votre commande]({help:suivre}) mais rien ne bouge.",
            (BRAND, ("Bonjour Camille, désolés pour l'attente ! Nous relançons le transporteur "
                     "aujourd'hui et revenons vers vous ici."), 1),
            ("julien", ("Même chose pour moi le mois dernier, le dépôt de Lyon était saturé. Ça a fini "
                        "par arriver après 10 jours.")),
            ("camille", "Toujours rien trois jours plus tard…", 2),
            (BRAND, ("Le transporteur ne retrouve pas le colis. Nous vous renvoyons la commande en "
                     "express, sans frais. Encore désolés."), 4),
            ("camille", "Reçu ce matin, merci beaucoup !", 5),
            ("marc", "Bon à savoir, merci d'avoir partagé le suivi de l'histoire."),
        ),
        _topic(
            "entraide", "sophie", "Remboursement toujours pas reçu après 3 semaines",
            "{@brand} j'ai retourné deux articles il y a trois semaines, le colis est marqué reçu "
            "depuis le 12 mais toujours pas de remboursement. Dossier 55302.",
            (BRAND, ("Bonjour Sophie, comme indiqué dans [Remboursements et retours]"
                    "({help:remboursements}), comptez 5 jours ouvrés après réception. Nous "
                     "vérifions le dossier 55302."), 1),
            ("sophie", "Ça fait bien plus de 5 jours ouvrés… Merci de vérifier.", 2),
            (BRAND, ("Le remboursement était bloqué par une erreur de notre côté : il est parti "
                     "aujourd'hui. Toutes nos excuses."), 3),
        ),
        _topic(
            "entraide", "marc", "Facture sans numéro de TVA intracommunautaire",
            "Mon comptable me demande le numéro de TVA intracommunautaire sur les factures. "
            "Il n'apparaît pas sur les miennes. Une idée ?",
            ("julien", ("Il faut activer le compte pro (Compte › Type de compte), puis ajouter le "
                        "numéro dans Compte › Entreprise."), 1),
            ("marc", "Fait, mais les anciennes factures ne changent pas.", 2),
            ("julien", "Il faut les régénérer une par une depuis la commande, bouton « Régénérer ».", 3),
            (BRAND, ("Merci Julien ! Marc-Antoine, on peut aussi les régénérer toutes d'un coup "
                     "pour vous : envoyez-nous la liste des commandes en message privé."), 3),
        ),
        _topic(
            "entraide", "amelie", "Mot de passe oublié : le lien a expiré",
            "Le lien de réinitialisation du mot de passe me dit « lien expiré » alors que je "
            "clique dessus tout de suite après l'avoir reçu.",
            ("hugo", ("Ça m'est arrivé : le lien ne marche qu'une fois, et certaines messageries "
                     "l'ouvrent pour vérifier les liens. Essayez de copier-coller le lien dans une "
                      "fenêtre privée."), 1),
            ("amelie", ("Effectivement, en copiant le lien dans une fenêtre privée ça a marché. "
                        "Merci hugo !"), 2),
        ),
        _topic(
            "entraide", "lucas", "L'appli plante sur l'écran Paramètres (Android 14)",
            "Depuis la mise à jour, l'appli se ferme dès que j'ouvre les Paramètres. "
            "Samsung A54, Android 14.",
            ("amelie", ("C'est un problème connu, il y a un sujet en anglais : "
                        "[Known issue: app crash on settings screen]({help:known-crash})."), 1),
            (BRAND, ("Merci Amélie ! Lucas, la version 3.19.1 corrige le problème, elle est en "
                     "cours de déploiement sur le Play Store."), 1),
        ),
        _topic(
            "entraide", "hugo", "Livraison en point relais possible ?",
            "Est-ce qu'on peut se faire livrer en point relais ? Je ne vois que la livraison à "
            "domicile au moment de payer.",
        ),
        _topic(
            "entraide", "julien", "Export CSV : les accents sont cassés dans Excel",
            "J'ai exporté mes commandes en CSV ([Export your data to CSV]({help:export})) et dans "
            "Excel tous les accents sont remplacés par des caractères bizarres : « CafÃ© » au lieu "
            "de « Café ».",
            ("marc", ("Le fichier est en UTF-8 : dans Excel, passez par Données › À partir d'un "
                      "fichier texte et choisissez l'encodage 65001 (UTF-8)."), 1),
            ("julien", "Ça marche, merci ! Dommage qu'il faille passer par là.", 2),
            (BRAND, ("Bonne remarque Julien : nous allons ajouter l'indicateur UTF-8 (BOM) au fichier "
                     "pour qu'Excel le reconnaisse directement."), 3),
        ),
        _topic(
            "entraide", "rick", "Votre compte sera suspendu dans 24 heures",
            "Vérifiez votre compte ici avant sa suspension : https://acme-verify.example/login?session=8f2a "
            "\u202egnp.exe",
        ),
    ]
    # fmt: on


NEW_TOPICS_EN: tuple[tuple[str, str, str], ...] = (
    (
        "support",
        "Checkout keeps saying my card was declined",
        (
            "Tried two different cards this morning, both declined at checkout, and my bank says "
            "nothing was even attempted. Anyone else?"
        ),
    ),
    (
        "support",
        "Tracking hasn't moved in five days",
        "Order {n} shipped last week and the tracking page hasn't changed since. Is this normal?",
    ),
    (
        "support",
        "How do I change the email on my account?",
        "I'm moving away from my old email provider. Where can I change the address we log in with?",
    ),
    (
        "support",
        "App logs me out every time I close it",
        "iPhone 15, app 3.19.1. Every time I close the app I have to log in again. Annoying!",
    ),
    (
        "support",
        "Wrong colour delivered for order {n}",
        "Ordered the lamp in sage green, received it in grey. How do I swap it without paying twice?",
    ),
    (
        "support",
        "Promo code says expired but the email says valid",
        "WINTER10 is refused at checkout, but your newsletter says it's valid until Sunday.",
    ),
    (
        "support",
        "Can I merge two accounts?",
        "I accidentally created a second account with my work email. Can the orders be merged?",
    ),
    (
        "feedback",
        "Please add a wishlist I can share",
        "Would love to share a wishlist link with family before birthdays. Other shops have this.",
    ),
    (
        "feedback",
        "The size guide runs small",
        (
            "Ordered a medium based on the size guide and it fits like an extra small. The guide "
            "could use real measurements."
        ),
    ),
    (
        "feedback",
        "Let me choose a delivery time slot",
        "Being able to pick a two-hour slot would save me from missing deliveries.",
    ),
)


NEW_TOPICS_FR: tuple[tuple[str, str, str], ...] = (
    (
        "entraide",
        "Commande marquée livrée mais rien reçu",
        "Bonjour, ma commande {n} est indiquée livrée depuis hier mais je n'ai rien reçu.",
    ),
    (
        "entraide",
        "L'appli me déconnecte tous les jours",
        "Est-ce normal que l'appli me demande de me reconnecter chaque matin ? iPhone 14.",
    ),
    (
        "entraide",
        "Comment supprimer mon compte ?",
        "Je ne trouve pas l'option pour supprimer mon compte et mes données. Quelqu'un sait ?",
    ),
    (
        "entraide",
        "Facture vide pour la commande {n}",
        "Le PDF de la facture de ma commande {n} est une page blanche. Quelqu'un a eu le même souci ?",
    ),
    (
        "entraide",
        "Impossible de modifier l'adresse de livraison",
        (
            "Le bouton pour changer l'adresse de livraison est grisé alors que la commande n'est pas "
            "encore expédiée."
        ),
    ),
)


REPLIES_EN = (
    "Same problem here since yesterday, following this topic.",
    "Any update on this? I'm seeing exactly the same thing.",
    "Had this last month, it sorted itself out after a couple of days.",
    "Did you try logging out and back in? That fixed it for me.",
    "Following, I'd like to know the answer too.",
    "Not sure it helps, but clearing the app cache worked on my phone.",
)


REPLIES_FR = (
    "Même problème chez moi depuis hier, je suis le sujet.",
    "Des nouvelles ? J'ai exactement la même chose.",
    "Ça m'est arrivé le mois dernier, ça s'est réglé tout seul en deux jours.",
    "Vous avez essayé de vous déconnecter et reconnecter ? Ça a marché pour moi.",
)


BACK_TO_BRAND_EN = (
    "Thanks, I tried that but it still doesn't work.",
    "That fixed it, thank you for the quick answer!",
    "Sent the details by private message just now.",
    "Hmm, the link you gave me shows a 404 page.",
    "Still waiting on this one, any news from your side?",
)


BACK_TO_BRAND_FR = (
    "Merci, j'ai essayé mais ça ne marche toujours pas.",
    "C'est réglé, merci pour la réponse rapide !",
    "Je viens de vous envoyer les détails en message privé.",
    "Toujours rien de mon côté, des nouvelles ?",
)
