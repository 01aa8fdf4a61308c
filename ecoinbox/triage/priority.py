"""Priority: complaints, urgent words and an angry tone float a conversation up (EN and FR).

`score_priority(text)` finds what needs a fast answer — money (refund, charged twice), an order
that never arrived, a hacked account, something broken or unsafe, a cancellation, a lawyer — and
how the person sounds (angry words, shouting, sarcasm). It is negation-aware enough that "no
problem, thanks!" or "jamais eu un souci" is not urgent, and a problem already solved ("refund
arrived, thanks") calms things down. Every result says why:
"priority: refund, never arrived; angry tone".

Headless and pure Python: no Textual, no Rich, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ecoinbox.triage._text import Term, normalize, strip_links, term, word_set

__all__ = ["URGENT_AT", "Priority", "score_priority"]

URGENT_AT: Final = 1.5
"""Score from which a message is high priority. Chosen on the train split."""


@dataclass(frozen=True, slots=True)
class Priority:
    """How urgent a message is: `urgent`, a score (0 = nothing urgent), and why in words."""

    urgent: bool
    score: float
    reasons: tuple[str, ...] = ()  # what was found, e.g. ("refund", "never arrived")
    tone: str = ""  # e.g. "angry tone"

    def __str__(self) -> str:
        found = ", ".join(self.reasons)
        said = "; ".join(part for part in (found, self.tone) if part)
        if self.urgent:
            return f"priority: {said}" if said else "priority"
        return "normal priority"


# Phrases that carry their own negation ("never arrived") come first: they are matched before the
# negation check, which only cancels plain words ("no problem", "not broken").
_URGENT: Final[tuple[Term, ...]] = (
    # money
    term(
        r"charged (?:me )?(?:twice|two times|again|double)|double(?:-| )?charged|charged \w+ times|"
        r"(?:three|two|\d) charges|second charge|(?:preleve|debite|facture)e?s? (?:deux|2|trois|3) fois|"
        r"deux prelevements|double prelevement",
        2.0,
        "charged twice",
        "money",
    ),
    term(
        r"refunds?|refunded|remboursements?|rembourse[rz]?|remboursee?s?|money back|mon argent|my money|"
        r"chargeback",
        1.5,
        "refund",
        "money",
    ),
    term(
        r"overcharged|fraud(?:ulent)?|fraude|achats? que je n'ai pas faits?|did not order|didn't order",
        2.0,
        "fraud",
        "money",
    ),
    term(
        r"(?:money|card|argent) (?:taken|debited|charged)|(?:preleve|debite)e?s?|took \d[\d,.]* ?(?:euros?|eur|€|\$)",
        1.0,
        "charged",
        "money",
    ),
    # delivery
    term(
        r"never (?:arrived|received|came|got (?:it|my|the))|(?:has ?n[o']t|did ?n[o']t|not) (?:arrived|been delivered|shipped)|"
        r"nothing arrived|still (?:no|waiting|nothing)|(?:lost|lose) (?:my|the) (?:parcel|package|order)|"
        r"(?:parcel|package|order) (?:was |got )?lost|no tracking|in transit|still hasn't|says delivered",
        2.0,
        "never arrived",
        "delivery",
    ),
    term(
        r"jamais re[cç]ue?s?|pas (?:encore )?re[cç]ue?s?|toujours (?:rien|pas|aucune?)|colis perdu|"
        r"perdu (?:mon|le) colis|sans nouvelles?|aucune nouvelle|bloque depuis",
        2.0,
        "jamais reçu",
        "delivery",
    ),
    # accounts
    term(
        r"hacked|hacke|pirate|piratee|compromised|someone (?:is )?(?:logging|logged) in|"
        r"changed my (?:email|password)|change l'adresse",
        2.0,
        "hacked",
        "account",
    ),
    term(
        r"can(?:no|')t log ?in|can't access|locked out|impossible de me connecter|password reset emails? never|"
        r"(?:ne )?re[cç]ois (?:jamais|pas) le mail",
        1.5,
        "can't log in",
        "account",
    ),
    # broken, defective, unsafe
    term(
        r"broken|broke|snapped|cracked|defective|faulty|damaged|crushed|bent|dead|stopped working|"
        r"(?:does ?n[o']t|is ?n[o']t|not|won't|doesnt) (?:work|working|charge|start)|can'?t unlock|crash(?:es|ed|ing)?|fails?|"
        r"failed|cut out|came loose|wiped",
        1.5,
        "broken",
        "broken",
    ),
    term(
        r"casse|cassee|en panne|hs|impossible de deverrouiller|fissure|defectueu(?:x|se)|voilee?|(?:ne )?(?:marche|fonctionne|demarre|charge) "
        r"(?:plus|pas)|a lache|s'est detache|ca ne marche",
        1.5,
        "cassé",
        "broken",
    ),
    term(
        r"dangerous|unsafe|fire|smok(?:e|ing)|caught fire|nearly (?:got )?(?:hit|killed)|could have been|recall|"
        r"dangereux|dangereuse|feu|fumee|fondu|me tuer|tres peur|shaking",
        2.5,
        "safety",
        "safety",
    ),
    # leaving, legal
    term(
        r"cancel (?:my|the|our)? ?(?:order|subscription|plan|membership|account|velora\+?)|want to cancel|"
        r"cancel (?:it|this)|cancel my",
        1.5,
        "cancel",
        "cancel",
    ),
    term(
        r"resilier|resiliation|annuler ma commande|annuler mon (?:abonnement|compte)|desabonner",
        1.5,
        "résilier",
        "cancel",
    ),
    term(
        r"lawyer|attorney|legal (?:action|notice)|court|sue you|consumer protection|trading standards|"
        r"avocat|tribunal|mise en demeure|porter plainte|plainte|repression des fraudes|ufc|60 millions",
        2.5,
        "legal threat",
        "legal",
    ),
    term(
        r"never again|done with (?:this|you)|switching to|plus jamais|je change de marque",
        1.0,
        "leaving",
        "cancel",
    ),
    # nobody answers
    term(
        r"nobody (?:answers|replies|responds)|no(?: one|body) has answered|no (?:answer|reply|response)|zero answers|"
        r"on hold|(?:emailed|mailed|wrote|written) (?:you |support )?\d+ times|is anyone there|still nothing|"
        r"aucune reponse|sans reponse|ne repond (?:pas|plus|jamais)|personne ne repond|plus aucune reponse|"
        r"\d+ mails",
        1.5,
        "no answer",
        "waiting",
    ),
    term(r"stolen|vole|volee|disparu|theft", 1.0, "stolen", "stolen"),
    term(r"refuses? to|refuse de|won't let me|ne me laisse pas", 1.0, "refused", "refused"),
    term(
        r"urgent|urgence|asap|immediately|tout de suite|stuck|coincee?|need (?:it|the bike) (?:for|by)",
        1.0,
        "urgent",
        "waiting",
    ),
    term(
        r"(?:two|three|four|five|\d+) (?:weeks|months)|(?:deux|trois|quatre|cinq|\d+) (?:semaines|mois)",
        0.5,
        "waiting for weeks",
        "waiting",
    ),
)

# Plain words that a negation just before them cancels: "no problem", "pas de souci".
_PROBLEM: Final[tuple[Term, ...]] = (
    term(r"problems?|issues?|troubles?|probleme?s?|soucis?|bugs?", 0.5, "a problem", "problem"),
    term(r"scam|arnaque|escroquerie|escrocs?|voleurs?|thieves", 1.5, "scam", "anger"),
)

_NEGATORS: Final = word_set(
    "no not never without nothing none nobody hardly zero pas jamais aucun aucune sans rien ni plus n'"
)

_ANGER: Final[tuple[Term, ...]] = (
    term(
        r"ridiculous|unacceptable|disgust(?:ed|ing)|worst|terrible|awful|horrible|pathetic|shameful|"
        r"unbelievable|joke|fed up|sick of|losing my patience|what is going on|seriously|do not buy|wtf|"
        r"thanks for nothing|not ok",
        1.5,
        "anger",
    ),
    term(
        r"inadmissible|honteux|honte|scandale|scandaleux|catastrophique|n'importe quoi|nul|lamentable|"
        r"j'en ai marre|ras le bol|c'est une blague|merci pour rien|ca suffit|inacceptable|degoute",
        1.5,
        "anger",
    ),
)
_SARCASM: Final[tuple[Term, ...]] = (
    term(
        r"(?:wow|great|amazing|lovely|bravo|genial|super|merci)[,.!]* (?:service|job|update|work|customer service)?"
        r"[^.!?]{0,40}(?:still|again|another|third|no bike|sans|encore|troisieme|toujours)",
        1.0,
        "sarcasm",
    ),
    term(r"love it\. really|\"anti-?crevaison\"|\"down for maintenance\"|\"in transit", 1.0, "sarcasm"),
)
_CALM: Final[tuple[Term, ...]] = (
    term(
        r"(?:problem|issue|probleme|souci) (?:is )?(?:solved|resolved|fixed|resolue?|regle)|all good now|works now|"
        r"(?:refund|remboursement) (?:arrived|received|bien recu|recu)|got my refund|bien re[cç]u|c'est regle|"
        r"no worries|pas de souci|aucun (?:probleme|souci)|pas de probleme|rien a signaler|not urgent|"
        r"no (?:problem|issues?)|never had (?:a|any|one)(?: single)? (?:problem|issue)|nothing broken|"
        r"jamais eu",
        2.0,
        "resolved",
    ),
    term(
        r"policy|politique de|how do i|how long|is it normal|can i|est-ce qu|comment (?:je|on)|what's your",
        0.7,
        "a question",
    ),
)
_OTHER_SUBJECT: Final = re.compile(
    r"(?:broke|broken|casse|cassee) (?:my |le |la )?(?:wrist|arm|leg|ankle|poignet|bras|jambe|cheville)|"
    r"another brand[^.!?]*|life hack|hackathon|nothing broken|never (?:arrived|came) late|"
    r"(?:lawyer|avocate?) (?:friend|ami|amie)"
)
_SHOUT_RE: Final = re.compile(r"\b[A-ZÀ-Ý]{3,}\b")
_ACRONYMS: Final = frozenset(
    {"FAQ", "APP", "USB", "GPS", "TER", "SNCF", "UTC", "PDF", "VAT", "EUR", "USD", "HS", "SAV", "UFC"}
)
_WORD_RE: Final = re.compile(r"[\w'+]+")
_POSITIVE: Final = re.compile(
    r"\b(?:thanks?|thank you|love|great|merci|super|top|bravo|parfait|perfect|best|happy|joy)\b"
)


def score_priority(text: str) -> Priority:
    """How urgent `text` is, and why (see the module docstring)."""
    plain = strip_links(text)
    normalized = normalize(plain)
    masked = _OTHER_SUBJECT.sub(" ", normalized)
    found: dict[str, tuple[float, str]] = {}  # group -> strongest (weight, label)
    for entry in _URGENT:
        match = entry.search(masked)
        if match is None or _negated(masked, match.start()) and entry.group not in ("delivery", "waiting"):
            continue
        best = found.get(entry.group)
        if best is None or entry.weight > best[0]:
            found[entry.group] = (entry.weight, entry.label)
    for entry in _PROBLEM:
        for match in entry.pattern.finditer(masked):
            if not _negated(masked, match.start()):
                best = found.get(entry.group)
                if best is None or entry.weight > best[0]:
                    found[entry.group] = (entry.weight, entry.label)
                break
    anger = any(entry.search(masked) for entry in _ANGER) or "anger" in found
    if "anger" in found and len(found) > 1:
        del found["anger"]  # "scam" among real reasons: it is the tone, not one more reason
    sarcasm = any(entry.search(masked) for entry in _SARCASM)
    shouting = sum(1 for word in _SHOUT_RE.findall(plain) if word not in _ACRONYMS) >= 2
    marks = "!!!" in plain or "??" in plain or "?!" in plain or any(e in plain for e in "😡🤬👎")

    score = sum(weight for weight, _ in found.values())
    tone_score = (1.5 if anger else 0.0) + (1.0 if sarcasm else 0.0) + (0.5 if shouting and found else 0.0)
    tone_score += 0.3 if marks and (found or anger) else 0.0
    score += tone_score
    calm = max((entry.weight for entry in _CALM if entry.search(masked)), default=0.0)
    if calm and not anger:
        score -= calm
    if not found and not anger and not sarcasm and _POSITIVE.search(normalized):
        score -= 0.5
    score = max(score, 0.0)
    ordered = sorted(found.values(), key=lambda item: -item[0])
    reasons = tuple(dict.fromkeys(label for _, label in ordered))
    tone = "angry tone" if anger or shouting and found else "sarcastic tone" if sarcasm else ""
    urgent = score >= URGENT_AT
    return Priority(urgent, round(score, 2), reasons, tone if urgent else "")


def _negated(normalized: str, start: int) -> bool:
    """A negation among the three words before `start` ("no problem", "pas de souci")."""
    before = _WORD_RE.findall(normalized[max(0, start - 40) : start])[-3:]
    return any(word in _NEGATORS or word.startswith("n'") for word in before)
