"""`ecoinbox list` and `show` answered on the standard sqlite3 module (ecoinbox/quick_reads.py,
ecoinbox/store/quick.py) print
exactly what the full command line prints, with the store's own statements, and leave every case
they do not know to it (issue 16, goal 2; the times are bench/scale.py --commands-only's)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoinbox import cli, quick_reads
from ecoinbox.config import ConfigError, load_config, parse_config
from ecoinbox.config import quick as config_quick
from ecoinbox.config.paths import default_config_path, default_data_path
from ecoinbox.demo.generate import generate
from ecoinbox.model import OutboxState, State, View
from ecoinbox.store import open_store, quick
from ecoinbox.store.schema import SCHEMA_VERSION
from ecoinbox.store.search_sql import search_sql
from ecoinbox.text import fold_as_index

END = datetime(2026, 3, 1, tzinfo=UTC)
QUERIES = [
    "invoice", '"never arrived"', "deliv*", "refund lang:fr", "channel:reddit is:open", "lang:de has:link",
    "lang:nl channel:blog", "after:30d", "refund -before:2026-01-01", "refund -spam", "is:spam", "is:unanswered",
    "from:a", "refund -channel:forum", "-lang:en", "order is:done", "café 100%_off",
]  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated store of 2,000 messages (six channels, languages, spam, done), with a reply on
    its way out, an assignment to the manager and a message full of control characters."""
    home = tmp_path_factory.mktemp("quick")
    store_path = home / "inbox.db"

    async def fill() -> None:
        await generate(store_path, 2000, seed=3, end=END)
        store = await open_store(store_path)
        try:
            top, other = await store.conversation_page(View.INBOX, limit=2)
            conversation = await store.conversation(top.id)
            assert conversation is not None
            await store.queue_reply(top.id, conversation.messages[-1].message, "On it \x1b[31m!\nsoon")
            await store.apply_triage([top.id], assignee="lea")
            await store.apply_triage(
                [other.id], state=State.SNOOZED, snoozed_until=datetime(2027, 1, 1, tzinfo=UTC)
            )
        finally:
            await store.close()
        with sqlite3.connect(store_path) as db:  # a platform's text as it may come: escapes, BiDi
            db.execute("UPDATE messages SET text = text || ' \x1b]0;pwned\x07 \u202e' WHERE id % 7 = 0")
            db.execute("UPDATE conversations SET snippet = snippet || ' \x1b[2J' WHERE id % 5 = 0")

    asyncio.run(fill())
    path = home / "config.toml"
    path.write_text(f'[brand]\nname = "Acme"\n[team]\nme = "lea"\n[store]\npath = "{store_path}"\n',
                    encoding="utf-8")  # fmt: skip
    return path


def both(config: Path, capsys: pytest.CaptureFixture[str], *words: str) -> tuple[str, str]:
    """What the quick path prints for `ecoinbox WORDS`, and what the full command line prints."""
    argv = ["--config", str(config), *words]
    lines = quick_reads.answer(argv)
    assert lines is not None, "the quick path left it to the full one"
    assert cli.main(argv) == 0
    return "".join(line + "\n" for line in lines), capsys.readouterr().out


@pytest.mark.parametrize(
    "words",
    [
        ["list"], ["list", "--json"], ["list", "--limit", "230"], ["list", "--state=done", "--limit=120"],
        ["list", "--state", "spam", "--json"], ["list", "--state", "mine"], ["list", "--state", "snoozed"],
        ["list", "--limit", "0"],
    ],
)  # fmt: skip
def test_list_prints_what_the_full_command_prints(
    config: Path, capsys: pytest.CaptureFixture[str], words: list[str]
) -> None:
    quick, full = both(config, capsys, *words)
    assert quick == full and (quick or words[-1] == "0")


