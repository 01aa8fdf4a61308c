"""Link suggestion that learns: `LinkRanker` ranks the canned replies' links for a conversation
from their words, from the past conversations each link was sent in, and from how often and how
lately it was sent."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ecoinbox.model import LinkUse
from ecoinbox.replies.canned import CannedReply, language_candidates
from ecoinbox.replies.templates import (
    TemplateError,
    parse_template,
    render,
    template_text,
    template_variables,
)
from ecoinbox.text import words

if TYPE_CHECKING:  # numpy is loaded when a ranker is built: `ecoinbox list` and the inbox start without it
    import numpy as np


def link_words(link: str) -> str:
    """The words of a link's path: "{forum_url}/t/refunds-and-returns/12" -> "t refunds and returns 12"."""
    try:
        pieces = parse_template(link)
    except TemplateError:
        pieces = ((False, link),)
    literal = "".join(text for is_variable, text in pieces if not is_variable)
    try:
        path = urlsplit(literal).path if "://" in literal else literal
    except ValueError:
        path = literal
    return " ".join(re.split(r"[/\-_.+~%]+", path)).strip()


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A canned reply proposed for a conversation, with its score and why, in a few words."""

    reply: CannedReply
    score: float
    why: str


@dataclass(frozen=True, slots=True)
class RankWeights:
    """How `LinkRanker` mixes its signals. The defaults were chosen by 5-fold cross-validation on
    the CDP dev split (bench/link_suggestion.py): most hits at 1, less what any brand loses against
    its most frequent link."""

    text: float = 1.0
    """Similarity of the conversation to the reply's own words (title, text, keywords, link)."""
    neighbours: float = 1.0
    """Summed similarity of the `k` most similar past conversations that got this link."""
    profile: float = 0.5
    """Similarity to all past conversations that got this link, pooled."""
    usage: float = 0.5
    """How often the link was sent, recent uses counting more (0..1 before weighting)."""
    language: float = 0.05
    """A small push for replies written in the person's language."""
    k: int = 10
    """How many similar past conversations vote."""
    half_life_days: float = 180.0
    """A use this many days old counts half as much in `usage`."""

    def combine(self, parts: ScoreParts) -> float:
        return (
            self.text * parts.text
            + self.neighbours * parts.neighbours
            + self.profile * parts.profile
            + self.usage * parts.usage
            + self.language * parts.language
        )


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The signals behind one candidate's score, each before weighting."""

    text: float = 0.0
    neighbours: float = 0.0
    profile: float = 0.0
    usage: float = 0.0
    language: float = 0.0
    matched: tuple[str, ...] = ()  # the conversation's words that matched the reply's
    similar: int = 0  # how many of the k nearest past conversations got this link
    uses: int = 0  # how many times the link was sent in all


