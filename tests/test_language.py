"""Language detection of short social posts: sure answers, honest None, the platform's hint."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecoinbox.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("@acme refund please", "en"),
        ("where is my parcel?? it's been two weeks", "en"),
        ("@acme how do I export my widgets to a spreadsheet?", "en"),
        ("thanks", "en"),
        ("@acme ma commande n'est jamais arrivée et je voudrais être remboursée", "fr"),
        ("Mon colis est perdu depuis une semaine, vous pouvez m'aider ?", "fr"),
        ("ça marche pas", "fr"),
        ("merci !", "fr"),
        ("Merci beaucoup pour votre aide", "fr"),
    ],
)
def test_english_and_french_posts(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text", ["", "   ", "🎉🎉👍", "@acme", "#acme @acme https://acme.example/x", "ok", "lol"]
)
def test_nothing_to_tell_is_none(text):
    assert detect_language(text) is None


def test_the_hint_decides_only_when_the_text_cannot():
    assert detect_language("ok on verra") is None  # too short to be sure
    assert detect_language("ok on verra", hint="fr") == "fr"
    assert detect_language("lol", hint="en-GB") == "en"
    assert detect_language("🎉", hint="fr") == "fr"
    # Mastodon's field is often just the account's default: clear words win over it.
    assert detect_language("ma commande n'est jamais arrivée, c'est inadmissible", hint="en") == "fr"
    assert detect_language("merci !", hint="en") == "fr"


def test_mentions_hashtags_and_links_are_not_read_as_words():
    text = "@Bonjour_Paris_Officiel #BonjourParis https://bonjour.example/merci/beaucoup where is my order?"
    assert detect_language(text) == "en"


def test_languages_can_be_restricted():
    text = "Danke, das ist wirklich sehr gut gemacht"
    assert detect_language(text) == "de"
    assert detect_language(text, languages=["en", "fr"]) != "de"


def test_a_script_outside_the_considered_languages_is_not_forced_into_one():
    assert detect_language("これはテストです、ありがとうございます") is None
    assert detect_language("これはテストです、ありがとうございます", hint="ja") == "ja"


def test_importing_does_not_load_the_model():
    probe = (
        "import sys, ecoinbox.language as language\n"
        "print('py3langid' in sys.modules)\n"
        "language.detect_language('where is my parcel')\n"
        "print('py3langid' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_a_model_that_cannot_be_loaded_leaves_the_cue_words_and_the_hint(monkeypatch, tmp_path):
    """py3langid unpacks its model to a temporary file: on a full disk, polls go on without it."""
    import errno

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-copy-yet"))  # not the tests' shared copy
    from py3langid import modelio

    from ecoinbox import language

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(language, "_base_identifier", None)
    monkeypatch.setattr(language, "_identifiers", {})
    monkeypatch.setattr(modelio, "load_model", full_disk)  # unpacked once into the cache (empty here)
    assert detect_language("ma commande n'est jamais arrivée, merci de regarder", hint="en") == "fr"
    assert detect_language("where is my parcel, it has been a week now", hint="en-GB") == "en"
    assert detect_language("where is my parcel, it has been a week now") is None