@pytest.mark.parametrize("query", QUERIES)
def test_a_search_finds_what_the_full_command_finds(
    config: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    apart = ["--query", query] if not query.startswith("-") else [f"--query={query}"]  # else argparse's
    for words in (["list", *apart, "--limit", "120"], ["list", "--json", f"--query={query}"]):
        quick, full = both(config, capsys, *words)
        assert quick == full


def test_the_searches_are_the_stores_own_statements() -> None:
    assert quick.search_sql is search_sql  # one statement per query, not a copy to keep in step


def test_the_quick_path_knows_the_views_and_the_outbox_as_the_model_does() -> None:
    assert quick.VIEW_STATES == {view.value: tuple(s.value for s in view.states) for view in View}
    assert quick.SENT_OR_DISCARDED == (OutboxState.SENT.value, OutboxState.DISCARDED.value)


def test_show_prints_what_the_full_command_prints(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(quick_reads_store(config)) as db:
        (replied,) = db.execute("SELECT conversation_id FROM outbox").fetchone()
        ids = [row[0] for row in db.execute(
            "SELECT conversation_id FROM outbox UNION SELECT id FROM conversations WHERE message_count > 3"
            " UNION SELECT id FROM conversations WHERE id % 7 = 0 ORDER BY 1 LIMIT 40")]  # fmt: skip
    assert len(ids) == 40
    for conversation_id in ids:
        for words in (["show", str(conversation_id)], ["show", "--json", str(conversation_id)]):
            quick, full = both(config, capsys, *words)
            assert quick == full
    shown = both(config, capsys, "show", str(replied))[0]
    assert "reply queued: On it" in shown and "\x1b" not in shown and "\u202e" not in shown


def quick_reads_store(config: Path) -> Path:
    return config.parent / "inbox.db"


@pytest.mark.parametrize(
    "words",
    [
        ["list", "--help"], ["list", "--lim", "3"], ["list", "--state", "nowhere"], ["show", "x"],
        ["show", "1", "2"], ["list", "--query", "-spam"], ["list", "--limit", "many"], ["poll", "--once"],
        ["--version"], [],
    ],
)  # fmt: skip
def test_what_the_quick_path_does_not_know_goes_to_the_full_command_line(
    config: Path, words: list[str]
) -> None:
    assert quick_reads.answer(["--config", str(config), *words]) is None


def test_a_store_to_migrate_a_missing_one_or_a_bad_config_get_the_full_commands_words(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.db"
    old.write_bytes(quick_reads_store(config).read_bytes())
    with sqlite3.connect(old) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")  # an older ecoinbox's store
    elsewhere = tmp_path / "old.toml"
    elsewhere.write_text(f'[brand]\nname = "Acme"\n[store]\npath = "{old}"\n', encoding="utf-8")
    with pytest.raises(quick.NotQuick):
        quick_reads.answer(["--config", str(elsewhere), "list"])

    elsewhere.write_text(
        f'[brand]\nname = "Acme"\n[store]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8"
    )
    with pytest.raises(quick.NotQuick):
        quick_reads.answer(["--config", str(elsewhere), "list"])

    elsewhere.write_text('[brand]\nname = "Acme"\n[store]\npath = 3\n', encoding="utf-8")
    assert quick_reads.main(["--config", str(elsewhere), "list"]) == 2  # as the full command says it
    assert "store.path" in capsys.readouterr().err

    with pytest.raises(quick.NotQuick):
        quick_reads.answer(["--config", str(config), "show", "99999999"])
    assert quick_reads.main(["--config", str(config), "show", "99999999"]) == 1
    assert "no conversation 99999999" in capsys.readouterr().err


def test_a_before_search_is_the_full_stores(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It starts from the days' bounds and the messages polled late (store/search.py), not read here."""
    words = ["--config", str(config), "list", "--query", "refund before:2026-01-01", "--limit", "120"]
    with pytest.raises(quick.NotQuick):
        quick_reads.answer(words)
    assert quick_reads.main(words) == 0
    shown = capsys.readouterr().out
    assert cli.main(words) == 0
    assert shown == capsys.readouterr().out and shown.count("\n") > 10


# ---- the config, as far as a read needs it (ecoinbox/config/quick.py) --------------------------


@pytest.mark.parametrize(
    "text",
    [
        '[brand]\nname = "Acme"\n[store]\npath = "inbox.db"\n',
        '[brand]\nname = "Acme"\n[store]\npath = "~/somewhere/inbox.db"\n[team]\nme = "  Léa   M "\n',
        '\ufeff[brand]\nname = "Acme"\n[team]\nme = "lea"\nmembers = ["sam", "lea"]\n',  # the default store
        ('[brand]\nname = "Acme"\nhandles = ["acme@social.example"]\n[store]\npurge_deleted_after = "never"\n'
         '[engine]\noutbox_retry_max = 300\n[[views]]\nname = "Refunds"\nquery = "refund"\n'),
    ],
)  # fmt: skip
def test_the_config_a_read_needs_is_the_whole_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    full = load_config(path)
    assert config_quick.read_settings(path) == (full.data_path, full.team.me)
    monkeypatch.setenv("ECOINBOX_CONFIG", str(path))  # the file found without --config
    assert config_quick.read_settings(None) == (full.data_path, full.team.me)


@pytest.mark.parametrize(
    "text",
    [
        '[store]\npath = "inbox.db"\n', '[brand]\nname = ""\n', 'brand = 3\n',
        '[brand]\nname = "Acme"\n[stores]\n',
        '[brand]\nname = "Acme"\nme = "lea"\n', '[brand]\nname = "Acme"\n[store]\npath = 3\n',
        '[brand]\nname = "Acme"\n[store]\ntoken = "s3cret"\n', '[brand]\nname = "Acme"\n[team]\nme = ""\n',
        '[brand]\nname = "Acme"\n[team]\nmembers = ["sam", " "]\n', '[brand]\nname = "Acme"\nteam = "lea"\n',
        '[brand]\nname = "Acme"\n[store]\npurge_deleted_after = "soon"\n', '[brand\nname = "Acme"\n',
    ],
)  # fmt: skip
def test_a_config_a_read_cannot_vouch_for_is_the_whole_loads_to_explain(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)
    assert config_quick.read_settings(path) is None


def test_a_config_that_is_not_there_or_not_text_is_the_whole_loads_to_explain(tmp_path: Path) -> None:
    assert config_quick.read_settings(tmp_path / "none.toml") is None
    assert config_quick.read_settings(tmp_path) is None
    (tmp_path / "latin1.toml").write_bytes(b'[brand]\nname = "Caf\xe9"\n')
    assert config_quick.read_settings(tmp_path / "latin1.toml") is None


@pytest.mark.parametrize("name", sorted(config_quick.SECTIONS))
def test_the_top_level_tables_a_read_knows_are_the_whole_loads(tmp_path: Path, name: str) -> None:
    """A top-level key out of SECTIONS is left to the whole load: each one in it must be one the
    whole load reads (a typo of one is not), so that no file the whole load refuses is read here."""
    for key, known in ((name, True), (name + "s", False)):
        try:
            parse_config(f'{key} = 3\n[brand]\nname = "Acme"\n' if key != "brand" else "brand = 3\n")
        except ConfigError as error:
            unknown = [p for p in error.problems if p.key == key and p.message.startswith("unknown")]
            assert bool(unknown) is not known, (key, error)
        else:
            pytest.fail(f"{key} = 3 passed")


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_ascii_text_folds_as_the_index_folds_any_text(text: str) -> None:
    """fold_as_index answers ASCII at once (search snippets): what the per-character fold gives."""
    folded, origin = fold_as_index(text + "é")  # the é takes the per-character way for the whole text
    assert fold_as_index(text) == (folded[:-1], origin[:-1])


def test_a_problem_in_a_section_a_read_does_not_use_is_left_to_the_commands_that_use_it(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The read needs [brand], [store] and [team]; the inbox still refuses the file, with its line."""
    elsewhere = tmp_path / "config.toml"
    elsewhere.write_text(config.read_text(encoding="utf-8") + '[ui]\nlayout = "sideways"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ui.layout"):
        load_config(elsewhere)
    assert quick_reads.main(["--config", str(elsewhere), "list", "--limit", "3"]) == 0
    assert capsys.readouterr().out.count("\n") == 3


@pytest.mark.parametrize(
    ("config_home", "data_home", "home"),
    [
        (None, None, "/home/lea"), ("/xdg/config", "/xdg/data", "/home/lea"), ("", "  ", "/home/lea/"),
        ("relative/config", "relative/data", "/home/lea"), ("/xdg/config/", None, "relative-home"),
        (None, None, None),
    ],
)  # fmt: skip
def test_the_default_places_are_platformdirs_own(
    monkeypatch: pytest.MonkeyPatch, config_home: str | None, data_home: str | None, home: str | None
) -> None:
    """A read finds them without importing platformdirs where the XDG rules decide (config/paths.py)."""
    import platformdirs

    for variable, value in (("XDG_CONFIG_HOME", config_home), ("XDG_DATA_HOME", data_home), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    monkeypatch.delenv("ECOINBOX_CONFIG", raising=False)
    for ours, theirs in (
        (
            default_config_path,
            lambda: platformdirs.user_config_path("ecoinbox", appauthor=False) / "config.toml",
        ),
        (default_data_path, lambda: platformdirs.user_data_path("ecoinbox", appauthor=False) / "ecoinbox.db"),
    ):
        try:
            expected = theirs()
        except RuntimeError:  # platformdirs finds no home: neither may we
            with pytest.raises(RuntimeError):
                ours()
        else:
            assert ours() == expected
