"""The shape of the imports under ecoinbox/: no cycle between files of different folders, and no
private name (`_x`) imported from another module.

Imports made for the type checker alone (under `if TYPE_CHECKING:`) do not count: they never run.
Imports inside functions count: they run, later. What other parts still do is listed in the
allow-lists below; each entry goes when its file is fixed, and no new one may come.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import ecoinbox

ROOT = Path(ecoinbox.__file__).resolve().parent

# Cross-folder edges that sit on an import cycle today (importer -> imported), in files others
# restructure this session. Shrink it; never grow it.
ALLOWED_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        # replies.canned reads the canned replies for the config, and imports the config package (its
        # private tools): importing config.validate & co. instead ends the cycle.
        ("ecoinbox.config.canned", "ecoinbox.replies.canned"),
        ("ecoinbox.replies.canned", "ecoinbox.config"),
        ("ecoinbox.cli", "ecoinbox.demo.runner"),
        ("ecoinbox.demo.runner", "ecoinbox.cli"),
    }
)

# Private names imported from another module today: (importer, module, name). Shrink it.
ALLOWED_PRIVATE_IMPORTS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("ecoinbox.demo.runner", "ecoinbox.cli", "_inbox"),
        *(
            ("ecoinbox.replies.canned", "ecoinbox.config", name)  # public in config.validate & co. now
            for name in (
                "_Invalid",
                "_Table",
                "_Validator",
                "_boolean",
                "_describe",
                "_did_you_mean",
                "_line_of",
                "_nonempty_string",
                "_safe_locate",
                "_string",
                "_string_list",
                "_toml_syntax_problem",
            )
        ),
    }
)

# The files of the platform units and the config: nothing of theirs may be allowed above.
STRICT_PREFIXES = ("ecoinbox.config", "ecoinbox.channels", "ecoinbox.auth", "ecoinbox.secrets")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(path): path for path in ROOT.rglob("*.py")}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports(name: str) -> Iterator[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for each runtime import of module `name`."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule, None) if submodule in MODULES else (base, alias.name)


def graph() -> dict[str, set[str]]:
    return {
        name: {target for target, _ in imports(name) if target in MODULES and target != name}
        for name in MODULES
    }


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components, iteratively (the graph is a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def folder(name: str) -> Path:
    return MODULES[name].parent


def cycle_edges_across_folders() -> set[tuple[str, str]]:
    edges = graph()
    found = set()
    for component in strongly_connected(edges):
        for source in component:
            for target in edges[source] & component:
                if folder(source) != folder(target):
                    found.add((source, target))
    return found


def private_imports() -> set[tuple[str, str, str]]:
    return {
        (name, module, taken)
        for name in MODULES
        for module, taken in imports(name)
        if module.split(".")[0] == "ecoinbox"
        and module != name
        and taken is not None
        and taken.startswith("_")
        and not taken.startswith("__")
    }


def test_no_import_cycle_between_folders() -> None:
    found = cycle_edges_across_folders()
    assert found - ALLOWED_CYCLE_EDGES == set(), "new import cycles across folders"
    assert ALLOWED_CYCLE_EDGES - found == set(), "fixed: take these out of ALLOWED_CYCLE_EDGES"


def test_no_private_name_imported_across_modules() -> None:
    found = private_imports()
    assert found - ALLOWED_PRIVATE_IMPORTS == set(), "private names imported from another module"
    assert ALLOWED_PRIVATE_IMPORTS - found == set(), "fixed: take these out of ALLOWED_PRIVATE_IMPORTS"


def test_the_units_and_the_config_have_nothing_allowed() -> None:
    """Their own imports: no private name, and no cycle among themselves."""
    assert not [edge for edge in ALLOWED_PRIVATE_IMPORTS if edge[0].startswith(STRICT_PREFIXES)]
    assert not [edge for edge in ALLOWED_CYCLE_EDGES if all(n.startswith(STRICT_PREFIXES) for n in edge)]


def test_the_checks_see_what_they_look_for() -> None:
    """The graph reads what the files import: a known edge, a known package, a TYPE_CHECKING skip."""
    edges = graph()
    assert "ecoinbox.channels.registry" in edges["ecoinbox.config.channels"]
    assert "ecoinbox.channels.http" in edges["ecoinbox.channels.mastodon.channel"]
    assert "ecoinbox.secrets" not in edges["ecoinbox.channels"]  # under TYPE_CHECKING there
    cycle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(sorted, strongly_connected(cycle))) == [["a", "b", "c"], ["d"]]
