"""py3langid's model is unpacked once and mapped from the cache after (ecoinbox/language_model.py):
1.3-1.7 s of CPU at every start became tens of ms (issue 16, goal 8: the demo's first rows)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from py3langid import modelio
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from ecoinbox import language_model
from ecoinbox.language import DEFAULT_LANGUAGES

TEXTS = [
    "Bonjour, ma commande n'est jamais arrivée et personne ne répond",
    "Where is my refund? It has been three weeks",
    "Wo ist meine Bestellung? Ich warte seit Tagen",
    "¿Dónde está mi pedido? Nadie contesta",
    "Il mio ordine non è mai arrivato, aiuto",
    "A minha encomenda nunca chegou, obrigado",
    "Mijn bestelling is nooit aangekomen, graag hulp",
    "ok",
    "Спасибо за помощь",
    "",
]


def answers(identifier: Any) -> list[tuple[str, float]]:
    restricted = copy.copy(identifier)
    restricted.set_languages(list(DEFAULT_LANGUAGES))
    return [restricted.classify(text) for text in TEXTS] + [identifier.classify(text) for text in TEXTS]


@pytest.fixture(scope="module")
def packaged() -> list[tuple[str, float]]:
    """What py3langid's own load of its packed model answers."""
    return answers(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))


def no_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> None:
        raise AssertionError("the packed model was unpacked again")

    monkeypatch.setattr(modelio, "load_model", refuse)


def test_the_unpacked_copy_answers_as_the_packed_model_and_is_mapped_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: list[tuple[str, float]]
) -> None:
    assert answers(language_model.load_identifier(tmp_path)) == packaged  # unpacked, and kept
    no_unpacking(monkeypatch)
    assert answers(language_model.load_identifier(tmp_path)) == packaged  # mapped from the copy
    assert [p.name[:20] for p in tmp_path.iterdir()] == ["language-model-v1-45"]  # nothing else left


def test_a_damaged_copy_is_unpacked_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    packaged: list[tuple[str, float]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    language_model.load_identifier(tmp_path)
    (folder,) = tmp_path.iterdir()
    nextmove = folder / "nextmove.npy"
    nextmove.write_bytes(nextmove.read_bytes()[:1000])  # cut short (a full disk, a crash)
    assert answers(language_model.load_identifier(tmp_path)) == packaged
    assert "cannot be read" in caplog.text
    no_unpacking(monkeypatch)
    assert answers(language_model.load_identifier(tmp_path)) == packaged  # a whole copy took its place


def test_a_cache_that_cannot_be_written_only_costs_the_unpacking(
    tmp_path: Path, packaged: list[tuple[str, float]]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    assert answers(language_model.load_identifier(blocked)) == packaged
    assert blocked.is_file()


def test_a_poll_walks_the_mapped_model_as_the_unpacked_one(tmp_path: Path) -> None:
    """The language detection of a whole poll (language.classify_all, its numpy walk) on the model
    mapped from the cache answers as on the model just unpacked: the walk once read the moves'
    item type from py3langid's array only, and every start after the first failed its polls."""
    from ecoinbox.language import classify_all

    unpacked = language_model.load_identifier(cache=tmp_path)  # the first start: unpacked, kept
    mapped = language_model.load_identifier(cache=tmp_path)  # every later start: mapped
    assert isinstance(mapped.tk_nextmove, memoryview)
    texts = [text for text in TEXTS if text]
    assert (
        classify_all(mapped, texts) == classify_all(unpacked, texts) == [unpacked.classify(t) for t in texts]
    )
