"""The shape of the code: no import cycle among the project's modules, and no module over
MAX_LINES lines. Read from the source (ast), so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "web", "tandem", "bench")
MAX_LINES = 500
# Modules over MAX_LINES today, each being split. Remove an entry once its module fits; the list
# only shrinks (test_the_allow_list_only_names_modules_still_too_long).
TOO_LONG_FOR_NOW: set[str] = set()


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, wherever in the module the import statement is."""

    def nearest(dotted: str) -> str | None:  # `a.b.func` is in module `a.b`
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {nearest(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, mod.
            found |= {nearest(f"{base}.{alias.name}") for alias in node.names}
    return {m for m in found if m and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "services.eventkit.context" in graph["services.eventkit.http"]
    assert "services.eventkit.config" in graph["services.eventkit.http"]  # from . import config
    assert "tandem.supervisor" in graph["tandem.cli"]  # imported inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "modules that import each other, directly or round a loop: " + "; ".join(
        " <-> ".join(component) for component in found
    )


def test_the_services_and_the_web_do_not_import_the_launcher() -> None:
    # tandem/ starts them; they run without it (each image's entry point aside).
    graph = import_graph()
    uses = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.startswith(("services.", "web."))
        for target in targets
        if target == "tandem" or target.startswith("tandem.")
    )
    assert not uses, uses


def line_counts() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
        for path in modules().values()
    }


def test_no_module_over_the_line_limit() -> None:
    too_long = {
        path: count
        for path, count in line_counts().items()
        if count > MAX_LINES and path not in TOO_LONG_FOR_NOW
    }
    assert not too_long, f"over {MAX_LINES} lines; split by responsibility: {too_long}"


def test_the_allow_list_only_names_modules_still_too_long() -> None:
    counts = line_counts()
    fits = sorted(path for path in TOO_LONG_FOR_NOW if counts.get(path, 0) <= MAX_LINES)
    assert not fits, f"now within {MAX_LINES} lines (or gone): remove from TOO_LONG_FOR_NOW: {fits}"
