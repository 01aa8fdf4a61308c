"""Words, as search, canned replies and screening compare them: folding, stop-words, light stems.

Two foldings, because two things are matched against: `fold` for our own word matching
(the picker, link ranking, spam and priority lexicons: "œ" is "oe"), and `fold_as_index` for
search, which must fold exactly as the store's full-text index does (SQLite FTS5's unicode61
tokenizer, which keeps "œ") and keeps each folded character's offset in the original text, so
the matches it finds can be highlighted there.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

__all__ = ["MENTION_RE", "STEM_LENGTH", "WORD_RE", "fold", "fold_as_index", "stem", "words"]

MENTION_RE: Final = re.compile(
    r"(?<![\w@/])@[A-Za-z0-9_](?:[\w.-]*\w)?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?"
)
"""An @mention: @handle, or @user@server as the fediverse writes it."""
WORD_RE: Final = re.compile(r"[^\W_]+")
"""A word: letters and digits (no "_")."""


def fold(text: str) -> str:
    """Lowercase without accents: "Remboursée" -> "remboursee"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold().replace("œ", "oe").replace("æ", "ae")


def fold_as_index(text: str) -> tuple[str, list[int]]:
    """`text` with accents removed and case folded, as FTS5's unicode61 tokenizer folds it,
    and for each character of the result the index of the character of `text` it came from."""
    if text.isascii():  # each character folds to one: 50-100 us less per snippet of a search
        return text.lower(), list(range(len(text)))
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            piece = char.lower()
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            piece = base.casefold() if base else char
        folded.append(piece)
        origin.extend([index] * len(piece))
    return "".join(folded), origin


_URL_RE: Final = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CAMEL_RE: Final = re.compile(r"(?<=[a-z])(?=[A-Z])")

# English and French words that say nothing about what a message is about.
_STOP_WORDS_TEXT: Final = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can cannot could did do does doing done down during each few for
    from further get got had has have having he her here hers herself him himself his how i if
    in into is it its itself just let me more most my myself no nor not now of off on once only
    or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up us
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves im ive dont cant doesnt didnt isnt wont also still even yet ok okay yes
    hi hello hey thanks thank thx ty please pls plz dear guys sir madam au aux avec ce ces cet
    cette dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais me meme
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi
    ton tu un une vos votre vous ça ca cela ceci ci est sont suis es etes sommes ete etre avoir
    ai as avons avez ont avait etait fait faire plus tres trop aussi deja encore jamais rien
    tout tous toute toutes y si oui non alors donc car comme quand bonjour bonsoir salut merci
    svp stp coucou
"""
_STOP_WORDS: Final[frozenset[str]] = frozenset(fold(word) for word in _STOP_WORDS_TEXT.split())
# Words of every link's address that say nothing about the page.
_URL_STOP_WORDS: Final = frozenset({"html", "htm", "php", "aspx", "jsp", "www", "http", "https", "index"})

# English and French endings, tried longest first.
_SUFFIXES_TEXT: Final = """
    issements issement ements ement ations ation ments ment ingly ings ing ies ied ees ee es
    ed er ez ly s e y
"""
_SUFFIXES: Final = tuple(sorted(_SUFFIXES_TEXT.split(), key=len, reverse=True))
STEM_LENGTH: Final = 6
"""Stems are cut to this many letters: prefix matching ("subscription" ~ "subscribe")."""


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, language-agnostic stem of a folded word (EN and FR suffixes, then a prefix)."""
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    return word[:STEM_LENGTH]


def words(text: str, *, url_words: bool = False) -> list[tuple[str, str]]:
    """(stem, surface word) for each content word of `text`, in order.

    @mentions and URLs are dropped, as are stop-words (EN and FR), numbers and one-letter words.
    With `url_words`, `text` is an address path: camelCase is split too.
    """
    if url_words:
        text = _CAMEL_RE.sub(" ", text)
    else:
        text = MENTION_RE.sub(" ", _URL_RE.sub(" ", text))
    out: list[tuple[str, str]] = []
    for match in WORD_RE.finditer(fold(text)):
        word = match.group()
        if len(word) < 2 or len(word) > 30 or word.isdigit() or word in _STOP_WORDS:
            continue
        if url_words and word in _URL_STOP_WORDS:
            continue
        out.append((stem(word), word))
    return out