class _Vectors:
    """Sparse TF-IDF vectors over one collection, with document frequencies kept up to date."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.count = 0

    def add(self, terms: Counter[str]) -> None:
        self.df.update(terms.keys())
        self.count += 1

    def idf(self, term: str) -> float:
        return math.log((self.count + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def vector(self, terms: Mapping[str, float]) -> dict[str, float]:
        """Sublinear tf times idf, L2-normalised."""
        weights = {t: (1.0 + math.log(tf)) * self.idf(t) for t, tf in terms.items() if tf > 0}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}


@dataclass(slots=True)
class _Candidate:
    reply: CannedReply
    group: int  # candidates sharing one link share one history
    terms: Counter[str]
    surface: dict[str, str]  # stem -> a word of the reply, for `why`
    vector: dict[str, float] = field(default_factory=dict)


class _History:
    """Past conversations that got a link: an inverted index of their TF-IDF vectors, pooled
    profiles per link, and recency-weighted counts, all updated one use at a time."""

    def __init__(self, groups: int, half_life_days: float) -> None:
        import numpy as np

        self.vectors = _Vectors()
        self.half_life = half_life_days * 86400.0
        self.group: list[int] = []
        self.terms: list[Counter[str]] = []
        self.at: list[float] = []  # POSIX timestamps
        self._post_index: dict[str, list[int]] = defaultdict(list)
        self._post_weight: dict[str, list[float]] = defaultdict(list)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> postings, built lazily
        self._group_array: np.ndarray = np.zeros(0, dtype=np.intp)
        self.profiles: list[dict[str, float]] = [{} for _ in range(groups)]
        self._profile_norms = [0.0] * groups
        self._stale_norms: set[int] = set()
        self.counts = [0] * groups
        # Sum of 2**((at - epoch) / half_life) per link: times 2**(-(now - epoch) / half_life),
        # it is the sum of each use's 2**(-age / half_life), in O(links) whatever the history.
        self._recency = [0.0] * groups

    def __len__(self) -> int:
        return len(self.group)

    def add(self, group: int, at: float, terms: Counter[str], *, counted: bool = False) -> None:
        """Index one use; its weights use the document frequencies known so far (`counted`:
        its own were added already)."""
        if not counted:
            self.vectors.add(terms)
        index = len(self.group)
        self.group.append(group)
        self.terms.append(terms)
        self.at.append(at)
        profile = self.profiles[group]
        for term, weight in self.vectors.vector(terms).items():
            self._post_index[term].append(index)
            self._post_weight[term].append(weight)
            self._arrays.pop(term, None)
            profile[term] = profile.get(term, 0.0) + weight
        self._stale_norms.add(group)
        self.counts[group] += 1
        if self.half_life > 0:
            self._recency[group] += 2.0 ** ((at - _EPOCH) / self.half_life)

    def similarities(self, query: Mapping[str, float]) -> np.ndarray:
        """Cosine similarity of `query` (normalised with this history's idf) to every use."""
        import numpy as np

        scores = np.zeros(len(self.group))
        for term, weight in query.items():
            arrays = self._arrays.get(term)
            if arrays is None:
                if term not in self._post_index:
                    continue
                arrays = (
                    np.asarray(self._post_index[term], dtype=np.intp),
                    np.asarray(self._post_weight[term], dtype=np.float64),
                )
                self._arrays[term] = arrays
            indexes, weights = arrays
            scores[indexes] += weight * weights  # a use appears once per term
        return scores

    def profile_norms(self) -> list[float]:
        for group in self._stale_norms:
            self._profile_norms[group] = math.sqrt(sum(w * w for w in self.profiles[group].values()))
        self._stale_norms.clear()
        return self._profile_norms

    def groups_of(self, indexes: np.ndarray) -> np.ndarray:
        import numpy as np

        if len(self._group_array) != len(self.group):
            self._group_array = np.asarray(self.group, dtype=np.intp)
        groups: np.ndarray = self._group_array[indexes]
        return groups

    def usage(self, now: float) -> list[float]:
        """Per link: its uses, each weighted 2**(-age / half_life) (1 each without a half-life)."""
        if self.half_life <= 0:
            return [float(count) for count in self.counts]
        scale = 2.0 ** (-(now - _EPOCH) / self.half_life)
        return [total * scale for total in self._recency]


_EPOCH: Final = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
EXACT_HISTORY: Final = 256
"""Up to this many past uses, `add_use` re-indexes everything: exact and still quick."""


class LinkRanker:
    """Ranks canned replies (those with a link, or that redirect) for a conversation.

    Three signals, mixed by `RankWeights`:
    (a) the conversation's words against each reply's title, text, variants, keywords, tags and
        the words of its link's path (TF-IDF, accents folded, EN and FR stop-words, light stems);
    (b) the past conversations each link was sent in (`LinkUse`): the `k` most similar vote for
        their link, and each link's pooled past conversations are compared too;
    (c) how often, and how recently, each link was sent;
    plus a small push for replies written in the person's language.

    Vectors are computed here once; `add_use` indexes one more past use incrementally.
    Deterministic: equal scores go to the link sent more often, then alphabetically (link, then
    name), never to the replies' own order, which may carry a bias of its own.
    """

    def __init__(
        self,
        replies: Iterable[CannedReply],
        history: Iterable[LinkUse] = (),
        *,
        values: Mapping[str, str] | None = None,
        weights: RankWeights | None = None,
    ) -> None:
        self.weights = weights or RankWeights()
        self._values = dict(values or {})
        self._candidates: list[_Candidate] = []
        self._group_of_link: dict[str, int] = {}
        self._group_patterns: list[tuple[re.Pattern[str], int]] = []
        self._group_of_name: dict[str, int] = {}
        self._groups = 0
        for reply in replies:
            if reply.link is None and not reply.redirect:
                continue
            self._candidates.append(self._candidate(reply))
        self._reply_vectors = _Vectors()
        for candidate in self._candidates:
            self._reply_vectors.add(candidate.terms)
        for candidate in self._candidates:
            candidate.vector = self._reply_vectors.vector(candidate.terms)
        self._tie_keys = [(self._link_key(c.reply), c.reply.name) for c in self._candidates]
        self._resolved: dict[tuple[str, str], int | None] = {}
        self._history = _History(self._groups, self.weights.half_life_days)
        self._indexed_fresh = 0  # how many uses the last full indexing saw
        self._reindex([self._prepared(use) for use in history])

    # ---- building ------------------------------------------------------------------------------

    def _candidate(self, reply: CannedReply) -> _Candidate:
        key = self._link_key(reply)
        if key in self._group_of_link:
            group = self._group_of_link[key]
        else:
            group = self._groups
            self._groups += 1
            self._group_of_link[key] = group
            if reply.link is not None and template_variables(reply.link):
                self._group_patterns.append((_link_pattern(reply.link), group))
        self._group_of_name.setdefault(reply.name, group)
        parts = [reply.title, *(template_text(t) for t in (reply.text, *reply.variants.values()))]
        parts += list(reply.keywords) * 2  # chosen by the manager to trigger this reply
        parts += list(reply.tags)
        terms: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for text in parts:
            for term, word in words(text):
                terms[term] += 1
                surface.setdefault(term, word)
        if reply.link:
            for term, word in words(link_words(reply.link), url_words=True):
                terms[term] += 1
                surface.setdefault(term, word)
        return _Candidate(reply, group, terms, surface)

    def _link_key(self, reply: CannedReply) -> str:
        if reply.link is None:
            return "name:" + reply.name
        rendered = render(reply.link, self._values)
        return rendered.text if rendered.complete else reply.link

    def _group_of(self, use: LinkUse) -> int | None:
        """The candidates' link this use sent: same address, the template's shape, or its name."""
        key = (use.link, use.canned)
        if key not in self._resolved:
            group = self._group_of_link.get(use.link)
            if group is None:
                group = next((g for pattern, g in self._group_patterns if pattern.fullmatch(use.link)), None)
            if group is None and use.canned:
                group = self._group_of_name.get(use.canned)
            self._resolved[key] = group
        return self._resolved[key]

    def _prepared(self, use: LinkUse) -> tuple[int, float, Counter[str]] | None:
        group = self._group_of(use)
        if group is None:
            return None  # a link no canned reply carries any more
        return group, _timestamp(use.at), Counter(term for term, _ in words(use.conversation_text))

    def add_use(self, use: LinkUse) -> None:
        """Learn from one more link sent, without recomputing the rest."""
        prepared = self._prepared(use)
        if prepared is None:
            return
        # Weights are normalised with the document frequencies of their day: a small history,
        # or one grown by a quarter since it was last indexed whole, is indexed whole again.
        size = len(self._history) + 1
        if size <= EXACT_HISTORY or size > 1.25 * self._indexed_fresh:
            self._reindex([*zip(self._history.group, self._history.at, self._history.terms), prepared])
        else:
            self._history.add(*prepared)

    def _reindex(self, uses: Iterable[tuple[int, float, Counter[str]] | None]) -> None:
        kept = [use for use in uses if use is not None]
        history = _History(self._groups, self.weights.half_life_days)
        for _, _, terms in kept:  # document frequencies first: every weight sees all of them
            history.vectors.add(terms)
        for group, at, terms in kept:
            history.add(group, at, terms, counted=True)
        history.profile_norms()
        self._history = history
        self._indexed_fresh = len(kept)

    # ---- ranking -------------------------------------------------------------------------------

    @property
    def replies(self) -> tuple[CannedReply, ...]:
        """The candidates, in the order they were given."""
        return tuple(candidate.reply for candidate in self._candidates)

    def parts(
        self, conversation_text: str, language: str | None = None, *, now: datetime | None = None
    ) -> list[ScoreParts]:
        """Each candidate's signals for this conversation, in the order of `replies`."""
        moment = _timestamp(now or datetime.now(UTC))
        said = words(conversation_text)
        terms: Counter[str] = Counter(term for term, _ in said)
        surface: dict[str, str] = {}
        for term, word in said:
            surface.setdefault(term, word)
        history = self._history
        groups = self._groups

        # (b) the k most similar past conversations vote for their link; pooled profiles too
        query = history.vectors.vector(terms)
        votes = [0.0] * groups
        voters = [0] * groups
        if len(history) and query:
            similarities = history.similarities(query)
            nearest = _top(similarities, self.weights.k)
            for group, similarity in zip(history.groups_of(nearest), similarities[nearest], strict=True):
                votes[group] += float(similarity)
                voters[group] += 1
        profiles = [0.0] * groups
        norms = history.profile_norms()
        for group, profile in enumerate(history.profiles):
            norm = norms[group]
            if norm:
                profiles[group] = sum(w * profile.get(t, 0.0) for t, w in query.items()) / norm
        # (c) how often and how lately
        usage = history.usage(moment)
        top = max(usage, default=0.0)

        # (a) the reply's own words
        query = self._reply_vectors.vector(terms)
        wanted = language_candidates(language)
        out: list[ScoreParts] = []
        for candidate in self._candidates:
            contributions = sorted(
                ((weight * candidate.vector.get(term, 0.0), term) for term, weight in query.items()),
                key=lambda item: (-item[0], item[1]),
            )
            group = candidate.group
            out.append(
                ScoreParts(
                    text=sum(value for value, _ in contributions),
                    neighbours=votes[group],
                    profile=profiles[group],
                    usage=usage[group] / (top + 1.0) if top else 0.0,
                    language=1.0 if any(code in candidate.reply.languages for code in wanted) else 0.0,
                    matched=tuple(surface[term] for value, term in contributions[:3] if value > 0),
                    similar=voters[group],
                    uses=history.counts[group],
                )
            )
        return out

    def order(self, parts: Sequence[ScoreParts], weights: RankWeights | None = None) -> list[int]:
        """Indexes into `replies`, best first for `parts` (from `parts()`) mixed by `weights`
        (the ranker's own by default): by score, then how often the link was sent, then by link
        and name."""
        mix = weights or self.weights
        scores = [round(mix.combine(p), 12) for p in parts]
        return sorted(range(len(parts)), key=lambda i: (-scores[i], -parts[i].uses, self._tie_keys[i]))

    def rank(
        self,
        conversation_text: str,
        language: str | None = None,
        *,
        now: datetime | None = None,
        limit: int | None = None,
    ) -> list[Suggestion]:
        """The candidates for this conversation, best first (all of them unless `limit`)."""
        parts = self.parts(conversation_text, language, now=now)
        scores = [self.weights.combine(p) for p in parts]
        order = self.order(parts)
        if limit is not None:
            order = order[:limit]
        return [Suggestion(self._candidates[i].reply, scores[i], _why(parts[i])) for i in order]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the `k` highest positive scores, best first, equal scores oldest first."""
    import numpy as np

    positive = np.flatnonzero(scores > 0)
    if k <= 0:
        return positive[:0]
    if len(positive) > k:
        threshold = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= threshold]
    order = np.lexsort((positive, -scores[positive]))
    return positive[order][:k]


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _why(parts: ScoreParts) -> str:
    reasons: list[str] = []
    if parts.matched:
        reasons.append("matches " + ", ".join(f"'{word}'" for word in parts.matched))
    if parts.similar:
        plural = "s" if parts.similar > 1 else ""
        reasons.append(f"sent in {parts.similar} similar conversation{plural}")
    if parts.uses and not parts.similar:
        reasons.append(f"sent {parts.uses} time{'s' if parts.uses > 1 else ''} before")
    if parts.language and not reasons:
        reasons.append("in their language")
    return "; ".join(reasons) or "no clue in the conversation"


def _link_pattern(template: str) -> re.Pattern[str]:
    """A regex matching what `template` renders to, whatever its variables hold."""
    out = []
    for is_variable, text in parse_template(template):
        out.append(".+?" if is_variable else re.escape(text))
    return re.compile("".join(out))
