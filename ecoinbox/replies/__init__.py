"""Canned replies: templates with variables, per-language variants, and links that learn.

A canned reply is a ready answer the manager picks in the reply box (`ctrl+t`) or with `f`
(bring the person to the forum). This package holds everything about them that is not drawing,
one concern a module (their words are `ecoinbox.text`'s):

- `canned`: `CannedReply` and its loaders (`load_canned` for `[[canned]]` tables,
  `load_canned_file` for the separate file the user edits), whose errors name file, line and key
  like the config's, and `pick_variant` (the person's language first);
- `templates`: `{author}`-style variables with `{{`/`}}` escapes, `render` that never leaves a
  `{x}` in the text but reports it as missing, `stack` to put several replies in one message;
- `picker`: `search_canned`, the fuzzy picker;
- `ranker`: `LinkRanker`, which ranks the canned replies' links for a conversation from their
  words, from the past conversations each link was sent in, and from how often and how lately it
  was sent (numpy is loaded when a ranker is built, not by importing this package).

Headless on purpose: no Textual, no Rich, no SQL (the history comes in as `LinkUse` values).
"""

from __future__ import annotations

from ecoinbox.model import LinkUse
from ecoinbox.replies.canned import (
    KNOWN_VARIABLES,
    URL_VARIABLES,
    CannedReply,
    load_canned,
    load_canned_file,
    pick_variant,
)
from ecoinbox.replies.picker import search_canned
from ecoinbox.replies.ranker import LinkRanker, RankWeights, ScoreParts, Suggestion, link_words
from ecoinbox.replies.templates import (
    Rendered,
    TemplateError,
    escape,
    render,
    stack,
    template_variables,
)
from ecoinbox.text import fold, stem, words  # their home is ecoinbox.text; kept here for old imports

__all__ = [
    "KNOWN_VARIABLES",
    "URL_VARIABLES",
    "CannedReply",
    "LinkRanker",
    "LinkUse",
    "RankWeights",
    "Rendered",
    "ScoreParts",
    "Suggestion",
    "TemplateError",
    "escape",
    "fold",
    "link_words",
    "load_canned",
    "load_canned_file",
    "pick_variant",
    "render",
    "search_canned",
    "stack",
    "stem",
    "template_variables",
    "words",
]
