"""bench/link_suggestion.py trains on one split and scores another (`--train`, `--test`,
`--json`), and equal scores never follow the library file's order (issue 15, item 8)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The library file lists the links z-3, z-2, z-1, a-first: the order a leak would carry.
URLS = {1: "https://help.example/z-3", 2: "https://help.example/z-2", 3: "https://help.example/z-1",
        4: "https://help.example/a-first"}  # fmt: skip


def conversation(session: str, said: str, doc: int) -> dict[str, object]:
    return {
        "dialogHeader": {"company": "Acme", "sessionID": session},
        "dialogContent": [{"client": "someone", "message": said, "datetime": "2020-04-01T10:00:00.000Z"}],
        "agentURL": {"doc_id": str(doc), "url": URLS[doc]},
    }


def write_data(folder: Path) -> tuple[Path, Path]:
    folder.joinpath("docID_url.tsv").write_text("".join(f"{i}\t{u}\n" for i, u in URLS.items()))
    folder.joinpath("company_docIDs.tsv").write_text("Acme\t1,2,3,4\n")
    train, test = folder / "train.json", folder / "test.json"
    train.write_text(json.dumps([conversation("t1", "hello there", 3)]))
    # Words that match nothing: the history's link first, then the others alphabetically.
    test.write_text(json.dumps([conversation("s1", "qqq", 4), conversation("s2", "qqq", 3)]))
    return train, test


def test_train_on_one_file_score_another_as_json_with_neutral_ties(tmp_path, capsys):
    train, test = write_data(tmp_path)
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import link_suggestion  # bench/link_suggestion.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    code = link_suggestion.main(
        ["--data", str(tmp_path), "--train", str(train), "--test", str(test), "--json"]
    )
    assert code == 0
    # a-first is second for all three (after z-1, sent once): in the file's order it would be 4th.
    expected = {"hit@1": 0.5, "hit@3": 1.0}
    assert json.loads(capsys.readouterr().out) == {
        "ranker": expected, "most_frequent": expected, "text_only": expected,
    }  # fmt: skip
