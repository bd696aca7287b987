"""Import knots stay untied: app/errors.py holds the error classes only and the page renderer
never imports back into it (issue 15). Read from the source with `ast`, function-level imports
included, so a local import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of app/ and the modules of app/ it imports anywhere in its body."""
    modules = {_module_name(p): p for p in APP.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                imported.add(base)
                # `from app import errors` imports the module app.errors
                imported.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_graph_sees_imports():
    graph = import_graph()
    assert "app.errors" in graph["app.pages.forms"]
    assert "app.pages.render" in graph["app.pages.errors"]


def test_errors_holds_the_error_classes_only():
    graph = import_graph()
    assert not {m for m in graph["app.errors"] if m.startswith("app.pages")}
    assert "app.errors" not in reachable(graph, "app.errors"), "app.errors is in an import cycle"


def test_the_page_renderer_is_in_no_cycle_with_the_errors():
    graph = import_graph()
    assert "app.pages.render" not in reachable(graph, "app.pages.render")
    assert "app.pages.render" not in reachable(graph, "app.errors")


def test_the_workflows_import_nothing_from_the_ballots():
    """The 公开 guard reads ballot rounds through the models (app/workflows/cycle_guard.py)."""
    graph = import_graph()
    imported = {(m, i) for m in graph if m.startswith("app.workflows")
                for i in graph[m] if i.startswith("app.ballots")}
    assert not imported


BALLOT_LEAVES = ("app.ballotbox.errors", "app.ballotbox.queries")


def function_level_imports(path: Path) -> set[str]:
    """The modules a file imports inside a function body (absolute imports only)."""
    found: set[str] = set()
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def cycles_within(graph: dict[str, set[str]], prefix: str) -> list[str]:
    """The modules under `prefix` that reach themselves through modules under `prefix`."""
    inner = {m: {i for i in graph[m] if i.startswith(prefix)}
             for m in graph if m.startswith(prefix)}
    return sorted(m for m in inner if m in reachable(inner, m))


def test_the_ballot_modules_import_in_one_direction():
    """The box's rounds, casting, paper and devices share errors and queries through leaf
    modules, so no module of the box or of 票决 imports another of its package inside a
    function and there is no cycle."""
    graph = import_graph()
    assert "app.ballotbox.queries" in graph["app.ballotbox.rounds"]  # the graph sees them
    for package in ("ballots", "ballotbox"):
        prefix = f"app.{package}"
        assert cycles_within(graph, prefix + ".") == [], package
        local = {path.name: sorted(m for m in function_level_imports(path)
                                   if m.startswith(prefix + "."))
                 for path in (APP / package).glob("*.py")}
        assert {name: mods for name, mods in local.items() if mods} == {}, package
    for leaf in BALLOT_LEAVES:
        assert not {m for m in graph[leaf] if m.startswith("app.ballot")}, leaf


def test_the_ballot_box_is_below_the_stages_that_use_it():
    """app/ballotbox (rounds, attendance, scrutineers, casting, sealed envelopes, receipts,
    paper and devices, the close, forms) serves 票决 and 测评: it imports nothing of either."""
    graph = import_graph()
    box = [m for m in graph if m.startswith("app.ballotbox")]
    assert "app.ballotbox.forms" in box and "app.ballotbox.forms" in graph["app.ballotbox.casting"]
    assert {(m, i) for m in box for i in graph[m]
            if i.startswith(("app.ballots", "app.projects", "app.candidates"))} == set()
