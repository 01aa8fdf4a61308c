"""Priority: `!` only on what a community manager handles first (EN and FR).

Five kinds of message are high priority, nothing else:
- **money**: charged twice, a refund asked for or late, fraud, a return refused, a legal threat;
- **access**: cannot log in or sign in, locked out, a password reset that fails, a hacked account;
- **safety**: fire, smoke, injury, danger, threats, self-harm, a data leak;
- **outage**: the site, the app or the service down, not loading, errors for everyone;
- **waiting long**: the same problem for weeks, the third time they ask, nobody answering.

A complaint, anger or a broken product alone is normal priority: it waits its turn in the queue,
which already puts what needs a reply first. Gratitude is never high ("thank you!! 🙏"), nor a
question about a policy ("what's your refund policy?"), nor a problem already solved ("refund
arrived, thanks"). Complaints written as negations are found as they are written ("not able to
log into", "je n'arrive pas à me connecter", "impossible de", "cant login"); a negation just before
a plain word cancels it ("not hacked", "no data leak"). Every result says why:
"priority: charged twice; angry tone".

The words were chosen on tests/data/screening's train split, the demo's traffic and the client
turns of ../shared/data/cdp/dev.json (bench/screening.py prints how many conversations get `!`).
Every pattern is linear in the text's length: no quantifier over an unbounded run is nested in
another or followed by a choice it could backtrack into.

Headless and pure Python: no Textual, no Rich, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ecoinbox.screening._text import Term, deleet, fold_text, strip_links, term, word_set

__all__ = ["GROUPS", "READ_CHARS", "URGENT_AT", "Priority", "score_priority"]

URGENT_AT: Final = 1.0
"""Score from which a message is high priority: one of the five kinds found, not calmed."""

READ_CHARS: Final = 4000
"""Priority reads a message's first characters only: what makes it urgent is said early, and a
200,000-character post costs no more than a long e-mail."""

GROUPS: Final = ("money", "access", "safety", "outage", "waiting")
"""What a manager handles first, in the order the reasons are shown."""


@dataclass(frozen=True, slots=True)
class Priority:
    """How urgent a message is: `urgent`, a score (0 = nothing urgent), and why in words."""

    urgent: bool
    score: float
    reasons: tuple[str, ...] = ()  # what was found, e.g. ("refund", "can't log in")
    tone: str = ""  # e.g. "angry tone"

    def __str__(self) -> str:
        found = ", ".join(self.reasons)
        said = "; ".join(part for part in (found, self.tone) if part)
        if self.urgent:
            return f"priority: {said}" if said else "priority"
        return "normal priority"


# A few words of any kind between two parts of a phrase, bounded so that matching stays linear.
_GAP: Final = r"(?:[\w'-]{1,20} ){0,3}"
_NUMBER: Final = r"(?:two|three|four|five|six|several|many|deux|trois|quatre|cinq|six|plusieurs|\d{1,3})"
_CANT: Final = (
    r"(?:can ?not|can'?t|cant|could ?n'?t|could not|unable to|not able to|won'?t let me|impossible to|"
    r"(?:i )?(?:still )?(?:can|could)(?:'| )?t)"
)
_CANT_FR: Final = (
    r"(?:je n'arrive (?:pas|plus) a|j'arrive (?:pas|plus) a|je ne peux (?:pas|plus)|je peux (?:pas|plus)|"
    r"impossible de|pas moyen de)"
)

# Phrases of the five kinds. Each is a complaint as written: negations inside them are part of
# the complaint ("can't log in"), and `plain` ones are cancelled by a negation just before them.
_URGENT: Final[tuple[Term, ...]] = (
    # money
    term(
        r"charged (?:me )?(?:twice|two times|again|double)|double(?:-| )?charged|charged \w{1,10} times|"
        rf"{_NUMBER} charges|second charge|billed (?:me )?(?:twice|again)|"
        r"(?:preleve|debite|facture)e?s? (?:deux|2|trois|3) fois|deux prelevements|double prelevement",
        2.0,
        "charged twice",
        "money",
    ),
    term(
        r"fraud(?:ulent)?|fraude|unauthori[sz]ed (?:charges?|purchases?|payments?|transactions?)|"
        r"overcharged|did ?n[o']?t order|achats? que je n'ai pas faits?",
        2.0,
        "fraud",
        "money",
    ),
    term(
        r"(?:money|card|argent) (?:was )?(?:taken|debited|charged)|took \d{1,6}(?:[,.]\d{1,3})? ?(?:euros?|eur|€|\$)|"
        r"vous m'avez (?:preleve|debite)|where is my money|ou est mon argent|got billed for",
        1.5,
        "charged",
        "money",
    ),
    term(
        r"refunds?|refunded|remboursements?|money back|chargeback",
        1.0,
        "refund",
        "money",
    ),
    term(
        r"returns? (?:was |were |got |has been )?(?:refused|rejected|denied|declined)|"
        r"refused (?:my|the) (?:return|refund)|refuses? to (?:refund|replace|reimburse)|"
        r"retours? (?:a ete )?refuses?|refuse de (?:me )?rembourser",
        2.0,
        "return refused",
        "money",
    ),
    term(
        r"lawyer|attorney|legal action|small claims|sue you|consumer protection|trading standards|"
        r"avocat|tribunal|mise en demeure|porter plainte|repression des fraudes",
        2.0,
        "legal threat",
        "money",
    ),
    # access
    term(
        rf"{_CANT} (?:{_GAP})?(?:log ?(?:in|on)|login|sign ?in|signin|access (?:my|the|our) account|"
        r"get (?:in|into|back into) (?:my|the) account|into my account)|"
        r"(?:trouble|problems?|issues?) (?:logging|signing) in(?:to)?|locked out|lock(?:ed)? me out|"
        r"(?:account|compte) (?:is |was |got |has been |a ete |est )?(?:locked|suspended|disabled|blocked|"
        r"bloque|verrouille|suspendu|desactive)|"
        rf"{_CANT_FR} (?:me (?:connecter|reconnecter|identifier)|acceder a mon compte)|"
        r"(?:ne|n') ?(?:me )?laisse pas (?:me )?connecter",
        2.0,
        "can't log in",
        "access",
    ),
    term(
        r"password reset (?:emails? |links? )?(?:never|not|doesn'?t|don'?t|isn'?t|won'?t|fails?)|"
        r"reset (?:email|link) (?:never|expired|doesn'?t|isn'?t)|forgot password[^.!?\n]{0,60}no (?:email|mail)|"
        r"lien (?:de reinitialisation )?(?:\w{1,12} ){0,2}expire|"
        r"(?:mot de passe oublie|reinitialisation)[^.!?\n]{0,40}(?:rien|jamais|pas)|"
        r"(?:ne )?re[cç]ois (?:jamais|pas|rien)[^.!?\n]{0,20}(?:mail|code)|can'?t (?:change|reset) my password",
        2.0,
        "password reset fails",
        "access",
    ),
    term(
        r"hacked|hacke|compromised|stole my account",
        2.0,
        "hacked",
        "access",
    ),
    # safety
    term(
        r"caught fire|on fire|burst into flames|fire hazard|pris feu|en feu|incendie|"
        r"(?:started|is|was|were|it's|began) smoking|smoke (?:came|coming|everywhere)|fumee|"
        r"explod(?:ed|ing)|exploser|melted|a fondu|electric shock|electrocut\w{0,4}|"
        r"dangerous|unsafe|hazard|dangereu(?:x|se)|"
        r"injur(?:ed|y|ies)|blesse(?:e|s)?|(?:could|would) have (?:been )?(?:killed|died|hurt)|"
        r"j'aurais pu (?:me tuer|mourir)|"
        r"brakes? (?:failed|gave way|don'?t work|stopped working)|(?:le )?frein[^.!?\n]{0,20}a lache|"
        r"(?:product|safety) recall|please recall|"
        r"(?:snapped|broke|came (?:loose|off)|fell off|s'est detachee?|a lache|a casse)[^.!?\n]{0,30}"
        r"(?:while|pendant|en) (?:riding|driving|cycling|going|roulant|le trajet|descente|pleine)",
        2.5,
        "safety",
        "safety",
    ),
    term(
        r"threat(?:en(?:ed|ing)?|s)?|menaces?|menace de|harass(?:ed|ing|ment)|harcel\w{0,6}|stalk(?:ed|ing)|"
        r"doxx?(?:ed|ing)?|kill (?:myself|me)|suicid\w{0,4}|self-?harm|end my life|me suicider|"
        r"data (?:leak|breach)|leaked (?:my|our)|fuite de donnees|(?:exposed|published) my (?:address|data)",
        2.5,
        "safety",
        "safety",
    ),
    # outage
    term(
        r"(?:site|website|app|service|server|servers|platform|network|game|servers are) "
        r"(?:is |are |went |goes |has gone |seems )?down|down for (?:everyone|maintenance|everybody)|"
        r"is (?:it|\w{1,12}) down ?\?|outage|not loading|won'?t load|does ?n'?t load|"
        r"(?:5\d\d|502|503) errors?|getting 5\d\ds|errors? for everyone|(?:total )?service loss|no service|"
        r"(?:everyone|everybody|nobody can|no one can)[^.!?\n]{0,30}(?:log ?in|connect|down|error)|"
        r"en panne|hors service|(?:page|site|appli|application) ne (?:se )?charge (?:pas|plus)|site inaccessible|service (?:indisponible|coupe)",
        2.0,
        "outage",
        "outage",
    ),
    # waiting long
    term(
        rf"(?:same|this|the) (?:error|problem|issue|bug) (?:for|since) (?:{_NUMBER} )?(?:days|weeks|months)|"
        r"(?:third|fourth|fifth|3rd|4th|5th|\d{1,2}th) time (?:i'?m |i am |i )?(?:ask|asking|writing|contact)|"
        r"(?:troisieme|quatrieme|cinquieme|\d{1,2}e) (?:fois|relance)|"
        rf"{_NUMBER} (?:mails|emails|relances) sans reponse|"
        r"no(?: one|body) (?:ever )?(?:answers|replies|responds|is answering|answering|has answered|has replied)|"
        r"(?:zero|still no|no) (?:answers?|repl(?:y|ies)|response)|"
        r"(?:aucune|plus aucune|sans) (?:reponse|nouvelles?)|personne ne (?:repond|me repond)|"
        r"since (?:last )?\d{1,2} months|for (?:weeks|months)|depuis (?:des semaines|des mois)|"
        r"(?:pas|plus) de nouvelles",
        1.0,
        "waiting for weeks",
        "waiting",
    ),
)

# Plain words a negation just before cancels ("not hacked", "no data leak", "not down").
_PLAIN: Final = frozenset({"hacked", "safety", "outage"})

# How long they waited: with something still missing or nobody answering, it is "waiting long".
_WEEKS: Final = re.compile(
    rf"(?<!\w)(?:{_NUMBER}|a|one|un|une) (?:weeks|months|semaines|mois|month|week|semaine)(?!\w)"
    r"|(?<!\w)(?:weeks|months|semaines|des mois|plusieurs mois)(?!\w)"
)
_STILL: Final = re.compile(
    r"(?<!\w)(?:still|waiting|never|nothing|no|yet|toujours|jamais|rien|attends?|attente|aucune?|sans)(?!\w)"
)
_WAIT_WORDS: Final = ("week", "month", "semaine", "mois")  # one of them is in every `_WEEKS` match
# One-week waits count too when written with the word ("a week", "une semaine") after "since".
_ONE_WEEK: Final = re.compile(r"(?<!\w)(?:a|one|un|une|1) (?:week|semaine|month|mois)(?!\w)")

# A delivery that never came: listed among the reasons, high only with another kind or a long wait.
_DELIVERY: Final = term(
    r"never (?:arrived|received|came|got (?:it|my|the))|(?:has ?n[o']?t|did ?n[o']?t|not) (?:arrived|been delivered)|"
    r"nothing arrived|(?:lost|lose) (?:my|the) (?:parcel|package|order)|jamais re[cç]ue?s?|"
    r"(?:toujours )?pas (?:encore )?(?:re[cç]ue?s?|arrivee?s?)|colis perdu|perdu (?:mon|le) colis|"
    r"toujours rien",
    0.0,
    "never arrived",
    "delivery",
)
_DELIVERY_FR_LABEL: Final = "jamais reçu"

# Not about the brand: "Free Fire" (a game), "fire sale", "my lawyer friend", "life hack".
_OTHER_SUBJECT: Final = re.compile(
    r"free ?fire|fire (?:sale|tv|stick|tablet)|kindle fire|(?:lawyer|avocate?) (?:friend|ami|amie)|"
    r"never (?:arrived|came) late|nothing broken|another brand[^.!?\n]{0,60}"
)
_OTHER_SUBJECT_WORDS: Final = (
    "fire",
    "lawyer",
    "avocat",
    "never",
    "nothing",
    "another",
)  # one is in each match
# A question about how things work, not a claim: "what's your refund policy?", "can I get a refund if".
_POLICY_QUESTION: Final = re.compile(
    r"(?<!\w)(?:policy|how (?:do|does|long|can)|can i|is it possible|do you|would i|est-ce qu|"
    r"comment (?:je|on|faire)|what(?:'s| is) (?:the|your))(?!\w)"
)
# Said when something is wrong: a refund with one of these is a claim, not a question.
_PROBLEM: Final = re.compile(
    r"(?<!\w)(?:still|never|yet|waiting|promised|requested|asked for|where is|want|need|please|returned|"
    r"no refund|not (?:yet|received|refunded)|toujours|jamais|pas (?:de|encore|re[cç]u)|promis|"
    r"demande|veux|attends|retourne)(?!\w)"
)
_RESOLVED: Final = re.compile(
    r"(?<!\w)(?:all good now|(?:works|working|fixed) now|(?:refund|remboursement) (?:arrived|received|bien recu|recu)|"
    r"got my (?:refund|money back)|c'est regle|ca remarche|i can log in (?:again|now)|"
    r"(?:back|up) and running|not urgent)(?!\w)"
)
_GRATITUDE: Final = re.compile(r"(?<!\w)(?:thanks?|thank you|thx|merci|cheers)(?!\w)|🙏|❤|💙|👏|😍")

_NEGATORS: Final = word_set(
    "no not never without nothing none nobody zero pas jamais aucun aucune sans rien ni"
)
_WORD_RE: Final = re.compile(r"[\w'+]{1,40}")

_ANGER: Final = re.compile(
    r"(?<!\w)(?:ridiculous|disgust(?:ed|ing)|worst|terrible|awful|horrible|pathetic|"
    r"unbelievable|fed up|sick of|losing my patience|scam|wtf|honteux|honte|scandale|"
    r"scandaleux|catastrophique|lamentable|j'en ai marre|ras le bol|inacceptable|arnaque)(?!\w)"
)
_SHOUT_RE: Final = re.compile(r"\b[A-ZÀ-Ý]{3,}\b")
_ACRONYMS: Final = word_set("FAQ APP USB GPS TER SNCF UTC PDF VAT EUR USD HS SAV UFC URGENT")
_APOSTROPHES: Final = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})


def score_priority(text: str, *, folded: str | None = None) -> Priority:
    """How urgent `text` is, and why (see the module docstring). `folded`: `fold_text(text)`
    if the caller has it already (screening folds a message once for all its checks)."""
    folded = fold_text(text[:READ_CHARS]) if folded is None else folded[:READ_CHARS]
    masked = deleet(strip_links(folded).translate(_APOSTROPHES))
    if any(word in masked for word in _OTHER_SUBJECT_WORDS):
        masked = _OTHER_SUBJECT.sub(" ", masked)
    found: dict[str, tuple[float, str]] = {}  # group -> strongest (weight, label)
    for entry in _URGENT:
        match = entry.search(masked)
        if match is None or entry.label in _PLAIN and _negated(masked, match.start()):
            continue
        best = found.get(entry.group)
        if best is None or entry.weight > best[0]:
            found[entry.group] = (entry.weight, entry.label)
    waited = "waiting" not in found and any(word in masked for word in _WAIT_WORDS)
    delivery = _DELIVERY.search(masked) if found or waited else None  # said only beside another reason
    if waited and _waited_long(masked, delivery is not None):
        found["waiting"] = (1.0, "waiting for weeks")
    if found.get("money", (0.0, ""))[1] == "refund" and _refund_question(masked):
        del found["money"]  # "what's your refund policy?": a question, answered in turn
    calm = bool(found) and (_RESOLVED.search(masked) is not None or _grateful(masked, found))
    score = 0.0 if calm else sum((weight for weight, _ in found.values()), 0.0)
    ordered = sorted(found.items(), key=lambda item: GROUPS.index(item[0]))
    reasons = [label for _, (_, label) in ordered]
    if delivery is not None and reasons:
        reasons.append(_DELIVERY_FR_LABEL if _is_french_delivery(delivery.group()) else _DELIVERY.label)
    urgent = score >= URGENT_AT
    tone = "angry tone" if urgent and (_shouting(text[:READ_CHARS]) or _ANGER.search(masked)) else ""
    return Priority(urgent, round(score, 2), tuple(dict.fromkeys(reasons)) if urgent else (), tone)


def _shouting(text: str) -> bool:
    """Two words in capitals that are not acronyms ("NOBODY ANSWERS")."""
    return sum(1 for word in _SHOUT_RE.findall(strip_links(text)) if word not in _ACRONYMS) >= 2


def _waited_long(normalized: str, undelivered: bool) -> bool:
    """Weeks or months go by while something is still missing or nobody answers."""
    weeks = _WEEKS.search(normalized)
    if weeks is None or _ONE_WEEK.fullmatch(weeks.group()) and not undelivered:
        return False
    return undelivered or _STILL.search(normalized) is not None


def _refund_question(normalized: str) -> bool:
    """A question about refunds ("how do refunds work?"), with nothing said to be wrong."""
    return _POLICY_QUESTION.search(normalized) is not None and _PROBLEM.search(normalized) is None


def _grateful(normalized: str, found: dict[str, tuple[float, str]]) -> bool:
    """Thanks with nothing wrong said: "thanks for the refund!" is not a claim."""
    if _GRATITUDE.search(normalized) is None:
        return False
    weak = all(weight <= 1.0 for weight, _ in found.values())
    return weak and _PROBLEM.search(normalized) is None


def _is_french_delivery(found: str) -> bool:
    return found.startswith(("jamais", "toujours", "pas", "colis", "perdu"))


def _negated(normalized: str, start: int) -> bool:
    """A negation among the three words before `start` ("not hacked", "no data leak")."""
    before = _WORD_RE.findall(normalized[max(0, start - 40) : start])[-3:]
    return any(word in _NEGATORS or word.startswith("n'") for word in before)
