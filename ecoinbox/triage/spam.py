"""Spam: the signals blog and social spam carry, plus what the manager's own marks taught.

`SpamFilter.check` adds up hand-weighted signals (link stuffing, commercial words in English and
French, generic praise that says nothing about the post, keyword-like author names, the same text
seen again) and a naive Bayes classifier fed by the manager's "spam" / "not spam" marks
(`SpamFilter.learn`), whose state (`SpamMarks`) serializes to JSON bytes for the store.

Precision first: a real person wrongly hidden is worse than a spam shown. The threshold is set
high, links to screenshots do not count as link stuffing, an order number or a known author pulls
the other way, and every verdict says why in words ("spam: 4 links, generic praise").

Headless and pure Python: no Textual, no Rich, no I/O.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ecoinbox.model import Message
from ecoinbox.replies import fold, stem, words
from ecoinbox.triage._text import (
    Link,
    Term,
    find_links,
    has_email,
    matches,
    minhash,
    normalize,
    parse_link,
    resemblance,
    strip_links,
    term,
    word_set,
)

__all__ = ["DEFAULT_THRESHOLD", "Signal", "SpamFilter", "SpamMarks", "Verdict", "spam_signals"]

BIAS: Final = -3.0
"""Log-odds of spam before any signal: most messages are not spam."""

DEFAULT_THRESHOLD: Final = 0.8
"""Score at or above which a message is spam. Chosen on the train split for precision first."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: its name, its weight in log-odds (negative: not spam), and why."""

    name: str
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a message is spam, how sure (0..1), and why in words ("4 links", "generic praise")."""

    is_spam: bool
    score: float
    reasons: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()

    def __str__(self) -> str:
        head = "spam" if self.is_spam else "not spam"
        return f"{head}: {', '.join(self.reasons)}" if self.reasons else head


# --------------------------------------------------------------------------------------------
# Lexicons (regexes over folded text: no accents, lowercase)

_COMMERCIAL: Final[tuple[Term, ...]] = (
    # crypto, trading
    term(r"bitcoins?", 1.5, "bitcoin", "crypto"),
    term(r"crypto(?:s|currency)?", 1.0, "crypto", "crypto"),
    term(r"forex", 2.0, "forex", "crypto"),
    term(r"binary options?|options binaires", 2.5, "binary options", "crypto"),
    term(r"airdrops?", 2.0, "airdrop", "crypto"),
    term(r"nfts?|free mint", 1.2, "NFT", "crypto"),
    term(r"passive income|revenus? passifs?", 2.0, "passive income", "crypto"),
    term(
        r"(?:vip|trading) (?:signals|group|groupe)|signals? (?:vip|with \d+%)",
        2.0,
        "trading signals",
        "crypto",
    ),
    term(r"(?:le |the )?trading", 0.8, "trading", "crypto"),
    term(r"weekly profit|\d+ ?% (?:accuracy|de reussite)", 2.0, "promised returns", "crypto"),
    term(
        r"invest(?:ment)? platform|bitcoin mining|investissement crypto",
        1.5,
        "investment",
        "crypto",
    ),
    # casino, betting
    term(r"casinos?", 2.5, "casino", "casino"),
    term(r"free spins|tours gratuits|welcome bonus|no deposit|jackpot", 2.5, "casino bonus", "casino"),
    term(r"paris sportifs|pronostics?|pronos|betting", 2.0, "betting", "casino"),
    # loans
    term(r"payday loans?|no credit check|bad credit|personal loans?|instant loans?", 2.5, "loans", "loans"),
    term(r"loans?", 0.8, "loan", "loans"),
    term(
        r"credit (?:rapide|express)|rachat de credit|prets? entre particuliers|sans justificatif",
        3.0,
        "crédit rapide",
        "loans",
    ),
    term(
        r"prets? (?:d'argent|immobilier|perso(?:nnel)?)|frais de dossier|fonds disponibles",
        1.5,
        "prêt",
        "loans",
    ),
    term(r"personnes? serieuses?|particuliere? qui (?:accorde|propose|prete)", 2.0, "prêt", "loans"),
    # SEO, marketing
    term(r"seo", 2.0, "SEO", "seo"),
    term(r"backlinks?|do-?follow|pbn|high da|link insertion|link building", 3.0, "backlinks", "seo"),
    term(r"guest posts?|sponsored posts?|articles? sponsorises?", 2.0, "sponsored posts", "seo"),
    term(
        r"page 1 of google|rank #?1",
        3.0,
        "Google ranking",
        "seo",
    ),
    term(r"website traffic|targeted (?:visitors|customers)|referencement", 2.0, "traffic", "seo"),
    term(
        r"digital marketing|social media management|paid ads|smo|ppc",
        2.0,
        "marketing services",
        "seo",
    ),
    term(
        r"free audit|devis gratuit|prix imbattable|affordable prices?|tarifs degressifs|business proposal|"
        r"accept advertising|advertise on your|we sell|we offer|nous proposons|decouvrez notre|comparez les offres",
        1.5,
        "sales pitch",
        "seo",
    ),
    term(r"redactrice web|redacteur web|portfolio", 1.0, "writing services", "seo"),
    # followers, promotion
    term(
        r"(?:buy|get|gain|real|\d+k?) (?:real )?(?:instagram )?followers|followers in \d+",
        2.5,
        "followers",
        "followers",
    ),
    term(
        r"follow ?back|followback|f4f|follow4follow|abonnes pas cher",
        3.0,
        "followers",
        "followers",
    ),
    term(
        r"promote your brand|promouvoir votre marque|grow your brand|boost (?:your|votre) (?:engagement|compte)",
        3.0,
        "promote your brand",
        "promotion",
    ),
    term(
        r"brand ambassadors?|become our|collaborate with you|shout-?outs?",
        1.5,
        "brand deals",
        "promotion",
    ),
    term(r"more visibility", 1.2, "visibility", "promotion"),
    term(r"link in bio|check my profile", 2.0, "link in bio", "promotion"),
    term(
        r"(?:visit|check|see) my (?:site|page|website|blog|shop)|here'?s my (?:site|website)|my site too|"
        r"(?:visitez|voir) mon site",
        1.5,
        "visit my site",
        "promotion",
    ),
    # pharma, diets
    term(r"viagra|cialis|pharma", 3.5, "viagra", "pharma"),
    term(r"without prescription|sans ordonnance", 3.0, "no prescription", "pharma"),
    term(r"weight ?loss|keto|diet pills", 2.5, "weight loss", "pharma"),
    term(r"cbd", 1.5, "CBD", "pharma"),
    # easy money
    term(r"(?:earn|make|made|making) \$ ?\d[\d,]*", 2.5, "easy money", "money"),
    term(
        r"\$ ?\d[\d,]* weekly",
        2.5,
        "easy money",
        "money",
    ),
    term(
        r"\d{2,}[\d ]* ?(?:€|euros?) par (?:jour|mois|semaine)|gagne[rz] (?:jusqu'a |de l'argent|\d)",
        2.5,
        "gagnez",
        "money",
    ),
    term(r"gagnez", 1.5, "gagnez", "money"),
    term(
        r"money online|making money|depuis chez vous", 2.0, "work from home", "money"
    ),
    term(
        r"financial(?:ly)? free(?:dom)?|libre financierement|liberte financiere",
        2.0,
        "financial freedom",
        "money",
    ),
    term(
        r"sans diplome|sans experience",
        2.0,
        "no experience needed",
        "money",
    ),
    term(r"legit|no scam|guaranteed|garantis?", 1.0, "guaranteed", "money"),
    # off-platform contact
    term(r"whatsapp", 2.0, "WhatsApp", "contact"),
    term(r"telegram|t\.me", 1.5, "Telegram", "contact"),
    term(
        r"(?:send|drop) (?:us|me) a dm|dm (?:me|us)|message (?:me|him|her)|reach (?:her|him)|contact(?:ez)?-?(?:moi|la|le|him|her|us|them)",
        1.2,
        "DM me",
        "contact",
    ),
    term(r"(?:en|par) mp|en message prive|reply \"?yes\"?", 1.0, "DM me", "contact"),
    # spells, prizes, dating, fake recovery
    term(
        r"marabout|voyance|voyante?s? medium|grand voyant|spell caster|desenvoutement|retour (?:de l'etre aime|affectif)|mauvais sort",
        4.0,
        "marabout",
        "spells",
    ),
    term(r"(?:bring|brought) (?:my|your) ex back", 3.5, "spells", "spells"),
    term(
        r"claim your (?:prize|reward)|you'?ve been selected",
        3.0,
        "claim your prize",
        "prize",
    ),
    term(
        r"iphone \d* ?gratuit|gratuit iphone", 2.5, "free gift", "prize"
    ),
    term(r"congratulations|giveaway|winners?", 1.0, "giveaway", "prize"),
    term(
        r"cliquez ici|seulement aujourd'hui|limited spots|places limitees|stock limite",
        1.2,
        "click now",
        "prize",
    ),
    term(
        r"singles near|meet singles|cutie|dating", 2.5, "dating", "dating"
    ),
    term(
        r"recover(?:ed|y)? (?:my|your|vos) (?:funds|money|account|\$)|(?:hack|crypto|cyber) ?recovery|recovery (?:expert|pro)|recuper(?:ent|ation) (?:de )?(?:vos |les )?fonds|recuperent votre argent",
        3.0,
        "fund recovery",
        "recovery",
    ),
    # cheap goods
    term(r"replicas?", 3.0, "replica", "deals"),
    term(r"\d+ ?% off|-\d+ ?%|lowest price|pas cher|destockage|cheap", 1.2, "discounts", "deals"),
    term(
        r"today only|(?:use|avec le) code [a-z0-9]+|code promo [a-z0-9]+ (?:sur|on|at)",
        1.0,
        "discounts",
        "deals",
    ),
    term(r"free shipping|livraison gratuite|outlet", 0.8, "discounts", "deals"),
)

_PRAISE: Final[tuple[Term, ...]] = tuple(
    term(expression, 1.0, "generic praise")
    for expression in (
        r"(?:great|nice|good|awesome|excellent|amazing|wonderful|informative|helpful|useful|such a helpful) (?:post|article|blog|read|info|information|content|writeup|write-up|work|points)",
        r"very (?:informative|helpful|useful|interesting|good points)",
        r"informative|valuable info(?:rmation)?|useful (?:info|information|facts)",
        r"thanks?(?: you)?(?: so much)? for (?:sharing|posting|this|the (?:great |good |useful )?(?:info|information|article|post|writeup|write-up))",
        r"keep (?:it up|up the good work)|keep writing",
        r"(?:i )?(?:really )?(?:like|love|enjoyed|appreciate)d? (?:your|this|the valuable) (?:post|article|blog|writing|content|info|writing style)",
        r"bookmark(?:ed)?|(?:i will|i'll) (?:come back|check again)|will be back",
        r"you made my day|made my day|what a great read|sharing this with",
        r"great (?:post|blog|article|site)|awesome blog|excellent blog",
        r"(?:super|bon|tres bon|excellent|bel|beau|top) article|super blog",
        r"(?:tres )?(?:interessant|instructif)|informations utiles",
        r"merci (?:beaucoup )?pour (?:cet article|ce partage|le partage|ces (?:informations|infos|conseils))",
        r"merci pour le partage|(?:j'adore|j'aime) (?:votre|ton) (?:blog|site)|continuez comme ca|bravo pour (?:cet|votre) article",
    )
)

# Words that praise or fill a generic comment: they say nothing about the post.
_FILLER_STEMS: Final = frozenset(
    stem(word)
    for word in word_set(
        """post posts article blog blogs blogging weblog site website info information informative
    share sharing shared great nice good awesome excellent amazing wonderful very really helpful useful
    valuable read reading writing writeup written content work keep up thank thanks thanking love like
    enjoy enjoyed appreciate bookmark bookmarked come back check again frequently point points best
    luck next time made day find found stumbleupon google bing searching interesting interested
    fact facts professional way learn something new challenging always other writers friends
    look looking loads fast host using overall easy make fantastic let alone wow browsing hours
    today never any like pretty worth enough here super bon tres bel beau top merci partage
    interessant instructif complet continuez comme reviendrai adore aime utiles informations
    conseils bravo cet ces blog quality clearly explained everything""",
        folded=True,
    )
)

_NAME_WORDS: Final = word_set(
    """seo services service online cheap casino loans loan crypto forex deals deal outlet shop
    agency agence company replica essay viagra pharma cbd dating movies download plumber roofing
    contractor serrurier credit crédit pret prêt voyance marabout recovery expert giveaway concours
    promo abonnes abonnés boost growth marketing trading investissement bonus pills diet keto free
    best top official officiel officielle support followers follow4follow f4f cash money argent
    gagner fonds récupération recuperation visibilite visibilité ambassadors ambassador nft
    sale sales discount bons plans gift cards win winbig pronos vip bitcoin invest investor""",
    folded=True,
)

_ORDER_RE: Final = re.compile(
    r"(?:order|commande|ticket|case|dossier|facture|invoice|tracking|suivi)\D{0,12}\d{4,}|#\d{4,}",
    re.IGNORECASE,
)
_PHONE_RE: Final = re.compile(r"(?<![\w/])\+?\(?\d[\d ().-]{7,}\d(?![\w/])")
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[\w.-]+")
_HASHTAG_RE: Final = re.compile(r"(?<![\w&])#[^\W\d]\w*")
_SLUG_RE: Final = re.compile(r"[a-z0-9]+(?:[-_ ][a-z0-9]+){1,}")


# --------------------------------------------------------------------------------------------
# The signals


def spam_signals(
    message: Message,
    *,
    post: str | None = None,
    repeats: int = 0,
    known_author: bool = False,
    brand_names: Sequence[str] = (),
    own_domains: Sequence[str] = (),
) -> list[Signal]:
    """The hand-weighted signals of `message`, in no particular order.

    `post` is the text of what it sits under (the blog post, the brand's post, the thread so far):
    praise that shares no word with it is generic. `repeats` is how many near-identical texts the
    caller saw recently (`ShingleIndex` can count them). `known_author`: the person has written
    before and was not spam. `brand_names` and `own_domains` are the brand's: a stranger using the
    name, or a link to a look-alike site, is suspicious; links to the brand's own site are fine.
    """
    text = message.text
    normalized = normalize(text)
    signals: list[Signal] = []
    signals += _link_signals(message, brand_names, own_domains)
    signals += _commercial_signals(normalized)
    selling = any(signal.name == "commercial_link" for signal in signals)
    signals += _praise_signals(text, normalized, post, selling=selling, author_url=bool(message.author.url))
    signals += _author_signals(message, brand_names)
    if repeats > 0:
        times = repeats + 1
        label = "posted twice" if times == 2 else f"posted {times} times"
        signals.append(Signal("repeated", min(1.2 + 0.6 * (repeats - 1), 2.5), label))
    if _PHONE_RE.search(strip_links(text)) and sum(ch.isdigit() for ch in text) >= 9:
        signals.append(Signal("phone", 1.5, "a phone number"))
    if has_email(text):
        signals.append(Signal("email", 1.0, "an email address"))
    mentions = len(_MENTION_RE.findall(text))
    if mentions >= 4:
        signals.append(Signal("mentions", 0.8, f"{mentions} mentions"))
    hashtags = len(_HASHTAG_RE.findall(strip_links(text)))
    if hashtags >= 4:
        signals.append(Signal("hashtags", 1.0, f"{hashtags} hashtags"))
    # What real people write, and spam rarely does.
    if _ORDER_RE.search(text):
        signals.append(Signal("order", -1.5, "mentions an order"))
    if known_author:
        signals.append(Signal("known", -3.0, "known person"))
    return signals


def _link_signals(message: Message, brand_names: Sequence[str], own_domains: Sequence[str]) -> list[Signal]:
    own = tuple(domain.casefold().removeprefix("www.") for domain in own_domains)
    links = [link for link in find_links(message.text, message.links) if not _is_own(link, own)]
    counted = [link for link in links if not link.is_evidence]
    signals: list[Signal] = []
    if counted:
        count = len(counted)
        weight = 0.5 if count == 1 else 1.2 if count == 2 else min(2.0 + 0.4 * (count - 3), 3.5)
        signals.append(Signal("links", weight, "a link" if count == 1 else f"{count} links"))
        prose = len(strip_links(_MENTION_RE.sub(" ", message.text)).split())
        if prose <= 3:
            signals.append(Signal("link_only", 1.5, "only a link"))
        elif prose < 5 * count:
            signals.append(Signal("link_ratio", 1.0, "more links than words"))
    shortened = sum(link.is_shortener for link in counted)
    if shortened:
        reason = "a shortened link" if shortened == 1 else f"{shortened} shortened links"
        signals.append(Signal("shortener", min(1.0 + 0.5 * (shortened - 1), 2.0), reason))
    commercial = [link for link in counted if _commercial_link(link)]
    if commercial:
        weight = min(1.5 + 0.3 * (len(commercial) - 1), 2.5)
        signals.append(Signal("commercial_link", weight + 0.5, "commercial link"))
    if any(_look_alike(link, brand_names) for link in counted):
        signals.append(Signal("look_alike", 2.0, "look-alike link"))
    evidence = len(links) - len(counted)
    if evidence:
        signals.append(Signal("evidence", -0.5, "screenshots" if evidence > 1 else "a screenshot"))
    return signals


_LINK_WORDS: Final = word_set(
    """casino casinos loan loans payday viagra pharma replica cheap deals deal outlet seo crypto forex
    credit pret promo bonus spins giveaway claim free gift giftcards winner gagnant cadeau concours
    followers abonnes boost growth dating singles sale discount destockage bons plans airdrop mint
    token signals recover recovery voyance rachat trading invest money cash earn gagner argent keto
    pills cbd essay backlink backlinks traffic escort hot meet win bet fastloans instant loans247
    comparateur assurance insta vip pronos cheap flights work home hd movies free"""
)


def _commercial_link(link: Link) -> bool:
    parts = set()
    for piece in link.words:
        parts.update(piece.split("-"))
    return bool(parts & _LINK_WORDS)


def _look_alike(link: Link, brand_names: Sequence[str]) -> bool:
    host = link.host
    return any(name and fold(name) in host for name in brand_names)


def _is_own(link: Link, own: tuple[str, ...]) -> bool:
    return any(link.host == domain or link.host.endswith("." + domain) for domain in own)


def _commercial_signals(normalized: str) -> list[Signal]:
    found = matches(_COMMERCIAL, normalized)
    if not found:
        return []
    # Each group counts fully once; more of the same group adds a little.
    by_group: dict[str, list[Term]] = {}
    for entry, _ in found:
        by_group.setdefault(entry.group, []).append(entry)
    total = 0.0
    for entries in by_group.values():
        weights = sorted((entry.weight for entry in entries), reverse=True)
        total += weights[0] + 0.3 * sum(weights[1:])
    labels = list(dict.fromkeys(entry.label for entry, _ in sorted(found, key=lambda f: -f[0].weight)))
    return [Signal("commercial", min(total, 6.0), "commercial words: " + ", ".join(labels[:3]))]


def _praise_signals(
    text: str, normalized: str, post: str | None, *, selling: bool, author_url: bool
) -> list[Signal]:
    praise = bool(matches(_PRAISE, normalized))
    said = {term for term, _ in words(_MENTION_RE.sub(" ", strip_links(text)))} - _FILLER_STEMS
    shared: set[str] = set()
    if post:
        shared = said & {term for term, _ in words(post)}
    if praise and not shared:
        weight = 1.8 if post else 0.8
        if len(said) <= 2:
            weight += 0.4  # nothing but praise
        praised = [Signal("generic_praise", weight, "generic praise")]
        if author_url:
            praised.append(Signal("praise_with_website", 1.0, "praise with a website"))
        return praised
    if post and not shared and len(said) >= 4:
        return [Signal("off_topic", 0.6, "unrelated to the post")]
    if post and len(shared) >= 2 and not selling:
        return [Signal("on_topic", -0.8, "about the post")]
    return []


def _author_signals(message: Message, brand_names: Sequence[str]) -> list[Signal]:
    author = message.author
    name = author.display_name or author.handle
    signals: list[Signal] = []
    if find_links(name):
        signals.append(Signal("name_link", 2.5, "a link in the author's name"))
    folded = normalize(name)
    name_words = [word for word in re.split(r"[^\w']+", folded.replace("_", " ")) if word]
    keywords = [word for word in name_words if word in _NAME_WORDS]
    slug = _SLUG_RE.fullmatch(folded.strip()) is not None and name == name.lower() and len(name_words) >= 2
    letters = [ch for ch in name if ch.isalpha()]
    shouting = len(name_words) >= 2 and letters and all(ch.isupper() for ch in letters)
    if keywords and (len(name_words) >= 2 or slug):
        weight = min(1.5 + 0.5 * (len(keywords) - 1) + (0.5 if slug else 0.0), 3.0)
        signals.append(Signal("name_keywords", weight, "keyword-like author name"))
    elif slug and len(name_words) >= 3:
        signals.append(Signal("name_slug", 1.0, "keyword-like author name"))
    elif shouting:
        signals.append(Signal("name_shouting", 0.5, "author name in capitals"))
    if brand_names and not message.is_ours:
        who = fold(f"{name} {author.handle}")
        if any(brand and fold(brand) in who for brand in brand_names):
            signals.append(Signal("impersonation", 2.0, "uses the brand's name"))
    if author.url:
        link = parse_link(author.url)
        if link is not None and link.is_shortener:
            signals.append(Signal("author_url", 2.0, "shortened author link"))
        elif link is not None and _commercial_link(link):
            signals.append(Signal("author_url", 1.5, "commercial author website"))
    return signals


# --------------------------------------------------------------------------------------------
# What the manager's marks taught: naive Bayes over words, character n-grams, link hosts, author
# name words and the signals that fired; plus a memory of the marked messages themselves.

_REMEMBER_AT: Final = 0.5  # resemblance from which a marked message counts as "like this one"


class SpamMarks:
    """The learned part of the spam filter: counts from the manager's marks, serializable.

    Multinomial naive Bayes (Laplace smoothing), read as a log-likelihood ratio over the features
    the marks have seen, damped by the square root of the message's size so that a long message
    does not shout; and the MinHash signatures of the last `remember` marked messages, so that a
    near-identical message follows the manager's mark at once.
    """

    VERSION: Final = 1

    def __init__(self, *, alpha: float = 0.5, remember: int = 2000) -> None:
        self.alpha = alpha
        self.counts: dict[str, list[float]] = {}  # feature -> [weight in spam, weight in not spam]
        self.totals = [0.0, 0.0]
        self.marks = [0, 0]  # messages marked spam, not spam
        self.surface: dict[str, str] = {}  # word feature -> a word as written, for reasons
        self.remembered = _Memory(remember)

    def __len__(self) -> int:
        return self.marks[0] + self.marks[1]

    def add(
        self, features: Mapping[str, float], signature: tuple[int, ...], is_spam: bool, *, sign: int = 1
    ) -> None:
        side = 0 if is_spam else 1
        for feature, weight in features.items():
            counts = self.counts.setdefault(feature, [0.0, 0.0])
            counts[side] = max(0.0, counts[side] + sign * weight)
            if counts == [0.0, 0.0]:
                del self.counts[feature]
        self.totals[side] = max(0.0, self.totals[side] + sign * sum(features.values()))
        self.marks[side] = max(0, self.marks[side] + sign)
        if sign > 0 and signature:
            self.remembered.add(signature, is_spam)
        elif sign < 0 and signature:
            self.remembered.remove(signature, is_spam)

    def evidence(self, features: Mapping[str, float]) -> tuple[float, list[tuple[float, str]]]:
        """Log-likelihood ratio of spam for these features (0 without marks on both sides) and
        each known feature's contribution."""
        if not self.counts or 0 in self.marks:
            return 0.0, []
        vocabulary = len(self.counts)
        spam_total = self.totals[0] + self.alpha * vocabulary
        ham_total = self.totals[1] + self.alpha * vocabulary
        contributions: list[tuple[float, str]] = []
        for feature, weight in features.items():
            counts = self.counts.get(feature)
            if counts is None:
                continue
            ratio = math.log((counts[0] + self.alpha) / spam_total) - math.log(
                (counts[1] + self.alpha) / ham_total
            )
            contributions.append((weight * ratio, feature))
        size = math.sqrt(max(1.0, sum(features.values())))
        return sum(value for value, _ in contributions) / size, contributions

    def nearest(self, signature: tuple[int, ...]) -> tuple[float, bool | None]:
        """The resemblance of the most similar marked message, and its mark."""
        return self.remembered.nearest(signature)

    def to_bytes(self) -> bytes:
        """The state as UTF-8 JSON, for the store."""
        state = {
            "version": self.VERSION,
            "alpha": self.alpha,
            "remember": self.remembered.capacity,
            "counts": self.counts,
            "totals": self.totals,
            "marks": self.marks,
            "surface": self.surface,
            "remembered": [[list(signature), is_spam] for signature, is_spam in self.remembered],
        }
        return json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SpamMarks:
        """Read what `to_bytes` wrote; ValueError if it is not that."""
        try:
            state: Any = json.loads(data.decode("utf-8"))
            if not isinstance(state, dict) or state.get("version") != cls.VERSION:
                raise ValueError("not a version 1 spam state")
            marks = cls(alpha=float(state["alpha"]), remember=int(state["remember"]))
            marks.counts = {str(k): [float(v[0]), float(v[1])] for k, v in state["counts"].items()}
            marks.totals = [float(v) for v in state["totals"]][:2]
            marks.marks = [int(v) for v in state["marks"]][:2]
            marks.surface = {str(k): str(v) for k, v in state["surface"].items()}
            for signature, is_spam in state["remembered"]:
                marks.remembered.add(tuple(int(v) for v in signature), bool(is_spam))
        except (
            UnicodeDecodeError,
            json.JSONDecodeError,
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
        ) as exc:
            raise ValueError(f"unreadable spam state: {exc}") from None
        if len(marks.totals) != 2 or len(marks.marks) != 2:
            raise ValueError("unreadable spam state: totals and marks need two values")
        return marks


_BAND: Final = 2  # MinHash rows per band: 16 bands find most pairs from a resemblance of 0.5


class _Memory:
    """The signatures of the last `capacity` marked messages, with a banded index (LSH) so that
    finding the most similar one does not compare against all of them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[int, tuple[tuple[int, ...], bool]] = {}  # insertion order = age
        self._bands: dict[tuple[int, tuple[int, ...]], set[int]] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], bool]]:
        return iter(list(self._entries.values()))

    def _keys(self, signature: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        return [(start, signature[start : start + _BAND]) for start in range(0, len(signature), _BAND)]

    def add(self, signature: tuple[int, ...], is_spam: bool) -> None:
        if self.capacity <= 0:
            return
        while len(self._entries) >= self.capacity:
            self._drop(next(iter(self._entries)))
        key = self._next
        self._next += 1
        self._entries[key] = (signature, is_spam)
        for band in self._keys(signature):
            self._bands.setdefault(band, set()).add(key)

    def remove(self, signature: tuple[int, ...], is_spam: bool) -> None:
        for key, entry in reversed(self._entries.items()):
            if entry == (signature, is_spam):
                self._drop(key)
                return

    def _drop(self, key: int) -> None:
        signature, _ = self._entries.pop(key)
        for band in self._keys(signature):
            keys = self._bands.get(band)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._bands[band]

    def count_similar(self, signature: tuple[int, ...], at: float) -> int:
        """How many remembered signatures resemble `signature` at least `at` (via the bands)."""
        candidates: set[int] = set()
        for band in self._keys(signature):
            candidates |= self._bands.get(band, set())
        return sum(1 for key in candidates if resemblance(signature, self._entries[key][0]) >= at)

    def nearest(self, signature: tuple[int, ...]) -> tuple[float, bool | None]:
        candidates: set[int] = set()
        for band in self._keys(signature):
            candidates |= self._bands.get(band, set())
        best, label = 0.0, None
        for key in sorted(candidates, reverse=True):  # newest first: the latest mark wins a tie
            remembered, is_spam = self._entries[key]
            similarity = resemblance(signature, remembered)
            if similarity > best:
                best, label = similarity, is_spam
        return best, label


def _features(message: Message, signals: Iterable[Signal]) -> tuple[dict[str, float], dict[str, str]]:
    """What naive Bayes counts: word stems and bigrams, character 4-grams (a third each), link
    hosts, author name words, and the names of the signals that fired towards spam."""
    features: Counter[str] = Counter()
    surface: dict[str, str] = {}
    said = words(_MENTION_RE.sub(" ", strip_links(normalize(message.text))))
    for term_, word in said:
        key = "w:" + term_
        features[key] = 1.0  # presence: a word said three times is not three times the evidence
        surface.setdefault(key, word)
    for (first, _), (second, _) in itertools.pairwise(said):
        features["b:" + first + "_" + second] = 1.0
    for _, word in said:
        padded = f" {word} "
        for index in range(len(padded) - 3):
            features["c:" + padded[index : index + 4]] = 1.0 / 3.0
    for link in find_links(message.text, message.links):
        features["d:" + link.host] = 1.0
        surface.setdefault("d:" + link.host, link.host)
    name = message.author.display_name or message.author.handle
    for term_, word in words(normalize(name)):
        features["a:" + term_] = 1.0
        surface.setdefault("a:" + term_, word)
    for signal in signals:
        if signal.weight > 0:
            features["s:" + signal.name] = 1.0
    return dict(features), surface


# --------------------------------------------------------------------------------------------
# The filter


class SpamFilter:
    """Signals plus the manager's marks; `check` gives a `Verdict`, `learn` takes a correction.

    `threshold` is the score (0..1) from which a message is spam; `brand_names` and `own_domains`
    are the brand's name(s) and web domains. `marks` is the learned state (`SpamMarks`), e.g.
    read back from the store with `SpamMarks.from_bytes`.
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        brand_names: Sequence[str] = (),
        own_domains: Sequence[str] = (),
        marks: SpamMarks | None = None,
        learned_weight: float = 1.0,
    ) -> None:
        self.threshold = threshold
        self.brand_names = tuple(brand_names)
        self.own_domains = tuple(own_domains)
        self.marks = marks if marks is not None else SpamMarks()
        self.learned_weight = learned_weight

    def signals(
        self, message: Message, *, post: str | None = None, repeats: int = 0, known_author: bool = False
    ) -> list[Signal]:
        """Every signal for `message`: the hand-weighted ones, then what the marks taught."""
        signals = spam_signals(
            message,
            post=post,
            repeats=repeats,
            known_author=known_author,
            brand_names=self.brand_names,
            own_domains=self.own_domains,
        )
        return signals + self._learned(message, signals)

    def check(
        self, message: Message, *, post: str | None = None, repeats: int = 0, known_author: bool = False
    ) -> Verdict:
        """Is `message` spam? See `spam_signals` for the arguments."""
        signals = self.signals(message, post=post, repeats=repeats, known_author=known_author)
        logit = BIAS + sum(signal.weight for signal in signals)
        score = 1.0 / (1.0 + math.exp(-logit))
        is_spam = score >= self.threshold
        toward = [s for s in signals if (s.weight > 0) == is_spam and s.weight != 0]
        toward.sort(key=lambda s: -abs(s.weight))
        reasons = tuple(dict.fromkeys(s.reason for s in toward))[:4]
        return Verdict(is_spam, score, reasons, tuple(signals))

    def learn(self, message: Message, is_spam: bool, *, post: str | None = None, repeats: int = 0) -> None:
        """The manager marked `message` spam (True) or not spam (False): later verdicts follow."""
        self._update(message, is_spam, post=post, repeats=repeats, sign=1)

    def forget(self, message: Message, is_spam: bool, *, post: str | None = None, repeats: int = 0) -> None:
        """Undo a `learn` with the same arguments (the manager took the mark back)."""
        self._update(message, is_spam, post=post, repeats=repeats, sign=-1)

    def _update(self, message: Message, is_spam: bool, *, post: str | None, repeats: int, sign: int) -> None:
        signals = spam_signals(
            message, post=post, repeats=repeats, brand_names=self.brand_names, own_domains=self.own_domains
        )
        features, surface = _features(message, signals)
        for key, word in surface.items():
            self.marks.surface.setdefault(key, word)
        self.marks.add(features, minhash(message.text), is_spam, sign=sign)

    def _learned(self, message: Message, signals: list[Signal]) -> list[Signal]:
        if not len(self.marks):
            return []
        out: list[Signal] = []
        similarity, label = self.marks.nearest(minhash(message.text))
        if label is not None and similarity >= _REMEMBER_AT:
            weight = 6.0 * similarity
            if label:
                out.append(Signal("marked_like", weight, "like a message you marked spam"))
            else:
                out.append(Signal("marked_like", -weight, "like a message you marked not spam"))
        features, _ = _features(message, signals)
        evidence, contributions = self.marks.evidence(features)
        weight = max(-4.0, min(4.0, self.learned_weight * evidence))
        if abs(weight) >= 0.5:
            toward = sorted(
                (
                    item
                    for item in contributions
                    if (item[0] > 0) == (weight > 0) and item[1] in self.marks.surface
                ),
                key=lambda item: -abs(item[0]),
            )
            shown = ", ".join(f"'{self.marks.surface[feature]}'" for _, feature in toward[:2])
            side = "spam" if weight > 0 else "not spam"
            reason = f"your marks: {shown} ({side})" if shown else f"like what you marked {side}"
            out.append(Signal("learned", weight, reason))
        return out
