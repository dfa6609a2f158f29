"""The shape of the package (README "Layout"), checked from the code's own imports and definitions.

* no import circles, between modules or between packages (lazy imports inside functions count too);
* the lower layers — ``rules/``, ``models/``, ``cache/``, ``web/`` and the top-level helpers — import no
  capability package; rules import nothing of the app but rules;
* no module over 400 lines, no function over 60 lines, no folder over a quarter of the package's lines.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tracker import ROOT

PACKAGE = ROOT / "tracker"
CAPABILITIES = {"plans", "reporting", "supervision", "notify", "accounts", "documents", "operations", "api"}
LOWER = {"rules", "models", "cache", "web", "spreadsheets", "errors", "validation", "clock", "config", "extensions",
         "audit", "files", "console"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {t for t in found if t in MODULES and t != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles_between_modules():
    package_inits = {n for n, p in MODULES.items() if p.name == "__init__.py"}
    # A package's __init__ importing its own modules (a blueprint's views) is how Flask registers routes.
    graph = {n: {t for t in ts if not (n in package_inits and t.startswith(n + "."))} for n, ts in GRAPH.items()}
    assert cycles(graph) == []


def test_no_import_circles_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for name, targets in GRAPH.items():
        for target in targets:
            if top(target) != top(name) and top(name) != "__init__":
                graph[top(name)].add(top(target))
    assert cycles(graph) == []


def test_lower_layers_import_no_capability():
    upward = sorted(f"{name} -> {target}" for name, targets in GRAPH.items() if top(name) in LOWER
                    for target in targets if top(target) in CAPABILITIES | {"cli", "scheduler"})
    assert upward == []
    rules = sorted(f"{name} -> {target}" for name, targets in GRAPH.items() if top(name) == "rules"
                   for target in targets if top(target) != "rules")
    assert rules == []


def test_module_function_and_folder_sizes():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert sorted(n for n, count in lines.items() if count > 400) == []
    long_functions = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long_functions.append(f"{name}.{node.name}")
    assert long_functions == []
    by_folder: dict[str, int] = defaultdict(int)
    for name, count in lines.items():
        if (PACKAGE / top(name)).is_dir():
            by_folder[top(name)] += count
    total = sum(lines.values())
    assert {folder: n for folder, n in by_folder.items() if n > total / 4} == {}


def test_every_folder_says_what_it_is_for():
    silent = [d.name for d in PACKAGE.iterdir() if d.is_dir() and (d / "__init__.py").exists()
              and not ast.get_docstring(ast.parse((d / "__init__.py").read_text(encoding="utf-8")))]
    assert silent == []
